// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {LiquidFixture} from "./LiquidFixture.sol";
import {Vm} from "./Vm.sol";
import {ReportExecutor} from "../../src/ReportExecutor.sol";
import {LiquidStakingToken} from "../../src/LiquidStakingToken.sol";
import {FeeVault} from "../../src/FeeVault.sol";
import {EmissionReserve} from "../../src/EmissionReserve.sol";
import {ReportTypes} from "../../src/interfaces/ReportTypes.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {RewardMath} from "../../src/libraries/RewardMath.sol";

/// @notice The whole system as production wires it: the registry, the token and its queue
///         (LiquidFixture), a fee vault per served chain, the emission reserve and the report
///         contract, every role granted through the timelock. Reports are built here the way
///         the Rust side settles an epoch (blocks weighting), so the tests can change one field
///         and see the contract refuse it.
abstract contract SystemFixture is LiquidFixture {
    ReportExecutor internal executor;
    EmissionReserve internal reserve;
    /// One fee vault per served chain, in the executor's chain order.
    FeeVault[] internal vaults;
    FeeVault internal vaultOp;
    FeeVault internal vaultHome;
    address internal partner = address(0xBA5E);
    address internal memberA = address(0xA001);
    address internal memberB = address(0xB001);
    address internal memberC = address(0xC001);
    address internal staker = address(0x57A4);
    uint64 internal constant OP_CHAIN = 10;
    uint16 internal constant FEE_BPS = 1000;
    uint256 internal constant EMISSION = 5e12;
    uint256 internal constant GROSS = 1e13;

    /// Per epoch of a report being built: revenue per chain, blocks per sequencer.
    struct Plan {
        uint256[] gross;
        uint256[] cost;
        uint256[] mev;
        uint32[] ids;
        uint64[] blocks;
        uint64[] missed;
        bool[] jailed;
        /// How much less than the schedule the epoch emits (a short reserve).
        uint256 emissionCut;
    }

    /// The served chains: the OP chain with a partner (2.5% / 15%) and this chain without.
    function _servedChains() internal view virtual returns (ReportExecutor.ServedChain[] memory chains) {
        chains = new ReportExecutor.ServedChain[](2);
        chains[0] = ReportExecutor.ServedChain({
            chainId: OP_CHAIN, vault: address(0), partner: partner, aBps: 250, bBps: 1500
        });
        chains[1] = ReportExecutor.ServedChain({
            chainId: uint64(block.chainid), vault: address(0), partner: address(0), aBps: 0, bBps: 0
        });
    }

    function _executorParams() internal view virtual returns (ReportExecutor.Params memory p) {
        ReportExecutor.ServedChain[] memory chains = _servedChains();
        for (uint256 i; i < chains.length; ++i) {
            chains[i].vault = address(vaults[i]);
        }
        p = ReportExecutor.Params({
            registry: address(registry),
            token: address(token),
            queue: address(queue),
            reserve: address(reserve),
            treasury: treasury,
            protocolFeeBps: FEE_BPS,
            jailedToTreasury: true,
            maxMissedBps: 5000,
            maxEpochsPerReport: 8,
            maxRateAprBps: 5000,
            maxMovesPerReport: 16,
            chains: chains
        });
    }

    function _members() internal view returns (address[] memory m) {
        m = new address[](3);
        (m[0], m[1], m[2]) = (memberA, memberB, memberC);
    }

    /// What the emission reserve is funded with at deployment.
    function _reserveFunding() internal view virtual returns (uint256) {
        return 1 ether;
    }

    /// The liquid system at epoch 5 with its vaults, reserve and report contract, all wired.
    function _deploySystem() internal {
        _setUpLiquid();
        ReportExecutor.ServedChain[] memory chains = _servedChains();
        for (uint256 i; i < chains.length; ++i) {
            vaults.push(new FeeVault(chains[i].chainId, address(timelock)));
        }
        reserve = new EmissionReserve(
            EmissionReserve.Params({
                kind: EmissionReserve.Kind.Constant,
                perEpoch: EMISSION,
                decayRay: 0,
                budget: 0,
                totalSupply: 0,
                maxInflationBps: 0,
                epochLength: EPOCH,
                firstEpoch: registry.nextRewardEpoch()
            }),
            address(timelock)
        );
        uint256 funding = _reserveFunding();
        vm.deal(address(this), funding);
        reserve.fund{value: funding}();
        executor = new ReportExecutor(_executorParams(), _members(), 2, address(timelock));
        _wire(address(executor));
    }

    /// The system (`_deploySystem`), two active sequencers (ids 1, 2), a staker's 20 in the
    /// buffer.
    function _setUpSystem() internal {
        _deploySystem();
        (vaultOp, vaultHome) = (vaults[0], vaults[1]);
        _registerAs(address(0x100), 10 ether, 1000);
        _registerAs(address(0x200), 10 ether, 500);
        _depositAs(staker, 20 ether);
        // Both active from the start, as a first report would have set them.
        uint32[] memory set = new uint32[](2);
        (set[0], set[1]) = (1, 2);
        vm.prank(reporter);
        registry.updateActiveSet(set);
    }

    /// Grants the report contract every role it needs, through the timelock.
    function _wire(address e) internal {
        _governRegistry(abi.encodeCall(registry.grantRole, (registry.REPORTER_ROLE(), e)));
        _govern(address(token), abi.encodeCall(token.grantRole, (token.REPORTER_ROLE(), e)));
        _govern(address(queue), abi.encodeCall(queue.grantRole, (queue.FINALIZER_ROLE(), e)));
        for (uint256 i; i < vaults.length; ++i) {
            _govern(address(vaults[i]), abi.encodeCall(vaults[i].grantRole, (vaults[i].DRAWER_ROLE(), e)));
        }
        _govern(address(reserve), abi.encodeCall(reserve.grantRole, (reserve.DRAWER_ROLE(), e)));
    }

    function _sendRevenue(FeeVault vault, uint256 amount) internal {
        address bridge = address(0xB41D);
        vm.deal(bridge, amount);
        vm.prank(bridge);
        (bool ok,) = address(vault).call{value: amount}("");
        assertTrue(ok, "revenue arrives");
    }

    /// The default epoch: revenue on both chains, sequencer 1 produced 3 blocks and 2 one.
    function _plan() internal view virtual returns (Plan memory p) {
        p.gross = new uint256[](2);
        p.cost = new uint256[](2);
        p.mev = new uint256[](2);
        (p.gross[0], p.cost[0], p.mev[0]) = (GROSS, GROSS / 4, 7);
        p.gross[1] = GROSS / 2 + 3;
        p.ids = new uint32[](2);
        (p.ids[0], p.ids[1]) = (1, 2);
        p.blocks = new uint64[](2);
        (p.blocks[0], p.blocks[1]) = (3, 1);
        p.missed = new uint64[](2);
        p.jailed = new bool[](2);
    }

    /// One epoch settled as the Rust side does with blocks weighting.
    function _entry(uint64 epoch, Plan memory p, uint256 dustIn)
        internal
        view
        returns (ReportTypes.EpochEntry memory e)
    {
        e.epoch = epoch;
        ReportExecutor.ServedChain[] memory served = executor.servedChains();
        e.chains = new ReportTypes.ChainRevenue[](served.length);
        uint256 afterShares;
        for (uint256 i; i < served.length; ++i) {
            ReportExecutor.ServedChain memory c = served[i];
            uint256 share =
                c.partner == address(0) ? 0 : RewardMath.partnerShare(p.gross[i], p.cost[i], c.aBps, c.bBps);
            e.chains[i] = ReportTypes.ChainRevenue({
                chainId: c.chainId,
                gross: p.gross[i],
                cost: p.cost[i],
                mev: p.mev[i],
                evidenceHash: c.partner == address(0) ? bytes32(0) : keccak256(abi.encode(epoch, i)),
                partner: c.partner,
                aBps: c.aBps,
                bBps: c.bBps,
                share: share
            });
            afterShares += p.gross[i] - share + p.mev[i];
        }
        e.protocolFee = RewardMath.applyBps(afterShares, FEE_BPS);
        e.emission = EMISSION - p.emissionCut;
        e.dustIn = dustIn;
        uint256 pool = afterShares - e.protocolFee + e.emission + dustIn;
        uint256 weight;
        for (uint256 i; i < p.ids.length; ++i) {
            weight += p.blocks[i];
        }
        e.sequencers = new ReportTypes.SequencerReward[](p.ids.length);
        uint256 paid;
        for (uint256 i; i < p.ids.length; ++i) {
            // The split across sequencers is the reporter's (Rust `settle_epoch`): no contract
            // splits by weight, the report carries each reward.
            uint256 reward = weight == 0 ? 0 : Math.mulDiv(pool, p.blocks[i], weight);
            paid += reward;
            e.sequencers[i] = ReportTypes.SequencerReward({
                id: p.ids[i],
                blocks: p.blocks[i],
                missedBlocks: p.missed[i],
                reward: reward,
                accAfter: 0,
                jailed: p.jailed[i]
            });
        }
        e.dustOut = pool - paid;
    }

    /// A report of `plans.length` epochs from the executor's next epoch; the active set is the
    /// last plan's sequencers; the liquid actions as given.
    function _report(Plan[] memory plans, ReportTypes.LiquidActions memory liquid)
        internal
        view
        returns (ReportTypes.Report memory r)
    {
        uint64 first = executor.nextEpoch();
        r.header = ReportTypes.Header({
            firstEpoch: first,
            lastEpoch: first + uint64(plans.length) - 1,
            refBlock: uint64(block.number - 1),
            chainId: uint64(block.chainid)
        });
        r.epochs = new ReportTypes.EpochEntry[](plans.length);
        uint256 dust = executor.carriedDust();
        for (uint256 k; k < plans.length; ++k) {
            r.epochs[k] = _entry(first + uint64(k), plans[k], dust);
            dust = r.epochs[k].dustOut;
        }
        r.activeSet = plans[plans.length - 1].ids;
        r.liquid = liquid;
    }

    function _plans(uint256 count) internal view returns (Plan[] memory plans) {
        plans = new Plan[](count);
        for (uint256 k; k < count; ++k) {
            plans[k] = _plan();
        }
    }

    /// Allocation targets for sequencers 1 and 2.
    function _liquid(uint256 target1, uint256 target2)
        internal
        pure
        returns (ReportTypes.LiquidActions memory l)
    {
        l.allocation = new ReportTypes.AllocationTarget[](2);
        l.allocation[0] = ReportTypes.AllocationTarget({sequencerId: 1, target: target1});
        l.allocation[1] = ReportTypes.AllocationTarget({sequencerId: 2, target: target2});
    }

    /// Sends the revenue a report draws into the vaults.
    function _fund(ReportTypes.Report memory r) internal {
        for (uint256 i; i < vaults.length; ++i) {
            uint256 amount;
            for (uint256 k; k < r.epochs.length; ++k) {
                amount += r.epochs[k].chains[i].gross + r.epochs[k].chains[i].mev;
            }
            if (amount > 0) _sendRevenue(vaults[i], amount);
        }
    }

    function _hash(ReportTypes.Report memory r) internal view returns (bytes32) {
        return keccak256(abi.encode(ReportTypes.DOMAIN_TAG, block.chainid, address(executor), r));
    }

    function _vote(address member, ReportTypes.Report memory r) internal {
        bytes32 hash = _hash(r);
        vm.prank(member);
        executor.vote(r.header.firstEpoch, hash);
    }

    /// Two of three members vote the report.
    function _agree(ReportTypes.Report memory r) internal {
        _vote(memberA, r);
        _vote(memberB, r);
    }

    /// Sets `poolRewards` to what the token will harvest: a dry run (reverted) pays every part
    /// of the report and reads what the token's harvest returns, as an oracle's eth_call
    /// would. A report refused before its pool step is returned as it came: its execution
    /// shows the refusal.
    function _withPoolRewards(ReportTypes.Report memory r) internal returns (ReportTypes.Report memory) {
        uint256 snapshot = vm.snapshotState();
        r.liquid.poolRewards = 0;
        _agree(r);
        uint256 harvested;
        try this.dryRunHarvest(r) returns (uint256 amount) {
            harvested = amount;
        } catch {}
        vm.revertToState(snapshot);
        r.liquid.poolRewards = harvested;
        return r;
    }

    /// Pays every part of the agreed report `r`, then harvests its allocation's pools as the
    /// report contract would (`_withPoolRewards` undoes it all).
    function dryRunHarvest(ReportTypes.Report memory r) external returns (uint256) {
        _payAll(r);
        uint32[] memory ids = new uint32[](r.liquid.allocation.length);
        for (uint256 i; i < ids.length; ++i) {
            ids[i] = r.liquid.allocation[i].sequencerId;
        }
        vm.prank(address(executor));
        return token.harvest(ids, type(uint256).max);
    }

    /// Executes the report being executed, or an agreed one, to its end (one call per step).
    function _executeAll(ReportTypes.Report memory r) internal {
        while (!executor.execute(r)) {}
    }

    /// Executes the agreed report `r` until its sequencers are paid (the pool's harvest next).
    function _payAll(ReportTypes.Report memory r) internal {
        executor.execute(r);
        while (executor.stage() == ReportExecutor.Stage.Paying) {
            executor.execute(r);
        }
    }

    /// Executes the agreed report `r` up to its last call (the pool's moves and the active
    /// set), for a test to watch that call alone.
    function _toLastCall(ReportTypes.Report memory r) internal {
        _payAll(r);
        assertFalse(executor.execute(r), "the harvest ran");
        assertEq(uint256(executor.stage()), uint256(ReportExecutor.Stage.Moving));
    }

    /// An error's arguments (its data after the selector).
    function _tail(bytes memory reason) internal pure returns (bytes memory args) {
        args = new bytes(reason.length - 4);
        for (uint256 i; i < args.length; ++i) {
            args[i] = reason[i + 4];
        }
    }

    /// Executes `r` to its end and returns the error its pool step was refused with (the step
    /// must have been refused).
    function _liquidStepFailure(ReportTypes.Report memory r) internal returns (bytes memory reason) {
        _agree(r);
        _payAll(r);
        vm.recordLogs();
        _executeAll(r);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            if (
                logs[i].emitter == address(executor)
                    && logs[i].topics[0] == ReportExecutor.LiquidStepFailed.selector
            ) {
                assertEq(uint256(logs[i].topics[1]), r.header.firstEpoch);
                return abi.decode(logs[i].data, (bytes));
            }
        }
        fail("the pool step was not refused");
    }

    /// The token's stake with a pool as the report contract counts it: its delegation and its
    /// unreleased positions there.
    function _stakeWith(uint32 id) internal view returns (uint256 total) {
        total = token.stakeOf(id);
        LiquidStakingToken.PositionRef[] memory held = token.positions();
        for (uint256 p; p < held.length; ++p) {
            if (!held[p].released && held[p].dst == id) total += held[p].booked;
        }
    }

    /// The first call refuses `r` with `err`: nothing moves.
    function _expectRejected(ReportTypes.Report memory r, bytes memory err) internal {
        _agree(r);
        vm.expectRevert(err);
        executor.execute(r);
    }

    /// One finalization batch: the tickets up to `lastTicketId`, at most at `shareRate`.
    function _oneBatch(uint256 lastTicketId, uint256 shareRate)
        internal
        pure
        returns (ReportTypes.FinalizationBatch[] memory batches)
    {
        batches = new ReportTypes.FinalizationBatch[](1);
        batches[0] = ReportTypes.FinalizationBatch({lastTicketId: lastTicketId, shareRate: shareRate});
    }

    /// Sends the report's revenue to the vaults and fills in its pool rewards.
    function _prepare(ReportTypes.Report memory r) internal returns (ReportTypes.Report memory) {
        _fund(r);
        return _withPoolRewards(r);
    }

    /// Agrees and executes every step.
    function _run(ReportTypes.Report memory r) internal {
        _agree(r);
        _executeAll(r);
    }

    /// Warps to the start of `epoch` (+1 s) and moves the block number on.
    function _toEpoch(uint64 epoch) internal {
        _warpToEpoch(epoch);
        vm.roll(vm.getBlockNumber() + 10);
    }
}
