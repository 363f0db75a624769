//! The devnet's oracle members (the configuration's three, quorum two) closing epochs on
//! chain: after each epoch, every ended epoch not yet reported (at most
//! `report.max_epochs_per_report` a report) is read from the chain at the reference block
//! (`chain::inputs`), settled by `economics`, and built into a report with the liquid pool's
//! actions: its rewards as the harvest will claim them (from a dry run of the report on the
//! chain itself, undone with an anvil snapshot), the buffer surplus water-filled over the
//! recorded set (`economics::allocation`) and the next active set. Two members vote its hash;
//! the member at `slot mod n` executes every step.
//!
//! Not built yet: members with their own SQLite state and recovery, turn-taking when the first
//! executor stalls, finalization batches, and keeper duties.

use alloy::{
    eips::BlockId,
    primitives::{B256, U256},
    providers::{Provider, ext::AnvilApi},
    sol_types::SolError,
};

use super::{Devnet, DevnetError, chains::SETTLEMENT_CHAIN_ID};
use crate::{
    chain::{
        bindings::{
            SequencerRegistry,
            executor::{ReportExecutor, ReportTypes, report_for_call},
            liquid::LiquidStakingToken,
        },
        inputs::{InputSources, gather_range, settle_gathered},
        report::{Execution, execute_report},
        tx::confirm_sent,
    },
    economics::{
        allocation::{AllocationLimits, Candidate, allocate},
        producer::{SetCandidate, top_by_stake},
        report::{AllocationTarget, LiquidActions, Report, build_report, report_hash},
        settlement::SettlementParams,
    },
};

/// One executed report.
#[derive(Debug, Clone)]
pub struct ReportRun {
    /// Its first epoch.
    pub first: u64,
    /// Its last epoch.
    pub last: u64,
    /// The hash the members voted.
    pub hash: B256,
    /// Its calls.
    pub calls: usize,
    /// Gas of all its calls.
    pub gas: u64,
    /// What it paid the sequencers.
    pub rewards: U256,
    /// The pool's rewards it harvested.
    pub pool_rewards: U256,
    /// Errors the pool's steps were refused with (decoded names where known).
    pub refused_pool_steps: Vec<String>,
    /// Whether the registry refused its active set.
    pub active_set_rejected: bool,
}

/// Reports every ended epoch through `last_epoch` not reported yet, as of `ref_block`. `alter`
/// changes each report after it is built and before the members vote it: the identity for
/// honest members; a test's colluding members change what the contract cannot check.
pub async fn report_ended_epochs(
    devnet: &Devnet,
    ref_block: u64,
    last_epoch: u64,
    alter: &dyn Fn(&mut Report),
) -> Result<Vec<ReportRun>, DevnetError> {
    let mut runs = Vec::new();
    let reader = devnet.settlement.reader();
    let executor = ReportExecutor::new(devnet.world.system.executor, &reader);
    let max_epochs = u64::from(devnet.config.report.max_epochs_per_report);
    loop {
        let first =
            executor.nextEpoch().call().await.map_err(|s| DevnetError::contract("read nextEpoch", s))?;
        if first > last_epoch {
            return Ok(runs);
        }
        let last = last_epoch.min(first + max_epochs - 1);
        runs.push(report_range(devnet, first, last, ref_block, alter).await?);
    }
}

async fn report_range(
    devnet: &Devnet,
    first: u64,
    last: u64,
    ref_block: u64,
    alter: &dyn Fn(&mut Report),
) -> Result<ReportRun, DevnetError> {
    let sources = input_sources(devnet);
    let gathered = gather_range(&sources, &devnet.config, first, last, ref_block, BlockId::latest()).await?;
    let params =
        SettlementParams::from_config(&devnet.config).map_err(|e| DevnetError::Invariant(e.to_string()))?;
    let (settlements, entries) =
        settle_gathered(&gathered, &params).map_err(|e| DevnetError::Invariant(e.to_string()))?;
    let rewards: U256 = settlements.iter().flat_map(|s| &s.sequencers).map(|s| s.reward).sum();
    let next_set = next_active_set(devnet, ref_block).await?;
    let allocation = allocation(devnet, ref_block).await?;
    let build = |pool_rewards: U256| -> Result<Report, DevnetError> {
        let liquid =
            LiquidActions { poolRewards: pool_rewards, allocation: allocation.clone(), batches: vec![] };
        build_report(
            ref_block,
            SETTLEMENT_CHAIN_ID,
            entries.clone(),
            next_set.clone(),
            liquid,
            devnet.config.report.max_epochs_per_report,
        )
        .map_err(|e| DevnetError::Invariant(e.to_string()))
    };

    // The dry run: the report with no pool rewards, voted and executed, then undone; a refused
    // harvest names what it would have claimed.
    let snapshot = devnet.settlement.reader().anvil_snapshot().await.map_err(rpc("take a snapshot"))?;
    let dry = build(U256::ZERO)?;
    let dry_run = vote_and_execute(devnet, &dry).await;
    let reverted =
        devnet.settlement.reader().anvil_revert(snapshot).await.map_err(rpc("undo the dry run"))?;
    if !reverted {
        return Err(DevnetError::Invariant("anvil could not undo the dry run".to_owned()));
    }
    let (dry_execution, _) = dry_run?;
    let pool_rewards = dry_execution
        .refused_pool_steps
        .iter()
        .find_map(|reason| ReportExecutor::PoolRewardsMismatch::abi_decode(reason).ok())
        .map_or(U256::ZERO, |mismatch| mismatch.harvested);

    let mut report = build(pool_rewards)?;
    alter(&mut report);
    let (execution, hash) = vote_and_execute(devnet, &report).await?;
    let mut gas = 0u64;
    for call in &execution.calls {
        let receipt = devnet
            .settlement
            .reader()
            .get_transaction_receipt(*call)
            .await
            .map_err(rpc("read a report call's receipt"))?
            .ok_or_else(|| DevnetError::Invariant(format!("report call {call} has no receipt")))?;
        gas += receipt.gas_used;
    }
    Ok(ReportRun {
        first,
        last,
        hash,
        calls: execution.calls.len(),
        gas,
        rewards,
        pool_rewards,
        refused_pool_steps: execution.refused_pool_steps.iter().map(|r| describe_refusal(r)).collect(),
        active_set_rejected: execution.active_set_rejected,
    })
}

/// Where the devnet's chains are read for reports and `verify`.
pub fn input_sources(devnet: &Devnet) -> InputSources {
    InputSources {
        settlement: devnet.settlement.reader(),
        served: devnet
            .world
            .system
            .vaults
            .iter()
            .map(|&(chain_id, _)| {
                (chain_id, (chain_id == devnet.served.chain_id).then(|| devnet.served.reader()))
            })
            .collect(),
        system: devnet.world.system.clone(),
        genesis_time: devnet.world.genesis_time,
        schedule_first_epoch: devnet.world.first_epoch,
        earliest_block: devnet.world.ready_block,
    }
}

fn rpc(action: &'static str) -> impl Fn(alloy::transports::TransportError) -> DevnetError {
    move |source| DevnetError::Rpc { action: action.to_owned(), source }
}

/// The name of a refused pool step's error, when it is the report contract's.
fn describe_refusal(reason: &[u8]) -> String {
    use alloy::sol_types::SolInterface;
    ReportExecutor::ReportExecutorErrors::abi_decode(reason)
        .map_or_else(|_| format!("0x{}", alloy::hex::encode(reason)), |e| format!("{e:?}"))
}

/// The configured members as development accounts, in the configuration's order.
fn member_accounts(devnet: &Devnet) -> Result<Vec<usize>, DevnetError> {
    devnet
        .config
        .oracle
        .members
        .iter()
        .map(|member| {
            (0..super::chains::ACCOUNTS).find(|&i| devnet.settlement.address(i) == *member).ok_or_else(|| {
                DevnetError::Invariant(format!("oracle member {member} is no development account"))
            })
        })
        .collect()
}

/// A quorum of members votes the report's hash for its first epoch; the member at `slot mod
/// n` executes it, every step.
async fn vote_and_execute(devnet: &Devnet, report: &Report) -> Result<(Execution, B256), DevnetError> {
    let executor = devnet.world.system.executor;
    let hash = report_hash(report, SETTLEMENT_CHAIN_ID, executor);
    let slot = report.header.firstEpoch;
    let members = member_accounts(devnet)?;
    let quorum = usize::try_from(devnet.config.oracle.quorum).unwrap_or(usize::MAX);
    for &member in members.iter().take(quorum) {
        let wallet = devnet.settlement.wallet(member);
        let sent = ReportExecutor::new(executor, &wallet).vote(slot, hash).send().await;
        confirm_sent(
            &wallet,
            &format!("member {member} votes the report from epoch {slot}"),
            sent.map(|p| *p.tx_hash()),
        )
        .await?;
    }
    let turn = usize::try_from(slot % members.len() as u64).unwrap_or(0);
    let wallet = devnet.settlement.wallet(members[turn]);
    let call: ReportTypes::Report =
        report_for_call(report).map_err(|e| DevnetError::Invariant(e.to_string()))?;
    let execution = execute_report(&wallet, executor, &call).await?;
    Ok((execution, hash))
}

/// The next active set: the eligible top by stake as the registry holds it at `ref_block`.
async fn next_active_set(devnet: &Devnet, ref_block: u64) -> Result<Vec<u32>, DevnetError> {
    let reader = devnet.settlement.reader();
    let registry = SequencerRegistry::new(devnet.world.system.registry, &reader);
    let at = BlockId::number(ref_block);
    let contract = |action: &'static str| move |s| DevnetError::contract(action, s);
    let mut candidates = Vec::new();
    for id in registry.candidates().call().block(at).await.map_err(contract("read the candidates"))? {
        let s = registry.sequencer(id).call().block(at).await.map_err(contract("read a sequencer"))?;
        let pool = registry.pool(id).call().block(at).await.map_err(contract("read a pool"))?;
        candidates.push(SetCandidate {
            id,
            stake: s.bond + pool.tokens,
            eligible: s.status == 1 && !s.jailed && s.bond >= devnet.config.staking.min_bond,
        });
    }
    let max_active = usize::try_from(devnet.config.staking.max_active_sequencers).unwrap_or(usize::MAX);
    Ok(top_by_stake(&candidates, max_active))
}

/// The pool's allocation: what it holds now plus the buffer's spare (beyond the queue's pending
/// tickets and the buffer target), water-filled over the set the registry has recorded (the
/// moves run before this report's set takes over).
async fn allocation(devnet: &Devnet, ref_block: u64) -> Result<Vec<AllocationTarget>, DevnetError> {
    let reader = devnet.settlement.reader();
    let at = BlockId::number(ref_block);
    let contract = |action: &'static str| move |s| DevnetError::contract(action, s);
    let registry = SequencerRegistry::new(devnet.world.system.registry, &reader);
    let token = LiquidStakingToken::new(devnet.world.system.token, &reader);
    let recorded = registry.activeSet().call().block(at).await.map_err(contract("read the active set"))?;
    if recorded.is_empty() {
        return Ok(Vec::new());
    }
    let pooled =
        token.totalPooledAssets().call().block(at).await.map_err(contract("read totalPooledAssets"))?;
    let liquid = &devnet.config.liquid;
    let bps = |value: U256, bps: u16| value * U256::from(bps) / U256::from(10_000u64);
    // A jailed member, or a sequencer out of the set, keeps what the pool holds with it (moving
    // it away would undelegate, which the token refuses unless the queue needs it); the set's
    // other members share the spare.
    let mut candidates = Vec::new();
    let mut kept = Vec::new();
    let mut current_total = U256::ZERO;
    // The pool's stake with a sequencer, as the report contract counts it: its delegation and
    // the positions redelegated into it, at their booked value.
    let positions = token.positions().call().block(at).await.map_err(contract("read positions"))?;
    for id in registry.candidates().call().block(at).await.map_err(contract("read the candidates"))? {
        let delegated = token.stakeOf(id).call().block(at).await.map_err(contract("read stakeOf"))?;
        let current = delegated
            + positions.iter().filter(|p| p.dst == id && !p.released).map(|p| p.booked).sum::<U256>();
        let s = registry.sequencer(id).call().block(at).await.map_err(contract("read a sequencer"))?;
        if s.jailed || !recorded.contains(&id) {
            if !current.is_zero() {
                kept.push(AllocationTarget { sequencerId: id, target: current });
            }
            continue;
        }
        let pool = registry.pool(id).call().block(at).await.map_err(contract("read a pool"))?;
        current_total += current;
        candidates.push(Candidate {
            id,
            current,
            total_stake: s.bond + pool.tokens,
            active: true,
            jailed: false,
        });
    }
    // What the buffer can give: beyond what the queue's pending tickets may need and the
    // buffer target.
    let buffered =
        U256::from(token.bufferedAssets().call().block(at).await.map_err(contract("read bufferedAssets"))?);
    let queue = crate::chain::bindings::liquid::WithdrawalQueue::new(devnet.world.system.queue, &reader);
    let pending = queue.pendingAssets().call().block(at).await.map_err(contract("read pendingAssets"))?;
    let spare = buffered.saturating_sub(pending).saturating_sub(bps(pooled, liquid.buffer_target_bps));
    let target_total = current_total + spare;
    let limits = AllocationLimits {
        per_sequencer_cap: bps(pooled, liquid.per_sequencer_cap_bps),
        max_moved: liquid.max_moved_per_epoch,
    };
    let allocation =
        allocate(&candidates, target_total, &limits).map_err(|e| DevnetError::Invariant(e.to_string()))?;
    let mut targets: Vec<AllocationTarget> = allocation
        .targets
        .into_iter()
        .map(|(id, target)| AllocationTarget { sequencerId: id, target })
        .chain(kept)
        .collect();
    targets.sort_by_key(|t| t.sequencerId);
    Ok(targets)
}
