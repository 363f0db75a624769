//! Benchmarks behind docs/BENCHMARKS.md: epoch settlement at 100, 1,000 and 10,000 sequencers
//! (target < 5 ms at 10,000), and a delegator's pending reward from the accumulator against a
//! naive replay of a 1,000-epoch history.
//!
//! Run: `cargo bench --bench economics`

use std::hint::black_box;

use alloy::primitives::{Address, U256};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use seqstake::economics::{
    accumulator::{DelegationPool, Position},
    math,
    revenue::RevenueShareTerms,
    settlement::{
        ChainEpoch, EpochInputs, JailedRewards, SequencerEpoch, SettlementParams, Weighting, settle_epoch,
    },
};

const ETHER: u128 = 1_000_000_000_000_000_000;

fn epoch(sequencers: u32) -> EpochInputs {
    let chains = (0..4u64)
        .map(|i| ChainEpoch {
            chain_id: 10 + i,
            gross: U256::from(1_000 * ETHER + u128::from(i)),
            cost: U256::from(300 * ETHER),
            mev: U256::from(7 * ETHER),
            share: Some(RevenueShareTerms { partner: Address::repeat_byte(9), a_bps: 250, b_bps: 1_500 }),
        })
        .collect();
    let sequencers = (0..sequencers)
        .map(|id| {
            let n = u128::from(id) + 1;
            SequencerEpoch {
                id,
                blocks: 40 + u64::from(id % 7),
                bond: U256::from(20_000 * ETHER + n),
                pool_tokens: U256::from(100_000 * ETHER * n / 3 + 11),
                pool_shares: U256::from(100_000_000 * ETHER * n / 3 + 12_345),
                commission_bps: 500 + u16::try_from(id % 1_000).expect("small"),
                jailed: id % 50 == 49,
                acc_before: U256::from(ETHER) * U256::from(n),
                dust_before: U256::from(n % 3),
            }
        })
        .collect();
    EpochInputs {
        epoch: 1_000,
        chains,
        emission: U256::from(50_000 * ETHER),
        dust_in: U256::from(3u64),
        sequencers,
    }
}

fn settlement(c: &mut Criterion) {
    let params = SettlementParams {
        protocol_fee_bps: 500,
        weighting: Weighting::Blend { blocks_bps: 5_000 },
        jailed_rewards: JailedRewards::ToTreasury,
    };
    let mut group = c.benchmark_group("settle_epoch");
    for size in [100u32, 1_000, 10_000] {
        let inputs = epoch(size);
        group.bench_with_input(BenchmarkId::from_parameter(size), &inputs, |b, inputs| {
            b.iter(|| settle_epoch(black_box(inputs), black_box(&params)).expect("settles"));
        });
    }
    group.finish();
}

/// A 1,000-epoch history of one pool, and one delegator who joined at epoch 0.
fn history() -> (DelegationPool, Position, Vec<(U256, U256)>) {
    let mut pool = DelegationPool {
        tokens: U256::from(1_000 * ETHER),
        shares: U256::from(1_000_000 * ETHER),
        ..Default::default()
    };
    let position = Position { shares: U256::from(1_234 * ETHER), acc_entry: pool.acc, unclaimed: U256::ZERO };
    // Per epoch: the pool's reward and its shares through the epoch (what a naive replay needs).
    let mut epochs = Vec::with_capacity(1_000);
    for e in 0..1_000u128 {
        let reward = U256::from(ETHER / 10 + e);
        epochs.push((reward, pool.shares));
        pool.credit_reward(reward).expect("credit");
    }
    (pool, position, epochs)
}

fn naive_replay(position: &Position, epochs: &[(U256, U256)]) -> U256 {
    epochs.iter().fold(U256::ZERO, |total, (reward, shares)| {
        total + math::mul_div(*reward, position.shares, *shares, "replay").expect("replay")
    })
}

fn pending_reward(c: &mut Criterion) {
    let (pool, position, epochs) = history();
    let mut group = c.benchmark_group("pending_reward_1000_epochs");
    group.bench_function("accumulator", |b| b.iter(|| black_box(&position).pending(black_box(pool.acc))));
    group.bench_function("naive_replay", |b| {
        b.iter(|| naive_replay(black_box(&position), black_box(&epochs)));
    });
    group.finish();
}

criterion_group!(benches, settlement, pending_reward);
criterion_main!(benches);
