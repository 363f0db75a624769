// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {RegistryFixture} from "./utils/RegistryFixture.sol";
import {Refuser} from "./utils/Refuser.sol";
import {SequencerRegistry} from "../src/SequencerRegistry.sol";
import {RegistryCore} from "../src/registry/RegistryCore.sol";
import {RewardMath} from "../src/libraries/RewardMath.sol";

/// Delegation pools and rewards: shares with the virtual offset, stake counting from the next
/// epoch, the reward split of the rounding table, claims, restaking, unbonding.
contract RegistryPoolsTest is RegistryFixture {
    address internal operator = address(0x0BE);
    address internal alice = address(0xA1);
    address internal bob = address(0xB0);
    uint32 internal id;

    function setUp() public {
        _setUpRegistry(); // epoch 5
        id = _registerAs(operator, 10 ether, 1000); // bond counts from epoch 6, commission 10%
    }

    function _claimable(address account) internal view returns (uint256 rewards) {
        (,, rewards,) = registry.delegation(id, account);
    }

    function _shares(address account) internal view returns (uint256 shares) {
        (shares,,,) = registry.delegation(id, account);
    }

    /// Pays `amounts[k]` for epoch nextRewardEpoch + k to the one sequencer.
    function _pay(uint256[] memory amounts) internal {
        uint64 first = registry.nextRewardEpoch();
        SequencerRegistry.SequencerRewards[] memory r = new SequencerRegistry.SequencerRewards[](1);
        r[0] = SequencerRegistry.SequencerRewards({id: id, amounts: amounts});
        uint256 total;
        for (uint256 k; k < amounts.length; ++k) {
            total += amounts[k];
        }
        vm.deal(reporter, total);
        vm.prank(reporter);
        registry.distributeRewards{value: total}(first, first + uint64(amounts.length) - 1, r);
    }

    function _amounts(uint256 a, uint256 b) internal pure returns (uint256[] memory x) {
        x = new uint256[](2);
        (x[0], x[1]) = (a, b);
    }

    function _one(uint256 a) internal pure returns (uint256[] memory x) {
        x = new uint256[](1);
        x[0] = a;
    }

    /// The pool's part of `reward` at `epoch`'s checkpoint, per the rounding table.
    function _poolPart(uint256 reward, uint64 epoch) internal view returns (uint256) {
        RegistryCore.StakePoint memory p = registry.stakeAt(id, epoch);
        uint256 rest = reward - RewardMath.applyBps(reward, registry.commissionAt(id, epoch));
        return rest - RewardMath.bondPart(rest, p.bond, p.tokens);
    }

    function test_delegate_mintsSharesWithTheVirtualOffsetAndCountsFromTheNextEpoch() public {
        vm.expectEmit(true, true, false, true);
        emit RegistryCore.Delegated(id, alice, 30 ether, 30 ether * 1000, 6);
        uint256 shares = _delegateAs(alice, id, 30 ether);
        assertEq(shares, 30 ether * 1000, "first deposit: assets * (0 + 1e3) / (0 + 1)");
        assertEq(registry.stakeAt(id, 5).tokens, 0, "not at stake in the epoch of the deposit");
        assertEq(registry.stakeAt(id, 6).tokens, 30 ether);
        assertEq(uint256(registry.stakeAt(id, 6).shares), shares);
        assertEq(registry.totalPoolTokens(), 30 ether);

        // A second deposit pays the pool's rate: 30e18 * (30e21 + 1e3) / (30e18 + 1).
        uint256 second = _delegateAs(bob, id, 30 ether);
        assertEq(second, RewardMath.sharesForDeposit(30 ether, shares, 30 ether));
        assertEq(second, shares, "the same rate as the first deposit");
        (uint256 held, uint256 earning,, uint256 pending) = registry.delegation(id, bob);
        assertEq(held, second);
        assertEq(earning, 0, "nothing earns before the next epoch");
        assertEq(pending, 1);
    }

    function test_rewards_splitCommissionBondAndPoolExactly() public {
        _delegateAs(alice, id, 30 ether);
        _warpToEpoch(7);
        // Epoch 6: bond 10, pool 30, commission 10% of 4 = 0.4; bond 3.6 * 10/40 = 0.9; pool 2.7.
        vm.expectEmit(true, true, false, true);
        emit RegistryCore.RewardPaid(id, 6, 4 ether, 0.4 ether, 0.9 ether, 2.7 ether, 9e22, 0);
        _pay(_amounts(0, 4 ether));
        assertEq(registry.pool(id).acc, 9e22, "2.7e18 * 1e27 / 30e21");
        assertEq(registry.operatorRewards(id), 1.3 ether);
        assertEq(_claimable(alice), 2.7 ether);

        uint256 before = alice.balance;
        vm.prank(alice);
        assertEq(registry.claimRewards(id, alice), 2.7 ether);
        assertEq(alice.balance - before, 2.7 ether);
        assertEq(_claimable(alice), 0);

        address recipient = registry.sequencer(id).rewardRecipient;
        registry.claimOperatorRewards(id);
        assertEq(recipient.balance, 1.3 ether, "commission and bond reward to the recipient");
        assertEq(registry.totalOwed(), 10 ether + 30 ether, "only stake is left");
        assertEq(address(registry).balance, registry.totalOwed());
    }

    function test_stakeAddedInAnEpochEarnsNothingForIt() public {
        _delegateAs(alice, id, 30 ether);
        _warpToEpoch(6);
        _delegateAs(bob, id, 30 ether); // counts from 7
        _warpToEpoch(7);
        _pay(_amounts(0, 4 ether)); // epochs 5, 6
        assertEq(_claimable(alice), 2.7 ether);
        assertEq(_claimable(bob), 0, "bob's stake was not at stake in epoch 6");

        _warpToEpoch(8);
        _pay(_one(6 ether)); // epoch 7: both
        uint256 poolPart = _poolPart(6 ether, 7);
        RegistryCore.StakePoint memory at7 = registry.stakeAt(id, 7);
        uint256 increment = poolPart * RewardMath.RAY / at7.shares;
        assertEq(_claimable(alice), 2.7 ether + (30 ether * 1000) * increment / RewardMath.RAY);
        assertEq(_claimable(bob), _shares(bob) * increment / RewardMath.RAY);
    }

    function test_undelegation_earnsItsEpochThenUnbonds() public {
        uint256 shares = _delegateAs(alice, id, 30 ether);
        _warpToEpoch(6);
        vm.expectEmit(true, true, false, true);
        emit RegistryCore.Undelegated(id, alice, shares, 30 ether, 6 + 1 + UNBONDING);
        vm.prank(alice);
        (uint64 completion, uint256 amount) = registry.undelegate(id, shares);
        assertEq(uint256(completion), 13);
        assertEq(amount, 30 ether, "(30e21 * (30e18 + 1)) / (30e21 + 1e3) rounds to 30e18");
        assertEq(registry.stakeAt(id, 6).tokens, 30 ether, "still at stake in epoch 6");
        assertEq(registry.stakeAt(id, 7).tokens, 0);
        assertEq(registry.totalUnbonding(), 30 ether);

        _warpToEpoch(8);
        _pay(_three(0, 4 ether, 4 ether)); // epochs 5, 6, 7
        assertEq(_claimable(alice), 2.7 ether, "epoch 6 earned, epoch 7 not");
        assertEq(registry.pool(id).dust, 0, "epoch 7's pool part: no stake in the pool, no pool part");

        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.StillUnbonding.selector, id, 13, 8));
        registry.withdrawUnbonded(id, 13, alice);
        _warpToEpoch(13);
        uint256 before = alice.balance;
        vm.prank(alice);
        assertEq(registry.withdrawUnbonded(id, 13, alice), 30 ether);
        assertEq(alice.balance - before, 30 ether);
        assertEq(registry.totalUnbonding(), 0);
        vm.prank(alice);
        vm.expectRevert(RegistryCore.NothingToClaim.selector);
        registry.withdrawUnbonded(id, 13, alice);
    }

    function _three(uint256 a, uint256 b, uint256 c) internal pure returns (uint256[] memory x) {
        x = new uint256[](3);
        (x[0], x[1], x[2]) = (a, b, c);
    }

    function test_catchUp_manyEpochsInOneReportPayEachEpochsHolders() public {
        uint256 aliceShares = _delegateAs(alice, id, 30 ether); // from 6
        _warpToEpoch(6);
        _delegateAs(bob, id, 10 ether); // from 7
        _warpToEpoch(7);
        vm.prank(alice);
        registry.undelegate(id, aliceShares / 2); // alice half from 8
        _warpToEpoch(9);

        uint256[] memory amounts = new uint256[](4); // epochs 5..8
        (amounts[1], amounts[2], amounts[3]) = (4 ether, 5 ether, 6 ether);
        _pay(amounts);

        uint256 bobShares = _shares(bob);
        uint256 inc6 = _poolPart(4 ether, 6) * RewardMath.RAY / registry.stakeAt(id, 6).shares;
        uint256 inc7 = _poolPart(5 ether, 7) * RewardMath.RAY / registry.stakeAt(id, 7).shares;
        uint256 inc8 = _poolPart(6 ether, 8) * RewardMath.RAY / registry.stakeAt(id, 8).shares;
        // Each settlement rounds down separately, as the contract settles at each change.
        uint256 aliceExpected = aliceShares * (inc6 + inc7) / RewardMath.RAY + (aliceShares - aliceShares / 2)
            * inc8 / RewardMath.RAY;
        uint256 bobExpected = bobShares * (inc7 + inc8) / RewardMath.RAY;
        assertEq(_claimable(alice), aliceExpected);
        assertEq(_claimable(bob), bobExpected);
        assertEq(
            registry.unclaimedPoolRewards() + registry.totalRewardDust(),
            _poolPart(4 ether, 6) + _poolPart(5 ether, 7) + _poolPart(6 ether, 8),
            "every pool wei is credited or dust"
        );
    }

    function test_claimAndRestake_delegatesTheRewardFromTheNextEpoch() public {
        uint256 shares = _delegateAs(alice, id, 30 ether);
        _warpToEpoch(7);
        _pay(_amounts(0, 4 ether));
        vm.prank(alice);
        (uint256 amount, uint256 minted) = registry.claimAndRestake(id);
        assertEq(amount, 2.7 ether);
        assertEq(minted, RewardMath.sharesForDeposit(2.7 ether, shares, 30 ether));
        assertEq(_shares(alice), shares + minted);
        assertEq(registry.stakeAt(id, 7).tokens, 30 ether);
        assertEq(registry.stakeAt(id, 8).tokens, 32.7 ether);
        assertEq(registry.unclaimedPoolRewards(), 0);
        vm.prank(alice);
        vm.expectRevert(RegistryCore.NothingToClaim.selector);
        registry.claimAndRestake(id);
    }

    function test_pendingChanges_areBoundedPerAccount() public {
        vm.deal(alice, 100 ether);
        for (uint64 e = 5; e < 5 + 8; ++e) {
            _warpToEpoch(e);
            vm.prank(alice);
            registry.delegate{value: 1 ether}(id);
        }
        _warpToEpoch(13);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.TooManyPendingChanges.selector, id, alice, 5));
        registry.delegate{value: 1 ether}(id);
        // Once the reports catch up, the changes settle and the account can act again.
        _pay(new uint256[](8));
        vm.prank(alice);
        uint256 minted = registry.delegate{value: 1 ether}(id);
        (uint256 held, uint256 earning,, uint256 pending) = registry.delegation(id, alice);
        assertEq(pending, 1, "only the new change waits");
        assertEq(earning, held - minted, "the eight settled changes all earn");
    }

    function test_delegationRevertPaths() public {
        vm.deal(alice, 100 ether);
        vm.startPrank(alice);
        vm.expectRevert(RegistryCore.ZeroAmount.selector);
        registry.delegate{value: 0}(id);
        vm.expectRevert(
            abi.encodeWithSelector(RegistryCore.WrongStatus.selector, uint32(9), RegistryCore.Status.None)
        );
        registry.delegate{value: 1 ether}(9);
        vm.expectRevert(RegistryCore.ZeroAmount.selector);
        registry.undelegate(id, 0);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.InsufficientShares.selector, 1, 0));
        registry.undelegate(id, 1);
        vm.expectRevert(RegistryCore.NothingToClaim.selector);
        registry.claimRewards(id, alice);
        vm.expectRevert(RegistryCore.ZeroAddress.selector);
        registry.claimRewards(id, address(0));
        uint256 shares = registry.delegate{value: 10 ether}(id);
        vm.stopPrank();

        // Unbonding entries: at most 4 buckets per account and sequencer.
        for (uint64 e = 5; e < 9; ++e) {
            _warpToEpoch(e);
            vm.prank(alice);
            registry.undelegate(id, shares / 10);
        }
        _warpToEpoch(9);
        _pay(new uint256[](4));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.TooManyUnbondingEntries.selector, id, alice, 4));
        registry.undelegate(id, shares / 10);

        _warpToEpoch(12);
        vm.startPrank(alice);
        vm.expectRevert(RegistryCore.ZeroAddress.selector);
        registry.withdrawUnbonded(id, 12, address(0));
        Refuser refuser = new Refuser();
        (, uint256 owed) = registry.unbonding(id, 12, alice);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.TransferFailed.selector, address(refuser), owed));
        registry.withdrawUnbonded(id, 12, address(refuser));
        registry.withdrawUnbonded(id, 12, alice);
        registry.undelegate(id, shares / 10); // an entry is free again
        vm.stopPrank();

        // An exiting sequencer takes no new delegations; its delegators can still leave.
        vm.prank(operator);
        registry.exit(id);
        vm.prank(bob);
        vm.deal(bob, 1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(RegistryCore.WrongStatus.selector, id, RegistryCore.Status.Exiting)
        );
        registry.delegate{value: 1 ether}(id);
    }

    function test_distributeRewards_revertPaths() public {
        SequencerRegistry.SequencerRewards[] memory r = new SequencerRegistry.SequencerRewards[](1);
        r[0] = SequencerRegistry.SequencerRewards({id: id, amounts: _one(1 ether)});
        vm.deal(reporter, 10 ether);
        vm.expectRevert(
            abi.encodeWithSignature(
                "AccessControlUnauthorizedAccount(address,bytes32)", address(this), registry.REPORTER_ROLE()
            )
        );
        registry.distributeRewards{value: 1 ether}(5, 5, r);

        vm.startPrank(reporter);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.WrongRewardEpochs.selector, 5, 5, 5, 5));
        registry.distributeRewards{value: 1 ether}(5, 5, r); // epoch 5 has not ended
        _warpToEpoch(7);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.WrongRewardEpochs.selector, 6, 6, 5, 7));
        registry.distributeRewards{value: 1 ether}(6, 6, r); // must continue at 5
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.MalformedRewards.selector, 0));
        registry.distributeRewards{value: 1 ether}(5, 6, r); // one amount for two epochs
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.RewardValueMismatch.selector, 2 ether, 1 ether));
        registry.distributeRewards{value: 2 ether}(5, 5, r);

        SequencerRegistry.SequencerRewards[] memory twice = new SequencerRegistry.SequencerRewards[](2);
        twice[0] = r[0];
        twice[1] = r[0];
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.MalformedRewards.selector, 1));
        registry.distributeRewards{value: 2 ether}(5, 5, twice);
        r[0].id = 2;
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.MalformedRewards.selector, 0));
        registry.distributeRewards{value: 1 ether}(5, 5, r);
        vm.stopPrank();
        assertEq(uint256(registry.nextRewardEpoch()), 5, "a refused report changes nothing");
    }

    function test_operatorRewards_revertPaths() public {
        vm.expectRevert(RegistryCore.NothingToClaim.selector);
        registry.claimOperatorRewards(id);
        Refuser refuser = new Refuser();
        vm.prank(operator);
        registry.setRewardRecipient(id, address(refuser));
        _warpToEpoch(7);
        _pay(_amounts(0, 1 ether));
        vm.expectRevert(
            abi.encodeWithSelector(RegistryCore.TransferFailed.selector, address(refuser), 1 ether)
        );
        registry.claimOperatorRewards(id);
        assertEq(registry.operatorRewards(id), 1 ether, "a refused payment keeps the claim");
    }

    function testFuzz_rewardsConserve(uint96 reward, uint96 delegated, uint16 commission) public {
        delegated = uint96(bound(delegated, 1, 1_000_000 ether));
        reward = uint96(bound(reward, 0, 1_000_000 ether));
        commission = uint16(bound(commission, 500, 1500));
        vm.prank(operator);
        registry.setCommission(id, commission);
        _delegateAs(alice, id, delegated);
        _warpToEpoch(7);
        _pay(_amounts(0, reward));
        assertEq(
            registry.operatorRewards(id) + registry.unclaimedPoolRewards() + registry.totalRewardDust(),
            reward,
            "commission + bond reward + credited + dust == reward"
        );
        assertLe(_claimable(alice), registry.unclaimedPoolRewards());
        assertEq(address(registry).balance, registry.totalOwed());
    }
}
