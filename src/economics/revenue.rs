//! Revenue of one epoch: each served chain's partner share, `max(a*gross, b*max(gross-cost, 0))
//! / 10_000`, and the protocol fee on what remains. Rounding per DESIGN.md: both remainders
//! stay in the rewards.

use alloy::primitives::{Address, U256};
use serde::{Deserialize, Serialize};

use super::{EconomicsError, math};

/// A revenue-share agreement with a partner for one served chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevenueShareTerms {
    /// Receives the share.
    pub partner: Address,
    /// Share of gross revenue, in bps.
    pub a_bps: u16,
    /// Share of revenue net of attested cost, in bps.
    pub b_bps: u16,
}

/// The partner share of one chain's revenue: `max(gross*a, max(gross-cost, 0)*b) / 10_000`,
/// rounded down (the remainder stays in the rewards). `cost` is used only here.
pub fn partner_share(
    gross: U256,
    cost: U256,
    terms: &RevenueShareTerms,
    chain_id: u64,
) -> Result<U256, EconomicsError> {
    if terms.a_bps > 10_000 || terms.b_bps > 10_000 {
        return Err(EconomicsError::InvalidInput {
            what: format!("chain {chain_id} revenue share"),
            problem: format!(
                "a = {} bps and b = {} bps must each be at most 10000",
                terms.a_bps, terms.b_bps
            ),
        });
    }
    let net = gross.saturating_sub(cost);
    let of_gross = math::apply_bps(gross, terms.a_bps, &format!("chain {chain_id} gross"))?;
    let of_net = math::apply_bps(net, terms.b_bps, &format!("chain {chain_id} gross - cost"))?;
    // max(x*a, y*b) / d == max(x*a / d, y*b / d) for rounding down, so one floor each is exact.
    Ok(of_gross.max(of_net))
}

/// The protocol fee on revenue after partner shares (never on emissions), rounded down.
pub fn protocol_fee(revenue_after_shares: U256, fee_bps: u16) -> Result<U256, EconomicsError> {
    if fee_bps > 10_000 {
        return Err(EconomicsError::InvalidInput {
            what: "protocol fee".to_owned(),
            problem: format!("{fee_bps} bps is above 10000"),
        });
    }
    math::apply_bps(revenue_after_shares, fee_bps, "revenue after partner shares")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(a_bps: u16, b_bps: u16) -> RevenueShareTerms {
        RevenueShareTerms { partner: Address::repeat_byte(7), a_bps, b_bps }
    }

    #[test]
    fn superchain_terms_take_the_larger_of_the_two() {
        // gross 100, cost 30, a 2.5%, b 15%: max(2.5, 10.5) = 10.5.
        let share = partner_share(U256::from(100_000u64), U256::from(30_000u64), &terms(250, 1_500), 10);
        assert_eq!(share, Ok(U256::from(10_500u64)));
    }

    #[test]
    fn cost_above_gross_leaves_the_gross_share() {
        let share = partner_share(U256::from(100_000u64), U256::from(130_000u64), &terms(250, 1_500), 10);
        assert_eq!(share, Ok(U256::from(2_500u64)));
    }

    #[test]
    fn shares_round_down() {
        // 333 * 250 / 10000 = 8.325 -> 8; (333 - 300) * 1500 / 10000 = 4.95 -> 4.
        let share = partner_share(U256::from(333u64), U256::from(300u64), &terms(250, 1_500), 10);
        assert_eq!(share, Ok(U256::from(8u64)));
    }

    #[test]
    fn never_overflows_and_refuses_bad_terms() {
        // a, b <= 100%, so the share of any gross fits: the whole gross at most.
        assert_eq!(partner_share(U256::MAX, U256::ZERO, &terms(10_000, 0), 1), Ok(U256::MAX));
        let bad = partner_share(U256::from(1u64), U256::ZERO, &terms(10_001, 0), 8453);
        assert_eq!(
            bad,
            Err(EconomicsError::InvalidInput {
                what: "chain 8453 revenue share".to_owned(),
                problem: "a = 10001 bps and b = 0 bps must each be at most 10000".to_owned(),
            })
        );
    }

    #[test]
    fn protocol_fee_rounds_down_and_refuses_bad_bps() {
        assert_eq!(protocol_fee(U256::from(999u64), 1_000), Ok(U256::from(99u64)));
        assert!(protocol_fee(U256::from(1u64), 10_001).is_err());
    }
}
