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

use std::{collections::BTreeSet, path::PathBuf, time::Duration};

use alloy::{
    primitives::{Address, U256},
    providers::DynProvider,
};
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

fn options(test: &str) -> DevnetOptions {
    let state_dir = std::env::temp_dir().join(format!("seqstake-keeper-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state_dir);
    DevnetOptions {
        config: PathBuf::from("config/devnet.toml"),
        state_dir,
        seed: 11,
        epochs: None,
        pace: Duration::ZERO,
        sequencers: 5,
        blocks_per_epoch: 4,
        actions_per_epoch: 0,
        offline: BTreeSet::new(),
    }
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
