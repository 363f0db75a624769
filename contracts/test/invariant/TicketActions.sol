// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Test} from "../utils/Test.sol";
import {LiquidStakingToken} from "../../src/LiquidStakingToken.sol";
import {WithdrawalQueue} from "../../src/WithdrawalQueue.sol";

/// The withdrawal-queue actions the invariant handlers share: a holder requests part of its
/// shares, and the owner of a finalized ticket claims it.
abstract contract TicketActions is Test {
    /// A claim: what the ticket promised when finalized, held at request, and paid.
    struct Claimed {
        bool done;
        uint256 promised;
        uint256 shares;
        uint256 atRequest;
        uint256 paid;
    }

    /// `actor` requests `fraction` percent (1..=100) of its shares; returns whether it could
    /// (the value must lie within the queue's request bounds).
    function _request(LiquidStakingToken token, WithdrawalQueue queue, address actor, uint256 fraction)
        internal
        returns (bool)
    {
        uint256 shares = token.balanceOf(actor) * bound(fraction, 1, 100) / 100;
        uint256 value = token.convertToAssets(shares);
        if (value < queue.minRequest() || value > queue.maxRequest()) return false;
        vm.startPrank(actor);
        token.approve(address(queue), shares);
        queue.requestWithdrawal(shares, actor);
        vm.stopPrank();
        return true;
    }

    /// The owner of a finalized ticket picked by `seed` claims it to itself.
    function _claimTicket(WithdrawalQueue queue, uint256 seed) internal returns (Claimed memory c) {
        uint256 last = queue.lastFinalizedId();
        if (last == 0) return c;
        uint256 id = bound(seed, 1, last);
        if (queue.stateOf(id) != WithdrawalQueue.State.Finalized) return c;
        uint256[] memory ids = new uint256[](1);
        ids[0] = id;
        uint256 hint = queue.findCheckpointHints(ids)[0];
        c.promised = queue.finalizedValue(id, hint);
        (c.shares, c.atRequest,) = queue.request(id);
        address owner = queue.ownerOf(id);
        vm.prank(owner);
        c.paid = queue.claimWithdrawal(id, hint, owner);
        c.done = true;
    }
}
