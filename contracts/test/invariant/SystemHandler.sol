// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {TicketActions} from "./TicketActions.sol";
import {SequencerRegistry} from "../../src/SequencerRegistry.sol";
import {LiquidStakingToken} from "../../src/LiquidStakingToken.sol";
import {WithdrawalQueue} from "../../src/WithdrawalQueue.sol";
import {ReportExecutor} from "../../src/ReportExecutor.sol";
import {FeeVault} from "../../src/FeeVault.sol";
import {EmissionReserve} from "../../src/EmissionReserve.sol";
import {RegistryCore} from "../../src/registry/RegistryCore.sol";

/// What the system suite's test contract does for the handler: build, vote and execute the
/// next report from the chain's state (SystemInvariantsTest.runReport).
interface IReportRunner {
    function runReport(uint256 seed) external returns (bool executed);
}

/// Drives the whole wired system for the system invariant suite: liquid deposits, requests,
/// claims and instant exits; delegations, redelegations and undelegations of ordinary
/// delegators; revenue arriving in the vaults; reports built from the chain's state; slashes;
/// claims of the partner's and the treasury's credits; the clock. Counts every wei that enters
/// or leaves the system's contracts, so the suite can check that none is created or lost.
contract SystemHandler is TicketActions {
    uint256 internal constant ACTORS = 3;
    uint32 internal constant SEQUENCERS = 2;

    SequencerRegistry public immutable registry;
    LiquidStakingToken public immutable token;
    WithdrawalQueue public immutable queue;
    ReportExecutor public immutable executor;
    EmissionReserve public immutable reserve;
    IReportRunner internal immutable runner;
    address internal immutable slasher;
    address internal immutable partner;
    address internal immutable treasury;
    FeeVault[] internal vaults;

    address[ACTORS] public actors;

    // ---- ghosts ----
    /// Wei sent into the system's contracts by the handler's actions, and paid out of them.
    uint256 public valueIn;
    uint256 public valueOut;
    /// The partner's credits claimed so far.
    uint256 public partnerClaimed;
    /// A ticket paid other than its value by the formula from its rates (or the queue's view).
    bool public ticketMispaid;

    constructor(
        ReportExecutor executor_,
        FeeVault[] memory vaults_,
        IReportRunner runner_,
        address slasher_,
        address partner_
    ) {
        executor = executor_;
        registry = executor_.registry();
        token = executor_.token();
        queue = executor_.queue();
        reserve = executor_.reserve();
        treasury = executor_.treasury();
        runner = runner_;
        slasher = slasher_;
        partner = partner_;
        for (uint256 i; i < vaults_.length; ++i) {
            vaults.push(vaults_[i]);
        }
        for (uint256 i; i < ACTORS; ++i) {
            actors[i] = address(uint160(0xAC1000 + i));
        }
        string[] memory actions = new string[](16);
        actions[0] = "deposit";
        actions[1] = "request";
        actions[2] = "claimTicket";
        actions[3] = "instantExit";
        actions[4] = "delegate";
        actions[5] = "redelegate";
        actions[6] = "undelegate";
        actions[7] = "sendRevenue";
        actions[8] = "topUpReserve";
        actions[9] = "advance";
        actions[10] = "report";
        actions[11] = "slash";
        actions[12] = "claimCredits";
        actions[13] = "missBlocks";
        actions[14] = "jailedForDowntime";
        actions[15] = "unjail";
        _declareActions(actions);
    }

    /// Every wei the system's contracts hold.
    function systemBalance() public view returns (uint256 total) {
        total = address(executor).balance + address(registry).balance + address(token).balance
            + address(queue).balance + address(reserve).balance;
        for (uint256 i; i < vaults.length; ++i) {
            total += address(vaults[i]).balance;
        }
    }

    // ------------------------------------------------------------------ liquid holders
    function deposit(uint256 who, uint256 amount) external {
        address actor = _actor(who);
        amount = bound(amount, 0.001 ether, 40 ether);
        vm.deal(actor, actor.balance + amount);
        vm.prank(actor);
        token.deposit{value: amount}(address(0));
        valueIn += amount;
        _count("deposit");
    }

    function request(uint256 who, uint256 fraction) external {
        if (_request(token, queue, _actor(who), fraction)) _count("request");
    }

    function claimTicket(uint256 seed) external {
        Claimed memory c = _claimTicket(queue, seed);
        if (!c.done && queue.lastRequestId() == queue.lastFinalizedId()) {
            // None pending either: the holder with the most shares requests a little of them.
            uint256 richest;
            for (uint256 i = 1; i < ACTORS; ++i) {
                if (token.balanceOf(actors[i]) > token.balanceOf(actors[richest])) richest = i;
            }
            if (_request(token, queue, actors[richest], bound(seed, 1, 20))) _count("request");
        }
        if (!c.done && queue.lastRequestId() > queue.lastFinalizedId()) {
            // Steered: no ticket finalized yet but some pending: the clock runs to the next
            // epoch and the next report runs (one that finalizes what its buffer covers), as
            // a holder waiting for its ticket would see.
            _advance(1);
            if ((seed >> 24) % 3 == 1) seed ^= 1 << 24; // not a report that lets the queue wait
            if (runner.runReport(seed)) _count("report");
            c = _claimTicket(queue, seed);
        }
        if (!c.done) return;
        // `expected` is the formula's value from the stored rates (TicketActions._ticketValue),
        // not the queue's view (`promised`), which runs the same code as the claim.
        if (c.paid != c.expected || c.paid != c.promised) ticketMispaid = true;
        valueOut += c.paid;
        _count("claimTicket");
    }

    function instantExit(uint256 who, uint256 fraction) external {
        address actor = _actor(who);
        uint256 shares = token.balanceOf(actor) * bound(fraction, 1, 10) / 100;
        if (shares == 0 || token.pendingSlashLoss() > 0 || token.isStale()) return;
        vm.prank(actor);
        uint256 paid = token.instantExit(shares, actor);
        valueOut += paid;
        _count("instantExit");
    }

    // ------------------------------------------------------------------ ordinary delegators
    function delegate(uint256 who, uint256 seq, uint256 amount) external {
        address actor = _actor(who);
        amount = bound(amount, 0.01 ether, 20 ether);
        vm.deal(actor, actor.balance + amount);
        vm.prank(actor);
        registry.delegate{value: amount}(_seq(seq));
        valueIn += amount;
        _count("delegate");
    }

    /// An actor, a pool and a fraction of the actor's shares there.
    function _pickShares(uint256 who, uint256 seq, uint256 fraction)
        internal
        view
        returns (address actor, uint32 id, uint256 shares)
    {
        (actor, id) = (_actor(who), _seq(seq));
        (shares,,,) = registry.delegation(id, actor);
        shares = shares * bound(fraction, 1, 100) / 100;
    }

    function redelegate(uint256 who, uint256 seq, uint256 fraction) external {
        (address actor, uint32 src, uint256 shares) = _pickShares(who, seq, fraction);
        if (shares == 0) return;
        vm.prank(actor);
        registry.redelegate(src, src == 1 ? 2 : 1, shares);
        _count("redelegate");
    }

    function undelegate(uint256 who, uint256 seq, uint256 fraction) external {
        (address actor, uint32 id, uint256 shares) = _pickShares(who, seq, fraction);
        if (shares == 0) return;
        vm.prank(actor);
        registry.undelegate(id, shares);
        _count("undelegate");
    }

    // ------------------------------------------------------------------ revenue, reports, slashes
    function sendRevenue(uint256 chain, uint256 amount) external {
        FeeVault vault = vaults[bound(chain, 0, vaults.length - 1)];
        amount = bound(amount, 1, 1e14);
        address bridge = address(0xB41D);
        vm.deal(bridge, amount);
        vm.prank(bridge);
        (bool ok,) = address(vault).call{value: amount}("");
        _check(ok, "sendRevenue: a vault refused revenue");
        if (!ok) return;
        valueIn += amount;
        _count("sendRevenue");
    }

    /// Anyone tops the emission reserve up (finding 10): between reports, and (called by the
    /// runner) between a report's vote and its execution.
    function topUpReserve(uint256 amount) public {
        amount = bound(amount, 1, 2 * reserve.scheduled());
        address funder = address(0xF0D1);
        vm.deal(funder, amount);
        vm.prank(funder);
        reserve.fund{value: amount}();
        valueIn += amount;
        _count("topUpReserve");
    }

    function advance(uint256 epochs) external {
        _advance(bound(epochs, 1, 3));
    }

    function _advance(uint256 epochs) internal {
        uint256 epoch = registry.currentEpoch() + epochs;
        vm.warp(registry.genesisTime() + epoch * registry.epochLength() + 1);
        vm.roll(vm.getBlockNumber() + 5);
        _count("advance");
    }

    function report(uint256 seed) external {
        if (runner.runReport(seed)) _count("report");
    }

    function slash(uint256 seq, uint256 bps) external {
        uint64 epoch = registry.currentEpoch();
        vm.prank(slasher);
        registry.slash(_seq(seq), epoch, uint16(bound(bps, 1, 2000)));
        _count("slash");
    }

    /// The sequencer the next report finds down (0: none), and whether a report jailed one.
    uint32 public downNext;

    /// The next report finds sequencer `seq` down: it missed more blocks than the downtime
    /// threshold allows, so the report jails it. Steered: only while the other sequencer is
    /// eligible (a report needs an active set).
    function missBlocks(uint256 seq) external {
        uint32 id = _seq(seq);
        if (!_eligible(id) || !_eligible(id == 1 ? 2 : 1)) return;
        downNext = id;
        _count("missBlocks");
    }

    /// The runner, after a report: whether it jailed the sequencer found down.
    function reportedDown(bool jailed) external {
        require(msg.sender == address(runner), "runner only");
        downNext = 0;
        if (jailed) _count("jailedForDowntime");
    }

    /// The operator of a jailed sequencer unjails it once its cooldown has passed. Steered: the
    /// first sequencer that can be unjailed.
    function unjail(uint256 seq) external {
        for (uint256 k; k < SEQUENCERS; ++k) {
            uint32 id = uint32((seq + k) % SEQUENCERS + 1);
            RegistryCore.Sequencer memory s = registry.sequencer(id);
            if (!s.jailed || registry.currentEpoch() < s.unjailEpoch || s.bond < registry.minBond()) {
                continue;
            }
            vm.prank(s.operator);
            registry.unjail(id);
            _count("unjail");
            return;
        }
    }

    function _eligible(uint32 id) internal view returns (bool) {
        RegistryCore.Sequencer memory s = registry.sequencer(id);
        return !s.jailed && s.bond >= registry.minBond();
    }

    function claimCredits(uint256 which) external {
        address account = which % 2 == 0 ? partner : treasury;
        uint256 owed = executor.owed(account);
        if (owed == 0) return;
        address to = address(uint160(0xC1A1000 + (which % 2)));
        vm.prank(account);
        executor.claim(to);
        valueOut += owed;
        if (account == partner) partnerClaimed += owed;
        _count("claimCredits");
    }

    // ------------------------------------------------------------------ internal
    function _actor(uint256 who) internal view returns (address) {
        return actors[bound(who, 0, ACTORS - 1)];
    }

    function _seq(uint256 seq) internal pure returns (uint32) {
        return uint32(bound(seq, 1, SEQUENCERS));
    }
}
