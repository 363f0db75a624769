//! Liquid token maths with exact expected values, the donation attack, and APR by Lido's formula.

use alloy::primitives::U256;
use rust_decimal::Decimal;

use super::*;

fn wei(n: u128) -> U256 {
    U256::from(n)
}

const ETHER: u128 = 1_000_000_000_000_000_000;

#[test]
fn first_deposit_mints_a_thousand_shares_per_wei() {
    let empty = PoolTotals::default();
    // assets * (0 + 1000) / (0 + 1)
    assert_eq!(empty.shares_for_deposit(wei(ETHER)), Ok(wei(1_000 * ETHER)));
    assert_eq!(empty.rate(), Ok(RAY / wei(1_000)));
}

#[test]
fn deposits_and_redemptions_round_in_the_pools_favour() {
    // 10 shares + 1000 virtual over 7 assets + 1 virtual.
    let pool = PoolTotals { shares: wei(10), assets: wei(7) };
    assert_eq!(pool.shares_for_deposit(wei(3)), Ok(wei(378))); // 3 * 1010 / 8 = 378.75
    assert_eq!(pool.assets_for_shares(wei(378)), Ok(wei(2))); // 378 * 8 / 1010 = 2.99
    assert_eq!(pool.rate(), Ok(wei(8) * RAY / wei(1_010)));
}

#[test]
fn donation_attack_on_the_first_deposit_does_not_pay() {
    // The attacker deposits 1 wei (1000 shares), then donates 10 ether into the pooled assets.
    let attacker_shares = PoolTotals::default().shares_for_deposit(wei(1)).expect("shares");
    assert_eq!(attacker_shares, wei(1_000));
    let inflated = PoolTotals { shares: attacker_shares, assets: wei(1 + 10 * ETHER) };
    // A victim's 1 ether still gets shares: 1e18 * 2000 / (1e19 + 2) = 199.
    let victim_shares = inflated.shares_for_deposit(wei(ETHER)).expect("shares");
    assert_eq!(victim_shares, wei(199));
    let after = PoolTotals { shares: inflated.shares + victim_shares, assets: inflated.assets + wei(ETHER) };
    let attacker_value = after.assets_for_shares(attacker_shares).expect("value");
    // The attacker put in 10 ether + 1 wei and can take out less than that: the virtual
    // shares hold the rest.
    assert!(attacker_value < wei(10 * ETHER + 1), "attacker recovers {attacker_value}");
}

#[test]
fn ticket_value_takes_the_lower_rate() {
    let shares = wei(3_000);
    let high = RAY * wei(11) / wei(10);
    assert_eq!(ticket_value(shares, RAY, high), Ok(wei(3_000)));
    assert_eq!(ticket_value(shares, high, RAY), Ok(wei(3_000)));
    // A slash between request and finalization lowers it: 3000 * 0.9 = 2700.
    assert_eq!(ticket_value(shares, RAY, RAY * wei(9) / wei(10)), Ok(wei(2_700)));
    // Rounds down: 7 * (1/3) = 2.33.
    assert_eq!(ticket_value(wei(7), RAY / wei(3), RAY), Ok(wei(2)));
}

#[test]
fn instant_exit_fee_rounds_up() {
    assert_eq!(instant_exit(wei(10_000), 10), Ok(InstantExit { fee: wei(10), paid: wei(9_990) }));
    assert_eq!(instant_exit(wei(10_001), 10), Ok(InstantExit { fee: wei(11), paid: wei(9_990) }));
    assert_eq!(instant_exit(wei(5), 0), Ok(InstantExit { fee: U256::ZERO, paid: wei(5) }));
    assert!(instant_exit(wei(5), 10_001).is_err());
}

#[test]
fn apr_follows_lidos_formula() {
    let day = 86_400;
    let pre = RatePoint { time: 1_000, rate: RAY };
    // +0.0137% in a day: 365 * 0.000137 = 5.0005%.
    let post = RatePoint { time: 1_000 + day, rate: RAY + RAY * wei(137) / wei(1_000_000) };
    assert_eq!(apr(pre, post), Ok(Decimal::new(50_005, 6)));
    // A slash reads as a negative APR.
    let slashed = RatePoint { time: 1_000 + day, rate: RAY - RAY / wei(1_000) };
    assert_eq!(apr(pre, slashed), Ok(Decimal::new(-365, 3)));
    assert!(apr(post, pre).is_err());
}

#[test]
fn sma_averages_the_pairs_inside_the_window() {
    let day = 86_400u64;
    let rate = |bps_up: u128| RAY + RAY * wei(bps_up) / wei(10_000_000);
    // Daily reports: +1e-5, +2e-5 (cumulative), +3e-5 ...; the first pair falls outside 7 days.
    let points: Vec<RatePoint> =
        (0..10u64).map(|d| RatePoint { time: d * day, rate: rate(u128::from(d) * 100) }).collect();
    let now = 9 * day;
    let sma = sma_apr(&points, now, 7 * day).expect("sma").expect("pairs in window");
    let expected: Decimal =
        points[2..].windows(2).map(|w| apr(w[0], w[1]).expect("apr")).sum::<Decimal>() / Decimal::from(7);
    assert_eq!(sma, expected);
    assert_eq!(sma_apr(&points[..1], now, 7 * day), Ok(None));
}

#[test]
fn sma_weights_by_time_and_merges_reports_in_one_block() {
    let day = 86_400u64;
    // A day at +1e-4, then two catch-up reports in the same block at +1e-4 more each.
    let r1 = RAY + RAY / wei(10_000);
    let r2 = r1 + RAY / wei(10_000);
    let r3 = r2 + RAY / wei(10_000);
    let points = [
        RatePoint { time: 0, rate: RAY },
        RatePoint { time: day, rate: r1 },
        RatePoint { time: day, rate: r2 },
        RatePoint { time: 3 * day, rate: r3 },
    ];
    let sma = sma_apr(&points, 3 * day, 7 * day).expect("sma").expect("pairs");
    // The two reports at day 1 count as one point with the later rate r2: day 1 is
    // apr(RAY -> r2) over one day, days 2-3 apr(r2 -> r3) over two.
    let first = apr(points[0], points[2]).expect("apr");
    let second = apr(points[2], points[3]).expect("apr");
    assert_eq!(sma, (first + second * Decimal::from(2)) / Decimal::from(3));
}
