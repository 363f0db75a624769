// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {SystemFixture} from "../utils/SystemFixture.sol";
import {LiquidStakingToken} from "../../src/LiquidStakingToken.sol";
import {WithdrawalQueue} from "../../src/WithdrawalQueue.sol";
import {LiquidBooksHarness, WithdrawalQueueHarness} from "./FinalizationHarness.sol";

/// @notice The `finalization_batches` shared vector (tests/vectors, which `economics::finalization`
///         also agrees with) against the real token and queue: the token's finalization rate from
///         its books, and the reporter's planned batches, which the queue accepts, locking exactly
///         the vector's value out of a buffer of exactly the budget, while it refuses the cuts the
///         vector marks (a batch across runs or sides, or one ticket more than the buffer pays).
contract FinalizationBatchesVectorTest is SystemFixture {
    address internal holder = address(0x40DE);
    string internal json;

    /// The system as deployed (its report contract's batch cap is the planner's); each case then
    /// deploys a token and queue of its own.
    function setUp() public {
        _deploySystem();
        json = _vector("finalization_batches");
    }

    function _deploy() internal returns (LiquidBooksHarness t, WithdrawalQueueHarness q) {
        t = new LiquidBooksHarness(_liquidParams(), address(timelock));
        q = new WithdrawalQueueHarness(t, address(this));
        _govern(address(t), abi.encodeCall(t.setWithdrawalQueue, (address(q))));
        q.grantRole(q.FINALIZER_ROLE(), finalizer);
    }

    function _key(string memory prefix, uint256 i, string memory field)
        internal
        pure
        returns (string memory)
    {
        return string.concat(prefix, "[", vm.toString(i), "]", field);
    }

    function _count(string memory prefix) internal view returns (uint256 n) {
        while (vm.keyExistsJson(json, _key(prefix, n, ""))) ++n;
    }

    function test_finalizationRateVector() public {
        uint256 n = _count(".input.rates");
        assertGe(n, 2, "rates in the vector");
        for (uint256 i; i < n; ++i) {
            (LiquidBooksHarness t,) = _deploy();
            uint256 loss = _uint(json, _key(".input.rates", i, ".pending_loss"));
            t.setBooks(_uint(json, _key(".input.rates", i, ".pooled")), 0, loss);
            t.mintShares(holder, _uint(json, _key(".input.rates", i, ".supply")));
            uint256 want = _uint(json, _key(".expected.rates", i, ""));
            string memory label = vm.parseJsonString(json, _key(".input.rates", i, ".label"));
            assertEq(t.finalizationRate(), want, label);
            if (loss == 0) assertEq(t.shareRate(), want, "without a pending loss: the share rate");
            else assertLt(want, t.shareRate(), "bunker mode: below the share rate");
        }
    }

    function test_finalizationBatchesVector() public {
        uint256 n = _count(".input.plans");
        assertGe(n, 6, "plans in the vector");
        for (uint256 k; k < n; ++k) {
            _checkPlan(k);
        }
    }

    /// Token and queue as plan `k`'s input: the books give its rate, the buffer is its budget, the
    /// queue holds its tickets' shares.
    function _seed(uint256 k)
        internal
        returns (LiquidBooksHarness t, WithdrawalQueueHarness q, uint256 held)
    {
        (t, q) = _deploy();
        string memory p = _key(".input.plans", k, "");
        uint256 budget = _uint(json, string.concat(p, ".budget"));
        uint256 pooled = _uint(json, string.concat(p, ".token.pooled"));
        t.setBooks(budget, pooled - budget, _uint(json, string.concat(p, ".token.pending_loss")));
        vm.deal(address(t), budget);
        uint256 lastFinalized = _uint(json, string.concat(p, ".last_finalized_id"));
        // Earlier tickets leave running totals the queue subtracts.
        if (lastFinalized > 0) q.seedFinalized(lastFinalized, 77e21 + 5, 70e18 + 3);
        string memory tickets = string.concat(p, ".tickets");
        uint256 count = _count(tickets);
        for (uint256 i; i < count; ++i) {
            uint256 shares = _uint(json, _key(tickets, i, ".shares"));
            uint256 id = q.seedTicket(
                shares,
                _uint(json, _key(tickets, i, ".value")),
                _uint(json, _key(tickets, i, ".rate_at_request")),
                _uint(json, _key(tickets, i, ".run"))
            );
            assertEq(id, _uint(json, _key(tickets, i, ".id")), "ticket ids");
            held += shares;
        }
        t.mintShares(address(q), held);
        t.mintShares(holder, _uint(json, string.concat(p, ".token.supply")) - held);
        assertEq(
            t.finalizationRate(), _uint(json, string.concat(p, ".rate")), "the token's finalization rate"
        );
    }

    function _checkPlan(uint256 k) internal {
        (LiquidBooksHarness t, WithdrawalQueueHarness q, uint256 held) = _seed(k);
        string memory want = _key(".expected.plans", k, "");
        string memory label = vm.parseJsonString(json, string.concat(want, ".label"));
        uint256 budget = _uint(json, _key(".input.plans", k, ".budget"));
        uint256 lastFinalized = q.lastFinalizedId();

        uint256 refusals = _count(string.concat(want, ".refused"));
        for (uint256 r; r < refusals; ++r) {
            string memory refused = _key(string.concat(want, ".refused"), r, "");
            bytes32 kind = keccak256(bytes(vm.parseJsonString(json, string.concat(refused, ".error"))));
            if (kind == keccak256("MixedBatch")) {
                vm.expectRevert(
                    abi.encodeWithSelector(
                        WithdrawalQueue.MixedBatch.selector, _uint(json, string.concat(refused, ".index"))
                    )
                );
            } else {
                assertEq(kind, keccak256("InsufficientBuffer"), label);
                vm.expectRevert(
                    abi.encodeWithSelector(
                        LiquidStakingToken.InsufficientBuffer.selector,
                        _uint(json, string.concat(refused, ".locked")),
                        budget
                    )
                );
            }
            vm.prank(finalizer);
            q.finalize(_uints(json, string.concat(refused, ".ends")));
        }

        uint256 batches = _count(string.concat(want, ".batches"));
        // The report contract's cap is the planner's.
        assertEq(_uint(json, _key(".input.plans", k, ".max_batches")), executor.MAX_BATCHES(), label);
        assertLe(batches, executor.MAX_BATCHES(), label);
        uint256 locked = _uint(json, string.concat(want, ".locked"));
        if (batches == 0) {
            assertEq(locked, 0, label);
            return;
        }
        uint256[] memory ends = new uint256[](batches);
        for (uint256 j; j < batches; ++j) {
            ends[j] = _uint(json, _key(string.concat(want, ".batches"), j, ".last_ticket_id"));
            assertEq(
                _uint(json, _key(string.concat(want, ".batches"), j, ".share_rate")),
                t.finalizationRate(),
                "each batch at the finalization rate"
            );
        }
        vm.prank(finalizer);
        assertEq(q.finalize(ends), locked, label);
        assertLe(locked, budget, "within the buffer");
        assertEq(q.lockedAssets(), locked, "the queue's books");
        assertEq(address(q).balance, locked, "the queue's balance");
        assertEq(t.bufferedAssets(), budget - locked, "the buffer paid it");
        assertEq(q.lastFinalizedId(), ends[batches - 1], "finalized through the last batch");
        assertGt(q.lastFinalizedId(), lastFinalized, label);
        assertEq(t.balanceOf(address(q)), held - _uint(json, string.concat(want, ".shares")), "shares burned");
    }
}
