//! Deployment of seqstake's contracts from the committed artifacts: the one path used by the
//! Rust tests and the devnet.

use alloy::{
    primitives::{Address, TxHash, U256},
    providers::Provider,
};

use super::{
    ChainError,
    bindings::{
        FeeVault, RegistryCore, SeqstakeTimelock, SequencerRegistry,
        extension::{self, RegistryExtension},
    },
    tx::confirm_sent,
};
use crate::config::{EconomicsConfig, SlashDestination};

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
pub(super) async fn deployed_at<P: Provider>(
    provider: &P,
    action: String,
    sent: Result<TxHash, alloy::contract::Error>,
) -> Result<Address, ChainError> {
    let receipt = confirm_sent(provider, &action, sent).await?;
    let hash = receipt.transaction_hash;
    receipt.contract_address.ok_or(ChainError::NoContractAddress { action, hash })
}

/// The registry's deployment parameters from the economics configuration, with the epoch
/// clock starting at `genesis_time` (unix seconds on the settlement chain).
pub fn registry_params(config: &EconomicsConfig, genesis_time: u64) -> RegistryCore::Params {
    RegistryCore::Params {
        genesisTime: genesis_time,
        epochLength: config.epochs.length_seconds,
        minBond: config.staking.min_bond,
        maxBond: config.staking.max_bond,
        maxCommissionBps: config.commission.max_rate_bps,
        maxCommissionChangeBps: config.commission.max_change_bps,
        maxCandidates: config.staking.max_candidates,
        maxActive: config.staking.max_active_sequencers,
        unbondingEpochs: config.staking.unbonding_epochs,
        maxUnbondingEntries: config.staking.max_unbonding_entries,
        jailCooldownEpochs: config.downtime.jail_cooldown_epochs,
        maxPauseDuration: config.governance.max_pause_seconds,
        insuranceFund: match config.slashing.destination {
            SlashDestination::Burn => Address::ZERO,
            SlashDestination::Insurance => config.slashing.insurance_fund.unwrap_or_default(),
        },
    }
}

/// Deploys the governance timelock: `proposers` schedule and cancel, anyone executes once
/// `min_delay` seconds have passed; the timelock administers itself.
pub async fn deploy_timelock<P: Provider>(
    provider: &P,
    min_delay: u64,
    proposers: Vec<Address>,
) -> Result<Address, ChainError> {
    let sent = SeqstakeTimelock::deploy_builder(
        provider,
        U256::from(min_delay),
        proposers,
        vec![Address::ZERO],
        Address::ZERO,
    )
    .send()
    .await;
    deployed_at(provider, "deploy SeqstakeTimelock".to_owned(), sent.map(|p| *p.tx_hash())).await
}

/// Deploys the sequencer registry (its extension first, with the same parameters) with the
/// timelock at `admin` as its admin; returns the registry's address.
pub async fn deploy_registry<P: Provider>(
    provider: &P,
    params: RegistryCore::Params,
    admin: Address,
) -> Result<Address, ChainError> {
    let extension_params = extension::RegistryCore::Params {
        genesisTime: params.genesisTime,
        epochLength: params.epochLength,
        minBond: params.minBond,
        maxBond: params.maxBond,
        maxCommissionBps: params.maxCommissionBps,
        maxCommissionChangeBps: params.maxCommissionChangeBps,
        maxCandidates: params.maxCandidates,
        maxActive: params.maxActive,
        unbondingEpochs: params.unbondingEpochs,
        maxUnbondingEntries: params.maxUnbondingEntries,
        jailCooldownEpochs: params.jailCooldownEpochs,
        maxPauseDuration: params.maxPauseDuration,
        insuranceFund: params.insuranceFund,
    };
    let sent = RegistryExtension::deploy_builder(provider, extension_params).send().await;
    let extension =
        deployed_at(provider, "deploy RegistryExtension".to_owned(), sent.map(|p| *p.tx_hash())).await?;
    let sent = SequencerRegistry::deploy_builder(provider, params, admin, extension).send().await;
    deployed_at(provider, "deploy SequencerRegistry".to_owned(), sent.map(|p| *p.tx_hash())).await
}
