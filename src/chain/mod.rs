//! The chain side: bindings generated from the committed artifacts in `contracts/artifacts`
//! (so `cargo build` needs no Solidity compiler) and deployment from them. The indexer and the
//! reporter build on these.

pub mod bindings;
pub mod deploy;
pub mod inputs;
pub mod queue;
pub mod report;
pub mod system;
pub mod tx;

use std::time::Duration;

use alloy::primitives::TxHash;

/// Why a chain operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// A contract call, deployment or transaction failed (revert, RPC or transport error).
    #[error("{action}: {source}")]
    Contract {
        /// What was being done, e.g. `deploy FeeVault for chain 10`.
        action: String,
        /// The underlying error.
        source: alloy::contract::Error,
    },
    /// A JSON-RPC request failed.
    #[error("{action}: {source}")]
    Rpc {
        /// What was being done.
        action: String,
        /// The underlying error.
        source: alloy::transports::TransportError,
    },
    /// The transaction was included and reverted.
    #[error("{action}: transaction {hash} reverted")]
    Reverted {
        /// What was being done.
        action: String,
        /// The transaction.
        hash: TxHash,
    },
    /// The transaction had no receipt before the deadline.
    #[error("{action}: transaction {hash} not included after {waited:?}")]
    NotIncluded {
        /// What was being done.
        action: String,
        /// The transaction.
        hash: TxHash,
        /// How long we waited.
        waited: Duration,
    },
    /// A report did not end within the calls its largest size takes.
    #[error("{action}: not ended after {calls} calls")]
    NotEnded {
        /// What was being done.
        action: String,
        /// The calls made.
        calls: usize,
    },
    /// A block the chain should have is missing.
    #[error("block {number} is missing")]
    MissingBlock {
        /// Its number.
        number: u64,
    },
    /// The chain's data cannot make valid economics inputs.
    #[error("report inputs: {0}")]
    Input(String),
    /// A deployment's receipt carries no contract address.
    #[error("{action}: the receipt of {hash} has no contract address")]
    NoContractAddress {
        /// What was being done.
        action: String,
        /// The transaction.
        hash: TxHash,
    },
}
