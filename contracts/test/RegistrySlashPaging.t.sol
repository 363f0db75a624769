// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {RegistryFixture} from "./utils/RegistryFixture.sol";
import {RegistryCore} from "../src/registry/RegistryCore.sol";
import {SlashingManager} from "../src/SlashingManager.sol";

/// A slash reaches every redelegation tranche out of the sequencer made since the infraction,
/// as many as delegators open; it runs in bounded calls (review finding 1: 360 dust tranches
/// made one slash need 36.5M gas, so it could never execute in a 30M block). And a position
/// settles its tranche's slashes merged with its own changes, so no number of slashes can fill
/// its queue (review finding 2: nine slashes locked a position for good).
contract RegistrySlashPagingTest is RegistryFixture {
    address internal honest = address(0xD1);
    address internal attacker = address(0xBAD);
    uint256 internal constant BLOCK_GAS = 30_000_000;

    function _params() internal view override returns (RegistryCore.Params memory p) {
        p = super._params();
        // As config/example.toml: 200 candidates, 100 active; unbonding long enough for nine
        // slashes of one source in distinct epochs within one infraction's window.
        p.maxCandidates = 200;
        p.maxActive = 100;
        p.unbondingEpochs = 9;
    }

    function setUp() public {
        _setUpRegistry(); // epoch 5
    }

    /// Sequencer 1 (bond = minBond; honest 100 and attacker 1 delegated in epoch 5, counting
    /// from 6) and `n` more sequencers (ids 2..n+1), each with a 1-ether bond.
    function _world(uint256 n) internal {
        _registerAs(address(0x1000), 1 ether, 1000);
        for (uint256 i; i < n; ++i) {
            _registerAs(address(uint160(0x100000 + i * 0x10)), 1 ether, 0);
        }
        _delegateAs(honest, 1, 100 ether);
        _delegateAs(attacker, 1, 1 ether);
    }

    /// One dust redelegation (1e9 pool shares: about 1e6 wei of stake) from 1 to each of
    /// `first..last`.
    function _spam(uint32 first, uint32 last) internal {
        vm.startPrank(attacker);
        for (uint32 dst = first; dst <= last; ++dst) {
            registry.redelegate(1, dst, 1e9);
        }
        vm.stopPrank();
    }

    /// Starts the slash and carries it on, each call with a block's gas, until it ends.
    /// Returns the calls it took.
    function _slashInBlocks(uint32 id, uint64 infraction, uint16 bps) internal returns (uint256 calls) {
        vm.prank(slasher);
        (bool ok, bytes memory out) =
            address(registry).call{gas: BLOCK_GAS}(abi.encodeCall(registry.slash, (id, infraction, bps)));
        assertTrue(ok, "the slash's first call fits a block");
        (, bool done) = abi.decode(out, (uint256, bool));
        calls = 1;
        while (!done) {
            vm.prank(slasher);
            (ok, out) = address(registry).call{gas: BLOCK_GAS}(abi.encodeCall(registry.continueSlash, ()));
            assertTrue(ok, "each further call fits a block");
            done = abi.decode(out, (bool));
            calls += 1;
            assertLt(calls, 100, "the slash ends");
        }
    }

    // ================================================================ finding 1: bounded calls
    function test_trancheSpam_slashEndsInCallsThatEachFitABlock() public {
        _world(120); // ids 2..121 are destinations
        _warpToEpoch(6); // the infraction epoch
        _spam(2, 121);
        _warpToEpoch(7);
        _spam(2, 121);
        _warpToEpoch(8);
        _spam(2, 121); // 360 dust tranches

        // 5% of the stake at 6 (1 bond + 101 delegated) = 5.1 ether.
        uint256 calls = _slashInBlocks(1, 6, 500);
        // 360 tranches: the first call values all of them, splits and takes 100; then 100, 100, 60.
        assertEq(calls, 4, "four calls");
        assertEq(registry.pendingSlash().id, 0, "no slash under way");
        assertEq(registry.insuranceOwed(), 5.1 ether, "the whole amount was taken, to the wei");
        assertEq(address(registry).balance, registry.totalOwed(), "the books hold");
        assertEq(registry.sequencer(1).bond, 0, "the bond went first");
    }

    function test_slashUnderWay_freezesTheSourceAndRefusesAnotherSlash() public {
        _world(120);
        _warpToEpoch(6);
        _spam(2, 121);
        _warpToEpoch(7);
        vm.prank(slasher);
        (uint256 amount, bool done) = registry.slash(1, 6, 500);
        assertEq(amount, 5.1 ether);
        assertFalse(done, "120 tranches: 100 taken in the first call");
        RegistryCore.PendingSlash memory ps = registry.pendingSlash();
        assertEq(ps.id, 1);
        assertTrue(ps.taking, "valued and split");
        assertEq(ps.cursorIndex, 100, "the next tranche");

        bytes memory frozen = abi.encodeWithSelector(RegistryCore.SlashInProgress.selector, uint32(1));
        vm.deal(honest, 1 ether);
        vm.prank(honest);
        vm.expectRevert(frozen);
        registry.delegate{value: 1 ether}(1);
        vm.prank(honest);
        vm.expectRevert(frozen);
        registry.undelegate(1, 1e21);
        vm.prank(honest);
        vm.expectRevert(frozen);
        registry.redelegate(1, 2, 1e21);
        uint256 other = _delegateAs(honest, 2, 1 ether); // other pools are not frozen
        vm.prank(honest);
        vm.expectRevert(frozen);
        registry.redelegate(2, 1, other);
        vm.prank(slasher);
        vm.expectRevert(frozen);
        registry.slash(2, 6, 100);
        bytes32 slasherRole = registry.SLASHER_ROLE();
        vm.prank(honest);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, honest, slasherRole
            )
        );
        registry.continueSlash();

        vm.prank(slasher);
        assertTrue(registry.continueSlash(), "the last 20 tranches");
        assertEq(registry.insuranceOwed(), 5.1 ether);
        vm.prank(slasher);
        vm.expectRevert(RegistryCore.NoSlashInProgress.selector);
        registry.continueSlash();
        _delegateAs(honest, 1, 1 ether); // thawed
    }

    /// Worked by hand. Stake at 6: bond 1 + pool 39 = 40; 50% = 20: 1 from the bond, 19 over the
    /// pool (9 left) and three tranches of 10 made in 6 (others = 39):
    ///   pool     floor(19e18 * 9 / 39)  = 4384615384615384615, +1 rounding wei = ...616
    ///   tranches floor(19e18 * 30 / 39) = 14615384615384615384 (T), spread over values 10, 10, 10
    ///   by cumulative value: floor(T/3) = ...794, floor(2T/3) - ...794 = ...795, T - floor(2T/3) = ...795
    /// (one slashSplit over each tranche apart gave 795, 795, 794).
    function test_tranches_takeTheirPartByCumulativeValue() public {
        _registerAs(address(0x1000), 1 ether, 0); // 1
        _registerAs(address(0x2000), 1 ether, 0); // 2
        _registerAs(address(0x3000), 1 ether, 0); // 3
        _registerAs(address(0x4000), 1 ether, 0); // 4
        _delegateAs(honest, 1, 39 ether); // 3.9e22 shares
        _warpToEpoch(6);
        vm.startPrank(honest);
        for (uint32 dst = 2; dst <= 4; ++dst) {
            assertEq(registry.redelegate(1, dst, 1e22), 1e22, "10 ether into an empty pool");
        }
        vm.stopPrank();
        _warpToEpoch(7);
        vm.prank(slasher);
        (uint256 amount, bool done) = registry.slash(1, 6, 5000);
        assertEq(amount, 20 ether);
        assertTrue(done);
        assertEq(registry.pool(1).tokens, 9 ether - 4_384_615_384_615_384_616);
        assertEq(registry.pool(2).tokens, 10 ether - 4_871_794_871_794_871_794);
        assertEq(registry.pool(3).tokens, 10 ether - 4_871_794_871_794_871_795);
        assertEq(registry.pool(4).tokens, 10 ether - 4_871_794_871_794_871_795);
        assertEq(registry.insuranceOwed(), 20 ether);
        assertEq(address(registry).balance, registry.totalOwed());
    }

    // ================================================================ the manager's side
    function test_manager_keepsAProposalExecutingUntilItsSlashEnds() public {
        SlashingManager manager = new SlashingManager(
            address(registry),
            SlashingManager.Params({
                vetoWindowEpochs: 1, maxFractionBps: 5000, maxPerPeriodBps: 10_000, periodEpochs: 30
            }),
            address(timelock)
        );
        _governRegistry(abi.encodeCall(registry.grantRole, (registry.SLASHER_ROLE(), address(manager))));
        address verifier = address(0x7E21);
        _govern(address(manager), abi.encodeCall(manager.grantRole, (manager.VERIFIER_ROLE(), verifier)));
        _world(120);
        _warpToEpoch(6);
        _spam(2, 121);
        vm.prank(verifier);
        uint256 first = manager.propose(1, 6, 1, keccak256("evidence"), 500);
        vm.prank(verifier);
        uint256 second = manager.propose(2, 6, 1, keccak256("evidence"), 100);
        _warpToEpoch(7);

        assertEq(manager.execute(first), 5.1 ether);
        assertEq(uint256(manager.stateOf(first)), uint256(SlashingManager.State.Executing));
        // No other slash while one is under way: the second stays pending.
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.SlashInProgress.selector, uint32(1)));
        manager.execute(second);
        // Past the proposal's last epoch an executing proposal still ends, and cannot expire.
        _warpToEpoch(6 + 9 + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                SlashingManager.NotPending.selector, first, SlashingManager.State.Executing
            )
        );
        manager.expire(first);
        assertEq(manager.execute(first), 5.1 ether, "anyone carries it on");
        assertEq(uint256(manager.stateOf(first)), uint256(SlashingManager.State.Executed));
        assertEq(manager.proposal(first).amount, 5.1 ether);
        assertEq(registry.insuranceOwed(), 5.1 ether);
    }

    // ================================================================ finding 2: nine slashes
    /// A position (1 -> 2, made in 6) whose source is slashed in nine distinct epochs 6..14, no
    /// report paying any of them: it still releases at maturity, exactly the shares it holds,
    /// into the owner's delegation, and its rewards stay claimable.
    function test_position_releasesAfterNineSlashesOfItsSource() public {
        _registerAs(address(0x1000), 1 ether, 0); // 1: the source
        _registerAs(address(0x2000), 1 ether, 0); // 2: the destination
        uint256 shares = _delegateAs(honest, 1, 10 ether);
        _warpToEpoch(6);
        vm.prank(honest);
        registry.redelegate(1, 2, shares / 2); // 5 ether, position (1 -> 2, 6)

        vm.prank(slasher);
        registry.slash(1, 6, 2000); // 20% of 11 = 2.2: 1 from the bond, 1.2 over the pool and the tranche
        for (uint64 e = 7; e <= 14; ++e) {
            _warpToEpoch(e);
            vm.prank(slasher);
            registry.slash(1, 6, 100); // 0.11 each, half from the tranche
        }
        (uint256 left,,) = registry.redelegation(honest, 1, 2, 6);
        // The tranche gave half of each slash's rest: 0.6 + 8 * 0.055 = 1.04 of its 5.
        assertApproxEqAbs(registry.sharesToTokens(2, left), 3.96 ether, 10, "what the position holds");

        _warpToEpoch(6 + 1 + 9);
        vm.prank(honest);
        assertEq(registry.releaseRedelegation(1, 2, 6), left, "releases exactly what it holds");
        (uint256 mine,,,) = registry.delegation(2, honest);
        assertEq(mine, left, "into the owner's delegation");
        (uint256 after_,,) = registry.redelegation(honest, 1, 2, 6);
        assertEq(after_, 0);

        // Reports catch up: the position earns for its epochs in 2's pool, the owner from 17.
        _warpToEpoch(20);
        _payEach(2, 19, 1 ether);
        (, uint256 due,) = registry.redelegation(honest, 1, 2, 6);
        assertGt(due, 0, "the position's rewards through its release");
        vm.prank(honest);
        assertEq(registry.claimRedelegationRewards(1, 2, 6, honest), due);
        assertEq(address(registry).balance, registry.totalOwed());
    }
}
