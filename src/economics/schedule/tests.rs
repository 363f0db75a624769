//! Schedules against their closed forms, and targeting against the Cosmos x/mint rule
//! computed independently in decimal arithmetic.

use alloy::primitives::U256;
use rust_decimal::Decimal;

use super::*;

fn wei(n: u128) -> U256 {
    U256::from(n)
}

#[test]
fn constant_emits_the_same_every_epoch() {
    let schedule = EmissionConfig::Constant { per_epoch: wei(7) };
    assert_eq!(emission_at(&schedule, 0), Ok(wei(7)));
    assert_eq!(emission_at(&schedule, 1_000_000), Ok(wei(7)));
    assert_eq!(cumulative_to(&schedule, 9), Ok(wei(70)));
}

#[test]
fn decaying_rounds_down_at_every_step_and_stays_within_n_wei_of_the_closed_form() {
    // decay 0.999: the closed form is initial * 999^n / 1000^n.
    let initial = wei(10_000_000_000_000_000_000_000);
    let schedule =
        EmissionConfig::Decaying { initial_per_epoch: initial, decay_ray: wei(999) * RAY / wei(1_000) };
    let mut cumulative = U256::ZERO;
    for n in 0..=15u64 {
        let stepped = emission_at(&schedule, n).expect("emission");
        let closed = initial * wei(999).pow(U256::from(n)) / wei(1_000).pow(U256::from(n));
        assert!(stepped <= closed, "epoch {n}: {stepped} above the closed form {closed}");
        assert!(closed - stepped <= U256::from(n), "epoch {n}: {stepped} more than {n} wei under {closed}");
        cumulative += stepped;
        assert_eq!(cumulative_to(&schedule, n), Ok(cumulative));
    }
    // 1e22 * 0.999 = 9.99e21 exactly; the second step 9.99e21 * 0.999 = 9.98001e21 exactly.
    assert_eq!(emission_at(&schedule, 2), Ok(wei(9_980_010_000_000_000_000_000)));
}

#[test]
fn no_decay_is_constant_without_stepping() {
    // decay_ray = RAY never shrinks the emission: answered directly, even for the last epoch.
    let schedule = EmissionConfig::Decaying { initial_per_epoch: wei(5), decay_ray: RAY };
    assert_eq!(emission_at(&schedule, u64::MAX), Ok(wei(5)));
    assert_eq!(cumulative_to(&schedule, u64::MAX - 1), Ok(wei(5) * U256::from(u64::MAX)));
}

#[test]
fn decaying_to_zero_stops() {
    let schedule = EmissionConfig::Decaying { initial_per_epoch: wei(3), decay_ray: RAY / wei(2) };
    // 3, 1, 0, 0, ...
    assert_eq!(emission_at(&schedule, 1), Ok(wei(1)));
    assert_eq!(emission_at(&schedule, 2), Ok(U256::ZERO));
    assert_eq!(emission_at(&schedule, u64::MAX), Ok(U256::ZERO));
    assert_eq!(cumulative_to(&schedule, 1_000), Ok(wei(4)));
}

#[test]
fn fixed_budget_pays_what_is_left_then_stops() {
    let schedule = EmissionConfig::FixedBudget { per_epoch: wei(3), budget: wei(10) };
    let emitted: Vec<U256> = (0..6).map(|n| emission_at(&schedule, n).expect("emission")).collect();
    assert_eq!(emitted, [wei(3), wei(3), wei(3), wei(1), U256::ZERO, U256::ZERO]);
    let cumulative: Vec<U256> = (0..6).map(|n| cumulative_to(&schedule, n).expect("cumulative")).collect();
    assert_eq!(cumulative, [wei(3), wei(6), wei(9), wei(10), wei(10), wei(10)]);
    assert_eq!(emission_at(&schedule, u64::MAX), Ok(U256::ZERO));
}

fn targeting() -> EmissionConfig {
    EmissionConfig::BondedRatioTarget {
        initial_inflation_bps: 1_300,
        min_inflation_bps: 700,
        max_inflation_bps: 2_000,
        target_bonded_bps: 6_700,
        max_change_per_year_bps: 1_300,
        total_supply: wei(1),
    }
}

#[test]
fn targeting_needs_its_state() {
    assert!(matches!(emission_at(&targeting(), 0), Err(EconomicsError::InvalidInput { .. })));
}

/// Cosmos x/mint `NextInflationRate` and `BlockProvision`, with an epoch as the block, in
/// `rust_decimal` (28 significant digits): an independent computation of the same rule.
fn cosmos_step(inflation: Decimal, bonded_ratio: Decimal, epochs_per_year: Decimal) -> Decimal {
    let goal = Decimal::new(67, 2);
    let rate_change = Decimal::new(13, 2);
    let per_year = (Decimal::ONE - bonded_ratio / goal) * rate_change;
    let next = inflation + per_year / epochs_per_year;
    next.clamp(Decimal::new(7, 2), Decimal::new(20, 2))
}

fn ray_to_decimal(value: U256) -> Decimal {
    // RAY values below 1e28 fit a Decimal's 96-bit mantissa with scale 27.
    Decimal::from_i128_with_scale(i128::try_from(value).expect("fits"), 27)
}

#[test]
fn targeting_follows_the_cosmos_rule() {
    let (params, mut state) = TargetingParams::from_config(&targeting(), 86_400).expect("params");
    let supply = wei(1_000_000_000) * wei(1_000_000_000_000_000_000);
    let mut cosmos = Decimal::new(13, 2);
    // Bonded ratio sweeps from 10% to 95% and back over 200 epochs.
    for epoch in 0..200u64 {
        let bonded_bps = if epoch < 100 { 1_000 + epoch * 85 } else { 9_500 - (epoch - 100) * 85 };
        let bonded = supply * U256::from(bonded_bps) / U256::from(10_000u64);
        let step = step_targeting(state, &params, bonded, supply).expect("step");
        cosmos = cosmos_step(
            cosmos,
            Decimal::new(i64::try_from(bonded_bps).expect("small"), 4),
            Decimal::from(365),
        );
        let ours = ray_to_decimal(step.state.inflation_ray);
        assert!(
            (ours - cosmos).abs() < Decimal::new(1, 18),
            "epoch {epoch}: inflation {ours} vs cosmos {cosmos}"
        );
        // Emission: inflation * supply / 365, compared in whole tokens to 1e-9 of a token.
        let ours_tokens =
            step.emission.to_string().parse::<Decimal>().expect("decimal") / Decimal::from(10u64.pow(18));
        let cosmos_tokens = cosmos * Decimal::from(1_000_000_000u64) / Decimal::from(365);
        assert!(
            (ours_tokens - cosmos_tokens).abs() < Decimal::new(1, 9),
            "epoch {epoch}: emission {ours_tokens} vs cosmos {cosmos_tokens}"
        );
        state = step.state;
    }
}

#[test]
fn targeting_change_per_epoch_is_bounded_and_clamped() {
    let (params, state) = TargetingParams::from_config(&targeting(), 86_400).expect("params");
    let supply = wei(1_000_000);
    let max_step = params.max_change_per_year_ray * U256::from(86_400u64) / U256::from(SECONDS_PER_YEAR);
    // Nothing bonded: inflation rises by the full step.
    let up = step_targeting(state, &params, U256::ZERO, supply).expect("step");
    assert_eq!(up.state.inflation_ray, state.inflation_ray + max_step);
    // Everything bonded with a 67% target: the raw change (1 - 1/0.67) is -0.49 of the yearly
    // change, inside the bound; it falls by exactly that.
    let down = step_targeting(state, &params, supply, supply).expect("step");
    assert!(down.state.inflation_ray < state.inflation_ray);
    // With a 10% target and everything bonded the raw change is -9 years' worth: bounded to one step.
    let low_target = TargetingParams { target_bonded_ray: RAY / U256::from(10u64), ..params };
    let bounded = step_targeting(state, &low_target, supply, supply).expect("step");
    assert_eq!(bounded.state.inflation_ray, state.inflation_ray - max_step);
    // Pinned at the floor it stays there.
    let floor = TargetingState { inflation_ray: params.min_ray };
    assert_eq!(step_targeting(floor, &params, supply, supply).expect("step").state, floor);
    // Bounds in the wrong order are refused, not a panic.
    let crossed = TargetingParams { min_ray: params.max_ray, max_ray: params.min_ray, ..params };
    assert!(matches!(
        step_targeting(state, &crossed, supply, supply),
        Err(EconomicsError::InvalidInput { ref what, .. }) if what == "targeting schedule"
    ));
    // A zero supply is refused by name.
    assert!(matches!(
        step_targeting(state, &params, U256::ZERO, U256::ZERO),
        Err(EconomicsError::InvalidInput { ref what, .. }) if what == "targeting schedule"
    ));
}
