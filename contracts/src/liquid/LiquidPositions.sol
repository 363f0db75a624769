// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {RewardMath} from "../libraries/RewardMath.sol";
import {RegistryCore} from "../registry/RegistryCore.sol";
import {LiquidCore} from "./LiquidCore.sol";

/// @title LiquidPositions
/// @notice The liquid token's redelegation positions: opening, releasing, harvesting and
///         marking them, and the token's exposure to a slash proposal. The token deploys it in
///         its constructor and runs it only by DELEGATECALL, on the token's storage (same layout
///         through LiquidCore), after its own role and reentrancy checks; called directly it
///         refuses. The token moves the rate (`RateUpdated`) after each call.
contract LiquidPositions is LiquidCore {
    address private immutable _self;

    /// @notice As LiquidStakingToken's (emitted by the token: this code runs on its account).
    event StakeRedelegated(
        uint32 indexed src, uint32 indexed dst, uint64 epoch, uint256 amount, uint256 value
    );
    /// @notice As LiquidStakingToken's.
    event RedelegationReleased(uint32 indexed src, uint32 indexed dst, uint64 epoch, uint256 shares);

    /// @dev Called directly, not through the token.
    error NotDelegated();
    /// @dev As LiquidStakingToken's.
    error NotActive(uint32 id);
    /// @dev As LiquidStakingToken's.
    error SequencerCapExceeded(uint32 id, uint256 value, uint256 cap);
    /// @dev As LiquidStakingToken's.
    error TooManyPositions(uint256 maxPositions);
    /// @dev As LiquidStakingToken's.
    error MoveLimitExceeded(uint256 moved, uint256 maxMoved);

    /// @param registry_ The token's registry.
    /// @param perSequencerCapBps_ The token's per-sequencer cap.
    /// @param maxMovedPerEpoch_ The token's move limit per epoch.
    constructor(address registry_, uint16 perSequencerCapBps_, uint256 maxMovedPerEpoch_)
        LiquidCore(registry_, perSequencerCapBps_, maxMovedPerEpoch_)
    {
        _self = address(this);
    }

    modifier onlyDelegated() {
        if (address(this) == _self) revert NotDelegated();
        _;
    }

    /// @notice LiquidStakingToken.redelegateStake's work (the token checks the role and the
    ///         guard, and moves the rate after).
    /// @param src The sequencer the stake leaves.
    /// @param dst The sequencer it joins.
    /// @param amount What to move.
    function redelegateStake(uint32 src, uint32 dst, uint256 amount) external onlyDelegated {
        if (!_contains(registry.activeSet(), dst)) revert NotActive(dst);
        _countMove(amount);
        (uint256 held,,,) = registry.delegation(src, address(this));
        uint256 value = stakeOf[src];
        uint256 shares =
            value == 0 ? held : Math.min(held, Math.mulDiv(amount, held, value, Math.Rounding.Ceil));
        uint256 dstShares = registry.redelegate(src, dst, shares);
        uint64 epoch = registry.currentEpoch();
        uint256 moved = registry.sharesToTokens(dst, dstShares);
        _markPool(src);
        redelegatedAssets += moved;
        stakedAssets += SafeCast.toUint128(moved);
        bytes32 key = keccak256(abi.encode(src, dst, epoch));
        uint256 index = _positionIndex[key];
        if (index == 0) {
            // Released positions wait in the list for their last rewards (one report's releases
            // normally, more only while reports catch up): the list's length bounds the
            // harvest's gas, so it holds at most two full sets.
            if (unreleasedPositions == MAX_POSITIONS || _positions.length == 2 * MAX_POSITIONS) {
                revert TooManyPositions(MAX_POSITIONS);
            }
            unreleasedPositions += 1;
            _positions.push(
                PositionRef({src: src, dst: dst, epoch: epoch, released: false, releasedIn: 0, booked: moved})
            );
            _positionIndex[key] = _positions.length;
        } else {
            _positions[index - 1].booked += moved;
        }
        uint256 cap = Math.mulDiv(totalPooledAssets(), perSequencerCapBps, RewardMath.BPS);
        uint256 atDst = stakeOf[dst] + _positionsIn(dst);
        if (atDst > cap) revert SequencerCapExceeded(dst, atDst, cap);
        emit StakeRedelegated(src, dst, epoch, amount, moved);
    }

    /// @notice LiquidStakingToken.releaseMatured's work.
    /// @return released How many positions were released.
    function releaseMatured() external onlyDelegated returns (uint256 released) {
        uint64 now_ = registry.currentEpoch();
        uint32 unbonding = registry.unbondingEpochs();
        for (uint256 i; i < _positions.length; ++i) {
            PositionRef storage p = _positions[i];
            if (p.released || now_ < p.epoch + 1 + unbonding) continue;
            uint256 shares = registry.releaseRedelegation(p.src, p.dst, p.epoch);
            p.released = true;
            p.releasedIn = now_;
            uint256 booked = Math.min(p.booked, redelegatedAssets);
            redelegatedAssets -= booked;
            stakedAssets -= SafeCast.toUint128(booked);
            _markPool(p.dst);
            released += 1;
            emit RedelegationReleased(p.src, p.dst, p.epoch, shares);
        }
        unreleasedPositions -= released;
    }

    /// @notice Claims every position's rewards; drops a released position once the registry
    ///         has paid its release epoch (the last it earns), after claiming what that paid
    ///         (part of LiquidStakingToken.harvest). Until then it stays, so a report that does
    ///         not cover that epoch yet (catching up) strands nothing.
    /// @return rewards What was claimed.
    function harvestPositions() external onlyDelegated returns (uint256 rewards) {
        uint64 paidEnd = registry.nextRewardEpoch();
        uint256 i;
        while (i < _positions.length) {
            PositionRef memory p = _positions[i];
            (, uint256 due,) = registry.redelegation(address(this), p.src, p.dst, p.epoch);
            if (due > 0) rewards += registry.claimRedelegationRewards(p.src, p.dst, p.epoch, address(this));
            if (p.released && p.releasedIn < paidEnd) {
                delete _positionIndex[keccak256(abi.encode(p.src, p.dst, p.epoch))];
                PositionRef memory last = _positions[_positions.length - 1];
                _positions[i] = last;
                _positions.pop();
                if (i < _positions.length) {
                    _positionIndex[keccak256(abi.encode(last.src, last.dst, last.epoch))] = i + 1;
                }
                continue;
            }
            i += 1;
        }
    }

    /// @notice Marks every unreleased position a slash of `id` can reach at its registry value
    ///         (part of LiquidStakingToken.onStakeSlashed): those out of `id` (their tranche
    ///         loses) and those into `id` (shares of its pool), lowering each booking and
    ///         `redelegatedAssets` together, so a release subtracts exactly what is booked.
    ///         Read from the registry's values, so marking again after the same slash (the
    ///         registry may tell one slash in several calls) changes nothing.
    /// @param id The slashed sequencer.
    /// @return lost What the bookings lost.
    function markPositions(uint32 id) external onlyDelegated returns (uint256 lost) {
        for (uint256 i; i < _positions.length; ++i) {
            PositionRef storage p = _positions[i];
            if (p.released || (p.src != id && p.dst != id)) continue;
            (uint256 shares,,) = registry.redelegation(address(this), p.src, p.dst, p.epoch);
            // From the pool's totals: the registry's price view is closed during a slash.
            RegistryCore.Pool memory pool = registry.pool(p.dst);
            uint256 value = Math.mulDiv(
                shares, pool.tokens + RewardMath.VIRTUAL_ASSETS, pool.shares + RewardMath.VIRTUAL_SHARES
            );
            if (value >= p.booked) continue;
            // redelegatedAssets is the sum of the bookings; the min only guards the slash.
            uint256 drop = Math.min(p.booked - value, redelegatedAssets);
            p.booked = value;
            redelegatedAssets -= drop;
            lost += drop;
        }
    }

    /// @notice The largest loss a proposal to slash `fractionBps` of `id`'s stake at
    ///         `infractionEpoch` could cause the token (part of
    ///         LiquidStakingToken.onSlashProposed): the smaller of the fraction of the stake at
    ///         the infraction, rounded up, and what the slash can reach of the token's: its
    ///         delegation to `id`, its buckets with `id` undelegated from the infraction epoch on
    ///         (the registry's values), its unreleased positions out of `id` made from the
    ///         infraction epoch on (their tranches) and its unreleased positions into `id`
    ///         (shares of its pool), both at their bookings.
    /// @param id The sequencer.
    /// @param infractionEpoch The epoch of the fault.
    /// @param fractionBps The proposed fraction.
    /// @return The pending loss.
    function slashExposure(uint32 id, uint64 infractionEpoch, uint16 fractionBps)
        external
        view
        onlyDelegated
        returns (uint256)
    {
        RegistryCore.StakePoint memory atStake = registry.stakeAt(id, infractionEpoch);
        uint256 exposure = stakeOf[id];
        for (uint256 i; i < _positions.length; ++i) {
            PositionRef storage p = _positions[i];
            if (p.released) continue;
            if (p.dst == id || (p.src == id && p.epoch >= infractionEpoch)) exposure += p.booked;
        }
        // A bucket made in epoch e completes at e + 1 + unbonding; the slash reaches those made
        // from the infraction epoch on (those made before it, or matured, it cannot), at most
        // unbonding + 1 of them.
        uint64 now_ = registry.currentEpoch();
        uint32 unbonding = registry.unbondingEpochs();
        uint64 first = infractionEpoch;
        if (now_ > unbonding && first < now_ - unbonding) first = now_ - unbonding;
        for (uint64 e = first; e <= now_; ++e) {
            (, uint256 tokens) = registry.unbonding(id, e + 1 + unbonding, address(this));
            exposure += tokens;
        }
        return Math.min(
            exposure,
            Math.mulDiv(
                uint256(atStake.bond) + atStake.tokens, fractionBps, RewardMath.BPS, Math.Rounding.Ceil
            )
        );
    }

    function _countMove(uint256 amount) internal {
        uint64 epoch = registry.currentEpoch();
        uint256 moved = (_movedEpoch == epoch ? _movedInEpoch : 0) + amount;
        if (moved > maxMovedPerEpoch) revert MoveLimitExceeded(moved, maxMovedPerEpoch);
        _movedEpoch = epoch;
        _movedInEpoch = SafeCast.toUint192(moved);
    }

    /// The booked value of the token's unreleased positions in `dst`.
    function _positionsIn(uint32 dst) internal view returns (uint256 total) {
        for (uint256 i; i < _positions.length; ++i) {
            if (_positions[i].dst == dst && !_positions[i].released) total += _positions[i].booked;
        }
    }
}
