//! `seqstake verify --epoch N`: recomputes an executed epoch from chain data alone and compares
//! it with what the report that covered it said. The report's inputs come from its
//! `ReportInputs` event (the whole report), the chain data from `chain::inputs` (as the
//! reporter reads it, with the dust and accumulators as they stood just before the report's
//! first call), and the accumulators the registry recorded from its `RewardPaid` events, which
//! nothing on chain checks against the report. No database is needed.

use alloy::{
    eips::BlockId,
    primitives::{Address, U256},
    providers::{DynProvider, Provider, ProviderBuilder},
    sol_types::SolValue,
};

use crate::{
    chain::{
        ChainError,
        bindings::{SequencerRegistry, executor::ReportExecutor},
        inputs::{InputSources, gather_range, settle_gathered},
        system::SystemAddresses,
    },
    config::EconomicsConfig,
    economics::{
        report::{EpochEntry, Report},
        settlement::SettlementParams,
    },
};

/// The sources an addresses file (as `seqstake devnet` writes it) names, with optional RPC URLs
/// in place of its own.
pub fn sources_from_addresses(
    text: &str,
    rpc_url: Option<&str>,
    served_rpc_url: Option<&str>,
) -> Result<InputSources, String> {
    let file: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("addresses file: {e}"))?;
    let field = |path: &[&str]| -> Result<&serde_json::Value, String> {
        path.iter()
            .try_fold(&file, |value, key| value.get(*key))
            .ok_or_else(|| format!("addresses file: no {}", path.join(".")))
    };
    let number = |path: &[&str]| {
        field(path)?.as_u64().ok_or_else(|| format!("addresses file: {} is not a number", path.join(".")))
    };
    let text_at = |path: &[&str]| -> Result<String, String> {
        field(path)?
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("addresses file: {} is not text", path.join(".")))
    };
    let address = |path: &[&str]| -> Result<Address, String> {
        text_at(path)?.parse().map_err(|e| format!("addresses file: {}: {e}", path.join(".")))
    };
    let connect = |url: &str| -> Result<DynProvider, String> {
        let url = url.parse().map_err(|e| format!("RPC URL {url}: {e}"))?;
        Ok(ProviderBuilder::new().connect_http(url).erased())
    };
    let settlement =
        connect(&rpc_url.map_or_else(|| text_at(&["settlement", "rpc_url"]), |u| Ok(u.to_owned()))?)?;
    let served_chain = number(&["served", "chain_id"])?;
    let served =
        connect(&served_rpc_url.map_or_else(|| text_at(&["served", "rpc_url"]), |u| Ok(u.to_owned()))?)?;
    let mut vaults = Vec::new();
    for pair in
        field(&["contracts", "vaults"])?.as_array().ok_or("addresses file: contracts.vaults is not a list")?
    {
        let chain_id = pair
            .get(0)
            .and_then(serde_json::Value::as_u64)
            .ok_or("addresses file: a vault without its chain")?;
        let vault: Address = pair
            .get(1)
            .and_then(serde_json::Value::as_str)
            .ok_or("addresses file: a vault without its address")?
            .parse()
            .map_err(|e| format!("addresses file: vault: {e}"))?;
        vaults.push((chain_id, vault));
    }
    let system = SystemAddresses {
        timelock: address(&["contracts", "timelock"])?,
        registry: address(&["contracts", "registry"])?,
        slashing_manager: address(&["contracts", "slashing_manager"])?,
        token: address(&["contracts", "token"])?,
        queue: address(&["contracts", "queue"])?,
        reserve: address(&["contracts", "reserve"])?,
        executor: address(&["contracts", "executor"])?,
        vaults: vaults.clone(),
        guardian: address(&["contracts", "guardian"])?,
        verifier: address(&["contracts", "verifier"])?,
    };
    Ok(InputSources {
        settlement,
        served: vaults
            .iter()
            .map(|&(chain_id, _)| (chain_id, (chain_id == served_chain).then(|| served.clone())))
            .collect(),
        system,
        genesis_time: number(&["genesis_time"])?,
        schedule_first_epoch: number(&["first_epoch"])?,
        earliest_block: number(&["ready_block"])?,
    })
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The report agrees with the recomputation, field for field.
    Agrees {
        /// The report's first epoch.
        first: u64,
        /// Its last epoch.
        last: u64,
    },
    /// Fields differ; each line names one.
    Differs(Vec<String>),
    /// No executed report covers the epoch yet.
    NotReported,
}

/// Verifies epoch `epoch`.
pub async fn verify_epoch(
    sources: &InputSources,
    config: &EconomicsConfig,
    epoch: u64,
) -> Result<Verdict, ChainError> {
    let executor = ReportExecutor::new(sources.system.executor, &sources.settlement);
    let logs = executor
        .ReportInputs_filter()
        .from_block(0)
        .query()
        .await
        .map_err(|source| ChainError::Contract { action: "read ReportInputs".to_owned(), source })?;
    let mut found = None;
    for (event, log) in logs {
        let report = Report::abi_decode(&event.report)
            .map_err(|e| ChainError::Input(format!("decode a ReportInputs event: {e}")))?;
        if report.header.firstEpoch <= epoch && epoch <= report.header.lastEpoch {
            found = Some((report, log.block_number.unwrap_or_default()));
        }
    }
    let Some((report, executed_at)) = found else { return Ok(Verdict::NotReported) };
    let header = &report.header;
    let before = BlockId::number(executed_at.saturating_sub(1));
    let gathered =
        gather_range(sources, config, header.firstEpoch, header.lastEpoch, header.refBlock, before).await?;
    let params = SettlementParams::from_config(config).map_err(|e| ChainError::Input(e.to_string()))?;
    let (_, recomputed) =
        settle_gathered(&gathered, &params).map_err(|e| ChainError::Input(e.to_string()))?;
    let mut diffs = Vec::new();
    for (reported, ours) in report.epochs.iter().zip(&recomputed) {
        if reported.epoch == epoch {
            compare_entry(reported, ours, &mut diffs);
            check_accumulators(sources, reported, &mut diffs).await?;
        }
    }
    if diffs.is_empty() {
        Ok(Verdict::Agrees { first: header.firstEpoch, last: header.lastEpoch })
    } else {
        Ok(Verdict::Differs(diffs))
    }
}

/// One difference line, when `reported != recomputed`.
fn differ<T: PartialEq + std::fmt::Display>(
    diffs: &mut Vec<String>,
    field: &str,
    reported: &T,
    recomputed: &T,
) {
    if reported != recomputed {
        diffs.push(format!("{field}: reported {reported}, recomputed {recomputed}"));
    }
}

fn compare_entry(reported: &EpochEntry, ours: &EpochEntry, diffs: &mut Vec<String>) {
    let e = reported.epoch;
    differ(diffs, &format!("epoch {e} chains"), &reported.chains.len(), &ours.chains.len());
    for (r, o) in reported.chains.iter().zip(&ours.chains) {
        let c = r.chainId;
        differ(diffs, &format!("epoch {e} chain {c} gross"), &r.gross, &o.gross);
        differ(diffs, &format!("epoch {e} chain {c} cost"), &r.cost, &o.cost);
        differ(diffs, &format!("epoch {e} chain {c} mev"), &r.mev, &o.mev);
        differ(diffs, &format!("epoch {e} chain {c} share"), &r.share, &o.share);
    }
    differ(diffs, &format!("epoch {e} protocolFee"), &reported.protocolFee, &ours.protocolFee);
    differ(diffs, &format!("epoch {e} emission"), &reported.emission, &ours.emission);
    differ(diffs, &format!("epoch {e} dustIn"), &reported.dustIn, &ours.dustIn);
    differ(diffs, &format!("epoch {e} dustOut"), &reported.dustOut, &ours.dustOut);
    let ids =
        |entry: &EpochEntry| entry.sequencers.iter().map(|s| s.id.to_string()).collect::<Vec<_>>().join(",");
    differ(diffs, &format!("epoch {e} sequencers"), &ids(reported), &ids(ours));
    for (r, o) in reported.sequencers.iter().zip(&ours.sequencers) {
        let s = r.id;
        differ(diffs, &format!("epoch {e} sequencer {s} blocks"), &r.blocks, &o.blocks);
        differ(diffs, &format!("epoch {e} sequencer {s} missedBlocks"), &r.missedBlocks, &o.missedBlocks);
        differ(diffs, &format!("epoch {e} sequencer {s} reward"), &r.reward, &o.reward);
        differ(diffs, &format!("epoch {e} sequencer {s} accAfter"), &r.accAfter, &o.accAfter);
        differ(diffs, &format!("epoch {e} sequencer {s} jailed"), &r.jailed, &o.jailed);
    }
}

/// The registry's `RewardPaid` accumulators for the epoch against the report's `accAfter`.
async fn check_accumulators(
    sources: &InputSources,
    reported: &EpochEntry,
    diffs: &mut Vec<String>,
) -> Result<(), ChainError> {
    let registry = SequencerRegistry::new(sources.system.registry, &sources.settlement);
    let paid = registry
        .RewardPaid_filter()
        .topic2(U256::from(reported.epoch))
        .from_block(0)
        .query()
        .await
        .map_err(|source| ChainError::Contract { action: "read RewardPaid".to_owned(), source })?;
    for s in &reported.sequencers {
        if s.reward.is_zero() || s.jailed {
            continue;
        }
        match paid.iter().find(|(event, _)| event.id == s.id) {
            Some((event, _)) => differ(
                diffs,
                &format!("epoch {} sequencer {} accAfter (RewardPaid)", reported.epoch, s.id),
                &s.accAfter,
                &event.accAfter,
            ),
            None => {
                diffs.push(format!("epoch {} sequencer {}: no RewardPaid on chain", reported.epoch, s.id));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_difference_names_its_field_and_both_values() {
        let mut diffs = Vec::new();
        differ(&mut diffs, "epoch 9 sequencer 2 blocks", &3u64, &1u64);
        differ(&mut diffs, "epoch 9 sequencer 1 blocks", &2u64, &2u64);
        assert_eq!(diffs, ["epoch 9 sequencer 2 blocks: reported 3, recomputed 1"]);
    }
}
