//! Deployment of seqstake's contracts from the committed artifacts: the one path used by the
//! Rust tests and the devnet.

use alloy::{
    primitives::{Address, TxHash},
    providers::Provider,
};

use super::{
    ChainError,
    bindings::{FeeVault, SequencerRegistry},
    tx::confirm,
};
use crate::config::EconomicsConfig;

/// Deploys a fee vault for `served_chain_id` administered by `admin`; returns its address.
pub async fn deploy_fee_vault<P: Provider>(
    provider: &P,
    served_chain_id: u64,
    admin: Address,
) -> Result<Address, ChainError> {
    let sent = FeeVault::deploy_builder(provider, served_chain_id, admin).send().await;
    deployed_at(provider, format!("deploy FeeVault for chain {served_chain_id}"), sent.map(|p| *p.tx_hash()))
        .await
}

/// Waits for a deployment sent as `sent` and returns the new contract's address.
async fn deployed_at<P: Provider>(
    provider: &P,
    action: String,
    sent: Result<TxHash, alloy::contract::Error>,
) -> Result<Address, ChainError> {
    let hash = sent.map_err(|source| ChainError::Contract { action: action.clone(), source })?;
    let receipt = confirm(provider, &action, hash).await?;
    receipt.contract_address.ok_or(ChainError::NoContractAddress { action, hash })
}

/// The registry's deployment parameters from the economics configuration, with the epoch
/// clock starting at `genesis_time` (unix seconds on the settlement chain).
pub fn registry_params(config: &EconomicsConfig, genesis_time: u64) -> SequencerRegistry::Params {
    SequencerRegistry::Params {
        genesisTime: genesis_time,
        epochLength: config.epochs.length_seconds,
        minBond: config.staking.min_bond,
        maxBond: config.staking.max_bond,
        maxCommissionBps: config.commission.max_rate_bps,
        maxCommissionChangeBps: config.commission.max_change_bps,
        maxCandidates: config.staking.max_candidates,
        unbondingEpochs: config.staking.unbonding_epochs,
    }
}

/// Deploys the sequencer registry administered by `admin`; returns its address.
pub async fn deploy_registry<P: Provider>(
    provider: &P,
    params: SequencerRegistry::Params,
    admin: Address,
) -> Result<Address, ChainError> {
    let sent = SequencerRegistry::deploy_builder(provider, params, admin).send().await;
    deployed_at(provider, "deploy SequencerRegistry".to_owned(), sent.map(|p| *p.tx_hash())).await
}
