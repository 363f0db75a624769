// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {LiquidFixture} from "./utils/LiquidFixture.sol";
import {LiquidStakingToken} from "../src/LiquidStakingToken.sol";
import {WithdrawalQueue} from "../src/WithdrawalQueue.sol";
import {SlashingManager} from "../src/SlashingManager.sol";
import {RewardMath} from "../src/libraries/RewardMath.sol";
import {Refuser} from "./utils/Refuser.sol";

/// Instant exit (free buffer only, capped, fee at least one report's rate move, fee joining
/// the pool at the next report), bunker mode while a slash proposal is pending (instant exit
/// closed, tickets finalize at the rate less the largest pending loss), the stale oracle.
contract LiquidExitTest is LiquidFixture {
    SlashingManager internal manager;
    address internal verifier = address(0x7E21);
    address internal alice = address(0xA1);
    address internal mallory = address(0xBAD);

    function _liquidParams() internal view override returns (LiquidStakingToken.Params memory p) {
        p = super._liquidParams();
        p.instantExitFeeBps = 100; // 1%
        p.maxRateMoveBps = 100; // the largest move one report may make
        p.instantExitCapPerEpoch = 20 ether;
    }

    function setUp() public {
        _setUpLiquid();
        manager = new SlashingManager(
            address(registry),
            SlashingManager.Params({
                vetoWindowEpochs: 2, maxFractionBps: 5000, maxPerPeriodBps: 5000, periodEpochs: 12
            }),
            address(timelock)
        );
        _governRegistry(abi.encodeCall(registry.grantRole, (registry.SLASHER_ROLE(), address(manager))));
        _govern(address(manager), abi.encodeCall(manager.grantRole, (manager.VERIFIER_ROLE(), verifier)));
        _govern(address(manager), abi.encodeCall(manager.grantRole, (manager.GUARDIAN_ROLE(), guardian)));
        _registerAs(address(0x100), 10 ether, 1000);
        uint32[] memory set = new uint32[](1);
        set[0] = 1;
        vm.prank(reporter);
        registry.updateActiveSet(set);
        _depositAs(alice, 60 ether);
    }

    function _delegate(uint256 amount) internal {
        uint32[] memory ids = new uint32[](1);
        ids[0] = 1;
        uint256[] memory amounts = new uint256[](1);
        amounts[0] = amount;
        vm.prank(reporter);
        token.delegateBuffer(ids, amounts);
    }

    function _harvest() internal {
        uint32[] memory ids = new uint32[](1);
        ids[0] = 1;
        vm.prank(reporter);
        token.harvest(ids, type(uint256).max);
    }

    function test_instantExit_paysTheValueLessTheFeeWhichJoinsThePoolAtTheNextReport() public {
        uint256 shares = token.balanceOf(alice) / 6; // 10 ether
        uint256 rate = token.shareRate();
        vm.prank(alice);
        uint256 paid = token.instantExit(shares, alice);
        assertEq(paid, 9.9 ether, "10 ether less the 1% fee");
        assertEq(token.pendingFees(), 0.1 ether);
        assertEq(token.totalPooledAssets(), 50 ether, "the fee stays out of the pool until a report");
        assertGe(token.shareRate(), rate, "no rate jump at the exit");
        _harvest();
        assertEq(token.pendingFees(), 0);
        assertEq(token.totalPooledAssets(), 50.1 ether, "the report adds the fee");
        assertGt(token.shareRate(), rate, "the fee raised the rate at the report");
    }

    function test_instantExit_onlyFromTheBufferAboveWhatTheQueueNeeds() public {
        _delegate(30 ether); // buffer 30
        vm.startPrank(alice);
        token.approve(address(queue), type(uint256).max);
        queue.requestWithdrawal(15_000 ether, alice); // the queue may need 15
        vm.expectRevert(
            abi.encodeWithSelector(LiquidStakingToken.InsufficientExitLiquidity.selector, 16 ether, 15 ether)
        );
        token.instantExit(16_000 ether, alice);
        token.instantExit(15_000 ether, alice);
        vm.stopPrank();
        assertEq(token.bufferedAssets(), 15 ether, "what the queue needs is still there");
    }

    function test_instantExit_isCappedPerEpoch() public {
        vm.startPrank(alice);
        token.instantExit(15_000 ether, alice);
        vm.expectRevert(
            abi.encodeWithSelector(LiquidStakingToken.ExitCapExceeded.selector, 25 ether, 20 ether)
        );
        token.instantExit(10_000 ether, alice);
        vm.stopPrank();
        _warpToEpoch(6);
        vm.prank(alice);
        token.instantExit(10_000 ether, alice);
    }

    function test_sandwich_depositBeforeAReportAndExitAfterLosesMoney() public {
        _delegate(30 ether);
        _warpToEpoch(7);
        _payEach(1, 6, 0.3 ether); // rewards waiting for the report: within one report's largest move
        // Mallory deposits right before the report and exits right after it.
        vm.deal(mallory, 15 ether);
        vm.prank(mallory);
        uint256 shares = token.deposit{value: 15 ether}(address(0));
        uint256 rate = token.shareRate();
        _harvest();
        uint256 move = (token.shareRate() - rate) * RewardMath.BPS / rate;
        assertLe(move, 100, "the report moved the rate by at most the fee");
        vm.prank(mallory);
        uint256 back = token.instantExit(shares, mallory);
        assertLt(back, 15 ether, "the sandwich loses money");
    }

    function test_bunkerMode_closesInstantExitAndLowersFinalizationUntilResolved() public {
        _delegate(30 ether);
        _warpToEpoch(6);
        vm.startPrank(alice);
        token.approve(address(queue), type(uint256).max);
        uint256 id = queue.requestWithdrawal(6000 ether, alice);
        vm.stopPrank();

        vm.prank(verifier);
        uint256 proposal = manager.propose(1, 6, 1, keccak256("evidence"), 5000);
        // 50% of the stake at epoch 6 (10 bond + 30 pool = 40) = 20; the token's exposure is 30.
        assertEq(token.pendingSlashLoss(), 20 ether);
        assertTrue((token.pendingSlashLoss() > 0), "bunker mode while the proposal is pending");
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(LiquidStakingToken.BunkerMode.selector, 20 ether));
        token.instantExit(1000 ether, alice);

        // A ticket finalized now is worth the rate less the pending loss.
        uint256 rateLessLoss =
            (token.totalPooledAssets() - 20 ether + 1) * RewardMath.RAY / (token.totalSupply() + 1000);
        assertEq(token.finalizationRate(), rateLessLoss);
        uint256 locked = _finalizeTo(id);
        (uint256 shares,,) = queue.request(id);
        assertEq(locked, shares * rateLessLoss / RewardMath.RAY, "no ticket escapes the pending slash");

        // The veto resolves it: instant exit opens again.
        vm.prank(guardian);
        manager.veto(proposal);
        assertEq(token.pendingSlashLoss(), 0);
        assertFalse((token.pendingSlashLoss() > 0));
        vm.prank(alice);
        token.instantExit(1000 ether, alice);
    }

    function test_bunkerMode_endsWhenTheSlashIsBooked() public {
        _delegate(30 ether);
        _warpToEpoch(6);
        vm.prank(verifier);
        uint256 proposal = manager.propose(1, 6, 1, keccak256("evidence"), 5000);
        _warpToEpoch(8);
        manager.execute(proposal); // 20: 10 from the bond, 10 from the token's pool stake
        assertEq(token.pendingSlashLoss(), 0, "released once the loss is booked");
        assertEq(token.stakeOf(1), 20 ether);
        assertEq(token.totalPooledAssets(), 50 ether);
    }

    function test_proposalHooks_onlyFromTheRegistrysSlasher() public {
        vm.expectRevert(abi.encodeWithSelector(LiquidStakingToken.NotSlasher.selector, address(this)));
        token.onSlashProposed(1, 1, 5, 100);
        vm.expectRevert(abi.encodeWithSelector(LiquidStakingToken.NotSlasher.selector, address(this)));
        token.onSlashResolved(1);
    }

    function test_staleOracle_closesInstantExit() public {
        _warpToEpoch(5 + 24);
        assertTrue(token.isStale());
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(LiquidStakingToken.StaleOracle.selector, 5, 29));
        token.instantExit(1000 ether, alice);
        _harvest(); // a report
        assertFalse(token.isStale());
        vm.prank(alice);
        token.instantExit(1000 ether, alice);
    }

    function test_instantExit_revertPaths() public {
        vm.startPrank(alice);
        vm.expectRevert(LiquidStakingToken.ZeroAddress.selector);
        token.instantExit(1000 ether, address(0));
        vm.expectRevert(LiquidStakingToken.ZeroShares.selector);
        token.instantExit(1, alice);
        vm.stopPrank();
        vm.prank(mallory);
        vm.expectRevert(); // ERC20InsufficientBalance
        token.instantExit(1000 ether, mallory);
    }

    function test_staleOracle_anyoneUndelegatesProRataAndFinalizesAsUnbondingMatures() public {
        _delegate(30 ether); // buffer 30
        vm.startPrank(alice);
        token.approve(address(queue), type(uint256).max);
        uint256 id = queue.requestWithdrawal(40_000 ether, alice); // needs 40: 10 beyond the buffer
        vm.stopPrank();
        vm.prank(mallory);
        vm.expectRevert(abi.encodeWithSelector(LiquidStakingToken.NotStale.selector, 5, 5));
        token.staleUndelegate(1);

        _warpToEpoch(5 + 24); // no report for the stale timeout
        uint64 roundBefore = token.rateUpdates();
        vm.prank(mallory);
        (uint64 completion, uint256 tokens) = token.staleUndelegate(1);
        assertEq(tokens, 10 ether, "the pool's whole part of the shortfall");
        assertEq(uint256(completion), 29 + 1 + UNBONDING);
        assertEq(uint256(token.rateUpdates()), uint256(roundBefore), "the feed does not look fresh");
        vm.prank(mallory);
        vm.expectRevert(abi.encodeWithSelector(LiquidStakingToken.NothingToUndelegate.selector, 1));
        token.staleUndelegate(1);

        uint256[] memory ends = new uint256[](1);
        ends[0] = id;
        vm.prank(mallory);
        vm.expectRevert(
            abi.encodeWithSelector(LiquidStakingToken.InsufficientBuffer.selector, 40 ether, 30 ether)
        );
        queue.finalize(ends);

        _warpToEpoch(completion);
        vm.startPrank(mallory); // anyone, all the way
        token.withdrawUnbonded(1, completion);
        assertEq(queue.finalize(ends), 40 ether, "at the current internal rate");
        vm.stopPrank();
        uint256[] memory hints = queue.findCheckpointHints(ends);
        vm.prank(alice);
        assertEq(queue.claimWithdrawal(id, hints[0], alice), 40 ether);
    }
}
