// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {LiquidFixture} from "../utils/LiquidFixture.sol";
import {LiquidHandler} from "./LiquidHandler.sol";

/// The liquid token's and the withdrawal queue's invariants under random sequences of
/// deposits, requests, claims, instant exits, reports, matured buckets and slashes.
contract LiquidInvariantsTest is LiquidFixture {
    LiquidHandler internal handler;

    function setUp() public {
        _setUpLiquid();
        // Sequencer 1 (the rebalances' source) bonds the minimum, so slashes reach past the bond
        // into its pool, buckets and tranches (the token's positions).
        _registerAs(address(0x100), 1 ether, 1000);
        _registerAs(address(0x101), 10 ether, 500);
        uint32[] memory set = new uint32[](2);
        (set[0], set[1]) = (1, 2);
        vm.prank(reporter);
        registry.updateActiveSet(set);
        _govern(address(queue), abi.encodeCall(queue.grantRole, (queue.FINALIZER_ROLE(), reporter)));
        handler = new LiquidHandler(registry, token, queue, reporter, slasher);
        bytes4[] memory selectors = new bytes4[](17);
        selectors[0] = handler.deposit.selector;
        selectors[1] = handler.request.selector;
        selectors[2] = handler.claim.selector;
        selectors[3] = handler.instantExit.selector;
        selectors[4] = handler.advance.selector;
        selectors[5] = handler.report.selector;
        selectors[6] = handler.withdrawBucket.selector;
        selectors[7] = handler.slash.selector;
        selectors[8] = handler.deposit.selector;
        selectors[9] = handler.report.selector;
        // Finding 7: requests between rewards and slashes, finalized in arbitrary cuts.
        selectors[10] = handler.finalizeAnyCut.selector;
        selectors[11] = handler.request.selector;
        // Buckets mature only after the unbonding period: a second entry, so most runs withdraw one.
        selectors[12] = handler.withdrawBucket.selector;
        // Rebalances between reports too (a report rebalances only after rewards, now and then).
        selectors[13] = handler.rebalance.selector;
        selectors[14] = handler.rebalance.selector;
        // The rebalance and bucket steps crowd out the exits: weight them back up.
        selectors[15] = handler.finalizeAnyCut.selector;
        selectors[16] = handler.instantExit.selector;
        targetContract(address(handler));
        targetSelector(address(handler), selectors);
    }

    /// The token holds its buffer, pending fees and carried rewards exactly, the queue its locked value exactly,
    /// and the registry would pay at least what the token books as stake: every claim on the
    /// token and the queue is covered.
    function invariant_holdingsCoverEveryClaim() public view {
        assertEq(
            address(token).balance,
            uint256(token.bufferedAssets()) + token.pendingFees() + token.carriedRewards(),
            "token holdings"
        );
        assertEq(address(queue).balance, queue.lockedAssets(), "queue holdings");
        assertGe(handler.registryValue(), token.stakedAssets(), "the registry covers the booked stake");
    }

    /// The rate falls only by a slash (beyond one wei of registry rounding when a report moves
    /// stake, two per released position, see docs/ECONOMICS.md): the handler checks every action
    /// but the slash, the release of matured positions included (a source slash counted again
    /// at the release broke it).
    function invariant_rateFallsOnlyBySlash() public view {
        assertFalse(handler.rateFellWithoutSlash(), "the rate fell without a slash");
    }

    /// The queue never holds more than its tickets can claim (finding 7: a batch whose ends lay
    /// below the rate with a ticket above it inside locked the excess for good), beyond a wei
    /// per finalized ticket of rounding.
    function invariant_queueHoldsNoMoreThanItsTicketsClaim() public view {
        assertEq(handler.lockedBeyondClaims(), 0, "the queue holds value no ticket can claim");
    }

    /// A ticket pays exactly its finalized value, never more than its value at request.
    function invariant_ticketsNeverPayMoreThanFinalized() public view {
        assertFalse(handler.ticketOverpaid(), "a ticket paid more than its finalized value");
    }

    /// Total shares are the holders' balances plus the shares locked in the queue.
    function invariant_sharesAreBalancesPlusLocked() public view {
        assertEq(token.totalSupply(), handler.holdersBalance(), "supply == balances + locked");
    }

    /// After each run: how often each of the handler's actions ran (`forge test -vv` prints it).
    function afterInvariant() public {
        handler.logActionCounts("liquid handler");
    }

    /// The checks the handler makes inside its actions all held (HandlerChecks: an assert in a
    /// handler would revert and be discarded with fail_on_revert = false).
    function invariant_handlerChecksHold() public view {
        assertEq(handler.failedChecks(), 0, handler.firstFailedCheck());
    }

    /// The handler's actions do real work: one pass through the whole life of a ticket, with
    /// delegation, a slash, undelegation of the shortfall and a matured bucket.
    function test_handlerReachesEveryAction() public {
        handler.deposit(0, 40 ether);
        handler.deposit(1, 20 ether);
        handler.advance(1);
        handler.report(1); // delegates part of the free buffer
        handler.advance(1);
        handler.report(2); // rewards, more delegation
        handler.request(0, 100); // everything of actor 0: the queue now needs more than the buffer
        handler.report(3); // undelegates the shortfall, finalizes what the buffer covers
        handler.slash(1, 100, 0);
        for (uint256 i; i < 5; ++i) {
            handler.advance(2);
        }
        handler.withdrawBucket(0);
        handler.report(4); // finalizes the rest
        handler.claim(1);
        handler.deposit(2, 10 ether);
        handler.instantExit(2, 10);
        handler.advance(1);
        handler.report(16); // a cap of 0: every reward is carried
        assertGt(token.carriedRewards(), 0, "rewards carried past the cap");
        string[8] memory actions =
            ["deposit", "advance", "report", "request", "slash", "withdrawBucket", "claim", "instantExit"];
        for (uint256 i; i < actions.length; ++i) {
            assertGt(handler.calls(actions[i]), 0, actions[i]);
        }
        assertGt(handler.claimsPaid(), 0, "a ticket was paid");
        invariant_holdingsCoverEveryClaim();
        invariant_rateFallsOnlyBySlash();
        invariant_ticketsNeverPayMoreThanFinalized();
        invariant_sharesAreBalancesPlusLocked();
        invariant_queueHoldsNoMoreThanItsTicketsClaim();
        invariant_handlerChecksHold();
    }
}
