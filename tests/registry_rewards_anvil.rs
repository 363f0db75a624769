//! The Rust settlement and the registry on chain agree to the wei: an epoch is settled in Rust
//! from the registry's own checkpoints (`stakeAt`, `pool`), the rewards are paid through
//! `distributeRewards` by a reporter whose role was granted through the timelock, and every
//! on-chain figure (accumulator, dust, operator rewards, each delegator's claimable reward)
//! equals what `settle_epoch` and the accumulator rows computed.

mod support;

use alloy::{
    primitives::{Address, B256, U256},
    providers::Provider,
};
use seqstake::{
    chain::{
        bindings::{SeqstakeTimelock, SequencerRegistry},
        deploy::{deploy_registry, deploy_timelock, registry_params},
        tx::confirm,
    },
    config::EconomicsConfig,
    economics::{
        accumulator::pending_reward,
        revenue::RevenueShareTerms,
        settlement::{ChainEpoch, EpochInputs, SettlementParams, settle_epoch},
    },
};
use support::chain::{Chain, advance, now, sequencer_inputs, tokens};

/// Grants `REPORTER_ROLE` to `reporter` through the timelock: schedule, wait its delay on the
/// chain's clock, execute.
async fn grant_reporter<P: Provider>(
    admin: &P,
    registry: &SequencerRegistry::SequencerRegistryInstance<&P>,
    timelock: Address,
    delay: u64,
    reporter: Address,
) {
    let registry_address = *registry.address();
    let role = registry.REPORTER_ROLE().call().await.expect("role");
    let grant = registry.grantRole(role, reporter).calldata().clone();
    let timelock = SeqstakeTimelock::new(timelock, admin);
    let scheduled = timelock
        .schedule(registry_address, U256::ZERO, grant.clone(), B256::ZERO, B256::ZERO, U256::from(delay))
        .send()
        .await
        .expect("schedule");
    confirm(admin, "schedule", *scheduled.tx_hash()).await.expect("scheduled");
    advance(admin, delay).await;
    let executed = timelock
        .execute(registry_address, U256::ZERO, grant, B256::ZERO, B256::ZERO)
        .send()
        .await
        .expect("execute");
    confirm(admin, "execute", *executed.tx_hash()).await.expect("executed");
    assert!(registry.hasRole(role, reporter).call().await.expect("hasRole"));
}

#[tokio::test]
async fn an_epoch_settled_in_rust_is_paid_on_chain_to_the_wei() {
    let config = EconomicsConfig::from_toml(include_str!("../config/devnet.toml")).expect("devnet config");
    let chain = Chain::spawn();
    let address = |i: usize| chain.address(i);
    let wallet = |i: usize| chain.wallet(i);
    let admin = wallet(0);

    let genesis = now(&admin).await;
    let delay = config.governance.timelock_delay_seconds;
    let timelock = deploy_timelock(&admin, delay, vec![address(0)]).await.expect("timelock");
    let registry_address =
        deploy_registry(&admin, registry_params(&config, genesis), timelock).await.expect("registry");
    let registry = SequencerRegistry::new(registry_address, &admin);

    // The reporter role is granted the only way there is: through the timelock, after its delay.
    grant_reporter(&admin, &registry, timelock, delay, address(0)).await;

    // Two sequencers, three delegations.
    for (i, (bond, commission)) in [(tokens(10), 1_000u16), (tokens(5), 500u16)].into_iter().enumerate() {
        let operator = wallet(1 + i);
        let signer = Address::with_last_byte(0x51 + u8::try_from(i).expect("small"));
        let sent = SequencerRegistry::new(registry_address, &operator)
            .register(signer, address(1 + i), commission)
            .value(bond)
            .send()
            .await
            .expect("register");
        confirm(&operator, "register", *sent.tx_hash()).await.expect("registered");
    }
    for (who, id, amount) in [(3usize, 1u32, tokens(30)), (4, 1, tokens(10)), (4, 2, tokens(20))] {
        let delegator = wallet(who);
        let sent = SequencerRegistry::new(registry_address, &delegator)
            .delegate(id)
            .value(amount)
            .send()
            .await
            .expect("delegate");
        confirm(&delegator, "delegate", *sent.tx_hash()).await.expect("delegated");
    }

    // Let the stake count, then let that epoch end.
    let joined = registry.currentEpoch().call().await.expect("epoch");
    advance(&admin, config.epochs.length_seconds).await;
    advance(&admin, config.epochs.length_seconds).await;
    let epoch = joined + 1;
    assert!(registry.currentEpoch().call().await.expect("epoch") > epoch);

    // Settle the epoch in Rust from the registry's checkpoints.
    let sequencers = sequencer_inputs(&registry, epoch, &[(1, 12), (2, 4)]).await;
    assert_eq!(sequencers[0].pool_tokens, tokens(40), "both delegations count in the epoch after them");
    let share = &config.revenue_share[0];
    let inputs = EpochInputs {
        epoch,
        chains: vec![ChainEpoch {
            chain_id: share.chain_id,
            gross: tokens(3) + U256::from(12_345u64),
            cost: tokens(1) / U256::from(2u64),
            mev: U256::from(777u64),
            share: Some(RevenueShareTerms { partner: share.partner, a_bps: share.a_bps, b_bps: share.b_bps }),
        }],
        emission: tokens(1) / U256::from(100u64),
        dust_in: U256::ZERO,
        sequencers,
    };
    let params = SettlementParams::from_config(&config).expect("params");
    let settlement = settle_epoch(&inputs, &params).expect("settle");

    // Pay every epoch from the registry's next unpaid one: nothing before `epoch`.
    let first = registry.nextRewardEpoch().call().await.expect("next");
    let span = usize::try_from(epoch - first + 1).expect("span");
    let rewards: Vec<SequencerRegistry::SequencerRewards> = settlement
        .sequencers
        .iter()
        .map(|s| {
            let mut amounts = vec![U256::ZERO; span];
            amounts[span - 1] = s.reward;
            SequencerRegistry::SequencerRewards { id: s.id, amounts }
        })
        .collect();
    let total: U256 = settlement.sequencers.iter().map(|s| s.reward).sum();
    let paid =
        registry.distributeRewards(first, epoch, rewards).value(total).send().await.expect("distribute");
    confirm(&admin, "distributeRewards", *paid.tx_hash()).await.expect("distributed");

    for s in &settlement.sequencers {
        let pool = registry.pool(s.id).call().await.expect("pool");
        assert_eq!(pool.acc, s.acc_after, "sequencer {}: accumulator", s.id);
        assert_eq!(U256::from(pool.dust), s.dust_after, "sequencer {}: dust", s.id);
        let operator = registry.operatorRewards(s.id).call().await.expect("operatorRewards");
        assert_eq!(operator, s.commission + s.bond_reward, "sequencer {}: operator", s.id);
    }
    for (who, id) in [(3usize, 1u32), (4, 1), (4, 2)] {
        let on_chain = registry.delegation(id, address(who)).call().await.expect("delegation");
        let index = usize::try_from(id - 1).expect("index");
        let (outcome, before) = (&settlement.sequencers[index], inputs.sequencers[index].acc_before);
        let expected = pending_reward(on_chain.earningShares, outcome.acc_after, before).expect("pending");
        assert_eq!(on_chain.rewards, expected, "delegator {who} in pool {id}");
        assert!(!expected.is_zero());
    }
}
