//! The `seqstake` command line. A subcommand exists only once it does something real.

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};

use crate::config::{ConfigError, EconomicsConfig};

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
    }
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
