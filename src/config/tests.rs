//! One test per rule: each breaks exactly one rule of a valid file and checks that exactly that
//! field is reported, with its allowed range.

use alloy::primitives::{Address, U256, address};

use super::*;
use crate::economics::precision::RAY;

const DEVNET: &str = include_str!("../../config/devnet.toml");
const EXAMPLE: &str = include_str!("../../config/example.toml");

fn devnet() -> EconomicsConfig {
    EconomicsConfig::from_toml(DEVNET).expect("config/devnet.toml is valid")
}

fn wei(n: u128) -> U256 {
    U256::from(n)
}

/// Asserts that `config` breaks exactly one rule, on `field`, with a message containing `text`.
#[track_caller]
fn assert_only_violation(config: &EconomicsConfig, field: &str, text: &str) {
    let violations = config.violations();
    assert_eq!(violations.len(), 1, "expected one violation on {field}, got {violations:#?}");
    assert_eq!(violations[0].field, field);
    assert!(
        violations[0].message.contains(text),
        "message `{}` does not contain `{text}`",
        violations[0].message
    );
}

#[track_caller]
fn syntax_error(text: &str) -> (String, String) {
    match EconomicsConfig::from_toml(text) {
        Err(ConfigError::Syntax { field, message }) => (field, message),
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn shipped_configs_are_valid() {
    assert_eq!(devnet().violations(), vec![]);
    let example = EconomicsConfig::from_toml(EXAMPLE).expect("config/example.toml is valid");
    assert_eq!(example.revenue_share.len(), 2);
    assert_eq!(example.oracle.quorum, 3);
}

#[test]
fn devnet_values_are_read_as_written() {
    let config = devnet();
    assert_eq!(config.epochs.length_seconds, 5);
    assert_eq!(config.staking.min_bond, wei(1_000_000_000_000_000_000));
    assert_eq!(config.rewards.weight_mode, WeightMode::Blend);
    assert_eq!(config.rewards.blend_blocks_bps, Some(5_000));
    assert_eq!(
        config.emission,
        EmissionConfig::Decaying {
            initial_per_epoch: wei(10_000_000_000_000_000),
            decay_ray: wei(999_000_000_000_000_000_000_000_000),
        }
    );
    assert_eq!(
        config.revenue_share[0],
        RevenueShareConfig {
            chain_id: 31_338,
            partner: address!("14dC79964da2C08b23698B3D3cc7Ca32193d9955"),
            a_bps: 250,
            b_bps: 1_500,
        }
    );
}

#[test]
fn serializing_and_parsing_again_gives_the_same_config() {
    let config = devnet();
    let text = toml::to_string(&config).expect("serializes");
    assert_eq!(EconomicsConfig::from_toml(&text).expect("round trip"), config);
}

#[test]
fn epoch_length_must_be_positive_and_at_most_a_year() {
    let mut config = devnet();
    config.epochs.length_seconds = 0;
    assert_only_violation(&config, "epochs.length_seconds", "0 is outside the allowed range 1..=31536000");
}

#[test]
fn treasury_fee_above_100_percent_is_refused() {
    let mut config = devnet();
    config.treasury.fee_bps = 10_001;
    assert_only_violation(&config, "treasury.fee_bps", "10001 bps is above 10000");
}

#[test]
fn treasury_address_must_not_be_zero() {
    let mut config = devnet();
    config.treasury.address = Address::ZERO;
    assert_only_violation(&config, "treasury.address", "zero address");
}

#[test]
fn commission_max_rate_is_bps() {
    let mut config = devnet();
    config.commission.max_rate_bps = 10_001;
    config.commission.max_change_bps = 100;
    assert_only_violation(&config, "commission.max_rate_bps", "above 10000");
}

#[test]
fn commission_max_change_cannot_exceed_max_rate() {
    let mut config = devnet();
    config.commission.max_change_bps = 2_001;
    assert_only_violation(&config, "commission.max_change_bps", "allowed 0..=2000");
}

#[test]
fn min_bond_above_max_bond_is_refused() {
    let mut config = devnet();
    config.staking.min_bond = config.staking.max_bond + wei(1);
    assert_only_violation(&config, "staking.min_bond", "above staking.max_bond");
}

#[test]
fn min_bond_must_be_positive() {
    let mut config = devnet();
    config.staking.min_bond = U256::ZERO;
    assert_only_violation(&config, "staking.min_bond", "more than 0 wei");
}

#[test]
fn active_set_is_bounded_by_the_gas_worst_case() {
    let mut config = devnet();
    config.staking.max_active_sequencers = 201;
    config.staking.max_candidates = 300;
    assert_only_violation(
        &config,
        "staking.max_active_sequencers",
        "201 is outside the allowed range 1..=200",
    );
}

#[test]
fn candidates_must_fill_the_active_set() {
    let mut config = devnet();
    config.staking.max_candidates = 3;
    assert_only_violation(&config, "staking.max_candidates", "below staking.max_active_sequencers (4)");
}

#[test]
fn unbonding_needs_at_least_one_epoch_and_entries_are_bounded() {
    let mut config = devnet();
    config.staking.max_unbonding_entries = 0;
    assert_only_violation(&config, "staking.max_unbonding_entries", "1..=256");
    // One entry per epoch of the unbonding window (6 epochs: 7), so the liquid pool never runs
    // out (review finding 9).
    let mut config = devnet();
    config.staking.max_unbonding_entries = 6;
    assert_only_violation(&config, "staking.max_unbonding_entries", "below staking.unbonding_epochs + 1 (7)");
    config.staking.max_unbonding_entries = 7;
    assert!(config.violations().is_empty());
    let mut config = devnet();
    config.staking.unbonding_epochs = 0;
    let fields: Vec<_> = config.violations().into_iter().map(|v| v.field).collect();
    // A zero unbonding also leaves no room for a veto window; both are named.
    assert_eq!(fields, ["staking.unbonding_epochs", "slashing.veto_window_epochs"]);
}

#[test]
fn blend_requires_its_share_and_other_modes_refuse_it() {
    let mut config = devnet();
    config.rewards.blend_blocks_bps = None;
    assert_only_violation(&config, "rewards.blend_blocks_bps", "required when weight_mode = \"blend\"");
    let mut config = devnet();
    config.rewards.weight_mode = WeightMode::Stake;
    assert_only_violation(&config, "rewards.blend_blocks_bps", "only allowed when weight_mode = \"blend\"");
    let mut config = devnet();
    config.rewards.blend_blocks_bps = Some(10_001);
    assert_only_violation(&config, "rewards.blend_blocks_bps", "above 10000");
}

#[test]
fn downtime_rule_bounds() {
    let mut config = devnet();
    config.downtime.max_missed_bps = 10_001;
    assert_only_violation(&config, "downtime.max_missed_bps", "above 10000");
    let mut config = devnet();
    config.downtime.window_blocks = 0;
    assert_only_violation(&config, "downtime.window_blocks", "outside the allowed range 1..=");
    let mut config = devnet();
    config.downtime.jail_cooldown_epochs = 0;
    assert_only_violation(&config, "downtime.jail_cooldown_epochs", "outside the allowed range 1..=");
}

#[test]
fn veto_window_must_be_shorter_than_unbonding() {
    let mut config = devnet();
    config.slashing.veto_window_epochs = config.staking.unbonding_epochs;
    assert_only_violation(
        &config,
        "slashing.veto_window_epochs",
        "not shorter than staking.unbonding_epochs (6)",
    );
    config.slashing.veto_window_epochs = 0;
    assert_only_violation(&config, "slashing.veto_window_epochs", "at least 1 epoch");
}

#[test]
fn slash_caps_are_ordered() {
    let mut config = devnet();
    config.slashing.max_fraction_bps = 0;
    assert_only_violation(&config, "slashing.max_fraction_bps", "outside the allowed range 1..=10000");
    let mut config = devnet();
    config.slashing.max_per_period_bps = 999;
    assert_only_violation(&config, "slashing.max_per_period_bps", "allowed range 1000..=10000");
}

#[test]
fn insurance_destination_needs_a_fund_and_burn_refuses_one() {
    let mut config = devnet();
    config.slashing.insurance_fund = None;
    assert_only_violation(&config, "slashing.insurance_fund", "required when destination = \"insurance\"");
    let mut config = devnet();
    config.slashing.destination = SlashDestination::Burn;
    assert_only_violation(
        &config,
        "slashing.insurance_fund",
        "only allowed when destination = \"insurance\"",
    );
}

#[test]
fn revenue_share_rules_name_the_agreement() {
    let mut config = devnet();
    let mut second = config.revenue_share[0].clone();
    second.b_bps = 10_500;
    config.revenue_share.push(second);
    let violations = config.violations();
    assert_eq!(violations.len(), 2, "{violations:#?}");
    assert_eq!(violations[0].field, "revenue_share[1].b_bps");
    assert_eq!(violations[1].field, "revenue_share[1].chain_id");
    assert!(violations[1].message.contains("chain 31338 already has a revenue-share agreement"));
    let mut config = devnet();
    config.revenue_share[0].partner = Address::ZERO;
    assert_only_violation(&config, "revenue_share[0].partner", "zero address");
}

#[test]
fn l1_cost_sources_are_read_and_one_per_chain() {
    let config = devnet();
    assert_eq!(
        config.l1_cost,
        [super::L1CostConfig {
            chain_id: 31_338,
            source: super::L1CostSource::Fixed,
            per_block: U256::from(10_000_000_000_000u64)
        }]
    );
    let mut twice = config.clone();
    twice.l1_cost.push(config.l1_cost[0].clone());
    assert_only_violation(&twice, "l1_cost[1].chain_id", "chain 31338 already has an L1 cost source");
    let unknown = DEVNET.replace("source = \"fixed\"", "source = \"inbox\"");
    let err = EconomicsConfig::from_toml(&unknown).expect_err("an unknown source");
    assert!(err.to_string().contains("inbox"), "{err}");
}

#[test]
fn decay_factor_must_not_grow_the_emission() {
    let mut config = devnet();
    config.emission = EmissionConfig::Decaying { initial_per_epoch: wei(1), decay_ray: RAY + wei(1) };
    assert_only_violation(&config, "emission.decay_ray", "outside the allowed range 1..=");
}

#[test]
fn targeting_schedule_rules() {
    let valid = EmissionConfig::BondedRatioTarget {
        initial_inflation_bps: 500,
        min_inflation_bps: 200,
        max_inflation_bps: 800,
        target_bonded_bps: 6_700,
        max_change_per_year_bps: 1_300,
        total_supply: wei(1_000),
    };
    let mut config = devnet();
    config.emission = valid.clone();
    assert_eq!(config.violations(), vec![]);

    let EmissionConfig::BondedRatioTarget { mut min_inflation_bps, .. } = valid.clone() else {
        unreachable!()
    };
    min_inflation_bps += 700;
    let mut broken = valid.clone();
    if let EmissionConfig::BondedRatioTarget { min_inflation_bps: m, .. } = &mut broken {
        *m = min_inflation_bps;
    }
    config.emission = broken;
    assert_only_violation(
        &config,
        "emission.min_inflation_bps",
        "above emission.max_inflation_bps (800 bps)",
    );

    let mut broken = valid.clone();
    if let EmissionConfig::BondedRatioTarget { initial_inflation_bps, .. } = &mut broken {
        *initial_inflation_bps = 900;
    }
    config.emission = broken;
    assert_only_violation(
        &config,
        "emission.initial_inflation_bps",
        "900 is outside the allowed range 200..=800",
    );

    let mut broken = valid.clone();
    if let EmissionConfig::BondedRatioTarget { target_bonded_bps, .. } = &mut broken {
        *target_bonded_bps = 10_000;
    }
    config.emission = broken;
    assert_only_violation(&config, "emission.target_bonded_bps", "1..=9999");

    let mut broken = valid;
    if let EmissionConfig::BondedRatioTarget { total_supply, .. } = &mut broken {
        *total_supply = U256::ZERO;
    }
    config.emission = broken;
    assert_only_violation(&config, "emission.total_supply", "more than 0 wei");
}

#[test]
fn fixed_budget_must_cover_one_epoch() {
    let mut config = devnet();
    config.emission = EmissionConfig::FixedBudget { per_epoch: wei(11), budget: wei(10) };
    assert_only_violation(&config, "emission.per_epoch", "11 wei is above emission.budget (10 wei)");
}

#[test]
fn unknown_schedule_kind_is_named() {
    let (field, message) = syntax_error(&DEVNET.replace("kind = \"decaying\"", "kind = \"linear\""));
    assert_eq!(field, "emission.kind");
    assert!(message.contains("unknown variant `linear`"), "{message}");
    assert!(message.contains("`bonded_ratio_target`"), "{message}");
}

#[test]
fn schedule_parameters_must_match_the_kind() {
    let missing = DEVNET.lines().filter(|l| !l.starts_with("decay_ray")).collect::<Vec<_>>().join("\n");
    let (field, message) = syntax_error(&missing);
    assert_eq!(field, "emission");
    assert_eq!(message, "`decay_ray` is required when kind = \"decaying\"");

    let extra = DEVNET.replace("[liquid]", "budget = \"5\"\n\n[liquid]");
    let (field, message) = syntax_error(&extra);
    assert_eq!(field, "emission");
    assert!(message.starts_with("`budget` is not a parameter of kind = \"decaying\""), "{message}");
}

#[test]
fn bad_values_are_reported_with_their_path() {
    let (field, message) = syntax_error(&DEVNET.replace("decay_ray = \"999_", "decay_ray = \"9.99_"));
    assert_eq!(field, "emission.decay_ray");
    assert!(message.contains("is not a decimal amount of wei"), "{message}");

    let (field, message) = syntax_error(&DEVNET.replace("max_rate_bps = 2000", "max_rate_bps = 70000"));
    assert_eq!(field, "commission.max_rate_bps");
    assert!(message.ends_with("(basis points: allowed 0..=10000)"), "{message}");

    let (field, message) = syntax_error(&DEVNET.replace("pool_fee_bps = 0", "pool_fees_bps = 0"));
    assert_eq!(field, "liquid.pool_fees_bps");
    assert!(message.contains("unknown field `pool_fees_bps`"), "{message}");

    let (field, message) = syntax_error(&DEVNET.replace("[governance]", "[governance\n"));
    assert_eq!(field, "(file)");
    assert!(message.contains("line"), "{message}");
}

#[test]
fn missing_and_unknown_sections_are_named() {
    let start = DEVNET.find("[oracle]").expect("devnet has an oracle section");
    let end = DEVNET.find("[report]").expect("devnet has a report section");
    let without_oracle = format!("{}{}", &DEVNET[..start], &DEVNET[end..]);
    let (field, message) = syntax_error(&without_oracle);
    assert_eq!(field, "(file)");
    assert_eq!(message, "missing field `oracle`");

    let (field, message) = syntax_error(&DEVNET.replace("[oracle]", "[oracles]"));
    assert_eq!(field, "oracles");
    assert!(message.starts_with("unknown field `oracles`"), "{message}");
}

#[test]
fn liquid_limits_are_ordered() {
    let mut config = devnet();
    config.liquid.min_deposit = config.liquid.total_cap + wei(1);
    config.liquid.stake_limit_max = config.liquid.min_deposit;
    config.liquid.stake_limit_refill_per_block = wei(1);
    assert_only_violation(&config, "liquid.min_deposit", "above liquid.total_cap");

    let mut config = devnet();
    config.liquid.stake_limit_max = config.liquid.min_deposit - wei(1);
    config.liquid.stake_limit_refill_per_block = wei(1);
    assert_only_violation(&config, "liquid.stake_limit_max", "no deposit could ever pass");

    let mut config = devnet();
    config.liquid.stake_limit_refill_per_block = config.liquid.stake_limit_max + wei(1);
    assert_only_violation(&config, "liquid.stake_limit_refill_per_block", "above liquid.stake_limit_max");

    let mut config = devnet();
    config.liquid.min_request = config.liquid.max_request + wei(1);
    assert_only_violation(&config, "liquid.min_request", "above liquid.max_request");

    let mut config = devnet();
    config.liquid.per_sequencer_cap_bps = 0;
    assert_only_violation(&config, "liquid.per_sequencer_cap_bps", "1..=10000");

    let mut config = devnet();
    config.liquid.stale_timeout_epochs = 1;
    assert_only_violation(&config, "liquid.stale_timeout_epochs", "2..=");

    let mut config = devnet();
    config.liquid.max_moved_per_epoch = U256::ZERO;
    assert_only_violation(&config, "liquid.max_moved_per_epoch", "more than 0 wei");
}

#[test]
fn instant_exit_fee_must_cover_the_largest_rate_move_of_one_report() {
    let mut config = EconomicsConfig::from_toml(EXAMPLE).expect("valid");
    // 2000 bps a year over 8 one-day epochs: 2000 * 8 * 86400 / 31536000 = 43.8 -> 44 bps.
    assert_eq!(largest_rate_move_bps(&config), 44);
    config.liquid.instant_exit_fee_bps = 44;
    assert_eq!(config.violations(), vec![]);
    config.liquid.instant_exit_fee_bps = 43;
    assert_only_violation(
        &config,
        "liquid.instant_exit_fee_bps",
        "below the largest rate move one report allows (44 bps",
    );
}

#[test]
fn quorum_must_be_a_majority_of_members() {
    let mut config = devnet();
    config.oracle.quorum = 1;
    assert_only_violation(&config, "oracle.quorum", "1 is not above half of the 3 members; allowed 2..=3");
    config.oracle.quorum = 4;
    assert_only_violation(&config, "oracle.quorum", "allowed 2..=3");
    config.oracle.quorum = 2;
    config.oracle.members.push(config.oracle.members[0]);
    // Four listed members (one twice): 2 is no longer a majority, and the duplicate is named.
    let fields: Vec<_> = config.violations().into_iter().map(|v| v.field).collect();
    assert_eq!(fields, ["oracle.members[3]", "oracle.quorum"]);
}

#[test]
fn oracle_needs_members() {
    let mut config = devnet();
    config.oracle.members.clear();
    assert_only_violation(&config, "oracle.members", "at least one member");
}

#[test]
fn report_bounds() {
    let mut config = devnet();
    config.report.max_epochs_per_report = 9;
    assert_only_violation(&config, "report.max_epochs_per_report", "9 is outside the allowed range 1..=8");
    let mut config = devnet();
    config.report.max_rate_apr_bps = 0;
    assert_only_violation(&config, "report.max_rate_apr_bps", "1..=10000");
    let mut config = devnet();
    config.report.max_stake_moves_per_report = 0;
    assert_only_violation(&config, "report.max_stake_moves_per_report", "1..=16");
    config.report.max_stake_moves_per_report = 17;
    assert_only_violation(&config, "report.max_stake_moves_per_report", "1..=16");
}

#[test]
fn timelock_delay_covers_the_unbonding_period() {
    let mut config = devnet();
    config.governance.timelock_delay_seconds = 34;
    assert_only_violation(
        &config,
        "governance.timelock_delay_seconds",
        "shorter than the longest exit (35 s",
    );
    let mut config = devnet();
    config.governance.max_pause_seconds = 31;
    assert_only_violation(&config, "governance.max_pause_seconds", "31 is outside the allowed range 1..=30");
}

#[test]
fn the_token_cap_and_staking_limit_fit_96_bits() {
    let mut config = devnet();
    config.liquid.total_cap = U256::from(1u64) << 96;
    assert_only_violation(&config, "liquid.total_cap", "above 2^96 - 1");
    config.liquid.total_cap = (U256::from(1u64) << 96) - U256::from(1u64);
    assert!(config.violations().is_empty());
}

#[test]
fn guardian_and_verifier_are_set_and_distinct() {
    let mut config = devnet();
    config.governance.guardian = Address::ZERO;
    assert_only_violation(&config, "governance.guardian", "zero address");
    let mut config = devnet();
    config.governance.verifier = Address::ZERO;
    assert_only_violation(&config, "governance.verifier", "zero address");
    let mut config = devnet();
    config.governance.verifier = config.governance.guardian;
    assert_only_violation(&config, "governance.verifier", "must not be the guardian");
}

#[test]
fn every_violation_is_reported_at_once() {
    let mut config = devnet();
    config.treasury.fee_bps = 20_000;
    config.oracle.quorum = 0;
    config.staking.min_bond = config.staking.max_bond + wei(1);
    let err = ConfigError::Invalid(config.violations());
    assert_eq!(
        err.to_string().lines().map(|l| l.split(':').next().unwrap_or_default()).collect::<Vec<_>>(),
        ["treasury.fee_bps", "staking.min_bond", "oracle.quorum"]
    );
}
