// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title RewardMath
/// @notice The rounding table of docs/ECONOMICS.md in Solidity: every division rounds down
///         (512-bit intermediates via OpenZeppelin's `Math.mulDiv`) and each function says where
///         its remainder goes. The Rust side (`src/economics`) computes the same rows; both are
///         pinned to the wei by tests/vectors.
library RewardMath {
    uint256 internal constant RAY = 1e27;
    uint256 internal constant BPS = 10_000;
    uint256 internal constant VIRTUAL_SHARES = 1e3;
    uint256 internal constant VIRTUAL_ASSETS = 1;

    /// @notice A partner's revenue share: `max(gross*a, max(gross-cost,0)*b) / 10_000`; the
    ///         remainder stays in the rewards.
    function partnerShare(uint256 gross, uint256 cost, uint16 aBps, uint16 bBps)
        internal
        pure
        returns (uint256)
    {
        uint256 net = gross > cost ? gross - cost : 0;
        return Math.max(Math.mulDiv(gross, aBps, BPS), Math.mulDiv(net, bBps, BPS));
    }

    /// @notice `amount * bps / 10_000` (protocol fee, commission); the remainder stays with the
    ///         rewards or the staker side.
    function applyBps(uint256 amount, uint16 bps) internal pure returns (uint256) {
        return Math.mulDiv(amount, bps, BPS);
    }

    /// @notice The bond's part of the staker side: `rest * bond / (bond + poolTokens)`; the
    ///         remainder is the pool's part. With no stake, none goes to the bond.
    function bondPart(uint256 rest, uint256 bond, uint256 poolTokens) internal pure returns (uint256) {
        uint256 stake = bond + poolTokens;
        return stake == 0 ? 0 : Math.mulDiv(rest, bond, stake);
    }

    /// @notice Credits a pool's reward through its accumulator: `increment = (poolPart + dustIn)
    ///         * RAY / shares`. The shares can claim up to `increment * shares / RAY` between
    ///         them, so that is credited rounded up (the pool's liability); the whole wei left
    ///         are the pool's new dust.
    function creditAccumulator(uint256 poolPart, uint256 dustIn, uint256 shares)
        internal
        pure
        returns (uint256 increment, uint256 credited, uint256 dustOut)
    {
        uint256 toCredit = poolPart + dustIn;
        if (shares == 0) return (0, 0, toCredit);
        increment = Math.mulDiv(toCredit, RAY, shares);
        credited = Math.mulDiv(increment, shares, RAY, Math.Rounding.Ceil);
        dustOut = toCredit - credited;
    }

    /// @notice A delegation's pending reward: `shares * (accNow - accEntry) / RAY`.
    function pendingReward(uint256 shares, uint256 accNow, uint256 accEntry) internal pure returns (uint256) {
        return Math.mulDiv(shares, accNow - accEntry, RAY);
    }

    /// @notice Shares for a deposit: `assets * (totalShares + V_S) / (totalAssets + V_A)`.
    function sharesForDeposit(uint256 assets, uint256 totalShares, uint256 totalAssets)
        internal
        pure
        returns (uint256)
    {
        return Math.mulDiv(assets, totalShares + VIRTUAL_SHARES, totalAssets + VIRTUAL_ASSETS);
    }

    /// @notice A withdrawal ticket's value: `shares * min(rateRequest, rateFinalization) / RAY`.
    function ticketValue(uint256 shares, uint256 rateRequest, uint256 rateFinalization)
        internal
        pure
        returns (uint256)
    {
        return Math.mulDiv(shares, Math.min(rateRequest, rateFinalization), RAY);
    }

    /// @notice One step of a decaying emission: `e * decayRay / RAY`.
    function decayStep(uint256 emission, uint256 decayRay) internal pure returns (uint256) {
        return Math.mulDiv(emission, decayRay, RAY);
    }

    /// @notice The split of a slash (docs/ECONOMICS.md, "Slashing"): `amount = stake *
    ///         fractionBps / 10_000`, taken from the bond first, then from `held` (the pool, then
    ///         the unbonding buckets, then the redelegation tranches together, in that order; the
    ///         tranches' part is spread over them by `trancheShare`) pro rata to
    ///         what each holds, each part rounded down; the wei left by rounding are taken one
    ///         each from the holders with room, in order. What the holdings cannot cover is the
    ///         shortfall, never taken from anyone else.
    /// @param fractionBps The slashed fraction, 1..=10_000 (the caller checks the range).
    /// @param stakeAtInfraction Bond plus pool tokens at the infraction epoch.
    /// @param bond The bond now.
    /// @param held What each other holder still holds; overwritten with what is taken from each.
    /// @return amount The slash amount.
    /// @return fromBond Taken from the bond.
    /// @return shortfall What could not be taken.
    function slashSplit(uint16 fractionBps, uint256 stakeAtInfraction, uint256 bond, uint256[] memory held)
        internal
        pure
        returns (uint256 amount, uint256 fromBond, uint256 shortfall)
    {
        amount = Math.mulDiv(stakeAtInfraction, fractionBps, BPS);
        fromBond = Math.min(amount, bond);
        uint256 rest = amount - fromBond;
        uint256 others;
        for (uint256 i; i < held.length; ++i) {
            others += held[i];
        }
        if (rest >= others) return (amount, fromBond, rest - others);
        uint256 left = rest;
        uint256[] memory holds = new uint256[](held.length);
        for (uint256 i; i < held.length; ++i) {
            holds[i] = held[i];
            held[i] = Math.mulDiv(rest, holds[i], others);
            left -= held[i];
        }
        for (uint256 i; i < held.length && left > 0; ++i) {
            if (held[i] < holds[i]) {
                held[i] += 1;
                left -= 1;
            }
        }
    }

    /// @notice One tranche's share of the tranches' part of a slash, walking the tranches in
    ///         order: `take * upTo / held - take * visited / held`, each product rounded down,
    ///         where `upTo = min(visited + value, held)` is the cumulative value walked through
    ///         this tranche. The shares of all tranches sum to `take` exactly; none exceeds its
    ///         value.
    /// @param visited The cumulative value of the tranches before this one (at most `held`).
    /// @param value This tranche's value.
    /// @param take The tranches' part of the slash (at most `held`).
    /// @param held The tranches' total value (not zero).
    /// @return share Taken from this tranche.
    /// @return upTo The cumulative value after it.
    function trancheShare(uint256 visited, uint256 value, uint256 take, uint256 held)
        internal
        pure
        returns (uint256 share, uint256 upTo)
    {
        upTo = Math.min(visited + value, held);
        share = Math.mulDiv(upTo, take, held) - Math.mulDiv(visited, take, held);
        if (share > value) share = value;
    }
}
