// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Test} from "../utils/Test.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {RewardMath} from "../../src/libraries/RewardMath.sol";

/// @notice Solidity's rounding rows against the shared vectors that the Rust side also checks.
contract RewardMathVectorsTest is Test {
    function _checkShare(string memory name) internal view {
        string memory j = _vector(name);
        uint256 share = RewardMath.partnerShare(
            _uint(j, ".input.gross"),
            _uint(j, ".input.cost"),
            uint16(_uint(j, ".input.a_bps")),
            uint16(_uint(j, ".input.b_bps"))
        );
        assertEq(share, _uint(j, ".expected.share"), name);
    }

    function test_revenueShareVectors() public view {
        _checkShare("revenue_share_op_superchain");
        _checkShare("revenue_share_cost_above_gross");
        _checkShare("revenue_share_rounding");
    }

    function test_protocolFeeVector() public view {
        string memory j = _vector("protocol_fee");
        assertEq(
            RewardMath.applyBps(_uint(j, ".input.revenue"), uint16(_uint(j, ".input.fee_bps"))),
            _uint(j, ".expected.fee")
        );
    }

    function test_commissionVector() public view {
        string memory j = _vector("commission");
        uint256 reward = _uint(j, ".input.reward");
        uint256 commission = RewardMath.applyBps(reward, uint16(_uint(j, ".input.commission_bps")));
        assertEq(commission, _uint(j, ".expected.commission"));
        assertEq(reward - commission, _uint(j, ".expected.rest"));
    }

    function test_bondPoolSplitVector() public view {
        string memory j = _vector("bond_pool_split");
        uint256 rest = _uint(j, ".input.rest");
        uint256 bondPart = RewardMath.bondPart(rest, _uint(j, ".input.bond"), _uint(j, ".input.pool_tokens"));
        assertEq(bondPart, _uint(j, ".expected.bond_part"));
        assertEq(rest - bondPart, _uint(j, ".expected.pool_part"));
    }

    function test_accumulatorVector() public view {
        string memory j = _vector("accumulator");
        (uint256 increment, uint256 credited, uint256 dustOut) = RewardMath.creditAccumulator(
            _uint(j, ".input.pool_part"), _uint(j, ".input.dust_in"), _uint(j, ".input.shares")
        );
        assertEq(increment, _uint(j, ".expected.increment"), "increment");
        assertEq(credited, _uint(j, ".expected.credited"), "credited");
        assertEq(dustOut, _uint(j, ".expected.dust_out"), "dust");
    }

    function test_pendingRewardVector() public view {
        string memory j = _vector("pending_reward");
        uint256 reward = RewardMath.pendingReward(
            _uint(j, ".input.shares"), _uint(j, ".input.acc_now"), _uint(j, ".input.acc_entry")
        );
        assertEq(reward, _uint(j, ".expected.reward"));
    }

    function test_depositSharesVector() public view {
        string memory j = _vector("deposit_shares");
        uint256 shares = RewardMath.sharesForDeposit(
            _uint(j, ".input.assets"), _uint(j, ".input.total_shares"), _uint(j, ".input.total_assets")
        );
        assertEq(shares, _uint(j, ".expected.shares"));
    }

    function test_ticketValueVector() public view {
        string memory j = _vector("ticket_value");
        uint256 value = RewardMath.ticketValue(
            _uint(j, ".input.shares"), _uint(j, ".input.rate_request"), _uint(j, ".input.rate_finalization")
        );
        assertEq(value, _uint(j, ".expected.value"));
    }

    function test_decayingEmissionVector() public view {
        string memory j = _vector("emission_epoch_decaying");
        uint256 emission = _uint(j, ".input.schedule.initial_per_epoch");
        uint256 decay = _uint(j, ".input.schedule.decay_ray");
        uint256[] memory expected = _uints(j, ".expected.emission");
        uint256[] memory cumulative = _uints(j, ".expected.cumulative");
        uint256 total;
        for (uint256 i = 0; i < expected.length; i++) {
            assertEq(emission, expected[i], "emission");
            total += emission;
            assertEq(total, cumulative[i], "cumulative");
            emission = RewardMath.decayStep(emission, decay);
        }
    }

    function test_slashSplitVector() public view {
        _checkSlashSplit("slash_split");
    }

    function test_slashSplitTranchesVector() public view {
        _checkSlashSplit("slash_split_tranches");
    }

    /// held = [pool, buckets..., the tranches' total], as the registry passes it, then the
    /// tranches' part spread in order by RewardMath.trancheShare, as the registry takes it.
    function _checkSlashSplit(string memory name) internal view {
        string memory j = _vector(name);
        uint256[] memory buckets = _uints(j, ".input.buckets");
        uint256[] memory tranches = _uints(j, ".input.tranches");
        uint256[] memory held = new uint256[](2 + buckets.length);
        held[0] = _uint(j, ".input.pool");
        for (uint256 i = 0; i < buckets.length; i++) {
            held[1 + i] = buckets[i];
        }
        for (uint256 i = 0; i < tranches.length; i++) {
            held[1 + buckets.length] += tranches[i];
        }
        uint256 tranchesHeld = held[1 + buckets.length];
        (uint256 amount, uint256 fromBond, uint256 shortfall) = RewardMath.slashSplit(
            uint16(_uint(j, ".input.fraction_bps")),
            _uint(j, ".input.stake_at_infraction"),
            _uint(j, ".input.bond"),
            held
        );
        assertEq(amount, _uint(j, ".expected.amount"), "amount");
        assertEq(fromBond, _uint(j, ".expected.from_bond"), "from_bond");
        assertEq(shortfall, _uint(j, ".expected.shortfall"), "shortfall");
        assertEq(held[0], _uint(j, ".expected.from_pool"), "from_pool");
        uint256[] memory fromBuckets = _uints(j, ".expected.from_buckets");
        assertEq(fromBuckets.length, buckets.length, "from_buckets length");
        uint256 taken = fromBond + held[0];
        for (uint256 i = 0; i < fromBuckets.length; i++) {
            assertEq(held[1 + i], fromBuckets[i], "from_buckets");
            taken += held[1 + i];
        }
        taken += _checkTrancheShares(j, tranches, held[1 + buckets.length], tranchesHeld);
        assertEq(taken + shortfall, amount, "the parts sum to the amount");
    }

    function _checkTrancheShares(string memory j, uint256[] memory tranches, uint256 take, uint256 held)
        internal
        pure
        returns (uint256 taken)
    {
        uint256[] memory fromTranches = _uints(j, ".expected.from_tranches");
        assertEq(fromTranches.length, tranches.length, "from_tranches length");
        uint256 visited;
        for (uint256 i = 0; i < fromTranches.length; i++) {
            uint256 share;
            (share, visited) = RewardMath.trancheShare(visited, tranches[i], take, held);
            assertEq(share, fromTranches[i], "from_tranches");
            taken += share;
        }
    }

    function testFuzz_accumulatorNeverCreditsMoreThanItReceives(
        uint256 poolPart,
        uint256 dustIn,
        uint256 shares
    ) public pure {
        poolPart = bound(poolPart, 0, 1e30);
        dustIn = bound(dustIn, 0, 1e6);
        shares = bound(shares, 1, 1e40);
        (, uint256 credited, uint256 dustOut) = RewardMath.creditAccumulator(poolPart, dustIn, shares);
        assertEq(credited + dustOut, poolPart + dustIn, "conserved");
    }

    function _at(string memory prefix, uint256 i, string memory field) internal pure returns (string memory) {
        return string.concat(prefix, "[", vm.toString(i), "].", field);
    }

    /// A whole epoch's settlement (`settlement_two_chains_jailed`: two chains, one with a
    /// partner, MEV, emission, carried dust, weights by blocks, a jailed sequencer whose part
    /// goes to the treasury) computed with the Solidity rounding rows, to the wei of every field
    /// the Rust side produces.
    function test_settlementVector() public view {
        string memory j = _vector("settlement_two_chains_jailed");
        assertEq(keccak256(bytes(vm.parseJsonString(j, ".input.weighting"))), keccak256("blocks"));
        assertEq(keccak256(bytes(vm.parseJsonString(j, ".input.jailed_rewards"))), keccak256("to_treasury"));
        uint256 kept;
        for (uint256 i; i < 2; ++i) {
            uint256 gross = _uint(j, _at(".input.chains", i, "gross"));
            uint256 share = RewardMath.partnerShare(
                gross,
                _uint(j, _at(".input.chains", i, "cost")),
                uint16(_uint(j, _at(".input.chains", i, "a_bps"))),
                uint16(_uint(j, _at(".input.chains", i, "b_bps")))
            );
            assertEq(share, _uint(j, _at(".expected.chains", i, "share")), "partner share");
            kept += gross - share + _uint(j, _at(".input.chains", i, "mev"));
        }
        assertEq(kept, _uint(j, ".expected.revenue_after_shares"), "revenue after shares");
        uint256 fee = RewardMath.applyBps(kept, uint16(_uint(j, ".input.protocol_fee_bps")));
        assertEq(fee, _uint(j, ".expected.protocol_fee"), "protocol fee");
        uint256 pool = kept - fee + _uint(j, ".input.emission") + _uint(j, ".input.dust_in");
        assertEq(pool, _uint(j, ".expected.reward_pool"), "reward pool");

        uint256 totalBlocks;
        for (uint256 i; i < 3; ++i) {
            totalBlocks += _uint(j, _at(".input.sequencers", i, "blocks"));
        }
        uint256 split;
        for (uint256 i; i < 3; ++i) {
            split += _checkSequencer(j, i, pool, totalBlocks);
        }
        assertEq(pool - split, _uint(j, ".expected.dust_out"), "settlement dust carried");
    }

    /// One sequencer's part of the settlement vector; returns its reward.
    function _checkSequencer(string memory j, uint256 i, uint256 pool, uint256 totalBlocks)
        internal
        view
        returns (uint256 reward)
    {
        string memory input = string.concat(".input.sequencers[", vm.toString(i), "]");
        string memory out = string.concat(".expected.sequencers[", vm.toString(i), "]");
        // The split by weight is the reporter's alone (Rust, pinned by `weight_split` there): no
        // contract splits by weight. The rows after it are the contracts' own.
        reward = Math.mulDiv(pool, _uint(j, string.concat(input, ".blocks")), totalBlocks);
        assertEq(reward, _uint(j, string.concat(out, ".reward")), "reward");
        if (vm.parseJsonBool(j, string.concat(input, ".jailed"))) {
            assertEq(reward, _uint(j, string.concat(out, ".to_treasury")), "jailed part to the treasury");
            return reward;
        }
        uint256 commission =
            RewardMath.applyBps(reward, uint16(_uint(j, string.concat(input, ".commission_bps"))));
        assertEq(commission, _uint(j, string.concat(out, ".commission")), "commission");
        uint256 bondReward = RewardMath.bondPart(
            reward - commission,
            _uint(j, string.concat(input, ".bond")),
            _uint(j, string.concat(input, ".pool_tokens"))
        );
        assertEq(bondReward, _uint(j, string.concat(out, ".bond_reward")), "bond reward");
        _checkAccumulator(j, input, out, reward - commission - bondReward);
    }

    function _checkAccumulator(string memory j, string memory input, string memory out, uint256 poolReward)
        internal
        view
    {
        assertEq(poolReward, _uint(j, string.concat(out, ".pool_reward")), "pool reward");
        (uint256 increment, uint256 credited, uint256 dust) = RewardMath.creditAccumulator(
            poolReward,
            _uint(j, string.concat(input, ".dust_before")),
            _uint(j, string.concat(input, ".pool_shares"))
        );
        assertEq(increment, _uint(j, string.concat(out, ".acc_increment")), "accumulator increment");
        assertEq(credited, _uint(j, string.concat(out, ".pool_credited")), "credited");
        assertEq(dust, _uint(j, string.concat(out, ".dust_after")), "dust after");
    }
}
