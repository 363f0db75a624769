// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {LiquidFixture} from "./utils/LiquidFixture.sol";
import {LiquidStakingToken} from "../src/LiquidStakingToken.sol";
import {LiquidRateFeed} from "../src/LiquidRateFeed.sol";
import {LiquidPositions} from "../src/liquid/LiquidPositions.sol";
import {SeqstakeTimelock} from "../src/governance/SeqstakeTimelock.sol";
import {RewardMath} from "../src/libraries/RewardMath.sol";

/// The liquid token's deposit side: limits, the exchange rate with the virtual offset,
/// permit, and the Chainlink-shaped feed.
contract LiquidStakingTokenTest is LiquidFixture {
    LiquidRateFeed internal feed;
    address internal alice = address(0xA1);
    address internal bob = address(0xB0);
    uint256 internal deployedAt;

    function _liquidParams() internal view override returns (LiquidStakingToken.Params memory p) {
        p = super._liquidParams();
        p.totalCap = 1000 ether;
        p.stakeLimitMax = 100 ether;
        p.stakeLimitRefillPerBlock = 10 ether;
    }

    function setUp() public {
        vm.roll(100);
        _setUpLiquid();
        deployedAt = vm.getBlockTimestamp();
        feed = new LiquidRateFeed(token);
        vm.deal(alice, 10_000 ether);
        vm.deal(bob, 10_000 ether);
    }

    function test_constructor_refusesBadParameters() public {
        LiquidStakingToken.Params memory p = _liquidParams();
        p.minDeposit = 0;
        vm.expectRevert(abi.encodeWithSelector(LiquidStakingToken.InvalidParameter.selector, "minDeposit"));
        new LiquidStakingToken(p, address(timelock));
        p = _liquidParams();
        p.minDeposit = 1001 ether;
        vm.expectRevert(abi.encodeWithSelector(LiquidStakingToken.InvalidParameter.selector, "minDeposit"));
        new LiquidStakingToken(p, address(timelock));
        p = _liquidParams();
        p.totalCap = uint256(type(uint96).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(LiquidStakingToken.InvalidParameter.selector, "totalCap"));
        new LiquidStakingToken(p, address(timelock));
        p = _liquidParams();
        p.stakeLimitMax = 0.0001 ether;
        vm.expectRevert(abi.encodeWithSelector(LiquidStakingToken.InvalidParameter.selector, "stakeLimitMax"));
        new LiquidStakingToken(p, address(timelock));
        p = _liquidParams();
        p.stakeLimitMax = uint256(type(uint96).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(LiquidStakingToken.InvalidParameter.selector, "stakeLimitMax"));
        new LiquidStakingToken(p, address(timelock));
        p = _liquidParams();
        p.longestExit = 0;
        vm.expectRevert(abi.encodeWithSelector(LiquidStakingToken.InvalidParameter.selector, "longestExit"));
        new LiquidStakingToken(p, address(timelock));
        p = _liquidParams();
        p.registry = alice;
        vm.expectRevert(abi.encodeWithSelector(LiquidStakingToken.InvalidParameter.selector, "registry"));
        new LiquidStakingToken(p, address(timelock));
        p = _liquidParams();
        p.poolFeeBps = 10_001;
        vm.expectRevert(abi.encodeWithSelector(LiquidStakingToken.InvalidParameter.selector, "poolFeeBps"));
        new LiquidStakingToken(p, address(timelock));
        p = _liquidParams();
        p.perSequencerCapBps = 0;
        vm.expectRevert(
            abi.encodeWithSelector(LiquidStakingToken.InvalidParameter.selector, "perSequencerCapBps")
        );
        new LiquidStakingToken(p, address(timelock));
        p = _liquidParams();
        p.instantExitFeeBps = 9; // below the largest rate move of one report (10 bps)
        vm.expectRevert(
            abi.encodeWithSelector(LiquidStakingToken.InvalidParameter.selector, "instantExitFeeBps")
        );
        new LiquidStakingToken(p, address(timelock));
        p = _liquidParams();
        p.staleTimeoutEpochs = 0;
        vm.expectRevert(
            abi.encodeWithSelector(LiquidStakingToken.InvalidParameter.selector, "staleTimeoutEpochs")
        );
        new LiquidStakingToken(p, address(timelock));
        p = _liquidParams();
        p.treasury = address(0);
        vm.expectRevert(LiquidStakingToken.ZeroAddress.selector);
        new LiquidStakingToken(p, address(timelock));
        vm.expectRevert(LiquidStakingToken.ZeroAddress.selector);
        new LiquidStakingToken(_liquidParams(), address(0));
        vm.expectRevert(abi.encodeWithSelector(LiquidStakingToken.AdminNotTimelock.selector, alice));
        new LiquidStakingToken(_liquidParams(), alice);
        address[] memory none = new address[](0);
        SeqstakeTimelock quick = new SeqstakeTimelock(_delay() - 1, none, none, address(0));
        vm.expectRevert(
            abi.encodeWithSelector(LiquidStakingToken.AdminDelayTooShort.selector, _delay() - 1, _delay())
        );
        new LiquidStakingToken(_liquidParams(), address(quick));
    }

    /// The positions' code the token deployed runs only by DELEGATECALL from the token, with the
    /// token's parameters.
    function test_extension_isTheTokensOwnAndRefusesDirectCalls() public {
        LiquidPositions extension = LiquidPositions(token.extension());
        assertEq(address(extension.registry()), address(registry));
        assertEq(extension.perSequencerCapBps(), token.perSequencerCapBps());
        assertEq(extension.maxMovedPerEpoch(), token.maxMovedPerEpoch());
        vm.expectRevert(LiquidPositions.NotDelegated.selector);
        extension.releaseMatured();
        vm.expectRevert(LiquidPositions.NotDelegated.selector);
        extension.redelegateStake(1, 2, 1 ether);
        vm.expectRevert(LiquidPositions.NotDelegated.selector);
        extension.harvestPositions();
        vm.expectRevert(LiquidPositions.NotDelegated.selector);
        extension.markPositions(1);
        vm.expectRevert(LiquidPositions.NotDelegated.selector);
        extension.slashExposure(1, 5, 100);
    }

    function test_deposit_mintsAtTheRateWithTheVirtualOffset() public {
        vm.expectEmit(true, true, true, true);
        emit LiquidStakingToken.Deposited(alice, alice, 1 ether, 1000 ether, address(0x12EF));
        vm.prank(alice);
        uint256 shares = token.deposit{value: 1 ether}(address(0x12EF));
        assertEq(shares, 1 ether * 1000, "first deposit: 1e3 shares per wei");
        assertEq(token.balanceOf(alice), shares);
        assertEq(uint256(token.decimals()), 21);
        assertEq(token.getRate(), 1 ether, "one whole token is worth one whole native token");
        assertEq(token.bufferedAssets(), 1 ether);
        assertEq(token.totalPooledAssets(), 1 ether);

        vm.prank(bob);
        uint256 bobShares = token.depositFor{value: 2 ether}(alice, address(0));
        assertEq(bobShares, RewardMath.sharesForDeposit(2 ether, shares, 1 ether));
        assertEq(token.balanceOf(alice), shares + bobShares, "depositFor mints to the receiver");
        assertEq(token.balanceOf(bob), 0);
        assertEq(token.convertToAssets(token.balanceOf(alice)), 3 ether);
    }

    function test_deposit_revertPaths() public {
        vm.startPrank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(LiquidStakingToken.DepositTooSmall.selector, 0.0009 ether, 0.001 ether)
        );
        token.deposit{value: 0.0009 ether}(address(0));
        vm.expectRevert(LiquidStakingToken.ZeroAddress.selector);
        token.depositFor{value: 1 ether}(address(0), address(0));
        vm.expectRevert(
            abi.encodeWithSelector(LiquidStakingToken.StakeLimitExceeded.selector, 101 ether, 100 ether)
        );
        token.deposit{value: 101 ether}(address(0));
        (bool ok, bytes memory reason) = address(token).call{value: 1 ether}("");
        assertFalse(ok, "plain transfers are refused");
        assertEq(keccak256(reason), keccak256(abi.encodeWithSelector(LiquidStakingToken.UseDeposit.selector)));
        vm.stopPrank();
        assertEq(token.totalSupply(), 0, "a refused deposit changes nothing");
    }

    function test_stakeLimit_refillsPerBlockUpToTheMaximum() public {
        vm.startPrank(alice);
        token.deposit{value: 100 ether}(address(0));
        assertEq(token.stakeLimit(), 0);
        vm.expectRevert(abi.encodeWithSelector(LiquidStakingToken.StakeLimitExceeded.selector, 1 ether, 0));
        token.deposit{value: 1 ether}(address(0));
        vm.roll(103);
        assertEq(token.stakeLimit(), 30 ether, "10 per block");
        token.deposit{value: 25 ether}(address(0));
        assertEq(token.stakeLimit(), 5 ether);
        vm.roll(1000);
        assertEq(token.stakeLimit(), 100 ether, "never above the maximum");
        vm.stopPrank();
    }

    function test_totalCap_boundsThePooledAssets() public {
        vm.startPrank(alice);
        for (uint256 i; i < 10; ++i) {
            vm.roll(100 + 10 * (i + 1));
            token.deposit{value: 100 ether}(address(0));
        }
        vm.roll(300);
        vm.expectRevert(
            abi.encodeWithSelector(LiquidStakingToken.TotalCapExceeded.selector, 1000.001 ether, 1000 ether)
        );
        token.deposit{value: 0.001 ether}(address(0));
        vm.stopPrank();
    }

    function test_donation_forcedValueMovesNoRate() public {
        vm.prank(alice);
        token.deposit{value: 1 ether}(address(0));
        uint256 rate = token.getRate();
        vm.deal(address(token), address(token).balance + 500 ether);
        assertEq(token.getRate(), rate);
        assertEq(token.totalPooledAssets(), 1 ether);
    }

    function test_donation_firstDepositorCannotRobTheNext() public {
        // The attacker deposits the minimum and force-sends a fortune; the rate ignores the
        // balance, so the victim's deposit is worth what it paid.
        vm.prank(bob);
        token.deposit{value: 0.001 ether}(address(0));
        vm.deal(address(token), address(token).balance + 1000 ether);
        vm.prank(alice);
        uint256 shares = token.deposit{value: 10 ether}(address(0));
        assertEq(token.convertToAssets(shares), 10 ether);
    }

    /// A deposit never lowers the rate, with rewards harvested and a slash in the pool before it
    /// (so the rate is not 1/1000 and the deposit's shares round), and its shares are worth at
    /// most what it paid and less than one share's value plus 1 wei less.
    function testFuzz_deposit_neverLowersTheRate(
        uint96 first,
        uint96 second,
        uint96 reward,
        uint16 slashBps,
        uint8 harvests
    ) public {
        first = uint96(bound(first, 0.002 ether, 100 ether));
        second = uint96(bound(second, 0.001 ether, 100 ether));
        reward = uint96(bound(reward, 0, 5 ether));
        slashBps = uint16(bound(slashBps, 0, 5000));
        harvests = uint8(bound(harvests, 1, 3));
        _registerAs(address(0x100), 1 ether, 1000);
        uint32[] memory ids = new uint32[](1);
        ids[0] = 1;
        vm.prank(reporter);
        registry.updateActiveSet(ids);
        vm.prank(alice);
        token.deposit{value: first}(address(0));
        uint256[] memory amounts = new uint256[](1);
        amounts[0] = first / 2; // the per-sequencer cap is 50%
        vm.prank(reporter);
        token.delegateBuffer(ids, amounts);
        for (uint256 h; h < harvests; ++h) {
            uint64 epoch = registry.currentEpoch();
            _warpToEpoch(epoch + 1);
            _payEach(1, epoch, uint256(reward) / (h + 1));
            vm.prank(reporter);
            token.harvest(ids, type(uint256).max);
        }
        if (slashBps > 0) {
            uint64 now_ = registry.currentEpoch();
            vm.prank(slasher);
            registry.slash(1, now_, slashBps);
        }
        uint256 pooled = token.totalPooledAssets() + 1;
        uint256 supply = token.totalSupply() + 1000;
        vm.roll(200);
        vm.prank(bob);
        uint256 shares = token.deposit{value: second}(address(0));
        // (pooled' + 1) / (supply' + 1000) >= (pooled + 1) / (supply + 1000), by cross-multiplying.
        assertGe((token.totalPooledAssets() + 1) * supply, pooled * (token.totalSupply() + 1000), "rate");
        uint256 worth = token.convertToAssets(shares);
        assertLe(worth, second, "never worth more than paid");
        // The shares round down (less than one share lost, worth pooled / supply at most) and
        // their value rounds down once more (less than 1 wei): the loss is under one share's
        // value plus 1 wei, 2 wei while a share is worth less than 1 wei (a high rate after
        // large rewards makes it more).
        uint256 oneShare = (pooled + supply - 1) / supply;
        assertGe(worth + oneShare + 1, second, "less than one share's value plus 1 wei lost");
    }

    function test_permit_approvesBySignature() public {
        uint256 key = 0xA11CE;
        address owner = vm.addr(key);
        bytes32 typehash =
            keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
        uint256 deadline = block.timestamp + 60;
        bytes32 digest = keccak256(
            abi.encodePacked(
                hex"1901",
                token.DOMAIN_SEPARATOR(),
                keccak256(abi.encode(typehash, owner, bob, 5 ether, token.nonces(owner), deadline))
            )
        );
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        token.permit(owner, bob, 5 ether, deadline, v, r, s);
        assertEq(token.allowance(owner, bob), 5 ether);
        assertEq(token.nonces(owner), 1);
        vm.expectRevert(); // the same signature cannot be used twice
        token.permit(owner, bob, 5 ether, deadline, v, r, s);
    }

    function test_feed_hasTheShapeOfAChainlinkAggregator() public {
        vm.prank(alice);
        token.deposit{value: 3 ether}(address(0));
        assertEq(uint256(feed.decimals()), 18);
        assertEq(feed.version(), 1);
        assertEq(feed.description(), "stSEQ / SEQ exchange rate");
        (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredIn) =
            feed.latestRoundData();
        assertEq(uint256(roundId), 0);
        assertEq(uint256(answer), token.getRate());
        assertEq(updatedAt, deployedAt, "the rate last moved at deployment");
        assertEq(startedAt, updatedAt);
        assertEq(uint256(answeredIn), uint256(roundId));
        (, int256 same,,,) = feed.getRoundData(0);
        assertEq(uint256(same), uint256(answer));
        vm.expectRevert(abi.encodeWithSelector(LiquidRateFeed.NoHistoricalRounds.selector, 1, 0));
        feed.getRoundData(1);
    }
}
