//! Accumulators against a naive per-delegator ledger on random histories (delegations,
//! undelegations, redelegations out and in, mid-epoch changes, claims, slashes), and the
//! O(1) per-epoch payouts against a replay.

use alloy::primitives::{U256, U512};
use proptest::prelude::*;

use super::*;

fn wei(n: u128) -> U256 {
    U256::from(n)
}

#[test]
fn pending_reward_rounds_down() {
    // 3 shares * 0.5 RAY / RAY = 1.5 -> 1.
    assert_eq!(pending_reward(wei(3), RAY / wei(2), U256::ZERO), Ok(wei(1)));
    assert!(pending_reward(wei(3), U256::ZERO, wei(1)).is_err());
}

#[test]
fn pool_credits_reward_and_keeps_dust() {
    let mut pool = DelegationPool { tokens: wei(300), shares: wei(300_000), acc: U256::ZERO, dust: wei(5) };
    // (253_454 + 5) * 1e27 / 300_000 = 844_863_333_333_333_333_333_333_333: the shares can
    // claim 253_458.99…, so 253_459 is credited (rounded up) and no whole wei is left as dust.
    assert_eq!(pool.credit_reward(wei(253_454)), Ok(wei(253_459)));
    assert_eq!(pool.acc, U256::from(844_863_333_333_333_333_333_333_333u128));
    assert_eq!(pool.dust, U256::ZERO);
    // 2 wei over 3 shares: claimable 1.99…, credited 2, nothing left.
    let mut thirds = DelegationPool { tokens: wei(3), shares: wei(3), acc: U256::ZERO, dust: U256::ZERO };
    assert_eq!(thirds.credit_reward(wei(2)), Ok(wei(2)));
    assert_eq!(thirds.dust, U256::ZERO);
    let mut empty = DelegationPool::default();
    assert_eq!(empty.credit_reward(wei(9)), Ok(U256::ZERO));
    assert_eq!(empty.dust, wei(9));
}

#[test]
fn a_holder_settling_late_never_claims_more_than_was_credited() {
    // One holder of 3 shares settles once after many 1-wei rewards. Credited rounded down,
    // the fractions it adds up (0.99… each epoch) would also be carried as dust: it could claim
    // wei the pool never credited. The registry's invariant suite found this on chain.
    let mut pool = DelegationPool { tokens: wei(3), shares: wei(3), acc: U256::ZERO, dust: U256::ZERO };
    let mut credited = U256::ZERO;
    for epoch in 1..=10u128 {
        credited += pool.credit_reward(wei(1)).expect("credit");
        let claimable = pending_reward(wei(3), pool.acc, U256::ZERO).expect("pending");
        assert!(claimable <= credited, "epoch {epoch}: claimable {claimable} > credited {credited}");
        assert_eq!(credited + pool.dust, wei(epoch), "epoch {epoch}: credited and dust are the rewards");
    }
}

#[test]
fn a_slash_never_changes_rewards_already_earned() {
    let mut pool = DelegationPool::default();
    let shares = pool.shares_for(wei(1_000)).expect("shares");
    pool.tokens = wei(1_000);
    pool.shares = shares;
    let position = Position { shares, acc_entry: pool.acc, unclaimed: U256::ZERO };
    pool.credit_reward(wei(100)).expect("reward");
    let earned = position.pending(pool.acc).expect("pending");
    pool.slash(wei(400)).expect("slash");
    assert_eq!(position.pending(pool.acc), Ok(earned));
    // The shares are now worth less, and new tokens buy more shares.
    assert_eq!(pool.tokens_for(shares), Ok(wei(600)));
    assert!(pool.shares_for(wei(1)).expect("shares") > wei(1_000));
    assert!(pool.slash(wei(601)).is_err());
}

#[test]
fn per_epoch_payouts_match_a_replay() {
    let mut pool =
        DelegationPool { tokens: wei(7_000), shares: wei(7_000_000), acc: U256::ZERO, dust: U256::ZERO };
    let mut history = AccumulatorHistory::new(100, pool.acc);
    let shares = wei(1_234_567);
    let mut position = Position { shares, acc_entry: pool.acc, unclaimed: U256::ZERO };
    for (i, reward) in [wei(1_000), wei(7), wei(0), wei(999_999)].into_iter().enumerate() {
        let before = position.pending(pool.acc).expect("pending");
        pool.credit_reward(reward).expect("reward");
        history.push(pool.acc).expect("push");
        let earned = position.pending(pool.acc).expect("pending") - before;
        let epoch = 100 + i as u64;
        // The one-subtraction payout can differ from the running difference by the rounding
        // of the running total: at most 1 wei.
        let payout = history.payout(shares, epoch).expect("in history").expect("payout");
        assert!(earned.abs_diff(payout) <= wei(1), "epoch {epoch}: {earned} vs {payout}");
    }
    assert!(history.payout(shares, 99).is_none());
    assert!(history.payout(shares, 104).is_none());
    assert!(history.push(U256::ZERO).is_err());
    position.claim(pool.acc).expect("claim");
    assert_eq!(position.pending(pool.acc), Ok(U256::ZERO));
}

/// What a delegator does during an epoch; it takes effect after the epoch's reward.
#[derive(Debug, Clone)]
enum Action {
    Delegate { who: usize, tokens: u64 },
    Undelegate { who: usize, percent: u8 },
    RedelegateOut { who: usize },
    RedelegateIn { who: usize, tokens: u64 },
    Claim { who: usize },
    Slash { percent: u8 },
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (0..5usize, 1..1_000_000_000_000u64).prop_map(|(who, tokens)| Action::Delegate { who, tokens }),
        (0..5usize, 1..=100u8).prop_map(|(who, percent)| Action::Undelegate { who, percent }),
        (0..5usize).prop_map(|who| Action::RedelegateOut { who }),
        (0..5usize, 1..1_000_000u64).prop_map(|(who, tokens)| Action::RedelegateIn { who, tokens }),
        (0..5usize).prop_map(|who| Action::Claim { who }),
        (1..=50u8).prop_map(|percent| Action::Slash { percent }),
    ]
}

/// The naive ledger's precision: entitlements are kept in units of 1e-36 wei.
fn scale() -> U512 {
    U512::from(10u64).pow(U512::from(36u64))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Each delegator's accumulator rewards (claimed + pending) never exceed what a naive
    /// ledger credits them (each epoch's reward and dust split pro rata by the shares held
    /// through the epoch, kept to 1e-36 wei) and fall short by at most 1 wei per epoch.
    #[test]
    fn accumulator_matches_naive_ledger(
        epochs in proptest::collection::vec(
            (0u128..1_000_000_000_000_000_000u128, proptest::collection::vec(action(), 0..4)),
            1..40,
        )
    ) {
        let mut pool = DelegationPool::default();
        let mut positions = [Position::default(); 5];
        let mut claimed = [U256::ZERO; 5];
        let mut naive = [U512::ZERO; 5];
        let epoch_count = U512::from(epochs.len());

        for (reward, actions) in &epochs {
            // The epoch's reward, split with the shares held through the epoch.
            let to_credit = U512::from(wei(*reward) + pool.dust);
            let shares_through_epoch = pool.shares;
            pool.credit_reward(wei(*reward)).expect("credit");
            if !shares_through_epoch.is_zero() {
                for (ledger, position) in naive.iter_mut().zip(&positions) {
                    *ledger += to_credit * U512::from(position.shares) * scale() / U512::from(shares_through_epoch);
                }
            }
            // Changes made during the epoch take effect now, after its reward.
            for action in actions {
                match *action {
                    Action::Delegate { who, tokens } | Action::RedelegateIn { who, tokens } => {
                        let new = pool.shares_for(U256::from(tokens)).expect("shares");
                        pool.tokens += U256::from(tokens);
                        pool.shares += new;
                        let total = positions[who].shares + new;
                        positions[who].set_shares(pool.acc, total).expect("set");
                    }
                    Action::Undelegate { who, percent } => {
                        let out = positions[who].shares * U256::from(percent) / U256::from(100u64);
                        let tokens = pool.tokens_for(out).expect("tokens").min(pool.tokens);
                        pool.tokens -= tokens;
                        pool.shares -= out;
                        let left = positions[who].shares - out;
                        positions[who].set_shares(pool.acc, left).expect("set");
                    }
                    Action::RedelegateOut { who } => {
                        let out = positions[who].shares;
                        let tokens = pool.tokens_for(out).expect("tokens").min(pool.tokens);
                        pool.tokens -= tokens;
                        pool.shares -= out;
                        positions[who].set_shares(pool.acc, U256::ZERO).expect("set");
                    }
                    Action::Claim { who } => claimed[who] += positions[who].claim(pool.acc).expect("claim"),
                    Action::Slash { percent } => {
                        let amount = pool.tokens * U256::from(percent) / U256::from(100u64);
                        let before = positions.map(|p| p.pending(pool.acc).expect("pending"));
                        pool.slash(amount).expect("slash");
                        let after = positions.map(|p| p.pending(pool.acc).expect("pending"));
                        prop_assert_eq!(before, after, "a slash changed earned rewards");
                    }
                }
            }
        }

        for who in 0..5 {
            let total = claimed[who] + positions[who].pending(pool.acc).expect("pending");
            let ours = U512::from(total) * scale();
            // The naive ledger truncates each epoch's term below 1e-36 wei: allow that slack.
            prop_assert!(ours <= naive[who] + epoch_count, "delegator {}: {} above naive {}", who, ours, naive[who]);
            prop_assert!(
                naive[who] - ours.min(naive[who]) <= epoch_count * scale(),
                "delegator {}: {} more than 1 wei per epoch under naive {}", who, ours, naive[who]
            );
        }
    }
}
