// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {RegistryFixture} from "./utils/RegistryFixture.sol";
import {RegistryCore} from "../src/registry/RegistryCore.sol";

/// Roles under the timelock, expiring pauses that never block claims or withdrawals, jailing
/// and the active set.
contract RegistryGovernanceTest is RegistryFixture {
    address internal alice = address(0xA1);

    function setUp() public {
        _setUpRegistry(); // epoch 5
    }

    function _unauthorized(address who, bytes32 role) internal pure returns (bytes memory) {
        return abi.encodeWithSignature("AccessControlUnauthorizedAccount(address,bytes32)", who, role);
    }

    // ---------------------------------------------------------------- roles and timelock
    function test_adminActionsGoThroughTheTimelockOnly() public {
        bytes32 admin = registry.DEFAULT_ADMIN_ROLE();
        assertTrue(registry.hasRole(admin, address(timelock)));
        vm.prank(governor);
        vm.expectRevert(_unauthorized(governor, admin));
        registry.setSlashListener(address(0x1));

        // Scheduled, it cannot run before the delay...
        bytes memory data = abi.encodeCall(registry.setSlashListener, (address(0x1)));
        vm.prank(governor);
        timelock.schedule(address(registry), 0, data, bytes32(0), bytes32(0), _delay());
        vm.expectRevert();
        timelock.execute(address(registry), 0, data, bytes32(0), bytes32(0));
        // ...and anyone can run it after.
        vm.warp(vm.getBlockTimestamp() + _delay());
        timelock.execute(address(registry), 0, data, bytes32(0), bytes32(0));
        assertEq(registry.slashListener(), address(0x1));
    }

    // ---------------------------------------------------------------- pauses
    function test_pause_blocksStakingActionsAndExpires() public {
        uint32 id = _registerAs(address(0x0BE), 10 ether, 1000);
        uint256 shares = _delegateAs(alice, id, 5 ether);
        _warpToEpoch(7);
        _payEach(id, 6, 1 ether);

        uint64 until = uint64(vm.getBlockTimestamp()) + 300;
        vm.expectEmit(false, false, false, true);
        emit RegistryCore.Paused(until);
        vm.prank(guardian);
        registry.pause(300);

        vm.deal(alice, 10 ether);
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.IsPaused.selector, until));
        registry.delegate{value: 1 ether}(id);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.IsPaused.selector, until));
        registry.undelegate(id, 1);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.IsPaused.selector, until));
        registry.claimAndRestake(id);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.IsPaused.selector, until));
        registry.register{value: 1 ether}(address(0x77), alice, 0);
        // Reward claims are never paused.
        assertGt(registry.claimRewards(id, alice), 0, "claims work while paused");
        vm.stopPrank();
        registry.claimOperatorRewards(id);

        // The pause ends by itself.
        vm.warp(until);
        vm.prank(alice);
        registry.undelegate(id, shares);
    }

    function test_pause_neverBlocksWithdrawalsAfterUnbonding() public {
        uint32 id = _registerAs(address(0x0BE), 10 ether, 1000);
        uint256 shares = _delegateAs(alice, id, 5 ether);
        vm.prank(alice);
        registry.undelegate(id, shares); // completes at 12
        vm.prank(address(0x0BE));
        registry.exit(id); // completes at 12
        _warpToEpoch(12);
        vm.prank(guardian);
        registry.pause(300);
        vm.prank(alice);
        assertEq(registry.withdrawUnbonded(id, 12, alice), 5 ether);
        vm.prank(address(0x0BE));
        registry.withdrawBond(id, address(0x0BE));
        assertEq(address(0x0BE).balance, 10 ether);
    }

    function test_pause_revertPaths() public {
        vm.expectRevert(_unauthorized(address(this), registry.GUARDIAN_ROLE()));
        registry.pause(1);
        vm.startPrank(guardian);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.InvalidPauseDuration.selector, 0, 300));
        registry.pause(0);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.InvalidPauseDuration.selector, 301, 300));
        registry.pause(301);
        registry.pause(300);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.NotGuardianOrAdmin.selector, address(this)));
        registry.unpause();
        vm.prank(guardian);
        registry.unpause();
        assertEq(uint256(registry.pausedUntil()), 0);
        _registerAs(address(0x0BE), 10 ether, 1000); // staking works again
    }

    /// Review finding 6: the guardian renewed a 300-second pause every 299 seconds for good. A
    /// new pause now waits maxPauseDuration after the end the last one was given, an early
    /// unpause included: the guardian alone pauses at most half the time.
    function test_pause_cannotBeRenewedByTheGuardianAlone() public {
        uint256 start = vm.getBlockTimestamp();
        vm.prank(guardian);
        registry.pause(300); // until start + 300; the next from start + 600
        assertEq(uint256(registry.nextPauseAllowedAt()), start + 600);
        vm.warp(start + 299);
        vm.prank(guardian);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.PauseCooldown.selector, uint64(start + 600)));
        registry.pause(300);
        vm.prank(guardian);
        registry.unpause();
        vm.prank(guardian);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.PauseCooldown.selector, uint64(start + 600)));
        registry.pause(1); // an early unpause does not bring the next pause forward
        _registerAs(address(0x0BE), 10 ether, 1000); // staking open
        vm.warp(start + 600);
        vm.prank(guardian);
        registry.pause(300);
        assertEq(uint256(registry.pausedUntil()), start + 900);
    }

    // ---------------------------------------------------------------- jailing
    function test_jailForDowntime_thenUnjailAfterTheCooldown() public {
        uint32 id = _registerAs(address(0x0BE), 10 ether, 1000);
        uint32[] memory ids = new uint32[](1);
        ids[0] = id;
        vm.expectEmit(true, false, false, true);
        emit RegistryCore.Jailed(id, RegistryCore.JailReason.Downtime, 7);
        vm.prank(reporter);
        registry.jailForDowntime(ids);
        assertTrue(registry.sequencer(id).jailed);

        vm.prank(address(0x0BE));
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.CannotUnjail.selector, id, 7));
        registry.unjail(id);
        _warpToEpoch(7);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.NotOperator.selector, id, address(this)));
        registry.unjail(id);
        vm.prank(address(0x0BE));
        registry.unjail(id);
        assertFalse(registry.sequencer(id).jailed);
        vm.prank(address(0x0BE));
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.CannotUnjail.selector, id, 7));
        registry.unjail(id);

        vm.expectRevert(_unauthorized(address(this), registry.REPORTER_ROLE()));
        registry.jailForDowntime(ids);
        ids[0] = 9;
        vm.prank(reporter);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.UnknownSequencer.selector, 9));
        registry.jailForDowntime(ids);
    }

    function test_unjail_needsTheMinimumBond() public {
        uint32 id = _registerAs(address(0x0BE), 1 ether, 1000);
        _warpToEpoch(6);
        vm.prank(slasher);
        registry.slash(id, 6, 1000); // bond 0.9 < 1: jailed
        assertTrue(registry.sequencer(id).jailed);
        _warpToEpoch(8);
        vm.prank(address(0x0BE));
        vm.expectRevert(
            abi.encodeWithSelector(RegistryCore.BondOutOfRange.selector, 0.9 ether, 1 ether, 100 ether)
        );
        registry.unjail(id);
        vm.deal(address(0x0BE), 1 ether);
        vm.startPrank(address(0x0BE));
        registry.addBond{value: 0.1 ether}(id);
        registry.unjail(id);
        vm.stopPrank();
        assertFalse(registry.sequencer(id).jailed);
    }

    // ---------------------------------------------------------------- active set
    function _registerFive() internal returns (uint32[] memory ids) {
        ids = new uint32[](5);
        uint256[5] memory bonds = [uint256(5 ether), 9 ether, 7 ether, 7 ether, 3 ether];
        for (uint160 i; i < 5; ++i) {
            ids[i] = _registerAs(address(0x100 + i), bonds[i], 1000);
        }
    }

    function _set(uint32 a, uint32 b, uint32 c, uint32 d) internal pure returns (uint32[] memory s) {
        s = new uint32[](4);
        (s[0], s[1], s[2], s[3]) = (a, b, c, d);
    }

    function test_activeSet_isTheTopByStake() public {
        _registerFive(); // stakes: 1:5, 2:9, 3:7, 4:7, 5:3; max active 4
        _delegateAs(alice, 5, 2.5 ether); // 5: 5.5, now above 1
        vm.prank(reporter);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.InvalidActiveSet.selector, 5));
        registry.updateActiveSet(_set(1, 2, 3, 4)); // 5 (5.5) outranks 1 (5)
        vm.prank(reporter);
        registry.updateActiveSet(_set(2, 3, 4, 5));
        assertEq(registry.activeSet().length, 4);
        assertEq(uint256(registry.activeSet()[3]), 5);
    }

    function test_activeSet_revertPaths() public {
        _registerFive();
        vm.expectRevert(_unauthorized(address(this), registry.REPORTER_ROLE()));
        registry.updateActiveSet(_set(1, 2, 3, 4));
        vm.startPrank(reporter);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.InvalidActiveSet.selector, 2));
        registry.updateActiveSet(_set(2, 2, 3, 4)); // repeated
        uint32[] memory three = new uint32[](3);
        (three[0], three[1], three[2]) = (2, 3, 4);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.InvalidActiveSet.selector, 0));
        registry.updateActiveSet(three); // too small while 4 are eligible
        uint32[] memory jailed = new uint32[](1);
        jailed[0] = 2;
        registry.jailForDowntime(jailed);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.InvalidActiveSet.selector, 2));
        registry.updateActiveSet(_set(1, 2, 3, 4)); // 2 is jailed
        registry.updateActiveSet(_set(1, 3, 4, 5)); // without 2, 5 is in
        vm.stopPrank();
    }

    function test_activeSet_tieGoesToTheLowerId() public {
        _registerFive();
        _delegateAs(alice, 5, 2 ether); // 5: 5 ether, equal to 1
        // Top 4: 2 (9), 3 and 4 (7), then 1 and 5 tie at 5: the lower id, 1, is in.
        vm.prank(reporter);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.InvalidActiveSet.selector, 1));
        registry.updateActiveSet(_set(2, 3, 4, 5));
        vm.prank(reporter);
        registry.updateActiveSet(_set(1, 2, 3, 4));
    }
}
