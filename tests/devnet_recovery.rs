//! An oracle member that loses its database recovers: the members vote a report and stop
//! before executing it (a failpoint), all three restart without their databases, and the next
//! round rebuilds the same report from the chain, finds each member's vote in its own
//! `HashVoted` logs instead of voting again, and executes it. Its own binary: failpoints are
//! process-wide.

mod support;

use alloy::{primitives::U256, providers::Provider, rpc::types::Filter, sol_types::SolEvent};
use seqstake::{chain::bindings::executor::ReportExecutor, devnet::Devnet};
use support::devnet::{options, state_dir};

#[tokio::test]
async fn members_recover_their_votes_from_the_chain() {
    let dir = state_dir("recovery");
    let mut devnet = Devnet::start(options(dir.clone())).await.expect("devnet starts");
    let scenario = fail::FailScenario::setup();
    fail::cfg("oracle::voted", "1*return").expect("failpoint");
    let stopped = devnet.run_epoch().await.expect_err("the members stop after voting");
    assert!(stopped.to_string().contains("failpoint oracle::voted"), "{stopped}");
    fail::cfg("oracle::voted", "off").expect("failpoint off");
    drop(scenario);

    let settlement = devnet.settlement.reader();
    let executor = ReportExecutor::new(devnet.world.system.executor, &settlement);
    let slot = executor.nextEpoch().call().await.expect("next epoch");
    let votes = Filter::new()
        .address(devnet.world.system.executor)
        .event_signature(ReportExecutor::HashVoted::SIGNATURE_HASH)
        .from_block(0);
    let before = settlement.get_logs(&votes).await.expect("votes");
    assert_eq!(before.len(), 3, "three votes for slot {slot}, the report unexecuted");
    let mut vote_txs = Vec::new();
    for member in &devnet.members {
        vote_txs
            .push(member.store.report(slot).await.expect("store").expect("built").voted_tx.expect("voted"));
    }

    for position in 0..devnet.members.len() {
        devnet.lose_member_store(position).await.expect("restart without a database");
        assert_eq!(devnet.members[position].store.report(slot).await.expect("store"), None);
    }
    let runs = devnet.report_ended(&|_| {}).await.expect("the members resume");
    // The voted report first (the devnet's first reports catch up on the epochs its setup
    // took, `max_epochs_per_report` at a time), then any later range.
    assert_eq!(runs[0].first, slot);
    let last = runs.last().expect("a report").last;
    assert_eq!(executor.nextEpoch().call().await.expect("next epoch"), last + 1, "executed");
    assert_eq!(executor.executing().call().await.expect("executing"), alloy::primitives::B256::ZERO);
    let after = settlement.get_logs(&votes).await.expect("votes");
    assert_eq!(
        after.len(),
        3 * runs.len(),
        "nobody voted slot {slot} again: three votes for each later report only"
    );
    assert_eq!(after[..3], before[..], "the original votes");
    assert_eq!(executor.votesFor(slot, runs[0].hash).call().await.expect("votes"), U256::from(3u64));
    for (member, tx) in devnet.members.iter().zip(vote_txs) {
        let stored = member.store.report(slot).await.expect("store").expect("rebuilt");
        assert_eq!(stored.hash, runs[0].hash, "member {} rebuilt the same report", member.position);
        assert_eq!(stored.voted_tx, Some(tx), "member {} recovered its vote", member.position);
        assert!(stored.executed_block.is_some());
    }
    // And the devnet goes on.
    let next = devnet.run_epoch().await.expect("the next epoch");
    assert_eq!(next.reports.len(), 1);
    let _ = std::fs::remove_dir_all(dir);
}
