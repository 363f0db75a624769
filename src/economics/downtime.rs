//! The downtime rule the report contract applies when it executes a report: a sequencer is
//! jailed when, summed over the report's epochs, it missed more than `max_missed_bps` of the
//! blocks it was expected to produce (the blocks it produced plus those it missed). The reporter
//! uses it to leave the sequencers the report will jail out of the next active set; the
//! `downtime` shared vector pins it for both sides.

use std::collections::BTreeMap;

use super::report::EpochEntry;

/// The ids the report contract jails for downtime when it executes `epochs`, increasing.
pub fn jailed_for_downtime(epochs: &[EpochEntry], max_missed_bps: u16) -> Vec<u32> {
    let mut totals: BTreeMap<u32, (u128, u128)> = BTreeMap::new();
    for sequencer in epochs.iter().flat_map(|e| &e.sequencers) {
        let (blocks, missed) = totals.entry(sequencer.id).or_default();
        *blocks += u128::from(sequencer.blocks);
        *missed += u128::from(sequencer.missedBlocks);
    }
    totals
        .into_iter()
        .filter(|&(_, (blocks, missed))| {
            missed > 0 && missed * 10_000 > (blocks + missed) * u128::from(max_missed_bps)
        })
        .map(|(id, _)| id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::economics::report::SequencerReward;

    fn epoch(sequencers: &[(u32, u64, u64)]) -> EpochEntry {
        EpochEntry {
            sequencers: sequencers
                .iter()
                .map(|&(id, blocks, missed)| SequencerReward {
                    id,
                    blocks,
                    missedBlocks: missed,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn jails_past_the_threshold_summed_over_the_report() {
        // 1: 3 of 6 missed (50%, not above); 2: 3 of 5 (60%); 3: never missed; 4: down in one
        // epoch of two, 4 of 8 overall (50%).
        let epochs =
            [epoch(&[(1, 3, 2), (2, 1, 1), (3, 9, 0), (4, 0, 4)]), epoch(&[(1, 0, 1), (2, 1, 2), (4, 4, 0)])];
        assert_eq!(jailed_for_downtime(&epochs, 5_000), vec![2]);
        assert_eq!(jailed_for_downtime(&epochs, 4_999), vec![1, 2, 4]);
        assert_eq!(jailed_for_downtime(&epochs, 10_000), Vec::<u32>::new(), "never above everything");
        assert_eq!(jailed_for_downtime(&epochs, 0), vec![1, 2, 4], "any miss at zero tolerance");
        assert_eq!(
            jailed_for_downtime(&epochs[..1], 5_000),
            vec![4],
            "one epoch alone jails 4 (2 missed half)"
        );
    }
}
