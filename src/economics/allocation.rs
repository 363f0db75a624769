//! Allocation of the liquid pool's stake across sequencers by water-filling: the pool's stake
//! goes to the sequencers with the least total stake first, up to a per-sequencer cap, so that
//! it spreads stake instead of concentrating it. O(n log n) in sequencers, never a loop over wei.
//!
//! - Eligible means active and not jailed; an ineligible sequencer's ideal target is zero.
//! - Ideal targets: `min(target_total, eligible count × cap)` is water-filled over the eligible
//!   sequencers, starting from each one's stake without the pool (`total_stake - current`): the
//!   lowest level rises first, no target above the cap. Tie-break: wei that cannot raise a whole
//!   level go one each to the lowest ids. The rest is `unallocated` (it stays in the buffer).
//! - `moved = max(sum of increases, sum of decreases)`: a redelegation counts once, and so does
//!   a new delegation or an undelegation.
//! - When `max_moved` binds, increases and decreases are each limited to `max_moved`. Increases
//!   water-fill from the current levels towards the ideal targets (lowest first); decreases
//!   drain ineligible sequencers first, then eligible ones above their ideal target, highest
//!   total stake first (ties: lower id first). Every target lies between current and ideal, so
//!   a sequencer above the cap is only ever lowered.
//! - Always `sum(targets) + unallocated == target_total`; `target_total` may not be below the
//!   pool's current stake (undelegating for the withdrawal queue is not an allocation).

use std::collections::HashSet;

use alloy::primitives::{U256, U512};
use serde::{Deserialize, Serialize};

use super::{EconomicsError, math, settlement::SequencerId};

/// One sequencer as the allocation sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// Registry id; unique within one call.
    pub id: SequencerId,
    /// The pool's stake with this sequencer now.
    pub current: U256,
    /// The sequencer's whole stake now (bond, all delegations, the pool's `current` included).
    pub total_stake: U256,
    /// In the active set.
    pub active: bool,
    /// Jailed.
    pub jailed: bool,
}

impl Candidate {
    /// May receive the pool's stake: active and not jailed.
    pub fn is_eligible(&self) -> bool {
        self.active && !self.jailed
    }
}

/// The bounds the pool enforces on chain for one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationLimits {
    /// The most the pool may hold with one sequencer.
    pub per_sequencer_cap: U256,
    /// The most wei moved in the step (new delegations, undelegations and redelegations, each
    /// wei once).
    pub max_moved: U256,
}

/// The outcome of one allocation step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    /// The pool's stake per sequencer after the step, in input order.
    pub targets: Vec<(SequencerId, U256)>,
    /// Wei moved: `max(sum of increases, sum of decreases)`.
    pub moved: U256,
    /// Wei taken from ineligible (inactive or jailed) sequencers.
    pub taken_from_ineligible: U256,
    /// `target_total - sum(targets)`: what the caps or `max_moved` left in the buffer.
    pub unallocated: U256,
}

/// Allocates `target_total` (the pool's current stake plus the buffer surplus to delegate)
/// across `candidates` by water-filling, within `limits`; see the module documentation for the
/// exact rules.
pub fn allocate(
    candidates: &[Candidate],
    target_total: U256,
    limits: &AllocationLimits,
) -> Result<Allocation, EconomicsError> {
    validate(candidates)?;
    let current_total = math::sum(candidates.iter().map(|c| c.current), "pool's current stake")?;
    if target_total < current_total {
        return Err(EconomicsError::InvalidInput {
            what: "target total".to_owned(),
            problem: format!("{target_total} is below the pool's current stake {current_total}"),
        });
    }

    let ideal = ideal_targets(candidates, target_total, limits.per_sequencer_cap);
    let (increase, decrease) = changes(candidates, &ideal)?;
    let targets = if increase <= limits.max_moved && decrease <= limits.max_moved {
        ideal
    } else {
        bounded_targets(candidates, &ideal, limits.max_moved.min(increase), limits.max_moved.min(decrease))
    };

    let (increase, decrease) = changes(candidates, &targets)?;
    let taken_from_ineligible = math::sum(
        candidates
            .iter()
            .zip(&targets)
            .filter(|(candidate, _)| !candidate.is_eligible())
            .map(|(candidate, target)| candidate.current.saturating_sub(*target)),
        "stake taken from ineligible sequencers",
    )?;
    let allocated = math::sum(targets.iter().copied(), "allocated stake")?;
    let unallocated = target_total
        .checked_sub(allocated)
        .ok_or_else(|| EconomicsError::Overflow { what: "allocated stake".to_owned() })?;
    Ok(Allocation {
        targets: candidates.iter().map(|c| c.id).zip(targets).collect(),
        moved: increase.max(decrease),
        taken_from_ineligible,
        unallocated,
    })
}

/// The fewest sequencers whose combined stake is more than a third of the total (0 when the
/// total is zero). Exact: compares `3 × partial > total` in 512 bits.
pub fn nakamoto_coefficient(stakes: &[U256]) -> usize {
    // 512 bits hold 3 × the sum of far more than 2^64 amounts of 256 bits: nothing overflows.
    let total = stakes.iter().fold(U512::ZERO, |sum, stake| sum + U512::from(*stake));
    if total.is_zero() {
        return 0;
    }
    let mut largest_first = stakes.to_vec();
    largest_first.sort_unstable_by(|a, b| b.cmp(a));
    let mut partial = U512::ZERO;
    for (count, stake) in largest_first.iter().enumerate() {
        partial += U512::from(*stake);
        if partial * U512::from(3u8) > total {
            return count + 1;
        }
    }
    largest_first.len()
}

/// Unique ids, and the pool's stake within each sequencer's total stake.
fn validate(candidates: &[Candidate]) -> Result<(), EconomicsError> {
    let mut seen = HashSet::with_capacity(candidates.len());
    for candidate in candidates {
        if !seen.insert(candidate.id) {
            return Err(EconomicsError::InvalidInput {
                what: format!("sequencer {}", candidate.id),
                problem: "appears more than once".to_owned(),
            });
        }
        if candidate.current > candidate.total_stake {
            return Err(EconomicsError::InvalidInput {
                what: format!("sequencer {}", candidate.id),
                problem: format!(
                    "the pool's stake {} exceeds the sequencer's total stake {}",
                    candidate.current, candidate.total_stake
                ),
            });
        }
    }
    Ok(())
}

/// Sums of the increases and of the decreases from the current stakes to `targets`.
fn changes(candidates: &[Candidate], targets: &[U256]) -> Result<(U256, U256), EconomicsError> {
    let pairs = || candidates.iter().zip(targets);
    let increase = math::sum(pairs().map(|(c, target)| target.saturating_sub(c.current)), "increases")?;
    let decrease = math::sum(pairs().map(|(c, target)| c.current.saturating_sub(*target)), "decreases")?;
    Ok((increase, decrease))
}

/// The unconstrained targets: `target_total` water-filled over the eligible sequencers from
/// their stake without the pool, each up to `cap`; zero for the ineligible.
fn ideal_targets(candidates: &[Candidate], target_total: U256, cap: U256) -> Vec<U256> {
    let eligible: Vec<usize> = (0..candidates.len()).filter(|&i| candidates[i].is_eligible()).collect();
    let vessels: Vec<Vessel> = eligible
        .iter()
        .map(|&i| Vessel {
            id: candidates[i].id,
            level: U512::from(candidates[i].total_stake - candidates[i].current),
            room: cap,
        })
        .collect();
    let mut targets = vec![U256::ZERO; candidates.len()];
    for (i, raise) in eligible.into_iter().zip(water_fill(&vessels, target_total)) {
        targets[i] = raise;
    }
    targets
}

/// Targets when `max_moved` binds: `increase` wei water-filled from the current levels towards
/// the ideal targets, and `decrease` wei taken from the highest levels towards the ideal
/// targets, the ineligible sequencers first.
fn bounded_targets(candidates: &[Candidate], ideal: &[U256], increase: U256, decrease: U256) -> Vec<U256> {
    let mut targets: Vec<U256> = candidates.iter().map(|c| c.current).collect();

    let rising: Vec<usize> = (0..candidates.len()).filter(|&i| ideal[i] > candidates[i].current).collect();
    let vessels: Vec<Vessel> = rising
        .iter()
        .map(|&i| Vessel {
            id: candidates[i].id,
            level: U512::from(candidates[i].total_stake),
            room: ideal[i] - candidates[i].current,
        })
        .collect();
    for (i, raise) in rising.into_iter().zip(water_fill(&vessels, increase)) {
        targets[i] += raise;
    }

    let mut left = decrease;
    for ineligible_pass in [true, false] {
        let falling: Vec<usize> = (0..candidates.len())
            .filter(|&i| candidates[i].is_eligible() != ineligible_pass && ideal[i] < candidates[i].current)
            .collect();
        // Lowering the highest levels first is raising the lowest of `U256::MAX - level` first.
        let vessels: Vec<Vessel> = falling
            .iter()
            .map(|&i| Vessel {
                id: candidates[i].id,
                level: U512::from(U256::MAX - candidates[i].total_stake),
                room: candidates[i].current - ideal[i],
            })
            .collect();
        for (i, cut) in falling.into_iter().zip(water_fill(&vessels, left)) {
            targets[i] -= cut;
            left -= cut;
        }
    }
    targets
}

/// One sequencer in a water-filling pass: its level before the pass and how far it may rise.
///
/// Levels are 512-bit so that `level + room` never overflows; with unique `u32` ids there are
/// at most 2^32 vessels, so every sum below stays under 2^290.
struct Vessel {
    id: SequencerId,
    level: U512,
    room: U256,
}

/// Raises the lowest levels first by `amount` in all (by at most the total room), none by more
/// than its room, and returns the raise per vessel in input order. When the lowest vessels
/// stand level, the wei left over go one each to the lowest ids.
fn water_fill(vessels: &[Vessel], amount: U256) -> Vec<U256> {
    let total_room = vessels.iter().fold(U512::ZERO, |sum, vessel| sum + U512::from(vessel.room));
    let amount = U512::from(amount);
    if amount >= total_room {
        return vessels.iter().map(|vessel| vessel.room).collect();
    }
    let water = water_level(vessels, amount);
    let raise_to_water = |vessel: &Vessel| {
        if water <= vessel.level { U512::ZERO } else { (water - vessel.level).min(U512::from(vessel.room)) }
    };
    // Each raise is at most its room, so it fits 256 bits.
    let mut raises: Vec<U256> =
        vessels.iter().map(|vessel| U256::saturating_from(raise_to_water(vessel))).collect();
    let filled = raises.iter().fold(U512::ZERO, |sum, raise| sum + U512::from(*raise));

    // Fewer wei are left than vessels that would rise with the water one wei higher.
    let mut left = amount - filled;
    let mut rising_next: Vec<usize> = (0..vessels.len())
        .filter(|&i| vessels[i].level <= water && water < vessels[i].level + U512::from(vessels[i].room))
        .collect();
    rising_next.sort_unstable_by_key(|&i| vessels[i].id);
    for i in rising_next {
        if left.is_zero() {
            break;
        }
        raises[i] += U256::from(1u8);
        left -= U512::from(1u8);
    }
    raises
}

/// The highest water level whose fill `sum(clamp(level_water - level, 0, room))` is at most
/// `amount`, for `amount` below the total room: a sweep over the sorted starts and ends.
fn water_level(vessels: &[Vessel], amount: U512) -> U512 {
    let mut events: Vec<(U512, bool)> = vessels
        .iter()
        .filter(|vessel| !vessel.room.is_zero())
        .flat_map(|vessel| [(vessel.level, true), (vessel.level + U512::from(vessel.room), false)])
        .collect();
    events.sort_unstable_by_key(|(at, _)| *at);

    let mut position = events.first().map_or(U512::ZERO, |(at, _)| *at);
    let mut filled = U512::ZERO;
    let mut rising = 0usize;
    for (at, starts) in events {
        if at > position {
            let reached = filled + U512::from(rising) * (at - position);
            if reached > amount {
                // `reached > filled`, so some vessel is rising.
                return position + (amount - filled) / U512::from(rising);
            }
            filled = reached;
            position = at;
        }
        if starts {
            rising += 1;
        } else {
            rising -= 1;
        }
    }
    position
}

#[cfg(test)]
mod tests;
