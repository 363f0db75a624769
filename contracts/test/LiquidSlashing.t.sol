// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {LiquidFixture} from "./utils/LiquidFixture.sol";
import {LiquidStakingToken} from "../src/LiquidStakingToken.sol";
import {SlashingManager} from "../src/SlashingManager.sol";

/// What slashes and slash proposals do to the token's redelegated positions and unbonding:
/// a source slash books each position's own loss once (also when the registry tells it in
/// several calls), and a proposal's pending loss counts exactly what the slash can reach.
/// Every pool here keeps `shares + 1000 == 1000 * (tokens + 1)` until a slash, so each value
/// below is exact and worked out by hand.
contract LiquidSlashingTest is LiquidFixture {
    SlashingManager internal manager;
    address internal verifier = address(0x7E21);
    address internal alice = address(0xA1);
    address internal bob = address(0xB0B);

    function _liquidParams() internal view override returns (LiquidStakingToken.Params memory p) {
        p = super._liquidParams();
        p.maxMovedPerEpoch = 100 ether;
    }

    function setUp() public {
        _setUpLiquid(); // epoch 5, unbonding 6 epochs
        manager = new SlashingManager(
            address(registry),
            SlashingManager.Params({
                vetoWindowEpochs: 2, maxFractionBps: 5000, maxPerPeriodBps: 10_000, periodEpochs: 30
            }),
            address(timelock)
        );
        _governRegistry(abi.encodeCall(registry.grantRole, (registry.SLASHER_ROLE(), address(manager))));
        _govern(address(manager), abi.encodeCall(manager.grantRole, (manager.VERIFIER_ROLE(), verifier)));
    }

    function _activate(uint256 count) internal {
        uint32[] memory set = new uint32[](count);
        for (uint256 i; i < count; ++i) {
            set[i] = uint32(i + 1);
        }
        vm.prank(reporter);
        registry.updateActiveSet(set);
    }

    function _redelegate(uint32 src, uint32 dst, uint256 amount) internal {
        vm.prank(reporter);
        token.redelegateStake(src, dst, amount);
    }

    function _undelegate(uint32 id, uint256 amount) internal {
        vm.prank(reporter);
        token.undelegateStake(id, amount);
    }

    /// Sequencers 1, 2 (bond 10) and 3 (bond 1); the token delegates 6 to 2 and 8 to 3 of a
    /// 20 deposit; at epoch 6 it moves 4 from 3 to 1 (position A), at epoch 7 4 from 2 to 1
    /// (position B); then 3 is slashed 50% for epoch 6.
    function _sourceSlashed() internal {
        _registerAs(address(0x100), 10 ether, 0);
        _registerAs(address(0x200), 10 ether, 0);
        _registerAs(address(0x300), 1 ether, 0);
        _activate(3);
        _depositAs(alice, 20 ether);
        _delegate(2, 6 ether);
        _delegate(3, 8 ether);
        _warpToEpoch(6);
        _redelegate(3, 1, 4 ether); // A: 4e21 shares of pool 1
        _warpToEpoch(7);
        _redelegate(2, 1, 4 ether); // B: 4e21 shares of pool 1 (8 tokens, 8e21 shares)
        // 50% of the stake at epoch 6 (bond 1 + pool 8) = 4.5: the bond's 1, then 3.5 pro rata
        // over pool 3 (4) and tranche A (4): 1.75 each. Pool 1 burns 1.75e21 shares of A's
        // tranche (6.25 tokens, 6.25e21 shares left): A keeps 2.25e21 shares, worth 2.25.
        vm.prank(slasher);
        registry.slash(3, 6, 5000);
    }

    /// Finding: the source slash lowered `redelegatedAssets` but not A's own booking, and the
    /// release subtracted A's stale 4 again: the rate fell by 1.75 with no slash.
    function test_sourceSlash_booksThePositionsLossOnceAndItsReleaseLeavesTheRate() public {
        _sourceSlashed();
        LiquidStakingToken.PositionRef[] memory ps = token.positions();
        assertEq(ps[0].src, 3);
        assertEq(ps[0].booked, 2.25 ether, "A booked at its value after the slash");
        assertEq(ps[1].booked, 4 ether, "B untouched");
        assertEq(token.redelegatedAssets(), 6.25 ether, "the sum of the bookings");
        assertEq(token.stakeOf(3), 2.25 ether, "pool 3 lost 1.75");
        assertEq(token.stakedAssets(), 10.5 ether, "2 with sequencer 2, 2.25 with 3, 6.25 in positions");
        assertEq(token.totalPooledAssets(), 16.5 ether);

        _warpToEpoch(13); // A matured (6 + 1 + 6), B not yet
        uint256 rate = token.shareRate();
        vm.prank(reporter);
        assertEq(token.releaseMatured(), 1);
        assertEq(token.stakeOf(1), 2.25 ether, "A is now the delegation to 1");
        assertEq(token.redelegatedAssets(), 4 ether, "B only");
        assertEq(token.stakedAssets(), 10.5 ether, "the release moved the value, nothing lost");
        assertEq(token.totalPooledAssets(), 16.5 ether);
        assertEq(token.shareRate(), rate, "the rate did not fall");
    }

    /// The registry may tell one slash in several calls (the pool and bucket part, then pages
    /// of tranches, each with that call's losses): a position's loss is booked once, from the
    /// registry's values, however often it is told.
    function test_sourceSlash_toldAgainIsBookedOnce() public {
        _sourceSlashed();
        vm.startPrank(address(registry));
        token.onStakeSlashed(3, 0, 0, 1.75 ether); // the tranche page told again
        token.onStakeSlashed(3, 0, 0, 0);
        vm.stopPrank();
        assertEq(token.positions()[0].booked, 2.25 ether);
        assertEq(token.redelegatedAssets(), 6.25 ether, "A's 1.75 taken once");
        assertEq(token.stakedAssets(), 10.5 ether);
    }

    /// Finding: the pending loss counted the token's pool stake and ALL its unbonding, and none
    /// of the positions the slash reaches. It now counts, for a proposal on sequencer 1 for
    /// epoch 6: the delegation to 1, the buckets with 1 undelegated at or after epoch 6, the
    /// positions out of 1 made at or after epoch 6 and every position into 1.
    function test_slashProposal_pendingLossCountsWhatTheSlashCanReach() public {
        _registerAs(address(0x100), 1 ether, 0);
        _registerAs(address(0x200), 10 ether, 0);
        _activate(2);
        _delegateAs(address(0xD1), 1, 20 ether); // someone else's 20 in pool 1
        _depositAs(alice, 10 ether);
        _depositAs(bob, 10 ether);
        _delegate(1, 8 ether);
        _delegate(2, 8 ether);
        _requestAs(bob, token.balanceOf(bob)); // the queue lacks 10 - 4 = 6
        _undelegate(1, 2 ether); // epoch 5: a bucket with 1 the slash cannot reach
        _redelegate(1, 2, 1 ether); // epoch 5: a position out of 1 the slash cannot reach
        _warpToEpoch(6);
        _undelegate(1, 1 ether); // reached
        _undelegate(2, 2 ether); // held with 2: not this slash's
        _redelegate(2, 1, 1 ether); // into 1: loses with its pool
        _redelegate(1, 2, 1 ether); // out of 1 at the infraction epoch: its tranche is reached
        assertEq(token.stakeOf(1), 3 ether);
        assertEq(token.unbondingAssets(), 5 ether);

        _warpToEpoch(7);
        vm.prank(verifier);
        manager.propose(1, 6, 1, keccak256("evidence"), 5000);
        // 50% of the stake at 6 (bond 1 + pool 25) = 13 caps it; the exposure is 3 + 1 + 1 + 1.
        assertEq(token.pendingSlashLoss(), 6 ether);
    }

    /// The audit's case: everything moved out of the sequencer after the infraction. The
    /// tranche is reached, so the proposal opens bunker mode and closes instant exit.
    function test_slashProposal_reachesStakeMovedOutAfterTheInfraction() public {
        _registerAs(address(0x100), 1 ether, 0);
        _registerAs(address(0x200), 10 ether, 0);
        _activate(2);
        _depositAs(alice, 10 ether);
        _depositAs(bob, 10 ether);
        _delegate(1, 8 ether);
        _warpToEpoch(6);
        _redelegate(1, 2, 8 ether);
        assertEq(token.stakeOf(1), 0);
        _warpToEpoch(7);
        vm.prank(verifier);
        manager.propose(1, 6, 1, keccak256("evidence"), 5000);
        // 50% of the stake at 6 (bond 1 + pool 8) = 4.5, below the tranche's 8.
        assertEq(token.pendingSlashLoss(), 4.5 ether);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(LiquidStakingToken.BunkerMode.selector, 4.5 ether));
        token.instantExit(1000 ether, bob);
    }
}
