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

/// Calls `executor.execute(report)` until the call that ends the report (its `ReportExecuted`),
/// waiting for each call's receipt before the next.
///
/// # Errors
/// [`ChainError::Contract`] or [`ChainError::Reverted`] when a call is refused (the first call
/// refuses a report without the quorum or that fails a check; any call refuses another report
/// while one executes), [`ChainError::NotEnded`] when the report has not ended after
/// [`MAX_CALLS`] calls, and the RPC errors of sending and confirming.
pub async fn execute_report<P: Provider>(
    provider: &P,
    executor: Address,
    report: &ReportTypes::Report,
) -> Result<Execution, ChainError> {
    let contract = ReportExecutor::new(executor, provider);
    let first = report.header.firstEpoch;
    let mut execution =
        Execution { calls: Vec::new(), refused_pool_steps: Vec::new(), active_set_rejected: false };
    while execution.calls.len() < MAX_CALLS {
        let action = format!("execute the report from epoch {first} (call {})", execution.calls.len() + 1);
        let sent = contract.execute(report.clone()).send().await;
        let receipt = confirm_sent(provider, &action, sent.map(|p| *p.tx_hash())).await?;
        execution.calls.push(receipt.transaction_hash);
        let mut ended = false;
        for log in receipt.logs().iter().filter(|log| log.address() == executor) {
            if let Ok(refused) = log.log_decode::<ReportExecutor::LiquidStepFailed>() {
                execution.refused_pool_steps.push(refused.inner.data.reason.clone());
            } else if log.log_decode::<ReportExecutor::ActiveSetRejected>().is_ok() {
                execution.active_set_rejected = true;
            } else if let Ok(executed) = log.log_decode::<ReportExecutor::ReportExecuted>() {
                ended = executed.inner.data.firstEpoch == first;
            }
        }
        if ended {
            return Ok(execution);
        }
    }
    Err(ChainError::NotEnded { action: format!("execute the report from epoch {first}"), calls: MAX_CALLS })
}
