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
    bytes internal encodedReport;

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

    /// Every sequencer produced blocks; revenue on every chain.
    function _plan() internal view override returns (Plan memory p) {
        uint256 chains = _chainCount();
        (p.gross, p.cost, p.mev) = (new uint256[](chains), new uint256[](chains), new uint256[](chains));
        for (uint256 i; i < chains; ++i) {
            (p.gross[i], p.cost[i], p.mev[i]) = (GROSS + i, GROSS / 4, 11);
        }
        uint256 n = _n();
        (p.ids, p.blocks, p.missed, p.jailed) =
        (new uint32[](n), new uint64[](n), new uint64[](n), new bool[](n));
        for (uint256 i; i < n; ++i) {
            p.ids[i] = uint32(i + 1);
            p.blocks[i] = uint64(10 + (i % 7));
            p.missed[i] = uint64(i % 3);
        }
    }

    /// Every pool `extra` higher; or (`rebalance`) the costliest stake moves one report makes:
    /// redelegations (the costliest move), the first pools in pairs, the even one giving 0.5 to
    /// the odd one, as many as the bound allows (`MOVES`) or the pools pair up, and the moves
    /// left as delegations from the buffer, `extra` each into the next pools.
    function _allocation(uint256 extra, bool rebalance)
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
            uint32 id = uint32(i + 1);
            uint256 target = token.stakeOf(id);
            if (i < paired) target = i % 2 == 0 ? target - 0.5 ether : target + 0.5 ether;
            else if (i < raised) target += extra;
            l.allocation[i] = ReportTypes.AllocationTarget({sequencerId: id, target: target});
        }
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
        _run(_prepare(_report(_plans(1), _allocation(0, false))));
        for (uint256 j; j < BATCHES; ++j) {
            _requestAs(staker, 1e21);
        }
        // The measured report: every pool earns, the most stake moves one report makes, every
        // ticket is finalized.
        _toEpoch(uint64(6 + _epochs()));
        ReportTypes.Report memory r = _report(_plans(_epochs()), _allocation(0.1 ether, true));
        r.liquid.batches = new ReportTypes.FinalizationBatch[](BATCHES);
        for (uint256 j; j < BATCHES; ++j) {
            r.liquid.batches[j] = ReportTypes.FinalizationBatch({
                lastTicketId: queue.lastFinalizedId() + j + 1, shareRate: 1e30
            });
        }
        r = _prepare(r);
        _agree(r);
        encodedReport = abi.encode(r);
    }

    /// Executes the voted report, call by call; returns each call's transaction gas (the
    /// 21,000 base, the calldata and the execution) and the calldata's gas (the same for every
    /// call: each carries the report).
    function _execute() internal returns (uint256[] memory calls, uint256 calldataGas) {
        ReportTypes.Report memory r = abi.decode(encodedReport, (ReportTypes.Report));
        bytes memory data = abi.encodeCall(executor.execute, (r));
        for (uint256 i; i < data.length; ++i) {
            calldataGas += data[i] == 0 ? 4 : 16;
        }
        calls = new uint256[](8);
        uint256 count;
        bool done;
        while (!done) {
            uint256 gas = gasleft();
            done = executor.execute(r);
            calls[count++] = 21_000 + calldataGas + gas - gasleft();
        }
        assembly ("memory-safe") {
            mstore(calls, count)
        }
        assertEq(executor.nextEpoch(), r.header.lastEpoch + 1, "executed");
        assertEq(executor.unharvestedFrom(), r.header.lastEpoch + 1, "the pool step ran");
        assertEq(queue.lastFinalizedId(), BATCHES, "every batch finalized");
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
contract ReportGasWorstCaseTest is ReportGasBase(200, 4, 8) {}
