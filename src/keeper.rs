//! Keeper duties: what anyone may do to keep the system moving, run by the devnet after each
//! epoch (and by `seqstake serve` when it lands). Each duty reads the chain, acts only when
//! there is something to do (every call is simulated first, so a no-op is never sent), and
//! reports what it did. A call the chain refuses because someone else already did the work is
//! not an error: the duty reports nothing for it.
//! - finish a report whose execution stopped half way, from its first call's `ReportInputs`;
//! - execute a slash proposal whose veto window has passed (carrying a slash that runs in
//!   several calls to its end), or record one that expired;
//! - pay the insurance fund its slash proceeds (`registry.payInsurance`);
//! - submit the active set after the registry refused a report's (`ActiveSetRejected`):
//!   `executor.refreshActiveSet` with the eligible top `maxActive` candidates by live stake
//!   (bond plus pool tokens, ties to the lower id), unless the registry's set is that already;
//! - record a pool's backlog of queued changes ahead of its next crediting
//!   (`registry.recordChanges`) once it reaches [`MIN_BACKLOG`] changes in paid epochs, in calls
//!   of at most [`RECORD_PER_CALL`];
//! - bring the token's matured unbonding buckets back into its buffer (`token.withdrawUnbonded`,
//!   anyone, any time): those reports opened (a report brings back at most 32, and only when one
//!   runs) and those the stale-oracle exit opened, found from the token's `StakeUndelegated`
//!   events;
//! - while the oracle is stale (`token.isStale()`: no report for `staleTimeoutEpochs`), the
//!   exit calls anyone may make: `queue.finalize` of the longest run of pending tickets the
//!   buffer pays at the token's finalization rate (cut into batches as the queue requires: one
//!   run of rates at request, both ends on one side of the rate), then `token.staleUndelegate`
//!   of each pool's pro-rata part of the queue's shortfall (once per pool and epoch; skipped while
//!   the registry is paused, while the pool's sequencer is being slashed, or when the token
//!   already queues the registry's most changes there).
//!
//! Not possible for a keeper: releasing the token's matured redelegation positions outside a
//! report. `token.releaseMatured` takes the reporter's role and the registry's
//! `releaseRedelegation` releases only the caller's own positions, so they wait for the next
//! report's moves (a stale oracle leaves them where they are, and the stale exit undelegates
//! only the ordinary delegations).

use std::collections::BTreeSet;

use alloy::{
    contract::{CallBuilder, CallDecoder},
    eips::BlockId,
    primitives::{Address, B256, U256},
    providers::{DynProvider, Provider},
    rpc::types::TransactionReceipt,
    sol_types::{SolError, SolEvent, SolValue},
};

use crate::{
    chain::{
        ChainError,
        bindings::{
            SequencerRegistry, SlashingManager,
            executor::{ReportExecutor, ReportTypes},
            liquid::{LiquidStakingToken, WithdrawalQueue},
        },
        report::execute_report,
        system::SystemAddresses,
        tx::confirm,
    },
    economics::{
        finalization::plan_batches,
        producer::{SetCandidate, top_by_stake},
        report::Report,
    },
};

/// A pool's queued changes in paid epochs worth a `recordChanges` of their own: fewer, and its
/// next crediting records them at a cost no report part notices.
pub const MIN_BACKLOG: u64 = 8;
/// The most changes one `recordChanges` call records (a few million gas).
pub const RECORD_PER_CALL: u64 = 256;
/// The most pending tickets one stale-oracle finalization reads and finalizes.
pub const MAX_TICKETS_PER_FINALIZATION: u64 = 256;

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
    /// The active set submitted after the registry refused a report's (`refreshActiveSet`).
    RefreshedActiveSet {
        /// The set, increasing, in force from the next epoch.
        set: Vec<u32>,
    },
    /// A pool's queued changes recorded ahead of its next crediting (`recordChanges`).
    RecordedChanges {
        /// The sequencer.
        sequencer: u32,
        /// How many changes were recorded.
        count: u64,
    },
    /// A matured unbonding bucket of the token's brought back into its buffer
    /// (`withdrawUnbonded`).
    BroughtBackBucket {
        /// The sequencer.
        sequencer: u32,
        /// The bucket.
        completion_epoch: u64,
        /// What it paid into the buffer.
        amount: U256,
    },
    /// While the oracle is stale: tickets finalized at the token's finalization rate.
    FinalizedTickets {
        /// The first ticket finalized.
        first: U256,
        /// The last.
        last: U256,
        /// What they are worth, moved from the token's buffer to the queue.
        assets: U256,
    },
    /// While the oracle is stale: a pool's pro-rata part of the queue's shortfall undelegated
    /// (`staleUndelegate`).
    StaleUndelegated {
        /// The sequencer.
        sequencer: u32,
        /// When the bucket can be brought back.
        completion_epoch: u64,
        /// What the bucket received.
        amount: U256,
    },
}

/// `SlashingManager.State`: Pending.
const PENDING: u8 = 1;
/// `SlashingManager.State`: Expired.
const EXPIRED: u8 = 4;
/// `SlashingManager.State`: Executing (a slash under way).
const EXECUTING: u8 = 5;
/// `RegistryCore.Status`: Registered.
const REGISTERED: u8 = 1;

fn contract(action: &str) -> impl Fn(alloy::contract::Error) -> ChainError + '_ {
    move |source| ChainError::Contract { action: action.to_owned(), source }
}

/// Whether the chain refused a call with error `E`.
fn refused_with<E: SolError>(err: &alloy::contract::Error) -> bool {
    err.as_decoded_error::<E>().is_some()
}

/// Simulates `call`, then sends it and waits for its receipt. `None` when the chain refuses it
/// with an error `done_elsewhere` recognises as "someone else did it first": in the
/// simulation, in the send's gas estimate, or (for a transaction that reverted) in a
/// simulation after it. Any other refusal is an error.
async fn act<P: Provider, D: CallDecoder>(
    provider: &DynProvider,
    action: &str,
    call: &CallBuilder<P, D>,
    done_elsewhere: impl Fn(&alloy::contract::Error) -> bool,
) -> Result<Option<TransactionReceipt>, ChainError> {
    let sent = match call.call().await {
        Ok(_) => match call.send().await {
            Ok(pending) => Ok(*pending.tx_hash()),
            Err(source) => Err(source),
        },
        Err(source) => Err(source),
    };
    let hash = match sent {
        Ok(hash) => hash,
        Err(source) if done_elsewhere(&source) => return Ok(None),
        Err(source) => return Err(ChainError::Contract { action: action.to_owned(), source }),
    };
    match confirm(provider, action, hash).await {
        Ok(receipt) => Ok(Some(receipt)),
        Err(err @ ChainError::Reverted { .. }) => match call.call().await {
            Err(source) if done_elsewhere(&source) => Ok(None),
            _ => Err(err),
        },
        Err(err) => Err(err),
    }
}

/// The events `E` that `emitter` logged in `receipt`, in order.
fn events<E: SolEvent>(receipt: &TransactionReceipt, emitter: Address) -> Vec<E> {
    receipt
        .logs()
        .iter()
        .filter(|log| log.address() == emitter)
        .filter_map(|log| log.log_decode::<E>().ok())
        .map(|log| log.inner.data)
        .collect()
}

/// Runs every duty once, sending from `provider`'s account: the half-executed report first (no
/// other report executes before it ends), then the slash proposals, the insurance, the active
/// set, the pools' backlogs, the matured buckets and, while the oracle is stale, its exit calls
/// (finalization before undelegation, so that the buckets just brought back pay tickets
/// before more stake leaves).
pub async fn run_duties(provider: &DynProvider, system: &SystemAddresses) -> Result<Vec<Duty>, ChainError> {
    let mut done = Vec::new();
    if let Some(duty) = finish_report(provider, system).await? {
        done.push(duty);
    }
    done.extend(slash_proposals(provider, system).await?);
    if let Some(duty) = pay_insurance(provider, system).await? {
        done.push(duty);
    }
    if let Some(duty) = refresh_active_set(provider, system).await? {
        done.push(duty);
    }
    done.extend(record_changes(provider, system, MIN_BACKLOG).await?);
    done.extend(bring_back_buckets(provider, system).await?);
    if let Some(duty) = stale_finalize(provider, system).await? {
        done.push(duty);
    }
    done.extend(stale_undelegate(provider, system).await?);
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
    // The executing report opened with the latest `ReportInputs` (one report executes at a
    // time; `nextEpoch` already points past it once it opened).
    let logs =
        executor.ReportInputs_filter().from_block(0).query().await.map_err(contract("read ReportInputs"))?;
    let (event, _) = logs
        .last()
        .ok_or_else(|| ChainError::Input("a report executes but left no ReportInputs".to_owned()))?;
    let report = Report::abi_decode(&event.report)
        .map_err(|e| ChainError::Input(format!("decode ReportInputs: {e}")))?;
    let first = report.header.firstEpoch;
    let call = ReportTypes::Report::abi_decode(&report.abi_encode())
        .map_err(|e| ChainError::Input(format!("re-encode the report: {e}")))?;
    let execution = execute_report(provider, system.executor, &call).await?;
    Ok(Some(Duty::FinishedReport { first_epoch: first, calls: execution.calls.len() }))
}

/// Executes every proposal whose veto window has passed (and carries on one whose slash is
/// under way); records the expired ones. A proposal someone else executed or expired first
/// (`NotPending`) is left alone.
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
            let action = format!("execute slash proposal {id}");
            let call = manager.execute(id);
            if act(provider, &action, &call, refused_with::<SlashingManager::NotPending>).await?.is_some() {
                let after = manager.stateOf(id).call().await.map_err(contract("read a proposal's state"))?;
                done.push(Duty::ExecutedSlash { proposal: id, ended: after != EXECUTING });
            }
        } else if state == EXPIRED
            && manager.proposal(id).call().await.map_err(contract("read a proposal"))?.state == PENDING
        {
            let action = format!("expire slash proposal {id}");
            let call = manager.expire(id);
            if act(provider, &action, &call, refused_with::<SlashingManager::NotPending>).await?.is_some() {
                done.push(Duty::ExpiredSlash { proposal: id });
            }
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
    let call = registry.payInsurance();
    let paid =
        act(provider, "pay the insurance fund", &call, refused_with::<SequencerRegistry::NothingToClaim>)
            .await?
            .map(|receipt| {
                events::<SequencerRegistry::InsurancePaid>(&receipt, system.registry)
                    .iter()
                    .map(|e| e.amount)
                    .sum::<U256>()
            });
    Ok(paid.map(|amount| Duty::PaidInsurance { amount }))
}

/// After the registry refused a report's active set (`activeSetStale`), submits the eligible
/// top `maxActive` candidates by live stake (`refreshActiveSet`), unless the registry's set is
/// that already.
pub async fn refresh_active_set(
    provider: &DynProvider,
    system: &SystemAddresses,
) -> Result<Option<Duty>, ChainError> {
    let executor = ReportExecutor::new(system.executor, provider);
    if !executor.activeSetStale().call().await.map_err(contract("read activeSetStale"))? {
        return Ok(None);
    }
    let registry = SequencerRegistry::new(system.registry, provider);
    let min_bond = registry.minBond().call().await.map_err(contract("read minBond"))?;
    let max_active = registry.maxActive().call().await.map_err(contract("read maxActive"))?;
    let mut candidates = Vec::new();
    for id in registry.candidates().call().await.map_err(contract("read the candidates"))? {
        let s = registry.sequencer(id).call().await.map_err(contract("read a sequencer"))?;
        let pool = registry.pool(id).call().await.map_err(contract("read a pool"))?;
        candidates.push(SetCandidate {
            id,
            stake: s.bond + pool.tokens,
            eligible: s.status == REGISTERED && !s.jailed && s.bond >= min_bond,
        });
    }
    let set = top_by_stake(&candidates, usize::try_from(max_active).unwrap_or(usize::MAX));
    if registry.activeSet().call().await.map_err(contract("read the active set"))? == set {
        return Ok(None);
    }
    let call = executor.refreshActiveSet(set.clone());
    let refreshed =
        act(provider, "refresh the active set", &call, refused_with::<ReportExecutor::ActiveSetNotStale>)
            .await?;
    Ok(refreshed.map(|_| Duty::RefreshedActiveSet { set }))
}

/// Records the queued changes of every pool that holds at least `min_backlog` of them in paid
/// epochs (`recordChanges`, in calls of at most [`RECORD_PER_CALL`]).
pub async fn record_changes(
    provider: &DynProvider,
    system: &SystemAddresses,
    min_backlog: u64,
) -> Result<Vec<Duty>, ChainError> {
    let registry = SequencerRegistry::new(system.registry, provider);
    let count = registry.sequencerCount().call().await.map_err(contract("read sequencerCount"))?;
    let mut done = Vec::new();
    for id in 1..=count {
        let pool = registry.pool(id).call().await.map_err(contract("read a pool"))?;
        if pool.changesTail - pool.changesHead < min_backlog.max(1) {
            continue;
        }
        let mut recorded = 0u64;
        loop {
            let call = registry.recordChanges(id, U256::from(RECORD_PER_CALL));
            // Changes in epochs not paid yet wait for their crediting: only the paid ones count.
            let recordable = call.call().await.map_err(contract("simulate recordChanges"))?;
            if recordable.is_zero() || (recorded == 0 && recordable < U256::from(min_backlog)) {
                break;
            }
            let action = format!("record pool {id}'s queued changes");
            let Some(receipt) = act(provider, &action, &call, |_| false).await? else { break };
            let this: U256 = events::<SequencerRegistry::ChangesRecorded>(&receipt, system.registry)
                .iter()
                .map(|e| e.count)
                .sum();
            recorded += u64::try_from(this).unwrap_or(u64::MAX);
            if this < U256::from(RECORD_PER_CALL) {
                break;
            }
        }
        if recorded > 0 {
            done.push(Duty::RecordedChanges { sequencer: id, count: recorded });
        }
    }
    Ok(done)
}

/// Brings every matured unbonding bucket the token holds back into its buffer
/// (`token.withdrawUnbonded`): the buckets are those its `StakeUndelegated` events name (a
/// report's undelegations and the stale exit's alike). A bucket someone else brought back
/// first (`NothingToClaim`) is skipped.
pub async fn bring_back_buckets(
    provider: &DynProvider,
    system: &SystemAddresses,
) -> Result<Vec<Duty>, ChainError> {
    let token = LiquidStakingToken::new(system.token, provider);
    let registry = SequencerRegistry::new(system.registry, provider);
    let epoch = registry.currentEpoch().call().await.map_err(contract("read the epoch"))?;
    let opened = token
        .StakeUndelegated_filter()
        .from_block(0)
        .query()
        .await
        .map_err(contract("read StakeUndelegated"))?;
    let buckets: BTreeSet<(u64, u32)> =
        opened.iter().map(|(e, _)| (e.completionEpoch, e.id)).filter(|&(c, _)| c <= epoch).collect();
    let mut done = Vec::new();
    for (completion, id) in buckets {
        let (shares, _) = registry
            .unbonding(id, completion, system.token)
            .call()
            .await
            .map_err(contract("read an unbonding bucket"))?
            .into();
        if shares.is_zero() {
            continue;
        }
        let action =
            format!("bring back the token's bucket with sequencer {id} completing in epoch {completion}");
        let call = token.withdrawUnbonded(id, completion);
        let Some(receipt) =
            act(provider, &action, &call, refused_with::<SequencerRegistry::NothingToClaim>).await?
        else {
            continue;
        };
        for e in events::<LiquidStakingToken::UnbondedWithdrawn>(&receipt, system.token) {
            done.push(Duty::BroughtBackBucket {
                sequencer: e.id,
                completion_epoch: e.completionEpoch,
                amount: e.amount,
            });
        }
    }
    Ok(done)
}

/// While the oracle is stale, finalizes the longest run of pending tickets the token's buffer
/// pays at its finalization rate (`economics::finalization::plan_batches`, at most
/// [`MAX_TICKETS_PER_FINALIZATION`] tickets). Tickets someone else finalized first
/// (`InvalidFinalization`), or a report that ran meanwhile (the finalizer's role is needed
/// again), leave nothing to do.
pub async fn stale_finalize(
    provider: &DynProvider,
    system: &SystemAddresses,
) -> Result<Option<Duty>, ChainError> {
    let token = LiquidStakingToken::new(system.token, provider);
    if !token.isStale().call().await.map_err(contract("read isStale"))? {
        return Ok(None);
    }
    let queue = WithdrawalQueue::new(system.queue, provider);
    let tickets = crate::chain::queue::pending_tickets(
        provider,
        system,
        BlockId::latest(),
        MAX_TICKETS_PER_FINALIZATION,
    )
    .await?;
    if tickets.is_empty() {
        return Ok(None);
    }
    let rate = token.finalizationRate().call().await.map_err(contract("read finalizationRate"))?;
    let buffer = U256::from(token.bufferedAssets().call().await.map_err(contract("read bufferedAssets"))?);
    let max_batches = usize::try_from(MAX_TICKETS_PER_FINALIZATION).unwrap_or(usize::MAX);
    let plan = plan_batches(&tickets, rate, buffer, max_batches)
        .map_err(|e| ChainError::Input(format!("plan the stale finalization: {e}")))?;
    if plan.batches.is_empty() {
        return Ok(None);
    }
    let call = queue.finalize(plan.ends().into_iter().map(U256::from).collect());
    let done_elsewhere = |e: &alloy::contract::Error| {
        refused_with::<WithdrawalQueue::InvalidFinalization>(e)
            || refused_with::<WithdrawalQueue::AccessControlUnauthorizedAccount>(e)
    };
    let Some(receipt) =
        act(provider, "finalize tickets while the oracle is stale", &call, done_elsewhere).await?
    else {
        return Ok(None);
    };
    Ok(events::<WithdrawalQueue::WithdrawalsFinalized>(&receipt, system.queue)
        .first()
        .map(|e| Duty::FinalizedTickets { first: e.fromId, last: e.toId, assets: e.assetsLocked }))
}

/// While the oracle is stale, undelegates each pool's pro-rata part of what the queue's pending
/// tickets need beyond the buffer and the buckets (`staleUndelegate`, once per pool and epoch).
/// Skipped while the registry is paused, for a pool whose sequencer is being slashed, and for a
/// pool where the token already queues the registry's most changes (they settle when reports
/// run again); a pool someone else undelegated first (`NothingToUndelegate`) or a report that
/// ran meanwhile (`NotStale`) leaves nothing to do.
pub async fn stale_undelegate(
    provider: &DynProvider,
    system: &SystemAddresses,
) -> Result<Vec<Duty>, ChainError> {
    let token = LiquidStakingToken::new(system.token, provider);
    if !token.isStale().call().await.map_err(contract("read isStale"))? {
        return Ok(Vec::new());
    }
    let registry = SequencerRegistry::new(system.registry, provider);
    let now = provider
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await
        .map_err(|source| ChainError::Rpc { action: "read the latest block".to_owned(), source })?
        .ok_or(ChainError::MissingBlock { number: u64::MAX })?
        .header
        .timestamp;
    if registry.pausedUntil().call().await.map_err(contract("read pausedUntil"))? > now {
        return Ok(Vec::new());
    }
    let epoch = registry.currentEpoch().call().await.map_err(contract("read the epoch"))?;
    // The shortfall and the pools' value the epoch's first stale undelegation fixes.
    let (shortfall, base) = if token.staleEpoch().call().await.map_err(contract("read staleEpoch"))? == epoch
    {
        (
            token.staleShortfall().call().await.map_err(contract("read staleShortfall"))?,
            token.staleStakeBase().call().await.map_err(contract("read staleStakeBase"))?,
        )
    } else {
        let queue = WithdrawalQueue::new(system.queue, provider);
        let needed = queue.pendingAssets().call().await.map_err(contract("read pendingAssets"))?;
        let buffered =
            U256::from(token.bufferedAssets().call().await.map_err(contract("read bufferedAssets"))?);
        let unbonding = token.unbondingAssets().call().await.map_err(contract("read unbondingAssets"))?;
        let staked = U256::from(token.stakedAssets().call().await.map_err(contract("read stakedAssets"))?);
        let redelegated =
            token.redelegatedAssets().call().await.map_err(contract("read redelegatedAssets"))?;
        (needed.saturating_sub(buffered + unbonding), staked.saturating_sub(unbonding + redelegated))
    };
    if shortfall.is_zero() || base.is_zero() {
        return Ok(Vec::new());
    }
    let max_changes =
        registry.MAX_PENDING_CHANGES().call().await.map_err(contract("read MAX_PENDING_CHANGES"))?;
    let slashing = registry.pendingSlash().call().await.map_err(contract("read pendingSlash"))?.id;
    let count = registry.sequencerCount().call().await.map_err(contract("read sequencerCount"))?;
    let mut done = Vec::new();
    for id in 1..=count {
        let stake = token.stakeOf(id).call().await.map_err(contract("read stakeOf"))?;
        // The pool's part, rounded up as the token rounds it.
        if stake.is_zero() || (shortfall * stake).div_ceil(base).is_zero() || id == slashing {
            continue;
        }
        if token.staleUndelegatedIn(id).call().await.map_err(contract("read staleUndelegatedIn"))? == epoch {
            continue;
        }
        let delegation =
            registry.delegation(id, system.token).call().await.map_err(contract("read a delegation"))?;
        if delegation.pendingChanges >= U256::from(max_changes) {
            continue;
        }
        let action = format!("undelegate pool {id}'s part of the queue's shortfall");
        let call = token.staleUndelegate(id);
        let done_elsewhere = |e: &alloy::contract::Error| {
            refused_with::<LiquidStakingToken::NothingToUndelegate>(e)
                || refused_with::<LiquidStakingToken::NotStale>(e)
        };
        let Some(receipt) = act(provider, &action, &call, done_elsewhere).await? else { continue };
        for e in events::<LiquidStakingToken::StakeUndelegated>(&receipt, system.token) {
            done.push(Duty::StaleUndelegated {
                sequencer: e.id,
                completion_epoch: e.completionEpoch,
                amount: e.amount,
            });
        }
    }
    Ok(done)
}
