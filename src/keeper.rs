//! Keeper duties: what anyone may do to keep the system moving, run by the devnet after each
//! epoch (and by `seqstake serve` when it lands). Each duty reads the chain, acts only when
//! there is something to do, and reports what it did:
//! - finish a report whose execution stopped half way, from its first call's `ReportInputs`;
//! - execute a slash proposal whose veto window has passed (carrying a slash that runs in
//!   several calls to its end), or record one that expired;
//! - pay the insurance fund its slash proceeds.
//!
//! Not built yet: bringing back matured buckets and releasing positions outside reports,
//! `recordChanges` for a pool with a backlog, refreshing a rejected active set, and the
//! stale-oracle exit calls.

use alloy::{
    primitives::{B256, U256},
    providers::DynProvider,
    sol_types::SolValue,
};

use crate::{
    chain::{
        ChainError,
        bindings::{
            SequencerRegistry, SlashingManager,
            executor::{ReportExecutor, ReportTypes},
        },
        report::execute_report,
        system::SystemAddresses,
        tx::confirm_sent,
    },
    economics::report::Report,
};

/// One duty done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Duty {
    /// A half-executed report, taken up to its end.
    FinishedReport {
        /// Its first epoch.
        first_epoch: u64,
        /// The calls it took.
        calls: usize,
    },
    /// A slash proposal executed (or carried one call on, when its slash runs in several).
    ExecutedSlash {
        /// The proposal.
        proposal: U256,
        /// Whether its slash has ended.
        ended: bool,
    },
    /// A slash proposal past its last epoch, recorded as expired.
    ExpiredSlash {
        /// The proposal.
        proposal: U256,
    },
    /// The insurance fund paid its slash proceeds.
    PaidInsurance {
        /// What it received.
        amount: U256,
    },
}

/// `SlashingManager.State`: Pending.
const PENDING: u8 = 1;
/// `SlashingManager.State`: Expired.
const EXPIRED: u8 = 4;
/// `SlashingManager.State`: Executing (a slash under way).
const EXECUTING: u8 = 5;

fn contract(action: &str) -> impl Fn(alloy::contract::Error) -> ChainError + '_ {
    move |source| ChainError::Contract { action: action.to_owned(), source }
}

/// Runs every duty once, sending from `provider`'s account.
pub async fn run_duties(provider: &DynProvider, system: &SystemAddresses) -> Result<Vec<Duty>, ChainError> {
    let mut done = Vec::new();
    if let Some(duty) = finish_report(provider, system).await? {
        done.push(duty);
    }
    done.extend(slash_proposals(provider, system).await?);
    if let Some(duty) = pay_insurance(provider, system).await? {
        done.push(duty);
    }
    Ok(done)
}

/// Takes up a report whose execution stopped half way (its first call's `ReportInputs` carries
/// the whole report).
pub async fn finish_report(
    provider: &DynProvider,
    system: &SystemAddresses,
) -> Result<Option<Duty>, ChainError> {
    let executor = ReportExecutor::new(system.executor, provider);
    let executing = executor.executing().call().await.map_err(contract("read executing"))?;
    if executing == B256::ZERO {
        return Ok(None);
    }
    let first = executor.nextEpoch().call().await.map_err(contract("read nextEpoch"))?;
    let logs = executor
        .ReportInputs_filter()
        .topic1(U256::from(first))
        .from_block(0)
        .query()
        .await
        .map_err(contract("read ReportInputs"))?;
    let (event, _) = logs.last().ok_or_else(|| {
        ChainError::Input(format!("a report from epoch {first} executes but left no ReportInputs"))
    })?;
    let report = Report::abi_decode(&event.report)
        .map_err(|e| ChainError::Input(format!("decode ReportInputs: {e}")))?;
    let call = ReportTypes::Report::abi_decode(&report.abi_encode())
        .map_err(|e| ChainError::Input(format!("re-encode the report: {e}")))?;
    let execution = execute_report(provider, system.executor, &call).await?;
    Ok(Some(Duty::FinishedReport { first_epoch: first, calls: execution.calls.len() }))
}

/// Executes every proposal whose veto window has passed (and carries on one whose slash is
/// under way); records the expired ones.
pub async fn slash_proposals(
    provider: &DynProvider,
    system: &SystemAddresses,
) -> Result<Vec<Duty>, ChainError> {
    let manager = SlashingManager::new(system.slashing_manager, provider);
    let registry = SequencerRegistry::new(system.registry, provider);
    let epoch = registry.currentEpoch().call().await.map_err(contract("read the epoch"))?;
    let count = manager.proposalCount().call().await.map_err(contract("read proposalCount"))?;
    let mut done = Vec::new();
    let mut id = U256::from(1u64);
    while id <= count {
        let state = manager.stateOf(id).call().await.map_err(contract("read a proposal's state"))?;
        if state == EXECUTING
            || (state == PENDING
                && epoch
                    >= manager.executableEpoch(id).call().await.map_err(contract("read executableEpoch"))?)
        {
            let sent = manager.execute(id).send().await;
            confirm_sent(provider, &format!("execute slash proposal {id}"), sent.map(|p| *p.tx_hash()))
                .await?;
            let after = manager.stateOf(id).call().await.map_err(contract("read a proposal's state"))?;
            done.push(Duty::ExecutedSlash { proposal: id, ended: after != EXECUTING });
        } else if state == EXPIRED
            && manager.proposal(id).call().await.map_err(contract("read a proposal"))?.state == PENDING
        {
            let sent = manager.expire(id).send().await;
            confirm_sent(provider, &format!("expire slash proposal {id}"), sent.map(|p| *p.tx_hash()))
                .await?;
            done.push(Duty::ExpiredSlash { proposal: id });
        }
        id += U256::from(1u64);
    }
    Ok(done)
}

/// Pays the insurance fund what the registry owes it.
pub async fn pay_insurance(
    provider: &DynProvider,
    system: &SystemAddresses,
) -> Result<Option<Duty>, ChainError> {
    let registry = SequencerRegistry::new(system.registry, provider);
    let owed = registry.insuranceOwed().call().await.map_err(contract("read insuranceOwed"))?;
    if owed.is_zero() {
        return Ok(None);
    }
    let sent = registry.payInsurance().send().await;
    confirm_sent(provider, "pay the insurance fund", sent.map(|p| *p.tx_hash())).await?;
    Ok(Some(Duty::PaidInsurance { amount: owed }))
}
