//! Deployment of seqstake's contracts from the committed artifacts: the one path used by the
//! Rust tests and the devnet.

use alloy::{primitives::Address, providers::Provider};

use super::{ChainError, bindings::FeeVault, tx::confirm};

/// Deploys a fee vault for `served_chain_id` administered by `admin`; returns its address.
pub async fn deploy_fee_vault<P: Provider>(
    provider: &P,
    served_chain_id: u64,
    admin: Address,
) -> Result<Address, ChainError> {
    let action = format!("deploy FeeVault for chain {served_chain_id}");
    let pending = FeeVault::deploy_builder(provider, served_chain_id, admin)
        .send()
        .await
        .map_err(|source| ChainError::Contract { action: action.clone(), source })?;
    let hash = *pending.tx_hash();
    let receipt = confirm(provider, &action, hash).await?;
    receipt.contract_address.ok_or(ChainError::NoContractAddress { action, hash })
}
