//! The devnet as its users run it. In process: a few epochs on real anvils, every served
//! block's `miner` read back from the chain is the signer the producer rule names (a stand-in
//! for the offline sequencer, whose turns count as missed), the served fees are what the
//! chain's receipts say and exactly they reach the served chain's vault through the relay, in
//! the epoch they were earned, and the addresses file names the deployment. As a process (the
//! `seqstake` binary): after a normal stop, SIGTERM, or a panic at a failpoint, no anvil it
//! started is left running. Clocks are moved, never waited for.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
    process::{Command, Stdio},
    time::Duration,
};

use alloy::{
    eips::BlockNumberOrTag,
    primitives::{Address, U256},
    providers::Provider,
};
use seqstake::{
    chain::{
        bindings::{
            DevnetFeeRelay, EmissionReserve, FeeVault, SequencerRegistry,
            executor::ReportExecutor,
            liquid::{LiquidStakingToken, WithdrawalQueue},
        },
        tx::confirm,
    },
    devnet::{Devnet, EpochRun, oracle::PATIENCE_BLOCKS, world::HOLDERS},
    economics::producer::expected_producer,
    economics::report::Report,
    keeper::Duty,
    verify::{Verdict, verify_epoch},
};

mod support;

use support::devnet::{options, state_dir};

#[tokio::test]
async fn epochs_close_with_reports_and_served_blocks_follow_the_producer_rule() {
    let dir = state_dir("rule");
    let mut devnet = Devnet::start(options(dir.clone())).await.expect("devnet starts");
    let served = devnet.served.reader();
    let length = devnet.config.epochs.length_seconds;
    let mut runs: Vec<EpochRun> = Vec::new();
    for k in 0..5 {
        // The signers the served blocks of this epoch carry (sequencer 1's rotates after the
        // fourth epoch).
        let sequencers = devnet.world.sequencers.clone();
        let signer_of = |id: u32| sequencers.iter().find(|s| s.id == id).expect("sequencer").signer;
        let run = devnet.run_epoch().await.expect("epoch runs");
        let slashed = run.duties.iter().any(|d| matches!(d, Duty::ExecutedSlash { .. }));
        if let Some(previous) = runs.last() {
            assert_eq!(run.epoch, previous.epoch + 1, "one epoch at a time");
            assert!(slashed || run.rate >= previous.rate, "the liquid rate never falls without a slash");
            let apr = run.apr.expect("an APR from the second epoch on");
            assert_eq!(
                apr.is_sign_positive() && !apr.is_zero(),
                run.rate > previous.rate,
                "epoch {}: {apr}",
                run.epoch
            );
        } else {
            // Before any report the set is the eligible top 4 by stake: 1 (the maximum bond),
            // 2, 3 and 4 (delegations of 20, 10 and 5 tokens); 5 (bond 7) is out.
            assert_eq!(run.set, [1, 2, 3, 4]);
        }
        // Every epoch closes with a report agreed by a quorum of the members, every step run.
        let report = run.reports.last().expect("a report after every epoch");
        assert_eq!(report.last, run.epoch, "the report closes the epoch just ended");
        assert!(report.refused_pool_steps.is_empty(), "epoch {}: {:?}", run.epoch, report.refused_pool_steps);
        assert!(!report.rewards.is_zero(), "the sequencers are paid");
        if k > 0 {
            assert_eq!(
                (run.reports.len(), report.first),
                (1, run.epoch),
                "one epoch a report once caught up"
            );
        }
        check_served_blocks(&served, &run, length, devnet.world.genesis_time, &signer_of).await;
        runs.push(run);
    }
    assert!(runs.last().expect("runs").rate > runs[0].rate, "the pool earns");
    // The scripted slash: proposed with evidence in the third epoch, executed by the keeper
    // once the veto window (2 epochs) has passed, its proceeds paid to the insurance fund.
    assert_eq!(runs[2].events.len(), 1, "{:?}", runs[2].events);
    assert!(
        runs[2].events[0].starts_with("the verifier proposes a 5% slash of sequencer 2"),
        "{:?}",
        runs[2].events
    );
    let executed_in = runs
        .iter()
        .position(|r| r.duties.contains(&Duty::ExecutedSlash { proposal: U256::from(1u64), ended: true }));
    assert_eq!(executed_in, Some(4), "executable two epochs after the proposal");
    assert!(runs[4].duties.iter().any(|d| matches!(d, Duty::PaidInsurance { .. })), "{:?}", runs[4].duties);

    let settlement = devnet.settlement.reader();
    // The offline sequencer was jailed for downtime by a report and left the set.
    let registry = SequencerRegistry::new(devnet.world.system.registry, &settlement);
    assert!(registry.sequencer(3).call().await.expect("sequencer 3").jailed, "jailed for downtime");
    assert!(!runs.last().expect("runs").set.contains(&3), "out of the set");
    let held = settlement.get_balance(devnet.world.system.registry).await.expect("balance");
    assert_eq!(held, registry.totalOwed().call().await.expect("owed"), "the registry holds what it owes");
    let executor = ReportExecutor::new(devnet.world.system.executor, &settlement);
    assert_eq!(executor.nextEpoch().call().await.expect("next"), runs.last().expect("runs").epoch + 1);
    // Every report was built and voted by all three members, each keeping it in its own store
    // with its vote and its execution.
    for report in runs.iter().flat_map(|r| &r.reports) {
        assert_eq!(
            executor.votesFor(report.first, report.hash).call().await.expect("votes"),
            U256::from(3u64)
        );
        for member in &devnet.members {
            let stored = member.store.report(report.first).await.expect("store").expect("kept");
            assert_eq!(stored.hash, report.hash, "member {}", member.position);
            assert!(stored.voted_tx.is_some(), "member {} voted", member.position);
            assert!(stored.executed_block.is_some(), "member {} saw the execution", member.position);
        }
    }

    check_relays(&devnet, &runs).await;
    check_conservation(&devnet).await;
    check_partner_credits(&devnet, &runs).await;
    check_reported_blocks(&devnet, &runs).await;
    // The rotation: scripted after the fourth epoch, the fifth epoch's blocks carry the new key,
    // and the report still counts them for sequencer 1 (checked just above).
    assert!(
        runs[3].events.iter().any(|e| e.starts_with("the operator of sequencer 1 rotates its signer")),
        "{:?}",
        runs[3].events
    );
    let rotated = registry.SignerRotated_filter().from_block(0).query().await.expect("rotations");
    assert_eq!(rotated.len(), 1);
    assert_eq!(rotated[0].0.newSigner, devnet.world.sequencers[0].signer);
    assert!(runs[4].blocks.iter().any(|b| b.producer == Some(1)), "sequencer 1 produced after its rotation");

    // `verify` recomputes every executed epoch from chain data alone and agrees with it, from
    // the sources the addresses file names.
    let text = std::fs::read_to_string(dir.join("addresses.json")).expect("addresses file");
    let sources = seqstake::verify::sources_from_addresses(&text, None, None).expect("sources");
    for run in &runs {
        let verdict = verify_epoch(&sources, &devnet.config, run.epoch).await.expect("verify");
        assert!(matches!(verdict, Verdict::Agrees { .. }), "epoch {}: {verdict:?}", run.epoch);
    }
    let next = runs.last().expect("runs").epoch + 1;
    assert_eq!(verify_epoch(&sources, &devnet.config, next).await.expect("verify"), Verdict::NotReported);

    let addresses: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(addresses["settlement"]["chain_id"], 31_337);
    assert_eq!(addresses["served"]["chain_id"], 31_338);
    let registry: Address =
        addresses["contracts"]["registry"].as_str().expect("registry").parse().expect("address");
    assert_eq!(registry, devnet.world.system.registry);
    assert_eq!(addresses["sequencers"].as_array().expect("sequencers").len(), 5);
    let _ = std::fs::remove_dir_all(dir);
}

/// Two colluding members (a quorum) vote and execute a report that moves a block from one
/// sequencer to another: the contract cannot check block counts, so it executes, and `verify`
/// names the fields.
#[tokio::test]
async fn verify_names_block_counts_colluding_members_altered() {
    let dir = state_dir("collusion");
    let mut devnet = Devnet::start(options(dir.clone())).await.expect("devnet starts");
    devnet.run_epoch().await.expect("an honest epoch");
    let altered = devnet
        .run_epoch_reporting(&|report: &mut Report| {
            let entry = report.epochs.last_mut().expect("an epoch");
            entry.sequencers[0].blocks += 1;
            entry.sequencers[1].blocks -= 1;
        })
        .await
        .expect("the altered report executes");
    let report = altered.reports.last().expect("a report");
    assert_eq!(report.last, altered.epoch);
    // The two colluders agreed the altered hash; the honest member voted its own, which lost.
    let settlement = devnet.settlement.reader();
    let executor = ReportExecutor::new(devnet.world.system.executor, &settlement);
    assert_eq!(executor.votesFor(report.first, report.hash).call().await.expect("votes"), U256::from(2u64));
    let honest = devnet.members[2].store.report(report.first).await.expect("store").expect("kept");
    assert_ne!(honest.hash, report.hash);
    assert_eq!(executor.votesFor(report.first, honest.hash).call().await.expect("votes"), U256::from(1u64));
    assert_eq!(honest.calls_sent, 0, "a member never executes a hash the quorum did not agree");
    let text = std::fs::read_to_string(dir.join("addresses.json")).expect("addresses file");
    let sources = seqstake::verify::sources_from_addresses(&text, None, None).expect("sources");
    let (first, second) = (altered.set[0], altered.set[1]);
    let verdict = verify_epoch(&sources, &devnet.config, altered.epoch).await.expect("verify");
    let Verdict::Differs(diffs) = verdict else { panic!("the altered epoch must differ: {verdict:?}") };
    let e = altered.epoch;
    assert_eq!(diffs.len(), 2, "{diffs:?}");
    assert!(diffs[0].starts_with(&format!("epoch {e} sequencer {first} blocks: reported ")), "{diffs:?}");
    assert!(diffs[1].starts_with(&format!("epoch {e} sequencer {second} blocks: reported ")), "{diffs:?}");
    let _ = std::fs::remove_dir_all(dir);
}

/// The vault received exactly the fees of the ranges the relay names, each in its epoch (the
/// reports' dry runs were undone: only the real relays remain), and nothing else.
async fn check_relays(devnet: &Devnet, runs: &[EpochRun]) {
    let settlement = devnet.settlement.reader();
    let length = devnet.config.epochs.length_seconds;
    let relay = DevnetFeeRelay::new(devnet.world.relay, &settlement);
    let relayed = relay.FeesRelayed_filter().from_block(0).query().await.expect("relay logs");
    assert_eq!(relayed.len(), runs.len(), "one relay per epoch");
    for ((event, log), run) in relayed.iter().zip(runs) {
        let first = run.blocks.first().expect("blocks").number;
        let last = run.blocks.last().expect("blocks").number;
        assert_eq!((event.firstBlock, event.lastBlock), (first, last), "epoch {}'s served blocks", run.epoch);
        assert_eq!(event.amount, run.served_fees(), "epoch {}: the fees of its blocks", run.epoch);
        let block = settlement
            .get_block_by_number(BlockNumberOrTag::Number(log.block_number.expect("mined")))
            .await
            .expect("read block")
            .expect("block exists");
        let epoch = (block.header.timestamp - devnet.world.genesis_time) / length;
        assert_eq!(epoch, run.epoch, "the fees arrive in the epoch they were earned");
    }
    let vault = devnet.world.system.vaults.iter().find(|(id, _)| *id == 31_338).expect("vault").1;
    let arrived = FeeVault::new(vault, &settlement).totalArrived().call().await.expect("totalArrived");
    let earned: U256 = runs.iter().map(EpochRun::served_fees).sum();
    assert_eq!(arrived, earned, "everything the served chain's users paid, and nothing else");
}

/// The executed reports count, for every epoch the devnet ran, exactly the blocks each member
/// of the set produced and the turns it missed, as the devnet made them (so a sequencer whose
/// signer rotated keeps its blocks).
async fn check_reported_blocks(devnet: &Devnet, runs: &[EpochRun]) {
    let settlement = devnet.settlement.reader();
    let executor = ReportExecutor::new(devnet.world.system.executor, &settlement);
    let inputs = executor.ReportInputs_filter().from_block(0).query().await.expect("report inputs");
    let reports: Vec<Report> = inputs
        .iter()
        .map(|(e, _)| <Report as alloy::sol_types::SolValue>::abi_decode(&e.report).expect("a report"))
        .collect();
    for run in runs {
        let entry = reports
            .iter()
            .flat_map(|r| &r.epochs)
            .find(|e| e.epoch == run.epoch)
            .unwrap_or_else(|| panic!("epoch {} reported", run.epoch));
        for (id, turns) in &run.turns {
            let reported = entry.sequencers.iter().find(|s| s.id == *id).expect("a member of the set");
            assert_eq!(
                (reported.blocks, reported.missedBlocks),
                (turns.produced, turns.missed),
                "epoch {} sequencer {id}",
                run.epoch
            );
        }
    }
}

/// The sum of `amount` over every `E` that `address` emitted up to block `head`.
async fn total<E: alloy::sol_types::SolEvent>(
    provider: &alloy::providers::DynProvider,
    address: Address,
    head: u64,
    amount: impl Fn(&E) -> U256,
) -> U256 {
    let events = seqstake::chain::inputs::events::<E>(provider, address, 0, head).await.expect("events");
    events.iter().map(|(e, _, _)| amount(e)).sum()
}

/// Everything paid, held and carried equals everything that came in, to the wei, from the
/// chain's own events and balances: what the report contract drew from the fee vault and the
/// emission reserve is what it sent the registry for the sequencers, what it credited (partner,
/// treasury) and the dust it carries; it holds exactly its open credits and that dust; the vault
/// holds what arrived and was not drawn.
async fn check_conservation(devnet: &Devnet) {
    let settlement = devnet.settlement.reader();
    let system = &devnet.world.system;
    let vault_address = system.vaults.iter().find(|(id, _)| *id == 31_338).expect("vault").1;
    let vault = FeeVault::new(vault_address, &settlement);
    let executor = ReportExecutor::new(system.executor, &settlement);

    let head = settlement.get_block_number().await.expect("head");
    let drawn = total::<FeeVault::RevenueDrawn>(&settlement, vault_address, head, |e| e.amount).await;
    let emitted =
        total::<EmissionReserve::EmissionDrawn>(&settlement, system.reserve, head, |e| e.amount).await;
    let revenue =
        total::<ReportExecutor::EpochSettled>(&settlement, system.executor, head, |e| e.revenue).await;
    let emission =
        total::<ReportExecutor::EpochSettled>(&settlement, system.executor, head, |e| e.emission).await;
    assert_eq!(drawn, revenue, "the vault paid exactly the settled revenue");
    assert_eq!(emitted, emission, "the reserve paid exactly the settled emission");
    assert!(!emission.is_zero() && !revenue.is_zero());

    let to_registry =
        total::<SequencerRegistry::RewardsDistributed>(&settlement, system.registry, head, |e| e.total).await
            + total::<SequencerRegistry::RewardsPartDistributed>(&settlement, system.registry, head, |e| {
                e.total
            })
            .await;
    let credited = total::<ReportExecutor::Credited>(&settlement, system.executor, head, |e| e.amount).await;
    let claimed = total::<ReportExecutor::Claimed>(&settlement, system.executor, head, |e| e.amount).await;
    let dust = executor.carriedDust().call().await.expect("dust");
    assert_eq!(drawn + emitted, to_registry + credited + dust, "in = paid + credited + carried");
    let owed = executor.totalOwed().call().await.expect("owed");
    assert_eq!(owed, credited - claimed, "open credits");
    assert_eq!(
        settlement.get_balance(system.executor).await.expect("balance"),
        owed + dust,
        "the report contract holds its credits and dust"
    );
    let arrived = vault.totalArrived().call().await.expect("arrived");
    assert_eq!(
        settlement.get_balance(vault_address).await.expect("balance"),
        arrived - drawn,
        "the vault holds the rest"
    );
}

/// The partner's credit per epoch: max(a * gross, b * max(gross - cost, 0)) / 10_000 with the
/// configured terms, on the fees that arrived in that epoch and the fixed L1 cost of its blocks.
async fn check_partner_credits(devnet: &Devnet, runs: &[EpochRun]) {
    let settlement = devnet.settlement.reader();
    let executor = ReportExecutor::new(devnet.world.system.executor, &settlement);
    let terms = devnet.config.revenue_share.iter().find(|r| r.chain_id == 31_338).expect("terms");
    let credits =
        executor.RevenueShareCredited_filter().from_block(0).query().await.expect("partner credits");
    for run in runs {
        let (credit, _) = credits.iter().find(|(e, _)| e.epoch == run.epoch).expect("a credit every epoch");
        assert_eq!((credit.partner, credit.aBps, credit.bBps), (terms.partner, terms.a_bps, terms.b_bps));
        assert_eq!(credit.gross, run.relayed, "epoch {}: the fees that arrived in it", run.epoch);
        let per_block =
            devnet.config.l1_cost.iter().find(|c| c.chain_id == 31_338).expect("a cost source").per_block;
        assert_eq!(
            credit.cost,
            per_block * U256::from(run.blocks.len()),
            "epoch {}: the fixed cost of its served blocks",
            run.epoch
        );
        let gross = credit.gross;
        let net = gross.saturating_sub(credit.cost);
        let expected =
            (gross * U256::from(terms.a_bps)).max(net * U256::from(terms.b_bps)) / U256::from(10_000u64);
        assert_eq!(credit.share, expected, "epoch {}", run.epoch);
    }
}

/// A ticket goes pending, finalized (by the next report's batches, at its value at request: the
/// rate only rose), claimed (paying exactly that value).
#[tokio::test]
async fn a_ticket_goes_pending_finalized_claimed() {
    let dir = state_dir("ticket");
    let mut options = options(dir.clone());
    options.actions_per_epoch = 0;
    let mut devnet = Devnet::start(options).await.expect("devnet starts");
    devnet.run_epoch().await.expect("the first reports");
    let holder = HOLDERS[0];
    let owner = devnet.settlement.address(holder);
    let wallet = devnet.settlement.wallet(holder);
    let token = LiquidStakingToken::new(devnet.world.system.token, &wallet);
    let queue = WithdrawalQueue::new(devnet.world.system.queue, &wallet);
    let shares = token.balanceOf(owner).call().await.expect("balance") / U256::from(10u64);
    let approve = token.approve(devnet.world.system.queue, shares).send().await.expect("approve");
    confirm(&wallet, "approve", *approve.tx_hash()).await.expect("approved");
    let request = queue.requestWithdrawal(shares, owner).send().await.expect("request");
    let receipt = confirm(&wallet, "request", *request.tx_hash()).await.expect("requested");
    let requested =
        receipt.decoded_log::<WithdrawalQueue::WithdrawalRequested>().expect("WithdrawalRequested");
    let id = requested.id;
    assert_eq!(queue.stateOf(id).call().await.expect("state"), 1, "pending");

    let run = devnet.run_epoch().await.expect("the next report");
    assert!(run.reports.iter().all(|r| r.refused_pool_steps.is_empty()), "{:?}", run.reports);
    assert_eq!(queue.stateOf(id).call().await.expect("state"), 2, "finalized by the report");
    let finalized = queue
        .WithdrawalsFinalized_filter()
        .from_block(receipt.block_number.expect("mined"))
        .query()
        .await
        .expect("finalizations");
    assert_eq!(finalized.len(), 1, "one finalization, by the report");
    let (event, _) = &finalized[0];
    assert_eq!((event.fromId, event.toId), (id, id));
    assert_eq!(event.assetsLocked, requested.assets, "the rate rose: the ticket locks its value at request");

    let hints = queue.findCheckpointHints(vec![id]).call().await.expect("hints");
    let before = devnet.settlement.reader().get_balance(owner).await.expect("balance");
    let claim = queue.claimWithdrawal(id, hints[0], owner).send().await.expect("claim");
    let claimed = confirm(&wallet, "claim", *claim.tx_hash()).await.expect("claimed");
    let fee = U256::from(claimed.gas_used) * U256::from(claimed.effective_gas_price);
    let after = devnet.settlement.reader().get_balance(owner).await.expect("balance");
    assert_eq!(after + fee - before, requested.assets, "the claim pays exactly the ticket's value");
    assert_eq!(queue.stateOf(id).call().await.expect("state"), 3, "claimed");
    let _ = std::fs::remove_dir_all(dir);
}

/// A sequencer offline for two epochs is jailed for downtime by a report, leaves the set, and
/// once back online its operator unjails it after the cooldown and it returns to the set.
#[tokio::test]
async fn an_offline_sequencer_is_jailed_then_returns() {
    let dir = state_dir("returns");
    let mut options = options(dir.clone());
    options.offline_epochs = Some(2);
    options.actions_per_epoch = 0;
    let mut devnet = Devnet::start(options).await.expect("devnet starts");
    let registry = SequencerRegistry::new(devnet.world.system.registry, devnet.settlement.reader());
    let mut runs = Vec::new();
    for _ in 0..8 {
        runs.push(devnet.run_epoch().await.expect("epoch runs"));
    }
    let missed = |run: &EpochRun| run.turns.iter().find(|(id, _)| *id == 3).map_or(0, |(_, t)| t.missed);
    assert!(missed(&runs[0]) > 0, "offline in the first epoch");
    assert!(runs[2..].iter().all(|r| missed(r) == 0), "online from the third epoch");
    let jailed = registry.Jailed_filter().from_block(0).query().await.expect("jailed");
    assert!(jailed.iter().any(|(e, _)| e.id == 3), "jailed for downtime");
    assert!(!runs[1].set.contains(&3) || !runs[2].set.contains(&3), "out of the set while jailed");
    let unjailed_in = runs
        .iter()
        .position(|r| r.events.iter().any(|e| e == "sequencer 3 is back online: its operator unjails it"))
        .expect("unjailed once the cooldown allowed");
    assert!(unjailed_in >= 2, "not while offline");
    assert!(!registry.sequencer(3).call().await.expect("sequencer 3").jailed);
    // Eligible again: the set is the top by stake among the eligible, 3 included (the liquid
    // pool may have moved stake to the others meanwhile).
    let stake = async |id: u32| {
        let s = registry.sequencer(id).call().await.expect("sequencer");
        s.bond + registry.pool(id).call().await.expect("pool").tokens
    };
    let last = runs.last().expect("runs");
    if last.set.contains(&3) {
        let produced = last.turns.iter().find(|(id, _)| *id == 3).expect("a member").1.produced;
        assert!(produced > 0, "producing again");
    } else {
        let own = stake(3).await;
        for &id in &last.set {
            assert!(stake(id).await >= own, "sequencer {id} outranks 3 by stake");
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Member 0 stops after one call of each report, the others never execute: the round fails, naming it, with the report
/// half executed. The keeper finishes it from its `ReportInputs`; the next time every member
/// stalls again, the members themselves resume the half-executed report before building the
/// next one.
#[tokio::test]
async fn a_half_executed_report_is_finished() {
    let dir = state_dir("half");
    let mut options = options(dir.clone());
    options.stalled_members = BTreeMap::from([(0, 1), (1, 0), (2, 0)]);
    options.actions_per_epoch = 0;
    let mut devnet = Devnet::start(options).await.expect("devnet starts");
    let settlement = devnet.settlement.reader();
    let executor = ReportExecutor::new(devnet.world.system.executor, &settlement);
    let stopped = devnet.run_epoch().await.expect_err("every member stalls");
    assert!(stopped.to_string().contains("every member stalled"), "{stopped}");
    assert_ne!(executor.executing().call().await.expect("executing"), alloy::primitives::B256::ZERO);
    let duties = seqstake::keeper::run_duties(
        &devnet.settlement.wallet(seqstake::devnet::world::KEEPER),
        &devnet.world.system,
    )
    .await
    .expect("the keeper's duties");
    let Some(Duty::FinishedReport { first_epoch, calls }) = duties.first().cloned() else {
        panic!("the keeper finishes the report first: {duties:?}")
    };
    assert!(calls >= 1, "{calls}");
    assert_eq!(executor.executing().call().await.expect("executing"), alloy::primitives::B256::ZERO);
    let next = executor.nextEpoch().call().await.expect("next epoch");
    assert!(next > first_epoch, "ended");

    // Half executed again; this time the members pick it up themselves.
    devnet.run_epoch().await.expect_err("every member stalls again");
    let half = executor.nextEpoch().call().await.expect("next epoch");
    for member in &mut devnet.members {
        member.stall_after = None;
    }
    let runs = devnet.report_ended(&|_| {}).await.expect("the members resume");
    assert_eq!(runs[0].last + 1, half, "the half-executed report first");
    assert!(runs[0].calls >= 1);
    assert_eq!(executor.executing().call().await.expect("executing"), alloy::primitives::B256::ZERO);
    let stored = devnet.members[0].store.report(runs[0].first).await.expect("store").expect("kept");
    assert!(stored.executed_block.is_some(), "the members saw it end");
    let _ = std::fs::remove_dir_all(dir);
}

/// The members take turns: member 0 never executes and member 1 goes silent after one call of
/// each report. The member at `slot mod 3` goes first; each next one takes over after
/// `PATIENCE_BLOCKS` blocks without progress; every report ends.
#[tokio::test]
async fn a_stalled_executor_delays_a_report_by_a_few_blocks() {
    let dir = state_dir("stalled");
    let mut options = options(dir.clone());
    options.stalled_members = BTreeMap::from([(0, 0), (1, 1)]);
    let mut devnet = Devnet::start(options).await.expect("devnet starts");
    let mut residues = BTreeSet::new();
    for _ in 0..3 {
        let run = devnet.run_epoch().await.expect("epoch runs");
        let report = run.reports.last().expect("every epoch ends with a report");
        assert_eq!(report.last, run.epoch);
        let calls = report.calls;
        assert!(calls >= 3, "paying, harvest and moves: {calls}");
        let residue = report.first % 3;
        residues.insert(residue);
        match residue {
            // Member 0 first, silent: member 1 after the patience, one call; member 2 the rest.
            0 => {
                assert_eq!(report.executors, [(1, 1), (2, calls - 1)], "slot {}", report.first);
                assert_eq!(report.first_call_block, report.agreed_block + PATIENCE_BLOCKS + 1);
            }
            // Member 1 first, one call; member 2 after the patience.
            1 => {
                assert_eq!(report.executors, [(1, 1), (2, calls - 1)], "slot {}", report.first);
                assert_eq!(report.waited_blocks, PATIENCE_BLOCKS);
            }
            // Member 2 first, every call, no wait.
            _ => {
                assert_eq!(report.executors, [(2, calls)], "slot {}", report.first);
                assert_eq!(report.waited_blocks, 0);
            }
        }
        // Each member's own store says what it sent.
        let sent = |position: usize| {
            let store = devnet.members[position].store.clone();
            let slot = report.first;
            async move { store.report(slot).await.expect("store").expect("kept").calls_sent }
        };
        let expected: [u32; 3] = match residue {
            2 => [0, 0, u32::try_from(calls).expect("calls")],
            _ => [0, 1, u32::try_from(calls - 1).expect("calls")],
        };
        assert_eq!([sent(0).await, sent(1).await, sent(2).await], expected, "slot {}", report.first);
    }
    assert_eq!(residues.len(), 3, "every member was first in turn once");
    let _ = std::fs::remove_dir_all(dir);
}

/// Every served block of `run`: its miner is the producer the rule names (the next member of
/// the set for the offline sequencer 3, whose turns count as missed), it lies inside the
/// epoch, and its fees are what its receipts say.
async fn check_served_blocks(
    served: &impl Provider,
    run: &EpochRun,
    length: u64,
    genesis_time: u64,
    signer_of: &impl Fn(u32) -> Address,
) {
    assert_eq!(run.blocks.len(), 4);
    let epoch_start = genesis_time + run.epoch * length;
    for block in &run.blocks {
        let header = served
            .get_block_by_number(BlockNumberOrTag::Number(block.number))
            .await
            .expect("read block")
            .expect("block exists")
            .header;
        let expected = expected_producer(block.number, &run.set).expect("a producer");
        assert_eq!(block.expected, Some(expected));
        let position = run.set.iter().position(|&id| id == expected).expect("a member");
        let producer = if expected == 3 { run.set[(position + 1) % run.set.len()] } else { expected };
        assert_eq!(header.beneficiary, signer_of(producer), "block {}: miner by the rule", block.number);
        assert!(
            header.timestamp > epoch_start && header.timestamp < epoch_start + length,
            "block {} inside epoch {}",
            block.number,
            run.epoch
        );
        let receipts =
            served.get_block_receipts(block.number.into()).await.expect("receipts").expect("receipts exist");
        assert!(!receipts.is_empty(), "users pay gas in every block");
        let fees: U256 =
            receipts.iter().map(|r| U256::from(r.gas_used) * U256::from(r.effective_gas_price)).sum();
        assert_eq!(block.fees, fees, "block {}: fees from its receipts", block.number);
    }
    if let Some((_, turns)) = run.turns.iter().find(|(id, _)| *id == 3) {
        let expected_turns = run.blocks.iter().filter(|b| b.expected == Some(3)).count() as u64;
        assert_eq!(
            (turns.produced, turns.missed),
            (0, expected_turns),
            "the offline sequencer misses every turn"
        );
    }
    let turns: u64 = run.turns.iter().map(|(_, t)| t.produced + t.missed).sum();
    assert_eq!(turns, 4, "every block is someone's turn");
}

/// The anvil pids the addresses file records, once it is written.
fn anvil_pids(dir: &Path) -> Option<[u32; 2]> {
    let text = std::fs::read_to_string(dir.join("addresses.json")).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    let pid = |chain: &str| value[chain]["anvil_pid"].as_u64().and_then(|p| u32::try_from(p).ok());
    Some([pid("settlement")?, pid("served")?])
}

fn alive(pid: u32) -> bool {
    // A zombie (exited, not yet reaped) is not running either.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| !stat.split(") ").nth(1).is_some_and(|rest| rest.starts_with('Z')))
}

/// Runs the binary with `args` and `env`, waits for its addresses file, then applies `stop`;
/// returns its exit status and the anvil pids it had.
fn run_binary(
    test: &str,
    args: &[&str],
    env: &[(&str, &str)],
    stop: impl FnOnce(u32),
) -> (std::process::ExitStatus, [u32; 2]) {
    let dir = state_dir(test);
    let mut child = Command::new(env!("CARGO_BIN_EXE_seqstake"))
        .arg("devnet")
        .arg("--state-dir")
        .arg(&dir)
        .args(["--epoch-seconds", "0.2"])
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the seqstake binary runs");
    let mut pids = None;
    for _ in 0..600 {
        if let Some(found) = anvil_pids(&dir) {
            pids = Some(found);
            break;
        }
        if child.try_wait().expect("poll").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let pids = pids.expect("the devnet wrote its addresses file");
    stop(child.id());
    let status = child.wait().expect("the devnet exits");
    let _ = std::fs::remove_dir_all(dir);
    (status, pids)
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill").args(["-s", name, &pid.to_string()]).status().expect("kill runs");
    assert!(status.success(), "kill -s {name} {pid}");
}

#[test]
fn no_anvil_is_left_after_a_normal_stop_sigterm_or_a_panic() {
    let (status, pids) = run_binary("stop", &["--epochs", "2"], &[], |_| {});
    assert!(status.success(), "a run of two epochs ends well: {status}");
    assert!(pids.iter().all(|&pid| !alive(pid)), "no anvil after a normal stop");

    let (status, pids) = run_binary("term", &[], &[], |pid| signal(pid, "TERM"));
    assert!(status.success(), "SIGTERM stops the devnet cleanly: {status}");
    assert!(pids.iter().all(|&pid| !alive(pid)), "no anvil after SIGTERM");

    let (status, pids) = run_binary("panic", &[], &[("FAILPOINTS", "devnet::epoch_ended=panic")], |_| {});
    assert!(!status.success(), "a panic fails the run: {status}");
    assert!(pids.iter().all(|&pid| !alive(pid)), "no anvil after a panic");
}
