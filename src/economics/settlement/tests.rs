//! Settlement against a hand-computed epoch, the rules of weighting and jailing, errors that
//! name their input, and exact conservation over 10,000 random epochs.

use alloy::primitives::{Address, U256, U512};
use proptest::prelude::*;

use super::*;

fn wei(n: u128) -> U256 {
    U256::from(n)
}

fn sequencer(
    id: SequencerId,
    blocks: u64,
    bond: u128,
    pool_tokens: u128,
    pool_shares: u128,
) -> SequencerEpoch {
    SequencerEpoch {
        id,
        blocks,
        bond: wei(bond),
        pool_tokens: wei(pool_tokens),
        pool_shares: wei(pool_shares),
        commission_bps: 1_000,
        jailed: false,
        acc_before: U256::ZERO,
        dust_before: U256::ZERO,
    }
}

fn params(weighting: Weighting) -> SettlementParams {
    SettlementParams { protocol_fee_bps: 1_000, weighting, jailed_rewards: JailedRewards::ToTreasury }
}

fn partner() -> Address {
    Address::repeat_byte(0xAA)
}

/// The epoch worked by hand in this module's comments.
fn worked_epoch() -> EpochInputs {
    let mut s1 = sequencer(1, 2, 100, 300, 300_000);
    s1.dust_before = wei(5);
    let mut s2 = sequencer(2, 1, 50, 0, 0);
    s2.commission_bps = 500;
    let mut s3 = sequencer(3, 3, 80, 20, 20);
    s3.jailed = true;
    EpochInputs {
        epoch: 41,
        chains: vec![
            ChainEpoch {
                chain_id: 10,
                gross: wei(100_000),
                cost: wei(30_000),
                mev: wei(1_000),
                share: Some(RevenueShareTerms { partner: partner(), a_bps: 250, b_bps: 1_500 }),
            },
            ChainEpoch { chain_id: 8453, gross: wei(50_001), cost: U256::ZERO, mev: U256::ZERO, share: None },
        ],
        emission: wei(1_000_000),
        dust_in: wei(8),
        sequencers: vec![s1, s2, s3],
    }
}

#[test]
fn worked_epoch_matches_the_hand_computation() {
    let settlement = settle_epoch(&worked_epoch(), &params(Weighting::Blocks)).expect("settles");
    // Chain 10: share max(2_500, 10_500) = 10_500; kept 89_500 + 1_000 MEV. Chain 8453: 50_001.
    assert_eq!(settlement.chains[0].share, wei(10_500));
    assert_eq!(settlement.revenue_after_shares, wei(140_501));
    // 10% of 140_501 = 14_050.1 -> 14_050.
    assert_eq!(settlement.protocol_fee, wei(14_050));
    // 140_501 - 14_050 + 1_000_000 + 8 = 1_126_459, split 2:1:3 by blocks.
    assert_eq!(settlement.reward_pool, wei(1_126_459));
    let rewards: Vec<U256> = settlement.sequencers.iter().map(|s| s.reward).collect();
    assert_eq!(rewards, [wei(375_486), wei(187_743), wei(563_229)]);
    assert_eq!(settlement.dust_out, wei(1));

    let s1 = &settlement.sequencers[0];
    assert_eq!(s1.commission, wei(37_548)); // 10% of 375_486
    assert_eq!(s1.bond_reward, wei(84_484)); // 337_938 * 100 / 400
    assert_eq!(s1.pool_reward, wei(253_454));
    // (253_454 + 5 dust) * 1e27 / 300_000 shares.
    assert_eq!(s1.acc_increment, U256::from(844_863_333_333_333_333_333_333_333u128));
    assert_eq!(s1.acc_after, s1.acc_increment);
    // The shares can claim 253_458.99…: credited rounded up, no whole wei left as dust.
    assert_eq!(s1.pool_credited, wei(253_459));
    assert_eq!(s1.dust_after, U256::ZERO);

    let s2 = &settlement.sequencers[1];
    assert_eq!((s2.commission, s2.bond_reward, s2.pool_reward), (wei(9_387), wei(178_356), U256::ZERO));

    let s3 = &settlement.sequencers[2];
    assert_eq!((s3.to_treasury, s3.commission, s3.acc_increment), (wei(563_229), U256::ZERO, U256::ZERO));

    assert_eq!(settlement.total_in(), U512::from(1_151_014u64));
    assert_eq!(settlement.total_out(), U512::from(1_151_014u64));
}

#[test]
fn a_fully_slashed_pool_still_settles() {
    // Bond and pool slashed to zero while delegators keep their shares: the staker side goes
    // through the accumulator to those shares, nothing to the operator's (empty) bond.
    let mut inputs = worked_epoch();
    inputs.sequencers[0].bond = U256::ZERO;
    inputs.sequencers[0].pool_tokens = U256::ZERO;
    let settlement = settle_epoch(&inputs, &params(Weighting::Blocks)).expect("settles");
    let s1 = &settlement.sequencers[0];
    assert_eq!(s1.bond_reward, U256::ZERO);
    assert_eq!(s1.pool_reward, s1.reward - s1.commission);
    assert!(s1.acc_increment > U256::ZERO);
    assert_eq!(settlement.total_in(), settlement.total_out());
    // Tokens but no shares: the pool's part waits as its dust.
    let mut inputs = worked_epoch();
    inputs.sequencers[0].pool_shares = U256::ZERO;
    let settlement = settle_epoch(&inputs, &params(Weighting::Blocks)).expect("settles");
    let s1 = &settlement.sequencers[0];
    assert_eq!(s1.pool_credited, U256::ZERO);
    assert_eq!(s1.dust_after, s1.pool_reward + s1.dust_before);
    assert_eq!(settlement.total_in(), settlement.total_out());
}

#[test]
fn params_come_from_the_economics_config() {
    let devnet = crate::config::EconomicsConfig::from_toml(include_str!("../../../config/devnet.toml"))
        .expect("valid");
    assert_eq!(
        SettlementParams::from_config(&devnet).expect("params"),
        SettlementParams {
            protocol_fee_bps: 1_000,
            weighting: Weighting::Blend { blocks_bps: 5_000 },
            jailed_rewards: JailedRewards::ToTreasury,
        }
    );
    let example = crate::config::EconomicsConfig::from_toml(include_str!("../../../config/example.toml"))
        .expect("valid");
    assert_eq!(
        SettlementParams::from_config(&example).expect("params"),
        SettlementParams {
            protocol_fee_bps: 500,
            weighting: Weighting::Blocks,
            jailed_rewards: JailedRewards::Redistribute
        }
    );
}

#[test]
fn every_payout_names_recipient_and_reason() {
    let settlement = settle_epoch(&worked_epoch(), &params(Weighting::Blocks)).expect("settles");
    let expected = vec![
        Payout {
            recipient: Recipient::Partner { address: partner() },
            reason: PayoutReason::RevenueShare { chain_id: 10 },
            amount: wei(10_500),
        },
        Payout { recipient: Recipient::Treasury, reason: PayoutReason::ProtocolFee, amount: wei(14_050) },
        Payout {
            recipient: Recipient::Operator { sequencer: 1 },
            reason: PayoutReason::Commission,
            amount: wei(37_548),
        },
        Payout {
            recipient: Recipient::Operator { sequencer: 1 },
            reason: PayoutReason::BondReward,
            amount: wei(84_484),
        },
        Payout {
            recipient: Recipient::DelegationPool { sequencer: 1 },
            reason: PayoutReason::PoolReward,
            amount: wei(253_459),
        },
        Payout {
            recipient: Recipient::Operator { sequencer: 2 },
            reason: PayoutReason::Commission,
            amount: wei(9_387),
        },
        Payout {
            recipient: Recipient::Operator { sequencer: 2 },
            reason: PayoutReason::BondReward,
            amount: wei(178_356),
        },
        Payout {
            recipient: Recipient::Treasury,
            reason: PayoutReason::JailedSequencerReward { sequencer: 3 },
            amount: wei(563_229),
        },
    ];
    assert_eq!(settlement.payouts, expected);
}

#[test]
fn redistributed_jailed_part_goes_to_the_others() {
    let mut p = params(Weighting::Blocks);
    p.jailed_rewards = JailedRewards::Redistribute;
    let settlement = settle_epoch(&worked_epoch(), &p).expect("settles");
    // Weights 2:1:0 over 1_126_459: 750_972 (rem 2) and 375_486 (rem 1): dust 1.
    let rewards: Vec<U256> = settlement.sequencers.iter().map(|s| s.reward).collect();
    assert_eq!(rewards, [wei(750_972), wei(375_486), U256::ZERO]);
    assert_eq!(settlement.dust_out, wei(1));
    assert!(
        !settlement.payouts.iter().any(|p| matches!(p.reason, PayoutReason::JailedSequencerReward { .. }))
    );
}

#[test]
fn redistributed_jailed_sequencer_has_no_stake_or_blend_weight() {
    let mut p = params(Weighting::Stake);
    p.jailed_rewards = JailedRewards::Redistribute;
    let settlement = settle_epoch(&worked_epoch(), &p).expect("settles");
    // Stakes 400 : 50 : 0 (the jailed 100 has no weight) over 1_126_459: 1_001_296 and
    // 125_162, rounded down; dust 1.
    let rewards: Vec<U256> = settlement.sequencers.iter().map(|s| s.reward).collect();
    assert_eq!(rewards, [wei(1_001_296), wei(125_162), U256::ZERO]);
    assert_eq!(settlement.dust_out, wei(1));

    p.weighting = Weighting::Blend { blocks_bps: 5_000 };
    let settlement = settle_epoch(&worked_epoch(), &p).expect("settles");
    // 563_229 by blocks 2:1:0 (375_486, 187_743) and 563_230 by stake 400:50:0 (500_648,
    // 62_581); dust 1.
    let rewards: Vec<U256> = settlement.sequencers.iter().map(|s| s.reward).collect();
    assert_eq!(rewards, [wei(375_486 + 500_648), wei(187_743 + 62_581), U256::ZERO]);
    assert_eq!(settlement.dust_out, wei(1));
}

#[test]
fn stake_weighting_uses_the_checkpointed_stake() {
    let settlement = settle_epoch(&worked_epoch(), &params(Weighting::Stake)).expect("settles");
    // Stakes 400 : 50 : 100 over 1_126_459.
    let rewards: Vec<U256> = settlement.sequencers.iter().map(|s| s.reward).collect();
    assert_eq!(rewards, [wei(819_242), wei(102_405), wei(204_810)]);
    assert_eq!(settlement.dust_out, wei(2));
}

#[test]
fn blend_splits_the_pool_then_weights_each_part() {
    let settlement =
        settle_epoch(&worked_epoch(), &params(Weighting::Blend { blocks_bps: 5_000 })).expect("ok");
    // 563_229 by blocks (2:1:3) and 563_230 by stake (400:50:100).
    let rewards: Vec<U256> = settlement.sequencers.iter().map(|s| s.reward).collect();
    assert_eq!(rewards, [wei(187_743 + 409_621), wei(93_871 + 51_202), wei(281_614 + 102_405)]);
    assert_eq!(settlement.total_in(), settlement.total_out());
}

#[test]
fn nobody_with_weight_carries_the_whole_pool() {
    let mut inputs = worked_epoch();
    for s in &mut inputs.sequencers {
        s.blocks = 0;
    }
    let settlement = settle_epoch(&inputs, &params(Weighting::Blocks)).expect("settles");
    assert_eq!(settlement.dust_out, settlement.reward_pool);
    assert_eq!(settlement.total_in(), settlement.total_out());
}

#[test]
fn bad_input_is_refused_with_its_name() {
    let mut inputs = worked_epoch();
    inputs.sequencers[1].id = 1;
    assert_eq!(
        settle_epoch(&inputs, &params(Weighting::Blocks)),
        Err(EconomicsError::InvalidInput {
            what: "sequencer 1".to_owned(),
            problem: "listed twice".to_owned()
        })
    );
    let mut inputs = worked_epoch();
    inputs.emission = U256::MAX;
    assert_eq!(
        settle_epoch(&inputs, &params(Weighting::Blocks)),
        Err(EconomicsError::Overflow { what: "reward pool (emission, dust in)".to_owned() })
    );
    let mut inputs = worked_epoch();
    inputs.chains[1].mev = U256::MAX;
    assert_eq!(
        settle_epoch(&inputs, &params(Weighting::Blocks)),
        Err(EconomicsError::Overflow { what: "chain 8453 mev".to_owned() })
    );
}

/// Amounts a real epoch can hold: up to 10^30 wei (a trillion tokens), often tiny.
fn amount() -> impl Strategy<Value = U256> {
    prop_oneof![
        4 => (0u128..1_000_000_000_000_000_000_000_000_000_000).prop_map(U256::from),
        1 => (0u64..1_000).prop_map(U256::from),
    ]
}

/// Any 256-bit amount, for the no-panic property.
fn extreme_amount() -> impl Strategy<Value = U256> {
    prop_oneof![amount(), any::<[u64; 4]>().prop_map(U256::from_limbs), Just(U256::MAX)]
}

fn chain_strategy(amount: fn() -> BoxedStrategy<U256>) -> impl Strategy<Value = ChainEpoch> {
    (any::<u64>(), amount(), amount(), amount(), proptest::option::of((0u16..=10_000, 0u16..=10_000)))
        .prop_map(|(chain_id, gross, cost, mev, terms)| ChainEpoch {
            chain_id,
            gross,
            cost,
            mev,
            share: terms.map(|(a_bps, b_bps)| RevenueShareTerms {
                partner: Address::repeat_byte(1),
                a_bps,
                b_bps,
            }),
        })
}

fn sequencer_strategy(amount: fn() -> BoxedStrategy<U256>) -> impl Strategy<Value = SequencerEpoch> {
    (
        0u64..10_000,
        amount(),
        amount(),
        1u64..u64::MAX,
        0u16..=10_000,
        any::<bool>(),
        amount(),
        0u64..1_000_000,
    )
        .prop_map(
            |(blocks, bond, pool_tokens, share_factor, commission_bps, jailed, acc_before, dust)| {
                let pool_shares = if pool_tokens.is_zero() {
                    U256::ZERO
                } else {
                    pool_tokens.saturating_mul(U256::from(share_factor))
                };
                SequencerEpoch {
                    id: 0,
                    blocks,
                    bond,
                    pool_tokens,
                    pool_shares,
                    commission_bps,
                    jailed,
                    acc_before,
                    dust_before: U256::from(dust),
                }
            },
        )
}

fn epoch_strategy(
    amount: fn() -> BoxedStrategy<U256>,
) -> impl Strategy<Value = (EpochInputs, SettlementParams)> {
    let weighting = prop_oneof![
        Just(Weighting::Blocks),
        Just(Weighting::Stake),
        (0u16..=10_000).prop_map(|b| Weighting::Blend { blocks_bps: b })
    ];
    let jailed = prop_oneof![Just(JailedRewards::ToTreasury), Just(JailedRewards::Redistribute)];
    (
        proptest::collection::vec(chain_strategy(amount), 0..5),
        proptest::collection::vec(sequencer_strategy(amount), 0..20),
        amount(),
        0u64..1_000_000,
        0u16..=10_000,
        weighting,
        jailed,
    )
        .prop_map(|(mut chains, mut sequencers, emission, dust_in, fee, weighting, jailed_rewards)| {
            for (i, chain) in chains.iter_mut().enumerate() {
                chain.chain_id = i as u64 + 1;
            }
            for (i, s) in sequencers.iter_mut().enumerate() {
                s.id = SequencerId::try_from(i).expect("small");
            }
            (
                EpochInputs { epoch: 7, chains, emission, dust_in: U256::from(dust_in), sequencers },
                SettlementParams { protocol_fee_bps: fee, weighting, jailed_rewards },
            )
        })
}

fn realistic() -> BoxedStrategy<U256> {
    amount().boxed()
}

fn extreme() -> BoxedStrategy<U256> {
    extreme_amount().boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    /// Over 10,000 random epochs of realistic size: settlement succeeds, every wei that came in
    /// went out (payouts + dust), each sequencer's reward is fully accounted for, and the
    /// accumulator never credits more than the pool's reward plus its dust.
    #[test]
    fn conservation_is_exact((inputs, params) in epoch_strategy(realistic)) {
        let settlement = settle_epoch(&inputs, &params).expect("realistic epochs settle");
        prop_assert_eq!(settlement.total_in(), settlement.total_out());
        for s in &settlement.sequencers {
            prop_assert!(s.pool_credited <= s.pool_reward + s.dust_before);
            prop_assert_eq!(s.commission + s.bond_reward + s.pool_reward + s.to_treasury, s.reward);
        }
        let split: U256 = settlement.sequencers.iter().map(|s| s.reward).fold(U256::ZERO, |a, b| a + b);
        prop_assert_eq!(split + settlement.dust_out, settlement.reward_pool);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// Any 256-bit input: no panic; an error names its input; a success still conserves.
    #[test]
    fn no_input_panics((inputs, params) in epoch_strategy(extreme)) {
        match settle_epoch(&inputs, &params) {
            Ok(settlement) => prop_assert_eq!(settlement.total_in(), settlement.total_out()),
            Err(EconomicsError::Overflow { what } | EconomicsError::DivisionByZero { what }) => {
                prop_assert!(!what.is_empty());
            }
            Err(EconomicsError::InvalidInput { what, .. }) => prop_assert!(!what.is_empty()),
        }
    }
}
