//! The economics configuration: one TOML file holding every parameter that decides who is paid
//! what (epochs, fees, commission, bonds, the active set, unbonding, jailing and slashing,
//! revenue shares, emissions, the liquid token, the oracle and the report bounds).
//!
//! [`EconomicsConfig::from_toml`] parses and then validates the whole file; every rule that a
//! file breaks is reported at once, each naming its field and the allowed range.

mod rules;

use std::{fmt, path::Path};

use alloy::primitives::{Address, U256};
use serde::{Deserialize, Serialize};

use crate::amount::decimal_wei;

pub use rules::{
    MAX_ACTIVE_SEQUENCERS, MAX_EPOCH_SECONDS, MAX_EPOCHS_PER_REPORT, MAX_STAKE_MOVES_PER_REPORT,
    MAX_UNBONDING_ENTRIES, Violation, largest_rate_move_bps,
};

/// Basis points: 10_000 is 100%.
pub type Bps = u16;

/// The whole economics configuration, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EconomicsConfig {
    /// Epoch length and report cadence.
    pub epochs: EpochsConfig,
    /// Protocol fee on revenue and where it goes.
    pub treasury: TreasuryConfig,
    /// Bounds on operator commission.
    pub commission: CommissionConfig,
    /// Bonds, the active set and unbonding.
    pub staking: StakingConfig,
    /// How the epoch's rewards are weighted across sequencers.
    pub rewards: RewardsConfig,
    /// The downtime rule that jails a sequencer.
    pub downtime: DowntimeConfig,
    /// The slashing path: veto window, caps, proceeds.
    pub slashing: SlashingConfig,
    /// Revenue-share agreements, one per served chain that has a partner.
    #[serde(default)]
    pub revenue_share: Vec<RevenueShareConfig>,
    /// Where each served chain's L1 cost comes from (a chain without an entry costs nothing).
    #[serde(default)]
    pub l1_cost: Vec<L1CostConfig>,
    /// The emission schedule paid from the pre-funded reserve.
    pub emission: EmissionConfig,
    /// Limits of the liquid staking token and its withdrawal queue.
    pub liquid: LiquidConfig,
    /// Oracle members and their quorum.
    pub oracle: OracleConfig,
    /// Bounds the report contract enforces.
    pub report: ReportBoundsConfig,
    /// Timelock and pause bounds.
    pub governance: GovernanceConfig,
}

/// `[epochs]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpochsConfig {
    /// Length of one epoch on the settlement chain, in seconds.
    pub length_seconds: u64,
}

/// `[treasury]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreasuryConfig {
    /// Receives the protocol fee (and jailed rewards when so configured).
    pub address: Address,
    /// Protocol fee on revenue after partner shares (never on emissions).
    pub fee_bps: Bps,
}

/// `[commission]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommissionConfig {
    /// Highest commission an operator may set.
    pub max_rate_bps: Bps,
    /// Largest change of commission in one step (effective from the next epoch).
    pub max_change_bps: Bps,
}

/// `[staking]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StakingConfig {
    /// Smallest operator bond; a sequencer whose bond falls below it is jailed.
    #[serde(with = "decimal_wei")]
    pub min_bond: U256,
    /// Largest operator bond.
    #[serde(with = "decimal_wei")]
    pub max_bond: U256,
    /// Size of the active set (top sequencers by stake).
    pub max_active_sequencers: u32,
    /// Most registered candidates.
    pub max_candidates: u32,
    /// Unbonding period, in epochs.
    pub unbonding_epochs: u32,
    /// Most unbonding entries one delegator may hold with one sequencer.
    pub max_unbonding_entries: u32,
}

/// How an epoch's reward pool is weighted across sequencers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightMode {
    /// By blocks produced in the epoch.
    Blocks,
    /// By the epoch's checkpointed stake.
    Stake,
    /// `blend_blocks_bps` of the pool by blocks, the rest by stake.
    Blend,
}

/// Where a jailed sequencer's share of the epoch's rewards goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JailedRewardDestination {
    /// To the treasury.
    Treasury,
    /// Split across the other sequencers by weight.
    Redistribute,
}

/// `[rewards]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RewardsConfig {
    /// The weight mode.
    pub weight_mode: WeightMode,
    /// With `blend`: the part of the pool weighted by blocks.
    #[serde(default)]
    pub blend_blocks_bps: Option<Bps>,
    /// Where jailed sequencers' parts go.
    pub jailed_reward_destination: JailedRewardDestination,
}

/// `[downtime]`: a sequencer that misses more than `max_missed_bps` of the blocks it was
/// expected to produce within `window_blocks` is jailed for at least `jail_cooldown_epochs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DowntimeConfig {
    /// The window of served-chain blocks the rule looks at.
    pub window_blocks: u64,
    /// Largest share of expected blocks a sequencer may miss in the window.
    pub max_missed_bps: Bps,
    /// Epochs a jailed sequencer waits before it may unjail.
    pub jail_cooldown_epochs: u32,
}

/// Where slashed stake goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlashDestination {
    /// Sent to an unspendable address.
    Burn,
    /// Sent to `insurance_fund`.
    Insurance,
}

/// `[slashing]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlashingConfig {
    /// Epochs between a proposal and its execution, during which the guardian may veto.
    pub veto_window_epochs: u32,
    /// Largest fraction one proposal may slash.
    pub max_fraction_bps: Bps,
    /// Largest total fraction of one sequencer's stake slashed within one period.
    pub max_per_period_bps: Bps,
    /// Length of that period, in epochs.
    pub period_epochs: u32,
    /// Burn or insurance fund.
    pub destination: SlashDestination,
    /// Required when `destination = "insurance"`.
    #[serde(default)]
    pub insurance_fund: Option<Address>,
}

/// `[[revenue_share]]`: a partner's share of one served chain's revenue,
/// `max(a * gross, b * max(gross - cost, 0))`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevenueShareConfig {
    /// The served chain.
    pub chain_id: u64,
    /// Receives the share (pull payment).
    pub partner: Address,
    /// Share of gross revenue.
    pub a_bps: Bps,
    /// Share of revenue net of attested cost.
    pub b_bps: Bps,
}

/// `[[l1_cost]]`: a served chain's L1 cost, the `cost` of the revenue-share formula. The one
/// source so far is `fixed`: `per_block` wei for each of the chain's blocks timestamped in the
/// epoch (DESIGN.md, "Sources of attested inputs").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct L1CostConfig {
    /// The served chain.
    pub chain_id: u64,
    /// The source: `fixed`.
    pub source: L1CostSource,
    /// Wei per served block.
    #[serde(with = "decimal_wei")]
    pub per_block: U256,
}

/// Where an L1 cost is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum L1CostSource {
    /// A fixed cost per served block.
    Fixed,
}

/// The emission schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "EmissionToml", into = "EmissionToml")]
pub enum EmissionConfig {
    /// The same emission every epoch.
    Constant {
        /// Wei per epoch.
        per_epoch: U256,
    },
    /// `e_n = e_{n-1} * decay_ray / RAY`.
    Decaying {
        /// Emission of the first epoch.
        initial_per_epoch: U256,
        /// Per-epoch factor in RAY (1e27 = no decay).
        decay_ray: U256,
    },
    /// Annual inflation that moves toward `max` while the bonded ratio is below the target and
    /// toward `min` above it, by at most `max_change_per_year_bps` a year (Cosmos x/mint).
    BondedRatioTarget {
        /// Inflation of the first epoch (annual).
        initial_inflation_bps: Bps,
        /// Lowest annual inflation.
        min_inflation_bps: Bps,
        /// Highest annual inflation.
        max_inflation_bps: Bps,
        /// Bonded ratio the schedule steers toward.
        target_bonded_bps: Bps,
        /// Largest change of annual inflation per year.
        max_change_per_year_bps: Bps,
        /// Total supply of the native token, attested as a config constant.
        total_supply: U256,
    },
    /// `per_epoch` until `budget` is spent (the last epoch pays what is left).
    FixedBudget {
        /// Wei per epoch.
        per_epoch: U256,
        /// Total wei ever emitted.
        budget: U256,
    },
}

/// The schedule kinds, as written in `emission.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmissionKind {
    /// See [`EmissionConfig::Constant`].
    Constant,
    /// See [`EmissionConfig::Decaying`].
    Decaying,
    /// See [`EmissionConfig::BondedRatioTarget`].
    BondedRatioTarget,
    /// See [`EmissionConfig::FixedBudget`].
    FixedBudget,
}

/// `[emission]` as written: one flat table, so that a bad value is reported with its own
/// field path (`emission.decay_ray`), and the kind decides which fields are required.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmissionToml {
    kind: Option<EmissionKind>,
    #[serde(default, with = "decimal_wei::option", skip_serializing_if = "Option::is_none")]
    per_epoch: Option<U256>,
    #[serde(default, with = "decimal_wei::option", skip_serializing_if = "Option::is_none")]
    initial_per_epoch: Option<U256>,
    #[serde(default, with = "decimal_wei::option", skip_serializing_if = "Option::is_none")]
    decay_ray: Option<U256>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    initial_inflation_bps: Option<Bps>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_inflation_bps: Option<Bps>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_inflation_bps: Option<Bps>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target_bonded_bps: Option<Bps>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_change_per_year_bps: Option<Bps>,
    #[serde(default, with = "decimal_wei::option", skip_serializing_if = "Option::is_none")]
    total_supply: Option<U256>,
    #[serde(default, with = "decimal_wei::option", skip_serializing_if = "Option::is_none")]
    budget: Option<U256>,
}

impl EmissionToml {
    /// The fields that are set, by name.
    fn present(&self) -> Vec<&'static str> {
        [
            ("per_epoch", self.per_epoch.is_some()),
            ("initial_per_epoch", self.initial_per_epoch.is_some()),
            ("decay_ray", self.decay_ray.is_some()),
            ("initial_inflation_bps", self.initial_inflation_bps.is_some()),
            ("min_inflation_bps", self.min_inflation_bps.is_some()),
            ("max_inflation_bps", self.max_inflation_bps.is_some()),
            ("target_bonded_bps", self.target_bonded_bps.is_some()),
            ("max_change_per_year_bps", self.max_change_per_year_bps.is_some()),
            ("total_supply", self.total_supply.is_some()),
            ("budget", self.budget.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }
}

fn required<T>(value: Option<T>, field: &str, kind: &str) -> Result<T, String> {
    value.ok_or_else(|| format!("`{field}` is required when kind = \"{kind}\""))
}

impl TryFrom<EmissionToml> for EmissionConfig {
    type Error = String;

    fn try_from(raw: EmissionToml) -> Result<Self, String> {
        let Some(kind) = raw.kind else {
            return Err("`kind` is required: one of \"constant\", \"decaying\", \"bonded_ratio_target\", \"fixed_budget\"".to_owned());
        };
        let (name, allowed) = (kind.name(), kind.parameters());
        if let Some(extra) = raw.present().into_iter().find(|field| !allowed.contains(field)) {
            return Err(format!(
                "`{extra}` is not a parameter of kind = \"{name}\" (it takes {})",
                allowed.join(", ")
            ));
        }
        Ok(match kind {
            EmissionKind::Constant => {
                Self::Constant { per_epoch: required(raw.per_epoch, "per_epoch", name)? }
            }
            EmissionKind::Decaying => Self::Decaying {
                initial_per_epoch: required(raw.initial_per_epoch, "initial_per_epoch", name)?,
                decay_ray: required(raw.decay_ray, "decay_ray", name)?,
            },
            EmissionKind::BondedRatioTarget => Self::BondedRatioTarget {
                initial_inflation_bps: required(raw.initial_inflation_bps, "initial_inflation_bps", name)?,
                min_inflation_bps: required(raw.min_inflation_bps, "min_inflation_bps", name)?,
                max_inflation_bps: required(raw.max_inflation_bps, "max_inflation_bps", name)?,
                target_bonded_bps: required(raw.target_bonded_bps, "target_bonded_bps", name)?,
                max_change_per_year_bps: required(
                    raw.max_change_per_year_bps,
                    "max_change_per_year_bps",
                    name,
                )?,
                total_supply: required(raw.total_supply, "total_supply", name)?,
            },
            EmissionKind::FixedBudget => Self::FixedBudget {
                per_epoch: required(raw.per_epoch, "per_epoch", name)?,
                budget: required(raw.budget, "budget", name)?,
            },
        })
    }
}

impl From<EmissionConfig> for EmissionToml {
    fn from(config: EmissionConfig) -> Self {
        match config {
            EmissionConfig::Constant { per_epoch } => {
                Self { kind: Some(EmissionKind::Constant), per_epoch: Some(per_epoch), ..Self::default() }
            }
            EmissionConfig::Decaying { initial_per_epoch, decay_ray } => Self {
                kind: Some(EmissionKind::Decaying),
                initial_per_epoch: Some(initial_per_epoch),
                decay_ray: Some(decay_ray),
                ..Self::default()
            },
            EmissionConfig::BondedRatioTarget {
                initial_inflation_bps,
                min_inflation_bps,
                max_inflation_bps,
                target_bonded_bps,
                max_change_per_year_bps,
                total_supply,
            } => Self {
                kind: Some(EmissionKind::BondedRatioTarget),
                initial_inflation_bps: Some(initial_inflation_bps),
                min_inflation_bps: Some(min_inflation_bps),
                max_inflation_bps: Some(max_inflation_bps),
                target_bonded_bps: Some(target_bonded_bps),
                max_change_per_year_bps: Some(max_change_per_year_bps),
                total_supply: Some(total_supply),
                ..Self::default()
            },
            EmissionConfig::FixedBudget { per_epoch, budget } => Self {
                kind: Some(EmissionKind::FixedBudget),
                per_epoch: Some(per_epoch),
                budget: Some(budget),
                ..Self::default()
            },
        }
    }
}

impl EmissionKind {
    /// The name as written in `emission.kind`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Constant => "constant",
            Self::Decaying => "decaying",
            Self::BondedRatioTarget => "bonded_ratio_target",
            Self::FixedBudget => "fixed_budget",
        }
    }

    /// The parameters this kind takes, as written in `[emission]`.
    fn parameters(self) -> &'static [&'static str] {
        match self {
            Self::Constant => &["per_epoch"],
            Self::Decaying => &["initial_per_epoch", "decay_ray"],
            Self::BondedRatioTarget => &[
                "initial_inflation_bps",
                "min_inflation_bps",
                "max_inflation_bps",
                "target_bonded_bps",
                "max_change_per_year_bps",
                "total_supply",
            ],
            Self::FixedBudget => &["per_epoch", "budget"],
        }
    }
}

impl EmissionConfig {
    /// The kind as written in `emission.kind`.
    pub fn kind(&self) -> EmissionKind {
        match self {
            Self::Constant { .. } => EmissionKind::Constant,
            Self::Decaying { .. } => EmissionKind::Decaying,
            Self::BondedRatioTarget { .. } => EmissionKind::BondedRatioTarget,
            Self::FixedBudget { .. } => EmissionKind::FixedBudget,
        }
    }
}

/// `[liquid]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiquidConfig {
    /// Smallest deposit.
    #[serde(with = "decimal_wei")]
    pub min_deposit: U256,
    /// Most pooled assets the token accepts.
    #[serde(with = "decimal_wei")]
    pub total_cap: U256,
    /// Staking rate limit: the most that can be deposited at once.
    #[serde(with = "decimal_wei")]
    pub stake_limit_max: U256,
    /// Staking rate limit: refill per settlement-chain block.
    #[serde(with = "decimal_wei")]
    pub stake_limit_refill_per_block: U256,
    /// Smallest withdrawal request, in assets.
    #[serde(with = "decimal_wei")]
    pub min_request: U256,
    /// Largest withdrawal request, in assets.
    #[serde(with = "decimal_wei")]
    pub max_request: U256,
    /// Fee on instant exit from the buffer.
    pub instant_exit_fee_bps: Bps,
    /// Most assets leaving by instant exit per epoch.
    #[serde(with = "decimal_wei")]
    pub instant_exit_cap_per_epoch: U256,
    /// Share of pooled assets kept in the buffer.
    pub buffer_target_bps: Bps,
    /// The pool's own fee on its rewards, minted as shares to the treasury.
    pub pool_fee_bps: Bps,
    /// Largest share of the pool's stake with one sequencer.
    pub per_sequencer_cap_bps: Bps,
    /// Most stake the allocation moves per epoch.
    #[serde(with = "decimal_wei")]
    pub max_moved_per_epoch: U256,
    /// Epochs without a report after which the stale-oracle exit opens.
    pub stale_timeout_epochs: u32,
}

/// `[oracle]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OracleConfig {
    /// Member addresses (each votes report hashes).
    pub members: Vec<Address>,
    /// Votes needed to execute a report; more than half the members.
    pub quorum: u32,
}

/// `[report]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportBoundsConfig {
    /// Most epochs one report may cover (catch-up).
    pub max_epochs_per_report: u32,
    /// Largest annualized rise of the liquid token's rate a report may make.
    pub max_rate_apr_bps: Bps,
    /// Most stake moves (delegations, redelegations, undelegations) of the liquid pool one
    /// report makes; each costs the registry a pending change, a position or a bucket.
    pub max_stake_moves_per_report: u16,
}

/// `[governance]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GovernanceConfig {
    /// Delay of the TimelockController that administers every contract.
    pub timelock_delay_seconds: u64,
    /// Longest a pause lasts before it expires.
    pub max_pause_seconds: u64,
    /// Holds the guardian role from deployment: pauses the registry, vetoes slash proposals.
    pub guardian: Address,
    /// Holds the slashing manager's verifier role from deployment: proposes slashes. Not the
    /// guardian, whose veto is the check on its proposals.
    pub verifier: Address,
}

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not valid TOML, or a field of the wrong type, unknown or missing.
    #[error("{field}: {message}")]
    Syntax {
        /// Dotted path of the field (`liquid.min_deposit`), or `(file)` for the whole file.
        field: String,
        /// What the parser said.
        message: String,
    },
    /// Parsed, but values break the rules.
    #[error("{}", Violations(.0))]
    Invalid(Vec<Violation>),
}

struct Violations<'a>(&'a [Violation]);

impl fmt::Display for Violations<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, violation) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{violation}")?;
        }
        Ok(())
    }
}

/// Adds the allowed range to a parser's type error: every `u16` field is in basis points.
fn with_range_hint(message: &str) -> String {
    if message.ends_with("expected u16") {
        format!("{message} (basis points: allowed 0..=10000)")
    } else {
        message.to_owned()
    }
}

impl EconomicsConfig {
    /// Parses and validates a TOML document.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let deserializer = toml::de::Deserializer::parse(text).map_err(|err| ConfigError::Syntax {
            field: "(file)".to_owned(),
            message: err.to_string().trim().to_owned(),
        })?;
        let config: Self = serde_path_to_error::deserialize(deserializer).map_err(|err| {
            let field = err.path().to_string();
            ConfigError::Syntax {
                field: if field == "." { "(file)".to_owned() } else { field },
                message: with_range_hint(err.into_inner().message().trim()),
            }
        })?;
        let violations = config.violations();
        if violations.is_empty() { Ok(config) } else { Err(ConfigError::Invalid(violations)) }
    }

    /// Reads, parses and validates a TOML file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
        Self::from_toml(&text)
    }

    /// Every rule this configuration breaks (empty when it is valid).
    pub fn violations(&self) -> Vec<Violation> {
        rules::check(self)
    }
}

#[cfg(test)]
mod tests;
