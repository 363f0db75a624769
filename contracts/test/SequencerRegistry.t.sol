// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Test} from "./utils/Test.sol";
import {Refuser} from "./utils/Refuser.sol";
import {SequencerRegistry} from "../src/SequencerRegistry.sol";

contract SequencerRegistryTest is Test {
    SequencerRegistry internal registry;
    address internal admin = address(0xA11CE);
    address internal operator = address(0x0BE);
    address internal signer = address(0x516);
    address internal recipient = address(0x12EC);
    uint64 internal constant GENESIS = 1_000_000;
    uint64 internal constant EPOCH = 100;

    function _params() internal pure returns (SequencerRegistry.Params memory) {
        return SequencerRegistry.Params({
            genesisTime: GENESIS,
            epochLength: EPOCH,
            minBond: 1 ether,
            maxBond: 100 ether,
            maxCommissionBps: 2000,
            maxCommissionChangeBps: 500,
            maxCandidates: 3,
            unbondingEpochs: 6
        });
    }

    function setUp() public {
        vm.warp(GENESIS + 5 * EPOCH + 1); // epoch 5
        registry = new SequencerRegistry(_params(), admin);
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
        vm.expectRevert(abi.encodeWithSelector(SequencerRegistry.BeforeGenesis.selector, GENESIS));
        registry.currentEpoch();
    }

    function test_constructor_refusesBadParameters() public {
        SequencerRegistry.Params memory p = _params();
        p.minBond = 101 ether;
        vm.expectRevert(abi.encodeWithSelector(SequencerRegistry.InvalidParameter.selector, "minBond"));
        new SequencerRegistry(p, admin);
        p = _params();
        p.epochLength = 0;
        vm.expectRevert(abi.encodeWithSelector(SequencerRegistry.InvalidParameter.selector, "epochLength"));
        new SequencerRegistry(p, admin);
        p = _params();
        p.maxCommissionChangeBps = 2001;
        vm.expectRevert(
            abi.encodeWithSelector(SequencerRegistry.InvalidParameter.selector, "maxCommissionChangeBps")
        );
        new SequencerRegistry(p, admin);
        p = _params();
        p.maxCommissionBps = 10_001;
        vm.expectRevert(
            abi.encodeWithSelector(SequencerRegistry.InvalidParameter.selector, "maxCommissionBps")
        );
        new SequencerRegistry(p, admin);
        p = _params();
        p.maxCandidates = 0;
        vm.expectRevert(abi.encodeWithSelector(SequencerRegistry.InvalidParameter.selector, "maxCandidates"));
        new SequencerRegistry(p, admin);
        p = _params();
        p.unbondingEpochs = 0;
        vm.expectRevert(
            abi.encodeWithSelector(SequencerRegistry.InvalidParameter.selector, "unbondingEpochs")
        );
        new SequencerRegistry(p, admin);
        vm.expectRevert(SequencerRegistry.ZeroAddress.selector);
        new SequencerRegistry(_params(), address(0));
    }

    function test_register_bondCountsFromTheNextEpoch() public {
        vm.expectEmit(true, true, false, true);
        emit SequencerRegistry.SequencerRegistered(1, operator, signer, recipient, 1000, 10 ether, 6);
        uint32 id = _register();
        assertEq(uint256(id), 1);
        assertEq(registry.bondAt(id, 5), 0, "no bond in the epoch of registration");
        assertEq(registry.bondAt(id, 6), 10 ether);
        assertEq(registry.bondAt(id, 60), 10 ether);
        assertEq(registry.totalBonded(), 10 ether);
        assertEq(uint256(registry.candidateCount()), 1);
        assertEq(uint256(registry.sequencerOfSigner(signer)), 1);
    }

    function test_register_revertPaths() public {
        vm.startPrank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(SequencerRegistry.BondOutOfRange.selector, 0.5 ether, 1 ether, 100 ether)
        );
        registry.register{value: 0.5 ether}(signer, recipient, 0);
        vm.expectRevert(
            abi.encodeWithSelector(SequencerRegistry.BondOutOfRange.selector, 101 ether, 1 ether, 100 ether)
        );
        registry.register{value: 101 ether}(signer, recipient, 0);
        vm.expectRevert(SequencerRegistry.ZeroAddress.selector);
        registry.register{value: 1 ether}(address(0), recipient, 0);
        vm.expectRevert(SequencerRegistry.ZeroAddress.selector);
        registry.register{value: 1 ether}(signer, address(0), 0);
        vm.expectRevert(abi.encodeWithSelector(SequencerRegistry.CommissionTooHigh.selector, 2001, 2000));
        registry.register{value: 1 ether}(signer, recipient, 2001);
        registry.register{value: 1 ether}(signer, recipient, 0);
        vm.expectRevert(
            abi.encodeWithSelector(SequencerRegistry.OperatorAlreadyRegistered.selector, operator, 1)
        );
        registry.register{value: 1 ether}(address(0x999), recipient, 0);
        vm.stopPrank();

        vm.deal(address(0xB), 10 ether);
        vm.prank(address(0xB));
        vm.expectRevert(abi.encodeWithSelector(SequencerRegistry.SignerInUse.selector, signer, 1));
        registry.register{value: 1 ether}(signer, recipient, 0);
    }

    function test_register_capsCandidates() public {
        for (uint160 i = 1; i <= 3; i++) {
            vm.deal(address(0x1000 + i), 1 ether);
            vm.prank(address(0x1000 + i));
            registry.register{value: 1 ether}(address(0x2000 + i), recipient, 0);
        }
        vm.deal(address(0x1004), 1 ether);
        vm.prank(address(0x1004));
        vm.expectRevert(abi.encodeWithSelector(SequencerRegistry.TooManyCandidates.selector, 3));
        registry.register{value: 1 ether}(address(0x2004), recipient, 0);
    }

    function test_rotateSigner() public {
        uint32 id = _register();
        vm.prank(operator);
        registry.rotateSigner(id, address(0x5162));
        assertEq(registry.sequencer(id).signer, address(0x5162));
        assertEq(uint256(registry.sequencerOfSigner(signer)), 0);
        assertEq(uint256(registry.sequencerOfSigner(address(0x5162))), 1);

        vm.expectRevert(abi.encodeWithSelector(SequencerRegistry.NotOperator.selector, id, address(this)));
        registry.rotateSigner(id, address(0x5163));
        vm.startPrank(operator);
        vm.expectRevert(SequencerRegistry.ZeroAddress.selector);
        registry.rotateSigner(id, address(0));
        vm.expectRevert(abi.encodeWithSelector(SequencerRegistry.SignerInUse.selector, address(0x5162), 1));
        registry.rotateSigner(id, address(0x5162));
        vm.stopPrank();
    }

    function test_setRewardRecipient() public {
        uint32 id = _register();
        vm.prank(operator);
        registry.setRewardRecipient(id, address(0x7));
        assertEq(registry.sequencer(id).rewardRecipient, address(0x7));
        vm.prank(operator);
        vm.expectRevert(SequencerRegistry.ZeroAddress.selector);
        registry.setRewardRecipient(id, address(0));
        vm.expectRevert(abi.encodeWithSelector(SequencerRegistry.NotOperator.selector, id, address(this)));
        registry.setRewardRecipient(id, address(0x8));
    }

    function test_commission_changesFromTheNextEpochWithinBounds() public {
        uint32 id = _register(); // 1000 bps
        vm.expectEmit(true, false, false, true);
        emit SequencerRegistry.CommissionChangeScheduled(id, 1000, 1500, 6);
        vm.prank(operator);
        registry.setCommission(id, 1500);
        assertEq(uint256(registry.commissionAt(id, 5)), 1000);
        assertEq(uint256(registry.commissionAt(id, 6)), 1500);

        // Rescheduling in the same epoch is bounded by the commission in force now (1000).
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(SequencerRegistry.CommissionChangeTooLarge.selector, 1000, 1501, 500)
        );
        registry.setCommission(id, 1501);

        vm.warp(GENESIS + 6 * EPOCH);
        vm.prank(operator);
        registry.setCommission(id, 2000);
        assertEq(uint256(registry.commissionAt(id, 6)), 1500);
        assertEq(uint256(registry.commissionAt(id, 7)), 2000);

        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(SequencerRegistry.CommissionTooHigh.selector, 2001, 2000));
        registry.setCommission(id, 2001);
        vm.expectRevert(abi.encodeWithSelector(SequencerRegistry.NotOperator.selector, id, address(this)));
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
            abi.encodeWithSelector(SequencerRegistry.BondOutOfRange.selector, 21 ether, 1 ether, 100 ether)
        );
        registry.addBond{value: 0}(id);
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(SequencerRegistry.BondOutOfRange.selector, 101 ether, 1 ether, 100 ether)
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
        vm.expectRevert(abi.encodeWithSelector(SequencerRegistry.StillUnbonding.selector, id, 12, 11));
        registry.withdrawBond(id, operator);

        vm.warp(GENESIS + 12 * EPOCH);
        uint256 before = operator.balance;
        vm.prank(operator);
        registry.withdrawBond(id, operator);
        assertEq(operator.balance - before, 10 ether);
        assertEq(registry.totalBonded(), 0);
        assertEq(uint256(registry.candidateCount()), 0);
        assertEq(
            uint256(uint8(registry.sequencer(id).status)), uint256(uint8(SequencerRegistry.Status.Exited))
        );

        vm.startPrank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(
                SequencerRegistry.WrongStatus.selector, id, SequencerRegistry.Status.Exited
            )
        );
        registry.withdrawBond(id, operator);
        vm.expectRevert(
            abi.encodeWithSelector(
                SequencerRegistry.WrongStatus.selector, id, SequencerRegistry.Status.Exited
            )
        );
        registry.exit(id);
        vm.expectRevert(
            abi.encodeWithSelector(
                SequencerRegistry.WrongStatus.selector, id, SequencerRegistry.Status.Exited
            )
        );
        registry.addBond{value: 1 ether}(id);
        vm.expectRevert(
            abi.encodeWithSelector(
                SequencerRegistry.WrongStatus.selector, id, SequencerRegistry.Status.Exited
            )
        );
        registry.setCommission(id, 1000);
        vm.expectRevert(
            abi.encodeWithSelector(
                SequencerRegistry.WrongStatus.selector, id, SequencerRegistry.Status.Exited
            )
        );
        registry.rotateSigner(id, address(0x5999));
        vm.stopPrank();
    }

    function test_withdrawBond_revertPaths() public {
        uint32 id = _register();
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(
                SequencerRegistry.WrongStatus.selector, id, SequencerRegistry.Status.Registered
            )
        );
        registry.withdrawBond(id, operator);
        vm.prank(operator);
        registry.exit(id);
        vm.warp(GENESIS + 12 * EPOCH);
        vm.expectRevert(abi.encodeWithSelector(SequencerRegistry.NotOperator.selector, id, address(this)));
        registry.withdrawBond(id, address(this));
        vm.startPrank(operator);
        vm.expectRevert(SequencerRegistry.ZeroAddress.selector);
        registry.withdrawBond(id, address(0));
        Refuser refuser = new Refuser();
        vm.expectRevert(
            abi.encodeWithSelector(SequencerRegistry.TransferFailed.selector, address(refuser), 10 ether)
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
