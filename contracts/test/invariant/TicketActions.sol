// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {HandlerChecks} from "./HandlerChecks.sol";
import {LiquidStakingToken} from "../../src/LiquidStakingToken.sol";
import {WithdrawalQueue} from "../../src/WithdrawalQueue.sol";

/// The withdrawal-queue actions the invariant handlers share: a holder requests part of its
/// shares, and the owner of a finalized ticket claims it.
abstract contract TicketActions is HandlerChecks {
    /// `WithdrawalQueue._checkpoints`' slot (`forge inspect WithdrawalQueue storageLayout`): a
    /// checkpoint `i` is the two words from keccak256(slot) + 2i, its share rate the second.
    uint256 internal constant CHECKPOINTS_SLOT = 11;

    /// A claim: what the ticket promised when finalized, held at request, and paid, and what it
    /// should pay by the formula (`expected`).
    struct Claimed {
        bool done;
        uint256 promised;
        uint256 shares;
        uint256 atRequest;
        uint256 paid;
        uint256 expected;
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
        // Steered: the first finalized, unclaimed ticket from the picked one on.
        uint256 id = bound(seed, 1, last);
        for (uint256 k; k < last && queue.stateOf(id) != WithdrawalQueue.State.Finalized; ++k) {
            id = id % last + 1;
        }
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
        c.expected = _ticketValue(queue, id, hint, c.shares);
    }

    /// A ticket's value by the rounding table's formula, `shares * min(rate at request, rate of
    /// its batch) / RAY` (docs/ECONOMICS.md), from the rates the queue stored (the batch's read
    /// from the queue's storage, as no view returns it) and computed here, not by the queue's
    /// code that pays the claim.
    function _ticketValue(WithdrawalQueue queue, uint256 id, uint256 hint, uint256 shares)
        internal
        view
        returns (uint256)
    {
        (uint256 atRequest,) = queue.rateAtRequest(id);
        uint256 base = uint256(keccak256(abi.encode(CHECKPOINTS_SLOT)));
        uint256 batch = uint256(vm.load(address(queue), bytes32(base + 2 * hint + 1)));
        uint256 rate = atRequest < batch ? atRequest : batch;
        return shares * rate / 1e27;
    }
}
