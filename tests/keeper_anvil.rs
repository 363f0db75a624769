//! The keeper's duties on a real devnet (anvil, the committed artifacts, `config/devnet.toml`,
//! no settlement traffic but the tests' own): each duty's situation is made on chain, the
//! keeper (`keeper::run_duties`, as the devnet and `seqstake serve` run it) does exactly the
//! duty, with the on-chain effect it reports, and a second run finds nothing left to do.
//! - a stale oracle (no report for `staleTimeoutEpochs`): tickets finalized at the token's rate
//!   as far as the buffer pays, each pool's part of the shortfall undelegated, and once the
//!   buckets mature, brought back and the rest of the tickets finalized;
//! - a bucket a report opened to undelegate for the queue, brought back by the keeper before
//!   the next report, which then skips it;
//! - a report's active set the registry refused, refreshed with the right one;
//! - a pool that earns nothing while a delegator acts every epoch: its backlog recorded.
//!
//! Clocks are moved, never waited for.

use std::collections::BTreeSet;

use alloy::primitives::U256;
use seqstake::{
    chain::{
        bindings::{
            SequencerRegistry, SlashingManager,
            executor::ReportExecutor,
            liquid::{LiquidStakingToken, WithdrawalQueue},
        },
        tx::confirm_sent,
    },
    devnet::{
        Devnet, DevnetOptions,
        chains::Clock,
        world::{DELEGATORS, HOLDERS, KEEPER, tokens},
    },
    economics::report::Report,
    keeper::{Duty, MIN_BACKLOG, run_duties},
};

mod support;

/// The support devnet, quiet: no traffic, nobody offline, seed 11.
fn options(test: &str) -> DevnetOptions {
    let mut options = support::devnet::options(support::devnet::state_dir(&format!("keeper-{test}")));
    options.seed = 11;
    options.actions_per_epoch = 0;
    options.offline = BTreeSet::new();
    options
}

/// One run of the keeper's duties, from the devnet's keeper account.
async fn keeper(devnet: &Devnet) -> Vec<Duty> {
    run_duties(&devnet.settlement.wallet(KEEPER), &devnet.world.system).await.expect("the duties run")
}

/// Moves the settlement clock to the start of `epoch`.
async fn to_epoch(devnet: &Devnet, epoch: u64) {
    let start = devnet.world.genesis_time + epoch * devnet.config.epochs.length_seconds;
    Clock::of(&devnet.settlement).move_to(start).await.expect("move the clock");
}

async fn current_epoch(devnet: &Devnet) -> u64 {
    let registry = SequencerRegistry::new(devnet.world.system.registry, devnet.settlement.reader());
    registry.currentEpoch().call().await.expect("epoch")
}

/// Holder `account` asks the queue for about `assets` of its tokens; returns the ticket.
async fn request_withdrawal(devnet: &Devnet, account: usize, assets: U256) -> U256 {
    let wallet = devnet.settlement.wallet(account);
    let token = LiquidStakingToken::new(devnet.world.system.token, &wallet);
    let queue = WithdrawalQueue::new(devnet.world.system.queue, &wallet);
    let shares = token.convertToShares(assets).call().await.expect("shares");
    let sent = token.approve(devnet.world.system.queue, shares).send().await;
    confirm_sent(&wallet, "approve the queue", sent.map(|p| *p.tx_hash())).await.expect("approved");
    let owner = devnet.settlement.address(account);
    let sent = queue.requestWithdrawal(shares, owner).send().await;
    confirm_sent(&wallet, "request a withdrawal", sent.map(|p| *p.tx_hash())).await.expect("requested");
    queue.lastRequestId().call().await.expect("ticket")
}

/// The guardian vetoes the devnet's scripted slash proposal (made in its third epoch), so
/// that no slash moves the token's stake under the test.
async fn veto_scripted_slash(devnet: &Devnet) {
    let guardian = (0..40)
        .find(|&i| devnet.settlement.address(i) == devnet.world.system.guardian)
        .expect("the guardian is a development account");
    let wallet = devnet.settlement.wallet(guardian);
    let manager = SlashingManager::new(devnet.world.system.slashing_manager, &wallet);
    assert_eq!(manager.proposalCount().call().await.expect("count"), U256::from(1u64));
    let sent = manager.veto(U256::from(1u64)).send().await;
    confirm_sent(&wallet, "veto the scripted slash", sent.map(|p| *p.tx_hash())).await.expect("vetoed");
}

/// The token's pools with stake: `(id, stakeOf)`.
async fn token_stakes(devnet: &Devnet) -> Vec<(u32, U256)> {
    let token = LiquidStakingToken::new(devnet.world.system.token, devnet.settlement.reader());
    let mut stakes = Vec::new();
    for id in 1..=5u32 {
        let stake = token.stakeOf(id).call().await.expect("stakeOf");
        if !stake.is_zero() {
            stakes.push((id, stake));
        }
    }
    stakes
}

/// No report for the stale timeout: anyone finalizes the tickets the buffer pays at the
/// token's rate and undelegates each pool's part of what the queue lacks; once those buckets
/// mature, brings them back and finalizes the rest. Before the timeout, none of it.
#[tokio::test]
async fn a_stale_oracle_lets_the_keeper_pay_the_queue_from_the_buffer_and_the_pools() {
    let mut devnet = Devnet::start(options("stale")).await.expect("devnet starts");
    devnet.run_epoch().await.expect("the first report records the set");
    devnet.run_epoch().await.expect("the second delegates the buffer");
    let reader = devnet.settlement.reader();
    let system = devnet.world.system.clone();
    let token = LiquidStakingToken::new(system.token, &reader);
    let queue = WithdrawalQueue::new(system.queue, &reader);
    let registry = SequencerRegistry::new(system.registry, &reader);
    let stakes = token_stakes(&devnet).await;
    assert!(stakes.len() >= 2, "the pool delegates to several sequencers: {stakes:?}");

    // A small ticket the buffer pays and a large one it does not.
    let small = request_withdrawal(&devnet, HOLDERS[1], tokens(1)).await;
    let large = request_withdrawal(&devnet, HOLDERS[0], tokens(30)).await;
    assert_eq!((small, large), (U256::from(1u64), U256::from(2u64)));
    let small_value = queue.request(small).call().await.expect("ticket").assetsAtRequest;
    let large_value = queue.request(large).call().await.expect("ticket").assetsAtRequest;
    let buffer = U256::from(token.bufferedAssets().call().await.expect("buffer"));
    assert!(small_value <= buffer && small_value + large_value > buffer, "buffer {buffer}");

    // One epoch short of the timeout the oracle is not stale: nothing may be done.
    let last_report = token.lastReportEpoch().call().await.expect("lastReportEpoch");
    let timeout = u64::from(token.staleTimeoutEpochs().call().await.expect("timeout"));
    to_epoch(&devnet, last_report + timeout - 1).await;
    assert!(!token.isStale().call().await.expect("isStale"));
    assert_eq!(keeper(&devnet).await, [], "nothing to do while reports are merely late");

    to_epoch(&devnet, last_report + timeout).await;
    assert!(token.isStale().call().await.expect("isStale"));
    let epoch = current_epoch(&devnet).await;
    let unbonding = u64::from(registry.unbondingEpochs().call().await.expect("unbonding"));
    let completion = epoch + 1 + unbonding;
    // What the queue lacks once the small ticket is paid, shared by the pools pro rata.
    let shortfall = large_value - (buffer - small_value);
    let base = U256::from(token.stakedAssets().call().await.expect("staked"))
        - token.redelegatedAssets().call().await.expect("redelegated");
    let duties = keeper(&devnet).await;
    assert_eq!(
        duties[0],
        Duty::FinalizedTickets { first: small, last: small, assets: small_value },
        "{duties:?}"
    );
    assert_eq!(duties.len(), 1 + stakes.len(), "one undelegation per pool with stake: {duties:?}");
    let mut undelegated = U256::ZERO;
    for (duty, &(id, stake)) in duties[1..].iter().zip(&stakes) {
        let Duty::StaleUndelegated { sequencer, completion_epoch, amount } = *duty else {
            panic!("a stale undelegation: {duty:?}")
        };
        assert_eq!((sequencer, completion_epoch), (id, completion));
        let part = (shortfall * stake).div_ceil(base);
        assert!(amount.abs_diff(part) <= U256::from(1u64), "pool {id}: {amount} for its part {part}");
        let bucket = registry.unbonding(id, completion, system.token).call().await.expect("bucket");
        assert_eq!(bucket.tokens, amount, "pool {id}'s bucket holds what the duty says");
        assert_eq!(token.staleUndelegatedIn(id).call().await.expect("staleUndelegatedIn"), epoch);
        undelegated += amount;
    }
    assert!(undelegated + U256::from(stakes.len()) >= shortfall, "the parts cover the shortfall");
    assert_eq!(token.unbondingAssets().call().await.expect("unbonding"), undelegated);
    assert_eq!(queue.lastFinalizedId().call().await.expect("finalized"), small);
    assert_eq!(queue.lockedAssets().call().await.expect("locked"), small_value);
    let buffer = U256::from(token.bufferedAssets().call().await.expect("buffer"));
    assert_eq!(keeper(&devnet).await, [], "each pool gives its part once an epoch; the buffer pays no more");

    // The buckets mature (the oracle still stale): back into the buffer, which pays the rest.
    to_epoch(&devnet, completion).await;
    assert!(token.isStale().call().await.expect("isStale"));
    let duties = keeper(&devnet).await;
    assert_eq!(duties.len(), stakes.len() + 1, "{duties:?}");
    let mut back = U256::ZERO;
    for (duty, &(id, _)) in duties.iter().zip(&stakes) {
        let Duty::BroughtBackBucket { sequencer, completion_epoch, amount } = *duty else {
            panic!("a bucket brought back: {duty:?}")
        };
        assert_eq!((sequencer, completion_epoch), (id, completion));
        back += amount;
    }
    assert_eq!(back, undelegated, "every bucket paid what it received");
    assert_eq!(
        duties[stakes.len()],
        Duty::FinalizedTickets { first: large, last: large, assets: large_value }
    );
    assert_eq!(token.unbondingAssets().call().await.expect("unbonding"), U256::ZERO);
    assert_eq!(U256::from(token.bufferedAssets().call().await.expect("buffer")), buffer + back - large_value);
    assert_eq!(queue.lastFinalizedId().call().await.expect("finalized"), large);
    assert_eq!(queue.pendingAssets().call().await.expect("pending"), U256::ZERO);

    // The holder claims what the ticket was worth at request.
    let holder = devnet.settlement.wallet(HOLDERS[0]);
    let mine = WithdrawalQueue::new(system.queue, &holder);
    let hint = mine.findCheckpointHints(vec![large]).call().await.expect("hint")[0];
    let owner = devnet.settlement.address(HOLDERS[0]);
    assert_eq!(mine.claimWithdrawal(large, hint, owner).call().await.expect("claimable"), large_value);
    let sent = mine.claimWithdrawal(large, hint, owner).send().await;
    confirm_sent(&holder, "claim the large ticket", sent.map(|p| *p.tx_hash())).await.expect("claimed");
    assert_eq!(queue.lockedAssets().call().await.expect("locked"), small_value);

    assert_eq!(keeper(&devnet).await, [], "nothing left to do");
    let _ = std::fs::remove_dir_all(options("stale").state_dir);
}

/// A report undelegates for the queue; its bucket matures before the next report runs: the
/// keeper brings it back into the buffer, and the next report's harvest skips it.
#[tokio::test]
async fn a_matured_report_bucket_is_brought_back_before_the_next_report() {
    let mut devnet = Devnet::start(options("bucket")).await.expect("devnet starts");
    devnet.run_epoch().await.expect("the first report records the set");
    devnet.run_epoch().await.expect("the second delegates the buffer");
    let reader = devnet.settlement.reader();
    let system = devnet.world.system.clone();
    let token = LiquidStakingToken::new(system.token, &reader);
    let registry = SequencerRegistry::new(system.registry, &reader);
    let executor = ReportExecutor::new(system.executor, &reader);

    // A ticket above the buffer: the queue lacks stake, which a report may undelegate.
    request_withdrawal(&devnet, HOLDERS[0], tokens(30)).await;
    let stakes = token_stakes(&devnet).await;
    let (pool, _) = *stakes.iter().max_by_key(|(_, stake)| *stake).expect("a pool with stake");
    let cut = tokens(5);
    // The members' report keeps every target where it stands but lowers the largest pool's by
    // 5 tokens: the report's moves undelegate them into a bucket.
    let current: Vec<(u32, U256)> = stakes.clone();
    let alter = move |report: &mut Report| {
        for t in &mut report.liquid.allocation {
            let held = current.iter().find(|(id, _)| *id == t.sequencerId).map_or(U256::ZERO, |&(_, s)| s);
            t.target = if t.sequencerId == pool { held - cut } else { held };
        }
    };
    let run = devnet.run_epoch_reporting(&alter).await.expect("the undelegating report executes");
    veto_scripted_slash(&devnet).await;
    let report = run.reports.last().expect("a report");
    assert!(report.refused_pool_steps.is_empty(), "{:?}", report.refused_pool_steps);
    assert!(!run.duties.iter().any(|d| matches!(d, Duty::BroughtBackBucket { .. })), "not matured yet");
    let buckets = executor.openBuckets().call().await.expect("openBuckets");
    assert_eq!(buckets.len(), 1, "one bucket opened");
    let (id, completion) = (buckets[0].id, buckets[0].completionEpoch);
    assert_eq!(id, pool);
    assert_eq!(completion, current_epoch(&devnet).await + 1 + 6, "completes after the unbonding epochs");
    let held = registry.unbonding(pool, completion, system.token).call().await.expect("bucket").tokens;
    assert!(held >= cut, "the bucket holds what was undelegated: {held}");
    assert_eq!(token.unbondingAssets().call().await.expect("unbonding"), held);

    // The bucket matures before any report runs (the oracle is late, not stale).
    to_epoch(&devnet, completion).await;
    assert!(!token.isStale().call().await.expect("isStale"));
    let buffer = U256::from(token.bufferedAssets().call().await.expect("buffer"));
    assert_eq!(
        keeper(&devnet).await,
        [Duty::BroughtBackBucket { sequencer: pool, completion_epoch: completion, amount: held }]
    );
    assert_eq!(U256::from(token.bufferedAssets().call().await.expect("buffer")), buffer + held);
    assert_eq!(token.unbondingAssets().call().await.expect("unbonding"), U256::ZERO);
    let left = registry.unbonding(pool, completion, system.token).call().await.expect("bucket");
    assert_eq!((left.shares, left.tokens), (U256::ZERO, U256::ZERO), "the bucket is empty");
    assert_eq!(keeper(&devnet).await, [], "nothing left to bring back");

    // The next report's harvest finds the bucket brought back and moves past it.
    let run = devnet.run_epoch().await.expect("the reports catch up");
    assert!(!run.reports.is_empty());
    assert!(executor.openBuckets().call().await.expect("openBuckets").is_empty(), "the report moved past it");
    assert_eq!(executor.bucketsHead().call().await.expect("bucketsHead"), U256::from(1u64));
    let _ = std::fs::remove_dir_all(options("bucket").state_dir);
}

/// The members' report carries the active set as it stood before a delegation lifted
/// sequencer 5 above sequencer 4: the registry refuses it (`ActiveSetRejected`), the report
/// executes all the same, and the keeper submits the right set.
#[tokio::test]
async fn a_rejected_active_set_is_refreshed_with_the_top_by_stake() {
    let mut devnet = Devnet::start(options("set")).await.expect("devnet starts");
    let reader = devnet.settlement.reader();
    let system = devnet.world.system.clone();
    let registry = SequencerRegistry::new(system.registry, &reader);
    let executor = ReportExecutor::new(system.executor, &reader);
    // Live stakes: 1 (the maximum bond), 2 (30), 3 (19), 4 (13), 5 (7). 20 more to 5 puts it
    // third and 4 out.
    let wallet = devnet.settlement.wallet(DELEGATORS[0]);
    let sent = SequencerRegistry::new(system.registry, &wallet).delegate(5).value(tokens(20)).send().await;
    confirm_sent(&wallet, "delegate to 5", sent.map(|p| *p.tx_hash())).await.expect("delegated");

    let stale_set = |report: &mut Report| report.activeSet = vec![1, 2, 3, 4];
    let run = devnet.run_epoch_reporting(&stale_set).await.expect("the reports execute");
    let report = run.reports.last().expect("a report");
    assert!(report.active_set_rejected, "the registry refuses a set that leaves 5 out");
    assert!(report.refused_pool_steps.is_empty(), "{:?}", report.refused_pool_steps);
    // The devnet's keeper, after the reports, submitted the right set.
    assert_eq!(run.duties, [Duty::RefreshedActiveSet { set: vec![1, 2, 3, 5] }]);
    assert_eq!(registry.activeSet().call().await.expect("set"), [1, 2, 3, 5]);
    assert!(!executor.activeSetStale().call().await.expect("activeSetStale"));
    let updated = registry.ActiveSetUpdated_filter().from_block(0).query().await.expect("logs");
    let (event, _) = updated.last().expect("the refresh's update");
    assert_eq!(event.ids, [1, 2, 3, 5]);
    assert_eq!(event.epoch, current_epoch(&devnet).await + 1, "in force from the next epoch");
    assert_eq!(keeper(&devnet).await, [], "nothing left to refresh");
    let _ = std::fs::remove_dir_all(options("set").state_dir);
}

/// Sequencer 5 stays out of the set and earns nothing while a delegator acts in its pool every
/// epoch: each action queues a change that only its next crediting would record. Once
/// `MIN_BACKLOG` of them are in paid epochs, the devnet's keeper records them.
#[tokio::test]
async fn a_pool_backlog_is_recorded_once_it_reaches_the_minimum() {
    let mut devnet = Devnet::start(options("backlog")).await.expect("devnet starts");
    let reader = devnet.settlement.reader();
    let system = devnet.world.system.clone();
    let registry = SequencerRegistry::new(system.registry, &reader);
    let wallet = devnet.settlement.wallet(DELEGATORS[2]);
    let delegator = SequencerRegistry::new(system.registry, &wallet);
    let pool = registry.pool(5).call().await.expect("pool");
    assert_eq!(pool.changesTail, pool.changesHead, "no change queued before the test's");
    let head = pool.changesHead;
    let mut recorded_in = None;
    for k in 1..=MIN_BACKLOG {
        let sent = delegator.delegate(5).value(tokens(1) / U256::from(100u64)).send().await;
        confirm_sent(&wallet, "delegate to 5", sent.map(|p| *p.tx_hash())).await.expect("delegated");
        let run = devnet.run_epoch().await.expect("the epoch runs");
        assert!(!run.set.contains(&5), "5 stays out of the set");
        let recorded: Vec<&Duty> =
            run.duties.iter().filter(|d| matches!(d, Duty::RecordedChanges { .. })).collect();
        if k < MIN_BACKLOG {
            assert!(recorded.is_empty(), "{k} changes are no backlog yet: {recorded:?}");
            let pool = registry.pool(5).call().await.expect("pool");
            assert_eq!(pool.changesTail - pool.changesHead, k, "one change an epoch, none recorded");
        } else {
            assert_eq!(recorded, [&Duty::RecordedChanges { sequencer: 5, count: MIN_BACKLOG }]);
            recorded_in = Some(run.epoch);
        }
    }
    assert!(recorded_in.is_some());
    let pool = registry.pool(5).call().await.expect("pool");
    assert_eq!(
        (pool.changesHead, pool.changesTail),
        (head + MIN_BACKLOG, head + MIN_BACKLOG),
        "all recorded"
    );
    let logs = registry.ChangesRecorded_filter().from_block(0).query().await.expect("logs");
    assert_eq!(logs.len(), 1, "one call");
    assert_eq!((logs[0].0.id, logs[0].0.count), (5, U256::from(MIN_BACKLOG)));
    assert!(
        !keeper(&devnet).await.iter().any(|d| matches!(d, Duty::RecordedChanges { .. })),
        "nothing left to record"
    );
    let _ = std::fs::remove_dir_all(options("backlog").state_dir);
}
