// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {SystemFixture} from "../utils/SystemFixture.sol";
import {ReportExecutor} from "../../src/ReportExecutor.sol";
import {ReportTypes} from "../../src/interfaces/ReportTypes.sol";
import {LiquidStakingToken} from "../../src/LiquidStakingToken.sol";
import {RegistryCore} from "../../src/registry/RegistryCore.sol";

/// Gas of one report's execution against active sequencers (10, 50, 100, 200) and served
/// chains (1, 4), and DESIGN.md's worst case: 200 sequencers, the pool delegated to all of
/// them, the costliest stake moves a report makes (`maxMovesPerReport`, 16, all
/// redelegations where the pools pair up), 4 chains with partners, 8 epochs, 16 finalization
/// batches. setUp builds the
/// running system (an earlier report delegated the buffer to every pool, tickets are waiting)
/// and has the members vote the report; the test is the execution alone, so storage is cold as
/// on chain. A report executes in calls (`ReportExecutor.execute`); each test logs every call's
/// transaction gas (the 21,000 base, the calldata, the execution), the largest, and their sum
/// (`forge test --match-path test/gas/ReportGas.t.sol -vv`; docs/BENCHMARKS.md), checks that
/// every call fits a 30M-gas block, and `forge snapshot --check` guards the totals.
abstract contract ReportGasBase is SystemFixture {
    event log_named_uint(string key, uint256 val);

    uint256 internal constant BATCHES = 16;
    /// Active sequencers, served chains and epochs of the measured report.
    uint256 internal immutable sequencerCount;
    uint256 internal immutable chainCount;
    uint256 internal immutable epochCount;
    /// The report contract's bound on redelegations plus undelegations, all used.
    uint16 internal constant MOVES = 16;
    /// The measured report's `execute` calldata and its last epoch.
    bytes internal encodedCall;
    uint64 internal measuredLastEpoch;

    constructor(uint256 sequencers, uint256 chains, uint256 epochs) {
        (sequencerCount, chainCount, epochCount) = (sequencers, chains, epochs);
    }

    function _n() internal view returns (uint256) {
        return sequencerCount;
    }

    function _chainCount() internal view returns (uint256) {
        return chainCount;
    }

    function _epochs() internal view returns (uint256) {
        return epochCount;
    }

    function _params() internal view override returns (RegistryCore.Params memory p) {
        p = super._params();
        p.maxCandidates = 200;
        p.maxActive = 200;
    }

    function _liquidParams() internal view override returns (LiquidStakingToken.Params memory p) {
        p = super._liquidParams();
        p.perSequencerCapBps = 10_000;
    }

    /// Every chain has a partner, so every chain credits a share.
    function _servedChains() internal view override returns (ReportExecutor.ServedChain[] memory chains) {
        chains = new ReportExecutor.ServedChain[](_chainCount());
        for (uint256 i; i < chains.length; ++i) {
            chains[i] = ReportExecutor.ServedChain({
                chainId: uint64(100 + i),
                vault: address(0),
                partner: address(uint160(0xBA5E0 + i)),
                aBps: 250,
                bBps: 1500
            });
        }
    }

    function _executorParams() internal view override returns (ReportExecutor.Params memory p) {
        p = super._executorParams();
        p.maxRateAprBps = type(uint16).max; // gas, not the rate bound, is measured here
        p.maxMovesPerReport = MOVES;
    }

    /// The load's reports (`_load`) pay one sequencer: they set state up, they are not measured.
    bool internal light;

    /// Every sequencer produced blocks (only the first in the load's reports); revenue on every
    /// chain.
    function _plan() internal view override returns (Plan memory p) {
        uint256 chains = _chainCount();
        (p.gross, p.cost, p.mev) = (new uint256[](chains), new uint256[](chains), new uint256[](chains));
        for (uint256 i; i < chains; ++i) {
            (p.gross[i], p.cost[i], p.mev[i]) = (GROSS + i, GROSS / 4, 11);
        }
        uint256 n = light ? 1 : _n();
        (p.ids, p.blocks, p.missed, p.jailed) =
        (new uint32[](n), new uint64[](n), new uint64[](n), new bool[](n));
        for (uint256 i; i < n; ++i) {
            p.ids[i] = uint32(i + 1);
            p.blocks[i] = uint64(10 + (i % 7));
            p.missed[i] = uint64(i % 3);
        }
    }

    /// Targets from each pool's stake `stakes`: every pool `extra` higher; or (`rebalance`)
    /// the costliest stake moves one report makes: redelegations (the costliest move), the
    /// first pools in pairs, the even one giving 0.5 to the odd one, as many as the bound
    /// allows (`MOVES`) or the pools pair up, and the moves left as delegations from the
    /// buffer, `extra` each into the next pools.
    function _allocation(uint256[] memory stakes, uint256 extra, bool rebalance)
        internal
        view
        returns (ReportTypes.LiquidActions memory l)
    {
        uint256 n = _n();
        uint256 pairs = rebalance ? (n / 2 < MOVES ? n / 2 : MOVES) : 0;
        uint256 paired = 2 * pairs;
        uint256 raised = rebalance ? paired + (MOVES - pairs < n - paired ? MOVES - pairs : n - paired) : n;
        l.allocation = new ReportTypes.AllocationTarget[](n);
        for (uint256 i; i < n; ++i) {
            uint256 target = stakes[i];
            if (i < paired) target = i % 2 == 0 ? target - 0.5 ether : target + 0.5 ether;
            else if (i < raised) target += extra;
            l.allocation[i] = ReportTypes.AllocationTarget({sequencerId: uint32(i + 1), target: target});
        }
    }

    /// Each pool's stake now.
    function _stakes() internal view returns (uint256[] memory stakes) {
        stakes = new uint256[](_n());
        for (uint256 i; i < stakes.length; ++i) {
            stakes[i] = _stakeWith(uint32(i + 1));
        }
    }

    /// Each pool's stake as the moves of report `r` (funded) will see it: its sequencers paid,
    /// the pool harvested, its matured positions released; and what the harvest claims (the
    /// report's `poolRewards`: it depends on the allocation's pools, not on their targets). A
    /// dry run, reverted, as an oracle's eth_call would (a release changes a pool's stake by
    /// the registry's rounding, and a one-wei target off is a stake move).
    function _stakesAtMoves(ReportTypes.Report memory r)
        internal
        returns (uint256[] memory stakes, uint256 harvested)
    {
        uint256 snapshot = vm.snapshotState();
        _agree(r);
        harvested = this.dryRunHarvest(r);
        vm.prank(address(executor));
        token.releaseMatured();
        stakes = _stakes();
        vm.revertToState(snapshot);
    }

    /// Report `r` (funded) with its allocation from the stakes its moves will see, each pool
    /// below `lower` (and above `first`) `cut` lower: undelegations for the queue.
    function _withMovesFrom(ReportTypes.Report memory r, uint32 first, uint32 lower, uint256 cut)
        internal
        returns (ReportTypes.Report memory)
    {
        (uint256[] memory stakes, uint256 harvested) = _stakesAtMoves(r);
        for (uint32 id = first; id < lower; ++id) {
            stakes[id - 1] -= cut;
        }
        r.liquid.allocation = _allocation(stakes, 0, false).allocation;
        r.liquid.poolRewards = harvested;
        return r;
    }

    /// Whether the measured report also meets the most a report's pool steps can besides its
    /// own moves (the worst case): `MAX_POSITIONS` released positions waiting for their last
    /// harvest and as many matured ones to release, `BUCKETS_PER_REPORT` matured buckets to
    /// bring back.
    function _loaded() internal view virtual returns (bool) {
        return false;
    }

    /// `count` positions: 0.01 redelegated from each of `src`.. to `dst`.. .
    function _openPositions(uint32 src, uint32 dst, uint32 count) internal {
        vm.startPrank(reporter);
        for (uint32 i; i < count; ++i) {
            token.redelegateStake(src + i, dst + i, 0.01 ether);
        }
        vm.stopPrank();
    }

    /// The worst case's load, from epoch 6 (after the first report): 32 positions (A); a large
    /// ticket the buffer lacks 15 for; at epoch 12 a report covering 6..11 undelegates 16 x 0.5
    /// for it (16 buckets), at epoch 13 a report covering 12 releases A (matured) and undelegates
    /// 16 x 0.4 more (32 buckets); then 32 new positions (B, maturing at 20) and a deposit that
    /// covers the tickets. Returns the measured report's first epoch (13: it runs at 21, when
    /// A waits for its last harvest, B and every bucket have matured).
    function _load() internal returns (uint64) {
        uint32 positions = uint32(token.MAX_POSITIONS());
        _openPositions(101, 133, positions);
        _requestAs(staker, token.convertToShares(token.bufferedAssets() + 15 ether));
        _toEpoch(12);
        this.runUndelegating(6, 33, 0.5 ether);
        _toEpoch(13);
        this.runUndelegating(1, 49, 0.4 ether);
        assertEq(executor.openBuckets().length, executor.BUCKETS_PER_REPORT(), "buckets to bring back");
        assertEq(token.unreleasedPositions(), 0, "A released");
        _openPositions(165, 101, positions);
        assertEq(token.positions().length, 2 * positions, "A waiting for its last harvest, and B");
        _depositAs(staker, 40 ether);
        return 13;
    }

    /// Runs a report of `epochs` epochs that undelegates `cut` from each of the 16 pools from
    /// `first` (its own call: the memory of a 200-sequencer report is freed at its end).
    function runUndelegating(uint256 epochs, uint32 first, uint256 cut) external {
        light = true;
        ReportTypes.Report memory r = _report(_plans(epochs), _allocation(_stakes(), 0, false));
        light = false;
        r.activeSet = new uint32[](0);
        _fund(r);
        _run(_withMovesFrom(r, first, first + 16, cut));
    }

    /// Builds, funds and votes the measured report from epoch `from` (its own call, as above).
    function prepareMeasured(uint64 from) external {
        _toEpoch(uint64(from + _epochs()));
        ReportTypes.Report memory r = _report(_plans(_epochs()), _allocation(_stakes(), 0, false));
        r.liquid.batches = new ReportTypes.FinalizationBatch[](BATCHES);
        for (uint256 j; j < BATCHES; ++j) {
            r.liquid.batches[j] = ReportTypes.FinalizationBatch({
                lastTicketId: queue.lastFinalizedId() + j + 1, shareRate: 1e30
            });
        }
        _fund(r);
        (uint256[] memory stakes, uint256 harvested) = _stakesAtMoves(r);
        r.liquid.allocation = _allocation(stakes, 0.1 ether, true).allocation;
        r.liquid.poolRewards = harvested;
        _agree(r);
        (encodedCall, measuredLastEpoch) = (abi.encodeCall(executor.execute, (r)), r.header.lastEpoch);
    }

    function setUp() public {
        _deploySystem(); // epoch 5
        for (uint256 i; i < _n(); ++i) {
            _registerAs(address(uint160(0x10000 + i)), 10 ether, 1000);
        }
        _depositAs(staker, _n() * 3 ether + 10 ether);
        // A running system: every sequencer active, 2 of the pool's stake with each (set up
        // directly: one report delegates to at most MOVES pools), and a first report.
        uint32[] memory ids = new uint32[](_n());
        uint256[] memory amounts = new uint256[](_n());
        for (uint256 i; i < ids.length; ++i) {
            (ids[i], amounts[i]) = (uint32(i + 1), 2 ether);
        }
        vm.startPrank(reporter);
        registry.updateActiveSet(ids);
        token.delegateBuffer(ids, amounts);
        vm.stopPrank();
        _toEpoch(6);
        _run(_prepare(_report(_plans(1), _allocation(_stakes(), 0, false))));
        uint64 from = _loaded() ? _load() : 6;
        for (uint256 j; j < BATCHES; ++j) {
            _requestAs(staker, 1e21);
        }
        // The measured report: every pool earns, the most stake moves one report makes, every
        // ticket is finalized.
        this.prepareMeasured(from);
    }

    /// Executes the voted report, call by call; returns each call's transaction gas (the
    /// 21,000 base, the calldata and the execution) and the calldata's gas (the same for every
    /// call: each carries the report).
    function _execute() internal returns (uint256[] memory calls, uint256 calldataGas) {
        bytes memory data = encodedCall;
        for (uint256 i; i < data.length; ++i) {
            calldataGas += data[i] == 0 ? 4 : 16;
        }
        calls = new uint256[](8);
        uint256 count;
        bool done;
        while (!done) {
            // The calldata is encoded once (in setUp): encoding it in this contract's memory
            // for each call would be counted as the call's gas.
            uint256 gas = gasleft();
            (bool ok, bytes memory returned) = address(executor).call(data);
            gas -= gasleft();
            assertTrue(ok, "a call of the report's execution reverted");
            done = abi.decode(returned, (bool));
            calls[count++] = 21_000 + calldataGas + gas;
        }
        assembly ("memory-safe") {
            mstore(calls, count)
        }
        assertEq(executor.nextEpoch(), measuredLastEpoch + 1, "executed");
        assertEq(executor.unharvestedFrom(), measuredLastEpoch + 1, "the pool step ran");
        assertEq(queue.lastFinalizedId(), BATCHES, "every batch finalized: the moves step ran");
        if (_loaded()) {
            assertEq(executor.openBuckets().length, 0, "every matured bucket brought back");
            assertEq(token.unreleasedPositions(), MOVES, "B released; the report's own redelegations");
        }
    }

    function test_gas_execute() public {
        (uint256[] memory calls, uint256 calldataGas) = _execute();
        string memory size = string.concat(
            " @",
            vm.toString(_n()),
            " seq ",
            vm.toString(_chainCount()),
            " chains ",
            vm.toString(_epochs()),
            " ep"
        );
        (uint256 largest, uint256 total) = (0, 0);
        for (uint256 i; i < calls.length; ++i) {
            emit log_named_uint(string.concat("transaction ", vm.toString(i + 1), size), calls[i]);
            if (calls[i] > largest) largest = calls[i];
            total += calls[i];
        }
        emit log_named_uint(string.concat("calldata per transaction", size), calldataGas);
        emit log_named_uint(string.concat("largest transaction", size), largest);
        emit log_named_uint(string.concat("all transactions", size), total);
        assertLe(largest, 30_000_000, "every call fits a 30M-gas block");
    }
}

contract ReportGas10x1Test is ReportGasBase(10, 1, 1) {}

contract ReportGas10x4Test is ReportGasBase(10, 4, 1) {}

contract ReportGas50x1Test is ReportGasBase(50, 1, 1) {}

contract ReportGas50x4Test is ReportGasBase(50, 4, 1) {}

contract ReportGas100x1Test is ReportGasBase(100, 1, 1) {}

contract ReportGas100x4Test is ReportGasBase(100, 4, 1) {}

contract ReportGas200x1Test is ReportGasBase(200, 1, 1) {}

contract ReportGas200x4Test is ReportGasBase(200, 4, 1) {}

/// DESIGN.md's worst case: every call of its execution must fit a 30M-gas block
/// (docs/BENCHMARKS.md has the figures).
contract ReportGasWorstCaseTest is ReportGasBase(200, 4, 8) {
    function _loaded() internal pure override returns (bool) {
        return true;
    }
}
