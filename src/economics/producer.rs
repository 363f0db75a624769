//! Who produces a served chain's blocks: the expected producer of served block `n` is
//! `set[n mod len(set)]`, where `set` is the active set in force in the settlement epoch of the
//! block's timestamp (ids increasing, as the registry stores it). Before the first active set
//! is recorded, the set is the top of the eligible candidates by stake, as the registry's
//! `updateActiveSet` ranks them (`top_by_stake`). A sequencer is identified on the served chain
//! by its registered signer at the block's time (the header's `miner`). The devnet, the
//! reporter and `verify` all count blocks and missed turns with `tally`.

use alloy::primitives::U256;

use super::settlement::SequencerId;

/// The sequencer expected to produce served block `block_number`, or `None` with an empty set.
pub fn expected_producer(block_number: u64, set: &[SequencerId]) -> Option<SequencerId> {
    let len = u64::try_from(set.len()).ok().filter(|len| *len > 0)?;
    let index = usize::try_from(block_number % len).ok()?;
    set.get(index).copied()
}

/// A registered sequencer as the active-set rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetCandidate {
    /// The sequencer.
    pub id: SequencerId,
    /// Its live stake: bond plus pool tokens.
    pub stake: U256,
    /// Registered, not jailed, bond at least the minimum.
    pub eligible: bool,
}

/// The active set the registry accepts: the `max_active` eligible candidates with the most
/// stake (ties to the lower id), as increasing ids.
pub fn top_by_stake(candidates: &[SetCandidate], max_active: usize) -> Vec<SequencerId> {
    let mut eligible: Vec<&SetCandidate> = candidates.iter().filter(|c| c.eligible).collect();
    eligible.sort_by(|a, b| b.stake.cmp(&a.stake).then(a.id.cmp(&b.id)));
    let mut set: Vec<SequencerId> = eligible.into_iter().take(max_active).map(|c| c.id).collect();
    set.sort_unstable();
    set
}

/// One sequencer's turns over a run of served blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Turns {
    /// Blocks it produced.
    pub produced: u64,
    /// Its turns that another account (or nobody we know) produced.
    pub missed: u64,
}

/// Counts, for each member of `set`, the blocks it produced and the turns it missed among
/// `blocks` (`(number, producer)`, the producer `None` when the block's miner is no
/// sequencer's signer). A block produced by someone other than the expected producer is a miss
/// for the expected one and counts for nobody. Members come out in the set's order.
pub fn tally(blocks: &[(u64, Option<SequencerId>)], set: &[SequencerId]) -> Vec<(SequencerId, Turns)> {
    let mut turns: Vec<(SequencerId, Turns)> = set.iter().map(|&id| (id, Turns::default())).collect();
    for &(number, producer) in blocks {
        let Some(expected) = expected_producer(number, set) else { continue };
        let Some((_, entry)) = turns.iter_mut().find(|(id, _)| *id == expected) else { continue };
        if producer == Some(expected) {
            entry.produced += 1;
        } else {
            entry.missed += 1;
        }
    }
    turns
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(id: SequencerId, stake: u64, eligible: bool) -> SetCandidate {
        SetCandidate { id, stake: U256::from(stake), eligible }
    }

    #[test]
    fn producers_take_turns_by_block_number() {
        let set = [2, 5, 9];
        let producers: Vec<_> = (0..7).map(|n| expected_producer(n, &set)).collect();
        assert_eq!(producers, [Some(2), Some(5), Some(9), Some(2), Some(5), Some(9), Some(2)]);
        assert_eq!(expected_producer(41, &[]), None);
    }

    #[test]
    fn the_set_is_the_eligible_top_by_stake_ties_to_the_lower_id() {
        let candidates = [
            candidate(1, 50, true),
            candidate(2, 80, false), // jailed: never in the set
            candidate(3, 70, true),
            candidate(4, 50, true),
            candidate(5, 90, true),
        ];
        // 5 (90), 3 (70), then 1 and 4 tie at 50: the lower id wins.
        assert_eq!(top_by_stake(&candidates, 3), [1, 3, 5]);
        assert_eq!(top_by_stake(&candidates, 10), [1, 3, 4, 5]);
        assert!(top_by_stake(&candidates, 0).is_empty());
    }

    #[test]
    fn a_missed_turn_counts_against_the_expected_producer_only() {
        let set = [1, 2];
        // Blocks 10..=13 expect 1, 2, 1, 2; 2 was offline at 11 (1 stood in) and 13 (unknown).
        let blocks = [(10, Some(1)), (11, Some(1)), (12, Some(1)), (13, None)];
        assert_eq!(
            tally(&blocks, &set),
            [(1, Turns { produced: 2, missed: 0 }), (2, Turns { produced: 0, missed: 2 })]
        );
    }
}
