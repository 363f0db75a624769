//! The report's inputs for a range of ended epochs, read from JSON-RPC alone: the registry's
//! stake checkpoints (`stakeAt`) and its state at given blocks, the fee vaults' arrivals in
//! settlement blocks timestamped in each epoch, the served chains' headers (the producer rule
//! over the set in force), and the report contract's carried dust and the pools' accumulators
//! as the last executed report left them. Nothing here needs a database, so the reporter and
//! `verify` read an epoch the same way.
//!
//! A sequencer counts as jailed in epoch `e` if it was jailed at any moment of `e` (jailed as
//! its first settlement block began or jailed in one of its blocks), and a served block belongs
//! to the sequencer whose signer was its miner at the block's time; both come from the
//! registry's logs (`RegistryHistory`), which never change once mined.
//!
//! The set in force in epoch `e` is the last `ActiveSetUpdated` whose effective epoch is at most
//! `e`; before any, the eligible candidates by stake at the start of `e` (`stakeAt(id, e)`, and
//! status, jail and bond at the last settlement block before `e`), as `updateActiveSet` would
//! rank them (`economics::producer::top_by_stake`).

use alloy::{
    eips::{BlockId, BlockNumberOrTag},
    primitives::{Address, B256, U256},
    providers::{DynProvider, Provider},
    rpc::types::Filter,
    sol_types::SolEvent,
};

use super::{
    ChainError,
    bindings::{FeeVault, SequencerRegistry, executor::ReportExecutor},
    system::SystemAddresses,
};
use crate::{
    config::EconomicsConfig,
    economics::{
        EconomicsError,
        producer::{SetCandidate, tally, top_by_stake},
        report::{EpochAttestations, EpochEntry, epoch_entry},
        revenue::RevenueShareTerms,
        schedule::emission_at,
        settlement::{
            ChainEpoch, EpochInputs, SequencerEpoch, SequencerId, Settlement, SettlementParams, settle_epoch,
        },
    },
};

/// Where the inputs are read.
#[derive(Debug, Clone)]
pub struct InputSources {
    /// The settlement chain.
    pub settlement: DynProvider,
    /// Each served chain with a reader of its headers, in the report's chain order (the
    /// deployment's vault order); a chain without a reader (the settlement chain itself) has no
    /// produced blocks to count.
    pub served: Vec<(u64, Option<DynProvider>)>,
    /// The deployment.
    pub system: SystemAddresses,
    /// Unix time of epoch 0.
    pub genesis_time: u64,
    /// The epoch the emission schedule starts at (its step 0).
    pub schedule_first_epoch: u64,
    /// The first settlement block in which every contract exists: state is read no earlier.
    pub earliest_block: u64,
}

/// One epoch's inputs: what settlement needs, what the report attests, the set in force.
#[derive(Debug, Clone)]
pub struct GatheredEpoch {
    /// Settlement inputs (the first epoch's accumulators and dust as the chain holds them; the
    /// caller chains later epochs' from the settlements).
    pub inputs: EpochInputs,
    /// Evidence and missed blocks.
    pub attested: EpochAttestations,
    /// The set in force.
    pub set: Vec<SequencerId>,
}

/// The registry's history that the inputs need, from its logs up to the reference block: each
/// sequencer's signers (from `SequencerRegistered` and `SignerRotated`, with the timestamp of
/// the settlement block each took effect in) and its jail changes (`Jailed`, `Unjailed`, by
/// settlement block). Logs never change once mined, so this needs no historical state.
#[derive(Debug, Clone, Default)]
pub struct RegistryHistory {
    /// `(timestamp, sequencer, signer)`, in chain order.
    signers: Vec<(u64, SequencerId, Address)>,
    /// `(block, sequencer, jailed)`, in chain order.
    jails: Vec<(u64, SequencerId, bool)>,
}

impl RegistryHistory {
    /// Reads the history from settlement blocks `from..=to`.
    pub async fn read(sources: &InputSources, from: u64, to: u64) -> Result<Self, ChainError> {
        let registry = sources.system.registry;
        let mut changes: Vec<(u64, u64, SequencerId, Address)> =
            events::<SequencerRegistry::SequencerRegistered>(&sources.settlement, registry, from, to)
                .await?
                .into_iter()
                .map(|(e, block, index)| (block, index, e.id, e.signer))
                .chain(
                    events::<SequencerRegistry::SignerRotated>(&sources.settlement, registry, from, to)
                        .await?
                        .into_iter()
                        .map(|(e, block, index)| (block, index, e.id, e.newSigner)),
                )
                .collect();
        changes.sort_unstable_by_key(|&(block, index, ..)| (block, index));
        let mut signers = Vec::with_capacity(changes.len());
        for (block, _, id, signer) in changes {
            signers.push((timestamp_of(&sources.settlement, block).await?, id, signer));
        }
        let mut jails: Vec<(u64, u64, SequencerId, bool)> =
            events::<SequencerRegistry::Jailed>(&sources.settlement, registry, from, to)
                .await?
                .into_iter()
                .map(|(e, block, index)| (block, index, e.id, true))
                .chain(
                    events::<SequencerRegistry::Unjailed>(&sources.settlement, registry, from, to)
                        .await?
                        .into_iter()
                        .map(|(e, block, index)| (block, index, e.id, false)),
                )
                .collect();
        jails.sort_unstable_by_key(|&(block, index, ..)| (block, index));
        Ok(Self {
            signers,
            jails: jails.into_iter().map(|(block, _, id, jailed)| (block, id, jailed)).collect(),
        })
    }

    /// The sequencer whose signer was `signer` at time `timestamp` (the last signer change
    /// timestamped at or before it), if any.
    pub fn signer_owner(&self, signer: Address, timestamp: u64) -> Option<SequencerId> {
        let mut current: Vec<(SequencerId, Address)> = Vec::new();
        for &(at, id, key) in &self.signers {
            if at > timestamp {
                break;
            }
            match current.iter_mut().find(|(owner, _)| *owner == id) {
                Some(entry) => entry.1 = key,
                None => current.push((id, key)),
            }
        }
        current.into_iter().find(|(_, key)| *key == signer).map(|(id, _)| id)
    }

    /// Whether the sequencer was jailed at any moment of settlement blocks `first..=last`: jailed
    /// when they began, or jailed in one of them.
    pub fn jailed_during(&self, id: SequencerId, first: u64, last: u64) -> bool {
        let before = self.jails.iter().rev().find(|&&(block, who, _)| who == id && block < first);
        before.is_some_and(|&(_, _, jailed)| jailed)
            || self
                .jails
                .iter()
                .any(|&(block, who, jailed)| who == id && jailed && (first..=last).contains(&block))
    }
}

/// Every `E` that `address` emitted in blocks `from..=to`, with its block and log index.
///
/// # Errors
/// [`ChainError::Rpc`] when the logs cannot be read, [`ChainError::Input`] for a log that does
/// not decode as `E`.
pub async fn events<E: SolEvent>(
    provider: &DynProvider,
    address: Address,
    from: u64,
    to: u64,
) -> Result<Vec<(E, u64, u64)>, ChainError> {
    let filter =
        Filter::new().address(address).event_signature(E::SIGNATURE_HASH).from_block(from).to_block(to);
    let logs = provider
        .get_logs(&filter)
        .await
        .map_err(|source| ChainError::Rpc { action: format!("read {} logs", E::SIGNATURE), source })?;
    let mut decoded = Vec::with_capacity(logs.len());
    for log in &logs {
        let event = log
            .log_decode::<E>()
            .map_err(|e| ChainError::Input(format!("undecodable {} log: {e}", E::SIGNATURE)))?;
        decoded.push((
            event.inner.data,
            log.block_number.unwrap_or_default(),
            log.log_index.unwrap_or_default(),
        ));
    }
    Ok(decoded)
}

fn rpc(action: &str) -> impl Fn(alloy::transports::TransportError) -> ChainError + '_ {
    move |source| ChainError::Rpc { action: action.to_owned(), source }
}

fn contract(action: &str) -> impl Fn(alloy::contract::Error) -> ChainError + '_ {
    move |source| ChainError::Contract { action: action.to_owned(), source }
}

async fn timestamp_of(provider: &DynProvider, number: u64) -> Result<u64, ChainError> {
    let block = provider
        .get_block_by_number(BlockNumberOrTag::Number(number))
        .await
        .map_err(rpc("read a block header"))?;
    block.map(|b| b.header.timestamp).ok_or(ChainError::MissingBlock { number })
}

/// The first block at or below `head` with a timestamp at least `timestamp` (`head + 1` when
/// none): block timestamps never decrease.
pub async fn first_block_at(provider: &DynProvider, timestamp: u64, head: u64) -> Result<u64, ChainError> {
    let (mut low, mut high) = (0u64, head + 1);
    while low < high {
        let mid = low + (high - low) / 2;
        if timestamp_of(provider, mid).await? >= timestamp {
            high = mid;
        } else {
            low = mid + 1;
        }
    }
    Ok(low)
}

/// The set in force in `epoch` (see the module's notes), read at or before `at`.
pub async fn set_in_force(
    settlement: &DynProvider,
    system: &SystemAddresses,
    config: &EconomicsConfig,
    genesis_time: u64,
    earliest_block: u64,
    epoch: u64,
    at: u64,
) -> Result<Vec<SequencerId>, ChainError> {
    let registry = SequencerRegistry::new(system.registry, settlement);
    let updates = registry
        .ActiveSetUpdated_filter()
        .from_block(0)
        .to_block(at)
        .query()
        .await
        .map_err(contract("read ActiveSetUpdated"))?;
    if let Some((update, _)) = updates.iter().rev().find(|(u, _)| u.epoch <= epoch) {
        return Ok(update.ids.clone());
    }
    let start = genesis_time + epoch * config.epochs.length_seconds;
    let before = first_block_at(settlement, start, at).await?.saturating_sub(1).max(earliest_block);
    let block = BlockId::number(before);
    let mut candidates = Vec::new();
    for id in registry.candidates().call().block(block).await.map_err(contract("read the candidates"))? {
        let point = registry.stakeAt(id, epoch).call().await.map_err(contract("read stakeAt"))?;
        let s = registry.sequencer(id).call().block(block).await.map_err(contract("read a sequencer"))?;
        candidates.push(SetCandidate {
            id,
            stake: U256::from(point.bond) + U256::from(point.tokens),
            eligible: s.status == 1 && !s.jailed && s.bond >= config.staking.min_bond,
        });
    }
    let max_active = usize::try_from(config.staking.max_active_sequencers).unwrap_or(usize::MAX);
    Ok(top_by_stake(&candidates, max_active))
}

/// Reads epochs `first..=last` (all ended) as of settlement block `ref_block`, with the carried
/// dust and the pools' accumulators as they stood at `state` (the latest block for a report
/// about to be built: only reports move them; the block before a report executed, to verify it).
pub async fn gather_range(
    sources: &InputSources,
    config: &EconomicsConfig,
    first: u64,
    last: u64,
    ref_block: u64,
    state: BlockId,
) -> Result<Vec<GatheredEpoch>, ChainError> {
    let settlement = &sources.settlement;
    let registry = SequencerRegistry::new(sources.system.registry, settlement);
    let executor = ReportExecutor::new(sources.system.executor, settlement);
    // Dust and accumulators as the last executed report left them (a catch-up report may
    // execute after this range's reference block).
    let dust_in = executor.carriedDust().call().block(state).await.map_err(contract("read carriedDust"))?;
    let length = config.epochs.length_seconds;
    let history = RegistryHistory::read(sources, sources.earliest_block, ref_block).await?;
    let mut gathered = Vec::new();
    for epoch in first..=last {
        let start = sources.genesis_time + epoch * length;
        let end = start + length;
        let set = set_in_force(
            settlement,
            &sources.system,
            config,
            sources.genesis_time,
            sources.earliest_block,
            epoch,
            ref_block,
        )
        .await?;
        let first_block = first_block_at(settlement, start, ref_block).await?;
        let end_block = first_block_at(settlement, end, ref_block).await?;
        let last_block =
            end_block.saturating_sub(1).max(first_block).max(sources.earliest_block).min(ref_block);

        let (blocks, counts) = served_blocks(sources, &history, start, end).await?;
        let turns = tally(&blocks, &set);

        let mut sequencers = Vec::with_capacity(set.len());
        let mut missed = Vec::with_capacity(set.len());
        for (id, t) in &turns {
            let point = registry.stakeAt(*id, epoch).call().await.map_err(contract("read stakeAt"))?;
            let pool = registry.pool(*id).call().block(state).await.map_err(contract("read a pool"))?;
            // The commission in force: the checkpoint's; only a sequencer without one yet
            // (registered after the epoch began) needs the registry's state at the epoch's end.
            let commission_bps = if point.epoch == 0 {
                registry
                    .sequencer(*id)
                    .call()
                    .block(BlockId::number(last_block))
                    .await
                    .map_err(contract("read a sequencer"))?
                    .commissionBps
            } else {
                point.commissionBps
            };
            sequencers.push(SequencerEpoch {
                id: *id,
                blocks: t.produced,
                bond: U256::from(point.bond),
                pool_tokens: U256::from(point.tokens),
                pool_shares: U256::from(point.shares),
                commission_bps,
                // An epoch without settlement blocks: jailed as the next one began.
                jailed: history.jailed_during(
                    *id,
                    first_block,
                    end_block.min(ref_block + 1).saturating_sub(1),
                ),
                acc_before: pool.acc,
                dust_before: U256::from(pool.dust),
            });
            missed.push(t.missed);
        }

        let mut chains = arrived_revenue(sources, config, first_block, end_block).await?;
        let evidence = l1_costs(config, &mut chains, &counts);
        let emission = emission_at(&config.emission, epoch - sources.schedule_first_epoch)
            .map_err(|e| ChainError::Input(e.to_string()))?;
        gathered.push(GatheredEpoch {
            inputs: EpochInputs { epoch, chains, emission, dust_in, sequencers },
            attested: EpochAttestations { evidence, missed_blocks: missed, total_supply: U256::ZERO },
            set,
        });
    }
    Ok(gathered)
}

/// Each chain's L1 cost from its configured source (`fixed`: `per_block` for each of its blocks
/// in the epoch), set on `chains`; returns the evidence hashes in the same order:
/// `keccak256(abi.encode("seqstake.cost.fixed", chainId, blocks, perBlock))` for a fixed cost,
/// zero for a chain without a source.
fn l1_costs(config: &EconomicsConfig, chains: &mut [ChainEpoch], counts: &[(u64, u64)]) -> Vec<B256> {
    use alloy::sol_types::SolValue;
    chains
        .iter_mut()
        .map(|chain| {
            let Some(source) = config.l1_cost.iter().find(|c| c.chain_id == chain.chain_id) else {
                return B256::ZERO;
            };
            let crate::config::L1CostSource::Fixed = source.source;
            let blocks = counts.iter().find(|(id, _)| *id == chain.chain_id).map_or(0, |(_, n)| *n);
            chain.cost = source.per_block * U256::from(blocks);
            alloy::primitives::keccak256(
                ("seqstake.cost.fixed".to_owned(), chain.chain_id, blocks, source.per_block)
                    .abi_encode_params(),
            )
        })
        .collect()
}

/// The served chains' blocks timestamped in `start..end`, each with the sequencer whose
/// signer was its miner at the block's time, and how many each chain made.
async fn served_blocks(
    sources: &InputSources,
    history: &RegistryHistory,
    start: u64,
    end: u64,
) -> Result<(Vec<(u64, Option<SequencerId>)>, Vec<(u64, u64)>), ChainError> {
    let mut blocks = Vec::new();
    let mut counts = Vec::new();
    for (chain_id, reader) in &sources.served {
        let Some(reader) = reader else { continue };
        let before = blocks.len();
        let head = reader.get_block_number().await.map_err(rpc("read a served chain's head"))?;
        let mut number = first_block_at(reader, start, head).await?;
        while number <= head {
            let header = reader
                .get_block_by_number(BlockNumberOrTag::Number(number))
                .await
                .map_err(rpc("read a served header"))?
                .ok_or(ChainError::MissingBlock { number })?
                .header;
            if header.timestamp >= end {
                break;
            }
            let miner = history.signer_owner(header.beneficiary, header.timestamp);
            blocks.push((number, miner));
            number += 1;
        }
        counts.push((*chain_id, (blocks.len() - before) as u64));
    }
    Ok((blocks, counts))
}

/// Each chain's revenue: what arrived in its vault in settlement blocks `first_block..end_block`
/// (none when the clock jumped over the epoch), with its partner's terms.
async fn arrived_revenue(
    sources: &InputSources,
    config: &EconomicsConfig,
    first_block: u64,
    end_block: u64,
) -> Result<Vec<ChainEpoch>, ChainError> {
    let mut chains = Vec::with_capacity(sources.system.vaults.len());
    for &(chain_id, vault) in &sources.system.vaults {
        let mut gross = U256::ZERO;
        if first_block < end_block {
            let arrived = FeeVault::new(vault, &sources.settlement)
                .RevenueArrived_filter()
                .from_block(first_block)
                .to_block(end_block - 1)
                .query()
                .await
                .map_err(contract("read RevenueArrived"))?;
            gross = arrived.iter().map(|(e, _)| e.amount).sum();
        }
        let share = config.revenue_share.iter().find(|r| r.chain_id == chain_id).map(|r| RevenueShareTerms {
            partner: r.partner,
            a_bps: r.a_bps,
            b_bps: r.b_bps,
        });
        chains.push(ChainEpoch { chain_id, gross, cost: U256::ZERO, mev: U256::ZERO, share });
    }
    Ok(chains)
}

/// Settles gathered epochs in order, each epoch's dust and accumulators continuing the one
/// before, and makes their report entries.
pub fn settle_gathered(
    gathered: &[GatheredEpoch],
    params: &SettlementParams,
) -> Result<(Vec<Settlement>, Vec<EpochEntry>), EconomicsError> {
    let mut settlements: Vec<Settlement> = Vec::with_capacity(gathered.len());
    let mut entries = Vec::with_capacity(gathered.len());
    for epoch in gathered {
        let mut inputs = epoch.inputs.clone();
        if let Some(previous) = settlements.last() {
            inputs.dust_in = previous.dust_out;
            for s in &mut inputs.sequencers {
                if let Some(p) = previous.sequencers.iter().find(|p| p.id == s.id) {
                    (s.acc_before, s.dust_before) = (p.acc_after, p.dust_after);
                }
            }
        }
        let settlement = settle_epoch(&inputs, params)?;
        entries.push(epoch_entry(&settlement, &epoch.attested)?);
        settlements.push(settlement);
    }
    Ok((settlements, entries))
}

#[cfg(test)]
mod tests {
    use super::{Address, RegistryHistory};

    fn key(n: u8) -> Address {
        Address::repeat_byte(n)
    }

    #[test]
    fn a_signer_belongs_to_its_sequencer_from_its_registration_or_rotation_on() {
        let history = RegistryHistory {
            signers: vec![(100, 1, key(1)), (100, 2, key(2)), (150, 1, key(9))],
            jails: vec![],
        };
        assert_eq!(history.signer_owner(key(1), 99), None, "not registered yet");
        assert_eq!(history.signer_owner(key(1), 100), Some(1));
        assert_eq!(history.signer_owner(key(1), 149), Some(1));
        assert_eq!(history.signer_owner(key(1), 150), None, "rotated away at 150");
        assert_eq!(history.signer_owner(key(9), 150), Some(1));
        assert_eq!(history.signer_owner(key(9), 149), None);
        assert_eq!(history.signer_owner(key(2), 10_000), Some(2));
    }

    #[test]
    fn jailed_at_any_moment_of_the_blocks() {
        // Sequencer 3 jailed in block 20, unjailed in block 30, jailed again in 45.
        let history =
            RegistryHistory { signers: vec![], jails: vec![(20, 3, true), (30, 3, false), (45, 3, true)] };
        assert!(!history.jailed_during(3, 10, 19), "before");
        assert!(history.jailed_during(3, 10, 20), "jailed in the last block");
        assert!(history.jailed_during(3, 21, 25), "jailed when the range began");
        assert!(history.jailed_during(3, 25, 35), "unjailed during the range, jailed at its start");
        assert!(history.jailed_during(3, 30, 44), "jailed as its first block began, unjailed in it");
        assert!(!history.jailed_during(3, 31, 44), "unjailed before, not jailed again");
        assert!(history.jailed_during(3, 31, 50));
        assert!(!history.jailed_during(4, 0, 100), "another sequencer");
    }
}
