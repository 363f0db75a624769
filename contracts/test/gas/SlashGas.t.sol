// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {RegistryFixture} from "../utils/RegistryFixture.sol";
import {RegistryCore} from "../../src/registry/RegistryCore.sol";
import {LossRecorder} from "../RegistrySlashing.t.sol";

/// The worst case of one slash: config/example.toml's 200 candidates and 14 unbonding epochs,
/// the slashed sequencer's delegators having opened a redelegation tranche to every other
/// candidate in every epoch of the infraction's window (199 x 15 = 2,985 tranches), an
/// unbonding bucket in every epoch, and a slash listener. Each call of the slash is measured
/// and must fit a 30M-gas block (`forge test --match-path test/gas/SlashGas.t.sol -vv`; the
/// figures in docs/BENCHMARKS.md).
contract SlashGasTest is RegistryFixture {
    event log_named_uint(string key, uint256 val);

    uint256 internal constant BLOCK_GAS = 30_000_000;
    uint64 internal constant INFRACTION = 6;

    function _params() internal view override returns (RegistryCore.Params memory p) {
        p = super._params();
        p.maxCandidates = 200;
        p.maxActive = 100;
        p.unbondingEpochs = 14;
    }

    function setUp() public {
        _setUpRegistry(); // epoch 5
        _governRegistry(abi.encodeCall(registry.setSlashListener, (address(new LossRecorder(registry)))));
        _registerAs(address(0x1000), 1 ether, 1000); // 1: slashed
        for (uint256 i; i < 199; ++i) {
            _registerAs(address(uint160(0x100000 + i * 0x10)), 1 ether, 0);
        }
        _delegateAs(address(0xD1), 1, 1000 ether);
        uint64 last = INFRACTION + _params().unbondingEpochs;
        for (uint64 e = INFRACTION; e <= last; ++e) {
            _delegateAs(address(uint160(0xE000 + e)), 1, 1 ether);
            _delegateAs(address(uint160(0xA000 + e)), 1, 10 ether);
        }
        for (uint64 e = INFRACTION; e <= last; ++e) {
            _warpToEpoch(e);
            vm.prank(address(uint160(0xE000 + e)));
            registry.undelegate(1, 1e21); // a bucket per epoch
            vm.startPrank(address(uint160(0xA000 + e))); // one delegator per epoch
            for (uint32 dst = 2; dst <= 200; ++dst) {
                registry.redelegate(1, dst, 1e9);
            }
            vm.stopPrank();
        }
    }

    function test_slash_worstCase_everyCallFitsABlock() public {
        uint256 largest;
        uint256 total;
        vm.prank(slasher);
        uint256 g = gasleft();
        (, bool done) = registry.slash(1, INFRACTION, 500);
        uint256 used = g - gasleft();
        emit log_named_uint("call 1 gas", used);
        largest = used;
        total = used;
        uint256 calls = 1;
        while (!done) {
            vm.cool(address(registry)); // each call is a transaction of its own
            vm.prank(slasher);
            g = gasleft();
            done = registry.continueSlash();
            used = g - gasleft();
            emit log_named_uint("call gas", used);
            calls += 1;
            if (used > largest) largest = used;
            total += used;
        }
        emit log_named_uint("calls", calls);
        emit log_named_uint("largest call gas", largest);
        emit log_named_uint("total gas", total);
        // 2,985 tranches: valued over three calls (1,000 per call), then taken 100 per call.
        assertEq(calls, 32, "3 valuing calls (the third splits and takes 100), then 29 of 100 tranches");
        assertLt(largest, BLOCK_GAS, "every call fits a 30M block");
        assertEq(address(registry).balance, registry.totalOwed(), "the books hold");
    }
}
