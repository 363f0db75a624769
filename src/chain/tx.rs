//! Sending a transaction and waiting for its receipt. alloy's `get_receipt` relies on a block
//! heartbeat that can miss the block a transaction landed in (alloy-rs/alloy#4181) and then
//! waits forever; this polls `eth_getTransactionReceipt` at the client's poll interval instead,
//! with a deadline, and turns a reverted receipt into an error.

use std::time::Duration;

use alloy::{primitives::TxHash, providers::Provider, rpc::types::TransactionReceipt};

use super::ChainError;

/// How long a transaction may take to be included before we give up on it.
pub const RECEIPT_TIMEOUT: Duration = Duration::from_mins(2);

/// Waits for a transaction sent as `sent` (`send()`'s result, mapped to its hash): a refused
/// send is [`ChainError::Contract`], then as [`confirm`].
pub async fn confirm_sent<P: Provider>(
    provider: &P,
    action: &str,
    sent: Result<TxHash, alloy::contract::Error>,
) -> Result<TransactionReceipt, ChainError> {
    let hash = sent.map_err(|source| ChainError::Contract { action: action.to_owned(), source })?;
    confirm(provider, action, hash).await
}

/// Waits until `hash` has a receipt; fails if it reverted or is not included within
/// [`RECEIPT_TIMEOUT`].
pub async fn confirm<P: Provider>(
    provider: &P,
    action: &str,
    hash: TxHash,
) -> Result<TransactionReceipt, ChainError> {
    let deadline = tokio::time::Instant::now() + RECEIPT_TIMEOUT;
    let mut ticker = tokio::time::interval(provider.client().poll_interval());
    loop {
        ticker.tick().await;
        let receipt = provider
            .get_transaction_receipt(hash)
            .await
            .map_err(|source| ChainError::Rpc { action: action.to_owned(), source })?;
        if let Some(receipt) = receipt {
            if !receipt.status() {
                return Err(ChainError::Reverted { action: action.to_owned(), hash });
            }
            return Ok(receipt);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(ChainError::NotIncluded { action: action.to_owned(), hash, waited: RECEIPT_TIMEOUT });
        }
    }
}
