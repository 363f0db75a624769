// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Vm} from "./utils/Vm.sol";
import {SystemFixture} from "./utils/SystemFixture.sol";
import {ReportExecutor} from "../src/ReportExecutor.sol";
import {RegistryCore} from "../src/registry/RegistryCore.sol";

/// Review finding 9: with fewer unbonding entries than the epochs of the unbonding window (4
/// entries, a 7-epoch window), a report per epoch undelegating from the same sequencer had its
/// whole move step refused (TooManyUnbondingEntries) in 3 of every 7 epochs. The configuration
/// now requires `max_unbonding_entries >= unbonding_epochs + 1` (config::rules); with exactly
/// that many, the pool undelegates from one sequencer at every report through more than a
/// whole window, the harvest bringing each matured bucket back before the moves.
contract ReportUnbondingEntriesTest is SystemFixture {
    function _params() internal view override returns (RegistryCore.Params memory p) {
        p = super._params();
        p.maxUnbondingEntries = p.unbondingEpochs + 1; // 7: the least the config allows
    }

    function setUp() public {
        _setUpSystem();
    }

    function test_poolUndelegatesFromOneSequencerEveryEpochOfTheWindow() public {
        _toEpoch(6);
        _run(_prepare(_report(_plans(1), _liquid(8 ether, 8 ether)))); // 16 staked, 4 buffered
        _requestAs(staker, token.balanceOf(staker) * 3 / 4); // the queue needs more than the buffer
        // Reports at epochs 7..16 (ten, more than the 7-epoch window) each undelegate 0.5 from
        // sequencer 1: every move step goes through.
        for (uint64 e = 7; e <= 16; ++e) {
            _toEpoch(e);
            uint256 before = token.stakeOf(1);
            vm.recordLogs();
            _run(_prepare(_report(_plans(1), _liquid(before - 0.5 ether, token.stakeOf(2)))));
            Vm.Log[] memory logs = vm.getRecordedLogs();
            for (uint256 i; i < logs.length; ++i) {
                assertTrue(
                    logs[i].emitter != address(executor)
                        || logs[i].topics[0] != ReportExecutor.LiquidStepFailed.selector,
                    "no pool step refused"
                );
            }
            assertEq(token.stakeOf(1), before - 0.5 ether, "undelegated 0.5 from sequencer 1");
        }
        // Seven buckets open at most: those of epochs 10..16 (7, 8 and 9 matured and came back).
        assertEq(executor.openBuckets().length, 7);
    }
}
