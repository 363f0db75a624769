// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ReportTypes
/// @notice The one definition of seqstake's epoch report, shared by the contracts and the Rust
///         side (which reads this file with `sol!`). A report covers whole epochs
///         `firstEpoch..=lastEpoch`; its hash is
///         `keccak256(abi.encode(DOMAIN_TAG, block.chainid, address(reportContract), report))`.
///         Change it only together with the Rust side, tests/vectors and docs/ECONOMICS.md.
library ReportTypes {
    /// @notice `keccak256("seqstake.report.v1")`: separates report hashes from any other hash.
    bytes32 internal constant DOMAIN_TAG = 0xd8d78100a0882996299667e26e0e10c9665a4896fef253db8851cb564ed8ad26;

    /// @notice What the report covers and where it was computed from.
    struct Header {
        uint64 firstEpoch;
        uint64 lastEpoch;
        /// Last settlement-chain block with timestamp < the end of `lastEpoch`.
        uint64 refBlock;
        /// The settlement chain.
        uint64 chainId;
    }

    /// @notice One served chain's revenue in one epoch, with every input of the share formula.
    struct ChainRevenue {
        uint64 chainId;
        /// Revenue that arrived in the chain's fee vault.
        uint256 gross;
        /// Attested cost (used only in the share formula).
        uint256 cost;
        /// MEV / priority stream (no partner share).
        uint256 mev;
        /// Hash of the evidence for `cost` (batch-inbox events, or zero for a fixed cost).
        bytes32 evidenceHash;
        /// Zero when the chain has no revenue-share agreement.
        address partner;
        uint16 aBps;
        uint16 bBps;
        /// `max(gross * aBps, max(gross - cost, 0) * bBps) / 10_000`.
        uint256 share;
    }

    /// @notice One active sequencer's part of one epoch.
    struct SequencerReward {
        uint32 id;
        uint64 blocks;
        uint64 missedBlocks;
        /// Its part of the reward pool, before commission.
        uint256 reward;
        /// The pool accumulator after the epoch (RAY), a cross-check of the registry's own.
        uint256 accAfter;
        /// Jailed during the epoch: with jailed rewards to the treasury, `reward` is the
        /// treasury's (the registry is not paid for it); when redistributed, `reward` is zero.
        bool jailed;
    }

    /// @notice One epoch.
    struct EpochEntry {
        uint64 epoch;
        ChainRevenue[] chains;
        uint256 protocolFee;
        uint256 emission;
        /// Total supply attested for the emission schedule (zero when it does not use one).
        uint256 totalSupply;
        SequencerReward[] sequencers;
        /// Settlement dust carried in and out (inputs + dustIn == outputs + dustOut).
        uint256 dustIn;
        uint256 dustOut;
    }

    /// @notice The liquid pool's target stake with one sequencer after the report.
    struct AllocationTarget {
        uint32 sequencerId;
        uint256 target;
    }

    /// @notice Withdrawal tickets up to `lastTicketId` finalize at `shareRate` (RAY).
    struct FinalizationBatch {
        uint256 lastTicketId;
        uint256 shareRate;
    }

    /// @notice What the liquid pool does once per report.
    struct LiquidActions {
        /// Rewards the pool harvests and restakes.
        uint256 poolRewards;
        AllocationTarget[] allocation;
        FinalizationBatch[] batches;
    }

    /// @notice The whole report.
    struct Report {
        Header header;
        EpochEntry[] epochs;
        /// The active set from the epoch after execution (ids increasing; the registry checks it
        /// is the top by stake). Empty leaves the set as it is.
        uint32[] activeSet;
        LiquidActions liquid;
    }
}
