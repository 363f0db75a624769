//! Executing an agreed report on chain. `ReportExecutor.execute` takes a report one step per
//! call: its sequencers in parts of 100, then the pool's harvest, then the pool's moves and the
//! active set (docs/CONTRACTS.md). [`execute_report`] calls it with the same report until the
//! report ends and says what the pool's steps did. A report whose execution stopped half way
//! (a crash after some of its calls) is taken up where it stands: the contract keeps the
//! progress, and the next call of the same report goes on from there.

use alloy::{
    primitives::{Address, Bytes, TxHash},
    providers::Provider,
};

use super::{
    ChainError,
    bindings::executor::{ReportExecutor, ReportTypes},
    tx::confirm_sent,
};

/// The most calls one report can take: 8 epochs of 200 sequencers (all different) paid 100 a
/// call, then the harvest and the moves.
pub const MAX_CALLS: usize = 8 * 200 / 100 + 2;

/// What executing one report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    /// The calls' transactions, in order.
    pub calls: Vec<TxHash>,
    /// The errors the contract refused the pool's steps with (`LiquidStepFailed`), in order:
    /// empty when the harvest and the moves both ran.
    pub refused_pool_steps: Vec<Bytes>,
    /// Whether the registry refused the report's active set (`ActiveSetRejected`).
    pub active_set_rejected: bool,
}

/// One call of a report's execution, simulated first and then sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The call's transaction.
    pub tx: TxHash,
    /// The settlement block it landed in.
    pub block: u64,
    /// Whether it ended the report (its `ReportExecuted`).
    pub ended: bool,
    /// The errors the contract refused the pool's steps with in this call (`LiquidStepFailed`).
    pub refused_pool_steps: Vec<Bytes>,
    /// Whether the registry refused the report's active set in this call.
    pub active_set_rejected: bool,
}

/// Makes the next call of `report`'s execution: simulates `executor.execute(report)` at the
/// head and sends it only when the simulation passes, then waits for its receipt.
///
/// # Errors
/// [`ChainError::Contract`] when the simulation (or the send) is refused: nothing was sent
/// then; [`ChainError::Reverted`] when the call was included and reverted (another call
/// advanced the report in between); the RPC errors of sending and confirming.
pub async fn execute_step<P: Provider>(
    provider: &P,
    executor: Address,
    report: &ReportTypes::Report,
    action: &str,
) -> Result<Step, ChainError> {
    let contract = ReportExecutor::new(executor, provider);
    let first = report.header.firstEpoch;
    contract
        .execute(report.clone())
        .call()
        .await
        .map_err(|source| ChainError::Contract { action: format!("{action} (simulated)"), source })?;
    let sent = contract.execute(report.clone()).send().await;
    let receipt = confirm_sent(provider, action, sent.map(|p| *p.tx_hash())).await?;
    let mut step = Step {
        tx: receipt.transaction_hash,
        block: receipt.block_number.unwrap_or_default(),
        ended: false,
        refused_pool_steps: Vec::new(),
        active_set_rejected: false,
    };
    for log in receipt.logs().iter().filter(|log| log.address() == executor) {
        if let Ok(refused) = log.log_decode::<ReportExecutor::LiquidStepFailed>() {
            step.refused_pool_steps.push(refused.inner.data.reason.clone());
        } else if log.log_decode::<ReportExecutor::ActiveSetRejected>().is_ok() {
            step.active_set_rejected = true;
        } else if let Ok(executed) = log.log_decode::<ReportExecutor::ReportExecuted>() {
            step.ended = executed.inner.data.firstEpoch == first;
        }
    }
    Ok(step)
}

impl Execution {
    /// Adds one call's effects.
    pub fn add(&mut self, step: &Step) {
        self.calls.push(step.tx);
        self.refused_pool_steps.extend(step.refused_pool_steps.iter().cloned());
        self.active_set_rejected |= step.active_set_rejected;
    }
}

/// Calls `executor.execute(report)` until the call that ends the report (its `ReportExecuted`),
/// each call simulated before it is sent ([`execute_step`]) and confirmed before the next.
///
/// # Errors
/// As [`execute_step`] (the first call refuses a report without the quorum or that fails a
/// check; any call refuses another report while one executes), and
/// [`ChainError::NotEnded`] when the report has not ended after [`MAX_CALLS`] calls.
pub async fn execute_report<P: Provider>(
    provider: &P,
    executor: Address,
    report: &ReportTypes::Report,
) -> Result<Execution, ChainError> {
    let first = report.header.firstEpoch;
    let mut execution =
        Execution { calls: Vec::new(), refused_pool_steps: Vec::new(), active_set_rejected: false };
    while execution.calls.len() < MAX_CALLS {
        let action = format!("execute the report from epoch {first} (call {})", execution.calls.len() + 1);
        let step = execute_step(provider, executor, report, &action).await?;
        execution.add(&step);
        if step.ended {
            return Ok(execution);
        }
    }
    Err(ChainError::NotEnded { action: format!("execute the report from epoch {first}"), calls: MAX_CALLS })
}
