//! Emission schedules: the emission of epoch `n` (counted from the schedule's first epoch, 0)
//! and the cumulative emission to `n`. Constant, decaying (`e_n = e_{n-1} * decay_ray / RAY`,
//! rounded down at every step exactly as the reserve contract steps it) and fixed budget are
//! exact; bonded-ratio targeting steps an annual inflation rate toward its bounds (Cosmos
//! x/mint), with the change per epoch bounded.

use alloy::primitives::U256;

use super::{
    EconomicsError, math,
    precision::{BPS, RAY, SECONDS_PER_YEAR},
};
use crate::config::EmissionConfig;

/// The decaying emissions `e_0, e_1, ...`, each `e_{n-1} * decay_ray / RAY` rounded down,
/// exactly as the reserve contract steps them; the one place the rule is applied.
fn decaying_series(initial: U256, decay_ray: U256) -> impl Iterator<Item = Result<U256, EconomicsError>> {
    std::iter::successors(Some(Ok(initial)), move |previous: &Result<U256, EconomicsError>| match previous {
        Ok(e) => Some(math::mul_div(*e, decay_ray, RAY, "decaying emission")),
        Err(_) => None,
    })
}

/// Epochs `0..=n` of a decaying series, stopping early once it reaches zero (nothing more is
/// emitted), so a long-finished schedule costs little. O(n) in the epoch index otherwise:
/// every step rounds down, so there is no closed form.
fn decaying_upto(
    initial: U256,
    decay_ray: U256,
    n: u64,
) -> impl Iterator<Item = Result<U256, EconomicsError>> {
    let epochs = usize::try_from(n).unwrap_or(usize::MAX).saturating_add(1);
    decaying_series(initial, decay_ray).take(epochs).take_while(|e| !matches!(e, Ok(v) if v.is_zero()))
}

/// Emission of epoch `n` for the schedules that depend on `n` alone.
pub fn emission_at(schedule: &EmissionConfig, n: u64) -> Result<U256, EconomicsError> {
    match schedule {
        EmissionConfig::Constant { per_epoch } => Ok(*per_epoch),
        EmissionConfig::Decaying { initial_per_epoch, decay_ray } if *decay_ray >= RAY => {
            Ok(*initial_per_epoch)
        }
        EmissionConfig::Decaying { initial_per_epoch, decay_ray } => {
            // The series stops early at zero: fewer than n + 1 emissions means epoch n emits nothing.
            let (count, last) = decaying_upto(*initial_per_epoch, *decay_ray, n)
                .try_fold((0u64, U256::ZERO), |(count, _), emission| emission.map(|e| (count + 1, e)))?;
            Ok(if count > n { last } else { U256::ZERO })
        }
        EmissionConfig::FixedBudget { per_epoch, budget } => {
            let spent = U256::from(n).saturating_mul(*per_epoch).min(*budget);
            Ok((*budget - spent).min(*per_epoch))
        }
        EmissionConfig::BondedRatioTarget { .. } => Err(targeting_needs_state()),
    }
}

/// Emission of epochs `0..=n` together.
pub fn cumulative_to(schedule: &EmissionConfig, n: u64) -> Result<U256, EconomicsError> {
    match schedule {
        EmissionConfig::Constant { per_epoch } => {
            math::mul_div(*per_epoch, U256::from(n) + U256::from(1u64), U256::from(1u64), "constant emission")
        }
        EmissionConfig::Decaying { initial_per_epoch, decay_ray } if *decay_ray >= RAY => math::mul_div(
            *initial_per_epoch,
            U256::from(n) + U256::from(1u64),
            U256::from(1u64),
            "decaying emission",
        ),
        EmissionConfig::Decaying { initial_per_epoch, decay_ray } => {
            decaying_upto(*initial_per_epoch, *decay_ray, n)
                .try_fold(U256::ZERO, |total, emission| math::add(total, emission?, "cumulative emission"))
        }
        EmissionConfig::FixedBudget { per_epoch, budget } => {
            Ok((U256::from(n) + U256::from(1u64)).saturating_mul(*per_epoch).min(*budget))
        }
        EmissionConfig::BondedRatioTarget { .. } => Err(targeting_needs_state()),
    }
}

fn targeting_needs_state() -> EconomicsError {
    EconomicsError::InvalidInput {
        what: "emission schedule".to_owned(),
        problem: "bonded_ratio_target depends on each epoch's bonded ratio: step it with `TargetingState`"
            .to_owned(),
    }
}

/// The state of a bonded-ratio targeting schedule: the current annual inflation in RAY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetingState {
    /// Annual inflation, RAY = 100%.
    pub inflation_ray: U256,
}

/// One epoch of a targeting schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetingStep {
    /// The state after the epoch.
    pub state: TargetingState,
    /// Wei emitted for the epoch.
    pub emission: U256,
}

/// The targeting parameters in RAY, taken from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetingParams {
    /// Lowest annual inflation.
    pub min_ray: U256,
    /// Highest annual inflation.
    pub max_ray: U256,
    /// Target bonded ratio.
    pub target_bonded_ray: U256,
    /// Largest change of inflation per year.
    pub max_change_per_year_ray: U256,
    /// Epoch length in seconds.
    pub epoch_seconds: u64,
}

fn bps_to_ray(bps: u16) -> U256 {
    RAY * U256::from(bps) / U256::from(BPS)
}

impl TargetingParams {
    /// Reads the parameters and the initial state from a `bonded_ratio_target` schedule.
    pub fn from_config(
        schedule: &EmissionConfig,
        epoch_seconds: u64,
    ) -> Result<(Self, TargetingState), EconomicsError> {
        let EmissionConfig::BondedRatioTarget {
            initial_inflation_bps,
            min_inflation_bps,
            max_inflation_bps,
            target_bonded_bps,
            max_change_per_year_bps,
            ..
        } = schedule
        else {
            return Err(EconomicsError::InvalidInput {
                what: "emission schedule".to_owned(),
                problem: "not a bonded_ratio_target schedule".to_owned(),
            });
        };
        Ok((
            Self {
                min_ray: bps_to_ray(*min_inflation_bps),
                max_ray: bps_to_ray(*max_inflation_bps),
                target_bonded_ray: bps_to_ray(*target_bonded_bps),
                max_change_per_year_ray: bps_to_ray(*max_change_per_year_bps),
                epoch_seconds,
            },
            TargetingState { inflation_ray: bps_to_ray(*initial_inflation_bps) },
        ))
    }
}

/// Steps a targeting schedule by one epoch (Cosmos x/mint, per epoch instead of per block):
/// `change = (1 - bonded_ratio / target) * max_change_per_year * epoch / year`, bounded to
/// `max_change_per_year * epoch / year` in size; inflation moves by it and is clamped to
/// `[min, max]`; the epoch emits `inflation * total_supply * epoch / year`. Every step
/// rounds down.
pub fn step_targeting(
    state: TargetingState,
    params: &TargetingParams,
    bonded: U256,
    total_supply: U256,
) -> Result<TargetingStep, EconomicsError> {
    if params.min_ray > params.max_ray {
        return Err(EconomicsError::InvalidInput {
            what: "targeting schedule".to_owned(),
            problem: format!("minimum inflation {} is above the maximum {}", params.min_ray, params.max_ray),
        });
    }
    if total_supply.is_zero() || params.target_bonded_ray.is_zero() {
        return Err(EconomicsError::InvalidInput {
            what: "targeting schedule".to_owned(),
            problem: "total supply and target bonded ratio must be positive".to_owned(),
        });
    }
    let year = U256::from(SECONDS_PER_YEAR);
    let epoch = U256::from(params.epoch_seconds);
    let bonded_ratio = math::mul_div(bonded, RAY, total_supply, "bonded stake")?;
    let ratio_to_target = math::mul_div(bonded_ratio, RAY, params.target_bonded_ray, "bonded ratio")?;
    let max_step = math::mul_div(params.max_change_per_year_ray, epoch, year, "max inflation change")?;
    let (gap, rising) =
        if ratio_to_target <= RAY { (RAY - ratio_to_target, true) } else { (ratio_to_target - RAY, false) };
    let per_year = math::mul_div(gap, params.max_change_per_year_ray, RAY, "inflation change")?;
    let step = math::mul_div(per_year, epoch, year, "inflation change")?.min(max_step);
    let moved = if rising {
        state.inflation_ray.saturating_add(step)
    } else {
        state.inflation_ray.saturating_sub(step)
    };
    let inflation_ray = moved.clamp(params.min_ray, params.max_ray);
    let annual = math::mul_div(total_supply, inflation_ray, RAY, "total supply")?;
    let emission = math::mul_div(annual, epoch, year, "annual emission")?;
    Ok(TargetingStep { state: TargetingState { inflation_ray }, emission })
}

#[cfg(test)]
mod tests;
