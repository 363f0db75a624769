//! The rules an economics configuration must follow. Each rule names the field it protects and
//! the range it allows, so that `seqstake config check` tells an operator exactly what to fix.

use std::{collections::HashSet, fmt};

use alloy::primitives::{Address, U256};

use super::{Bps, EconomicsConfig, EmissionConfig, SlashDestination, WeightMode};
use crate::economics::precision::{BPS, RAY, SECONDS_PER_YEAR};

/// The most sequencers the active set may hold: the report's 30M-gas worst case is measured at 200.
pub const MAX_ACTIVE_SEQUENCERS: u32 = 200;
/// The most epochs one report may cover: the 30M-gas worst case is measured at 8.
pub const MAX_EPOCHS_PER_REPORT: u32 = 8;
/// The most stake moves one report may make (the report contract's `MAX_MOVES`): each costs its
/// last call up to 700,000 gas, and 16 redelegations keep that call inside a 30M-gas block
/// (docs/BENCHMARKS.md).
pub const MAX_STAKE_MOVES_PER_REPORT: u16 = 16;
/// The longest epoch: one year.
pub const MAX_EPOCH_SECONDS: u64 = SECONDS_PER_YEAR;
/// The most unbonding entries one delegator may hold with one sequencer.
pub const MAX_UNBONDING_ENTRIES: u32 = 256;

/// One broken rule: the dotted path of the field and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Dotted path of the field, e.g. `staking.min_bond` or `revenue_share[1].a_bps`.
    pub field: String,
    /// The value found and the range allowed.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

#[derive(Default)]
struct Report(Vec<Violation>);

impl Report {
    fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(Violation { field: field.into(), message: message.into() });
    }

    fn bps(&mut self, field: &str, value: Bps) {
        if u64::from(value) > BPS {
            self.push(field, format!("{value} bps is above 10000 (100%); allowed 0..=10000"));
        }
    }

    fn range<T: PartialOrd + fmt::Display + Copy>(&mut self, field: &str, value: T, min: T, max: T) {
        if value < min || value > max {
            self.push(field, format!("{value} is outside the allowed range {min}..={max}"));
        }
    }

    fn nonzero_address(&mut self, field: &str, value: Address) {
        if value == Address::ZERO {
            self.push(field, "the zero address is not allowed");
        }
    }

    fn positive_wei(&mut self, field: &str, value: U256) {
        if value.is_zero() {
            self.push(field, "must be more than 0 wei");
        }
    }
}

/// Checks every rule and returns the broken ones, in file order.
pub(super) fn check(config: &EconomicsConfig) -> Vec<Violation> {
    let mut report = Report::default();
    epochs_and_report(config, &mut report);
    treasury_and_commission(config, &mut report);
    staking(config, &mut report);
    rewards_and_downtime(config, &mut report);
    slashing(config, &mut report);
    revenue_share(config, &mut report);
    l1_cost(config, &mut report);
    emission(&config.emission, &mut report);
    liquid(config, &mut report);
    oracle(config, &mut report);
    governance(config, &mut report);
    roles(config, &mut report);
    report.0
}

fn epochs_and_report(config: &EconomicsConfig, report: &mut Report) {
    report.range("epochs.length_seconds", config.epochs.length_seconds, 1, MAX_EPOCH_SECONDS);
    report.range(
        "report.max_epochs_per_report",
        config.report.max_epochs_per_report,
        1,
        MAX_EPOCHS_PER_REPORT,
    );
    report.range("report.max_rate_apr_bps", config.report.max_rate_apr_bps, 1, 10_000);
    report.range(
        "report.max_stake_moves_per_report",
        config.report.max_stake_moves_per_report,
        1,
        MAX_STAKE_MOVES_PER_REPORT,
    );
}

fn treasury_and_commission(config: &EconomicsConfig, report: &mut Report) {
    report.nonzero_address("treasury.address", config.treasury.address);
    report.bps("treasury.fee_bps", config.treasury.fee_bps);
    let commission = &config.commission;
    report.bps("commission.max_rate_bps", commission.max_rate_bps);
    if commission.max_change_bps > commission.max_rate_bps {
        report.push(
            "commission.max_change_bps",
            format!(
                "{} bps is above commission.max_rate_bps ({} bps); allowed 0..={}",
                commission.max_change_bps, commission.max_rate_bps, commission.max_rate_bps
            ),
        );
    }
}

fn staking(config: &EconomicsConfig, report: &mut Report) {
    let staking = &config.staking;
    report.positive_wei("staking.min_bond", staking.min_bond);
    if staking.min_bond > staking.max_bond {
        report.push(
            "staking.min_bond",
            format!(
                "{} wei is above staking.max_bond ({} wei); min_bond must not exceed max_bond",
                staking.min_bond, staking.max_bond
            ),
        );
    }
    report.range("staking.max_active_sequencers", staking.max_active_sequencers, 1, MAX_ACTIVE_SEQUENCERS);
    if staking.max_candidates < staking.max_active_sequencers {
        report.push(
            "staking.max_candidates",
            format!(
                "{} is below staking.max_active_sequencers ({}); the candidates must be able to fill the active set",
                staking.max_candidates, staking.max_active_sequencers
            ),
        );
    }
    report.range("staking.unbonding_epochs", staking.unbonding_epochs, 1, u32::MAX);
    report.range("staking.max_unbonding_entries", staking.max_unbonding_entries, 1, MAX_UNBONDING_ENTRIES);
    // The liquid pool may undelegate from one sequencer at every report (one an epoch), and a
    // bucket is withdrawn only once it matures, `unbonding_epochs + 1` epochs later: with fewer
    // entries its move step would be refused (TooManyUnbondingEntries) for the rest of the window.
    let needed = staking.unbonding_epochs.saturating_add(1);
    if (1..needed).contains(&staking.max_unbonding_entries) {
        report.push(
            "staking.max_unbonding_entries",
            format!(
                "{} is below staking.unbonding_epochs + 1 ({needed}); the liquid pool undelegates from a sequencer in every epoch of the unbonding window and must never run out of entries",
                staking.max_unbonding_entries
            ),
        );
    }
}

fn rewards_and_downtime(config: &EconomicsConfig, report: &mut Report) {
    let rewards = &config.rewards;
    match (rewards.weight_mode, rewards.blend_blocks_bps) {
        (WeightMode::Blend, None) => report
            .push("rewards.blend_blocks_bps", "required when weight_mode = \"blend\"; allowed 0..=10000"),
        (WeightMode::Blend, Some(bps)) => report.bps("rewards.blend_blocks_bps", bps),
        (_, Some(_)) => report.push("rewards.blend_blocks_bps", "only allowed when weight_mode = \"blend\""),
        (_, None) => {}
    }
    let downtime = &config.downtime;
    report.range("downtime.window_blocks", downtime.window_blocks, 1, u64::MAX);
    report.bps("downtime.max_missed_bps", downtime.max_missed_bps);
    report.range("downtime.jail_cooldown_epochs", downtime.jail_cooldown_epochs, 1, u32::MAX);
}

fn slashing(config: &EconomicsConfig, report: &mut Report) {
    let slashing = &config.slashing;
    let unbonding = config.staking.unbonding_epochs;
    if slashing.veto_window_epochs == 0 {
        report.push("slashing.veto_window_epochs", "must be at least 1 epoch");
    } else if slashing.veto_window_epochs >= unbonding {
        report.push(
            "slashing.veto_window_epochs",
            format!(
                "{} epochs is not shorter than staking.unbonding_epochs ({unbonding}); stake would leave before a slash can execute; allowed 1..={}",
                slashing.veto_window_epochs,
                unbonding.saturating_sub(1)
            ),
        );
    }
    report.range("slashing.max_fraction_bps", slashing.max_fraction_bps, 1, 10_000);
    if slashing.max_per_period_bps < slashing.max_fraction_bps || u64::from(slashing.max_per_period_bps) > BPS
    {
        report.push(
            "slashing.max_per_period_bps",
            format!(
                "{} bps is outside the allowed range {}..=10000 (at least slashing.max_fraction_bps)",
                slashing.max_per_period_bps, slashing.max_fraction_bps
            ),
        );
    }
    report.range("slashing.period_epochs", slashing.period_epochs, 1, u32::MAX);
    match (slashing.destination, slashing.insurance_fund) {
        (SlashDestination::Insurance, None) => {
            report.push("slashing.insurance_fund", "required when destination = \"insurance\"");
        }
        (SlashDestination::Insurance, Some(fund)) => {
            report.nonzero_address("slashing.insurance_fund", fund);
        }
        (SlashDestination::Burn, Some(_)) => {
            report.push("slashing.insurance_fund", "only allowed when destination = \"insurance\"");
        }
        (SlashDestination::Burn, None) => {}
    }
}

fn revenue_share(config: &EconomicsConfig, report: &mut Report) {
    let mut seen = HashSet::new();
    for (i, share) in config.revenue_share.iter().enumerate() {
        let field = |name: &str| format!("revenue_share[{i}].{name}");
        report.nonzero_address(&field("partner"), share.partner);
        report.bps(&field("a_bps"), share.a_bps);
        report.bps(&field("b_bps"), share.b_bps);
        if !seen.insert(share.chain_id) {
            report.push(
                field("chain_id"),
                format!("chain {} already has a revenue-share agreement", share.chain_id),
            );
        }
    }
}

fn l1_cost(config: &EconomicsConfig, report: &mut Report) {
    let mut seen = HashSet::new();
    for (i, cost) in config.l1_cost.iter().enumerate() {
        if !seen.insert(cost.chain_id) {
            report.push(
                format!("l1_cost[{i}].chain_id"),
                format!("chain {} already has an L1 cost source", cost.chain_id),
            );
        }
    }
}

fn emission(emission: &EmissionConfig, report: &mut Report) {
    match emission {
        EmissionConfig::Constant { .. } => {}
        EmissionConfig::Decaying { decay_ray, .. } => {
            if decay_ray.is_zero() || *decay_ray > RAY {
                report.push(
                    "emission.decay_ray",
                    format!("{decay_ray} is outside the allowed range 1..={RAY} (RAY = no decay)"),
                );
            }
        }
        EmissionConfig::BondedRatioTarget {
            initial_inflation_bps,
            min_inflation_bps,
            max_inflation_bps,
            target_bonded_bps,
            max_change_per_year_bps,
            total_supply,
        } => {
            report.bps("emission.max_inflation_bps", *max_inflation_bps);
            if min_inflation_bps > max_inflation_bps {
                report.push(
                    "emission.min_inflation_bps",
                    format!(
                        "{min_inflation_bps} bps is above emission.max_inflation_bps ({max_inflation_bps} bps)"
                    ),
                );
            } else {
                report.range(
                    "emission.initial_inflation_bps",
                    *initial_inflation_bps,
                    *min_inflation_bps,
                    *max_inflation_bps,
                );
            }
            report.range("emission.target_bonded_bps", *target_bonded_bps, 1, 9_999);
            report.range("emission.max_change_per_year_bps", *max_change_per_year_bps, 1, 10_000);
            report.positive_wei("emission.total_supply", *total_supply);
        }
        EmissionConfig::FixedBudget { per_epoch, budget } => {
            report.positive_wei("emission.per_epoch", *per_epoch);
            if per_epoch > budget {
                report.push(
                    "emission.per_epoch",
                    format!("{per_epoch} wei is above emission.budget ({budget} wei)"),
                );
            }
        }
    }
}

/// The largest rise of the liquid token's rate one report may make while instant exit is
/// open, in bps, rounded up: `max_rate_apr_bps * epochs * epoch_seconds / year`, where
/// `epochs` is the longest time a report can cover while instant exit stays open: the larger
/// of `max_epochs_per_report` and `stale_timeout_epochs` (the rate bound scales with elapsed
/// time, and instant exit only closes at the stale timeout).
pub fn largest_rate_move_bps(config: &EconomicsConfig) -> u128 {
    let epochs = config.report.max_epochs_per_report.max(config.liquid.stale_timeout_epochs);
    let numerator = u128::from(config.report.max_rate_apr_bps)
        * u128::from(epochs)
        * u128::from(config.epochs.length_seconds);
    numerator.div_ceil(u128::from(SECONDS_PER_YEAR))
}

fn liquid(config: &EconomicsConfig, report: &mut Report) {
    let liquid = &config.liquid;
    report.positive_wei("liquid.min_deposit", liquid.min_deposit);
    if liquid.min_deposit > liquid.total_cap {
        report.push(
            "liquid.min_deposit",
            format!("{} wei is above liquid.total_cap ({} wei)", liquid.min_deposit, liquid.total_cap),
        );
    }
    // The token keeps its staking limit and held gain in 96 bits (packed with what a deposit
    // reads), so its cap and limit must fit them.
    let max96 = (U256::from(1u64) << 96) - U256::from(1u64);
    for (field, value) in
        [("liquid.total_cap", liquid.total_cap), ("liquid.stake_limit_max", liquid.stake_limit_max)]
    {
        if value > max96 {
            report.push(
                field,
                format!("{value} wei is above 2^96 - 1 ({max96} wei), the most the token accounts"),
            );
        }
    }
    if liquid.stake_limit_max < liquid.min_deposit {
        report.push(
            "liquid.stake_limit_max",
            format!(
                "{} wei is below liquid.min_deposit ({} wei); no deposit could ever pass",
                liquid.stake_limit_max, liquid.min_deposit
            ),
        );
    }
    if liquid.stake_limit_refill_per_block > liquid.stake_limit_max {
        report.push(
            "liquid.stake_limit_refill_per_block",
            format!(
                "{} wei is above liquid.stake_limit_max ({} wei)",
                liquid.stake_limit_refill_per_block, liquid.stake_limit_max
            ),
        );
    }
    report.positive_wei("liquid.min_request", liquid.min_request);
    if liquid.min_request > liquid.max_request {
        report.push(
            "liquid.min_request",
            format!("{} wei is above liquid.max_request ({} wei)", liquid.min_request, liquid.max_request),
        );
    }
    report.bps("liquid.instant_exit_fee_bps", liquid.instant_exit_fee_bps);
    let largest_move = largest_rate_move_bps(config);
    if u128::from(liquid.instant_exit_fee_bps) < largest_move {
        report.push(
            "liquid.instant_exit_fee_bps",
            format!(
                "{} bps is below the largest rate move one report allows ({largest_move} bps = \
                 report.max_rate_apr_bps x max(report.max_epochs_per_report, liquid.stale_timeout_epochs) \
                 x epochs.length_seconds / year, rounded up); \
                 a deposit before a report and an instant exit after it would profit; allowed {largest_move}..=10000",
                liquid.instant_exit_fee_bps
            ),
        );
    }
    report.bps("liquid.buffer_target_bps", liquid.buffer_target_bps);
    report.bps("liquid.pool_fee_bps", liquid.pool_fee_bps);
    report.range("liquid.per_sequencer_cap_bps", liquid.per_sequencer_cap_bps, 1, 10_000);
    report.positive_wei("liquid.max_moved_per_epoch", liquid.max_moved_per_epoch);
    report.range("liquid.stale_timeout_epochs", liquid.stale_timeout_epochs, 2, u32::MAX);
}

fn oracle(config: &EconomicsConfig, report: &mut Report) {
    let oracle = &config.oracle;
    if oracle.members.is_empty() {
        report.push("oracle.members", "at least one member is required");
    }
    let mut seen = HashSet::new();
    for (i, member) in oracle.members.iter().enumerate() {
        report.nonzero_address(&format!("oracle.members[{i}]"), *member);
        if !seen.insert(*member) {
            report.push(format!("oracle.members[{i}]"), format!("{member} is listed twice"));
        }
    }
    let members = u32::try_from(oracle.members.len()).unwrap_or(u32::MAX);
    if !oracle.members.is_empty() && (oracle.quorum <= members / 2 || oracle.quorum > members) {
        report.push(
            "oracle.quorum",
            format!(
                "{} is not above half of the {members} members; allowed {}..={members}",
                oracle.quorum,
                members / 2 + 1
            ),
        );
    }
}

fn governance(config: &EconomicsConfig, report: &mut Report) {
    let unbonding_seconds =
        u64::from(config.staking.unbonding_epochs).saturating_mul(config.epochs.length_seconds);
    // A stake change made during an epoch counts from the next one, so leaving takes up to one
    // epoch more than the unbonding period.
    let exit_seconds = unbonding_seconds.saturating_add(config.epochs.length_seconds);
    if unbonding_seconds == 0 {
        // The unbonding period itself is refused above; nothing here can be measured against it.
        return;
    }
    let governance = &config.governance;
    if governance.timelock_delay_seconds < exit_seconds {
        report.push(
            "governance.timelock_delay_seconds",
            format!(
                "{} s is shorter than the longest exit ({exit_seconds} s = (staking.unbonding_epochs + 1) x epochs.length_seconds); stakers must be able to leave before a change lands",
                governance.timelock_delay_seconds
            ),
        );
    }
    report.range("governance.max_pause_seconds", governance.max_pause_seconds, 1, unbonding_seconds.max(1));
}

fn roles(config: &EconomicsConfig, report: &mut Report) {
    let governance = &config.governance;
    report.nonzero_address("governance.guardian", governance.guardian);
    report.nonzero_address("governance.verifier", governance.verifier);
    if governance.verifier != Address::ZERO && governance.verifier == governance.guardian {
        report.push(
            "governance.verifier",
            "must not be the guardian: the guardian's veto is the check on the verifier's proposals",
        );
    }
}
