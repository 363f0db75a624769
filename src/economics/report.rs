//! The epoch report, as `contracts/src/interfaces/ReportTypes.sol` defines it (read here with
//! `sol!`, so both sides share one definition), built from settlements, and its hash:
//! `keccak256(abi.encode(DOMAIN_TAG, chain_id, report_contract, report))`.

use alloy::{
    primitives::{Address, B256, U256, keccak256},
    sol_types::SolValue,
};

use super::{EconomicsError, settlement::Settlement};

/// Types generated from `ReportTypes.sol`.
mod types {
    #![allow(missing_docs, missing_debug_implementations, unreachable_pub, clippy::pedantic)]
    alloy::sol!(
        #[sol(all_derives)]
        "contracts/src/interfaces/ReportTypes.sol"
    );
}

pub use types::ReportTypes::{
    AllocationTarget, ChainRevenue, EpochEntry, FinalizationBatch, Header, LiquidActions, Report,
    SequencerReward,
};

/// `keccak256("seqstake.report.v1")`, the same value as `ReportTypes.DOMAIN_TAG`.
pub const DOMAIN_TAG: B256 =
    alloy::primitives::b256!("d8d78100a0882996299667e26e0e10c9665a4896fef253db8851cb564ed8ad26");

/// What an epoch's report needs beyond its settlement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpochAttestations {
    /// Evidence hash of each chain's cost, in the settlement's chain order.
    pub evidence: Vec<B256>,
    /// Missed blocks of each sequencer, in the settlement's sequencer order.
    pub missed_blocks: Vec<u64>,
    /// Total supply attested for the emission schedule (zero when unused).
    pub total_supply: U256,
}

/// One epoch's entry from its settlement and attestations.
pub fn epoch_entry(
    settlement: &Settlement,
    attested: &EpochAttestations,
) -> Result<EpochEntry, EconomicsError> {
    let mismatch = |what: &str, got: usize, want: usize| EconomicsError::InvalidInput {
        what: format!("epoch {} {what}", settlement.epoch),
        problem: format!("{got} given for {want}"),
    };
    if attested.evidence.len() != settlement.chains.len() {
        return Err(mismatch("evidence hashes", attested.evidence.len(), settlement.chains.len()));
    }
    if attested.missed_blocks.len() != settlement.sequencers.len() {
        return Err(mismatch("missed blocks", attested.missed_blocks.len(), settlement.sequencers.len()));
    }
    let chains = settlement
        .chains
        .iter()
        .zip(&attested.evidence)
        .map(|(chain, evidence)| {
            let (partner, a_bps, b_bps) =
                chain.terms.map_or((Address::ZERO, 0, 0), |t| (t.partner, t.a_bps, t.b_bps));
            ChainRevenue {
                chainId: chain.chain_id,
                gross: chain.gross,
                cost: chain.cost,
                mev: chain.mev,
                evidenceHash: *evidence,
                partner,
                aBps: a_bps,
                bBps: b_bps,
                share: chain.share,
            }
        })
        .collect();
    let sequencers = settlement
        .sequencers
        .iter()
        .zip(&attested.missed_blocks)
        .map(|(s, missed)| SequencerReward {
            id: s.id,
            // The blocks the rewards were weighted by, so the report reproduces its own rewards.
            blocks: s.blocks,
            missedBlocks: *missed,
            reward: s.reward,
            accAfter: s.acc_after,
            jailed: s.jailed,
        })
        .collect();
    Ok(EpochEntry {
        epoch: settlement.epoch,
        chains,
        protocolFee: settlement.protocol_fee,
        emission: settlement.emission,
        totalSupply: attested.total_supply,
        sequencers,
        dustIn: settlement.dust_in,
        dustOut: settlement.dust_out,
    })
}

/// Builds a report over contiguous epochs; refuses an empty or non-contiguous range, one
/// longer than `max_epochs` (the configuration's `report.max_epochs_per_report`) and an active
/// set whose ids are not strictly increasing (empty leaves the registry's set as it is).
pub fn build_report(
    ref_block: u64,
    chain_id: u64,
    epochs: Vec<EpochEntry>,
    active_set: Vec<u32>,
    liquid: LiquidActions,
    max_epochs: u32,
) -> Result<Report, EconomicsError> {
    if let Some(&[before, after]) = active_set.windows(2).find(|pair| pair[0] >= pair[1]) {
        return Err(EconomicsError::InvalidInput {
            what: "report active set".to_owned(),
            problem: format!("ids must be strictly increasing: {before} is followed by {after}"),
        });
    }
    if epochs.len() > max_epochs as usize {
        return Err(EconomicsError::InvalidInput {
            what: "report".to_owned(),
            problem: format!("covers {} epochs; at most {max_epochs} are allowed", epochs.len()),
        });
    }
    let (Some(first), Some(last)) = (epochs.first(), epochs.last()) else {
        return Err(EconomicsError::InvalidInput {
            what: "report".to_owned(),
            problem: "covers no epoch".to_owned(),
        });
    };
    let (first_epoch, last_epoch) = (first.epoch, last.epoch);
    for pair in epochs.windows(2) {
        if pair[0].epoch.checked_add(1) != Some(pair[1].epoch) {
            return Err(EconomicsError::InvalidInput {
                what: format!("report epoch {}", pair[1].epoch),
                problem: format!("epochs must be contiguous: it follows epoch {}", pair[0].epoch),
            });
        }
    }
    Ok(Report {
        header: Header {
            firstEpoch: first_epoch,
            lastEpoch: last_epoch,
            refBlock: ref_block,
            chainId: chain_id,
        },
        epochs,
        activeSet: active_set,
        liquid,
    })
}

/// The hash members vote: `keccak256(abi.encode(DOMAIN_TAG, chain_id, report_contract, report))`.
pub fn report_hash(report: &Report, chain_id: u64, report_contract: Address) -> B256 {
    keccak256((DOMAIN_TAG, U256::from(chain_id), report_contract, report.clone()).abi_encode_params())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_tag_is_the_hash_of_its_name() {
        assert_eq!(DOMAIN_TAG, keccak256("seqstake.report.v1"));
    }

    fn entry(epoch: u64) -> EpochEntry {
        EpochEntry { epoch, ..Default::default() }
    }

    #[test]
    fn reports_cover_contiguous_epochs() {
        let report = build_report(77, 1, vec![entry(5), entry(6)], vec![1, 4], LiquidActions::default(), 8)
            .expect("report");
        assert_eq!((report.header.firstEpoch, report.header.lastEpoch, report.header.refBlock), (5, 6, 77));
        assert_eq!(report.activeSet, vec![1, 4]);
        assert!(build_report(77, 1, vec![entry(5)], vec![4, 4], LiquidActions::default(), 8).is_err());
        assert!(build_report(77, 1, vec![entry(5)], vec![4, 1], LiquidActions::default(), 8).is_err());
        assert!(build_report(77, 1, vec![entry(5), entry(7)], vec![], LiquidActions::default(), 8).is_err());
        assert!(
            build_report(77, 1, vec![entry(u64::MAX), entry(0)], vec![], LiquidActions::default(), 8)
                .is_err()
        );
        assert!(build_report(77, 1, vec![], vec![], LiquidActions::default(), 8).is_err());
        let nine: Vec<EpochEntry> = (1..=9).map(entry).collect();
        assert_eq!(
            build_report(77, 1, nine, vec![], LiquidActions::default(), 8).map(|r| r.epochs.len()),
            Err(EconomicsError::InvalidInput {
                what: "report".to_owned(),
                problem: "covers 9 epochs; at most 8 are allowed".to_owned(),
            })
        );
    }

    #[test]
    fn hash_binds_chain_and_contract() {
        let report =
            build_report(77, 1, vec![entry(5)], vec![], LiquidActions::default(), 8).expect("report");
        let a = report_hash(&report, 1, Address::repeat_byte(1));
        assert_ne!(a, report_hash(&report, 2, Address::repeat_byte(1)));
        assert_ne!(a, report_hash(&report, 1, Address::repeat_byte(2)));
    }
}
