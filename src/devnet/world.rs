//! The devnet's world: the whole system deployed on the settlement chain from the committed
//! artifacts with `config/devnet.toml` (`chain::system`), the timelock's wiring executed by
//! moving the clock past its delay, the emission reserve funded, and the actors, all anvil's
//! development accounts: sequencers with different bonds and commissions (one at the maximum
//! bond), delegators and liquid-token holders. The roles the configuration names (guardian,
//! verifier, oracle members, partner, insurance, treasury) are accounts 2 to 9.

use std::path::Path;

use alloy::{
    primitives::{Address, U256},
    providers::{DynProvider, Provider},
};
use serde::Serialize;

use super::{
    DevnetError,
    chains::{Clock, LocalChain},
};
use crate::{
    chain::{
        bindings::{DevnetFeeRelay, EmissionReserve, SequencerRegistry, liquid::LiquidStakingToken},
        system::{DeployInputs, SystemAddresses, deploy_system, execute_wiring},
        tx::confirm_sent,
    },
    config::EconomicsConfig,
};

/// The deployer and timelock proposer.
pub const DEPLOYER: usize = 0;
/// Relays the served chain's fees into its vault (the devnet's bridge).
pub const RELAYER: usize = 1;
/// The first sequencer operator's account; operator `k` (0-based) is `OPERATORS + k`.
pub const OPERATORS: usize = 10;
/// The first block-signing key: sequencer `k`'s signer is `SIGNERS + k`; rotations use the
/// accounts after the last one in use.
pub const SIGNERS: usize = 20;
/// The delegators.
pub const DELEGATORS: [usize; 3] = [30, 31, 32];
/// The liquid-token holders.
pub const HOLDERS: [usize; 3] = [33, 34, 35];
/// Performs the keeper's duties (anyone may).
pub const KEEPER: usize = 29;
/// The served chain's users, who pay its gas.
pub const USERS: [usize; 4] = [36, 37, 38, 39];

/// One token in wei.
pub fn tokens(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18u64))
}

/// A registered sequencer of the devnet.
#[derive(Debug, Clone, Serialize)]
pub struct DevnetSequencer {
    /// Its registry id.
    pub id: u32,
    /// The operator's account index.
    pub operator: usize,
    /// The operator's address.
    pub operator_address: Address,
    /// The block-signing key's address (the served chain's `miner`).
    pub signer: Address,
    /// The bond, in wei.
    pub bond: U256,
    /// The commission.
    pub commission_bps: u16,
}

/// What the devnet deployed and who acts in it.
#[derive(Debug, Clone)]
pub struct World {
    /// Every contract (and the guardian and verifier accounts).
    pub system: SystemAddresses,
    /// The settlement block the deployment began in.
    pub deployment_block: u64,
    /// Unix time of epoch 0.
    pub genesis_time: u64,
    /// The first epoch reports cover (the emission schedule's step 0).
    pub first_epoch: u64,
    /// The first settlement block in which every contract exists.
    pub ready_block: u64,
    /// The sequencers, in id order.
    pub sequencers: Vec<DevnetSequencer>,
    /// The served chain's fee relay (the devnet's bridge) into its vault.
    pub relay: Address,
}

/// The addresses file the devnet writes to its state folder (`addresses.json`).
#[derive(Debug, Serialize)]
pub struct AddressesFile<'a> {
    /// The settlement chain: id, RPC URL, anvil pid.
    pub settlement: ChainEntry,
    /// The served chain.
    pub served: ChainEntry,
    /// The settlement block the deployment began in.
    pub deployment_block: u64,
    /// Unix time of epoch 0; epochs last `epoch_length_seconds`.
    pub genesis_time: u64,
    /// The first epoch reports cover (the emission schedule's step 0).
    pub first_epoch: u64,
    /// The first settlement block in which every contract exists.
    pub ready_block: u64,
    /// The epoch length.
    pub epoch_length_seconds: u64,
    /// The contracts (and the guardian and verifier accounts).
    pub contracts: &'a SystemAddresses,
    /// The served chain's fee relay into its vault (the devnet's bridge).
    pub relay: Address,
    /// The sequencers.
    pub sequencers: &'a [DevnetSequencer],
}

/// One chain in the addresses file.
#[derive(Debug, Serialize)]
pub struct ChainEntry {
    /// The chain id.
    pub chain_id: u64,
    /// Its JSON-RPC URL.
    pub rpc_url: String,
    /// The anvil process (stopped with the devnet).
    pub anvil_pid: u32,
}

/// Deploys and wires the system, funds the reserve, registers `sequencers` sequencers and
/// makes the first delegations and deposits. Returns when everything is in place, in an epoch
/// after the wiring.
pub async fn build(
    settlement: &LocalChain,
    config: &EconomicsConfig,
    sequencers: usize,
    first_served_block: u64,
) -> Result<World, DevnetError> {
    let deployer = settlement.wallet(DEPLOYER);
    let clock = Clock::of(settlement);
    let genesis_time = clock.now().await?;
    let deployment_block = deployer
        .get_block_number()
        .await
        .map_err(|source| DevnetError::Rpc { action: "read the deployment block".to_owned(), source })?;
    let inputs = DeployInputs {
        genesis_time,
        governor: settlement.address(DEPLOYER),
        served_chains: vec![super::chains::SERVED_CHAIN_ID, super::chains::SETTLEMENT_CHAIN_ID],
    };
    let (system, wiring) = deploy_system(&deployer, config, &inputs).await?;
    let first_epoch = crate::chain::bindings::executor::ReportExecutor::new(system.executor, &deployer)
        .nextEpoch()
        .call()
        .await
        .map_err(|source| DevnetError::contract("read the first report epoch", source))?;
    let ready_block = deployer
        .get_block_number()
        .await
        .map_err(|source| DevnetError::Rpc { action: "read the settlement head".to_owned(), source })?;
    clock.move_to(clock.now().await? + config.governance.timelock_delay_seconds).await?;
    execute_wiring(&deployer, system.timelock, &wiring).await?;

    let vault = system
        .vaults
        .iter()
        .find(|(chain_id, _)| *chain_id == super::chains::SERVED_CHAIN_ID)
        .map(|&(_, vault)| vault)
        .ok_or_else(|| DevnetError::Invariant("no fee vault for the served chain".to_owned()))?;
    let sent =
        DevnetFeeRelay::deploy_builder(&deployer, super::chains::SERVED_CHAIN_ID, vault, first_served_block)
            .send()
            .await;
    let receipt =
        confirm_sent(&deployer, "deploy the served chain's fee relay", sent.map(|p| *p.tx_hash())).await?;
    let relay = receipt
        .contract_address
        .ok_or_else(|| DevnetError::Invariant("the relay's deployment has no address".to_owned()))?;

    let reserve = EmissionReserve::new(system.reserve, &deployer);
    send(&deployer, "fund the emission reserve", reserve.fund().value(tokens(10)).send().await).await?;

    let mut registered = Vec::with_capacity(sequencers);
    for k in 0..sequencers {
        registered.push(register(settlement, &system, config, k).await?);
    }
    for (i, &account) in DELEGATORS.iter().enumerate() {
        let wallet = settlement.wallet(account);
        let id = registered[(i + 1) % registered.len()].id;
        let registry = SequencerRegistry::new(system.registry, &wallet);
        let amount = tokens(20 >> i);
        let action = format!("account {account} delegates to sequencer {id}");
        send(&wallet, &action, registry.delegate(id).value(amount).send().await).await?;
    }
    for (i, &account) in HOLDERS.iter().enumerate() {
        let wallet = settlement.wallet(account);
        let token = LiquidStakingToken::new(system.token, &wallet);
        let action = format!("account {account} deposits into the liquid token");
        send(&wallet, &action, token.deposit(Address::ZERO).value(tokens(50 / (i as u64 + 1))).send().await)
            .await?;
    }
    // Stake counts from the next epoch: start there, so that the sequencers are in force.
    let length = config.epochs.length_seconds;
    let now = clock.now().await?;
    clock.move_to(genesis_time + ((now - genesis_time) / length + 1) * length).await?;
    Ok(World {
        system,
        deployment_block,
        genesis_time,
        first_epoch,
        ready_block,
        sequencers: registered,
        relay,
    })
}

/// Sequencer `k`: bonds from the maximum down, commissions from 5% up in steps of 5 points
/// (within the configured maximum).
async fn register(
    chain: &LocalChain,
    system: &SystemAddresses,
    config: &EconomicsConfig,
    k: usize,
) -> Result<DevnetSequencer, DevnetError> {
    let operator = OPERATORS + k;
    let wallet = chain.wallet(operator);
    let bond = if k == 0 { config.staking.max_bond } else { config.staking.min_bond * U256::from(11 - k) };
    let steps = u16::try_from(k % 4).unwrap_or(0);
    let commission_bps = (500 + 500 * steps).min(config.commission.max_rate_bps);
    let signer = chain.address(SIGNERS + k);
    let registry = SequencerRegistry::new(system.registry, &wallet);
    let sent = registry.register(signer, chain.address(operator), commission_bps).value(bond).send().await;
    send(&wallet, &format!("register sequencer {}", k + 1), sent).await?;
    let id = registry
        .sequencerOfOperator(chain.address(operator))
        .call()
        .await
        .map_err(|source| DevnetError::contract("read the new sequencer's id".to_owned(), source))?;
    Ok(DevnetSequencer {
        id,
        operator,
        operator_address: chain.address(operator),
        signer,
        bond,
        commission_bps,
    })
}

/// Sends and waits for a transaction that must succeed during set-up.
async fn send<T>(
    provider: &DynProvider,
    action: &str,
    sent: Result<alloy::providers::PendingTransactionBuilder<T>, alloy::contract::Error>,
) -> Result<(), DevnetError>
where
    T: alloy::network::Network,
{
    confirm_sent(provider, action, sent.map(|p| *p.tx_hash())).await?;
    Ok(())
}

/// Writes the addresses file.
pub fn write_addresses(
    dir: &Path,
    settlement: &LocalChain,
    served: &LocalChain,
    world: &World,
    config: &EconomicsConfig,
) -> Result<std::path::PathBuf, DevnetError> {
    let file = AddressesFile {
        settlement: ChainEntry {
            chain_id: settlement.chain_id,
            rpc_url: settlement.url(),
            anvil_pid: settlement.pid(),
        },
        served: ChainEntry { chain_id: served.chain_id, rpc_url: served.url(), anvil_pid: served.pid() },
        deployment_block: world.deployment_block,
        genesis_time: world.genesis_time,
        first_epoch: world.first_epoch,
        ready_block: world.ready_block,
        epoch_length_seconds: config.epochs.length_seconds,
        contracts: &world.system,
        relay: world.relay,
        sequencers: &world.sequencers,
    };
    std::fs::create_dir_all(dir).map_err(|source| DevnetError::Io { path: dir.to_owned(), source })?;
    let path = dir.join("addresses.json");
    let text = serde_json::to_string_pretty(&file).map_err(|e| DevnetError::Invariant(e.to_string()))?;
    std::fs::write(&path, text + "\n").map_err(|source| DevnetError::Io { path: path.clone(), source })?;
    Ok(path)
}
