// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {LiquidFixture} from "./utils/LiquidFixture.sol";
import {LiquidStakingToken} from "../src/LiquidStakingToken.sol";
import {SequencerRegistry} from "../src/SequencerRegistry.sol";
import {WithdrawalQueue} from "../src/WithdrawalQueue.sol";
import {LiquidRateFeed} from "../src/LiquidRateFeed.sol";
import {RewardMath} from "../src/libraries/RewardMath.sol";

/// The liquid token as a delegator in the real registry: bounded delegation of the buffer,
/// harvest with the pool fee, undelegation and matured buckets, slash losses told by the
/// registry, and what a slash does to tickets in the queue.
contract LiquidDelegationTest is LiquidFixture {
    address internal alice = address(0xA1);

    function _liquidParams() internal view override returns (LiquidStakingToken.Params memory p) {
        p = super._liquidParams();
        p.poolFeeBps = 1000;
        p.maxMovedPerEpoch = 100 ether;
    }

    function setUp() public {
        _setUpLiquid(); // epoch 5, timelock delay 700 = (6 + 1) epochs of 100 s
        _threeActiveSequencers();
        vm.deal(alice, 1000 ether);
        vm.prank(alice);
        token.deposit{value: 60 ether}(address(0));
    }

    function _harvest() internal returns (uint256) {
        uint32[] memory ids = new uint32[](3);
        (ids[0], ids[1], ids[2]) = (1, 2, 3);
        vm.prank(reporter);
        return token.harvest(ids, type(uint256).max);
    }

    function test_delegateBuffer_marksThePoolAtTheRegistrysValue() public {
        uint256 rate = token.shareRate();
        _delegate(1, 20 ether);
        assertEq(token.stakeOf(1), 20 ether, "a first delegation converts exactly");
        assertEq(token.stakedAssets(), 20 ether);
        assertEq(token.bufferedAssets(), 40 ether);
        assertEq(token.totalPooledAssets(), 60 ether);
        assertEq(token.shareRate(), rate);
        (uint256 shares,,,) = registry.delegation(1, address(token));
        assertEq(shares, 20 ether * 1000);
    }

    function test_delegateBuffer_isBoundedOnChain() public {
        uint32[] memory ids = new uint32[](1);
        uint256[] memory amounts = new uint256[](1);
        (ids[0], amounts[0]) = (1, 31 ether);
        vm.startPrank(reporter);
        vm.expectRevert(
            abi.encodeWithSelector(LiquidStakingToken.SequencerCapExceeded.selector, 1, 31 ether, 30 ether)
        );
        token.delegateBuffer(ids, amounts); // 50% of 60
        ids[0] = 4;
        vm.expectRevert(abi.encodeWithSelector(LiquidStakingToken.NotActive.selector, 4));
        token.delegateBuffer(ids, amounts);
        vm.expectRevert(LiquidStakingToken.LengthMismatch.selector);
        token.delegateBuffer(ids, new uint256[](0));
        (ids[0], amounts[0]) = (1, 61 ether);
        vm.expectRevert(
            abi.encodeWithSelector(LiquidStakingToken.InsufficientBuffer.selector, 61 ether, 60 ether)
        );
        token.delegateBuffer(ids, amounts);
        vm.stopPrank();
        vm.prank(alice);
        token.deposit{value: 200 ether}(address(0));
        _delegate(1, 60 ether);
        _delegate(2, 40 ether);
        (ids[0], amounts[0]) = (3, 1 ether);
        vm.prank(reporter);
        vm.expectRevert(
            abi.encodeWithSelector(LiquidStakingToken.MoveLimitExceeded.selector, 101 ether, 100 ether)
        );
        token.delegateBuffer(ids, amounts);
        _warpToEpoch(6); // a new epoch, a new budget
        _delegate(3, 1 ether);
        vm.expectRevert(
            abi.encodeWithSignature(
                "AccessControlUnauthorizedAccount(address,bytes32)", address(this), token.REPORTER_ROLE()
            )
        );
        token.delegateBuffer(ids, amounts);
    }

    function test_harvest_raisesTheRateAndTakesTheFeeInShares() public {
        _delegate(1, 30 ether);
        _warpToEpoch(7);
        _payEach(1, 6, 4 ether); // epochs 5 and 6: the token's pool part of epoch 6 and 5's dust
        uint256 rate = token.shareRate();
        (,, uint256 due,) = registry.delegation(1, address(token));
        assertGt(due, 0, "the token earned in epoch 6");
        uint256 supply = token.totalSupply();
        uint256 rewards = _harvest();
        assertEq(rewards, due);
        assertEq(token.bufferedAssets(), 30 ether + rewards);
        uint256 feeShares = token.balanceOf(treasury);
        assertEq(token.totalSupply(), supply + feeShares);
        assertLe(token.convertToAssets(feeShares), rewards / 10, "the treasury gets at most the 10% fee");
        assertGt(token.shareRate(), rate, "holders keep the rest");
    }

    /// The report's rate bound caps what a harvest adds to the pool: the token carries the rest
    /// outside the pooled assets, and the next harvest adds it first; the fee is taken on what
    /// joins.
    function test_harvest_carriesWhatThePoolMayNotTakeYet() public {
        _delegate(1, 30 ether);
        _warpToEpoch(7);
        _payEach(1, 6, 4 ether);
        (,, uint256 due,) = registry.delegation(1, address(token));
        // The cap on the holders' gain: 90% of a third of the rewards, so a third joins gross
        // of the 10% pool fee.
        uint256 cap = due / 3;
        uint32[] memory ids = new uint32[](1);
        ids[0] = 1;
        vm.prank(reporter);
        assertEq(token.harvest(ids, cap * 9000 / 10_000), due, "everything claimed");
        cap = (cap * 9000 / 10_000) * 10_000 / 9000;
        assertEq(token.bufferedAssets(), 30 ether + cap, "the cap joined");
        assertEq(token.carriedRewards(), due - cap);
        assertEq(address(token).balance, 30 ether + due, "the carried rewards are held");
        assertLe(token.convertToAssets(token.balanceOf(treasury)), cap / 10, "the fee on what joined");
        // Nothing new to claim: the carried rewards join at the next harvest, up to its cap.
        vm.prank(reporter);
        assertEq(token.harvest(ids, type(uint256).max), 0);
        assertEq(token.carriedRewards(), 0);
        assertEq(token.bufferedAssets(), 30 ether + due);
    }

    function test_slashLoss_lowersTheRateByTheReportedLoss() public {
        LiquidRateFeed feed = new LiquidRateFeed(token);
        _delegate(1, 30 ether);
        _warpToEpoch(6);
        uint256 rate = token.shareRate();
        (uint80 roundBefore,,,,) = feed.latestRoundData();
        // 50% of the stake at epoch 6 (10 bond + 30 pool) = 20: 10 from the bond, 10 from the pool.
        vm.prank(slasher);
        registry.slash(1, 6, 5000);
        assertEq(token.stakeOf(1), 20 ether, "the token held the whole pool");
        assertEq(token.stakedAssets(), 20 ether);
        assertLt(token.shareRate(), rate, "the rate fell by the loss");
        assertEq(token.totalPooledAssets(), 50 ether);
        (uint80 round,,, uint256 updatedAt,) = feed.latestRoundData();
        assertEq(uint256(round), uint256(roundBefore) + 1, "a slash is a new round of the feed");
        assertEq(updatedAt, vm.getBlockTimestamp());
        vm.expectRevert(abi.encodeWithSelector(LiquidStakingToken.NotRegistry.selector, address(this)));
        token.onStakeSlashed(1, 1, 0, 0);
    }

    function test_slashBetweenRequestAndFinalization_lowersTheTicket() public {
        _delegate(1, 30 ether);
        _warpToEpoch(6);
        vm.startPrank(alice);
        token.approve(address(queue), type(uint256).max);
        uint256 id = queue.requestWithdrawal(6000 ether, alice); // 6 ether at request
        vm.stopPrank();
        vm.prank(slasher);
        registry.slash(1, 6, 5000); // pooled 60 -> 50
        uint256[] memory ends = new uint256[](1);
        ends[0] = id;
        vm.prank(finalizer);
        uint256 locked = queue.finalize(ends);
        (uint256 shares, uint256 atRequest,) = queue.request(id);
        assertEq(atRequest, 6 ether);
        assertEq(locked, shares * token.shareRate() / RewardMath.RAY, "worth the lower, post-slash rate");
        assertLt(locked, atRequest, "less than at request");
    }

    function test_finalize_refusesABatchThatMixesSidesOfTheRate() public {
        _delegate(1, 30 ether);
        _warpToEpoch(6);
        vm.startPrank(alice);
        token.approve(address(queue), type(uint256).max);
        queue.requestWithdrawal(6000 ether, alice); // before the slash: above the later rate
        vm.stopPrank();
        vm.prank(slasher);
        registry.slash(1, 6, 5000);
        vm.prank(alice);
        queue.requestWithdrawal(5000 ether, alice); // after: at the rate
        uint256[] memory one = new uint256[](1);
        one[0] = 2;
        vm.prank(finalizer);
        vm.expectRevert(abi.encodeWithSelector(WithdrawalQueue.MixedBatch.selector, 0));
        queue.finalize(one);
        uint256[] memory two = new uint256[](2);
        (two[0], two[1]) = (1, 2);
        vm.prank(finalizer);
        uint256 locked = queue.finalize(two);
        (uint256 s1,,) = queue.request(1);
        (, uint256 a2,) = queue.request(2);
        assertEq(locked, s1 * token.shareRate() / RewardMath.RAY + a2, "each batch valued on its side");
    }

    function test_undelegate_onlyTheQueuesShortfallThenTheBucketReturnsToTheBuffer() public {
        _delegate(1, 30 ether);
        _delegate(2, 25 ether); // buffer 5
        vm.startPrank(alice);
        token.approve(address(queue), type(uint256).max);
        queue.requestWithdrawal(20_000 ether, alice); // the queue needs 20: 15 beyond the buffer
        vm.stopPrank();
        _warpToEpoch(6);
        vm.prank(reporter);
        vm.expectRevert(
            abi.encodeWithSelector(LiquidStakingToken.UndelegationNotNeeded.selector, 16 ether, 15 ether)
        );
        token.undelegateStake(1, 16 ether);
        uint256 rate = token.shareRate();
        vm.prank(reporter);
        (uint64 completion, uint256 tokens) = token.undelegateStake(1, 10 ether);
        assertEq(tokens, 10 ether);
        assertEq(uint256(completion), 6 + 1 + UNBONDING);
        assertEq(token.unbondingAssets(), 10 ether);
        assertEq(token.stakeOf(1), 20 ether);
        assertEq(token.totalPooledAssets(), 60 ether);
        assertGe(token.shareRate(), rate);
        _warpToEpoch(completion);
        assertEq(token.withdrawUnbonded(1, completion), 10 ether, "anyone brings it back");
        assertEq(token.bufferedAssets(), 15 ether);
        assertEq(token.unbondingAssets(), 0);
        assertEq(token.totalPooledAssets(), 60 ether);
        vm.deal(address(this), 1 ether);
        (bool ok,) = address(token).call{value: 1 ether}("");
        assertFalse(ok, "only the registry pays the token directly");
    }

    function test_redelegateStake_rebalancesAsAPositionReleasedAtMaturity() public {
        _delegate(1, 30 ether);
        _warpToEpoch(6);
        uint256 rate = token.shareRate();
        vm.prank(reporter);
        token.redelegateStake(1, 2, 10 ether);
        assertEq(token.stakeOf(1), 20 ether);
        assertEq(token.redelegatedAssets(), 10 ether);
        assertEq(token.stakedAssets(), 30 ether);
        assertEq(token.totalPooledAssets(), 60 ether);
        assertGe(token.shareRate(), rate);
        LiquidStakingToken.PositionRef[] memory ps = token.positions();
        assertEq(ps.length, 1);
        assertEq(uint256(ps[0].dst), 2);

        // The position earns in its destination from the next epoch; harvest collects it.
        _warpToEpoch(8);
        _payAll(7, 4 ether);
        uint256 harvested = _harvest();
        assertGt(harvested, 0, "pool and position rewards");

        vm.prank(reporter);
        assertEq(token.releaseMatured(), 0, "not matured before 6 + 1 + 6");
        _warpToEpoch(13);
        vm.prank(reporter);
        assertEq(token.releaseMatured(), 1);
        assertEq(token.redelegatedAssets(), 0);
        assertEq(token.stakeOf(2), 10 ether, "now an ordinary delegation to 2");
        _warpToEpoch(15);
        _payAll(14, 4 ether);
        _harvest(); // collects the position's last rewards and drops it
        assertEq(token.positions().length, 0);
    }

    /// Finding: a released position earns through its release epoch, but the next harvest
    /// dropped it even when the registry had not paid that epoch yet (a catch-up report), so
    /// its last rewards were credited to a position nobody claimed. It now stays until the
    /// registry has paid through its release epoch, and that harvest takes them.
    function test_harvest_keepsAReleasedPositionUntilItsReleaseEpochIsPaid() public {
        _delegate(1, 8 ether);
        _warpToEpoch(6);
        vm.prank(reporter);
        token.redelegateStake(1, 2, 4 ether); // pool 2 holds only this position: 4e21 shares
        _warpToEpoch(13);
        _payEach(2, 12, 0); // paid through 12
        vm.prank(reporter);
        assertEq(token.releaseMatured(), 1); // released in 13: it earns 13
        assertEq(_harvest(), 0);
        assertEq(token.positions().length, 1, "kept: epoch 13 is not paid yet");

        _warpToEpoch(14);
        // 1.4 for epoch 13: commission 0.14; of the 1.26 left the bond (10 of 14) takes 0.9 and
        // the pool 0.36, all of it the position's (the token's delegation earns from 14).
        _payEach(2, 13, 1.4 ether);
        assertEq(_harvest(), 0.36 ether, "the position's last rewards");
        assertEq(token.positions().length, 0, "dropped once its release epoch is paid");
        (, uint256 left,) = registry.redelegation(address(token), 1, 2, 6);
        assertEq(left, 0, "nothing stranded");
    }

    /// Every report's harvest reads each position, so the token holds at most MAX_POSITIONS
    /// unreleased; a move into a position it holds already is still taken, and released ones
    /// make room.
    function test_redelegateStake_opensAtMostMaxPositions() public {
        for (uint32 id = 1; id <= 3; ++id) {
            _delegate(id, 10 ether);
        }
        uint64 epoch = 6;
        vm.startPrank(reporter);
        while (token.positions().length < token.MAX_POSITIONS()) {
            _warpToEpoch(epoch++);
            for (uint32 src = 1; src <= 3 && token.positions().length < token.MAX_POSITIONS(); ++src) {
                for (uint32 dst = 1; dst <= 3 && token.positions().length < token.MAX_POSITIONS(); ++dst) {
                    if (src != dst) token.redelegateStake(src, dst, 0.01 ether);
                }
            }
        }
        LiquidStakingToken.PositionRef[] memory held = token.positions();
        LiquidStakingToken.PositionRef memory last = held[held.length - 1];
        // 3 -> 2 in this epoch would be a new position.
        vm.expectRevert(abi.encodeWithSelector(LiquidStakingToken.TooManyPositions.selector, 32));
        token.redelegateStake(3, 2, 0.01 ether);
        token.redelegateStake(last.src, last.dst, 0.01 ether);
        vm.stopPrank();
        held = token.positions();
        assertEq(held.length, 32);
        assertEq(token.unreleasedPositions(), 32);
        assertApproxEqAbs(held[31].booked, 0.02 ether, 2, "added to the position it holds");
        // The six positions of epoch 6 mature at 6 + 1 + 6: released, they make room for six.
        _warpToEpoch(13);
        vm.startPrank(reporter);
        assertEq(token.releaseMatured(), 6);
        assertEq(token.unreleasedPositions(), 26);
        token.redelegateStake(3, 2, 0.01 ether);
        vm.stopPrank();
        assertEq(token.positions().length, 33, "released positions wait for their last harvest");
    }

    /// Released positions wait in the list for the registry to pay their release epoch; the
    /// list (which every harvest reads) holds at most 2 * MAX_POSITIONS, so a report that keeps
    /// releasing without its harvests dropping them cannot open positions without bound.
    function test_redelegateStake_listsAtMostTwiceMaxPositions() public {
        for (uint32 id = 1; id <= 3; ++id) {
            _delegate(id, 10 ether);
        }
        uint64 epoch = 6;
        for (uint256 round; round < 2; ++round) {
            while (token.unreleasedPositions() < token.MAX_POSITIONS()) {
                _warpToEpoch(epoch);
                if (registry.nextRewardEpoch() < epoch) _payAll(epoch - 1, 0);
                epoch += 1;
                vm.startPrank(reporter);
                for (uint32 src = 1; src <= 3 && token.unreleasedPositions() < token.MAX_POSITIONS(); ++src) {
                    for (
                        uint32 dst = 1;
                        dst <= 3 && token.unreleasedPositions() < token.MAX_POSITIONS();
                        ++dst
                    ) {
                        if (src != dst) token.redelegateStake(src, dst, 0.01 ether);
                    }
                }
                vm.stopPrank();
            }
            epoch += 6; // the last opened mature at their epoch + 1 + 6
            _warpToEpoch(epoch);
            _payAll(epoch - 1, 0);
            vm.prank(reporter);
            assertEq(token.releaseMatured(), 32);
        }
        assertEq(token.positions().length, 64, "two sets released, none harvested");
        vm.prank(reporter);
        vm.expectRevert(abi.encodeWithSelector(LiquidStakingToken.TooManyPositions.selector, 32));
        token.redelegateStake(1, 2, 0.01 ether);

        _warpToEpoch(epoch + 1);
        _payAll(epoch, 0); // the release epoch paid: the harvest drops them all
        _harvest();
        assertEq(token.positions().length, 0);
        vm.prank(reporter);
        token.redelegateStake(1, 2, 0.01 ether);
    }

    function test_redelegateStake_isBoundedAndItsPositionTakesTheSourcesSlash() public {
        _delegate(1, 30 ether);
        _warpToEpoch(6);
        vm.startPrank(reporter);
        vm.expectRevert(abi.encodeWithSelector(LiquidStakingToken.NotActive.selector, 4));
        token.redelegateStake(1, 4, 10 ether);
        vm.stopPrank();
        _delegate(2, 25 ether);
        vm.startPrank(reporter);
        vm.expectRevert(
            abi.encodeWithSelector(LiquidStakingToken.SequencerCapExceeded.selector, 2, 35 ether, 30 ether)
        );
        token.redelegateStake(1, 2, 10 ether);
        token.redelegateStake(1, 2, 5 ether);
        vm.stopPrank();
        // A slash of 1 for epoch 6 (before the move) reaches the position in 2.
        vm.prank(slasher);
        registry.slash(1, 6, 5000); // 20: 10 from the bond, 10 over pool 25 and tranche 5
        assertLt(token.redelegatedAssets(), 5 ether, "the position lost its part");
        assertEq(token.stakeOf(2), 25 ether, "the destination's own delegation lost nothing");
    }

    /// Regression, found by the invariant suite: a slash of a sequencer the token holds only a
    /// redelegated position in (no ordinary stake) must still reach the token's books.
    function test_destinationSlash_reachesAPositionWithoutOrdinaryStakeThere() public {
        _delegate(1, 30 ether);
        _warpToEpoch(6);
        vm.prank(reporter);
        token.redelegateStake(1, 2, 10 ether);
        assertEq(token.stakeOf(2), 0, "no ordinary stake in 2");
        _warpToEpoch(8);
        vm.prank(slasher);
        registry.slash(2, 8, 5000); // 50% of (10 bond + 10 position) = 10: bond 10 first
        vm.prank(slasher);
        registry.slash(2, 8, 5000); // another 10: the bond is gone, the pool pays
        (uint256 shares,,) = registry.redelegation(address(token), 1, 2, 6);
        uint256 value = registry.sharesToTokens(2, shares);
        assertLt(value, 10 ether, "the position lost value");
        assertEq(token.redelegatedAssets(), value, "and the token booked it");
    }

    function _payAll(uint64 last, uint256 amount) internal {
        uint64 first = registry.nextRewardEpoch();
        SequencerRegistry.SequencerRewards[] memory r = new SequencerRegistry.SequencerRewards[](3);
        uint256 total;
        for (uint256 i; i < 3; ++i) {
            r[i].id = uint32(i + 1);
            r[i].amounts = new uint256[](last - first + 1);
            for (uint256 k; k < r[i].amounts.length; ++k) {
                r[i].amounts[k] = amount;
                total += amount;
            }
        }
        vm.deal(reporter, total);
        vm.prank(reporter);
        registry.distributeRewards{value: total}(first, last, r);
    }
}
