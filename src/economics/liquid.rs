//! Liquid token maths: shares for a deposit and assets for shares with the virtual offset
//! (against the donation attack), the exchange rate, a withdrawal ticket's value, the
//! instant-exit fee, and APR from rate points (Lido's formula) with its 7-day moving average.
//! Rounding per DESIGN.md: every division rounds down in the pool's favour.

use alloy::primitives::U256;
use rust_decimal::Decimal;

use super::{
    EconomicsError, math,
    precision::{BPS, RAY, SECONDS_PER_YEAR, VIRTUAL_ASSETS, VIRTUAL_SHARES},
};

/// A share pool's totals: shares in existence and the assets they are worth. The liquid token
/// (`totalPooledAssets`) and the registry's delegation pools share this virtual-offset rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolTotals {
    /// Total shares (balances plus shares locked in withdrawal requests).
    pub shares: U256,
    /// Total pooled assets, in wei.
    pub assets: U256,
}

impl PoolTotals {
    fn virtual_shares(self) -> Result<U256, EconomicsError> {
        math::add(self.shares, VIRTUAL_SHARES, "total shares")
    }

    fn virtual_assets(self) -> Result<U256, EconomicsError> {
        math::add(self.assets, VIRTUAL_ASSETS, "total pooled assets")
    }

    /// Shares minted for a deposit: `assets * (shares + V_S) / (total_assets + V_A)`.
    pub fn shares_for_deposit(self, assets: U256) -> Result<U256, EconomicsError> {
        math::mul_div(assets, self.virtual_shares()?, self.virtual_assets()?, "deposit")
    }

    /// Assets `shares` are worth: `shares * (total_assets + V_A) / (shares + V_S)`.
    pub fn assets_for_shares(self, shares: U256) -> Result<U256, EconomicsError> {
        math::mul_div(shares, self.virtual_assets()?, self.virtual_shares()?, "shares")
    }

    /// Assets per share in RAY: `(total_assets + V_A) * RAY / (shares + V_S)`.
    pub fn rate(self) -> Result<U256, EconomicsError> {
        math::mul_div(self.virtual_assets()?, RAY, self.virtual_shares()?, "total pooled assets")
    }
}

/// A withdrawal ticket's value: `shares * min(rate_at_request, rate_at_finalization) / RAY`,
/// so a slash between request and finalization reduces it and a rise never adds to it.
pub fn ticket_value(
    shares: U256,
    rate_at_request: U256,
    rate_at_finalization: U256,
) -> Result<U256, EconomicsError> {
    math::mul_div(shares, rate_at_request.min(rate_at_finalization), RAY, "ticket shares")
}

/// An instant exit of `assets`: the fee (rounded up, against the exiting holder) and what is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstantExit {
    /// Kept by the pool, credited to it at the next report.
    pub fee: U256,
    /// Paid to the holder.
    pub paid: U256,
}

/// Splits an instant exit of `assets` into fee (`ceil(assets * fee_bps / 10_000)`) and payment.
pub fn instant_exit(assets: U256, fee_bps: u16) -> Result<InstantExit, EconomicsError> {
    if u64::from(fee_bps) > BPS {
        return Err(EconomicsError::InvalidInput {
            what: "instant-exit fee".to_owned(),
            problem: format!("{fee_bps} bps is above 10000"),
        });
    }
    let fee = math::mul_div_up(assets, U256::from(fee_bps), U256::from(BPS), "instant exit")?;
    Ok(InstantExit { fee, paid: assets - fee })
}

/// The liquid token's rate at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatePoint {
    /// Unix time of the report that set the rate.
    pub time: u64,
    /// Assets per share, RAY.
    pub rate: U256,
}

/// APR between two rate points, Lido's formula: `year * (post - pre) / pre / elapsed`, as a
/// fraction (0.05 = 5%), exact to 18 decimals and rounded toward zero. Negative after a slash.
pub fn apr(pre: RatePoint, post: RatePoint) -> Result<Decimal, EconomicsError> {
    if post.time <= pre.time || pre.rate.is_zero() {
        return Err(EconomicsError::InvalidInput {
            what: "rate points".to_owned(),
            problem: "the later point must be later and the earlier rate positive".to_owned(),
        });
    }
    let elapsed = U256::from(post.time - pre.time);
    let (change, negative) =
        if post.rate >= pre.rate { (post.rate - pre.rate, false) } else { (pre.rate - post.rate, true) };
    // APR in units of 1e-18: change * year * 1e18 / (pre * elapsed).
    let scale = U256::from(1_000_000_000_000_000_000u64);
    let per_year = math::mul_div(change, U256::from(SECONDS_PER_YEAR), elapsed, "rate change")?;
    let scaled = math::mul_div(per_year, scale, pre.rate, "rate change")?;
    let units = i128::try_from(scaled).map_err(|_| EconomicsError::Overflow { what: "APR".to_owned() })?;
    let value = Decimal::try_from_i128_with_scale(units, 18)
        .map_err(|_| EconomicsError::Overflow { what: "APR".to_owned() })?;
    Ok(if negative { -value } else { value })
}

/// The moving average of APR over `window` seconds before `now` (Lido's 7-day SMA with
/// `window` = 7 days): the APRs of consecutive rate points whose later point lies in
/// `(now - window, now]`, weighted by the time each pair spans, so that catch-up reports
/// executed seconds apart cannot dominate it. Points at the same time (two reports in one
/// block) count as one, with the later rate. `None` when no time passes inside the window.
pub fn sma_apr(points: &[RatePoint], now: u64, window: u64) -> Result<Option<Decimal>, EconomicsError> {
    let mut merged: Vec<RatePoint> = Vec::with_capacity(points.len());
    for point in points {
        match merged.last_mut() {
            Some(last) if last.time == point.time => last.rate = point.rate,
            _ => merged.push(*point),
        }
    }
    let start = now.saturating_sub(window);
    let mut weighted = Decimal::ZERO;
    let mut elapsed_total = 0u64;
    for pair in merged.windows(2) {
        if pair[1].time > start && pair[1].time <= now {
            let elapsed = pair[1].time.checked_sub(pair[0].time).filter(|e| *e > 0).ok_or_else(|| {
                EconomicsError::InvalidInput {
                    what: "rate points".to_owned(),
                    problem: "must be in time order".to_owned(),
                }
            })?;
            weighted += apr(pair[0], pair[1])? * Decimal::from(elapsed);
            elapsed_total += elapsed;
        }
    }
    Ok((elapsed_total > 0).then(|| weighted / Decimal::from(elapsed_total)))
}

#[cfg(test)]
mod tests;
