// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {SystemFixture} from "./utils/SystemFixture.sol";
import {ReportExecutor} from "../src/ReportExecutor.sol";
import {LiquidStakingToken} from "../src/LiquidStakingToken.sol";
import {ReportTypes} from "../src/interfaces/ReportTypes.sol";

/// Review finding 8: the harvest's rise is bounded (and the instant-exit fee covers the largest
/// bounded rise), but finalizing long-waiting tickets handed their accrued gain to the shares
/// left at once: a deposit right before the harvest call and an instant exit right after it
/// netted more than the fee. The gain is now held out of the pooled assets and joins within
/// later reports' bounds.
contract ReportFinalizationRiseTest is SystemFixture {
    address internal whale = address(0x3A1E);
    address internal searcher = address(0x5EA4);

    function _liquidParams() internal view override returns (LiquidStakingToken.Params memory p) {
        p = super._liquidParams();
        // The fee covers the largest move of one report (ceil(65535 bps * 8 * 100 s / year) = 2 bps).
        p.instantExitFeeBps = 2;
        p.maxRateMoveBps = 2;
    }

    function _executorParams() internal view override returns (ReportExecutor.Params memory p) {
        p = super._executorParams();
        p.maxRateAprBps = 65_535;
    }

    function setUp() public {
        _setUpSystem();
    }

    /// A whale's ticket waits a report whose windfall keeps every harvest at the bound; the
    /// next report finalizes it.
    function _reportFinalizingALongWaitingTicket() internal returns (ReportTypes.Report memory r) {
        _toEpoch(6);
        _run(_prepare(_report(_plans(1), _liquid(8 ether, 8 ether)))); // 16 staked, 4 buffered
        uint256 whaleShares = _depositAs(whale, 200 ether);
        uint256 ticket = _requestAs(whale, whaleShares);
        _toEpoch(14);
        Plan[] memory plans = _plans(8);
        plans[3].gross[1] = 10 ether;
        _run(_prepare(_report(plans, _liquid(8 ether, 8 ether))));
        assertGt(token.carriedRewards(), 0, "rewards carried: each harvest rises by the bound");
        _toEpoch(22);
        r = _report(_plans(8), _liquid(8 ether, 8 ether));
        r.liquid.batches = _oneBatch(ticket, type(uint256).max);
        r = _prepare(r);
        _agree(r);
        _payAll(r);
    }

    function test_aDepositBeforeTheFinalizingHarvestAndAnExitAfterItLoseTheFee() public {
        ReportTypes.Report memory r = _reportFinalizingALongWaitingTicket();
        uint256 stake = 50 ether;
        uint256 shares = _depositAs(searcher, stake);
        uint256 rateBefore = token.shareRate();
        assertFalse(executor.execute(r), "harvest + finalization");
        assertEq(queue.lastFinalizedId(), 1, "finalized");
        uint256 rateAfter = token.shareRate();
        vm.prank(searcher);
        uint256 out = token.instantExit(shares, searcher);
        assertTrue(executor.execute(r), "moves, end");
        // The report's whole rise (harvest and finalization) within the bound: 65535 bps a
        // year over 8 epochs of 100 s, under 2 bps (the fee).
        assertLe((rateAfter - rateBefore) * 10_000, rateBefore * 2, "within the fee");
        assertLe(out, stake, "the sandwich does not pay");
        assertGt(token.heldGain(), 0, "the ticket's gain is held for later harvests");
    }

    /// The held gain joins later reports' harvests within their bound, and all of it joins in
    /// the end.
    function test_theHeldGainJoinsLaterHarvestsWithinTheirBound() public {
        ReportTypes.Report memory r = _reportFinalizingALongWaitingTicket();
        _executeAll(r);
        uint256 held = token.heldGain();
        assertGt(held, 0, "held");
        for (uint64 e = 30; token.heldGain() > 0 && e < 30 + 8 * 200; e += 8) {
            uint256 before = token.heldGain();
            _toEpoch(e);
            _run(_prepare(_report(_plans(8), _liquid(8 ether, 8 ether))));
            assertLt(token.heldGain(), before, "each harvest adds some");
        }
        assertEq(token.heldGain(), 0, "all of it joined");
    }
}
