//! Finalization batches with exact expected values: the rate in and out of bunker mode, cuts at
//! runs and sides, the budget with the batch's single rounding, the batch cap, the queue's
//! refusals; and properties over random queues (within budget, homogeneous, maximal, priced as
//! the queue prices).

use alloy::primitives::U256;
use proptest::prelude::*;

use super::*;
use crate::economics::liquid::PoolTotals;

fn wei(n: u128) -> U256 {
    U256::from(n)
}

/// The share rate of a fresh token: one wei per 1,000 shares.
const R0: u128 = 1_000_000_000_000_000_000_000_000;
const ETHER: u128 = 1_000_000_000_000_000_000;
/// One whole token: 1e21 shares (18 decimals and the 3 of the virtual offset).
const TOKEN: u128 = 1_000 * ETHER;

/// Tickets from `first` on, each `(shares, rate at request)`, with the runs and values at
/// request the queue records (the run grows where the rate falls; `run0` for the first).
fn queue(first: u64, run0: u64, requests: &[(u128, u128)]) -> Vec<PendingTicket> {
    let mut tickets: Vec<PendingTicket> = Vec::with_capacity(requests.len());
    for (i, &(shares, rate)) in requests.iter().enumerate() {
        let run = match tickets.last() {
            Some(previous) if wei(rate) < previous.rate_at_request => previous.run + 1,
            Some(previous) => previous.run,
            None => run0,
        };
        tickets.push(PendingTicket {
            id: first + u64::try_from(i).expect("few tickets"),
            shares: wei(shares),
            value: wei(shares) * wei(rate) / RAY,
            rate_at_request: wei(rate),
            run,
        });
    }
    tickets
}

fn ends(plan: &Plan) -> Vec<u64> {
    plan.ends()
}

#[test]
fn the_rate_is_the_share_rate_without_a_pending_loss() {
    let (pooled, supply) = (wei(1_000 * ETHER + 7), wei(990_000 * ETHER + 3));
    let share_rate = PoolTotals { shares: supply, assets: pooled }.rate().expect("rate");
    assert_eq!(bunker_rate(pooled, U256::ZERO, supply), Ok(share_rate));
    // (1000e18 + 8) * 1e27 / (990000e21 + 1003), rounded down.
    let exact = (wei(1_000 * ETHER + 8) * RAY) / wei(990_000 * ETHER + 1_003);
    assert_eq!(share_rate, exact);
}

#[test]
fn bunker_mode_takes_the_pending_loss_off_first() {
    let (pooled, supply) = (wei(100 * ETHER), wei(100_000 * ETHER));
    // (100e18 - 3e18 + 1) * 1e27 / (100000e18 + 1000)
    let want = wei(97 * ETHER + 1) * RAY / wei(100_000 * ETHER + 1_000);
    assert_eq!(bunker_rate(pooled, wei(3 * ETHER), supply), Ok(want));
    assert!(want < bunker_rate(pooled, U256::ZERO, supply).expect("rate"));
}

#[test]
fn a_loss_at_or_above_the_pool_leaves_only_the_virtual_wei() {
    let (pooled, supply) = (wei(5 * ETHER), wei(5_000 * ETHER));
    let floor = RAY / wei(5_000 * ETHER + 1_000);
    assert_eq!(bunker_rate(pooled, pooled, supply), Ok(floor));
    assert_eq!(bunker_rate(pooled, pooled + wei(1), supply), Ok(floor));
    assert_eq!(bunker_rate(pooled, U256::MAX, supply), Ok(floor));
    // An empty token: RAY / 1000.
    assert_eq!(bunker_rate(U256::ZERO, U256::ZERO, U256::ZERO), Ok(wei(R0)));
}

#[test]
fn the_rate_refuses_amounts_beyond_256_bits() {
    assert!(matches!(bunker_rate(U256::MAX, U256::ZERO, wei(1)), Err(FinalizationError::Math(_))));
    assert!(matches!(bunker_rate(wei(1), U256::ZERO, U256::MAX), Err(FinalizationError::Math(_))));
    assert!(matches!(
        bunker_rate(U256::MAX - wei(1), U256::ZERO, U256::ZERO),
        Err(FinalizationError::Math(_))
    ));
}

#[test]
fn tickets_below_the_rate_in_one_run_are_one_batch_at_their_values() {
    // Rates rising to the finalization rate itself (at the rate counts as below).
    let rate = R0 + 30;
    let tickets = queue(1, 0, &[(3_000 * ETHER + 1, R0), (2_000 * ETHER + 7, R0 + 10), (ETHER, rate)]);
    let plan = plan_batches(&tickets, wei(rate), U256::MAX, MAX_BATCHES).expect("plan");
    let values = tickets.iter().fold(U256::ZERO, |a, t| a + t.value);
    assert_eq!(plan.batches, vec![FinalizationBatch { lastTicketId: wei(3), shareRate: wei(rate) }]);
    assert_eq!((plan.locked, plan.values.clone()), (values, vec![values]));
    assert_eq!(plan.shares, wei(5_001 * ETHER + 8));
    assert_eq!(queue_locked(&tickets, wei(rate), &ends(&plan)), Ok(values));
}

#[test]
fn a_slash_starts_a_run_and_the_plan_cuts_there_even_on_one_side() {
    // r0, then a higher rate (rewards), then a lower one (a slash): all below the final rate.
    let rate = R0 + 100;
    let tickets = queue(1, 0, &[(ETHER, R0 + 10), (ETHER, R0 + 50), (ETHER, R0 + 20), (ETHER, R0 + 60)]);
    assert_eq!(tickets.iter().map(|t| t.run).collect::<Vec<_>>(), vec![0, 0, 1, 1]);
    let plan = plan_batches(&tickets, wei(rate), U256::MAX, MAX_BATCHES).expect("plan");
    assert_eq!(ends(&plan), vec![2, 4]);
    assert_eq!(plan.values, vec![tickets[0].value + tickets[1].value, tickets[2].value + tickets[3].value]);
    // One batch over both runs is refused, whatever the sides.
    assert_eq!(queue_locked(&tickets, wei(rate), &[4]), Err(FinalizationError::MixedBatch { index: 0 }));
    assert_eq!(
        queue_locked(&tickets, wei(rate), &[1, 3, 4]),
        Err(FinalizationError::MixedBatch { index: 1 })
    );
}

#[test]
fn tickets_above_the_rate_take_their_shares_at_it_rounded_once_per_batch() {
    // Bunker mode: the finalization rate is below the rate the last tickets were requested at.
    let rate = R0 - 1_000_000;
    let tickets =
        queue(1, 0, &[(7 * TOKEN, R0 - 2_000_000), (TOKEN + 1, R0), (TOKEN + 2, R0), (TOKEN + 3, R0 + 5)]);
    let plan = plan_batches(&tickets, wei(rate), U256::MAX, MAX_BATCHES).expect("plan");
    assert_eq!(ends(&plan), vec![1, 4], "the cut where the side changes");
    let above = wei(3 * TOKEN + 6) * wei(rate) / RAY;
    assert_eq!(plan.values, vec![tickets[0].value, above]);
    assert_eq!(above, wei(3 * ETHER - 3), "3e21 + 6 shares at 1e24 - 1e6: 3e18 - 2.994 wei");
    assert_eq!(tickets[1].value + tickets[2].value + tickets[3].value, wei(3 * ETHER));
    assert_eq!(plan.locked, tickets[0].value + above);
    // A batch with its ends on the two sides is refused.
    assert_eq!(queue_locked(&tickets, wei(rate), &[2, 4]), Err(FinalizationError::MixedBatch { index: 0 }));
}

#[test]
fn the_budget_cuts_inside_a_batch_and_a_ticket_that_does_not_fit_alone_ends_the_plan() {
    let rate = R0;
    let tickets = queue(8, 3, &[(1_000, R0), (2_000, R0), (4_000, R0), (1, R0)]);
    // Values 1, 2, 4, 0 wei: a budget of 3 takes the first two.
    let plan = plan_batches(&tickets, wei(rate), wei(3), MAX_BATCHES).expect("plan");
    assert_eq!((ends(&plan), plan.locked, plan.shares), (vec![9], wei(3), wei(3_000)));
    // A budget of 6 stops before the third (it would lock 7), even though the fourth is free.
    let plan = plan_batches(&tickets, wei(rate), wei(6), MAX_BATCHES).expect("plan");
    assert_eq!((ends(&plan), plan.locked), (vec![9], wei(3)));
    // Exactly enough takes them all.
    let plan = plan_batches(&tickets, wei(rate), wei(7), MAX_BATCHES).expect("plan");
    assert_eq!((ends(&plan), plan.locked), (vec![11], wei(7)));
    // The first alone does not fit: nothing to finalize.
    let plan = plan_batches(&tickets, wei(rate), U256::ZERO, MAX_BATCHES).expect("plan");
    assert_eq!(plan, Plan::default());
}

#[test]
fn the_budget_is_checked_on_the_batch_value_not_on_per_ticket_values() {
    // Above the rate, each ticket's shares at the rate are worth 0.6 wei: 0 wei each, but the
    // batch rounds once, so three tickets lock 1 wei and five lock 3.
    let rate = R0 / 2; // half a wei per 1,000 shares
    let tickets = queue(1, 0, &[(1_200, R0); 5]);
    let per_ticket: U256 = tickets.iter().map(|t| t.shares * wei(rate) / RAY).fold(U256::ZERO, |a, v| a + v);
    assert_eq!(per_ticket, U256::ZERO, "a planner adding tickets would think all five free");
    let plan = plan_batches(&tickets, wei(rate), U256::ZERO, MAX_BATCHES).expect("plan");
    assert_eq!((ends(&plan), plan.locked), (vec![1], U256::ZERO), "two tickets would lock 1 wei");
    let plan = plan_batches(&tickets, wei(rate), wei(2), MAX_BATCHES).expect("plan");
    assert_eq!((ends(&plan), plan.locked), (vec![4], wei(2)), "4 x 0.6 = 2.4: five would lock 3");
    assert_eq!(queue_locked(&tickets, wei(rate), &[5]), Ok(wei(3)));
}

#[test]
fn at_most_max_batches_and_the_plan_stops_where_another_cut_is_needed() {
    // Each ticket its own run and side: below, above, below (a fall), above, ...
    let rate = R0;
    let requests: Vec<(u128, u128)> =
        (0..20u128).map(|i| (ETHER, if i % 2 == 0 { R0 - 100 + i } else { R0 + 1 + i })).collect();
    let tickets = queue(1, 0, &requests);
    let plan = plan_batches(&tickets, wei(rate), U256::MAX, MAX_BATCHES).expect("plan");
    assert_eq!(ends(&plan), (1..=16).collect::<Vec<u64>>());
    assert!(plan.batches.iter().all(|b| b.shareRate == wei(rate)));
    let plan = plan_batches(&tickets, wei(rate), U256::MAX, 1).expect("plan");
    assert_eq!(ends(&plan), vec![1]);
    // Without a cut, the cap does not stop the plan.
    let one_run = queue(1, 0, &[(ETHER, R0); 20]);
    assert_eq!(ends(&plan_batches(&one_run, wei(rate), U256::MAX, 1).expect("plan")), vec![20]);
}

#[test]
fn bad_input_is_an_error_never_a_panic() {
    let tickets = queue(5, 0, &[(TOKEN, R0), (TOKEN, R0)]);
    let rate = wei(R0);
    assert_eq!(plan_batches(&tickets, rate, U256::MAX, 0), Err(FinalizationError::ZeroMaxBatches));
    assert_eq!(plan_batches(&[], rate, U256::MAX, 1), Ok(Plan::default()));
    let mut gap = tickets.clone();
    gap[1].id = 7;
    assert_eq!(
        plan_batches(&gap, rate, U256::MAX, 1),
        Err(FinalizationError::NotConsecutive { previous: 5, next: 7 })
    );
    let mut zero = queue(1, 0, &[(ETHER, R0)]);
    zero[0].id = 0;
    assert_eq!(plan_batches(&zero, rate, U256::MAX, 1), Err(FinalizationError::ZeroTicketId));
    let mut run = queue(1, 0, &[(ETHER, R0), (ETHER, R0 - 1)]);
    run[1].run = 0;
    assert_eq!(
        plan_batches(&run, rate, U256::MAX, 1),
        Err(FinalizationError::RunMismatch { id: 2, run: 0, expected: 1 })
    );
    let mut value = tickets.clone();
    value[0].value += wei(1);
    assert_eq!(
        plan_batches(&value, rate, U256::MAX, 1),
        Err(FinalizationError::ValueMismatch { id: 5, value: wei(ETHER + 1), expected: wei(ETHER) })
    );
    // Shares whose sum overflows: an error naming the batch's shares.
    let huge = [
        PendingTicket { id: 1, shares: U256::MAX, ..Default::default() },
        PendingTicket { id: 2, shares: U256::MAX, ..Default::default() },
    ];
    assert!(matches!(plan_batches(&huge, rate, U256::MAX, 1), Err(FinalizationError::Math(_))));
    assert!(matches!(queue_locked(&huge, rate, &[2]), Err(FinalizationError::Math(_))));
}

#[test]
fn the_queue_refuses_what_finalize_refuses() {
    let tickets = queue(3, 0, &[(TOKEN, R0); 4]);
    let rate = wei(R0);
    let invalid = |last_id| Err(FinalizationError::InvalidFinalization { last_id });
    assert_eq!(queue_locked(&tickets, rate, &[]), invalid(0));
    assert_eq!(queue_locked(&tickets, rate, &[2]), invalid(2), "already finalized");
    assert_eq!(queue_locked(&tickets, rate, &[7]), invalid(7), "not requested");
    assert_eq!(queue_locked(&[], rate, &[1]), invalid(1));
    assert_eq!(queue_locked(&tickets, rate, &[5, 4]), Err(FinalizationError::InvalidBatches { index: 1 }));
    assert_eq!(queue_locked(&tickets, rate, &[4, 4, 6]), Err(FinalizationError::InvalidBatches { index: 1 }));
    assert_eq!(queue_locked(&tickets, rate, &[9, 6]), Err(FinalizationError::InvalidBatches { index: 0 }));
    assert_eq!(queue_locked(&tickets, rate, &[3, 4, 5, 6]), Ok(wei(4 * ETHER)));
}

/// Random queues: rates at request within a few wei of the finalization rate (so that sides
/// and runs change often), shares of up to 10^24 (so that rounding matters).
fn arb_case() -> impl Strategy<Value = (Vec<PendingTicket>, U256, U256, usize)> {
    (
        proptest::collection::vec((1u128..1_000_000_000_000_000_000_000_000, 0u128..8), 0..40),
        0u128..8,
        0u128..4_000_000_000_000_000_000_000,
        1usize..20,
        1u64..1_000,
    )
        .prop_map(|(requests, rate_step, budget, max_batches, first)| {
            let requests: Vec<(u128, u128)> =
                requests.into_iter().map(|(shares, step)| (shares, R0 - 4 + step)).collect();
            (queue(first, 0, &requests), wei(R0 - 4 + rate_step), wei(budget), max_batches)
        })
}

fn homogeneous(batch: &[PendingTicket], rate: U256) -> bool {
    batch
        .iter()
        .all(|t| t.run == batch[0].run && (t.rate_at_request <= rate) == (batch[0].rate_at_request <= rate))
}

fn priced(batch: &[PendingTicket], rate: U256) -> U256 {
    let shares = batch.iter().fold(U256::ZERO, |a, t| a + t.shares);
    let assets = batch.iter().fold(U256::ZERO, |a, t| a + t.value);
    assets.min(shares * rate / RAY)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Within the budget and the cap, each batch one run and one side, cut only where a rule
    /// requires, priced as the queue prices it, and maximal: the next ticket breaks a rule.
    #[test]
    fn plans_are_valid_priced_as_the_queue_and_maximal(case in arb_case()) {
        let (tickets, rate, budget, max_batches) = case;
        let plan = plan_batches(&tickets, rate, budget, max_batches).expect("plan");
        prop_assert!(plan.locked <= budget);
        prop_assert!(plan.batches.len() <= max_batches);
        prop_assert_eq!(plan.values.len(), plan.batches.len());
        prop_assert_eq!(plan.locked, plan.values.iter().fold(U256::ZERO, |a, v| a + v));
        // Batches in order from the first pending ticket, each homogeneous and priced.
        let (mut from, mut last_from) = (0usize, 0usize);
        let mut shares = U256::ZERO;
        for (batch, value) in plan.batches.iter().zip(&plan.values) {
            prop_assert_eq!(batch.shareRate, rate);
            let to = tickets.iter().position(|t| U256::from(t.id) == batch.lastTicketId).expect("a ticket");
            prop_assert!(to >= from);
            let members = &tickets[from..=to];
            prop_assert!(homogeneous(members, rate));
            prop_assert_eq!(*value, priced(members, rate));
            shares += members.iter().fold(U256::ZERO, |a, t| a + t.shares);
            if from > 0 {
                // A cut only where the run or the side changes.
                prop_assert!(!homogeneous(&tickets[from - 1..=from], rate));
            }
            last_from = from;
            from = to + 1;
        }
        prop_assert_eq!(plan.shares, shares);
        if !plan.batches.is_empty() {
            prop_assert_eq!(queue_locked(&tickets, rate, &plan.ends()), Ok(plan.locked));
        }
        // Maximal: the next ticket needs a cut the cap forbids, or does not fit the budget.
        if let Some(next) = tickets.get(from) {
            match plan.values.last() {
                Some(last_value) if homogeneous(&tickets[last_from..=from], rate) => {
                    let grown = plan.locked - *last_value + priced(&tickets[last_from..=from], rate);
                    prop_assert!(grown > budget, "ticket {} would fit its batch", next.id);
                }
                _ => {
                    let alone = plan.locked + priced(std::slice::from_ref(next), rate);
                    prop_assert!(
                        plan.batches.len() == max_batches || alone > budget,
                        "ticket {} would fit a new batch", next.id
                    );
                }
            }
        }
    }

    /// The queue's check refuses a batch with its ends in two runs or on two sides, and agrees
    /// with the batches' prices otherwise.
    #[test]
    fn the_queue_check_refuses_exactly_the_mixed_batches(case in arb_case(), cut in 1usize..40) {
        let (tickets, rate, _, _) = case;
        prop_assume!(!tickets.is_empty());
        let cut = cut.min(tickets.len()) - 1;
        let ends = [tickets[cut].id, tickets[tickets.len() - 1].id];
        let ends = if cut + 1 == tickets.len() { &ends[..1] } else { &ends[..] };
        let head = &tickets[..=cut];
        let tail = &tickets[cut + 1..];
        let ends_agree = |batch: &[PendingTicket]| {
            batch.is_empty() || homogeneous(&[batch[0], batch[batch.len() - 1]], rate)
        };
        let result = queue_locked(&tickets, rate, ends);
        if !ends_agree(head) {
            prop_assert_eq!(result, Err(FinalizationError::MixedBatch { index: 0 }));
        } else if !ends_agree(tail) {
            prop_assert_eq!(result, Err(FinalizationError::MixedBatch { index: 1 }));
        } else {
            // Ends that agree mean every ticket agrees (rates never fall within a run).
            prop_assert!(homogeneous(head, rate) && (tail.is_empty() || homogeneous(tail, rate)));
            let tail_value = if tail.is_empty() { U256::ZERO } else { priced(tail, rate) };
            prop_assert_eq!(result, Ok(priced(head, rate) + tail_value));
        }
    }
}
