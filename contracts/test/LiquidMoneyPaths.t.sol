// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {LiquidFixture} from "./utils/LiquidFixture.sol";
import {LiquidStakingToken} from "../src/LiquidStakingToken.sol";

/// The liquid token's money paths pinned to hand-worked figures: the pool fee's shares at a
/// harvest, the share rate, a deposit's shares and a ticket's value with unequal rates at
/// request and finalization. Every expected value below is a literal worked from the formulas
/// of docs/ECONOMICS.md (rounding table) and the token's NatSpec, never by calling the code under
/// test or RewardMath, so a one-line change of the rounding or of the fee (docs/SECURITY.md,
/// "Mutation testing") fails here.
///
/// The worked state (`_harvested`), every amount in wei:
/// - Alice deposits 60 ether into the empty token: 60e18 * (0 + 1000) / (0 + 1) = 6e22 shares.
/// - The token delegates 30 ether to sequencer 1 (bond 10 ether, commission 10%) in epoch 5;
///   its shares (30e18 * 1000 = 3e22, the pool's only ones) earn from epoch 6.
/// - Epoch 5 is paid nothing, epoch 6 pays sequencer 1 4 ether: commission 4 * 10% = 0.4, rest
///   3.6, the bond's part 3.6 * 10 / (10 + 30) = 0.9, the pool's 2.7 ether. The increment is
///   2.7e18 * 1e27 / 3e22 = 9e22 exactly, so the token's due is 3e22 * 9e22 / 1e27 = 2.7 ether.
/// - The harvest (pool fee 10%, no rate bound) adds 2.7 ether to the buffer: pooled 62.7 ether,
///   supply 6e22. The fee is 2.7e18 * 1000 / 10_000 = 0.27 ether, minted to the treasury as
///   shares worth it at the rate without it:
///       feeShares = floor(0.27e18 * (6e22 + 1000) / (62.7e18 - 0.27e18 + 1))
///                 = floor(16_200_000_000_000_000_270_000_000_000_000_000_000_000 / 62_430_000_000_000_000_001)
///                 = 259_490_629_505_045_651_129
///   (cross-check by a second route: the holders keep 62.43 ether on 6e22 shares, a rate of
///   1.0405e-3 per share; 0.27 ether at that rate is 0.27e18 / 1.0405e-3 = 2.5949e20 shares.)
///   Supply after: 60_259_490_629_505_045_651_129.
/// - The share rate after: floor((62.7e18 + 1) * 1e27 / (60_259_490_629_505_045_651_129 + 1000))
///   = 1_040_499_999_999_999_999_999_332 (RAY per share; the division leaves a remainder, so a
///   rate rounded up would end in ...333). The holders' rate 62.43 / 60 = 1.0405 per 1000 shares,
///   less the virtual offset's crumbs.
contract LiquidMoneyPathsTest is LiquidFixture {
    address internal alice = address(0xA1);
    address internal bob = address(0xB0);

    uint256 internal constant SUPPLY_0 = 60_000_000_000_000_000_000_000; // 6e22
    uint256 internal constant CLAIMED = 2_700_000_000_000_000_000; // 2.7 ether
    uint256 internal constant FEE = 270_000_000_000_000_000; // 0.27 ether
    uint256 internal constant FEE_SHARES = 259_490_629_505_045_651_129;
    uint256 internal constant SUPPLY_1 = 60_259_490_629_505_045_651_129;
    uint256 internal constant POOLED_1 = 62_700_000_000_000_000_000; // 62.7 ether
    uint256 internal constant RATE_1 = 1_040_499_999_999_999_999_999_332;

    function _liquidParams() internal view override returns (LiquidStakingToken.Params memory p) {
        p = super._liquidParams();
        p.poolFeeBps = 1000;
        p.maxMovedPerEpoch = 100 ether;
    }

    function setUp() public {
        _setUpLiquid(); // epoch 5
        _threeActiveSequencers();
        assertEq(_depositAs(alice, 60 ether), SUPPLY_0, "60 ether into the empty token: 1000 shares per wei");
    }

    function _harvest() internal returns (uint256) {
        uint32[] memory ids = new uint32[](1);
        ids[0] = 1;
        vm.prank(reporter);
        return token.harvest(ids, type(uint256).max);
    }

    /// The worked state of the contract's comment up to the harvest: 2.7 ether due to the token.
    function _rewarded() internal {
        _delegate(1, 30 ether);
        _warpToEpoch(6);
        _payEach(1, 5, 0);
        _warpToEpoch(7);
        _payEach(1, 6, 4 ether);
    }

    /// The worked state of the contract's comment: one harvest of 2.7 ether at a 10% fee.
    function _harvested() internal {
        _rewarded();
        assertEq(_harvest(), CLAIMED, "the token's due, worked by hand");
    }

    /// Killed mutations: the fee branch never taken (no mint), and the fee shares priced
    /// without subtracting the fee (258_373_205_741_626_794_258 shares, too few).
    function test_harvest_mintsTheWorkedFeeShares() public {
        _rewarded();
        vm.expectEmit(true, true, true, true, address(token));
        emit LiquidStakingToken.Harvested(CLAIMED, CLAIMED, FEE, FEE_SHARES);
        assertEq(_harvest(), CLAIMED, "the token's due, worked by hand");
        assertEq(token.balanceOf(treasury), FEE_SHARES, "the treasury's fee shares");
        assertEq(token.totalSupply(), SUPPLY_1, "supply: alice's 6e22 plus the fee shares");
        assertEq(token.totalPooledAssets(), POOLED_1, "60 + 2.7 ether");
        assertEq(token.bufferedAssets(), 32_700_000_000_000_000_000, "30 left + 2.7 harvested");
        // The treasury's shares are worth the fee, less rounding: floor(FEE_SHARES * (62.7e18
        // + 1) / (SUPPLY_1 + 1000)) = 269_999_999_999_999_999 (a wei of rounding down).
        assertEq(token.convertToAssets(FEE_SHARES), 269_999_999_999_999_999, "the fee, less a wei");
        // Alice's 6e22 shares: floor(6e22 * (62.7e18 + 1) / (SUPPLY_1 + 1000)) = 62.43 ether less
        // the rounding.
        assertEq(token.convertToAssets(SUPPLY_0), 62_429_999_999_999_999_999, "alice keeps the 90%");
    }

    /// Killed mutation: `_shareRate` rounded up (the worked rate leaves a remainder).
    function test_shareRate_isTheWorkedRateRoundedDown() public {
        _harvested();
        assertEq(token.shareRate(), RATE_1, "floor((62.7e18 + 1) * 1e27 / (SUPPLY_1 + 1000))");
        // A ticket requested now records that rate and its value at it:
        // floor(6e21 * RATE_1 / 1e27) = 6_242_999_999_999_999_999.
        uint256 id = _requestAs(alice, 6e21);
        (uint256 rate,) = queue.rateAtRequest(id);
        assertEq(rate, RATE_1, "the rate at request");
        (, uint256 atRequest,) = queue.request(id);
        assertEq(atRequest, 6_242_999_999_999_999_999, "the value at request");
    }

    /// Killed mutation: a deposit's shares rounded up. After the worked harvest Bob's 1 ether
    /// buys floor(1e18 * (SUPPLY_1 + 1000) / (62.7e18 + 1)) = 961_076_405_574_243_152_331
    /// shares (remainder 14_223_594_425_756_847_669, so rounding up would mint one more).
    function test_deposit_mintsTheWorkedSharesRoundedDown() public {
        _harvested();
        assertEq(_depositAs(bob, 1 ether), 961_076_405_574_243_152_331, "bob's shares");
        assertEq(token.totalSupply(), SUPPLY_1 + 961_076_405_574_243_152_331);
        assertEq(token.totalPooledAssets(), POOLED_1 + 1 ether);
        // The rate does not fall: 63.7e18 + 1 over the new supply + 1000, worked the same way.
        assertEq(token.shareRate(), 1_040_499_999_999_999_999_999_336, "the rate after bob's deposit");
    }

    /// A ticket requested at RATE_1, finalized after a second harvest raised the rate: it takes
    /// its value at request (the smaller), 6_242_999_999_999_999_999 wei, although its shares
    /// are then worth 6_484_953_588_516_746_411.
    /// Second harvest: epoch 7 pays 4 ether again, due 2.7 ether (same worked split); pooled
    /// 65.4 ether; fee 0.27 ether = floor(0.27e18 * (SUPPLY_1 + 1000) / (65.13e18 + 1)) =
    /// 249_809_035_313_470_940_055 shares; rate floor((65.4e18 + 1) * 1e27 / (SUPPLY_1 +
    /// 249_809_035_313_470_940_055 + 1000)) = 1_080_825_598_086_124_401_912_550.
    /// Killed mutations: `max` for `min` in the queue's batch value or in a ticket's value.
    function test_ticket_rateRoseAfterRequest_paysTheValueAtRequest() public {
        _harvested();
        uint256 id = _requestAs(alice, 6e21);
        _warpToEpoch(8);
        _payEach(1, 7, 4 ether);
        assertEq(_harvest(), CLAIMED, "the second harvest's due");
        assertEq(token.finalizationRate(), 1_080_825_598_086_124_401_912_550, "the rate at finalization");
        assertEq(_finalizeTo(id), 6_242_999_999_999_999_999, "the batch locks the value at request");
        _claimPays(alice, id, 6_242_999_999_999_999_999, "the ticket pays its value at request");
        assertEq(address(queue).balance, 0);
    }

    /// A ticket requested at RATE_1, finalized after a slash lowered the rate: it takes its
    /// shares at the finalization rate (the smaller). The slash: 50% of sequencer 1's stake at
    /// epoch 7 (bond 10 + pool 30) = 20 ether, 10 from the bond and 10 from the pool the token
    /// holds alone, so pooled 52.7 ether and the rate floor((52.7e18 + 1) * 1e27 / (SUPPLY_1 +
    /// 1000)) = 874_551_036_682_615_629_986_136; the ticket's 6e21 shares are then worth
    /// floor(6e21 * 874_551_036_682_615_629_986_136 / 1e27) = 5_247_306_220_095_693_779.
    /// Killed mutations: `max` for `min` in the queue's batch value or in a ticket's value.
    function test_ticket_rateFellAfterRequest_paysTheSharesAtTheFinalizationRate() public {
        _harvested();
        uint256 id = _requestAs(alice, 6e21);
        vm.prank(slasher);
        registry.slash(1, 7, 5000);
        assertEq(token.totalPooledAssets(), 52_700_000_000_000_000_000, "62.7 less the pool's 10");
        assertEq(token.finalizationRate(), 874_551_036_682_615_629_986_136, "the rate at finalization");
        assertEq(_finalizeTo(id), 5_247_306_220_095_693_779, "the batch locks the shares at the rate");
        _claimPays(alice, id, 5_247_306_220_095_693_779, "the ticket pays its shares at the lower rate");
    }

    /// The held gain of a finalization (review finding 8) after the rise of
    /// `test_ticket_rateRoseAfterRequest_paysTheValueAtRequest`: the ticket's 6e21 shares are
    /// worth floor(6e21 * (65.4e18 + 1) / (SUPPLY_1 + 249_809_035_313_470_940_055 + 1000)) =
    /// 6_484_953_588_516_746_411 at the rate, the ticket takes 6_242_999_999_999_999_999, and the
    /// difference, 241_953_588_516_746_412, is held out of the pooled assets (65.4 ether less
    /// both: 58_915_046_411_483_253_589). Killed mutation: the gain not held.
    function test_finalize_holdsTheWorkedGainOutOfThePool() public {
        _harvested();
        uint256 id = _requestAs(alice, 6e21);
        _warpToEpoch(8);
        _payEach(1, 7, 4 ether);
        _harvest();
        assertEq(token.totalPooledAssets(), 65_400_000_000_000_000_000, "62.7 + 2.7 ether");
        _finalizeTo(id);
        assertEq(token.heldGain(), 241_953_588_516_746_412, "the shares' value less the ticket's");
        assertEq(token.totalPooledAssets(), 58_915_046_411_483_253_589, "less the ticket and the held gain");
        assertEq(token.totalSupply(), 54_509_299_664_818_516_591_184, "the ticket's shares burned");
    }

    /// An instant exit of 1e21 shares at RATE_1: worth floor(1e21 * (62.7e18 + 1) / (SUPPLY_1 +
    /// 1000)) = 1_040_499_999_999_999_999; the fee (10 bps) rounds up: ceil(1_040_499_999_999_999_999
    /// * 10 / 10_000) = 1_040_500_000_000_000 (rounded down it would be ...999); paid
    /// 1_039_459_499_999_999_999. Killed mutation: the fee rounded down.
    function test_instantExit_feeIsTheWorkedCeiling() public {
        _harvested();
        uint256 before = alice.balance;
        vm.prank(alice);
        uint256 paid = token.instantExit(1e21, alice);
        assertEq(paid, 1_039_459_499_999_999_999, "the value less the fee");
        assertEq(alice.balance - before, 1_039_459_499_999_999_999);
        assertEq(token.pendingFees(), 1_040_500_000_000_000, "the fee, rounded up, waits for the next report");
        assertEq(token.bufferedAssets(), 32_700_000_000_000_000_000 - 1_040_499_999_999_999_999);
    }

    /// `owner` claims ticket `id` (the queue's only one finalized, checkpoint 0): it pays
    /// exactly `expected` to the owner and leaves nothing locked.
    function _claimPays(address owner, uint256 id, uint256 expected, string memory what) internal {
        uint256 before = owner.balance;
        vm.prank(owner);
        uint256 paid = queue.claimWithdrawal(id, 0, owner);
        assertEq(paid, expected, what);
        assertEq(owner.balance - before, expected, what);
        assertEq(queue.lockedAssets(), 0, "nothing left locked");
    }
}
