// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {RegistryFixture} from "./utils/RegistryFixture.sol";
import {Refuser} from "./utils/Refuser.sol";
import {SeqstakeTimelock} from "../src/governance/SeqstakeTimelock.sol";
import {SequencerRegistry} from "../src/SequencerRegistry.sol";
import {RegistryCore} from "../src/registry/RegistryCore.sol";
import {RegistryExtension} from "../src/registry/RegistryExtension.sol";

contract SequencerRegistryTest is RegistryFixture {
    address internal operator = address(0x0BE);
    address internal signer = address(0x516);
    address internal recipient = address(0x12EC);

    function setUp() public {
        _setUpRegistry();
        vm.deal(operator, 1000 ether);
    }

    function _register() internal returns (uint32) {
        vm.prank(operator);
        return registry.register{value: 10 ether}(signer, recipient, 1000);
    }

    function test_epochClock() public {
        assertEq(uint256(registry.currentEpoch()), 5);
        vm.warp(GENESIS + 6 * EPOCH);
        assertEq(uint256(registry.currentEpoch()), 6);
        vm.warp(GENESIS - 1);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.BeforeGenesis.selector, GENESIS));
        registry.currentEpoch();
    }

    function _expectBadParameter(RegistryCore.Params memory p, string memory name) internal {
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.InvalidParameter.selector, name));
        new RegistryExtension(p);
    }

    function test_constructor_refusesBadParameters() public {
        RegistryCore.Params memory p = _params();
        p.minBond = 101 ether;
        _expectBadParameter(p, "minBond");
        p = _params();
        p.epochLength = 0;
        _expectBadParameter(p, "epochLength");
        p = _params();
        p.maxCommissionChangeBps = 2001;
        _expectBadParameter(p, "maxCommissionChangeBps");
        p = _params();
        p.maxCommissionBps = 10_001;
        _expectBadParameter(p, "maxCommissionBps");
        p = _params();
        p.maxCandidates = 0;
        _expectBadParameter(p, "maxCandidates");
        p = _params();
        p.maxActive = 9;
        _expectBadParameter(p, "maxActive");
        p = _params();
        p.unbondingEpochs = 0;
        _expectBadParameter(p, "unbondingEpochs");
        p = _params();
        p.maxUnbondingEntries = 0;
        _expectBadParameter(p, "maxUnbondingEntries");
        p = _params();
        p.maxPauseDuration = 0;
        _expectBadParameter(p, "maxPauseDuration");
    }

    function test_constructor_needsATimelockAdminCoveringTheLongestExitAndItsOwnExtension() public {
        RegistryCore.Params memory p = _params();
        RegistryExtension extension = new RegistryExtension(p);
        vm.expectRevert(RegistryCore.ZeroAddress.selector);
        new SequencerRegistry(p, address(0), address(extension));
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.AdminNotTimelock.selector, address(0xA11CE)));
        new SequencerRegistry(p, address(0xA11CE), address(extension));

        address[] memory none = new address[](0);
        SeqstakeTimelock quick = new SeqstakeTimelock(_delay() - 1, none, none, address(0));
        vm.expectRevert(
            abi.encodeWithSelector(RegistryCore.AdminDelayTooShort.selector, _delay() - 1, _delay())
        );
        new SequencerRegistry(p, address(quick), address(extension));

        RegistryCore.Params memory other = _params();
        other.minBond = 2 ether;
        RegistryExtension otherExtension = new RegistryExtension(other);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.WrongExtension.selector, address(otherExtension)));
        new SequencerRegistry(p, address(timelock), address(otherExtension));
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.WrongExtension.selector, address(0xE)));
        new SequencerRegistry(p, address(timelock), address(0xE));
    }

    function test_extension_refusesDirectCalls() public {
        RegistryExtension extension = RegistryExtension(registry.extension());
        vm.expectRevert(RegistryExtension.NotDelegated.selector);
        extension.register{value: 0}(signer, recipient, 0);
        vm.expectRevert(RegistryExtension.NotDelegated.selector);
        extension.pause(1);
    }

    function test_register_bondCountsFromTheNextEpoch() public {
        vm.expectEmit(true, true, false, true);
        emit RegistryCore.SequencerRegistered(1, operator, signer, recipient, 1000, 10 ether, 6);
        uint32 id = _register();
        assertEq(uint256(id), 1);
        assertEq(registry.bondAt(id, 5), 0, "no bond in the epoch of registration");
        assertEq(registry.bondAt(id, 6), 10 ether);
        assertEq(registry.bondAt(id, 60), 10 ether);
        assertEq(registry.totalBonded(), 10 ether);
        assertEq(registry.candidates().length, 1);
        assertEq(uint256(registry.sequencerOfSigner(signer)), 1);
    }

    function test_register_revertPaths() public {
        vm.startPrank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(RegistryCore.BondOutOfRange.selector, 0.5 ether, 1 ether, 100 ether)
        );
        registry.register{value: 0.5 ether}(signer, recipient, 0);
        vm.expectRevert(
            abi.encodeWithSelector(RegistryCore.BondOutOfRange.selector, 101 ether, 1 ether, 100 ether)
        );
        registry.register{value: 101 ether}(signer, recipient, 0);
        vm.expectRevert(RegistryCore.ZeroAddress.selector);
        registry.register{value: 1 ether}(address(0), recipient, 0);
        vm.expectRevert(RegistryCore.ZeroAddress.selector);
        registry.register{value: 1 ether}(signer, address(0), 0);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.CommissionTooHigh.selector, 2001, 2000));
        registry.register{value: 1 ether}(signer, recipient, 2001);
        registry.register{value: 1 ether}(signer, recipient, 0);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.OperatorAlreadyRegistered.selector, operator, 1));
        registry.register{value: 1 ether}(address(0x999), recipient, 0);
        vm.stopPrank();

        vm.deal(address(0xB), 10 ether);
        vm.prank(address(0xB));
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.SignerInUse.selector, signer, 1));
        registry.register{value: 1 ether}(signer, recipient, 0);
    }

    function test_register_capsCandidates() public {
        for (uint160 i = 1; i <= 8; i++) {
            vm.deal(address(0x1000 + i), 1 ether);
            vm.prank(address(0x1000 + i));
            registry.register{value: 1 ether}(address(0x2000 + i), recipient, 0);
        }
        vm.deal(address(0x1009), 1 ether);
        vm.prank(address(0x1009));
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.TooManyCandidates.selector, 8));
        registry.register{value: 1 ether}(address(0x2009), recipient, 0);
    }

    function test_rotateSigner() public {
        uint32 id = _register();
        vm.prank(operator);
        registry.rotateSigner(id, address(0x5162));
        assertEq(registry.sequencer(id).signer, address(0x5162));
        assertEq(uint256(registry.sequencerOfSigner(signer)), 0);
        assertEq(uint256(registry.sequencerOfSigner(address(0x5162))), 1);

        vm.expectRevert(abi.encodeWithSelector(RegistryCore.NotOperator.selector, id, address(this)));
        registry.rotateSigner(id, address(0x5163));
        vm.startPrank(operator);
        vm.expectRevert(RegistryCore.ZeroAddress.selector);
        registry.rotateSigner(id, address(0));
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.SignerInUse.selector, address(0x5162), 1));
        registry.rotateSigner(id, address(0x5162));
        vm.stopPrank();
    }

    function test_setRewardRecipient() public {
        uint32 id = _register();
        vm.prank(operator);
        registry.setRewardRecipient(id, address(0x7));
        assertEq(registry.sequencer(id).rewardRecipient, address(0x7));
        vm.prank(operator);
        vm.expectRevert(RegistryCore.ZeroAddress.selector);
        registry.setRewardRecipient(id, address(0));
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.NotOperator.selector, id, address(this)));
        registry.setRewardRecipient(id, address(0x8));
    }

    function test_commission_changesFromTheNextEpochWithinBounds() public {
        uint32 id = _register(); // 1000 bps
        vm.expectEmit(true, false, false, true);
        emit RegistryCore.CommissionChangeScheduled(id, 1000, 1500, 6);
        vm.prank(operator);
        registry.setCommission(id, 1500);
        assertEq(uint256(registry.commissionAt(id, 5)), 1000);
        assertEq(uint256(registry.commissionAt(id, 6)), 1500);

        // Rescheduling in the same epoch is bounded by the commission in force now (1000).
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(RegistryCore.CommissionChangeTooLarge.selector, 1000, 1501, 500)
        );
        registry.setCommission(id, 1501);

        vm.warp(GENESIS + 6 * EPOCH);
        vm.prank(operator);
        registry.setCommission(id, 2000);
        assertEq(uint256(registry.commissionAt(id, 6)), 1500);
        assertEq(uint256(registry.commissionAt(id, 7)), 2000);

        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.CommissionTooHigh.selector, 2001, 2000));
        registry.setCommission(id, 2001);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.NotOperator.selector, id, address(this)));
        registry.setCommission(id, 1000);
    }

    function testFuzz_commission_neverMovesMoreThanTheBound(uint16 target) public {
        uint32 id = _register();
        target = uint16(bound(target, 0, 2000));
        vm.prank(operator);
        if (target > 1500 || target < 500) {
            vm.expectRevert();
            registry.setCommission(id, target);
            assertEq(uint256(registry.commissionAt(id, 6)), 1000);
        } else {
            registry.setCommission(id, target);
            assertEq(uint256(registry.commissionAt(id, 6)), target);
        }
    }

    function test_addBond_checkpointsOncePerEpoch() public {
        uint32 id = _register();
        vm.startPrank(operator);
        registry.addBond{value: 5 ether}(id);
        registry.addBond{value: 5 ether}(id);
        vm.stopPrank();
        assertEq(registry.bondAt(id, 6), 20 ether);
        vm.warp(GENESIS + 7 * EPOCH);
        vm.prank(operator);
        registry.addBond{value: 1 ether}(id);
        assertEq(registry.bondAt(id, 7), 20 ether, "this epoch keeps its stake");
        assertEq(registry.bondAt(id, 8), 21 ether);
        assertEq(registry.totalBonded(), 21 ether);

        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(RegistryCore.BondOutOfRange.selector, 21 ether, 1 ether, 100 ether)
        );
        registry.addBond{value: 0}(id);
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(RegistryCore.BondOutOfRange.selector, 101 ether, 1 ether, 100 ether)
        );
        registry.addBond{value: 80 ether}(id);
    }

    function test_exit_thenWithdrawAfterUnbonding() public {
        uint32 id = _register();
        vm.prank(operator);
        registry.exit(id); // epoch 5: bond leaves from epoch 6, completes at 12
        assertEq(registry.bondAt(id, 6), 0);
        assertEq(uint256(registry.sequencer(id).exitCompletionEpoch), 12);

        vm.warp(GENESIS + 11 * EPOCH);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.StillUnbonding.selector, id, 12, 11));
        registry.withdrawBond(id, operator);

        vm.warp(GENESIS + 12 * EPOCH);
        uint256 before = operator.balance;
        vm.prank(operator);
        registry.withdrawBond(id, operator);
        assertEq(operator.balance - before, 10 ether);
        assertEq(registry.totalBonded(), 0);
        assertEq(registry.candidates().length, 0);
        assertEq(uint256(uint8(registry.sequencer(id).status)), uint256(uint8(RegistryCore.Status.Exited)));

        vm.startPrank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(RegistryCore.WrongStatus.selector, id, RegistryCore.Status.Exited)
        );
        registry.withdrawBond(id, operator);
        vm.expectRevert(
            abi.encodeWithSelector(RegistryCore.WrongStatus.selector, id, RegistryCore.Status.Exited)
        );
        registry.exit(id);
        vm.expectRevert(
            abi.encodeWithSelector(RegistryCore.WrongStatus.selector, id, RegistryCore.Status.Exited)
        );
        registry.addBond{value: 1 ether}(id);
        vm.expectRevert(
            abi.encodeWithSelector(RegistryCore.WrongStatus.selector, id, RegistryCore.Status.Exited)
        );
        registry.setCommission(id, 1000);
        vm.expectRevert(
            abi.encodeWithSelector(RegistryCore.WrongStatus.selector, id, RegistryCore.Status.Exited)
        );
        registry.rotateSigner(id, address(0x5999));
        vm.stopPrank();
    }

    function test_withdrawBond_revertPaths() public {
        uint32 id = _register();
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(RegistryCore.WrongStatus.selector, id, RegistryCore.Status.Registered)
        );
        registry.withdrawBond(id, operator);
        vm.prank(operator);
        registry.exit(id);
        vm.warp(GENESIS + 12 * EPOCH);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.NotOperator.selector, id, address(this)));
        registry.withdrawBond(id, address(this));
        vm.startPrank(operator);
        vm.expectRevert(RegistryCore.ZeroAddress.selector);
        registry.withdrawBond(id, address(0));
        Refuser refuser = new Refuser();
        vm.expectRevert(
            abi.encodeWithSelector(RegistryCore.TransferFailed.selector, address(refuser), 10 ether)
        );
        registry.withdrawBond(id, address(refuser));
        vm.stopPrank();
        assertEq(registry.totalBonded(), 10 ether, "a failed withdrawal changes nothing");
    }

    function test_internalAccountingIgnoresForcedValue() public {
        _register();
        vm.deal(address(registry), address(registry).balance + 3 ether);
        assertEq(registry.totalBonded(), 10 ether);
        assertGe(address(registry).balance, registry.totalBonded());
    }
}
