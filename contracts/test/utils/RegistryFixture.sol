// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Test} from "./Test.sol";
import {SequencerRegistry} from "../../src/SequencerRegistry.sol";
import {RegistryCore} from "../../src/registry/RegistryCore.sol";
import {RegistryExtension} from "../../src/registry/RegistryExtension.sol";
import {SeqstakeTimelock} from "../../src/governance/SeqstakeTimelock.sol";

/// @notice Deploys the registry as production does: a timelock as admin, the extension, the
///         registry; roles are granted through the timelock (schedule, wait, execute).
abstract contract RegistryFixture is Test {
    SequencerRegistry internal registry;
    SeqstakeTimelock internal timelock;
    address internal governor = address(0x60F);
    address internal reporter = address(0x12E9);
    address internal slasher = address(0x51A5);
    address internal guardian = address(0x6A2D);
    address internal insurance = address(0x1A5);
    uint64 internal constant GENESIS = 1_000_000;
    uint64 internal constant EPOCH = 100;
    uint32 internal constant UNBONDING = 6;

    function _params() internal view virtual returns (RegistryCore.Params memory) {
        return RegistryCore.Params({
            genesisTime: GENESIS,
            epochLength: EPOCH,
            minBond: 1 ether,
            maxBond: 100 ether,
            maxCommissionBps: 2000,
            maxCommissionChangeBps: 500,
            maxCandidates: 8,
            maxActive: 4,
            unbondingEpochs: UNBONDING,
            maxUnbondingEntries: 4,
            jailCooldownEpochs: 2,
            maxPauseDuration: 300,
            insuranceFund: insurance
        });
    }

    /// The timelock delay: the longest exit, (unbonding + 1) epochs.
    function _delay() internal view returns (uint256) {
        return (uint256(_params().unbondingEpochs) + 1) * EPOCH;
    }

    function _deployTimelock() internal returns (SeqstakeTimelock) {
        address[] memory proposers = new address[](1);
        proposers[0] = governor;
        address[] memory executors = new address[](1);
        executors[0] = address(0);
        return new SeqstakeTimelock(_delay(), proposers, executors, address(0));
    }

    function _deployRegistry(RegistryCore.Params memory p) internal returns (SequencerRegistry) {
        RegistryExtension extension = new RegistryExtension(p);
        return new SequencerRegistry(p, address(timelock), address(extension));
    }

    /// Deploys at epoch 5 with the reporter, slasher and guardian roles granted.
    function _setUpRegistry() internal {
        vm.warp(GENESIS + 5 * EPOCH + 1);
        timelock = _deployTimelock();
        registry = _deployRegistry(_params());
        _governRegistry(abi.encodeCall(registry.grantRole, (registry.REPORTER_ROLE(), reporter)));
        _governRegistry(abi.encodeCall(registry.grantRole, (registry.SLASHER_ROLE(), slasher)));
        _governRegistry(abi.encodeCall(registry.grantRole, (registry.GUARDIAN_ROLE(), guardian)));
    }

    /// Runs `data` on the registry through the timelock, then returns to the current time.
    function _governRegistry(bytes memory data) internal {
        _govern(address(registry), data);
    }

    /// Runs `data` on `target` through the timelock, then returns to the current time.
    function _govern(address target, bytes memory data) internal {
        uint256 now_ = vm.getBlockTimestamp();
        bytes32 salt = keccak256(abi.encode(target, data, now_));
        vm.prank(governor);
        timelock.schedule(target, 0, data, bytes32(0), salt, _delay());
        vm.warp(now_ + _delay());
        timelock.execute(target, 0, data, bytes32(0), salt);
        vm.warp(now_);
    }

    function _warpToEpoch(uint64 epoch) internal {
        vm.warp(GENESIS + uint256(epoch) * EPOCH + 1);
    }

    /// Registers `operator` with `bond`, signer and recipient derived from it.
    function _registerAs(address operator, uint256 bond, uint16 commissionBps) internal returns (uint32) {
        vm.deal(operator, operator.balance + bond);
        vm.prank(operator);
        return registry.register{value: bond}(
            address(uint160(operator) + 0x1000), address(uint160(operator) + 0x2000), commissionBps
        );
    }

    function _delegateAs(address account, uint32 id, uint256 amount) internal returns (uint256) {
        vm.deal(account, account.balance + amount);
        vm.prank(account);
        return registry.delegate{value: amount}(id);
    }

    /// Pays one sequencer `amount` for each epoch from `registry.nextRewardEpoch()` to `last`.
    function _payEach(uint32 id, uint64 last, uint256 amount) internal {
        uint64 first = registry.nextRewardEpoch();
        SequencerRegistry.SequencerRewards[] memory r = new SequencerRegistry.SequencerRewards[](1);
        r[0].id = id;
        r[0].amounts = new uint256[](last - first + 1);
        for (uint256 k; k < r[0].amounts.length; ++k) {
            r[0].amounts[k] = amount;
        }
        uint256 total = amount * r[0].amounts.length;
        vm.deal(reporter, reporter.balance + total);
        vm.prank(reporter);
        registry.distributeRewards{value: total}(first, last, r);
    }
}
