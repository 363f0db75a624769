//! Allocation against hand-worked examples, against exhaustive search on small sets, and its
//! invariants on random input; the Nakamoto coefficient against examples and all subsets.

use alloy::primitives::U256;
use proptest::prelude::*;

use super::*;

fn wei(n: u128) -> U256 {
    U256::from(n)
}

fn eligible(id: SequencerId, current: u128, total_stake: u128) -> Candidate {
    Candidate { id, current: wei(current), total_stake: wei(total_stake), active: true, jailed: false }
}

fn jailed(id: SequencerId, current: u128, total_stake: u128) -> Candidate {
    Candidate { jailed: true, ..eligible(id, current, total_stake) }
}

fn inactive(id: SequencerId, current: u128, total_stake: u128) -> Candidate {
    Candidate { active: false, ..eligible(id, current, total_stake) }
}

fn limits(cap: u128, max_moved: U256) -> AllocationLimits {
    AllocationLimits { per_sequencer_cap: wei(cap), max_moved }
}

fn unbounded(cap: u128) -> AllocationLimits {
    limits(cap, U256::MAX)
}

fn targets(pairs: &[(SequencerId, u128)]) -> Vec<(SequencerId, U256)> {
    pairs.iter().map(|&(id, amount)| (id, wei(amount))).collect()
}

#[test]
fn lowest_total_stake_rises_first() {
    // Levels 100, 40, 10: sequencer 3 rises alone to 40 (30 wei), then 2 and 3 together by 20.
    let candidates = [eligible(1, 0, 100), eligible(2, 0, 40), eligible(3, 0, 10)];
    let allocation = allocate(&candidates, wei(70), &unbounded(1_000)).unwrap();
    assert_eq!(allocation.targets, targets(&[(1, 0), (2, 20), (3, 50)]));
    assert_eq!(allocation.moved, wei(70));
    assert_eq!(allocation.taken_from_ineligible, U256::ZERO);
    assert_eq!(allocation.unallocated, U256::ZERO);
}

#[test]
fn existing_stake_is_rebalanced_by_redelegation() {
    // Both stand at 0 without the pool: 15 each, one redelegation of 15 wei.
    let candidates = [eligible(1, 30, 30), eligible(2, 0, 0)];
    let allocation = allocate(&candidates, wei(30), &unbounded(1_000)).unwrap();
    assert_eq!(allocation.targets, targets(&[(1, 15), (2, 15)]));
    assert_eq!(allocation.moved, wei(15));
    assert_eq!(allocation.unallocated, U256::ZERO);
}

#[test]
fn leftover_wei_go_to_the_lowest_ids_whatever_the_input_order() {
    // Both at 10: 2 each, the fifth wei to id 3.
    let candidates = [eligible(7, 0, 10), eligible(3, 0, 10)];
    let allocation = allocate(&candidates, wei(5), &unbounded(1_000)).unwrap();
    assert_eq!(allocation.targets, targets(&[(7, 2), (3, 3)]));

    let candidates = [eligible(5, 0, 0), eligible(1, 0, 0), eligible(3, 0, 0)];
    let allocation = allocate(&candidates, wei(4), &unbounded(1_000)).unwrap();
    assert_eq!(allocation.targets, targets(&[(5, 1), (1, 2), (3, 1)]));
}

#[test]
fn the_cap_stops_a_sequencer_and_the_rest_rises_next() {
    // Levels 0, 5, 100, cap 8: sequencers 1 and 2 reach the cap (16 wei), 4 go to sequencer 3.
    let candidates = [eligible(1, 0, 0), eligible(2, 0, 5), eligible(3, 0, 100)];
    let allocation = allocate(&candidates, wei(20), &unbounded(8)).unwrap();
    assert_eq!(allocation.targets, targets(&[(1, 8), (2, 8), (3, 4)]));
    assert_eq!(allocation.unallocated, U256::ZERO);
}

#[test]
fn what_the_caps_cannot_take_stays_unallocated() {
    let candidates = [eligible(1, 0, 0), eligible(2, 0, 7)];
    let allocation = allocate(&candidates, wei(25), &unbounded(10)).unwrap();
    assert_eq!(allocation.targets, targets(&[(1, 10), (2, 10)]));
    assert_eq!(allocation.unallocated, wei(5));
    assert_eq!(allocation.moved, wei(20));
}

#[test]
fn stake_above_a_lowered_cap_is_moved_away() {
    // Capacity 2 x 20 = 40 of 50: sequencer 1 drops from 50 to 20, 10 wei return to the buffer.
    let candidates = [eligible(1, 50, 60), eligible(2, 0, 0)];
    let allocation = allocate(&candidates, wei(50), &unbounded(20)).unwrap();
    assert_eq!(allocation.targets, targets(&[(1, 20), (2, 20)]));
    assert_eq!(allocation.unallocated, wei(10));
    assert_eq!(allocation.moved, wei(30));
}

#[test]
fn jailed_and_inactive_sequencers_are_emptied() {
    // Eligible levels without the pool: 20 (id 3) and 0 (id 4). 50 wei: id 4 rises to 20, then
    // both by 15.
    let candidates = [jailed(1, 30, 50), inactive(2, 10, 10), eligible(3, 0, 20), eligible(4, 5, 5)];
    let allocation = allocate(&candidates, wei(50), &unbounded(100)).unwrap();
    assert_eq!(allocation.targets, targets(&[(1, 0), (2, 0), (3, 15), (4, 35)]));
    assert_eq!(allocation.moved, wei(45));
    assert_eq!(allocation.taken_from_ineligible, wei(40));
    assert_eq!(allocation.unallocated, U256::ZERO);
}

#[test]
fn bounded_moves_raise_the_lowest_and_drain_the_highest_ineligible_first() {
    // 25 wei in: id 4 rises from 5 to 20, then ids 3 and 4 by 5 each. 25 wei out: the jailed
    // sequencer at 50 drains before the inactive one at 10.
    let candidates = [jailed(1, 30, 50), inactive(2, 10, 10), eligible(3, 0, 20), eligible(4, 5, 5)];
    let allocation = allocate(&candidates, wei(50), &limits(100, wei(25))).unwrap();
    assert_eq!(allocation.targets, targets(&[(1, 5), (2, 10), (3, 5), (4, 25)]));
    assert_eq!(allocation.moved, wei(25));
    assert_eq!(allocation.taken_from_ineligible, wei(25));
    assert_eq!(allocation.unallocated, wei(5));
}

#[test]
fn bounded_moves_empty_ineligible_sequencers_before_rebalancing() {
    // Ideal 0 / 17 / 17. 10 wei out: the jailed 4 first, then 6 from id 2; 10 wei in to id 3.
    let candidates = [jailed(1, 4, 4), eligible(2, 30, 30), eligible(3, 0, 0)];
    let allocation = allocate(&candidates, wei(34), &limits(100, wei(10))).unwrap();
    assert_eq!(allocation.targets, targets(&[(1, 0), (2, 24), (3, 10)]));
    assert_eq!(allocation.moved, wei(10));
    assert_eq!(allocation.taken_from_ineligible, wei(4));
    assert_eq!(allocation.unallocated, U256::ZERO);
}

#[test]
fn bounded_drains_at_one_level_take_the_odd_wei_from_the_lower_id() {
    let candidates = [jailed(5, 10, 10), jailed(2, 10, 10), eligible(9, 0, 0)];
    let allocation = allocate(&candidates, wei(20), &limits(100, wei(5))).unwrap();
    assert_eq!(allocation.targets, targets(&[(5, 8), (2, 7), (9, 5)]));
    assert_eq!(allocation.moved, wei(5));
    assert_eq!(allocation.taken_from_ineligible, wei(5));
    assert_eq!(allocation.unallocated, U256::ZERO);
}

#[test]
fn nothing_eligible_leaves_everything_unallocated() {
    let allocation = allocate(&[jailed(1, 10, 10)], wei(15), &unbounded(100)).unwrap();
    assert_eq!(allocation.targets, targets(&[(1, 0)]));
    assert_eq!(allocation.moved, wei(10));
    assert_eq!(allocation.taken_from_ineligible, wei(10));
    assert_eq!(allocation.unallocated, wei(15));

    let allocation = allocate(&[], wei(7), &unbounded(100)).unwrap();
    assert_eq!(allocation.targets, vec![]);
    assert_eq!(allocation.moved, U256::ZERO);
    assert_eq!(allocation.unallocated, wei(7));
}

#[test]
fn full_width_amounts_do_not_overflow() {
    // 2^256 - 1 over two empty sequencers with no cap: 2^255 - 1 each, the odd wei to id 1.
    let half = U256::from(1u8) << 255;
    let candidates = [eligible(2, 0, 0), eligible(1, 0, 0)];
    let allocation = allocate(
        &candidates,
        U256::MAX,
        &AllocationLimits { per_sequencer_cap: U256::MAX, max_moved: U256::MAX },
    )
    .unwrap();
    assert_eq!(allocation.targets, vec![(2, half - U256::from(1u8)), (1, half)]);
    assert_eq!(allocation.moved, U256::MAX);
    assert_eq!(allocation.unallocated, U256::ZERO);
}

#[test]
fn bad_input_is_named() {
    let duplicate = [eligible(4, 0, 0), eligible(2, 0, 0), eligible(4, 0, 0)];
    assert_eq!(
        allocate(&duplicate, wei(1), &unbounded(10)),
        Err(EconomicsError::InvalidInput {
            what: "sequencer 4".to_owned(),
            problem: "appears more than once".to_owned()
        })
    );
    assert_eq!(
        allocate(&[eligible(3, 5, 4)], wei(5), &unbounded(10)),
        Err(EconomicsError::InvalidInput {
            what: "sequencer 3".to_owned(),
            problem: "the pool's stake 5 exceeds the sequencer's total stake 4".to_owned()
        })
    );
    assert_eq!(
        allocate(&[eligible(1, 10, 10), eligible(2, 5, 5)], wei(14), &unbounded(100)),
        Err(EconomicsError::InvalidInput {
            what: "target total".to_owned(),
            problem: "14 is below the pool's current stake 15".to_owned()
        })
    );
    let huge = Candidate { id: 1, current: U256::MAX, total_stake: U256::MAX, active: true, jailed: false };
    assert_eq!(
        allocate(&[huge.clone(), Candidate { id: 2, ..huge }], U256::MAX, &unbounded(1)),
        Err(EconomicsError::Overflow { what: "pool's current stake".to_owned() })
    );
}

#[test]
fn nakamoto_examples() {
    assert_eq!(nakamoto_coefficient(&[]), 0);
    assert_eq!(nakamoto_coefficient(&[U256::ZERO, U256::ZERO]), 0);
    // One third is not more than a third.
    assert_eq!(nakamoto_coefficient(&[wei(1), wei(1), wei(1)]), 2);
    assert_eq!(nakamoto_coefficient(&[wei(10), wei(1), wei(1)]), 1);
    assert_eq!(nakamoto_coefficient(&[wei(1), wei(2), wei(3), wei(4), wei(5)]), 2);
    assert_eq!(nakamoto_coefficient(&[U256::MAX, U256::MAX, U256::MAX]), 2);
    assert_eq!(nakamoto_coefficient(&[wei(1), U256::MAX]), 1);
}

/// The optimum by exhaustive search: every split of `min(target_total, eligible x cap)` over the
/// eligible sequencers, each at most `cap`; the best has the lexicographically greatest
/// ascending resulting total stakes, then (the tie-break) the greatest resulting total stakes
/// listed by ascending id. Ineligible sequencers get zero.
fn exhaustive_optimum(candidates: &[Candidate], target_total: u64, cap: u64) -> Vec<(SequencerId, U256)> {
    let mut by_id: Vec<usize> = (0..candidates.len()).filter(|&i| candidates[i].is_eligible()).collect();
    by_id.sort_by_key(|&i| candidates[i].id);
    let others: Vec<u64> =
        by_id.iter().map(|&i| (candidates[i].total_stake - candidates[i].current).to::<u64>()).collect();
    let amount = target_total.min(cap * others.len() as u64);

    let mut best: Option<(Vec<u64>, Vec<u64>, Vec<u64>)> = None;
    let mut split = Vec::with_capacity(others.len());
    search(&others, cap, amount, &mut split, &mut best);

    let mut result: Vec<(SequencerId, U256)> = candidates.iter().map(|c| (c.id, U256::ZERO)).collect();
    if let Some((_, _, best_split)) = best {
        for (&i, amount) in by_id.iter().zip(best_split) {
            result[i].1 = U256::from(amount);
        }
    }
    result
}

fn search(
    others: &[u64],
    cap: u64,
    left: u64,
    split: &mut Vec<u64>,
    best: &mut Option<(Vec<u64>, Vec<u64>, Vec<u64>)>,
) {
    let position = split.len();
    if position == others.len() {
        if left == 0 {
            let by_id: Vec<u64> = others.iter().zip(split.iter()).map(|(base, x)| base + x).collect();
            let mut ascending = by_id.clone();
            ascending.sort_unstable();
            let better = best.as_ref().is_none_or(|(best_ascending, best_by_id, _)| {
                (&ascending, &by_id) > (best_ascending, best_by_id)
            });
            if better {
                *best = Some((ascending, by_id, split.clone()));
            }
        }
        return;
    }
    let still_after = cap * (others.len() - position - 1) as u64;
    for amount in left.saturating_sub(still_after)..=cap.min(left) {
        split.push(amount);
        search(others, cap, left - amount, split, best);
        split.pop();
    }
}

fn nakamoto_by_subsets(stakes: &[u64]) -> usize {
    let total: u64 = stakes.iter().sum();
    if total == 0 {
        return 0;
    }
    (0u32..1 << stakes.len())
        .filter(|mask| {
            let chosen: u64 = (0..stakes.len()).filter(|i| mask & (1 << i) != 0).map(|i| stakes[i]).sum();
            3 * chosen > total
        })
        .map(|mask| mask.count_ones() as usize)
        .min()
        .unwrap()
}

/// Up to `max_count` candidates with distinct ids, the pool's stake up to `max_current` and the
/// rest of each sequencer's stake up to `max_others`.
fn candidates_strategy(
    max_count: usize,
    max_current: u128,
    max_others: u128,
) -> impl Strategy<Value = Vec<Candidate>> {
    let ids = Just(vec![3u32, 9, 1, 14, 6, 2, 11, 8]).prop_shuffle();
    let one = (0..=max_current, 0..=max_others, prop::bool::weighted(0.8), prop::bool::weighted(0.2));
    (ids, prop::collection::vec(one, 0..=max_count)).prop_map(|(ids, rows)| {
        ids.into_iter()
            .zip(rows)
            .map(|(id, (current, others, active, jailed))| Candidate {
                id,
                current: wei(current),
                total_stake: wei(current + others),
                active,
                jailed,
            })
            .collect()
    })
}

fn current_total(candidates: &[Candidate]) -> U256 {
    candidates.iter().map(|c| c.current).fold(U256::ZERO, |sum, current| sum + current)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn unbounded_allocation_is_the_exhaustive_optimum(
        candidates in candidates_strategy(5, 8, 50),
        surplus in 0u64..=12,
        cap in 0u64..=20,
    ) {
        let target_total = current_total(&candidates).to::<u64>() + surplus;
        let allocation = allocate(&candidates, U256::from(target_total), &unbounded(cap.into())).unwrap();
        prop_assert_eq!(allocation.targets, exhaustive_optimum(&candidates, target_total, cap));
    }

    #[test]
    fn nakamoto_matches_all_subsets(stakes in prop::collection::vec(0u64..=100, 0..=8)) {
        let wide: Vec<U256> = stakes.iter().map(|&stake| U256::from(stake)).collect();
        prop_assert_eq!(nakamoto_coefficient(&wide), nakamoto_by_subsets(&stakes));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn allocation_invariants(
        candidates in candidates_strategy(8, 1_000_000, 1_000_000),
        surplus in 0u128..=2_000_000,
        cap in 0u128..=1_500_000,
        max_moved in 0u128..=3_000_000,
    ) {
        let target_total = current_total(&candidates) + wei(surplus);
        let ideal = allocate(&candidates, target_total, &unbounded(cap)).unwrap();
        let bounded = allocate(&candidates, target_total, &limits(cap, wei(max_moved))).unwrap();

        let eligible_count = candidates.iter().filter(|c| c.is_eligible()).count() as u128;
        prop_assert_eq!(ideal.unallocated, target_total - target_total.min(wei(cap * eligible_count)));
        prop_assert_eq!(bounded.moved, ideal.moved.min(wei(max_moved)));

        for allocation in [&ideal, &bounded] {
            let allocated = allocation.targets.iter().fold(U256::ZERO, |sum, (_, target)| sum + target);
            prop_assert_eq!(allocated + allocation.unallocated, target_total);

            let mut increase = U256::ZERO;
            let mut decrease = U256::ZERO;
            let mut taken = U256::ZERO;
            let mut eligible_lost = false;
            for (candidate, &(id, target)) in candidates.iter().zip(&allocation.targets) {
                prop_assert_eq!(id, candidate.id);
                prop_assert!(target <= wei(cap).max(candidate.current));
                increase += target.saturating_sub(candidate.current);
                decrease += candidate.current.saturating_sub(target);
                if candidate.is_eligible() {
                    eligible_lost |= target < candidate.current;
                } else {
                    prop_assert!(target <= candidate.current);
                    taken += candidate.current - target;
                }
            }
            prop_assert_eq!(allocation.moved, increase.max(decrease));
            prop_assert_eq!(allocation.taken_from_ineligible, taken);
            if eligible_lost {
                // Ineligible sequencers are emptied before any eligible one gives stake up.
                for (candidate, (_, target)) in candidates.iter().zip(&allocation.targets) {
                    prop_assert!(candidate.is_eligible() || target.is_zero());
                }
            }
        }

        for ((candidate, (_, bounded_target)), (_, ideal_target)) in
            candidates.iter().zip(&bounded.targets).zip(&ideal.targets)
        {
            prop_assert!(*ideal_target <= wei(cap));
            let low = candidate.current.min(*ideal_target);
            let high = candidate.current.max(*ideal_target);
            prop_assert!(low <= *bounded_target && *bounded_target <= high);
        }
    }
}
