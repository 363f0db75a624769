//! Settlement of one epoch: revenue per chain and partner shares, the protocol fee, emission,
//! the split of the reward pool across sequencers by weight, commission, the bond / pool split
//! and the pool's reward-per-share accumulator. Every output names its recipient and its
//! reason, and conservation is exact:
//!
//! `sum(gross) + sum(mev) + emission + dust_in + sum(sequencer dust before)
//!  == sum(payouts) + dust_out + sum(sequencer dust after)`.
//!
//! Linear in sequencers and independent of delegators: each sequencer costs a fixed number of
//! 256-bit operations.

use std::collections::HashSet;

use alloy::primitives::{Address, U256, U512};
use serde::{Deserialize, Serialize};

use super::{
    EconomicsError, accumulator, math,
    revenue::{RevenueShareTerms, partner_share, protocol_fee},
};

/// A sequencer's id in the registry.
pub type SequencerId = u32;

/// One served chain's revenue in the epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainEpoch {
    /// The served chain.
    pub chain_id: u64,
    /// Gas-fee revenue that arrived in the chain's fee vault (only what arrived settles).
    pub gross: U256,
    /// Attested L1 cost, used only in the partner-share formula.
    pub cost: U256,
    /// MEV / priority revenue, its own stream: not subject to the partner share.
    pub mev: U256,
    /// The partner agreement, if the chain has one.
    pub share: Option<RevenueShareTerms>,
}

/// One sequencer's state for the epoch, as checkpointed at the epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequencerEpoch {
    /// Registry id.
    pub id: SequencerId,
    /// Blocks produced in the epoch.
    pub blocks: u64,
    /// Operator bond at the epoch's checkpoint.
    pub bond: U256,
    /// Tokens of the delegation pool at the epoch's checkpoint.
    pub pool_tokens: U256,
    /// Shares of the delegation pool at the epoch's checkpoint.
    pub pool_shares: U256,
    /// Commission in force for the epoch, in bps.
    pub commission_bps: u16,
    /// Jailed during the epoch.
    pub jailed: bool,
    /// The pool's reward-per-share accumulator (RAY) before the epoch.
    pub acc_before: U256,
    /// The pool's accumulator dust before the epoch (added to this epoch's pool reward).
    pub dust_before: U256,
}

/// How the reward pool is weighted across sequencers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum Weighting {
    /// By blocks produced.
    Blocks,
    /// By the epoch's checkpointed stake (bond + pool tokens).
    Stake,
    /// `blocks_bps` of the pool by blocks, the rest by stake.
    Blend {
        /// Part of the pool weighted by blocks.
        blocks_bps: u16,
    },
}

/// Where a jailed sequencer's part of the pool goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JailedRewards {
    /// Weighted like any other sequencer, then paid to the treasury.
    ToTreasury,
    /// Given no weight, so the other sequencers share it.
    Redistribute,
}

/// Parameters of settlement (from the economics configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementParams {
    /// Protocol fee on revenue after partner shares, in bps.
    pub protocol_fee_bps: u16,
    /// The weighting.
    pub weighting: Weighting,
    /// Jailed sequencers' parts.
    pub jailed_rewards: JailedRewards,
}

impl SettlementParams {
    /// The settlement parameters of an economics configuration.
    pub fn from_config(config: &crate::config::EconomicsConfig) -> Result<Self, EconomicsError> {
        use crate::config::{JailedRewardDestination, WeightMode};
        let weighting = match (config.rewards.weight_mode, config.rewards.blend_blocks_bps) {
            (WeightMode::Blocks, _) => Weighting::Blocks,
            (WeightMode::Stake, _) => Weighting::Stake,
            (WeightMode::Blend, blocks_bps) => {
                Weighting::Blend { blocks_bps: blocks_bps.unwrap_or_default() }
            }
        };
        let jailed_rewards = match config.rewards.jailed_reward_destination {
            JailedRewardDestination::Treasury => JailedRewards::ToTreasury,
            JailedRewardDestination::Redistribute => JailedRewards::Redistribute,
        };
        Ok(Self { protocol_fee_bps: config.treasury.fee_bps, weighting, jailed_rewards })
    }
}

/// Everything an epoch's settlement depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochInputs {
    /// The epoch.
    pub epoch: u64,
    /// Revenue per served chain.
    pub chains: Vec<ChainEpoch>,
    /// Emission paid from the reserve for the epoch.
    pub emission: U256,
    /// Settlement dust carried from the previous epoch.
    pub dust_in: U256,
    /// The active set for the epoch.
    pub sequencers: Vec<SequencerEpoch>,
}

/// Who receives a payout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Recipient {
    /// A revenue-share partner.
    Partner {
        /// The partner's address.
        address: Address,
    },
    /// The treasury.
    Treasury,
    /// A sequencer's operator (claimable in the registry).
    Operator {
        /// The sequencer.
        sequencer: SequencerId,
    },
    /// A sequencer's delegation pool (through its accumulator).
    DelegationPool {
        /// The sequencer.
        sequencer: SequencerId,
    },
}

/// Why a payout is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum PayoutReason {
    /// A chain's revenue share.
    RevenueShare {
        /// The chain.
        chain_id: u64,
    },
    /// The protocol fee.
    ProtocolFee,
    /// A jailed sequencer's part, sent to the treasury.
    JailedSequencerReward {
        /// The jailed sequencer.
        sequencer: SequencerId,
    },
    /// Operator commission.
    Commission,
    /// The operator bond's part of the staker side.
    BondReward,
    /// The delegation pool's part, credited through the accumulator.
    PoolReward,
}

/// One payout: recipient, reason, amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payout {
    /// Who receives it.
    pub recipient: Recipient,
    /// Why.
    pub reason: PayoutReason,
    /// How much, in wei.
    pub amount: U256,
}

/// One chain's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainSettlement {
    /// The chain.
    pub chain_id: u64,
    /// Inputs of the share formula.
    pub gross: U256,
    /// Attested cost.
    pub cost: U256,
    /// MEV stream.
    pub mev: U256,
    /// The terms, if any.
    pub terms: Option<RevenueShareTerms>,
    /// The partner share (zero without terms).
    pub share: U256,
}

/// One sequencer's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequencerSettlement {
    /// The sequencer.
    pub id: SequencerId,
    /// Blocks produced in the epoch (the weight in `blocks` and `blend` modes).
    pub blocks: u64,
    /// Jailed during the epoch (its part went to the treasury, or it had no weight).
    pub jailed: bool,
    /// Its part of the reward pool (before commission).
    pub reward: U256,
    /// Paid to the treasury instead (jailed, `ToTreasury`).
    pub to_treasury: U256,
    /// Commission to the operator.
    pub commission: U256,
    /// The bond's part, to the operator.
    pub bond_reward: U256,
    /// The pool's part, before adding its dust.
    pub pool_reward: U256,
    /// What the accumulator increment credits to the pool's shares.
    pub pool_credited: U256,
    /// Accumulator increment (RAY per share).
    pub acc_increment: U256,
    /// Accumulator after the epoch.
    pub acc_after: U256,
    /// Accumulator dust before the epoch.
    pub dust_before: U256,
    /// Accumulator dust after the epoch.
    pub dust_after: U256,
}

/// The settlement of one epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settlement {
    /// The epoch.
    pub epoch: u64,
    /// Per chain.
    pub chains: Vec<ChainSettlement>,
    /// Revenue after partner shares (gross - shares + MEV, summed).
    pub revenue_after_shares: U256,
    /// Protocol fee to the treasury.
    pub protocol_fee: U256,
    /// Emission.
    pub emission: U256,
    /// Settlement dust carried in.
    pub dust_in: U256,
    /// The reward pool split across sequencers: revenue after shares and fee + emission + dust in.
    pub reward_pool: U256,
    /// Settlement dust carried to the next epoch.
    pub dust_out: U256,
    /// Per sequencer, in input order.
    pub sequencers: Vec<SequencerSettlement>,
    /// Every payout, in a fixed order: shares, fee, then per sequencer.
    pub payouts: Vec<Payout>,
}

impl Settlement {
    /// Wei that entered the epoch: revenue, MEV, emission and all dust carried in. In 512 bits,
    /// so the identity holds for any 256-bit inputs (gross revenue of several chains can sum
    /// past 2^256 when partner shares take most of it).
    pub fn total_in(&self) -> U512 {
        let chains = self.chains.iter().flat_map(|c| [c.gross, c.mev]);
        let dust = self.sequencers.iter().map(|s| s.dust_before);
        wide_sum(chains.chain(dust).chain([self.emission, self.dust_in]))
    }

    /// Wei that left the epoch: payouts and all dust carried out (512 bits, as `total_in`).
    pub fn total_out(&self) -> U512 {
        let paid = self.payouts.iter().map(|p| p.amount);
        let dust = self.sequencers.iter().map(|s| s.dust_after);
        wide_sum(paid.chain(dust).chain([self.dust_out]))
    }
}

fn wide_sum(values: impl Iterator<Item = U256>) -> U512 {
    values.fold(U512::ZERO, |total, value| total + U512::from(value))
}

/// Settles one epoch. Pure: the same inputs always give the same settlement.
pub fn settle_epoch(inputs: &EpochInputs, params: &SettlementParams) -> Result<Settlement, EconomicsError> {
    validate(inputs, params)?;
    let mut payouts = Vec::with_capacity(inputs.chains.len() + 1 + inputs.sequencers.len() * 3);

    // 1-2. Revenue per chain and partner shares.
    let mut chains = Vec::with_capacity(inputs.chains.len());
    let mut revenue_after_shares = U256::ZERO;
    for chain in &inputs.chains {
        let share = match &chain.share {
            Some(terms) => partner_share(chain.gross, chain.cost, terms, chain.chain_id)?,
            None => U256::ZERO,
        };
        if let Some(terms) = &chain.share {
            payouts.push(Payout {
                recipient: Recipient::Partner { address: terms.partner },
                reason: PayoutReason::RevenueShare { chain_id: chain.chain_id },
                amount: share,
            });
        }
        let kept = math::add(chain.gross - share, chain.mev, &format!("chain {} mev", chain.chain_id))?;
        revenue_after_shares = math::add(revenue_after_shares, kept, "total revenue")?;
        chains.push(ChainSettlement {
            chain_id: chain.chain_id,
            gross: chain.gross,
            cost: chain.cost,
            mev: chain.mev,
            terms: chain.share,
            share,
        });
    }

    // 3. Protocol fee on revenue (not on emission).
    let fee = protocol_fee(revenue_after_shares, params.protocol_fee_bps)?;
    payouts.push(Payout { recipient: Recipient::Treasury, reason: PayoutReason::ProtocolFee, amount: fee });

    // 4-5. The reward pool, split by weight.
    let reward_pool = math::sum(
        [revenue_after_shares - fee, inputs.emission, inputs.dust_in],
        "reward pool (emission, dust in)",
    )?;
    let parts = split_by_weight(reward_pool, &inputs.sequencers, params)?;
    let split = math::sum(parts.iter().copied(), "sequencer parts")?;
    let dust_out = reward_pool - split;

    // 6. Per sequencer: jailed parts, commission, bond / pool split, accumulator.
    let mut sequencers = Vec::with_capacity(inputs.sequencers.len());
    for (sequencer, part) in inputs.sequencers.iter().zip(parts) {
        let outcome = settle_sequencer(sequencer, part, params)
            .map_err(|e| e.within(format_args!("sequencer {}", sequencer.id)))?;
        push_sequencer_payouts(&mut payouts, &outcome);
        sequencers.push(outcome);
    }

    Ok(Settlement {
        epoch: inputs.epoch,
        chains,
        revenue_after_shares,
        protocol_fee: fee,
        emission: inputs.emission,
        dust_in: inputs.dust_in,
        reward_pool,
        dust_out,
        sequencers,
        payouts,
    })
}

fn validate(inputs: &EpochInputs, params: &SettlementParams) -> Result<(), EconomicsError> {
    let invalid = |what: String, problem: String| Err(EconomicsError::InvalidInput { what, problem });
    if let Weighting::Blend { blocks_bps } = params.weighting
        && blocks_bps > 10_000
    {
        return invalid("blend blocks_bps".to_owned(), format!("{blocks_bps} bps is above 10000"));
    }
    let mut chain_ids = HashSet::with_capacity(inputs.chains.len());
    for chain in &inputs.chains {
        if !chain_ids.insert(chain.chain_id) {
            return invalid(format!("chain {}", chain.chain_id), "listed twice".to_owned());
        }
    }
    let mut ids = HashSet::with_capacity(inputs.sequencers.len());
    for sequencer in &inputs.sequencers {
        let what = || format!("sequencer {}", sequencer.id);
        if !ids.insert(sequencer.id) {
            return invalid(what(), "listed twice".to_owned());
        }
        if sequencer.commission_bps > 10_000 {
            return invalid(what(), format!("commission {} bps is above 10000", sequencer.commission_bps));
        }
    }
    Ok(())
}

/// Splits `pool` across sequencers: `pool * w_i / sum(w)` per weighting, rounded down; what
/// rounding leaves (or a pool nobody has weight for) is the caller's settlement dust.
fn split_by_weight(
    pool: U256,
    sequencers: &[SequencerEpoch],
    params: &SettlementParams,
) -> Result<Vec<U256>, EconomicsError> {
    let excluded = |s: &SequencerEpoch| s.jailed && params.jailed_rewards == JailedRewards::Redistribute;
    let blocks = |s: &SequencerEpoch| if excluded(s) { U256::ZERO } else { U256::from(s.blocks) };
    let stake = |s: &SequencerEpoch| -> Result<U256, EconomicsError> {
        if excluded(s) {
            return Ok(U256::ZERO);
        }
        math::add(s.bond, s.pool_tokens, "stake").map_err(|e| e.within(format_args!("sequencer {}", s.id)))
    };
    let by_blocks: Vec<U256> = sequencers.iter().map(blocks).collect();
    match params.weighting {
        Weighting::Blocks => split(pool, &by_blocks, "blocks"),
        Weighting::Stake => {
            let by_stake = sequencers.iter().map(stake).collect::<Result<Vec<_>, _>>()?;
            split(pool, &by_stake, "stake")
        }
        Weighting::Blend { blocks_bps } => {
            let blocks_pool = math::apply_bps(pool, blocks_bps, "reward pool")?;
            let by_stake = sequencers.iter().map(stake).collect::<Result<Vec<_>, _>>()?;
            let from_blocks = split(blocks_pool, &by_blocks, "blocks")?;
            let from_stake = split(pool - blocks_pool, &by_stake, "stake")?;
            Ok(from_blocks.into_iter().zip(from_stake).map(|(a, b)| a + b).collect())
        }
    }
}

fn split(pool: U256, weights: &[U256], what: &str) -> Result<Vec<U256>, EconomicsError> {
    let total = math::sum(weights.iter().copied(), "total weight").map_err(|e| e.within(what))?;
    if total.is_zero() {
        return Ok(vec![U256::ZERO; weights.len()]);
    }
    weights
        .iter()
        .map(|w| math::mul_div(pool, *w, total, "reward pool by weight").map_err(|e| e.within(what)))
        .collect()
}

fn settle_sequencer(
    sequencer: &SequencerEpoch,
    part: U256,
    params: &SettlementParams,
) -> Result<SequencerSettlement, EconomicsError> {
    let mut outcome = SequencerSettlement {
        id: sequencer.id,
        blocks: sequencer.blocks,
        jailed: sequencer.jailed,
        reward: part,
        to_treasury: U256::ZERO,
        commission: U256::ZERO,
        bond_reward: U256::ZERO,
        pool_reward: U256::ZERO,
        pool_credited: U256::ZERO,
        acc_increment: U256::ZERO,
        acc_after: sequencer.acc_before,
        dust_before: sequencer.dust_before,
        dust_after: sequencer.dust_before,
    };
    if sequencer.jailed && params.jailed_rewards == JailedRewards::ToTreasury {
        outcome.to_treasury = part;
        return Ok(outcome);
    }
    outcome.commission = math::apply_bps(part, sequencer.commission_bps, "reward")?;
    let rest = part - outcome.commission;
    let stake = math::add(sequencer.bond, sequencer.pool_tokens, "stake")?;
    // With no stake at all (bond and pool slashed to zero) the staker side goes to the pool's
    // shares, if any are left, else it is kept as the pool's dust: never to an operator
    // without a bond.
    outcome.bond_reward =
        if stake.is_zero() { U256::ZERO } else { math::mul_div(rest, sequencer.bond, stake, "bond")? };
    outcome.pool_reward = rest - outcome.bond_reward;

    let to_credit = math::add(outcome.pool_reward, sequencer.dust_before, "accumulator dust")?;
    let credit = accumulator::credit(to_credit, sequencer.pool_shares)?;
    outcome.acc_increment = credit.increment;
    outcome.pool_credited = credit.credited;
    outcome.acc_after = math::add(sequencer.acc_before, credit.increment, "accumulator")?;
    outcome.dust_after = credit.dust;
    Ok(outcome)
}

fn push_sequencer_payouts(payouts: &mut Vec<Payout>, outcome: &SequencerSettlement) {
    let sequencer = outcome.id;
    if !outcome.to_treasury.is_zero() {
        payouts.push(Payout {
            recipient: Recipient::Treasury,
            reason: PayoutReason::JailedSequencerReward { sequencer },
            amount: outcome.to_treasury,
        });
    }
    for (recipient, reason, amount) in [
        (Recipient::Operator { sequencer }, PayoutReason::Commission, outcome.commission),
        (Recipient::Operator { sequencer }, PayoutReason::BondReward, outcome.bond_reward),
        (Recipient::DelegationPool { sequencer }, PayoutReason::PoolReward, outcome.pool_credited),
    ] {
        if !amount.is_zero() {
            payouts.push(Payout { recipient, reason, amount });
        }
    }
}

#[cfg(test)]
mod tests;
