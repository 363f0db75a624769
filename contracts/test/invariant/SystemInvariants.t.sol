// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {SystemFixture} from "../utils/SystemFixture.sol";
import {SystemHandler, IReportRunner} from "./SystemHandler.sol";
import {ReportExecutor} from "../../src/ReportExecutor.sol";
import {ReportTypes} from "../../src/interfaces/ReportTypes.sol";
import {RewardMath} from "../../src/libraries/RewardMath.sol";
import {RegistryCore} from "../../src/registry/RegistryCore.sol";
import {LiquidStakingToken} from "../../src/LiquidStakingToken.sol";

/// The whole system's invariants under random sequences of deposits, requests, claims,
/// instant exits, delegations, redelegations, undelegations, revenue, reports and slashes:
/// every wei is accounted for (none created, none lost), the system's holdings cover every
/// claim on it, and what each partner was credited is the share formula of the inputs of
/// every report that executed.
contract SystemInvariantsTest is SystemFixture, IReportRunner {
    /// A report the runner built was refused (the run goes on; the coverage test shows reports execute).
    event ReportRefused(bytes reason);
    SystemHandler internal handler;
    /// The system's balance when the run started.
    uint256 internal base;
    /// The partner's shares by the formula, over every executed report.
    uint256 internal partnerShares;
    /// A call after a report's first refused (the report could not end), and its error.
    bool internal stuck;
    bytes internal stuckReason;
    /// Reports that ended with their pool step refused.
    uint256 internal poolStepsRefused;
    /// An agreed report was refused after a third party acted between its vote and its first
    /// call (a reserve top-up), and its error.
    bool internal blockedByThirdParty;
    bytes internal blockedReason;
    /// A report raised the rate by more than its bound (harvest and finalization together).
    bool internal roseBeyondBound;
    uint256 internal riseSeen;
    uint256 internal riseAllowed;
    /// The rate before the executing report, and the most it may rise.
    uint256 internal rateBefore;
    uint256 internal allowedRise;

    /// The reserve holds three epochs' emission and a little: reports soon draw a short
    /// reserve, and top-ups (`topUpReserve`) fill it again now and then.
    function _reserveFunding() internal pure override returns (uint256) {
        return 3 * EMISSION + 1e12;
    }

    function _executorParams() internal view override returns (ReportExecutor.Params memory p) {
        p = super._executorParams();
        // Reports here pay small pools large rewards; the rate bound has its own tests.
        p.maxRateAprBps = type(uint16).max;
    }

    function setUp() public {
        _setUpSystem();
        handler = new SystemHandler(executor, vaults, this, slasher, partner);
        bytes4[] memory selectors = new bytes4[](19);
        selectors[0] = handler.deposit.selector;
        selectors[1] = handler.request.selector;
        selectors[2] = handler.claimTicket.selector;
        selectors[3] = handler.instantExit.selector;
        selectors[4] = handler.delegate.selector;
        selectors[5] = handler.redelegate.selector;
        selectors[6] = handler.undelegate.selector;
        selectors[7] = handler.sendRevenue.selector;
        selectors[8] = handler.advance.selector;
        selectors[9] = handler.report.selector;
        selectors[10] = handler.slash.selector;
        selectors[11] = handler.claimCredits.selector;
        selectors[12] = handler.report.selector;
        selectors[13] = handler.advance.selector;
        selectors[14] = handler.topUpReserve.selector;
        // A ticket is claimed only after a request and a report: each gets a second entry.
        selectors[15] = handler.request.selector;
        selectors[16] = handler.claimTicket.selector;
        // Downtime: a report jails a sequencer found down; its operator unjails it later.
        selectors[17] = handler.missBlocks.selector;
        selectors[18] = handler.unjail.selector;
        targetContract(address(handler));
        targetSelector(address(handler), selectors);
        base = handler.systemBalance();
    }

    // ------------------------------------------------------------------ invariants
    /// No wei is created or lost: the system holds what it held, plus what came in, less what
    /// was paid out.
    function invariant_noWeiCreatedOrLost() public view {
        assertEq(handler.systemBalance(), base + handler.valueIn() - handler.valueOut(), "system balance");
    }

    /// Each contract holds at least every claim on it, and exactly what its books say.
    function invariant_holdingsCoverEveryClaim() public view {
        assertEq(address(executor).balance, executor.totalOwed() + executor.carriedDust(), "report contract");
        assertEq(
            address(token).balance,
            uint256(token.bufferedAssets()) + token.pendingFees() + token.carriedRewards(),
            "token"
        );
        assertEq(address(queue).balance, queue.lockedAssets(), "queue");
        assertGe(address(registry).balance, registry.totalOwed(), "registry");
        assertEq(address(reserve).balance, reserve.funded(), "reserve");
        for (uint256 i; i < vaults.length; ++i) {
            assertEq(address(vaults[i]).balance, vaults[i].totalArrived() - vaults[i].totalDrawn(), "vault");
        }
    }

    /// What the partner was credited, claimed or not, is the formula over every executed
    /// report's inputs.
    function invariant_revenueShareIsTheFormula() public view {
        assertEq(executor.owed(partner) + handler.partnerClaimed(), partnerShares, "partner shares");
    }

    /// A report that started always ends: no call after its first is refused.
    function invariant_reportsAlwaysEnd() public view {
        assertFalse(stuck, string(stuckReason));
        assertEq(executor.executing(), bytes32(0), "no report left half executed");
    }

    /// No report raises the rate by more than the bound, finalization included (finding 8:
    /// finalizing long-waiting tickets handed their gain to the shares left at once).
    function invariant_rateRisesWithinTheBoundEachReport() public view {
        assertFalse(roseBeyondBound, "a report raised the rate beyond its bound");
    }

    /// Every agreed report executes whatever third parties send in between (finding 10: a
    /// top-up of a short reserve between the vote and the first call refused the report).
    function invariant_agreedReportsExecuteWhateverOthersSend() public view {
        assertFalse(blockedByThirdParty, string(blockedReason));
    }

    /// A ticket pays exactly its value by the formula: its shares at the smaller of its rate at
    /// request and its batch's rate (a ghost computed by the handler from the stored rates, not
    /// by the queue's code that pays the claim).
    function invariant_ticketsPayTheirFinalizedValue() public view {
        assertFalse(handler.ticketMispaid(), "a ticket paid other than shares * min(rates) / RAY");
    }

    /// After each run: how often each of the handler's actions ran (`forge test -vv` prints it).
    function afterInvariant() public {
        handler.logActionCounts("system handler");
    }

    /// The checks the handler makes inside its actions all held (HandlerChecks: an assert in a
    /// handler would revert and be discarded with fail_on_revert = false).
    function invariant_handlerChecksHold() public view {
        assertEq(handler.failedChecks(), 0, handler.firstFailedCheck());
    }

    // ------------------------------------------------------------------ the report runner
    /// Builds the next report from the chain's state as an oracle would (matured buckets
    /// brought back first; revenue that arrived
    /// settles in its last epoch; the pool delegates half its free buffer, or undelegates what
    /// the queue lacks, and drops jailed pools; tickets the buffer covers are finalized), has
    /// two members vote it and executes it. Returns whether it executed.
    function runReport(uint256 seed) external returns (bool executed) {
        require(msg.sender == address(handler), "handler only");
        uint64 next = executor.nextEpoch();
        uint64 current = registry.currentEpoch();
        if (current <= next) return false;
        uint256 count = current - next > 8 ? 8 : current - next;
        // A new block: the report's reference block (the last one) holds every action so far.
        vm.roll(vm.getBlockNumber() + 1);
        // Matured buckets back in the buffer first (anyone may), so the batches can use them.
        ReportExecutor.OpenBucket[] memory open = executor.openBuckets();
        for (uint256 i; i < open.length && open[i].completionEpoch <= current; ++i) {
            try token.withdrawUnbonded(open[i].id, open[i].completionEpoch) {} catch {}
        }
        Plan[] memory plans = _plans(count);
        uint32[] memory eligible = _eligible();
        for (uint256 k; k < count; ++k) {
            plans[k] = _epochPlan(eligible, k + 1 == count);
        }
        _emitWhatTheReserveHeld(plans);
        // The harvest comes first and does not depend on the moves: its amount (a dry run) is
        // in the buffer the moves and the batches see.
        ReportTypes.Report memory r = _report(plans, _liquid(_stakeWith(1), _stakeWith(2)));
        r.activeSet = eligible;
        uint256 harvest = _withPoolRewards(r).liquid.poolRewards;
        // The buffer after the harvest: the rate bound here is far above what the pool earns, so
        // everything carried joins.
        uint256 buffered = token.bufferedAssets() + harvest + token.carriedRewards() + token.pendingFees();
        (ReportTypes.LiquidActions memory liquid, uint256 delegated) = _liquidPlan(seed, buffered);
        // Now and then the queue waits a few reports (its tickets' gain grows meanwhile).
        if ((seed >> 24) % 3 != 1) liquid.batches = _batches(buffered - delegated);
        liquid.poolRewards = harvest;
        r.liquid = liquid;
        _agree(r);
        // Now and then anyone tops the reserve up between the vote and the execution.
        if ((seed >> 32) % 3 == 0) handler.topUpReserve(seed >> 40);
        _riseAllowed(r.header.lastEpoch);
        try executor.execute(r) returns (bool done) {
            // Once the first call moved value, every later call must go through.
            while (!done) {
                try executor.execute(r) returns (bool ended) {
                    done = ended;
                } catch (bytes memory reason) {
                    (stuck, stuckReason) = (true, reason);
                    return false;
                }
            }
            if (executor.unharvestedFrom() != executor.nextEpoch()) poolStepsRefused += 1;
            uint32 down = handler.downNext();
            if (down != 0) handler.reportedDown(registry.sequencer(down).jailed);
            _checkRise();
            Plan memory last = plans[count - 1];
            partnerShares += RewardMath.partnerShare(last.gross[0], last.cost[0], 250, 1500);
            return true;
        } catch (bytes memory reason) {
            if ((seed >> 32) % 3 == 0) (blockedByThirdParty, blockedReason) = (true, reason);
            emit ReportRefused(reason);
            return false;
        }
    }

    /// The rate now, and the most a report ending at `last` may raise it (docs/ECONOMICS.md's
    /// rate bound, computed here from the parameters): `max_rate_apr_bps` a year over the
    /// epochs since the last harvest, the instant-exit fees joining, and rounding.
    function _riseAllowed(uint64 last) internal {
        uint256 rate = token.shareRate();
        uint256 epochs = last + 1 - executor.unharvestedFrom();
        if (epochs > executor.maxEpochsPerReport()) epochs = executor.maxEpochsPerReport();
        uint256 supply = token.totalSupply() + 1000;
        rateBefore = rate;
        allowedRise = rate * type(uint16).max * epochs * EPOCH / (10_000 * 365 days)
            + (token.pendingFees() * RewardMath.RAY + supply - 1) / supply;
    }

    /// Flags a report whose rise passed `allowedRise`, beyond two wei of rounding per matured
    /// bucket, move or release (at most 32 + 16 + 16) and the steps' own.
    function _checkRise() internal {
        uint256 allowed = allowedRise;
        uint256 rate = token.shareRate();
        if (rate <= rateBefore) return;
        uint256 supply = token.totalSupply() + 1000;
        uint256 rounding = (2 * 64 + 4) * RewardMath.RAY / supply + 1;
        if (rate - rateBefore > allowed + rounding) {
            (roseBeyondBound, riseSeen, riseAllowed) = (true, rate - rateBefore, allowed + rounding);
        }
    }

    /// A short reserve emits what it held at the reference block (the last one), epoch after
    /// epoch: the schedule's amount while it lasts, then what is left, then nothing.
    function _emitWhatTheReserveHeld(Plan[] memory plans) internal view {
        uint256 held = reserve.funded();
        for (uint256 k; k < plans.length; ++k) {
            uint256 emission = _min(EMISSION, held);
            plans[k].emissionCut = EMISSION - emission;
            held -= emission;
        }
    }

    /// Registered, unjailed sequencers with at least the minimum bond.
    function _eligible() internal view returns (uint32[] memory ids) {
        ids = new uint32[](2);
        uint256 m;
        for (uint32 id = 1; id <= 2; ++id) {
            if (_isEligible(id)) ids[m++] = id;
        }
        assembly ("memory-safe") {
            mstore(ids, m)
        }
    }

    /// One epoch: the eligible sequencers produced 3 and 1 blocks; the revenue that arrived
    /// settles in the report's last epoch.
    function _epochPlan(uint32[] memory ids, bool last) internal view returns (Plan memory p) {
        p = _plan();
        p.ids = ids;
        p.blocks = new uint64[](ids.length);
        for (uint256 i; i < ids.length; ++i) {
            p.blocks[i] = i == 0 ? 3 : 1;
        }
        p.missed = new uint64[](ids.length);
        p.jailed = new bool[](ids.length);
        // The sequencer the handler found down missed 4 blocks for each it made: past the
        // threshold (50%), so the report jails it.
        for (uint256 i; i < ids.length; ++i) {
            if (ids[i] == handler.downNext()) p.missed[i] = 4 * p.blocks[i];
        }
        for (uint256 i; i < vaults.length; ++i) {
            p.gross[i] = last ? vaults[i].available() : 0;
            p.cost[i] = p.gross[i] / 4;
            p.mev[i] = 0;
        }
    }

    /// Targets for both pools, with `buffered` the buffer after the harvest: the queue's
    /// shortfall undelegated from the larger pool, or half the free buffer delegated to one
    /// eligible pool; a jailed pool's stake undelegated.
    function _liquidPlan(uint256 seed, uint256 buffered)
        internal
        view
        returns (ReportTypes.LiquidActions memory l, uint256 delegated)
    {
        uint256[2] memory targets = [_stakeWith(1), _stakeWith(2)];
        uint256 pending = queue.pendingAssets();
        uint256 covered = buffered + token.unbondingAssets();
        bool[2] memory eligible = [_isEligible(1), _isEligible(2)];
        for (uint256 i; i < 2; ++i) {
            if (!eligible[i]) targets[i] -= token.stakeOf(uint32(i + 1));
        }
        if (pending > covered) {
            uint256 i = token.stakeOf(1) >= token.stakeOf(2) ? 0 : 1;
            if (eligible[i]) targets[i] -= _min(pending - covered, token.stakeOf(uint32(i + 1)));
        } else if (buffered > pending + 2 ether) {
            uint256 i = seed % 2;
            uint256 cap = token.totalPooledAssets() * token.perSequencerCapBps() / RewardMath.BPS;
            uint256 held = token.stakeOf(uint32(i + 1));
            delegated = _min((buffered - pending) / 2, cap > held ? cap - held : 0);
            if (!eligible[i] || delegated < 1 ether) delegated = 0;
            targets[i] += delegated;
        }
        l = _liquid(targets[0], targets[1]);
    }

    /// One batch per pending ticket, while their value at request fits the buffer left.
    function _batches(uint256 room) internal view returns (ReportTypes.FinalizationBatch[] memory b) {
        uint256 id = queue.lastFinalizedId() + 1;
        uint256 last = queue.lastRequestId();
        b = new ReportTypes.FinalizationBatch[](16);
        uint256 m;
        for (; id <= last && m < 16; ++id) {
            (, uint256 atRequest,) = queue.request(id);
            if (atRequest > room) break;
            room -= atRequest;
            b[m++] = ReportTypes.FinalizationBatch({lastTicketId: id, shareRate: type(uint256).max});
        }
        assembly ("memory-safe") {
            mstore(b, m)
        }
    }

    function _isEligible(uint32 id) internal view returns (bool) {
        RegistryCore.Sequencer memory s = registry.sequencer(id);
        return !s.jailed && s.bond >= registry.minBond();
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }

    /// The handler's actions do real work: reports execute (delegating, undelegating for the
    /// queue, finalizing), and every other action runs at least once.
    function test_handlerReachesEveryAction() public {
        handler.deposit(0, 30 ether);
        handler.deposit(1, 10 ether);
        handler.delegate(2, 1, 5 ether);
        handler.sendRevenue(0, 1e13);
        handler.sendRevenue(1, 3e12);
        handler.advance(1);
        handler.report(0); // delegates half the free buffer to pool 1
        handler.instantExit(1, 10);
        handler.advance(1);
        handler.report(1); // and to pool 2
        handler.redelegate(2, 1, 50);
        handler.request(0, 90); // the queue now needs more than the buffer
        handler.advance(1);
        handler.report(2); // undelegates the shortfall, finalizes what the buffer covers
        handler.slash(2, 500);
        handler.undelegate(2, 1, 100); // what actor 2 kept in pool 1
        for (uint256 i; i < 4; ++i) {
            handler.advance(2);
            handler.report(3);
        }
        handler.claimTicket(1);
        handler.claimCredits(0);
        handler.claimCredits(1);
        handler.missBlocks(2); // sequencer 2 is down in the next report, which jails it
        handler.advance(1);
        handler.report(5);
        handler.advance(3); // past the jail's cooldown
        handler.unjail(0);
        assertGt(handler.calls("missBlocks"), 0, "missBlocks");
        assertGt(handler.calls("jailedForDowntime"), 0, "a report jailed the sequencer found down");
        assertGt(handler.calls("unjail"), 0, "unjail");
        string[12] memory actions = [
            "deposit",
            "request",
            "claimTicket",
            "instantExit",
            "delegate",
            "redelegate",
            "undelegate",
            "sendRevenue",
            "advance",
            "report",
            "slash",
            "claimCredits"
        ];
        for (uint256 i; i < actions.length; ++i) {
            assertGt(handler.calls(actions[i]), 0, actions[i]);
        }
        assertGe(handler.calls("report"), 5, "reports executed");
        assertEq(poolStepsRefused, 0, "every pool step the runner built ran");
        assertGt(token.stakedAssets(), 0, "the pool delegated");
        assertGt(queue.lastFinalizedId(), 0, "a report finalized tickets");
        assertGt(partnerShares, 0, "partner shares credited");
        invariant_noWeiCreatedOrLost();
        invariant_holdingsCoverEveryClaim();
        invariant_revenueShareIsTheFormula();
        invariant_ticketsPayTheirFinalizedValue();
        invariant_reportsAlwaysEnd();
        invariant_agreedReportsExecuteWhateverOthersSend();
        invariant_rateRisesWithinTheBoundEachReport();
        invariant_handlerChecksHold();
    }
}
