//! The withdrawal queue's finalization batches a report carries
//! (`LiquidActions.batches`, `ReportTypes.FinalizationBatch { lastTicketId, shareRate }`), chosen
//! so that `WithdrawalQueue.finalize` accepts them and the token's buffer can pay them.
//!
//! - **The rate.** Tickets finalize at the token's `finalizationRate()`:
//!   `(pooled - min(pending_loss, pooled) + 1) * RAY / (supply + 1000)`, rounded down
//!   ([`bunker_rate`]). Without a pending slash loss it is the share rate; in bunker mode the
//!   pending loss (the token's `pendingSlashLoss`, the sum over pending proposals) comes off
//!   first.
//! - **A batch** is a run of consecutive tickets the queue values at once:
//!   `min(sum of values at request, floor(sum of shares * rate / RAY))` ([`batch_value`], the
//!   queue's `_batchValue`). The shares are rounded once per batch, so a batch's value is not
//!   the sum of its tickets' values and a plan is priced batch by batch, never ticket by ticket.
//! - **The cuts** ([`plan_batches`]). The tickets are the pending ones, consecutive from the
//!   queue's `lastFinalizedId + 1`. A batch lies within one run (`WithdrawalQueue.rateAtRequest`:
//!   the run grows at each ticket requested at a lower rate than the one before it) and all its
//!   tickets lie on one side of the rate (requested at or below it, or above it), or the queue
//!   refuses it with `MixedBatch`: the plan cuts where the run changes and where the side
//!   changes, and nowhere else. It stops before the first ticket that would take the total
//!   locked above the budget (what the buffer can pay: the token refuses more with
//!   `InsufficientBuffer`), so a ticket that does not fit alone ends the plan, and before a
//!   ticket that needs a cut when the plan already has `max_batches` batches (the report
//!   contract's `MAX_BATCHES`). Each batch's `shareRate` is the rate.
//! - **The queue's check** ([`queue_locked`]) recomputes what `WithdrawalQueue.finalize` locks
//!   for given batch ends, with its refusals, so a plan (or a report's batches) can be checked
//!   against the same rules.
//!
//! The `finalization_batches` shared vector pins both functions for Rust and for the queue.

use alloy::primitives::U256;

use super::{
    EconomicsError, math,
    precision::{RAY, VIRTUAL_ASSETS, VIRTUAL_SHARES},
    report::FinalizationBatch,
};

/// The most batches a report may carry (`ReportExecutor.MAX_BATCHES`).
pub const MAX_BATCHES: usize = 16;

/// Why a finalization computation refused its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FinalizationError {
    /// A plan needs room for at least one batch.
    #[error("max_batches must be at least 1")]
    ZeroMaxBatches,
    /// Ticket ids start at 1.
    #[error("ticket id 0 does not exist (ids start at 1)")]
    ZeroTicketId,
    /// The pending tickets must be consecutive ids.
    #[error("ticket ids must be consecutive: {previous} is followed by {next}")]
    NotConsecutive {
        /// The earlier ticket.
        previous: u64,
        /// The ticket after it in the input.
        next: u64,
    },
    /// A ticket's run is not the one the queue would have given it.
    #[error("ticket {id}: run {run}, but the queue gives it run {expected}")]
    RunMismatch {
        /// The ticket.
        id: u64,
        /// Its run in the input.
        run: u64,
        /// The run its rate at request and its predecessor's give it.
        expected: u64,
    },
    /// A ticket's value at request is not `shares * rate at request / RAY` rounded down.
    #[error("ticket {id}: value at request {value}, but its shares at its rate are worth {expected}")]
    ValueMismatch {
        /// The ticket.
        id: u64,
        /// Its value in the input.
        value: U256,
        /// `shares * rate_at_request / RAY`.
        expected: U256,
    },
    /// Nothing to finalize, or past the last pending ticket (the queue's
    /// `InvalidFinalization`).
    #[error("finalization to ticket {last_id}: nothing to finalize or past the last pending ticket")]
    InvalidFinalization {
        /// The last end given (0 for none).
        last_id: u64,
    },
    /// Batch ends out of order (the queue's `InvalidBatches`).
    #[error("batch {index}: its end is before its start or past the last pending ticket")]
    InvalidBatches {
        /// The batch.
        index: usize,
    },
    /// A batch across runs or across the rate (the queue's `MixedBatch`).
    #[error("batch {index}: its first and last tickets lie in two runs or on two sides of the rate")]
    MixedBatch {
        /// The batch.
        index: usize,
    },
    /// An amount did not fit 256 bits.
    #[error(transparent)]
    Math(#[from] EconomicsError),
}

/// A pending withdrawal ticket, as the queue holds it (`request(id)`, `rateAtRequest(id)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PendingTicket {
    /// The ticket id.
    pub id: u64,
    /// Token shares locked.
    pub shares: U256,
    /// Their value at request: `shares * rate_at_request / RAY`, rounded down.
    pub value: U256,
    /// The token's share rate at the request (RAY per share).
    pub rate_at_request: U256,
    /// The ticket's run.
    pub run: u64,
}

/// The batches to finalize and what they lock.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// The report's batches, in order; each `shareRate` is the finalization rate.
    pub batches: Vec<FinalizationBatch>,
    /// Each batch's value, in the same order (what the queue adds to `lockedAssets` for it).
    pub values: Vec<U256>,
    /// What the queue locks: the sum of `values`, never above the budget.
    pub locked: U256,
    /// The shares the finalized tickets hold (the token burns them).
    pub shares: U256,
}

impl Plan {
    /// The last ticket each batch finalizes (`WithdrawalQueue.finalize`'s `batchEnds`).
    pub fn ends(&self) -> Vec<u64> {
        self.batches.iter().map(|b| u64::try_from(b.lastTicketId).unwrap_or(u64::MAX)).collect()
    }
}

/// The rate tickets finalize at, as `LiquidStakingToken.finalizationRate()` computes it from the
/// token's `totalPooledAssets()`, `pendingSlashLoss` and `totalSupply()`:
/// `(pooled - min(pending_loss, pooled) + 1) * RAY / (supply + 1000)`, rounded down. With no
/// pending loss it is the share rate; a pending loss at or above the pooled assets leaves
/// `RAY / (supply + 1000)`.
pub fn bunker_rate(pooled: U256, pending_loss: U256, supply: U256) -> Result<U256, FinalizationError> {
    let at_risk = pending_loss.min(pooled);
    let assets = math::add(pooled - at_risk, VIRTUAL_ASSETS, "pooled assets")?;
    let shares = math::add(supply, VIRTUAL_SHARES, "total supply")?;
    Ok(math::mul_div(assets, RAY, shares, "pooled assets")?)
}

/// A batch's value as the queue's `_batchValue` computes it:
/// `min(assets_at_request, shares * rate / RAY)`, the shares rounded down once for the batch.
pub fn batch_value(shares: U256, assets_at_request: U256, rate: U256) -> Result<U256, FinalizationError> {
    Ok(assets_at_request.min(math::mul_div(shares, rate, RAY, "batch shares")?))
}

/// The pending tickets must be consecutive ids from 1 on, each with the run and the value at
/// request the queue would have recorded for it.
fn check_tickets(tickets: &[PendingTicket]) -> Result<(), FinalizationError> {
    if tickets.first().is_some_and(|t| t.id == 0) {
        return Err(FinalizationError::ZeroTicketId);
    }
    for t in tickets {
        let expected = math::mul_div(t.shares, t.rate_at_request, RAY, "ticket shares")?;
        if t.value != expected {
            return Err(FinalizationError::ValueMismatch { id: t.id, value: t.value, expected });
        }
    }
    for pair in tickets.windows(2) {
        let (previous, next) = (pair[0], pair[1]);
        if previous.id.checked_add(1) != Some(next.id) {
            return Err(FinalizationError::NotConsecutive { previous: previous.id, next: next.id });
        }
        let expected = if next.rate_at_request < previous.rate_at_request {
            previous.run.checked_add(1).ok_or_else(|| EconomicsError::Overflow { what: "run".to_owned() })?
        } else {
            previous.run
        };
        if next.run != expected {
            return Err(FinalizationError::RunMismatch { id: next.id, run: next.run, expected });
        }
    }
    Ok(())
}

/// The batch being built: its run and side, its totals and its last ticket.
#[derive(Clone, Copy)]
struct OpenBatch {
    run: u64,
    below: bool,
    shares: U256,
    assets: U256,
    value: U256,
    last: u64,
}

/// The batches that finalize the most of `tickets` (the pending tickets, consecutive from the
/// queue's `lastFinalizedId + 1`) at `rate` within `budget`, in at most `max_batches` batches:
/// a cut where the run or the side of the rate changes, and nowhere else; stopping before the
/// first ticket that would take the locked total above `budget` and before a ticket needing a
/// cut when `max_batches` batches are made. An empty plan when the first ticket alone does not
/// fit (or there is no ticket).
pub fn plan_batches(
    tickets: &[PendingTicket],
    rate: U256,
    budget: U256,
    max_batches: usize,
) -> Result<Plan, FinalizationError> {
    if max_batches == 0 {
        return Err(FinalizationError::ZeroMaxBatches);
    }
    check_tickets(tickets)?;
    let mut plan = Plan::default();
    let close = |plan: &mut Plan, batch: OpenBatch| -> Result<(), FinalizationError> {
        plan.batches.push(FinalizationBatch { lastTicketId: U256::from(batch.last), shareRate: rate });
        plan.values.push(batch.value);
        plan.locked = math::add(plan.locked, batch.value, "locked assets")?;
        plan.shares = math::add(plan.shares, batch.shares, "finalized shares")?;
        Ok(())
    };
    let mut open: Option<OpenBatch> = None;
    for ticket in tickets {
        let below = ticket.rate_at_request <= rate;
        if let Some(batch) = open.filter(|b| b.run != ticket.run || b.below != below) {
            // A cut: the open batch would be the last one allowed.
            if plan.batches.len() + 1 >= max_batches {
                break;
            }
            close(&mut plan, batch)?;
            open = None;
        }
        let (shares, assets) = match open {
            Some(batch) => (
                math::add(batch.shares, ticket.shares, "batch shares")?,
                math::add(batch.assets, ticket.value, "batch assets")?,
            ),
            None => (ticket.shares, ticket.value),
        };
        let value = batch_value(shares, assets, rate)?;
        if math::add(plan.locked, value, "locked assets")? > budget {
            break;
        }
        open = Some(OpenBatch { run: ticket.run, below, shares, assets, value, last: ticket.id });
    }
    if let Some(batch) = open {
        close(&mut plan, batch)?;
    }
    Ok(plan)
}

/// What `WithdrawalQueue.finalize(ends)` locks for the pending `tickets` at `rate`, with the
/// queue's refusals: `InvalidFinalization` for no end or a last end outside the tickets,
/// `InvalidBatches` for an end before its batch's start (or, before the last, past the last
/// ticket), `MixedBatch` for a batch whose first and last tickets lie in two runs or on two
/// sides of the rate. The budget is not the queue's check (the token's `InsufficientBuffer` is):
/// compare the result with it.
pub fn queue_locked(tickets: &[PendingTicket], rate: U256, ends: &[u64]) -> Result<U256, FinalizationError> {
    check_tickets(tickets)?;
    let last_id = ends.last().copied().unwrap_or(0);
    let (Some(first), Some(last)) = (tickets.first(), tickets.last()) else {
        return Err(FinalizationError::InvalidFinalization { last_id });
    };
    if last_id < first.id || last_id > last.id {
        return Err(FinalizationError::InvalidFinalization { last_id });
    }
    let mut locked = U256::ZERO;
    // The next batch's first ticket, as an index into `tickets` (ids are consecutive from
    // `first.id`, so an id's index is its distance from it).
    let mut start = 0usize;
    for (index, &end) in ends.iter().enumerate() {
        let slice = end
            .checked_sub(first.id)
            .and_then(|to| usize::try_from(to).ok())
            .filter(|to| *to >= start)
            .and_then(|to| tickets.get(start..=to))
            .ok_or(FinalizationError::InvalidBatches { index })?;
        let (head, tail) = (slice[0], slice[slice.len() - 1]);
        if head.run != tail.run || (head.rate_at_request <= rate) != (tail.rate_at_request <= rate) {
            return Err(FinalizationError::MixedBatch { index });
        }
        let shares = math::sum(slice.iter().map(|t| t.shares), "batch shares")?;
        let assets = math::sum(slice.iter().map(|t| t.value), "batch assets")?;
        locked = math::add(locked, batch_value(shares, assets, rate)?, "locked assets")?;
        start += slice.len();
    }
    Ok(locked)
}

#[cfg(test)]
mod tests;
