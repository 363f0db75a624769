// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {LiquidFixture} from "./utils/LiquidFixture.sol";
import {WithdrawalQueue} from "../src/WithdrawalQueue.sol";
import {RewardMath} from "../src/libraries/RewardMath.sol";

/// Review finding 7: with a stale oracle anyone finalizes, and a batch whose two ends lie below
/// the finalization rate while a ticket inside it was requested above it (rewards, a slash,
/// rewards) locked the sum of values at request, more than its tickets can claim; the excess
/// stayed in the queue for good. Batches now lie within one run of non-falling rates at request.
contract WithdrawalQueueRunsTest is LiquidFixture {
    address internal alice = address(0xA1);
    address internal anyone = address(0xBAD);

    function setUp() public {
        _setUpLiquid();
        _registerAs(address(0x100), 10 ether, 1000);
        _registerAs(address(0x101), 10 ether, 1000);
        uint32[] memory set = new uint32[](2);
        (set[0], set[1]) = (1, 2);
        vm.prank(reporter);
        registry.updateActiveSet(set);
        _depositAs(alice, 60 ether);
        uint32[] memory ids = new uint32[](2);
        (ids[0], ids[1]) = (1, 2);
        uint256[] memory amounts = new uint256[](2);
        (amounts[0], amounts[1]) = (20 ether, 20 ether);
        vm.prank(reporter);
        token.delegateBuffer(ids, amounts); // 20 + 20 staked, 20 buffered
        vm.prank(alice);
        token.approve(address(queue), type(uint256).max);
    }

    function _harvest() internal {
        uint32[] memory ids = new uint32[](2);
        (ids[0], ids[1]) = (1, 2);
        vm.prank(reporter);
        token.harvest(ids, type(uint256).max);
    }

    /// Tickets at r0, then (rewards) r1 > r0, then (a slash) r2 < r1; more rewards leave the
    /// finalization rate between r0 and r1, so the middle ticket is the only one above it.
    function _threeTicketsAcrossASlash() internal returns (uint256 t1, uint256 t2, uint256 t3) {
        _warpToEpoch(6);
        t1 = _requestAs(alice, 6000 ether);
        _warpToEpoch(7);
        _payEach(2, 6, 4 ether);
        _harvest();
        t2 = _requestAs(alice, 6000 ether);
        vm.prank(slasher);
        registry.slash(1, 6, 5000);
        t3 = _requestAs(alice, 6000 ether);
        _warpToEpoch(8);
        _payEach(2, 7, 2 ether);
        _harvest();
        _warpToEpoch(8 + 24);
        assertTrue(token.isStale(), "stale: anyone finalizes");
    }

    function _ends(uint256 a) internal pure returns (uint256[] memory e) {
        e = new uint256[](1);
        e[0] = a;
    }

    function test_staleFinalize_refusesABatchAcrossAFallOfTheRateAtRequest() public {
        (uint256 t1, uint256 t2, uint256 t3) = _threeTicketsAcrossASlash();
        uint256 rate = token.finalizationRate();
        (uint256 s2,,) = queue.request(t2);
        (, uint256 a1,) = queue.request(t1);
        (, uint256 a2,) = queue.request(t2);
        (, uint256 a3,) = queue.request(t3);
        assertGt(a2, s2 * rate / RewardMath.RAY, "t2 was requested above the rate");

        // One batch t1..t3 (ends below the rate, the middle above) locked more than it pays.
        vm.prank(anyone);
        vm.expectRevert(abi.encodeWithSelector(WithdrawalQueue.MixedBatch.selector, 0));
        queue.finalize(_ends(t3));
        // Within the first run, t1..t2 mixes sides.
        uint256[] memory two = new uint256[](2);
        (two[0], two[1]) = (t2, t3);
        vm.prank(anyone);
        vm.expectRevert(abi.encodeWithSelector(WithdrawalQueue.MixedBatch.selector, 0));
        queue.finalize(two);

        // Cut right, each batch locks what its tickets claim.
        uint256[] memory split = new uint256[](3);
        (split[0], split[1], split[2]) = (t1, t2, t3);
        // t1 and t3 their value at request, t2 its shares at the finalization rate.
        uint256 claims = a1 + s2 * rate / RewardMath.RAY + a3;
        vm.prank(anyone);
        assertEq(queue.finalize(split), claims, "locked: the claims");
        uint256[] memory hints = new uint256[](3);
        uint256 before = alice.balance;
        vm.prank(alice);
        queue.claimWithdrawals(split, hints, alice);
        assertEq(alice.balance - before, claims, "paid: the claims");
        assertEq(queue.lockedAssets(), 0, "nothing stranded in the books");
        assertEq(address(queue).balance, 0, "nothing stranded in the balance");
    }

    /// Tickets in one run whose rates at request rise finalize in one batch when all lie on one
    /// side of the rate.
    function test_finalize_oneBatchPerRunAndSide() public {
        (uint256 t1, uint256 t2, uint256 t3) = _threeTicketsAcrossASlash();
        (uint256 k1, uint256 run1) = queue.rateAtRequest(t1);
        (uint256 k2, uint256 run2) = queue.rateAtRequest(t2);
        (uint256 k3, uint256 run3) = queue.rateAtRequest(t3);
        uint256 rate = token.finalizationRate();
        assertLe(k1, rate, "t1 below");
        assertGt(k2, rate, "t2 above");
        assertLe(k3, rate, "t3 below");
        assertEq(run1, 0);
        assertEq(run2, 0, "rates rose: the same run");
        assertEq(run3, 1, "the slash lowered the rate: a new run");
        vm.prank(anyone);
        queue.finalize(_ends(t1));
        uint256[] memory rest = new uint256[](2);
        (rest[0], rest[1]) = (t2, t3);
        vm.prank(anyone);
        queue.finalize(rest);
        assertEq(queue.lastFinalizedId(), 3);
    }
}
