//! The devnet's oracle members (the configuration's three, quorum two) closing epochs on
//! chain: after each epoch, every ended epoch not yet reported (at most
//! `report.max_epochs_per_report` a report) is read from the chain at the reference block
//! (`chain::inputs`), settled by `economics`, and built into a report with the liquid pool's
//! actions: its rewards as the harvest will claim them (from a dry run of the report on the
//! chain itself, undone with an anvil snapshot), the buffer surplus water-filled over the
//! recorded set (`economics::allocation`) and the next active set.
//!
//! Each member builds the report itself and keeps it in its own store (`store::member`, one
//! SQLite file per member in the devnet's state folder), then votes its hash, unless its own
//! `HashVoted` log already shows that vote (a member that lost its database recovers its votes
//! from the chain and never votes twice). At quorum the members take turns executing: the
//! member at `slot mod n` first; each next member in turn after [`PATIENCE_BLOCKS`] more
//! settlement blocks without progress (the report's state unchanged, counted from the block the
//! quorum agreed the hash in), so a stalled or failing executor
//! delays a report by a few blocks, never stops it. A member executes only a hash it voted and
//! the quorum agreed, simulates every call before sending it, runs every step until the report
//! ends, and only then do the members build the next report. A simulated call refused because
//! another member advanced or ended the report is not an alarm.
//!
//! The pool's finalization batches come from a second dry run, stopped right after its
//! harvest: the tickets pending at the reference block, cut by `economics::finalization` at the
//! finalization rate (bunker mode included) and paid from the buffer the harvest leaves.

use alloy::{
    eips::BlockId,
    primitives::{Address, B256, U256},
    providers::{Provider, ext::AnvilApi},
    rpc::types::Filter,
    sol_types::{SolError, SolEvent},
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
        queue::pending_tickets,
        report::{Execution, execute_report, execute_step},
        tx::confirm_sent,
    },
    economics::{
        allocation::{AllocationLimits, Candidate, allocate},
        finalization::{MAX_BATCHES, plan_batches},
        moves::{PoolStake, fit_moves},
        producer::{SetCandidate, top_by_stake},
        report::{AllocationTarget, FinalizationBatch, LiquidActions, Report, build_report, report_hash},
        settlement::SettlementParams,
    },
    store::member::MemberStore,
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
    /// The members (by their position in the configuration) that sent its calls, in order,
    /// with how many calls each sent.
    pub executors: Vec<(usize, usize)>,
    /// Settlement blocks mined while no member made progress (a stalled executor's delay).
    pub waited_blocks: u64,
    /// The block the quorum agreed its hash in.
    pub agreed_block: u64,
    /// The block of its first call.
    pub first_call_block: u64,
}

/// How many settlement blocks without progress before the next member in turn executes.
pub const PATIENCE_BLOCKS: u64 = 2;

/// One oracle member: a development account and its own store.
#[derive(Debug)]
pub struct Member {
    /// Its position in the configuration's member list.
    pub position: usize,
    /// Its development account.
    pub account: usize,
    /// Its address.
    pub address: Address,
    /// Its own state.
    pub store: MemberStore,
    /// `Some(k)`: the member sends at most `k` calls of each report and then goes silent (a
    /// stalled executor, for demonstrations and tests).
    pub stall_after: Option<usize>,
}

/// Opens each configured member's store in `dir` (`member-<position>.sqlite`), migrating it.
pub async fn open_members(
    devnet_settlement: &super::chains::LocalChain,
    config: &crate::config::EconomicsConfig,
    executor: Address,
    dir: &std::path::Path,
    stalled: &std::collections::BTreeMap<usize, usize>,
) -> Result<Vec<Member>, DevnetError> {
    std::fs::create_dir_all(dir).map_err(|source| DevnetError::Io { path: dir.to_owned(), source })?;
    let mut members = Vec::new();
    for (position, address) in config.oracle.members.iter().enumerate() {
        let account =
            (0..super::chains::ACCOUNTS).find(|&i| devnet_settlement.address(i) == *address).ok_or_else(
                || DevnetError::Invariant(format!("oracle member {address} is no development account")),
            )?;
        let path = dir.join(format!("member-{position}.sqlite"));
        let store = MemberStore::open_sqlite(&path, *address, SETTLEMENT_CHAIN_ID, executor).await?;
        members.push(Member {
            position,
            account,
            address: *address,
            store,
            stall_after: stalled.get(&position).copied(),
        });
    }
    Ok(members)
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
    // A report left half executed (its members stopped) is finished first, in turns: votes are
    // closed while it executes.
    if let Some(run) = resume_executing(devnet).await? {
        runs.push(run);
    }
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

/// The report executing now, if one is (it opened with the latest `ReportInputs`), taken to its
/// end by the members in turns, each with the report it keeps (or the chain's copy).
async fn resume_executing(devnet: &Devnet) -> Result<Option<ReportRun>, DevnetError> {
    let reader = devnet.settlement.reader();
    let executor = ReportExecutor::new(devnet.world.system.executor, &reader);
    if executor.executing().call().await.map_err(|s| DevnetError::contract("read executing", s))?
        == B256::ZERO
    {
        return Ok(None);
    }
    let inputs = executor
        .ReportInputs_filter()
        .from_block(devnet.world.ready_block)
        .query()
        .await
        .map_err(|s| DevnetError::contract("read ReportInputs", s))?;
    let (event, _) = inputs
        .last()
        .ok_or_else(|| DevnetError::Invariant("a report executes but left no ReportInputs".to_owned()))?;
    let report = <Report as alloy::sol_types::SolValue>::abi_decode(&event.report)
        .map_err(|e| DevnetError::Invariant(format!("decode ReportInputs: {e}")))?;
    let slot = report.header.firstEpoch;
    let hash = report_hash(&report, SETTLEMENT_CHAIN_ID, devnet.world.system.executor);
    let mut built = Vec::with_capacity(devnet.members.len());
    for member in &devnet.members {
        built.push(match member.store.report(slot).await? {
            Some(stored) => (stored.report, stored.hash),
            None => (report.clone(), hash),
        });
    }
    let turns = execute_in_turns(devnet, slot, &built).await?;
    let gas = calls_gas(devnet, &turns.execution).await?;
    let rewards = report.epochs.iter().flat_map(|e| &e.sequencers).map(|s| s.reward).sum();
    Ok(Some(turns.into_run(slot, report.header.lastEpoch, gas, rewards, report.liquid.poolRewards)))
}

/// The gas of an execution's calls.
async fn calls_gas(devnet: &Devnet, execution: &Execution) -> Result<u64, DevnetError> {
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
    Ok(gas)
}

async fn report_range(
    devnet: &Devnet,
    first: u64,
    last: u64,
    ref_block: u64,
    alter: &dyn Fn(&mut Report),
) -> Result<ReportRun, DevnetError> {
    // Every member builds the report itself and keeps it; colluding members (the first
    // `quorum`, in tests) alter theirs.
    let quorum = usize::try_from(devnet.config.oracle.quorum).unwrap_or(usize::MAX);
    let mut built = Vec::with_capacity(devnet.members.len());
    let mut rewards = U256::ZERO;
    let mut pool_rewards = U256::ZERO;
    for member in &devnet.members {
        let (mut report, paid, pool) = build_honest(devnet, first, last, ref_block).await?;
        (rewards, pool_rewards) = (paid, pool);
        if member.position < quorum {
            alter(&mut report);
        }
        let hash = report_hash(&report, SETTLEMENT_CHAIN_ID, devnet.world.system.executor);
        member.store.record_built(&report, hash).await?;
        built.push((report, hash));
    }
    for (member, (_, hash)) in devnet.members.iter().zip(&built) {
        vote(devnet, member, first, *hash).await?;
    }
    fail::fail_point!("oracle::voted", |_| Err(DevnetError::Invariant(format!(
        "failpoint oracle::voted: the members stopped after voting the report from epoch {first}"
    ))));
    let turns = execute_in_turns(devnet, first, &built).await?;
    let gas = calls_gas(devnet, &turns.execution).await?;
    Ok(turns.into_run(first, last, gas, rewards, pool_rewards))
}

/// The report an honest member builds for `first..=last` at `ref_block`, with what it pays the
/// sequencers and the pool's rewards.
async fn build_honest(
    devnet: &Devnet,
    first: u64,
    last: u64,
    ref_block: u64,
) -> Result<(Report, U256, U256), DevnetError> {
    let sources = input_sources(devnet);
    let gathered = gather_range(&sources, &devnet.config, first, last, ref_block, BlockId::latest()).await?;
    let params =
        SettlementParams::from_config(&devnet.config).map_err(|e| DevnetError::Invariant(e.to_string()))?;
    let (settlements, entries) =
        settle_gathered(&gathered, &params).map_err(|e| DevnetError::Invariant(e.to_string()))?;
    let rewards: U256 = settlements.iter().flat_map(|s| &s.sequencers).map(|s| s.reward).sum();
    let next_set = next_active_set(devnet, ref_block).await?;
    let allocation = allocation(devnet, ref_block).await?;
    let build = |pool_rewards: U256, batches: Vec<FinalizationBatch>| -> Result<Report, DevnetError> {
        let liquid = LiquidActions { poolRewards: pool_rewards, allocation: allocation.clone(), batches };
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
    let dry_execution = undone(devnet, dry_run(devnet, &build(U256::ZERO, vec![])?, false)).await?.0;
    let pool_rewards = dry_execution
        .refused_pool_steps
        .iter()
        .find_map(|reason| ReportExecutor::PoolRewardsMismatch::abi_decode(reason).ok())
        .map_or(U256::ZERO, |mismatch| mismatch.harvested);

    // The finalization batches: the tickets pending at the reference block, cut at the rate and
    // paid from the buffer the harvest leaves, both read from a second dry run stopped right
    // after its harvest (where the report's finalization will run).
    let tickets = pending_tickets(
        &devnet.settlement.reader(),
        &devnet.world.system,
        BlockId::number(ref_block),
        MAX_TICKETS_READ,
    )
    .await?;
    let mut batches = Vec::new();
    if !tickets.is_empty() {
        let (_, after_harvest) = undone(devnet, dry_run(devnet, &build(pool_rewards, vec![])?, true)).await?;
        if let Some((rate, buffer)) = after_harvest {
            batches = plan_batches(&tickets, rate, buffer, MAX_BATCHES)
                .map_err(|e| DevnetError::Invariant(format!("plan the finalization batches: {e}")))?
                .batches;
        }
    }
    Ok((build(pool_rewards, batches)?, rewards, pool_rewards))
}

/// The most pending tickets a report considers.
const MAX_TICKETS_READ: u64 = 1_000;

/// Runs `dry` on the settlement chain and undoes it (an anvil snapshot).
async fn undone<T>(
    devnet: &Devnet,
    dry: impl std::future::Future<Output = Result<T, DevnetError>>,
) -> Result<T, DevnetError> {
    let reader = devnet.settlement.reader();
    let snapshot = reader.anvil_snapshot().await.map_err(rpc("take a snapshot"))?;
    let result = dry.await;
    if !reader.anvil_revert(snapshot).await.map_err(rpc("undo the dry run"))? {
        return Err(DevnetError::Invariant("anvil could not undo the dry run".to_owned()));
    }
    result
}

/// The member's own latest vote for `slot` under the current membership (votes reset when it
/// changes), from its `HashVoted` logs since the last `MembershipSet`: the hash and the vote's
/// transaction.
async fn own_vote(devnet: &Devnet, member: &Member, slot: u64) -> Result<Option<(B256, B256)>, DevnetError> {
    let memberships = Filter::new()
        .address(devnet.world.system.executor)
        .event_signature(ReportExecutor::MembershipSet::SIGNATURE_HASH)
        .from_block(0);
    let since = devnet
        .settlement
        .reader()
        .get_logs(&memberships)
        .await
        .map_err(rpc("read the membership changes"))?
        .last()
        .and_then(|log| log.block_number)
        .unwrap_or(devnet.world.ready_block);
    let filter = Filter::new()
        .address(devnet.world.system.executor)
        .event_signature(ReportExecutor::HashVoted::SIGNATURE_HASH)
        .topic1(B256::from(U256::from(slot)))
        .topic2(member.address.into_word())
        .from_block(since);
    let logs = devnet.settlement.reader().get_logs(&filter).await.map_err(rpc("read the member's votes"))?;
    let Some(log) = logs.last() else { return Ok(None) };
    let voted = log
        .log_decode::<ReportExecutor::HashVoted>()
        .map_err(|e| DevnetError::Invariant(format!("undecodable HashVoted log: {e}")))?;
    Ok(Some((voted.inner.data.reportHash, log.transaction_hash.unwrap_or_default())))
}

/// The member votes `hash` for `slot`, unless the chain already holds that vote of its own
/// (recovered into its store then).
async fn vote(devnet: &Devnet, member: &Member, slot: u64, hash: B256) -> Result<(), DevnetError> {
    if let Some((voted, tx)) = own_vote(devnet, member, slot).await?
        && voted == hash
    {
        return Ok(member.store.record_vote(slot, tx).await?);
    }
    let wallet = devnet.settlement.wallet(member.account);
    let contract = ReportExecutor::new(devnet.world.system.executor, &wallet);
    let action = format!("member {} votes the report from epoch {slot}", member.position);
    contract
        .vote(slot, hash)
        .call()
        .await
        .map_err(|source| DevnetError::contract(format!("{action} (simulated)"), source))?;
    let sent = contract.vote(slot, hash).send().await;
    let receipt = confirm_sent(&wallet, &action, sent.map(|p| *p.tx_hash())).await?;
    Ok(member.store.record_vote(slot, receipt.transaction_hash).await?)
}

/// What the turn-taking did.
struct Turns {
    hash: B256,
    execution: Execution,
    executors: Vec<(usize, usize)>,
    waited_blocks: u64,
    agreed_block: u64,
    first_call_block: u64,
}

impl Turns {
    /// The run of the report `first..=last` these turns executed.
    fn into_run(self, first: u64, last: u64, gas: u64, rewards: U256, pool_rewards: U256) -> ReportRun {
        ReportRun {
            first,
            last,
            hash: self.hash,
            calls: self.execution.calls.len(),
            gas,
            rewards,
            pool_rewards,
            refused_pool_steps: self
                .execution
                .refused_pool_steps
                .iter()
                .map(|r| describe_refusal(r))
                .collect(),
            active_set_rejected: self.execution.active_set_rejected,
            executors: self.executors,
            waited_blocks: self.waited_blocks,
            agreed_block: self.agreed_block,
            first_call_block: self.first_call_block,
        }
    }
}

/// The report contract's progress: next epoch, the executing hash, its stage and the last
/// sequencer paid.
async fn progress(devnet: &Devnet) -> Result<(u64, B256, u8, u32), DevnetError> {
    let reader = devnet.settlement.reader();
    let executor = ReportExecutor::new(devnet.world.system.executor, &reader);
    let contract = |action: &'static str| move |s| DevnetError::contract(action, s);
    Ok((
        executor.nextEpoch().call().await.map_err(contract("read nextEpoch"))?,
        executor.executing().call().await.map_err(contract("read executing"))?,
        executor.stage().call().await.map_err(contract("read the stage"))?,
        executor.paidThrough().call().await.map_err(contract("read paidThrough"))?,
    ))
}

/// The hash the quorum agreed for `slot` and the block it was agreed in, from `HashAgreed`.
async fn agreed(devnet: &Devnet, slot: u64) -> Result<(B256, u64), DevnetError> {
    let filter = Filter::new()
        .address(devnet.world.system.executor)
        .event_signature(ReportExecutor::HashAgreed::SIGNATURE_HASH)
        .topic1(B256::from(U256::from(slot)))
        .from_block(devnet.world.ready_block);
    let logs = devnet.settlement.reader().get_logs(&filter).await.map_err(rpc("read the agreed hash"))?;
    logs.last()
        .and_then(|log| {
            let decoded = log.log_decode::<ReportExecutor::HashAgreed>().ok()?;
            Some((decoded.inner.data.reportHash, log.block_number?))
        })
        .ok_or_else(|| {
            DevnetError::Invariant(format!("no hash reached the quorum for the report from epoch {slot}"))
        })
}

/// The members take turns executing the agreed report of `slot` (see the module's doc).
async fn execute_in_turns(
    devnet: &Devnet,
    slot: u64,
    built: &[(Report, B256)],
) -> Result<Turns, DevnetError> {
    let reader = devnet.settlement.reader();
    let executor = ReportExecutor::new(devnet.world.system.executor, &reader);
    let (agreed_hash, agreed_block) = agreed(devnet, slot).await?;
    let n = devnet.members.len();
    let order: Vec<usize> =
        (0..n).map(|j| usize::try_from((slot + j as u64) % n as u64).unwrap_or(0)).collect();
    let mut turns = Turns {
        hash: agreed_hash,
        execution: Execution {
            calls: Vec::new(),
            refused_pool_steps: Vec::new(),
            active_set_rejected: false,
        },
        executors: Vec::new(),
        waited_blocks: 0,
        agreed_block,
        first_call_block: 0,
    };
    let mut sent_by = vec![0usize; n];
    let mut failed = vec![false; n];
    let mut failures = Vec::new();
    let mut state = progress(devnet).await?;
    let mut changed_at = agreed_block;
    let rounds = crate::chain::report::MAX_CALLS * 4 + 2 * n * usize::try_from(PATIENCE_BLOCKS).unwrap_or(1);
    for _ in 0..rounds {
        // Done once the report has opened (the next epoch moved past it) and ended (nothing
        // executing).
        if state.0 > slot && state.1 == B256::ZERO {
            return Ok(turns);
        }
        let head = reader.get_block_number().await.map_err(rpc("read the settlement head"))?;
        let due = usize::try_from((head - changed_at) / PATIENCE_BLOCKS).unwrap_or(usize::MAX).min(n - 1);
        let mut acted = false;
        // The members whose turn has come, and any member that has already taken the report
        // up: it runs it to its end unless it stalls.
        for (j, &position) in order.iter().enumerate() {
            if j > due && sent_by[position] == 0 {
                continue;
            }
            let member = &devnet.members[position];
            let (report, hash) = &built[position];
            // A member executes only what it voted, once agreed; a stalled one stays silent.
            if *hash != agreed_hash
                || failed[position]
                || member.stall_after.is_some_and(|k| sent_by[position] >= k)
            {
                continue;
            }
            let wallet = devnet.settlement.wallet(member.account);
            let call: ReportTypes::Report =
                report_for_call(report).map_err(|e| DevnetError::Invariant(e.to_string()))?;
            let action = format!(
                "member {position} executes the report from epoch {slot} (call {})",
                turns.execution.calls.len() + 1
            );
            match execute_step(&wallet, devnet.world.system.executor, &call, &action).await {
                Ok(step) => {
                    if turns.execution.calls.is_empty() {
                        turns.first_call_block = step.block;
                    }
                    turns.execution.add(&step);
                    sent_by[position] += 1;
                    match turns.executors.last_mut() {
                        Some((last, calls)) if *last == position => *calls += 1,
                        _ => turns.executors.push((position, 1)),
                    }
                    member.store.record_call(slot).await?;
                    if step.ended {
                        for m in &devnet.members {
                            if m.store.report(slot).await?.is_some() {
                                m.store.record_executed(slot, step.block).await?;
                            }
                        }
                    }
                    acted = true;
                    break;
                }
                Err(err) => {
                    // Refused because the report moved on meanwhile (another member's call, or
                    // this one's landing late): not an alarm, the round counts as progress.
                    if progress(devnet).await? != state {
                        acted = true;
                        break;
                    }
                    // This member cannot act (its call refused, its node or its funds failing):
                    // it sits the report out and the turn passes on after the patience.
                    failures.push(format!("member {position}: {err}"));
                    failed[position] = true;
                }
            }
        }
        if !acted {
            // Nobody made progress: the settlement chain goes on without the report.
            reader.anvil_mine(Some(1), None).await.map_err(rpc("mine an empty settlement block"))?;
            turns.waited_blocks += 1;
        }
        let now = progress(devnet).await?;
        if now != state {
            state = now;
            changed_at = reader.get_block_number().await.map_err(rpc("read the settlement head"))?;
        }
    }
    let next = executor.nextEpoch().call().await.map_err(|s| DevnetError::contract("read nextEpoch", s))?;
    Err(DevnetError::Invariant(format!(
        "the report from epoch {slot} did not end (next epoch {next}): every member stalled or failed{}",
        if failures.is_empty() { String::new() } else { format!(" ({})", failures.join("; ")) }
    )))
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

/// The dry run of an honest member, on state the caller undoes: a quorum of members votes the
/// report and the member at `slot mod n` executes it, to its end or, with
/// `stop_after_harvest`, until its harvest ran; then the token's finalization rate and buffer
/// (`None` when the harvest was refused).
async fn dry_run(
    devnet: &Devnet,
    report: &Report,
    stop_after_harvest: bool,
) -> Result<(Execution, Option<(U256, U256)>), DevnetError> {
    let executor = devnet.world.system.executor;
    let hash = report_hash(report, SETTLEMENT_CHAIN_ID, executor);
    let slot = report.header.firstEpoch;
    let quorum = usize::try_from(devnet.config.oracle.quorum).unwrap_or(usize::MAX);
    for member in devnet.members.iter().take(quorum) {
        let wallet = devnet.settlement.wallet(member.account);
        let sent = ReportExecutor::new(executor, &wallet).vote(slot, hash).send().await;
        confirm_sent(
            &wallet,
            &format!("dry run: member {} votes", member.position),
            sent.map(|p| *p.tx_hash()),
        )
        .await?;
    }
    let turn = usize::try_from(slot % devnet.members.len() as u64).unwrap_or(0);
    let wallet = devnet.settlement.wallet(devnet.members[turn].account);
    let call: ReportTypes::Report =
        report_for_call(report).map_err(|e| DevnetError::Invariant(e.to_string()))?;
    if !stop_after_harvest {
        return Ok((execute_report(&wallet, executor, &call).await?, None));
    }
    let mut execution =
        Execution { calls: Vec::new(), refused_pool_steps: Vec::new(), active_set_rejected: false };
    loop {
        let step = execute_step(&wallet, executor, &call, "dry run: execute").await?;
        execution.add(&step);
        if step.ended {
            return Ok((execution, None));
        }
        if progress(devnet).await?.2 == STAGE_MOVING {
            let token = LiquidStakingToken::new(devnet.world.system.token, devnet.settlement.reader());
            let contract = |action: &'static str| move |s| DevnetError::contract(action, s);
            let rate = token.finalizationRate().call().await.map_err(contract("read finalizationRate"))?;
            let buffer =
                U256::from(token.bufferedAssets().call().await.map_err(contract("read bufferedAssets"))?);
            return Ok((execution, Some((rate, buffer))));
        }
    }
}

/// `ReportExecutor.Stage.Moving`: the harvest ran, the moves are next.
const STAGE_MOVING: u8 = 3;

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

/// `LiquidCore.MAX_POSITIONS`: the token's most unreleased positions (it lists at most twice as
/// many).
const MAX_POSITIONS: usize = 32;

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
    let mut pools = Vec::new();
    // The pool's stake with a sequencer, as the report contract counts it: its delegation and
    // the positions redelegated into it, at their booked value.
    let positions = token.positions().call().block(at).await.map_err(contract("read positions"))?;
    for id in registry.candidates().call().block(at).await.map_err(contract("read the candidates"))? {
        let delegated = token.stakeOf(id).call().block(at).await.map_err(contract("read stakeOf"))?;
        let redelegated_in: U256 =
            positions.iter().filter(|p| p.dst == id && !p.released).map(|p| p.booked).sum();
        pools.push(PoolStake { id, delegated, redelegated_in });
        let current = delegated + redelegated_in;
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
    // Within the report's moves limit (`economics::moves` counts them as the contract makes
    // them): the smallest changes wait for a later report.
    let max_moves = usize::from(devnet.config.report.max_stake_moves_per_report);
    let unreleased = positions.iter().filter(|p| !p.released).count();
    let room =
        MAX_POSITIONS.saturating_sub(unreleased).min((2 * MAX_POSITIONS).saturating_sub(positions.len()));
    fit_moves(&pools, &targets, max_moves, room).map_err(|e| DevnetError::Invariant(e.to_string()))
}
