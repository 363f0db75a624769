//! The whole system on a real anvil, deployed by Rust from the committed artifacts with the
//! devnet's economics: a report built by `economics` (settlement from the registry's own
//! checkpoints, the report and its hash) is voted by two of the three oracle members and
//! executed by anyone, call by call (its first call by hand, the rest taken up by
//! `chain::report::execute_report`); every figure on chain (partner and treasury credits, carried dust,
//! accumulators, operator rewards, the emission drawn) is what Rust computed, to the wei. A
//! second report catches up the epochs since and delegates the pool's buffer as Rust's
//! `allocate` water-fills it, with the moves `stake_moves` plans. The chain's clock is
//! advanced, never waited for.

mod support;

use alloy::{
    primitives::{Address, B256, U256},
    providers::Provider,
    rpc::types::TransactionRequest,
};
use seqstake::{
    chain::{
        bindings::{
            EmissionReserve, FeeVault, SequencerRegistry,
            executor::{ReportExecutor, ReportTypes, report_for_call},
            liquid::LiquidStakingToken,
        },
        report::execute_report,
        system::{SystemAddresses, Wiring, deploy_system, execute_wiring, wiring_in_place},
        tx::confirm,
    },
    config::EconomicsConfig,
    economics::{
        allocation::{AllocationLimits, Candidate, allocate},
        moves::{PoolStake, StakeMove, stake_moves},
        report::{
            AllocationTarget, EpochAttestations, LiquidActions, build_report, epoch_entry, report_hash,
        },
        revenue::RevenueShareTerms,
        schedule::emission_at,
        settlement::{ChainEpoch, EpochInputs, Settlement, SettlementParams, settle_epoch},
    },
};
use support::chain::{Chain, advance, deploy_inputs, devnet_config, sequencer_inputs, tokens};

const SETTLEMENT_CHAIN: u64 = 31_337;
const SERVED_CHAIN: u64 = 31_338;

async fn send<P: Provider>(provider: &P, to: Address, value: U256) {
    let sent = provider
        .send_transaction(TransactionRequest::default().to(to).value(value))
        .await
        .expect("send value");
    confirm(provider, "send value", *sent.tx_hash()).await.expect("sent");
}

#[tokio::test]
async fn a_report_built_in_rust_executes_on_chain_to_the_wei() {
    let config = devnet_config();
    let chain = Chain::spawn();
    let admin = chain.wallet(0);
    let inputs = deploy_inputs(&chain, vec![SERVED_CHAIN, SETTLEMENT_CHAIN]).await;
    let (system, wiring) = deploy_system(&admin, &config, &inputs).await.expect("deploy");
    let registry = SequencerRegistry::new(system.registry, &admin);
    let executor = ReportExecutor::new(system.executor, &admin);
    let first = executor.nextEpoch().call().await.expect("nextEpoch");
    assert_eq!(first, registry.nextRewardEpoch().call().await.expect("next"));

    let (served_gross, home_gross) = populate(&chain, &system).await;

    wire(&chain, &system, &wiring, config.governance.timelock_delay_seconds).await;

    // The wiring took the timelock's delay (7 epochs): the report covers the first two
    // epochs since deployment; later ones wait for the next report.
    assert!(registry.currentEpoch().call().await.expect("epoch") >= first + 2);

    // Settle both epochs in Rust: nothing had stake in `first` (its rewards wait as pool
    // dust), the bonds and the delegation count in `first + 1`, where the revenue settles.
    let params = SettlementParams::from_config(&config).expect("params");
    let blocks = [(1u32, 3u64), (2, 1)];
    let s0 = settle_epoch(
        &EpochInputs {
            epoch: first,
            chains: served_chains(&config, [U256::ZERO; 2], U256::ZERO),
            emission: emission_at(&config.emission, 0).expect("emission"),
            dust_in: U256::ZERO,
            sequencers: sequencer_inputs(&registry, first, &blocks).await,
        },
        &params,
    )
    .expect("settle first");
    let mut next = sequencer_inputs(&registry, first + 1, &blocks).await;
    for (s, before) in next.iter_mut().zip(&s0.sequencers) {
        (s.acc_before, s.dust_before) = (before.acc_after, before.dust_after);
    }
    assert_eq!(next[0].pool_tokens, tokens(5), "the delegation counts from the epoch after it");
    let s1 = settle_epoch(
        &EpochInputs {
            epoch: first + 1,
            chains: served_chains(&config, [served_gross, home_gross], tokens(1) / U256::from(2u64)),
            emission: emission_at(&config.emission, 1).expect("emission"),
            dust_in: s0.dust_out,
            sequencers: next,
        },
        &params,
    )
    .expect("settle second");
    for s in [&s0, &s1] {
        assert_eq!(s.total_in(), s.total_out(), "epoch {} conserves", s.epoch);
    }

    let attested = EpochAttestations {
        evidence: vec![B256::ZERO; 2],
        missed_blocks: vec![0, 0],
        total_supply: U256::ZERO,
    };
    let entries: Vec<_> = [&s0, &s1].iter().map(|s| epoch_entry(s, &attested).expect("entry")).collect();
    // No sequencer is active before this first report sets the set, so the pool delegates
    // from the next one; it harvests (nothing yet) all the same.
    let liquid = LiquidActions { poolRewards: U256::ZERO, allocation: vec![], batches: vec![] };
    let ref_block = admin.get_block_number().await.expect("block number");
    let report = build_report(ref_block, SETTLEMENT_CHAIN, entries, vec![1, 2], liquid, 8).expect("report");
    let hash = report_hash(&report, SETTLEMENT_CHAIN, system.executor);
    let call = report_for_call(&report).expect("same ABI");

    // One member is a minority; a second makes the quorum; anyone executes.
    vote(&chain, system.executor, 5, first, hash).await;
    let early = ReportExecutor::new(system.executor, chain.wallet(7)).execute(call.clone()).send().await;
    assert!(early.is_err(), "one vote of three does not execute");
    vote(&chain, system.executor, 6, first, hash).await;
    execute(&chain, system.executor, call, hash).await;

    check_outcome(&admin, &system, &config, [&s0, &s1]).await;
    second_report(&chain, &system, &config, &s1).await;
}

/// The next report: the epochs since the first one (no revenue, the emission), and the pool's
/// buffer surplus delegated as `allocate` water-fills it, with the moves `stake_moves` plans,
/// which the contract makes to the wei.
async fn second_report(
    chain: &Chain,
    system: &SystemAddresses,
    config: &EconomicsConfig,
    before: &Settlement,
) {
    let admin = chain.wallet(0);
    let registry = SequencerRegistry::new(system.registry, &admin);
    let token = LiquidStakingToken::new(system.token, &admin);
    let first = before.epoch + 1;
    let current = registry.currentEpoch().call().await.expect("epoch");
    let settlements = settle_quiet_epochs(&registry, config, before, first..current, first - 2).await;
    assert!(settlements.len() >= 2, "a catch-up of several epochs");

    // The pool keeps `buffer_target_bps` of its assets and water-fills the rest.
    let pooled = token.totalPooledAssets().call().await.expect("pooled");
    let keep = pooled * U256::from(config.liquid.buffer_target_bps) / U256::from(10_000u64);
    let mut candidates = Vec::new();
    for id in [1u32, 2] {
        let point = registry.stakeAt(id, current + 1).call().await.expect("stake");
        candidates.push(Candidate {
            id,
            current: U256::ZERO,
            total_stake: U256::from(point.bond) + U256::from(point.tokens),
            active: true,
            jailed: false,
        });
    }
    let limits = AllocationLimits {
        per_sequencer_cap: pooled * U256::from(config.liquid.per_sequencer_cap_bps) / U256::from(10_000u64),
        max_moved: config.liquid.max_moved_per_epoch,
    };
    let allocation = allocate(&candidates, pooled - keep, &limits).expect("allocate");
    let targets: Vec<AllocationTarget> =
        allocation.targets.iter().map(|&(id, target)| AllocationTarget { sequencerId: id, target }).collect();
    let pools = [1u32, 2].map(|id| PoolStake { id, delegated: U256::ZERO, redelegated_in: U256::ZERO });
    let moves = stake_moves(&pools, &targets).expect("moves");
    assert!(moves.len() <= usize::from(config.report.max_stake_moves_per_report));
    assert_eq!(moves.len(), 2, "both pools receive stake: {moves:?}");
    assert!(moves.iter().all(|m| matches!(m, StakeMove::Delegate { .. })), "from the buffer: {moves:?}");

    let attested = EpochAttestations {
        evidence: vec![B256::ZERO; 2],
        missed_blocks: vec![0, 0],
        total_supply: U256::ZERO,
    };
    let entries: Vec<_> = settlements.iter().map(|s| epoch_entry(s, &attested).expect("entry")).collect();
    let liquid = LiquidActions { poolRewards: U256::ZERO, allocation: targets.clone(), batches: vec![] };
    let ref_block = admin.get_block_number().await.expect("block number");
    let report = build_report(ref_block, SETTLEMENT_CHAIN, entries, vec![1, 2], liquid, 8).expect("report");
    let hash = report_hash(&report, SETTLEMENT_CHAIN, system.executor);
    for member in [4usize, 6] {
        vote(chain, system.executor, member, first, hash).await;
    }
    execute(chain, system.executor, report_for_call(&report).expect("same ABI"), hash).await;

    for m in &moves {
        let StakeMove::Delegate { to, amount } = *m else { unreachable!("only delegations") };
        let stake = token.stakeOf(to).call().await.expect("stakeOf");
        assert!(amount - stake <= U256::from(1u64), "pool {to} holds what Rust planned: {stake} of {amount}");
    }
    let executor = ReportExecutor::new(system.executor, &admin);
    let last = settlements.last().expect("settled");
    assert_eq!(executor.carriedDust().call().await.expect("dust"), last.dust_out);
    for s in &last.sequencers {
        let pool = registry.pool(s.id).call().await.expect("pool");
        assert_eq!((pool.acc, U256::from(pool.dust)), (s.acc_after, s.dust_after), "sequencer {}", s.id);
    }
}

/// Settles `epochs` with no revenue, each sequencer producing 2 blocks, from the registry's
/// checkpoints, continuing `before`; `reserve_first` is the reserve's first epoch.
async fn settle_quiet_epochs<P: Provider>(
    registry: &SequencerRegistry::SequencerRegistryInstance<P>,
    config: &EconomicsConfig,
    before: &Settlement,
    epochs: std::ops::Range<u64>,
    reserve_first: u64,
) -> Vec<Settlement> {
    let params = SettlementParams::from_config(config).expect("params");
    let mut settlements: Vec<Settlement> = Vec::new();
    for epoch in epochs {
        let mut sequencers = sequencer_inputs(registry, epoch, &[(1, 2), (2, 2)]).await;
        let previous = settlements.last().unwrap_or(before);
        for (s, p) in sequencers.iter_mut().zip(&previous.sequencers) {
            (s.acc_before, s.dust_before) = (p.acc_after, p.dust_after);
        }
        let inputs = EpochInputs {
            epoch,
            chains: served_chains(config, [U256::ZERO; 2], U256::ZERO),
            emission: emission_at(&config.emission, epoch - reserve_first).expect("emission"),
            dust_in: previous.dust_out,
            sequencers,
        };
        settlements.push(settle_epoch(&inputs, &params).expect("settle"));
    }
    settlements
}

/// Every served chain's revenue for one epoch: the served chain (with its partner's terms)
/// and the settlement chain (no partner).
fn served_chains(config: &EconomicsConfig, gross: [U256; 2], served_cost: U256) -> Vec<ChainEpoch> {
    let terms = &config.revenue_share[0];
    vec![
        ChainEpoch {
            chain_id: SERVED_CHAIN,
            gross: gross[0],
            cost: served_cost,
            mev: U256::ZERO,
            share: Some(RevenueShareTerms { partner: terms.partner, a_bps: terms.a_bps, b_bps: terms.b_bps }),
        },
        ChainEpoch {
            chain_id: SETTLEMENT_CHAIN,
            gross: gross[1],
            cost: U256::ZERO,
            mev: U256::ZERO,
            share: None,
        },
    ]
}

/// Oracle member `member` (a development account) votes `hash` for `slot`.
async fn vote(chain: &Chain, executor: Address, member: usize, slot: u64, hash: B256) {
    let provider = chain.wallet(member);
    let sent = ReportExecutor::new(executor, &provider).vote(slot, hash).send().await.expect("vote");
    confirm(&provider, "vote", *sent.tx_hash()).await.expect("voted");
}

/// Anyone (development account 8) executes the agreed report, whose hash Rust computed as
/// `hash`, call by call (`chain::report::execute_report`): the first call's hash (from its
/// calldata) is Rust's; the sequencers are paid in that call, the pool harvests in the next and
/// moves in the last, which ends the report with both pool steps run.
async fn execute(chain: &Chain, executor: Address, report: ReportTypes::Report, hash: B256) {
    let anyone = chain.wallet(8);
    let contract = ReportExecutor::new(executor, &anyone);
    let sent = contract.execute(report.clone()).send().await.expect("first call");
    confirm(&anyone, "execute", *sent.tx_hash()).await.expect("first call executed");
    assert_eq!(contract.executing().call().await.expect("executing"), hash, "the contract's hash is Rust's");
    let execution = execute_report(&anyone, executor, &report).await.expect("the rest of the report");
    assert_eq!(execution.calls.len(), 2, "taken up after the payment: harvest, moves");
    assert!(
        execution.refused_pool_steps.is_empty(),
        "both pool steps ran: {:?}",
        execution.refused_pool_steps
    );
    assert!(!execution.active_set_rejected);
    assert_eq!(contract.executing().call().await.expect("executing"), B256::ZERO, "the report ended");
    let next = contract.nextEpoch().call().await.expect("next epoch");
    assert_eq!(contract.unharvestedFrom().call().await.expect("unharvested"), next, "the pool harvested");
}

/// Runs the wiring batch: refused before the timelock's delay, executed by anyone after it.
async fn wire(chain: &Chain, system: &SystemAddresses, wiring: &Wiring, delay: u64) {
    let admin = chain.wallet(0);
    assert!(!wiring_in_place(&admin, system).await.expect("read"), "nothing is wired before the delay");
    // The wiring cannot run before the timelock's delay (a provider of its own: a refused
    // transaction leaves a gap in its nonce cache)...
    assert!(execute_wiring(&chain.wallet(7), system.timelock, wiring).await.is_err());
    // ...and anyone may run it after.
    advance(&admin, delay).await;
    execute_wiring(&chain.wallet(8), system.timelock, wiring).await.expect("wire");
    assert!(wiring_in_place(&admin, system).await.expect("read"), "every role and link in place");
}

/// Two sequencers (commission 10% and 5%, bonds of 10), a delegator's 5 with sequencer 1, a
/// liquid deposit of 10, the reserve funded with 1, revenue arrived in both vaults (returned).
async fn populate(chain: &Chain, system: &SystemAddresses) -> (U256, U256) {
    let admin = chain.wallet(0);
    for (i, commission) in [(1usize, 1_000u16), (2, 500)] {
        let operator = chain.wallet(i);
        let sent = SequencerRegistry::new(system.registry, &operator)
            .register(
                Address::with_last_byte(0x50 + u8::try_from(i).expect("small")),
                chain.address(i),
                commission,
            )
            .value(tokens(10))
            .send()
            .await
            .expect("register");
        confirm(&operator, "register", *sent.tx_hash()).await.expect("registered");
    }
    let delegator = chain.wallet(3);
    let sent = SequencerRegistry::new(system.registry, &delegator)
        .delegate(1)
        .value(tokens(5))
        .send()
        .await
        .expect("delegate");
    confirm(&delegator, "delegate", *sent.tx_hash()).await.expect("delegated");
    let sent = LiquidStakingToken::new(system.token, &delegator)
        .deposit(Address::ZERO)
        .value(tokens(10))
        .send()
        .await
        .expect("deposit");
    confirm(&delegator, "deposit", *sent.tx_hash()).await.expect("deposited");
    let sent =
        EmissionReserve::new(system.reserve, &admin).fund().value(tokens(1)).send().await.expect("fund");
    confirm(&admin, "fund", *sent.tx_hash()).await.expect("funded");
    let (served_gross, home_gross) = (tokens(3) + U256::from(12_345u64), tokens(1) + U256::from(7u64));
    send(&chain.wallet(9), system.vaults[0].1, served_gross).await;
    send(&chain.wallet(9), system.vaults[1].1, home_gross).await;
    (served_gross, home_gross)
}

/// Everything the report moved equals the Rust settlements.
async fn check_outcome<P: Provider>(
    provider: &P,
    system: &SystemAddresses,
    config: &EconomicsConfig,
    settlements: [&Settlement; 2],
) {
    let registry = SequencerRegistry::new(system.registry, provider);
    let executor = ReportExecutor::new(system.executor, provider);
    let [s0, s1] = settlements;
    let fees = s0.protocol_fee + s1.protocol_fee;
    let jailed: U256 = [s0, s1].iter().flat_map(|s| s.sequencers.iter().map(|q| q.to_treasury)).sum();
    assert_eq!(executor.owed(config.treasury.address).call().await.expect("owed"), fees + jailed);
    let share = s1.chains[0].share;
    assert!(!share.is_zero());
    assert_eq!(executor.owed(config.revenue_share[0].partner).call().await.expect("owed"), share);
    assert_eq!(executor.carriedDust().call().await.expect("dust"), s1.dust_out);
    assert_eq!(executor.nextEpoch().call().await.expect("next"), s1.epoch + 1);
    let balance = provider.get_balance(system.executor).await.expect("balance");
    assert_eq!(balance, executor.totalOwed().call().await.expect("owed") + s1.dust_out);
    for (i, s) in s1.sequencers.iter().enumerate() {
        let pool = registry.pool(s.id).call().await.expect("pool");
        assert_eq!(pool.acc, s.acc_after, "sequencer {}: accumulator", s.id);
        assert_eq!(U256::from(pool.dust), s.dust_after, "sequencer {}: dust", s.id);
        let operator =
            s0.sequencers[i].commission + s0.sequencers[i].bond_reward + s.commission + s.bond_reward;
        assert_eq!(
            registry.operatorRewards(s.id).call().await.expect("operator"),
            operator,
            "sequencer {}",
            s.id
        );
    }
    let reserve = EmissionReserve::new(system.reserve, provider);
    assert_eq!(reserve.paid().call().await.expect("paid"), s0.emission + s1.emission);
    for (i, &(_, vault)) in system.vaults.iter().enumerate() {
        let drawn = FeeVault::new(vault, provider).totalDrawn().call().await.expect("drawn");
        assert_eq!(drawn, s1.chains[i].gross + s1.chains[i].mev, "vault {i} drawn");
    }
    let token = LiquidStakingToken::new(system.token, provider);
    let now_epoch = registry.currentEpoch().call().await.expect("epoch");
    assert_eq!(token.lastReportEpoch().call().await.expect("harvested"), now_epoch, "the report harvested");
    let buffered = token.bufferedAssets().call().await.expect("buffer");
    assert_eq!(U256::from(buffered), tokens(10), "nothing delegated yet");
    assert_eq!(registry.activeSet().call().await.expect("set"), vec![1, 2]);
}
