//! `seqstake devnet`: the whole system on two local anvil chains, the settlement chain
//! (contracts, stake) and a served chain (a rollup whose blocks the sequencer set produces).
//! It deploys from the committed artifacts with `config/devnet.toml`, registers sequencers,
//! delegators and liquid holders, then runs epochs: the served chain's blocks by the producer
//! rule, seeded traffic on the settlement chain, both clocks moved to the next epoch, and one
//! line per epoch. Every start is a fresh world (new chains, new deployment; the state folder's
//! addresses file is rewritten). The chains are children of this process: a normal stop, Ctrl-C,
//! SIGTERM or a panic stops them.
//!
//! The served chain's fees reach its fee vault on the settlement chain through a devnet relay
//! contract (the devnet's bridge), once per epoch, naming the served blocks they cover.
//!
//! After each epoch the three oracle members (`oracle`), each with its own SQLite store in
//! `<state>/members/`, build, vote and execute the report that closes it, taking turns; the
//! keeper (`crate::keeper`) then does what anyone may do.

pub mod chains;
pub mod oracle;
pub mod served;
pub mod traffic;
pub mod world;

use std::{
    collections::{BTreeMap, BTreeSet},
    future::Future,
    path::PathBuf,
    time::Duration,
};

use alloy::{primitives::U256, providers::Provider};
use rand::{SeedableRng, rngs::StdRng};

use self::{
    chains::{Clock, LocalChain, SERVED_CHAIN_ID, SETTLEMENT_CHAIN_ID},
    served::ServedBlock,
    traffic::Outcome,
    world::World,
};
use crate::{
    chain::{
        ChainError,
        bindings::{DevnetFeeRelay, SequencerRegistry},
        tx::confirm_sent,
    },
    config::{ConfigError, EconomicsConfig},
    economics::{
        producer::{Turns, tally},
        report::Report,
        settlement::SequencerId,
    },
};

/// How to run the devnet.
#[derive(Debug, Clone)]
pub struct DevnetOptions {
    /// The economics configuration.
    pub config: PathBuf,
    /// Where the addresses file goes.
    pub state_dir: PathBuf,
    /// Seeds the traffic and the served chain's users.
    pub seed: u64,
    /// Stop after this many epochs (run until stopped when `None`).
    pub epochs: Option<u64>,
    /// Wall-clock pause between epochs.
    pub pace: Duration,
    /// Sequencers to register (at most the configuration's candidates).
    pub sequencers: usize,
    /// Served blocks per epoch (at most the epoch length in seconds less one).
    pub blocks_per_epoch: u64,
    /// Settlement actions per epoch.
    pub actions_per_epoch: usize,
    /// Sequencers that miss their turns, by id.
    pub offline: BTreeSet<SequencerId>,
    /// For how many of the devnet's epochs they stay offline (`None`: until it stops). Back
    /// online, a jailed one's operator unjails it once the registry's cooldown allows.
    pub offline_epochs: Option<u64>,
    /// Oracle members (by position in the configuration) that go silent after sending this many
    /// calls of each report (0: they vote but never execute).
    pub stalled_members: BTreeMap<usize, usize>,
}

/// Why the devnet stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum DevnetError {
    /// The configuration could not be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// An anvil could not be started.
    #[error("start anvil for chain {chain_id} (is it installed? `make devnet` installs it): {source}")]
    Anvil {
        /// The chain it was for.
        chain_id: u64,
        /// Why.
        source: alloy::node_bindings::NodeError,
    },
    /// A chain operation failed.
    #[error(transparent)]
    Chain(Box<ChainError>),
    /// A JSON-RPC request failed.
    #[error("{action}: {source}")]
    Rpc {
        /// What was being done.
        action: String,
        /// The underlying error.
        source: alloy::transports::TransportError,
    },
    /// A contract call failed.
    #[error("{action}: {source}")]
    Contract {
        /// What was being done.
        action: String,
        /// The underlying error.
        source: Box<alloy::contract::Error>,
    },
    /// A file could not be written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The options cannot work with this configuration.
    #[error("{0}")]
    Options(String),
    /// Something the devnet relies on did not hold.
    #[error("{0}")]
    Invariant(String),
    /// An oracle member's store failed or refused.
    #[error(transparent)]
    Store(#[from] crate::store::member::StoreError),
}

impl From<ChainError> for DevnetError {
    fn from(err: ChainError) -> Self {
        Self::Chain(Box::new(err))
    }
}

impl DevnetError {
    /// A failed contract call, with what was being done.
    pub fn contract(action: impl Into<String>, source: alloy::contract::Error) -> Self {
        Self::Contract { action: action.into(), source: Box::new(source) }
    }
}

/// One epoch as the devnet ran it.
#[derive(Debug, Clone)]
pub struct EpochRun {
    /// The settlement epoch.
    pub epoch: u64,
    /// The active set the producer rule used.
    pub set: Vec<SequencerId>,
    /// The served blocks.
    pub blocks: Vec<ServedBlock>,
    /// Blocks and missed turns per member of the set.
    pub turns: Vec<(SequencerId, Turns)>,
    /// The settlement actions.
    pub actions: Vec<Outcome>,
    /// The served chain's fees relayed into its vault in this epoch.
    pub relayed: U256,
    /// The reports executed after it (the epochs it closed).
    pub reports: Vec<oracle::ReportRun>,
    /// The liquid token's rate after them (assets per share, RAY).
    pub rate: U256,
    /// The APR from the previous epoch's rate to this one (`economics::liquid::apr`, a fraction;
    /// `None` in the first epoch).
    pub apr: Option<rust_decimal::Decimal>,
    /// The scripted events of this epoch (the slash proposal).
    pub events: Vec<String>,
    /// The keeper's duties done after the reports.
    pub duties: Vec<crate::keeper::Duty>,
}

impl EpochRun {
    /// The served chain's gas fees in this epoch.
    pub fn served_fees(&self) -> U256 {
        self.blocks.iter().map(|b| b.fees).sum()
    }

    /// The per-epoch line.
    pub fn line(&self) -> String {
        let turns: Vec<String> = self
            .turns
            .iter()
            .map(|(id, t)| {
                if t.missed > 0 {
                    format!("{id}:{}/-{}", t.produced, t.missed)
                } else {
                    format!("{id}:{}", t.produced)
                }
            })
            .collect();
        let refused = self.actions.iter().filter(|a| matches!(a, Outcome::Refused(..))).count();
        let reports: Vec<String> = self
            .reports
            .iter()
            .map(|r| {
                format!(
                    "report {}..={} {} ({} calls, {} gas) paid {} wei, pool {} wei{}",
                    r.first,
                    r.last,
                    short(r.hash),
                    r.calls,
                    r.gas,
                    r.rewards,
                    r.pool_rewards,
                    if r.refused_pool_steps.is_empty() {
                        String::new()
                    } else {
                        format!(", refused {}", r.refused_pool_steps.join("; "))
                    }
                )
            })
            .collect();
        format!(
            "epoch {:>4}  blocks {}  revenue {}: {} wei  actions {} ok, {} refused  {}  rate {}{}",
            self.epoch,
            turns.join(" "),
            SERVED_CHAIN_ID,
            self.relayed,
            self.actions.len() - refused,
            refused,
            if reports.is_empty() { "no report".to_owned() } else { reports.join("; ") },
            rate_text(self.rate),
            self.apr.map_or_else(String::new, |apr| format!(
                " (APR {:.2}%)",
                apr * rust_decimal::Decimal::ONE_HUNDRED
            )),
        )
    }
}

fn short(hash: alloy::primitives::B256) -> String {
    let text = hash.to_string();
    format!("{}…", &text[..10])
}

/// The rate (assets per share, RAY) as a decimal with 15 places.
fn rate_text(rate: U256) -> String {
    let scaled = rate / U256::from(1_000_000_000_000u64);
    let unit = U256::from(10u64).pow(U256::from(15u64));
    format!("{}.{:0>15}", scaled / unit, scaled % unit)
}

/// A running devnet: its chains (stopped when it is dropped) and what it deployed.
#[derive(Debug)]
pub struct Devnet {
    /// The settlement chain.
    pub settlement: LocalChain,
    /// The served chain.
    pub served: LocalChain,
    /// The deployment and its actors.
    pub world: World,
    /// The economics configuration in use.
    pub config: EconomicsConfig,
    /// Where the addresses file was written.
    pub addresses_file: PathBuf,
    /// The oracle members, each with its own store.
    pub members: Vec<oracle::Member>,
    rng: StdRng,
    options: DevnetOptions,
    epochs_run: u64,
    last_rate: Option<crate::economics::liquid::RatePoint>,
}

impl Devnet {
    /// Starts both chains, deploys and wires the system and sets up the actors.
    pub async fn start(options: DevnetOptions) -> Result<Self, DevnetError> {
        let config = EconomicsConfig::load(&options.config)?;
        check_options(&options, &config)?;
        let settlement = LocalChain::spawn(SETTLEMENT_CHAIN_ID).await?;
        let served = LocalChain::spawn(SERVED_CHAIN_ID).await?;
        alloy::providers::ext::AnvilApi::anvil_set_auto_mine(&served.reader(), false).await.map_err(
            |source| DevnetError::Rpc { action: "stop the served chain's automine".to_owned(), source },
        )?;
        let first_served_block = served.reader().get_block_number().await.map_err(|source| {
            DevnetError::Rpc { action: "read the served chain's head".to_owned(), source }
        })? + 1;
        let world = world::build(&settlement, &config, options.sequencers, first_served_block).await?;
        let addresses_file =
            world::write_addresses(&options.state_dir, &settlement, &served, &world, &config)?;
        // The members' stores belong to this deployment: a fresh world starts them afresh.
        let members_dir = options.state_dir.join("members");
        if members_dir.exists() {
            std::fs::remove_dir_all(&members_dir)
                .map_err(|source| DevnetError::Io { path: members_dir.clone(), source })?;
        }
        let members = oracle::open_members(
            &settlement,
            &config,
            world.system.executor,
            &members_dir,
            &options.stalled_members,
        )
        .await?;
        let rng = StdRng::seed_from_u64(options.seed);
        Ok(Self {
            settlement,
            served,
            world,
            config,
            addresses_file,
            members,
            rng,
            options,
            epochs_run: 0,
            last_rate: None,
        })
    }

    /// Runs the current epoch to its end: served blocks, settlement traffic, then both clocks
    /// to the next epoch's start, and the reports that close it.
    pub async fn run_epoch(&mut self) -> Result<EpochRun, DevnetError> {
        self.run_epoch_reporting(&|_| {}).await
    }

    /// `run_epoch`, with the members voting each report as `alter` changes it (colluding
    /// members, in tests).
    pub async fn run_epoch_reporting(
        &mut self,
        alter: &dyn Fn(&mut Report),
    ) -> Result<EpochRun, DevnetError> {
        let registry = SequencerRegistry::new(self.world.system.registry, self.settlement.reader());
        let read = |action: &str| {
            let action = action.to_owned();
            move |source| DevnetError::contract(action.clone(), source)
        };
        let epoch = registry.currentEpoch().call().await.map_err(read("read the current epoch"))?;
        let length = self.config.epochs.length_seconds;
        let start = self.world.genesis_time + epoch * length;
        let head =
            self.settlement.reader().get_block_number().await.map_err(|source| DevnetError::Rpc {
                action: "read the settlement head".to_owned(),
                source,
            })?;
        let set = crate::chain::inputs::set_in_force(
            &self.settlement.reader(),
            &self.world.system,
            &self.config,
            self.world.genesis_time,
            self.world.ready_block,
            epoch,
            head,
        )
        .await?;
        let blocks = served::produce_blocks(
            &self.served,
            &self.world.sequencers,
            &set,
            &self.offline_now(),
            start + 1,
            self.options.blocks_per_epoch,
            &mut self.rng,
        )
        .await?;
        let produced: Vec<(u64, Option<SequencerId>)> =
            blocks.iter().map(|b| (b.number, b.producer)).collect();
        let turns = tally(&produced, &set);
        let relayed = self.relay_fees(&blocks).await?;
        let actions = traffic::run_actions(
            &self.settlement,
            &self.world,
            &mut self.rng,
            self.options.actions_per_epoch,
        )
        .await?;
        Clock::of(&self.settlement).move_to(start + length).await?;
        let mut events = self.scripted(epoch).await?;
        events.extend(self.rotate_signer().await?);
        events.extend(self.unjail_returned().await?);
        let reports = self.report_ended(alter).await?;
        let duties =
            crate::keeper::run_duties(&self.settlement.wallet(world::KEEPER), &self.world.system).await?;
        self.epochs_run += 1;
        let token = crate::chain::bindings::liquid::LiquidStakingToken::new(
            self.world.system.token,
            self.settlement.reader(),
        );
        let rate = token.shareRate().call().await.map_err(read("read the liquid rate"))?;
        let point = crate::economics::liquid::RatePoint { time: start + length, rate };
        let apr = self.last_rate.and_then(|previous| crate::economics::liquid::apr(previous, point).ok());
        self.last_rate = Some(point);
        Ok(EpochRun { epoch, set, blocks, turns, actions, relayed, reports, rate, apr, events, duties })
    }

    /// Sends the fees of `blocks` through the relay into the served chain's vault, in the
    /// current settlement epoch (what arrives in epoch e is its revenue for e).
    async fn relay_fees(&self, blocks: &[ServedBlock]) -> Result<U256, DevnetError> {
        let (Some(first), Some(last)) = (blocks.first(), blocks.last()) else { return Ok(U256::ZERO) };
        let fees: U256 = blocks.iter().map(|b| b.fees).sum();
        let wallet = self.settlement.wallet(world::RELAYER);
        let relay = DevnetFeeRelay::new(self.world.relay, &wallet);
        let sent = relay.relay(first.number, last.number).value(fees).send().await;
        let action = format!("relay the fees of served blocks {}..={}", first.number, last.number);
        confirm_sent(&wallet, &action, sent.map(|p| *p.tx_hash())).await?;
        Ok(fees)
    }
}

impl Devnet {
    /// The members report every ended epoch not reported yet. The report's last epoch and its
    /// reference block come from the chain alone: the epoch before the registry's current one,
    /// and the last settlement block timestamped before that epoch's end. So a member that
    /// stopped half way (or lost its database) picks up exactly where the chain stands.
    pub async fn report_ended(
        &self,
        alter: &dyn Fn(&mut Report),
    ) -> Result<Vec<oracle::ReportRun>, DevnetError> {
        let reader = self.settlement.reader();
        let registry = SequencerRegistry::new(self.world.system.registry, &reader);
        let current = registry
            .currentEpoch()
            .call()
            .await
            .map_err(|s| DevnetError::contract("read the current epoch", s))?;
        let Some(last) = current.checked_sub(1) else { return Ok(Vec::new()) };
        let head = reader
            .get_block_number()
            .await
            .map_err(|source| DevnetError::Rpc { action: "read the settlement head".to_owned(), source })?;
        let end = self.world.genesis_time + current * self.config.epochs.length_seconds;
        let ref_block = crate::chain::inputs::first_block_at(&reader, end, head).await? - 1;
        oracle::report_ended_epochs(self, ref_block, last, alter).await
    }

    /// A member restarted without its database: its store is deleted and opened afresh (it
    /// recovers its votes from its `HashVoted` logs).
    pub async fn lose_member_store(&mut self, position: usize) -> Result<(), DevnetError> {
        let dir = self.options.state_dir.join("members");
        let member = self
            .members
            .get(position)
            .ok_or_else(|| DevnetError::Options(format!("no oracle member {position}")))?;
        member.store.close().await;
        for suffix in ["", "-wal", "-shm"] {
            let path = dir.join(format!("member-{position}.sqlite{suffix}"));
            if path.exists() {
                std::fs::remove_file(&path)
                    .map_err(|source| DevnetError::Io { path: path.clone(), source })?;
            }
        }
        let path = dir.join(format!("member-{position}.sqlite"));
        let store = crate::store::member::MemberStore::open_sqlite(
            &path,
            member.address,
            SETTLEMENT_CHAIN_ID,
            self.world.system.executor,
        )
        .await?;
        self.members[position].store = store;
        Ok(())
    }

    /// The sequencers offline in the current epoch.
    fn offline_now(&self) -> BTreeSet<SequencerId> {
        if self.options.offline_epochs.is_some_and(|n| self.epochs_run >= n) {
            return BTreeSet::new();
        }
        self.options.offline.clone()
    }

    /// Operators of sequencers back online unjail them once the registry allows it (its
    /// cooldown passed); an unjail the registry still refuses is simply tried again later.
    async fn unjail_returned(&self) -> Result<Vec<String>, DevnetError> {
        let mut events = Vec::new();
        let online = self.offline_now();
        for &id in self.options.offline.iter().filter(|id| !online.contains(id)) {
            let Some(sequencer) = self.world.sequencers.iter().find(|s| s.id == id) else { continue };
            let wallet = self.settlement.wallet(sequencer.operator);
            let registry = SequencerRegistry::new(self.world.system.registry, &wallet);
            let state = registry
                .sequencer(id)
                .call()
                .await
                .map_err(|s| DevnetError::contract("read a sequencer", s))?;
            if !state.jailed || registry.unjail(id).call().await.is_err() {
                continue;
            }
            let what = format!("sequencer {id} is back online: its operator unjails it");
            let sent = registry.unjail(id).send().await;
            confirm_sent(&wallet, &what, sent.map(|p| *p.tx_hash())).await?;
            events.push(what);
        }
        Ok(events)
    }

    /// The scripted signer rotation: after the devnet's fourth epoch the operator of sequencer
    /// 1 replaces its block-signing key; the served blocks from then on carry the new key (the
    /// producer rule identifies a sequencer by its signer at the block's time).
    async fn rotate_signer(&mut self) -> Result<Vec<String>, DevnetError> {
        if self.epochs_run != 3 {
            return Ok(Vec::new());
        }
        let Some(sequencer) = self.world.sequencers.iter_mut().find(|s| s.id == 1) else {
            return Ok(Vec::new());
        };
        let new_signer = alloy::primitives::Address::from_word(alloy::primitives::keccak256(
            "seqstake devnet: the rotated signer of sequencer 1",
        ));
        let wallet = self.settlement.wallet(sequencer.operator);
        let registry = SequencerRegistry::new(self.world.system.registry, &wallet);
        let what =
            format!("the operator of sequencer 1 rotates its signer {} to {new_signer}", sequencer.signer);
        match registry.rotateSigner(1, new_signer).send().await {
            Ok(pending) => {
                confirm_sent(&wallet, &what, Ok(*pending.tx_hash())).await?;
                sequencer.signer = new_signer;
                Ok(vec![what])
            }
            Err(err) => Ok(vec![format!("{what}: refused: {}", traffic::describe(&err))]),
        }
    }

    /// The scripted events: in the devnet's third epoch the verifier proposes, with evidence, a
    /// slash of sequencer 2 for the epoch before (5%); the keeper executes it once the guardian's
    /// veto window has passed.
    async fn scripted(&self, epoch: u64) -> Result<Vec<String>, DevnetError> {
        if self.epochs_run != 2 {
            return Ok(Vec::new());
        }
        let verifier = self.world.system.verifier;
        let index = (0..chains::ACCOUNTS)
            .find(|&i| self.settlement.address(i) == verifier)
            .ok_or_else(|| DevnetError::Invariant("the verifier is no development account".to_owned()))?;
        let wallet = self.settlement.wallet(index);
        let manager =
            crate::chain::bindings::SlashingManager::new(self.world.system.slashing_manager, &wallet);
        let evidence = alloy::primitives::keccak256(format!(
            "devnet: sequencer 2 signed two blocks in epoch {}",
            epoch - 1
        ));
        let sent = manager.propose(2, epoch - 1, 1, evidence, 500).send().await;
        let what = format!("the verifier proposes a 5% slash of sequencer 2 for epoch {}", epoch - 1);
        match sent {
            Ok(pending) => {
                confirm_sent(&wallet, &what, Ok(*pending.tx_hash())).await?;
                Ok(vec![format!("{what} (evidence {evidence})")])
            }
            Err(err) => Ok(vec![format!("{what}: refused: {}", traffic::describe(&err))]),
        }
    }
}

fn check_options(options: &DevnetOptions, config: &EconomicsConfig) -> Result<(), DevnetError> {
    let candidates = usize::try_from(config.staking.max_candidates).unwrap_or(usize::MAX);
    if options.sequencers == 0 || options.sequencers > candidates.min(world::SIGNERS - world::OPERATORS) {
        return Err(DevnetError::Options(format!(
            "--sequencers {} is outside 1..={}",
            options.sequencers,
            candidates.min(world::SIGNERS - world::OPERATORS)
        )));
    }
    if options.blocks_per_epoch == 0 || options.blocks_per_epoch >= config.epochs.length_seconds {
        return Err(DevnetError::Options(format!(
            "--blocks-per-epoch {} is outside 1..={} (one block a second inside an epoch of {} s)",
            options.blocks_per_epoch,
            config.epochs.length_seconds - 1,
            config.epochs.length_seconds
        )));
    }
    let members = config.oracle.members.len();
    if let Some(&position) = options.stalled_members.keys().find(|&&p| p >= members) {
        return Err(DevnetError::Options(format!(
            "--stall-member {position}: the configuration has members 0..={}",
            members.saturating_sub(1)
        )));
    }
    if options.stalled_members.len() == members && options.stalled_members.values().all(|&k| k == 0) {
        return Err(DevnetError::Options(
            "every oracle member is stalled: no report could ever execute".to_owned(),
        ));
    }
    Ok(())
}

/// Runs the devnet until `options.epochs` epochs have run or `shutdown` resolves, printing the
/// addresses and one line per epoch. The chains stop when it returns (or panics).
pub async fn run(options: DevnetOptions, shutdown: impl Future<Output = ()>) -> Result<u64, DevnetError> {
    tokio::pin!(shutdown);
    let start = Devnet::start(options.clone());
    let mut devnet = tokio::select! {
        devnet = start => devnet?,
        () = &mut shutdown => return Ok(0),
    };
    print_header(&devnet);
    let mut epochs = 0;
    while options.epochs.is_none_or(|limit| epochs < limit) {
        let epoch = tokio::select! {
            run = devnet.run_epoch() => run?,
            () = &mut shutdown => break,
        };
        fail::fail_point!("devnet::epoch_ended");
        println!("{}", epoch.line());
        for event in &epoch.events {
            println!("             {event}");
        }
        for duty in &epoch.duties {
            println!("             keeper: {duty:?}");
        }
        for action in &epoch.actions {
            if let Outcome::Refused(what, why) = action {
                println!("             refused: {what}: {why}");
            }
        }
        epochs += 1;
        tokio::select! {
            () = tokio::time::sleep(options.pace) => {}
            () = &mut shutdown => break,
        }
    }
    for member in &devnet.members {
        member.store.close().await;
    }
    println!("stopped after {epochs} epoch(s); the chains stop with the devnet");
    Ok(epochs)
}

fn print_header(devnet: &Devnet) {
    let system = &devnet.world.system;
    println!("seqstake devnet");
    println!("  settlement chain {} at {}", devnet.settlement.chain_id, devnet.settlement.url());
    println!("  served chain     {} at {}", devnet.served.chain_id, devnet.served.url());
    println!("  registry         {}", system.registry);
    println!("  liquid token     {}", system.token);
    println!("  withdrawal queue {}", system.queue);
    println!("  report contract  {}", system.executor);
    println!("  slashing manager {}", system.slashing_manager);
    println!("  addresses        {}", devnet.addresses_file.display());
    for s in &devnet.world.sequencers {
        println!(
            "  sequencer {} bond {} wei, commission {} bps, signer {}",
            s.id, s.bond, s.commission_bps, s.signer
        );
    }
}
