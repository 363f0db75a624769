//! The `seqstake` command line. A subcommand exists only once it does something real.

use std::{collections::BTreeSet, path::PathBuf, process::ExitCode, time::Duration};

use clap::{Parser, Subcommand};
use tokio::signal::unix::{Signal, SignalKind};

use crate::{
    config::{ConfigError, EconomicsConfig},
    devnet::{self, DevnetOptions},
    verify::Verdict,
};

/// seqstake: staking and token economics for rollup sequencers.
#[derive(Debug, Parser)]
#[command(name = "seqstake", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Work with the economics configuration (TOML).
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Recompute an executed epoch from chain data and compare it with its report: prints OK
    /// or one line per differing field. Exit code 0 when it agrees, 1 when it differs, 2 when
    /// it cannot tell (not reported yet, or the chain cannot be read).
    Verify(VerifyArgs),
    /// Run the whole system on two local anvil chains: deployment, sequencers producing the
    /// served chain's blocks, traffic, one line per epoch. Ctrl-C or SIGTERM stops it and its
    /// chains. Every start is a fresh world.
    Devnet(DevnetArgs),
}

/// `seqstake verify ...`
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The epoch to verify.
    #[arg(long)]
    pub epoch: u64,
    /// The deployment's addresses file (as the devnet writes it).
    #[arg(long, env = "SEQSTAKE_ADDRESSES", default_value = ".devnet/addresses.json")]
    pub addresses: PathBuf,
    /// The economics configuration the deployment runs.
    #[arg(long, env = "SEQSTAKE_CONFIG", default_value = "config/devnet.toml")]
    pub config: PathBuf,
    /// The settlement chain's JSON-RPC URL (default: the addresses file's).
    #[arg(long, env = "SEQSTAKE_RPC_URL")]
    pub rpc_url: Option<String>,
    /// The served chain's JSON-RPC URL (default: the addresses file's).
    #[arg(long, env = "SEQSTAKE_SERVED_RPC_URL")]
    pub served_rpc_url: Option<String>,
}

/// `seqstake devnet ...`
#[derive(Debug, clap::Args)]
pub struct DevnetArgs {
    /// The economics configuration.
    #[arg(long, env = "SEQSTAKE_CONFIG", default_value = "config/devnet.toml")]
    pub config: PathBuf,
    /// Where the addresses file is written (rewritten at every start).
    #[arg(long, env = "SEQSTAKE_STATE_DIR", default_value = ".devnet")]
    pub state_dir: PathBuf,
    /// Seeds the traffic.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Stop after this many epochs (default: run until stopped).
    #[arg(long)]
    pub epochs: Option<u64>,
    /// Wall-clock seconds between epochs (the chains' clocks move a whole epoch at once).
    #[arg(long, default_value_t = 2.0)]
    pub epoch_seconds: f64,
    /// Sequencers to register.
    #[arg(long, default_value_t = 5)]
    pub sequencers: usize,
    /// Served blocks per epoch.
    #[arg(long, default_value_t = 4)]
    pub blocks_per_epoch: u64,
    /// Settlement actions per epoch.
    #[arg(long, default_value_t = 4)]
    pub actions_per_epoch: usize,
    /// A sequencer id that misses its turns (repeat for more).
    #[arg(long = "offline")]
    pub offline: Vec<u32>,
    /// For how many epochs the `--offline` sequencers stay offline (default: until stopped);
    /// back online, a jailed one is unjailed by its operator once the cooldown allows.
    #[arg(long)]
    pub offline_epochs: Option<u64>,
    /// An oracle member (its position in the configuration, from 0) that votes but never
    /// executes: the next member in turn takes over after a few blocks (repeat for more).
    #[arg(long = "stall-member")]
    pub stall_member: Vec<usize>,
}

/// `seqstake config ...`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Parse and validate an economics configuration; every broken rule is printed with its
    /// field and allowed range. Exit code 0 when valid, 1 when not.
    Check {
        /// The TOML file.
        file: PathBuf,
    },
}

/// Parses the process arguments and runs the command.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Config(ConfigCommand::Check { file }) => config_check(&file),
        Command::Devnet(args) => run_devnet(args),
        Command::Verify(args) => run_verify(&args),
    }
}

fn run_verify(args: &VerifyArgs) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: start the async runtime: {err}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(verify(args)) {
        Ok(Verdict::Agrees { first, last }) => {
            println!("epoch {}: OK (report {first}..={last} agrees with the chain)", args.epoch);
            ExitCode::SUCCESS
        }
        Ok(Verdict::Differs(diffs)) => {
            println!("epoch {}: DIFFERS", args.epoch);
            for diff in diffs {
                println!("  {diff}");
            }
            ExitCode::from(1)
        }
        Ok(Verdict::NotReported) => {
            eprintln!("epoch {}: no executed report covers it yet", args.epoch);
            ExitCode::from(2)
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
    }
}

async fn verify(args: &VerifyArgs) -> Result<Verdict, String> {
    let config = EconomicsConfig::load(&args.config).map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(&args.addresses).map_err(|e| {
        format!("{}: {e} (start `seqstake devnet`, or pass --addresses)", args.addresses.display())
    })?;
    let sources = crate::verify::sources_from_addresses(
        &text,
        args.rpc_url.as_deref(),
        args.served_rpc_url.as_deref(),
    )?;
    crate::verify::verify_epoch(&sources, &config, args.epoch).await.map_err(|e| e.to_string())
}

fn run_devnet(args: DevnetArgs) -> ExitCode {
    if !(args.epoch_seconds.is_finite() && args.epoch_seconds >= 0.0) {
        eprintln!("error: --epoch-seconds must be a number of seconds, 0 or more");
        return ExitCode::FAILURE;
    }
    let options = DevnetOptions {
        config: args.config,
        state_dir: args.state_dir,
        seed: args.seed,
        epochs: args.epochs,
        pace: Duration::from_secs_f64(args.epoch_seconds),
        sequencers: args.sequencers,
        blocks_per_epoch: args.blocks_per_epoch,
        actions_per_epoch: args.actions_per_epoch,
        offline: args.offline.into_iter().collect::<BTreeSet<_>>(),
        offline_epochs: args.offline_epochs,
        stalled_members: args.stall_member.into_iter().map(|m| (m, 0)).collect(),
    };
    let _failpoints = fail::FailScenario::setup();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    // Listen for Ctrl-C and SIGTERM before any chain starts, so that no signal can stop us
    // with a chain running.
    let signals = {
        let _entered = runtime.enter();
        tokio::signal::unix::signal(SignalKind::interrupt())
            .and_then(|interrupt| Ok((interrupt, tokio::signal::unix::signal(SignalKind::terminate())?)))
    };
    let (interrupt, terminate) = match signals {
        Ok(signals) => signals,
        Err(err) => {
            eprintln!("error: listen for Ctrl-C and SIGTERM: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(devnet::run(options, shutdown_signal(interrupt, terminate))) {
        Ok(_) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal(mut interrupt: Signal, mut terminate: Signal) {
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
    }
    eprintln!("stopping: the chains stop with the devnet");
}
fn config_check(file: &std::path::Path) -> ExitCode {
    match EconomicsConfig::load(file) {
        Ok(config) => {
            println!("{}: valid", file.display());
            println!("  {}", summary(&config));
            ExitCode::SUCCESS
        }
        Err(ConfigError::Invalid(violations)) => {
            eprintln!("{}: {} problem(s)", file.display(), violations.len());
            for violation in violations {
                eprintln!("  error: {violation}");
            }
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("{}: invalid", file.display());
            eprintln!("  error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn summary(config: &EconomicsConfig) -> String {
    let emission = config.emission.kind().name();
    format!(
        "epoch {} s, up to {} active sequencers, unbonding {} epochs, {} revenue-share agreement(s), \
         emission {emission}, oracle quorum {} of {}",
        config.epochs.length_seconds,
        config.staking.max_active_sequencers,
        config.staking.unbonding_epochs,
        config.revenue_share.len(),
        config.oracle.quorum,
        config.oracle.members.len(),
    )
}
