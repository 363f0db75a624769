//! Reading the withdrawal queue's pending tickets as `economics::finalization` takes them: the
//! reporter reads them at a report's reference block, the keeper at the head.

use alloy::{eips::BlockId, primitives::U256, providers::Provider};

use super::{ChainError, bindings::liquid::WithdrawalQueue, system::SystemAddresses};
use crate::economics::finalization::PendingTicket;

fn contract(action: &'static str) -> impl Fn(alloy::contract::Error) -> ChainError {
    move |source| ChainError::Contract { action: action.to_owned(), source }
}

fn id_u64(id: U256) -> Result<u64, Box<ChainError>> {
    u64::try_from(id).map_err(|_| Box::new(ChainError::Input(format!("ticket id {id} beyond u64"))))
}

/// The queue's pending tickets at block `at`, from the first not finalized, at most `max`.
///
/// # Errors
/// [`ChainError::Contract`] when a view cannot be read; [`ChainError::Input`] for ids, runs or
/// rates beyond what the economics types hold.
pub async fn pending_tickets<P: Provider>(
    provider: &P,
    system: &SystemAddresses,
    at: BlockId,
    max: u64,
) -> Result<Vec<PendingTicket>, ChainError> {
    let queue = WithdrawalQueue::new(system.queue, provider);
    let finalized =
        id_u64(queue.lastFinalizedId().call().block(at).await.map_err(contract("read lastFinalizedId"))?)
            .map_err(|e| *e)?;
    let requested =
        id_u64(queue.lastRequestId().call().block(at).await.map_err(contract("read lastRequestId"))?)
            .map_err(|e| *e)?;
    let last = requested.min(finalized.saturating_add(max));
    let mut tickets = Vec::new();
    for id in finalized + 1..=last {
        let request =
            queue.request(U256::from(id)).call().block(at).await.map_err(contract("read a ticket"))?;
        let at_request = queue
            .rateAtRequest(U256::from(id))
            .call()
            .block(at)
            .await
            .map_err(contract("read a ticket's rate"))?;
        let run = u64::try_from(at_request.run)
            .map_err(|_| ChainError::Input(format!("ticket {id}: run {} beyond u64", at_request.run)))?;
        tickets.push(PendingTicket {
            id,
            shares: request.shares,
            value: request.assetsAtRequest,
            rate_at_request: at_request.rate,
            run,
        });
    }
    Ok(tickets)
}
