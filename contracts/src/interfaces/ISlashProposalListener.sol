// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ISlashProposalListener
/// @notice Implemented by the registry's slash listener (the liquid token) to learn of slash
///         proposals while they are pending: the slashing manager calls it when a proposal is
///         made and when it is vetoed, executed (after the loss is booked) or expired. The
///         token stays in bunker mode while a pending proposal could reach its stake.
interface ISlashProposalListener {
    /// @notice A proposal to slash `fractionBps` of sequencer `sequencerId`'s stake at
    ///         `infractionEpoch` is pending.
    /// @param proposalId The proposal.
    /// @param sequencerId The sequencer.
    /// @param infractionEpoch The epoch of the fault.
    /// @param fractionBps The proposed fraction.
    function onSlashProposed(
        uint256 proposalId,
        uint32 sequencerId,
        uint64 infractionEpoch,
        uint16 fractionBps
    ) external;

    /// @notice The proposal is no longer pending.
    /// @param proposalId The proposal.
    function onSlashResolved(uint256 proposalId) external;
}
