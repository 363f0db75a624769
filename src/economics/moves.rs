//! The stake moves the report contract makes to bring the liquid pool to a report's allocation
//! targets, so the reporter knows them (and their number, bounded by
//! `report.max_stake_moves_per_report`) before it votes. The token's stake with a sequencer is
//! its delegation plus the positions redelegated into it (only the delegation can move away).
//! In id order: each decrease is paired with the increases by redelegation, the increases left
//! are delegated from the buffer, the decreases left are undelegated. The `stake_moves` shared
//! vector pins it for both sides.

use alloy::primitives::U256;

use super::{EconomicsError, report::AllocationTarget};

/// The token's stake with one sequencer now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStake {
    /// The sequencer.
    pub id: u32,
    /// Its ordinary delegation's value.
    pub delegated: U256,
    /// The booked value of its unreleased positions redelegated into this sequencer.
    pub redelegated_in: U256,
}

/// One move, in the order the contract makes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StakeMove {
    /// `redelegateStake(from, to, amount)`.
    Redelegate {
        /// Source.
        from: u32,
        /// Destination.
        to: u32,
        /// About this much (whole shares, rounded up).
        amount: U256,
    },
    /// Part of the one `delegateBuffer` call.
    Delegate {
        /// The sequencer.
        to: u32,
        /// Wei from the buffer.
        amount: U256,
    },
    /// `undelegateStake(from, amount)`.
    Undelegate {
        /// The sequencer.
        from: u32,
        /// About this much.
        amount: U256,
    },
}

/// The moves for `targets` (ids strictly increasing) from the stakes in `pools` (a sequencer
/// missing there holds nothing).
pub fn stake_moves(
    pools: &[PoolStake],
    targets: &[AllocationTarget],
) -> Result<Vec<StakeMove>, EconomicsError> {
    if let Some(pair) = targets.windows(2).find(|pair| pair[0].sequencerId >= pair[1].sequencerId) {
        return Err(EconomicsError::InvalidInput {
            what: "allocation".to_owned(),
            problem: format!(
                "ids must be strictly increasing: {} is followed by {}",
                pair[0].sequencerId, pair[1].sequencerId
            ),
        });
    }
    let mut over = Vec::with_capacity(targets.len());
    let mut under = Vec::with_capacity(targets.len());
    for target in targets {
        let stake = pools.iter().find(|p| p.id == target.sequencerId);
        let delegated = stake.map_or(U256::ZERO, |p| p.delegated);
        let current = delegated.saturating_add(stake.map_or(U256::ZERO, |p| p.redelegated_in));
        if target.target > current {
            over.push(U256::ZERO);
            under.push(target.target - current);
        } else {
            over.push((current - target.target).min(delegated));
            under.push(U256::ZERO);
        }
    }
    let id = |i: usize| targets[i].sequencerId;
    let mut moves = Vec::new();
    let (mut a, mut b) = (0, 0);
    while a < targets.len() && b < targets.len() {
        if over[a].is_zero() {
            a += 1;
        } else if under[b].is_zero() {
            b += 1;
        } else {
            let amount = over[a].min(under[b]);
            moves.push(StakeMove::Redelegate { from: id(a), to: id(b), amount });
            over[a] -= amount;
            under[b] -= amount;
        }
    }
    moves.extend(
        under
            .iter()
            .enumerate()
            .filter(|(_, u)| !u.is_zero())
            .map(|(i, &amount)| StakeMove::Delegate { to: id(i), amount }),
    );
    moves.extend(
        over.iter()
            .enumerate()
            .filter(|(_, o)| !o.is_zero())
            .map(|(i, &amount)| StakeMove::Undelegate { from: id(i), amount }),
    );
    Ok(moves)
}

/// `targets` brought within `max_moves` moves of which at most `max_redelegations` are
/// redelegations (each opens a position; the token holds at most 32 unreleased and lists at
/// most 64): while `stake_moves` would make more, the target whose change is smallest (ties to
/// the higher id) is set back to the stake it would change, so the largest changes are kept and
/// a sequencer set back keeps what it holds. Terminates: every round sets back one more target,
/// and targets that change nothing make no move.
pub fn fit_moves(
    pools: &[PoolStake],
    targets: &[AllocationTarget],
    max_moves: usize,
    max_redelegations: usize,
) -> Result<Vec<AllocationTarget>, EconomicsError> {
    let current = |id: u32| {
        pools.iter().find(|p| p.id == id).map_or(U256::ZERO, |p| p.delegated.saturating_add(p.redelegated_in))
    };
    let mut fitted = targets.to_vec();
    let too_many = |moves: &[StakeMove]| {
        moves.len() > max_moves
            || moves.iter().filter(|m| matches!(m, StakeMove::Redelegate { .. })).count() > max_redelegations
    };
    while too_many(&stake_moves(pools, &fitted)?) {
        let smallest = fitted
            .iter()
            .enumerate()
            .filter(|(_, t)| t.target != current(t.sequencerId))
            .min_by_key(|(_, t)| {
                let now = current(t.sequencerId);
                (
                    if t.target > now { t.target - now } else { now - t.target },
                    std::cmp::Reverse(t.sequencerId),
                )
            })
            .map(|(i, _)| i);
        let Some(i) = smallest else { break };
        fitted[i].target = current(fitted[i].sequencerId);
    }
    Ok(fitted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(id: u32, delegated: u64, redelegated_in: u64) -> PoolStake {
        PoolStake { id, delegated: U256::from(delegated), redelegated_in: U256::from(redelegated_in) }
    }

    fn target(id: u32, target: u64) -> AllocationTarget {
        AllocationTarget { sequencerId: id, target: U256::from(target) }
    }

    #[test]
    fn pairs_decreases_with_increases_then_delegates_then_undelegates() {
        let pools = [pool(1, 10, 0), pool(2, 4, 0), pool(3, 6, 0), pool(4, 0, 0)];
        let moves =
            stake_moves(&pools, &[target(1, 5), target(2, 6), target(3, 2), target(4, 3), target(5, 4)]);
        let r = |from, to, amount: u64| StakeMove::Redelegate { from, to, amount: U256::from(amount) };
        assert_eq!(
            moves,
            Ok(vec![r(1, 2, 2), r(1, 4, 3), r(3, 5, 4),]),
            "5 out of 1 and 4 out of 3 cover the 9 wanted by 2, 4 and 5"
        );
        let moves = stake_moves(&pools, &[target(1, 12), target(3, 1)]).expect("moves");
        assert_eq!(
            moves,
            vec![r(3, 1, 2), StakeMove::Undelegate { from: 3, amount: U256::from(3u64) }],
            "what the increases do not take is undelegated"
        );
        let moves = stake_moves(&pools, &[target(2, 9), target(4, 1)]).expect("moves");
        assert_eq!(
            moves,
            vec![
                StakeMove::Delegate { to: 2, amount: U256::from(5u64) },
                StakeMove::Delegate { to: 4, amount: U256::from(1u64) }
            ],
            "increases with no decrease come from the buffer"
        );
    }

    #[test]
    fn positions_count_as_stake_but_only_the_delegation_moves() {
        // Pool 1 holds 3 delegated and 5 redelegated in: a target of 8 moves nothing, a target
        // of 0 can take only the 3 delegated.
        let pools = [pool(1, 3, 5)];
        assert_eq!(stake_moves(&pools, &[target(1, 8)]), Ok(vec![]));
        assert_eq!(
            stake_moves(&pools, &[target(1, 0)]),
            Ok(vec![StakeMove::Undelegate { from: 1, amount: U256::from(3u64) }])
        );
    }

    #[test]
    fn too_many_moves_set_back_the_smallest_changes_first() {
        // Five changes: +1 on 1, +7 on 2, +3 on 3, +2 on 4, -4 on 5 (undelegating 4 of 5's 9).
        let pools = [pool(1, 10, 0), pool(2, 10, 0), pool(3, 10, 0), pool(4, 10, 0), pool(5, 9, 0)];
        let targets = [target(1, 11), target(2, 17), target(3, 13), target(4, 12), target(5, 5)];
        assert_eq!(stake_moves(&pools, &targets).expect("moves").len(), 5);
        assert_eq!(fit_moves(&pools, &targets, 5, 5), Ok(targets.to_vec()), "within the limit: unchanged");
        let fitted = fit_moves(&pools, &targets, 3, 5).expect("fitted");
        assert_eq!(
            fitted,
            [target(1, 10), target(2, 17), target(3, 13), target(4, 10), target(5, 5)],
            "the +1 and the +2 set back, the largest kept"
        );
        assert!(stake_moves(&pools, &fitted).expect("moves").len() <= 3);
        let none = fit_moves(&pools, &targets, 0, 5).expect("fitted");
        assert_eq!(stake_moves(&pools, &none), Ok(vec![]), "no move allowed: every target set back");
        // No room for a position: the one redelegation (5 into 2) stays while smaller changes
        // go first (1's +1, 4's +2, 3's +3), until 5's -4 itself is set back; 2's +7 then
        // comes from the buffer.
        let fitted = fit_moves(&pools, &targets, 5, 0).expect("fitted");
        let moves = stake_moves(&pools, &fitted).expect("moves");
        assert!(moves.iter().all(|m| !matches!(m, StakeMove::Redelegate { .. })), "{moves:?}");
        assert_eq!(fitted, [target(1, 10), target(2, 17), target(3, 10), target(4, 10), target(5, 9)]);
    }

    #[test]
    fn refuses_ids_out_of_order() {
        assert!(stake_moves(&[], &[target(2, 1), target(1, 1)]).is_err());
        assert!(stake_moves(&[], &[target(2, 1), target(2, 1)]).is_err());
    }
}
