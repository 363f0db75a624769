//! Seeded traffic on the settlement chain: each epoch a few actions picked by the seed, each a
//! real signed transaction through the contract bindings. A refused action is reported with its
//! decoded revert and the devnet goes on (the devnet's providers ask the node for every nonce,
//! so a refused send leaves no gap).

use alloy::{
    primitives::{Address, U256},
    providers::DynProvider,
};
use rand::{Rng, rngs::StdRng};

use super::{
    DevnetError,
    chains::LocalChain,
    world::{DELEGATORS, HOLDERS, World, tokens},
};
use crate::chain::{
    bindings::{
        SequencerRegistry,
        liquid::{LiquidStakingToken, WithdrawalQueue},
    },
    tx::confirm_sent,
};

/// What became of one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It went through.
    Done(String),
    /// The chain refused it: what was tried and why.
    Refused(String, String),
}

/// Runs `count` actions picked by `rng`.
pub async fn run_actions(
    chain: &LocalChain,
    world: &World,
    rng: &mut StdRng,
    count: usize,
) -> Result<Vec<Outcome>, DevnetError> {
    let mut outcomes = Vec::with_capacity(count);
    for _ in 0..count {
        let outcome = match rng.random_range(0..6u8) {
            0 => deposit(chain, world, rng).await?,
            1 => delegate(chain, world, rng).await?,
            2 => undelegate(chain, world, rng).await?,
            3 => request_withdrawal(chain, world, rng).await?,
            4 => claim_tickets(chain, world, rng).await?,
            _ => claim_rewards(chain, world, rng).await?,
        };
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

fn pick_sequencer(rng: &mut StdRng, world: &World) -> u32 {
    world.sequencers[rng.random_range(0..world.sequencers.len())].id
}

async fn deposit(chain: &LocalChain, world: &World, rng: &mut StdRng) -> Result<Outcome, DevnetError> {
    let account = pick(rng, &HOLDERS);
    let amount = tokens(rng.random_range(1..=5u64));
    let wallet = chain.wallet(account);
    let token = LiquidStakingToken::new(world.system.token, &wallet);
    let what = format!("account {account} deposits {} tokens", amount / tokens(1));
    settle(&wallet, what, token.deposit(Address::ZERO).value(amount).send().await).await
}

async fn delegate(chain: &LocalChain, world: &World, rng: &mut StdRng) -> Result<Outcome, DevnetError> {
    let account = pick(rng, &DELEGATORS);
    let id = pick_sequencer(rng, world);
    let amount = tokens(rng.random_range(1..=3u64));
    let wallet = chain.wallet(account);
    let registry = SequencerRegistry::new(world.system.registry, &wallet);
    let what = format!("account {account} delegates {} tokens to sequencer {id}", amount / tokens(1));
    settle(&wallet, what, registry.delegate(id).value(amount).send().await).await
}

async fn undelegate(chain: &LocalChain, world: &World, rng: &mut StdRng) -> Result<Outcome, DevnetError> {
    let account = pick(rng, &DELEGATORS);
    let id = pick_sequencer(rng, world);
    let wallet = chain.wallet(account);
    let registry = SequencerRegistry::new(world.system.registry, &wallet);
    let held = registry
        .delegation(id, chain.address(account))
        .call()
        .await
        .map_err(|source| DevnetError::contract("read a delegation".to_owned(), source))?
        .shares;
    // A quarter of what it holds; with nothing held the registry refuses (ZeroAmount), as a
    // delegator's mistaken call would be.
    let shares = held / U256::from(4u64);
    let what = format!("account {account} undelegates a quarter of its shares in sequencer {id}");
    settle(&wallet, what, registry.undelegate(id, shares).send().await).await
}

async fn request_withdrawal(
    chain: &LocalChain,
    world: &World,
    rng: &mut StdRng,
) -> Result<Outcome, DevnetError> {
    let account = pick(rng, &HOLDERS);
    let wallet = chain.wallet(account);
    let token = LiquidStakingToken::new(world.system.token, &wallet);
    let balance = token
        .balanceOf(chain.address(account))
        .call()
        .await
        .map_err(|source| DevnetError::contract("read a token balance".to_owned(), source))?;
    let shares = balance / U256::from(10u64);
    let approve = token.approve(world.system.queue, shares).send().await;
    if let Outcome::Refused(what, why) =
        settle(&wallet, format!("account {account} approves the queue"), approve).await?
    {
        return Ok(Outcome::Refused(what, why));
    }
    let queue = WithdrawalQueue::new(world.system.queue, &wallet);
    let what = format!("account {account} requests the withdrawal of a tenth of its shares");
    settle(&wallet, what, queue.requestWithdrawal(shares, chain.address(account)).send().await).await
}

/// A holder claims every finalized ticket it owns, found from its `WithdrawalRequested` logs,
/// with the checkpoint hints the queue gives. With none finalized nothing is sent, and the
/// action is reported as refused.
async fn claim_tickets(chain: &LocalChain, world: &World, rng: &mut StdRng) -> Result<Outcome, DevnetError> {
    let account = pick(rng, &HOLDERS);
    let owner = chain.address(account);
    let wallet = chain.wallet(account);
    let queue = WithdrawalQueue::new(world.system.queue, &wallet);
    let read = |action: &'static str| move |source| DevnetError::contract(action, source);
    let requested = queue
        .WithdrawalRequested_filter()
        .topic3(owner.into_word())
        .from_block(world.ready_block)
        .query()
        .await
        .map_err(read("read the holder's tickets"))?;
    let mut ids = Vec::new();
    for (event, _) in requested {
        // State.Finalized (2): finalized, not claimed.
        if queue.stateOf(event.id).call().await.map_err(read("read a ticket's state"))? == 2 {
            ids.push(event.id);
        }
    }
    let what = format!("account {account} claims its finalized tickets {ids:?}");
    if ids.is_empty() {
        return Ok(Outcome::Refused(what, "no finalized ticket to claim".to_owned()));
    }
    let hints = queue.findCheckpointHints(ids.clone()).call().await.map_err(read("find checkpoint hints"))?;
    settle(&wallet, what, queue.claimWithdrawals(ids, hints, owner).send().await).await
}

async fn claim_rewards(chain: &LocalChain, world: &World, rng: &mut StdRng) -> Result<Outcome, DevnetError> {
    let account = pick(rng, &DELEGATORS);
    let id = pick_sequencer(rng, world);
    let wallet = chain.wallet(account);
    let registry = SequencerRegistry::new(world.system.registry, &wallet);
    let what = format!("account {account} claims its rewards from sequencer {id}");
    settle(&wallet, what, registry.claimRewards(id, chain.address(account)).send().await).await
}

/// Waits for a sent action; a revert (at estimation or on chain) is a refusal, not an error.
async fn settle<T: alloy::network::Network>(
    provider: &DynProvider,
    what: String,
    sent: Result<alloy::providers::PendingTransactionBuilder<T>, alloy::contract::Error>,
) -> Result<Outcome, DevnetError> {
    let sent = match sent {
        Ok(pending) => Ok(*pending.tx_hash()),
        Err(err) => return Ok(Outcome::Refused(what, describe(&err))),
    };
    match confirm_sent(provider, &what, sent).await {
        Ok(_) => Ok(Outcome::Done(what)),
        Err(crate::chain::ChainError::Reverted { hash, .. }) => {
            Ok(Outcome::Refused(what, format!("transaction {hash} reverted")))
        }
        Err(err) => Err(err.into()),
    }
}

/// A refused call's reason: the contract error decoded by name, else the node's message.
pub fn describe(err: &alloy::contract::Error) -> String {
    if let Some(e) = err.as_decoded_interface_error::<SequencerRegistry::SequencerRegistryErrors>() {
        return format!("{e:?}");
    }
    if let Some(e) = err.as_decoded_interface_error::<LiquidStakingToken::LiquidStakingTokenErrors>() {
        return format!("{e:?}");
    }
    if let Some(e) = err.as_decoded_interface_error::<WithdrawalQueue::WithdrawalQueueErrors>() {
        return format!("{e:?}");
    }
    match err.as_revert_data() {
        Some(data) => format!("revert 0x{}", alloy::hex::encode(&data)),
        None => err.to_string(),
    }
}
