// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {RegistryFixture} from "../utils/RegistryFixture.sol";
import {SequencerRegistry} from "../../src/SequencerRegistry.sol";

/// Gas of the registry's operations against the number of active sequencers (10, 50, 100,
/// 200). setUp builds the state a running system has: every pool delegated by one large
/// delegator (as the liquid token) that moves its delegation every epoch, earlier epochs paid;
/// each test is then one transaction, so storage is cold as on chain. Each test logs the gas
/// of the measured call alone (`forge test --match-path test/gas/RegistryGas.t.sol -vv`, the
/// figures in docs/BENCHMARKS.md); the test totals are guarded by `forge snapshot --check`.
abstract contract RegistryGasBase is RegistryFixture {
    event log_named_uint(string key, uint256 val);

    address internal pool = address(0x1D);
    address internal alice = address(0xA1);

    function _n() internal pure virtual returns (uint256);

    function _params() internal view override returns (SequencerRegistry.Params memory p) {
        p = super._params();
        p.maxCandidates = 200;
        p.maxActive = 200;
    }

    function setUp() public {
        _setUpRegistry(); // epoch 5
        for (uint256 i; i < _n(); ++i) {
            _registerAs(address(uint160(0x10000 + i)), 10 ether, 1000);
        }
        _delegateEach(10 ether);
        _delegateAs(alice, 1, 5 ether);
        _warpToEpoch(7);
        _payAll(5, 6, 1 ether);
        _delegateEach(1 ether); // the pool moves every epoch
        vm.deal(alice, 10 ether);
    }

    function _delegateEach(uint256 amount) internal {
        vm.deal(pool, pool.balance + amount * _n());
        vm.startPrank(pool);
        for (uint256 i = 1; i <= _n(); ++i) {
            registry.delegate{value: amount}(uint32(i));
        }
        vm.stopPrank();
    }

    function _rewards(uint256 epochs, uint256 amount)
        internal
        pure
        returns (SequencerRegistry.SequencerRewards[] memory r, uint256 total)
    {
        r = new SequencerRegistry.SequencerRewards[](_n());
        for (uint256 i; i < _n(); ++i) {
            r[i].id = uint32(i + 1);
            r[i].amounts = new uint256[](epochs);
            for (uint256 k; k < epochs; ++k) {
                r[i].amounts[k] = amount + i + k;
                total += amount + i + k;
            }
        }
    }

    function _payAll(uint64 first, uint64 last, uint256 amount) internal returns (uint256 gas) {
        (SequencerRegistry.SequencerRewards[] memory r, uint256 total) = _rewards(last - first + 1, amount);
        vm.deal(reporter, total);
        vm.prank(reporter);
        gas = gasleft();
        registry.distributeRewards{value: total}(first, last, r);
        gas -= gasleft();
    }

    function _log(string memory op, uint256 gas) internal {
        emit log_named_uint(string.concat(op, " @", vm.toString(_n())), gas);
    }

    function test_gas_delegate() public {
        vm.prank(alice);
        uint256 gas = gasleft();
        registry.delegate{value: 1 ether}(1);
        _log("delegate", gas - gasleft());
    }

    function test_gas_undelegate() public {
        vm.prank(alice);
        uint256 gas = gasleft();
        registry.undelegate(1, 1000 ether);
        _log("undelegate", gas - gasleft());
    }

    function test_gas_redelegate() public {
        vm.prank(alice);
        uint256 gas = gasleft();
        registry.redelegate(1, 2, 1000 ether);
        _log("redelegate", gas - gasleft());
    }

    function test_gas_claimRewards() public {
        vm.prank(alice);
        uint256 gas = gasleft();
        registry.claimRewards(1, alice);
        _log("claimRewards", gas - gasleft());
    }

    function test_gas_slash() public {
        vm.prank(slasher);
        uint256 gas = gasleft();
        registry.slash(2, 6, 500);
        _log("slash", gas - gasleft());
    }

    function test_gas_distributeRewards_1epoch() public {
        _warpToEpoch(8);
        _log("distributeRewards 1 epoch", _payAll(7, 7, 1 ether));
    }

    function test_gas_distributeRewards_8epochs() public {
        _warpToEpoch(15);
        _log("distributeRewards 8 epochs", _payAll(7, 14, 1 ether));
    }

    function test_gas_updateActiveSet() public {
        uint32[] memory set = new uint32[](_n());
        for (uint256 i; i < set.length; ++i) {
            set[i] = uint32(i + 1);
        }
        vm.prank(reporter);
        uint256 gas = gasleft();
        registry.updateActiveSet(set);
        _log("updateActiveSet", gas - gasleft());
    }
}

contract RegistryGas10Test is RegistryGasBase {
    function _n() internal pure override returns (uint256) {
        return 10;
    }
}

contract RegistryGas50Test is RegistryGasBase {
    function _n() internal pure override returns (uint256) {
        return 50;
    }
}

contract RegistryGas100Test is RegistryGasBase {
    function _n() internal pure override returns (uint256) {
        return 100;
    }
}

contract RegistryGas200Test is RegistryGasBase {
    function _n() internal pure override returns (uint256) {
        return 200;
    }
}
