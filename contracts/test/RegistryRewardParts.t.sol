// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {RegistryFixture} from "./utils/RegistryFixture.sol";
import {SequencerRegistry} from "../src/SequencerRegistry.sol";
import {RegistryCore} from "../src/registry/RegistryCore.sol";
import {Refuser} from "./utils/Refuser.sol";

/// Paying a report's sequencers in parts (for reports too large for one transaction) leaves
/// every pool, operator and delegator exactly as one payment of the whole range would, also
/// when delegators act between the parts; parts keep increasing ids and one range. Claiming
/// several pools at once pays what claiming each would.
contract RegistryRewardPartsTest is RegistryFixture {
    address internal alice = address(0xA1);
    address internal bob = address(0xB0);
    uint32 internal constant N = 4;

    function setUp() public {
        _setUpRegistry(); // epoch 5
        for (uint256 i; i < N; ++i) {
            _registerAs(address(uint160(0x100 + i)), 10 ether, uint16(500 + 100 * i));
        }
        // Delegations whose changes fall inside the paid range (epochs 6..8).
        _delegateAs(alice, 1, 5 ether);
        _delegateAs(bob, 3, 7 ether);
        _warpToEpoch(6);
        _delegateAs(alice, 1, 2 ether);
        _delegateAs(bob, 4, 1 ether);
        _warpToEpoch(7);
        vm.prank(alice);
        registry.undelegate(1, 1000 ether);
        _delegateAs(bob, 3, 3 ether);
        _warpToEpoch(9);
    }

    /// With zero tails, sequencers 1 and 3 earn nothing in epochs 7 and 8 (their pools' credited
    /// end then lags the range).
    bool internal zeroTails;

    /// Rewards for sequencers `from..=to` (1-based), epochs 5..8.
    function _rewards(uint32 from, uint32 to)
        internal
        view
        returns (SequencerRegistry.SequencerRewards[] memory r, uint256 total)
    {
        r = new SequencerRegistry.SequencerRewards[](to - from + 1);
        for (uint32 id = from; id <= to; ++id) {
            SequencerRegistry.SequencerRewards memory s = r[id - from];
            s.id = id;
            s.amounts = new uint256[](4);
            for (uint256 k; k < 4; ++k) {
                s.amounts[k] = zeroTails && id % 2 == 1 && k >= 2 ? 0 : 1 ether / (id + k) + 13 * k;
                total += s.amounts[k];
            }
        }
    }

    function _part(uint32 from, uint32 to, bool complete) internal {
        (SequencerRegistry.SequencerRewards[] memory r, uint256 total) = _rewards(from, to);
        vm.deal(reporter, reporter.balance + total);
        vm.prank(reporter);
        registry.distributeRewardsPart{value: total}(5, 8, r, complete);
    }

    /// Everything a payment leaves behind, per sequencer and delegator.
    function _state() internal view returns (bytes32) {
        bytes memory all;
        for (uint32 id = 1; id <= N; ++id) {
            RegistryCore.Pool memory p = registry.pool(id);
            all = abi.encode(all, p.acc, p.dust, p.tokens, p.shares, registry.operatorRewards(id));
            (uint256 a1, uint256 a2, uint256 a3,) = registry.delegation(id, alice);
            (uint256 b1, uint256 b2, uint256 b3,) = registry.delegation(id, bob);
            all = abi.encode(all, a1, a2, a3, b1, b2, b3);
        }
        (uint256 ps, uint256 pr,) = registry.redelegation(bob, 3, 4, 9);
        (uint256 qs, uint256 qr,) = registry.redelegation(alice, 2, 1, 9);
        return keccak256(abi.encode(all, ps, pr, qs, qr, registry.nextRewardEpoch(), registry.totalOwed()));
    }

    /// Alice claims in pool 1 and bob adds to pool 3: between parts when `between`.
    function _actions() internal {
        vm.prank(alice);
        registry.claimRewards(1, alice);
        _delegateAs(bob, 3, 1 ether);
    }

    function test_partsLeaveWhatOnePaymentLeaves() public {
        uint256 snapshot = vm.snapshotState();
        _part(1, N, true); // one payment
        bytes32 whole = _state();
        _actions();
        bytes32 wholeAfter = _state();
        uint256 alicePaid = alice.balance;
        vm.revertToState(snapshot);

        _part(1, 1, false);
        assertEq(uint256(registry.nextRewardEpoch()), 5, "the range stays open");
        _part(2, 3, false);
        _part(4, N, true);
        assertEq(_state(), whole, "three parts == one payment");
        assertEq(uint256(registry.nextRewardEpoch()), 9);
        (bool open,,) = registry.rewardPart();
        assertFalse(open);

        vm.revertToState(snapshot);
        _part(1, 3, false);
        _actions(); // pool 1 and pool 3 already paid for the range, pool 4 not yet
        _part(4, N, true);
        assertEq(_state(), wholeAfter, "actions between parts == actions after one payment");
        assertEq(alice.balance, alicePaid, "the claim between parts paid the whole range");
    }

    function test_partsRevertPaths() public {
        _part(1, 2, false);
        (SequencerRegistry.SequencerRewards[] memory r, uint256 total) = _rewards(2, 3);
        vm.deal(reporter, total);
        vm.prank(reporter);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.MalformedRewards.selector, 0));
        registry.distributeRewardsPart{value: total}(5, 8, r, true); // id 2 was paid
        (r,) = _rewards(3, 3);
        r[0].amounts = new uint256[](3);
        vm.prank(reporter);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.WrongRewardEpochs.selector, 5, 7, 5, 9));
        registry.distributeRewardsPart(5, 7, r, true); // another range while one is open
        vm.expectRevert(
            abi.encodeWithSignature(
                "AccessControlUnauthorizedAccount(address,bytes32)", address(this), registry.REPORTER_ROLE()
            )
        );
        registry.distributeRewardsPart(5, 8, r, true);
        (bool open, uint64 last, uint32 lastId) = registry.rewardPart();
        assertTrue(open);
        assertEq(uint256(last), 8);
        assertEq(uint256(lastId), 2);
        _part(3, N, true);
        assertEq(uint256(registry.nextRewardEpoch()), 9);
    }

    function test_claimRewardsManyPaysWhatSeparateClaimsPay() public {
        _part(1, N, true);
        uint32[] memory ids = new uint32[](N);
        for (uint32 id = 1; id <= N; ++id) {
            ids[id - 1] = id;
        }
        uint256 snapshot = vm.snapshotState();
        uint256 separately;
        for (uint32 id = 1; id <= N; ++id) {
            (,, uint256 due,) = registry.delegation(id, bob);
            if (due == 0) continue; // bob holds nothing in pools 1 and 2
            vm.prank(bob);
            separately += registry.claimRewards(id, address(0xB0B));
        }
        bytes32 after_ = _state();
        vm.revertToState(snapshot);
        vm.prank(bob);
        assertEq(registry.claimRewardsMany(ids, address(0xB0B)), separately, "the same total");
        assertEq(address(0xB0B).balance, separately, "in one transfer");
        assertEq(_state(), after_, "the same books");
        assertGt(separately, 0, "bob earned");
        vm.prank(bob);
        assertEq(registry.claimRewardsMany(ids, address(0xB0B)), 0, "nothing left: no revert, nothing sent");
        vm.prank(alice);
        vm.expectRevert(RegistryCore.ZeroAddress.selector);
        registry.claimRewardsMany(ids, address(0));
        Refuser refuser = new Refuser();
        (,, uint256 aliceDue,) = registry.delegation(1, alice);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(RegistryCore.TransferFailed.selector, address(refuser), aliceDue)
        );
        registry.claimRewardsMany(ids, address(refuser));
    }

    /// Everything a delegator can do between parts, into and out of pools already paid for the
    /// range and pools not yet paid, with pools that earned nothing at the end of the range.
    function _everyAction() internal {
        vm.prank(alice);
        registry.claimRewards(1, alice); // paid pool
        (uint256 bobIn3,,,) = registry.delegation(3, bob);
        vm.prank(bob);
        registry.redelegate(3, 4, bobIn3 / 2); // out of a paid pool into an unpaid one
        _delegateAs(alice, 2, 1 ether);
        vm.prank(alice);
        registry.redelegate(2, 1, 1000 ether); // out of an unpaid pool into a paid one
        vm.prank(bob);
        registry.undelegate(4, 1000 ether); // an unpaid pool
        vm.prank(slasher);
        registry.slash(3, 8, 300); // a paid pool, the range's last epoch
    }

    function test_partsWithZeroTailsAndEveryActionBetween() public {
        zeroTails = true;
        // A change in the range's last epoch too.
        vm.warp(vm.getBlockTimestamp() - EPOCH);
        _delegateAs(alice, 3, 2 ether);
        _warpToEpoch(9);
        uint256 snapshot = vm.snapshotState();
        _part(1, N, true);
        _everyAction();
        bytes32 whole = _state();
        vm.revertToState(snapshot);
        _part(1, 3, false);
        assertLt(registry.pool(1).creditedEnd, 9, "pool 1 earned nothing at the end: its credited end lags");
        _everyAction();
        _part(4, N, true);
        assertEq(_state(), whole, "every action between parts == after one payment");
    }
}

/// A pool that earned nothing while its delegators acted queues one change per epoch, which
/// its next crediting records all at once: anyone may record them ahead of it in bounded calls
/// (`recordChanges`), which leaves every account exactly as the crediting would and leaves the
/// crediting, a report's payment part, less to do.
contract RegistryChangeBacklogTest is RegistryFixture {
    address internal alice = address(0xA1);
    address internal bob = address(0xB0);

    function setUp() public {
        _setUpRegistry(); // epoch 5
        _registerAs(address(0x100), 10 ether, 500); // pool 1: earns nothing until epoch 46
        _registerAs(address(0x200), 10 ether, 500); // pool 2: earns every epoch
        _delegateAs(alice, 1, 5 ether);
        for (uint64 epoch = 6; epoch < 46; ++epoch) {
            _warpToEpoch(epoch);
            _delegateAs(epoch % 2 == 0 ? alice : bob, 1, 1 ether);
            _payEach(2, epoch - 1, 1 ether);
        }
        _warpToEpoch(47);
        _payEach(2, 45, 1 ether);
    }

    function _state() internal view returns (bytes32) {
        RegistryCore.Pool memory p = registry.pool(1);
        (uint256 a1, uint256 a2, uint256 a3,) = registry.delegation(1, alice);
        (uint256 b1, uint256 b2, uint256 b3,) = registry.delegation(1, bob);
        return keccak256(
            abi.encode(p.acc, p.dust, p.tokens, p.shares, registry.operatorRewards(1), a1, a2, a3, b1, b2, b3)
        );
    }

    function test_recordedChangesLeaveWhatTheCreditingWould() public {
        uint256 snapshot = vm.snapshotState();
        uint256 direct = gasleft();
        _payEach(1, 46, 1 ether);
        direct -= gasleft();
        bytes32 expected = _state();
        vm.revertToState(snapshot);

        // 41 changes queued (epochs 5..45), recorded by anyone in bounded calls.
        vm.startPrank(address(0xCAFE));
        assertEq(registry.recordChanges(1, 16), 16);
        assertEq(registry.recordChanges(1, 100), 25);
        assertEq(registry.recordChanges(1, 100), 0, "none left in paid epochs");
        vm.stopPrank();
        uint256 afterRecording = gasleft();
        _payEach(1, 46, 1 ether);
        afterRecording -= gasleft();
        assertEq(_state(), expected, "every account as the crediting alone leaves it");
        assertLt(afterRecording + 41 * 2000, direct, "the crediting walks none of them");

        vm.expectRevert(abi.encodeWithSelector(RegistryCore.UnknownSequencer.selector, 3));
        registry.recordChanges(3, 1);
    }

    /// A change in an epoch not paid yet waits for the crediting.
    function test_changesInUnpaidEpochsWait() public {
        _delegateAs(alice, 1, 1 ether); // epoch 47, not paid
        registry.recordChanges(1, 100);
        assertEq(registry.recordChanges(1, 100), 0);
        RegistryCore.Pool memory p = registry.pool(1);
        assertEq(p.changesTail - p.changesHead, 1, "epoch 47's change waits");
    }
}
