// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IStakeSlashListener
/// @notice Implemented by a delegator that keeps its own accounting of what it holds in the
///         registry (the liquid staking token). The registry calls it in the same transaction as
///         a slash, with the exact loss of that delegator's stake, rounded up (against the
///         delegator's holders): in the slashed sequencer's pool, and in its unbonding entries
///         and redelegated positions that were at stake.
interface IStakeSlashListener {
    /// @notice The listener's stake with sequencer `sequencerId` lost the sum of these, each
    ///         rounded up. Called for every slash that reached the sequencer's pool (even when
    ///         these are zero), since positions the listener redelegated into that pool lost
    ///         value with it.
    /// @param sequencerId The slashed sequencer.
    /// @param poolLoss The loss of its delegation in that sequencer's pool.
    /// @param unbondingLoss The loss of its unbonding entries with that sequencer.
    /// @param redelegatedLoss The loss of its positions redelegated from that sequencer.
    function onStakeSlashed(
        uint32 sequencerId,
        uint256 poolLoss,
        uint256 unbondingLoss,
        uint256 redelegatedLoss
    ) external;
}
