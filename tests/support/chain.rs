//! Helpers for the tests that run a real anvil: amounts, the chain's clock, wallets, and the
//! settlement inputs the registry checkpointed.

use alloy::{
    network::EthereumWallet,
    node_bindings::{Anvil, AnvilInstance},
    primitives::{Address, U256},
    providers::{DynProvider, Provider, ProviderBuilder, ext::AnvilApi},
    signers::local::PrivateKeySigner,
};
use seqstake::{
    chain::{bindings::SequencerRegistry, system::DeployInputs},
    config::EconomicsConfig,
    economics::settlement::SequencerEpoch,
};

/// `n` whole tokens in wei.
pub fn tokens(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18u64))
}

/// Moves the chain's clock `seconds` on and mines a block there.
pub async fn advance<P: Provider>(provider: &P, seconds: u64) {
    provider.anvil_increase_time(seconds).await.expect("increase time");
    provider.anvil_mine(Some(1), None).await.expect("mine");
}

/// The latest block's timestamp.
pub async fn now<P: Provider>(provider: &P) -> u64 {
    provider
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await
        .expect("block")
        .expect("latest")
        .header
        .timestamp
}

/// `config/devnet.toml`.
pub fn devnet_config() -> EconomicsConfig {
    EconomicsConfig::from_toml(include_str!("../../config/devnet.toml")).expect("devnet config")
}

/// A deployment on `chain` from development account 0 (the governor), with epoch 0 starting
/// at the chain's latest block and `served_chains` in the reports' order.
pub async fn deploy_inputs(chain: &Chain, served_chains: Vec<u64>) -> DeployInputs {
    DeployInputs { genesis_time: now(&chain.wallet(0)).await, governor: chain.address(0), served_chains }
}

/// A fresh anvil and its ten development accounts.
pub struct Chain {
    pub anvil: AnvilInstance,
    keys: Vec<PrivateKeySigner>,
}

impl Chain {
    pub fn spawn() -> Self {
        let anvil = Anvil::new().try_spawn().expect("anvil on PATH (run through `make test`)");
        let keys = anvil.keys().iter().map(|k| k.clone().into()).collect();
        Self { anvil, keys }
    }

    /// Development account `i`'s address.
    pub fn address(&self, i: usize) -> Address {
        self.keys[i].address()
    }

    /// A provider that signs as development account `i`.
    pub fn wallet(&self, i: usize) -> DynProvider {
        ProviderBuilder::new()
            .wallet(EthereumWallet::from(self.keys[i].clone()))
            .connect_http(self.anvil.endpoint_url())
            .erased()
    }
}

/// The inputs of `epoch` for sequencers `(id, blocks)`: stake as the registry checkpointed it,
/// the accumulator and dust as the pool holds them now.
pub async fn sequencer_inputs<P: Provider>(
    registry: &SequencerRegistry::SequencerRegistryInstance<P>,
    epoch: u64,
    blocks: &[(u32, u64)],
) -> Vec<SequencerEpoch> {
    let mut sequencers = Vec::new();
    for &(id, blocks) in blocks {
        let point = registry.stakeAt(id, epoch).call().await.expect("stakeAt");
        let pool = registry.pool(id).call().await.expect("pool");
        sequencers.push(SequencerEpoch {
            id,
            blocks,
            bond: U256::from(point.bond),
            pool_tokens: U256::from(point.tokens),
            pool_shares: U256::from(point.shares),
            commission_bps: point.commissionBps,
            jailed: false,
            acc_before: pool.acc,
            dust_before: U256::from(pool.dust),
        });
    }
    sequencers
}
