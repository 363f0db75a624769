//! Reward-per-share accumulators: a pool's rewards are credited as `acc += reward * RAY /
//! shares` (the remainder is the pool's dust, added to its next reward), and a delegation's
//! pending reward is `shares * (acc_now - acc_entry) / RAY`, O(1) whatever the number of
//! delegators. Shares only change after an epoch's reward is credited, so stake added in an
//! epoch earns nothing for it. A slash lowers the pool's tokens per share, never its shares
//! or accumulator, so rewards already earned are untouched.

use alloy::primitives::U256;

use super::{EconomicsError, liquid::PoolTotals, math, precision::RAY};

/// `shares * (acc_now - acc_entry) / RAY`, rounded down (the remainder stays in the contract).
pub fn pending_reward(shares: U256, acc_now: U256, acc_entry: U256) -> Result<U256, EconomicsError> {
    let Some(delta) = acc_now.checked_sub(acc_entry) else {
        return Err(EconomicsError::InvalidInput {
            what: "accumulator".to_owned(),
            problem: format!("entry {acc_entry} is above the current value {acc_now}"),
        });
    };
    math::mul_div(shares, delta, RAY, "delegation shares")
}

/// What crediting `to_credit` wei to `shares` through the accumulator does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credit {
    /// Accumulator increment: `to_credit * RAY / shares` (zero without shares).
    pub increment: U256,
    /// What the increment credits to the shares: `increment * shares / RAY`.
    pub credited: U256,
    /// What stays as the pool's dust: `to_credit - credited`.
    pub dust: U256,
}

/// The accumulator row of the rounding table, the one place it is computed (the settlement
/// and the pool model both call it). With no shares everything stays as dust.
pub fn credit(to_credit: U256, shares: U256) -> Result<Credit, EconomicsError> {
    if shares.is_zero() {
        return Ok(Credit { increment: U256::ZERO, credited: U256::ZERO, dust: to_credit });
    }
    let increment = math::mul_div(to_credit, RAY, shares, "pool reward")?;
    // Rounded up: the shares can claim up to increment * shares / RAY between them (a holder
    // who settles several epochs at once adds the fractions up), so only the whole wei above
    // that are dust carried to the next reward.
    let credited = math::mul_div_up(increment, shares, RAY, "pool shares")?;
    Ok(Credit { increment, credited, dust: to_credit - credited })
}

/// One delegation in one pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    /// Pool shares held.
    pub shares: U256,
    /// The accumulator when the position last changed or claimed.
    pub acc_entry: U256,
    /// Rewards settled at earlier changes and not yet claimed.
    pub unclaimed: U256,
}

impl Position {
    /// Rewards claimable now.
    pub fn pending(&self, acc_now: U256) -> Result<U256, EconomicsError> {
        math::add(self.unclaimed, pending_reward(self.shares, acc_now, self.acc_entry)?, "unclaimed rewards")
    }

    /// Changes the shares after settling what the old shares earned up to `acc_now`.
    pub fn set_shares(&mut self, acc_now: U256, shares: U256) -> Result<(), EconomicsError> {
        self.unclaimed = self.pending(acc_now)?;
        self.acc_entry = acc_now;
        self.shares = shares;
        Ok(())
    }

    /// Takes every claimable reward.
    pub fn claim(&mut self, acc_now: U256) -> Result<U256, EconomicsError> {
        let amount = self.pending(acc_now)?;
        self.unclaimed = U256::ZERO;
        self.acc_entry = acc_now;
        Ok(amount)
    }
}

/// A sequencer's delegation pool as the registry keeps it: tokens, shares, accumulator, dust.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DelegationPool {
    /// Tokens staked through the pool (falls only by slashing or undelegation).
    pub tokens: U256,
    /// Shares outstanding.
    pub shares: U256,
    /// Reward per share, RAY.
    pub acc: U256,
    /// Reward not yet credited through the accumulator.
    pub dust: U256,
}

impl DelegationPool {
    fn totals(&self) -> PoolTotals {
        PoolTotals { shares: self.shares, assets: self.tokens }
    }

    /// Shares for `tokens` delegated: `tokens * (shares + V_S) / (pool tokens + V_A)`, the same
    /// virtual-offset rule as the liquid token's.
    pub fn shares_for(&self, tokens: U256) -> Result<U256, EconomicsError> {
        self.totals().shares_for_deposit(tokens)
    }

    /// Tokens `shares` are worth: `shares * (pool tokens + V_A) / (shares + V_S)`.
    pub fn tokens_for(&self, shares: U256) -> Result<U256, EconomicsError> {
        self.totals().assets_for_shares(shares)
    }

    /// Credits an epoch's pool reward (plus the dust carried) through the accumulator; returns
    /// the amount credited. With no shares everything stays as dust.
    pub fn credit_reward(&mut self, reward: U256) -> Result<U256, EconomicsError> {
        let credit = credit(math::add(reward, self.dust, "pool reward")?, self.shares)?;
        self.acc = math::add(self.acc, credit.increment, "accumulator")?;
        self.dust = credit.dust;
        Ok(credit.credited)
    }

    /// Takes `amount` of the pool's tokens (a slash); shares and accumulator are unchanged.
    pub fn slash(&mut self, amount: U256) -> Result<(), EconomicsError> {
        self.tokens = self.tokens.checked_sub(amount).ok_or_else(|| EconomicsError::InvalidInput {
            what: "slash".to_owned(),
            problem: format!("{amount} is above the pool's {} tokens", self.tokens),
        })?;
        Ok(())
    }
}

/// A pool's accumulator after each epoch, so that any delegation's payout for any epoch is
/// one subtraction: `shares * (acc[e] - acc[e - 1]) / RAY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccumulatorHistory {
    first_epoch: u64,
    start: U256,
    after: Vec<U256>,
}

impl AccumulatorHistory {
    /// An empty history whose first recorded epoch will be `first_epoch`, starting at `start`.
    pub fn new(first_epoch: u64, start: U256) -> Self {
        Self { first_epoch, start, after: Vec::new() }
    }

    /// Records the accumulator after the next epoch.
    pub fn push(&mut self, acc_after: U256) -> Result<(), EconomicsError> {
        let last = self.after.last().copied().unwrap_or(self.start);
        if acc_after < last {
            return Err(EconomicsError::InvalidInput {
                what: format!("accumulator of epoch {}", self.first_epoch + self.after.len() as u64),
                problem: format!("{acc_after} is below the previous value {last}"),
            });
        }
        self.after.push(acc_after);
        Ok(())
    }

    /// The payout of `shares` held through `epoch`, or `None` outside the history.
    pub fn payout(&self, shares: U256, epoch: u64) -> Option<Result<U256, EconomicsError>> {
        let index = usize::try_from(epoch.checked_sub(self.first_epoch)?).ok()?;
        let after = *self.after.get(index)?;
        let before = if index == 0 { self.start } else { self.after[index - 1] };
        Some(pending_reward(shares, after, before))
    }
}

#[cfg(test)]
mod tests;
