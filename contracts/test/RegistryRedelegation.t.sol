// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {RegistryFixture} from "./utils/RegistryFixture.sol";
import {SequencerRegistry} from "../src/SequencerRegistry.sol";
import {RegistryCore} from "../src/registry/RegistryCore.sol";
import {RewardMath} from "../src/libraries/RewardMath.sol";
import {LossRecorder} from "./RegistrySlashing.t.sol";

/// Redelegation without unbonding: the moved stake counts in the source through the epoch and
/// in the destination from the next, is held as the delegator's position in a tranche
/// (source, epoch, destination) that stays slashable for the source's earlier faults until it
/// matures, then is released into an ordinary delegation.
contract RegistryRedelegationTest is RegistryFixture {
    address internal alice = address(0xA1);
    address internal bob = address(0xB0);
    uint32 internal src;
    uint32 internal dst;

    function setUp() public {
        _setUpRegistry(); // epoch 5
        src = _registerAs(address(0x0BE), 10 ether, 1000);
        dst = _registerAs(address(0x0BF), 10 ether, 1000);
    }

    function _payBoth(uint64 last, uint256 amount) internal {
        uint64 first = registry.nextRewardEpoch();
        SequencerRegistry.SequencerRewards[] memory r = new SequencerRegistry.SequencerRewards[](2);
        for (uint256 i; i < 2; ++i) {
            r[i].id = uint32(i + 1);
            r[i].amounts = new uint256[](last - first + 1);
            for (uint256 k; k < r[i].amounts.length; ++k) {
                // Nothing for epoch 5: the sequencers had no stake yet.
                r[i].amounts[k] = first + k == 5 ? 0 : amount;
            }
        }
        uint256 total = 2 * amount * (last - (first == 5 ? first + 1 : first) + 1);
        vm.deal(reporter, total);
        vm.prank(reporter);
        registry.distributeRewards{value: total}(first, last, r);
    }

    function _poolIncrement(uint32 id, uint256 reward, uint64 epoch) internal view returns (uint256) {
        RegistryCore.StakePoint memory p = registry.stakeAt(id, epoch);
        uint256 rest = reward - RewardMath.applyBps(reward, p.commissionBps);
        uint256 poolPart = rest - RewardMath.bondPart(rest, p.bond, p.tokens);
        return poolPart * RewardMath.RAY / p.shares;
    }

    function test_redelegate_movesStakeFromTheNextEpochAndEarnsOnBothSidesExactly() public {
        uint256 shares = _delegateAs(alice, src, 30 ether);
        _delegateAs(bob, dst, 30 ether);
        _warpToEpoch(6);
        vm.expectEmit(true, true, true, true);
        emit RegistryCore.Redelegated(src, dst, alice, shares, 30 ether, 30 ether * 1000, 6);
        vm.prank(alice);
        uint256 moved = registry.redelegate(src, dst, shares);
        assertEq(moved, 30 ether * 1000);
        assertEq(registry.stakeAt(src, 6).tokens, 30 ether, "still at stake in the source in epoch 6");
        assertEq(registry.stakeAt(src, 7).tokens, 0);
        assertEq(registry.stakeAt(dst, 6).tokens, 30 ether);
        assertEq(registry.stakeAt(dst, 7).tokens, 60 ether);

        _warpToEpoch(8);
        _payBoth(7, 4 ether); // epochs 5..7
        // Epoch 6 in the source: alice alone. Epoch 7 in the destination: bob and the position.
        uint256 inc6 = _poolIncrement(src, 4 ether, 6);
        uint256 inc7 = _poolIncrement(dst, 4 ether, 7);
        (,, uint256 aliceRewards,) = registry.delegation(src, alice);
        assertEq(aliceRewards, shares * inc6 / RewardMath.RAY);
        (uint256 positionShares, uint256 positionRewards, uint64 maturity) =
            registry.redelegation(alice, src, dst, 6);
        assertEq(positionShares, moved);
        assertEq(positionRewards, moved * inc7 / RewardMath.RAY, "the position earns from epoch 7 only");
        assertEq(uint256(maturity), 6 + 1 + UNBONDING);

        uint256 before = alice.balance;
        vm.prank(alice);
        assertEq(registry.claimRedelegationRewards(src, dst, 6, alice), positionRewards);
        assertEq(alice.balance - before, positionRewards);
        assertEq(address(registry).balance, registry.totalOwed());
    }

    function test_release_afterMaturityIntoAnOrdinaryDelegation() public {
        uint256 shares = _delegateAs(alice, src, 30 ether);
        _warpToEpoch(6);
        vm.prank(alice);
        uint256 moved = registry.redelegate(src, dst, shares);

        _warpToEpoch(12);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.NotMatured.selector, 13, 12));
        registry.releaseRedelegation(src, dst, 6);

        _warpToEpoch(13);
        vm.expectEmit(true, true, true, true);
        emit RegistryCore.RedelegationReleased(src, dst, alice, 6, moved);
        vm.prank(alice);
        assertEq(registry.releaseRedelegation(src, dst, 6), moved);
        (uint256 ordinary, uint256 earning,,) = registry.delegation(dst, alice);
        assertEq(ordinary, moved);
        assertEq(earning, 0, "counts in alice's own delegation from epoch 14");
        (uint256 left,,) = registry.redelegation(alice, src, dst, 6);
        assertEq(left, 0);

        // Epoch 13 is the position's, epoch 14 alice's own.
        _warpToEpoch(15);
        _payBoth(14, 1 ether);
        uint256 inc13 = _poolIncrement(dst, 1 ether, 13);
        uint256 inc14 = _poolIncrement(dst, 1 ether, 14);
        (, uint256 positionRewards,) = registry.redelegation(alice, src, dst, 6);
        (,, uint256 own,) = registry.delegation(dst, alice);
        assertEq(own, moved * inc14 / RewardMath.RAY);
        assertGe(positionRewards, moved * inc13 / RewardMath.RAY);
        // Now an ordinary delegation: it can be undelegated.
        vm.prank(alice);
        registry.undelegate(dst, moved);
        // Released already: a second release moves nothing (as for a position slashed to
        // nothing, which the token's releaseMatured must get past).
        vm.prank(alice);
        assertEq(registry.releaseRedelegation(src, dst, 6), 0);
        (uint256 held,,,) = registry.delegation(dst, alice);
        assertEq(held, 0, "no share came back");
    }

    function test_sourceSlash_reachesTheTrancheNotTheDestinationsOtherHolders() public {
        LossRecorder liquid = new LossRecorder(registry);
        _governRegistry(abi.encodeCall(registry.setSlashListener, (address(liquid))));
        _delegateAs(alice, src, 10 ether);
        uint256 liquidShares = liquid.delegate{value: 20 ether}(src);
        uint256 bobShares = _delegateAs(bob, dst, 30 ether);
        _warpToEpoch(7);
        vm.prank(address(liquid));
        uint256 moved = registry.redelegate(src, dst, liquidShares); // 20 ether, tranche (1, 7, 2)

        // Infraction in epoch 6 (stake 10 bond + 30 pool = 40); 50% = 20: 10 from the bond,
        // 10 over the pool (10) and the tranche (20): 3.33… and 6.66…, one rounding wei to the pool.
        uint256 dstBefore = registry.sharesToTokens(dst, bobShares);
        vm.prank(slasher);
        (uint256 amount, bool done) = registry.slash(src, 6, 5000);
        assertEq(amount, 20 ether);
        assertTrue(done);
        uint256 fromPool = uint256(10 ether) * 10 / 30 + 1;
        uint256 fromTranche = 10 ether - fromPool;
        assertEq(registry.pool(src).tokens, 10 ether - fromPool);
        assertEq(registry.pool(dst).tokens, 50 ether - fromTranche);
        assertGe(registry.sharesToTokens(dst, bobShares), dstBefore, "the destination's holders lose nothing");

        (uint256 positionShares,,) = registry.redelegation(address(liquid), src, dst, 7);
        assertLt(positionShares, moved, "the position's shares are cut");
        assertLe(registry.sharesToTokens(dst, positionShares), 20 ether - fromTranche);
        assertEq(liquid.losses(), fromTranche, "the listener holds the whole tranche");
        assertEq(address(registry).balance, registry.totalOwed());

        // The cut counts from the next epoch in the destination's checkpoint.
        assertEq(uint256(registry.stakeAt(dst, 8).shares), registry.pool(dst).shares);
    }

    function test_sourceSlash_forALaterInfractionLeavesTheTrancheAlone() public {
        uint256 shares = _delegateAs(alice, src, 30 ether);
        _warpToEpoch(6);
        vm.prank(alice);
        registry.redelegate(src, dst, shares); // tranche made in 6
        _warpToEpoch(7);
        vm.prank(slasher);
        registry.slash(src, 7, 5000); // the tranche was not at stake in 7
        (uint256 positionShares,,) = registry.redelegation(alice, src, dst, 6);
        assertEq(positionShares, shares);
        assertEq(registry.pool(dst).tokens, 30 ether);
    }

    function test_redelegate_revertPaths() public {
        uint256 shares = _delegateAs(alice, src, 30 ether);
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.SameSequencer.selector, src));
        registry.redelegate(src, src, shares);
        vm.expectRevert(RegistryCore.ZeroAmount.selector);
        registry.redelegate(src, dst, 0);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.InsufficientShares.selector, shares + 1, shares));
        registry.redelegate(src, dst, shares + 1);
        vm.expectRevert(
            abi.encodeWithSelector(RegistryCore.WrongStatus.selector, uint32(9), RegistryCore.Status.None)
        );
        registry.redelegate(src, 9, shares);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.UnknownRedelegation.selector, src, dst, 5));
        registry.claimRedelegationRewards(src, dst, 5, alice);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.UnknownRedelegation.selector, src, dst, 5));
        registry.releaseRedelegation(src, dst, 5);
        vm.expectRevert(RegistryCore.ZeroAddress.selector);
        registry.claimRedelegationRewards(src, dst, 5, address(0));
        registry.redelegate(src, dst, shares);
        vm.expectRevert(RegistryCore.NothingToClaim.selector);
        registry.claimRedelegationRewards(src, dst, 5, alice);
        vm.stopPrank();

        vm.prank(guardian);
        registry.pause(100);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.IsPaused.selector, vm.getBlockTimestamp() + 100));
        registry.redelegate(dst, src, 1);
    }
}
