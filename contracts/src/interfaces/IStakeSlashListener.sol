// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IStakeSlashListener
/// @notice Implemented by a delegator that keeps its own accounting of what it holds in the
///         registry (the liquid staking token). The registry calls it in the same transaction as
///         a slash, with the exact loss of that delegator's pool shares and unbonding entries,
///         rounded up (against the delegator's holders).
interface IStakeSlashListener {
    /// @notice The listener's stake with sequencer `sequencerId` lost `loss` wei to a slash.
    /// @param sequencerId The slashed sequencer.
    /// @param loss The listener's loss in wei, rounded up.
    function onStakeSlashed(uint32 sequencerId, uint256 loss) external;
}
