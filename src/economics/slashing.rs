//! The split of a slash: `amount = fraction * stake at the infraction epoch / 10_000` (rounded
//! down), taken from the operator bond first (the first-loss tranche), then from the pool,
//! the unbonding buckets and the redelegation tranches together, pro rata to what each still
//! holds. Each pro-rata part rounds down; the wei left by rounding are taken one each from the
//! pool, then the buckets, then the tranches together, in order, from those with room. The
//! tranches' part is spread over them in order by cumulative value (`part * C_i / H - part *
//! C_(i-1) / H`, each rounded down, `C_i` the values through tranche i and `H` their total), so
//! the registry can take it in bounded calls and the shares still sum to the part. What the
//! holdings cannot cover is reported as a shortfall, never taken from anyone else.

use alloy::primitives::U256;

use super::{EconomicsError, math};

/// What was at stake at the infraction epoch and is still held now.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SlashableHoldings {
    /// The operator bond now.
    pub bond: U256,
    /// The delegation pool's tokens now.
    pub pool: U256,
    /// Unbonding buckets of the sequencer that were at stake at the infraction epoch.
    pub buckets: Vec<U256>,
    /// Redelegation tranches out of the sequencer made after the infraction epoch.
    pub tranches: Vec<U256>,
}

/// Where a slash is taken from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlashSplit {
    /// `fraction * stake at the infraction / 10_000`.
    pub amount: U256,
    /// From the bond.
    pub from_bond: U256,
    /// From the pool (lowers its tokens per share).
    pub from_pool: U256,
    /// From each bucket, in input order.
    pub from_buckets: Vec<U256>,
    /// From each tranche, in input order.
    pub from_tranches: Vec<U256>,
    /// What the holdings could not cover.
    pub shortfall: U256,
}

/// Splits a slash of `fraction_bps` of `stake_at_infraction` over `holdings`.
pub fn slash_split(
    fraction_bps: u16,
    stake_at_infraction: U256,
    holdings: &SlashableHoldings,
) -> Result<SlashSplit, EconomicsError> {
    if fraction_bps == 0 || fraction_bps > 10_000 {
        return Err(EconomicsError::InvalidInput {
            what: "slash fraction".to_owned(),
            problem: format!("{fraction_bps} bps is outside 1..=10000"),
        });
    }
    let amount = math::apply_bps(stake_at_infraction, fraction_bps, "stake at infraction")?;
    let from_bond = amount.min(holdings.bond);
    let rest = amount - from_bond;

    // Pool first, then buckets, then the tranches together: the order of the rounding wei.
    let tranches_held = math::sum(holdings.tranches.iter().copied(), "tranches")?;
    let held: Vec<U256> = std::iter::once(holdings.pool)
        .chain(holdings.buckets.iter().copied())
        .chain(std::iter::once(tranches_held))
        .collect();
    let others = math::sum(held.iter().copied(), "pool, buckets and tranches")?;
    let (taken, shortfall) = if rest >= others {
        (held.clone(), rest - others)
    } else {
        let mut taken =
            held.iter().map(|h| math::mul_div(rest, *h, others, "slash")).collect::<Result<Vec<_>, _>>()?;
        let mut left = rest - math::sum(taken.iter().copied(), "slash parts")?;
        for (take, hold) in taken.iter_mut().zip(&held) {
            if left.is_zero() {
                break;
            }
            if *take < *hold {
                *take += U256::from(1u64);
                left -= U256::from(1u64);
            }
        }
        debug_assert!(left.is_zero(), "fewer rounding wei than holders with room");
        (taken, U256::ZERO)
    };
    let buckets = holdings.buckets.len();
    Ok(SlashSplit {
        amount,
        from_bond,
        from_pool: taken[0],
        from_buckets: taken[1..=buckets].to_vec(),
        from_tranches: tranche_shares(&holdings.tranches, taken[1 + buckets], tranches_held)?,
        shortfall,
    })
}

/// Spreads the tranches' part `take` (at most `held`, their total value) over them in order by
/// cumulative value, as the registry's `RewardMath.trancheShare` does one tranche at a time.
fn tranche_shares(values: &[U256], take: U256, held: U256) -> Result<Vec<U256>, EconomicsError> {
    if held.is_zero() {
        return Ok(vec![U256::ZERO; values.len()]);
    }
    let mut visited = U256::ZERO;
    let mut before = U256::ZERO;
    values
        .iter()
        .map(|value| {
            visited = (visited + *value).min(held);
            let through = math::mul_div(take, visited, held, "tranche share")?;
            let share = (through - before).min(*value);
            before = through;
            Ok(share)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn wei(n: u64) -> U256 {
        U256::from(n)
    }

    #[test]
    fn bond_takes_the_first_loss() {
        let holdings = SlashableHoldings { bond: wei(100), pool: wei(900), ..Default::default() };
        let split = slash_split(500, wei(1_000), &holdings).expect("split");
        assert_eq!((split.amount, split.from_bond, split.from_pool), (wei(50), wei(50), U256::ZERO));
    }

    #[test]
    fn beyond_the_bond_pool_buckets_and_tranches_share_pro_rata() {
        let holdings = SlashableHoldings {
            bond: wei(10),
            pool: wei(500),
            buckets: vec![wei(300), wei(100)],
            tranches: vec![wei(100)],
        };
        // 10% of 2_000 = 200: 10 from the bond, 190 over 1_000 held: 95, 57, 19, 19.
        let split = slash_split(1_000, wei(2_000), &holdings).expect("split");
        assert_eq!(split.from_bond, wei(10));
        assert_eq!(split.from_pool, wei(95));
        assert_eq!(split.from_buckets, [wei(57), wei(19)]);
        assert_eq!(split.from_tranches, [wei(19)]);
        assert_eq!(split.shortfall, U256::ZERO);
    }

    #[test]
    fn rounding_wei_go_to_pool_then_buckets_with_room() {
        // 2 over three holders of 1 (pool empty): floors are 0; the pool has no room, so the
        // two wei come from the first two buckets.
        let holdings = SlashableHoldings {
            bond: U256::ZERO,
            pool: U256::ZERO,
            buckets: vec![wei(1), wei(1), wei(1)],
            tranches: vec![],
        };
        let split = slash_split(10_000, wei(2), &holdings).expect("split");
        assert_eq!(
            (split.from_pool, split.from_buckets.clone()),
            (U256::ZERO, vec![wei(1), wei(1), U256::ZERO])
        );
    }

    #[test]
    fn tranches_share_their_part_by_cumulative_value() {
        // 100% of 4 over three tranches of 1, 1, 1: all 3 held are taken (shortfall 1)...
        let holdings = SlashableHoldings { tranches: vec![wei(1), wei(1), wei(1)], ..Default::default() };
        let split = slash_split(10_000, wei(4), &holdings).expect("split");
        assert_eq!((split.from_tranches.clone(), split.shortfall), (vec![wei(1), wei(1), wei(1)], wei(1)));
        // ...and 2 of them by cumulative floors: 2*1/3 = 0, 2*2/3 - 0 = 1, 2 - 1 = 1 (a floor
        // per tranche with the rounding wei in order would give 1, 1, 0).
        let split = slash_split(10_000, wei(2), &holdings).expect("split");
        assert_eq!(split.from_tranches, [U256::ZERO, wei(1), wei(1)]);
    }

    #[test]
    fn holdings_that_left_leave_a_shortfall() {
        let holdings = SlashableHoldings { bond: wei(5), pool: wei(5), ..Default::default() };
        let split = slash_split(10_000, wei(100), &holdings).expect("split");
        assert_eq!((split.from_bond, split.from_pool, split.shortfall), (wei(5), wei(5), wei(90)));
        assert!(slash_split(0, wei(1), &holdings).is_err());
        assert!(slash_split(10_001, wei(1), &holdings).is_err());
    }

    proptest! {
        /// The split always sums to the amount (less any shortfall) and never takes more than
        /// a holder holds.
        #[test]
        fn split_is_exact_and_bounded(
            fraction in 1u16..=10_000,
            stake in 0u64..1_000_000_000,
            bond in 0u64..1_000_000,
            pool in 0u64..1_000_000_000,
            buckets in proptest::collection::vec(0u64..1_000_000, 0..6),
            tranches in proptest::collection::vec(0u64..1_000_000, 0..6),
        ) {
            let holdings = SlashableHoldings {
                bond: wei(bond),
                pool: wei(pool),
                buckets: buckets.iter().map(|b| wei(*b)).collect(),
                tranches: tranches.iter().map(|t| wei(*t)).collect(),
            };
            let split = slash_split(fraction, wei(stake), &holdings).expect("split");
            let parts = split.from_bond + split.from_pool
                + split.from_buckets.iter().fold(U256::ZERO, |a, b| a + b)
                + split.from_tranches.iter().fold(U256::ZERO, |a, b| a + b);
            prop_assert_eq!(parts + split.shortfall, split.amount);
            prop_assert!(split.from_bond <= holdings.bond && split.from_pool <= holdings.pool);
            for (taken, held) in split.from_buckets.iter().zip(&holdings.buckets) {
                prop_assert!(taken <= held);
            }
            for (taken, held) in split.from_tranches.iter().zip(&holdings.tranches) {
                prop_assert!(taken <= held);
            }
        }
    }
}
