//! The devnet's two local chains: anvil processes from the project's npm toolchain, children of
//! this process on free ports (alloy's `AnvilInstance` stops its anvil when dropped, so a
//! normal stop, a signal handled by `devnet::run` or a panic never leaves one running). Their
//! clocks only move when the devnet moves them: every block keeps the timestamp of the one
//! before until `Clock::move_to` sets the next.

use std::path::PathBuf;

use alloy::{
    network::EthereumWallet,
    node_bindings::{Anvil, AnvilInstance},
    primitives::Address,
    providers::{DynProvider, Provider, ProviderBuilder, ext::AnvilApi},
    signers::local::PrivateKeySigner,
};

use super::DevnetError;

/// The settlement chain's id (contracts, stake, reports).
pub const SETTLEMENT_CHAIN_ID: u64 = 31_337;
/// The served chain's id (a rollup whose blocks the sequencer set produces).
pub const SERVED_CHAIN_ID: u64 = 31_338;
/// Development accounts each chain is started with (anvil's well-known mnemonic).
pub const ACCOUNTS: usize = 40;

/// One running chain and its development keys.
#[derive(Debug)]
pub struct LocalChain {
    /// The anvil process (stopped on drop).
    pub anvil: AnvilInstance,
    /// Its chain id.
    pub chain_id: u64,
    keys: Vec<PrivateKeySigner>,
}

impl LocalChain {
    /// Starts anvil with `chain_id` on a free port, its clock held still.
    pub async fn spawn(chain_id: u64) -> Result<Self, DevnetError> {
        let anvil = Anvil::at(anvil_program())
            .chain_id(chain_id)
            .args(["--accounts", &ACCOUNTS.to_string()])
            .try_spawn()
            .map_err(|source| DevnetError::Anvil { chain_id, source })?;
        let keys = anvil.keys().iter().map(|k| PrivateKeySigner::from(k.clone())).collect();
        let chain = Self { anvil, chain_id, keys };
        let provider = chain.reader();
        let rpc = |source| DevnetError::Rpc { action: format!("set up chain {chain_id}"), source };
        provider.anvil_set_logging(false).await.map_err(rpc)?;
        provider.anvil_set_block_timestamp_interval(0).await.map_err(rpc)?;
        Ok(chain)
    }

    /// The JSON-RPC URL.
    pub fn url(&self) -> String {
        self.anvil.endpoint()
    }

    /// Development account `i`'s address.
    pub fn address(&self, i: usize) -> Address {
        self.keys[i].address()
    }

    /// Development account `i`'s key, for what the devnet signs off chain (EIP-2612 permits).
    pub fn signer(&self, i: usize) -> &PrivateKeySigner {
        &self.keys[i]
    }

    /// A provider that signs as development account `i`. It asks the node for the next nonce at
    /// every send, so a send the node refuses leaves no gap behind it.
    pub fn wallet(&self, i: usize) -> DynProvider {
        ProviderBuilder::new()
            .disable_recommended_fillers()
            .with_gas_estimation()
            .with_simple_nonce_management()
            .fetch_chain_id()
            .wallet(EthereumWallet::from(self.keys[i].clone()))
            .connect_http(self.anvil.endpoint_url())
            .erased()
    }

    /// A provider that only reads (and drives anvil's clock).
    pub fn reader(&self) -> DynProvider {
        ProviderBuilder::new().connect_http(self.anvil.endpoint_url()).erased()
    }

    /// The anvil process's id.
    pub fn pid(&self) -> u32 {
        self.anvil.child().id()
    }
}

/// The anvil to run: `$ANVIL`, else the project's npm copy when run from the checkout, else
/// `anvil` on PATH.
fn anvil_program() -> PathBuf {
    if let Some(path) = std::env::var_os("ANVIL") {
        return PathBuf::from(path);
    }
    let arch = if cfg!(target_arch = "aarch64") { "arm64" } else { "amd64" };
    let npm = PathBuf::from(format!("node_modules/@foundry-rs/anvil-linux-{arch}/bin/anvil"));
    if npm.is_file() { npm } else { PathBuf::from("anvil") }
}

/// Moves a chain's clock: the next block gets exactly the time asked for.
#[derive(Debug, Clone)]
pub struct Clock {
    provider: DynProvider,
    chain_id: u64,
}

impl Clock {
    /// The clock of `chain`.
    pub fn of(chain: &LocalChain) -> Self {
        Self { provider: chain.reader(), chain_id: chain.chain_id }
    }

    /// Mines one block at `timestamp` (at least the latest block's); later blocks keep it.
    pub async fn move_to(&self, timestamp: u64) -> Result<(), DevnetError> {
        let rpc =
            |source| DevnetError::Rpc { action: format!("move chain {}'s clock", self.chain_id), source };
        self.provider.anvil_set_next_block_timestamp(timestamp).await.map_err(rpc)?;
        self.provider.evm_mine(None).await.map_err(rpc)?;
        Ok(())
    }

    /// The latest block's timestamp.
    pub async fn now(&self) -> Result<u64, DevnetError> {
        let block = self
            .provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .map_err(|source| DevnetError::Rpc { action: "read the latest block".to_owned(), source })?;
        block
            .map(|b| b.header.timestamp)
            .ok_or_else(|| DevnetError::Invariant("the chain has no latest block".to_owned()))
    }
}
