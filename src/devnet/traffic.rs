//! Seeded traffic on the settlement chain: each epoch a few actions picked by the seed, each a
//! real signed transaction through the contract bindings. A refused action is reported with its
//! decoded revert and the devnet goes on (the devnet's providers ask the node for every nonce,
//! so a refused send leaves no gap).
//!
//! The nine actions, equally likely: a holder deposits; a delegator delegates, undelegates a
//! quarter of its shares in a sequencer, redelegates half of its shares in one of its sequencers
//! to another, or claims its rewards; a holder requests the withdrawal of a tenth of its shares
//! (approving the queue in a transaction first, or, as an action of its own, with an EIP-2612
//! permit it signs off chain, in the request itself), claims its finalized tickets, or exits
//! shares worth 0.1 to 1 token at once from the buffer (`instantExit`, for a fee).

use alloy::{
    primitives::{Address, U256},
    providers::DynProvider,
    signers::SignerSync,
    sol_types::{Eip712Domain, SolStruct},
};
use rand::{Rng, rngs::StdRng};

use super::{
    DevnetError,
    chains::{Clock, LocalChain},
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
        let outcome = match rng.random_range(0..9u8) {
            0 => deposit(chain, world, rng).await?,
            1 => delegate(chain, world, rng).await?,
            2 => undelegate(chain, world, rng).await?,
            3 => request_withdrawal(chain, world, rng, false).await?,
            4 => request_withdrawal(chain, world, rng, true).await?,
            5 => claim_tickets(chain, world, rng).await?,
            6 => claim_rewards(chain, world, rng).await?,
            7 => instant_exit(chain, world, rng).await?,
            _ => redelegate(chain, world, rng).await?,
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
    let wallet = chain.wallet(account);
    let registry = SequencerRegistry::new(world.system.registry, &wallet);
    let held = holdings(chain, world, account).await?;
    // A quarter of what it holds in one of its delegations; with none the registry refuses
    // (ZeroAmount), as a delegator's mistaken call would be.
    let (id, shares) =
        if held.is_empty() { (pick_sequencer(rng, world), U256::ZERO) } else { pick(rng, &held) };
    let what = format!("account {account} undelegates a quarter of its shares in sequencer {id}");
    settle(&wallet, what, registry.undelegate(id, shares / U256::from(4u64)).send().await).await
}

/// The delegator's delegations: `(sequencer, shares)` for each it holds shares in.
async fn holdings(
    chain: &LocalChain,
    world: &World,
    account: usize,
) -> Result<Vec<(u32, U256)>, DevnetError> {
    let registry = SequencerRegistry::new(world.system.registry, chain.reader());
    let mut held = Vec::new();
    for sequencer in &world.sequencers {
        let shares = registry
            .delegation(sequencer.id, chain.address(account))
            .call()
            .await
            .map_err(|source| DevnetError::contract("read a delegation".to_owned(), source))?
            .shares;
        if !shares.is_zero() {
            held.push((sequencer.id, shares));
        }
    }
    Ok(held)
}

/// A holder requests the withdrawal of a tenth of its shares: with `with_permit`, with an
/// EIP-2612 permit it signs for the queue, in the request itself; else approving the queue in a
/// transaction of its own first.
async fn request_withdrawal(
    chain: &LocalChain,
    world: &World,
    rng: &mut StdRng,
    with_permit: bool,
) -> Result<Outcome, DevnetError> {
    let account = pick(rng, &HOLDERS);
    let owner = chain.address(account);
    let wallet = chain.wallet(account);
    let token = LiquidStakingToken::new(world.system.token, &wallet);
    let balance = token
        .balanceOf(owner)
        .call()
        .await
        .map_err(|source| DevnetError::contract("read a token balance".to_owned(), source))?;
    let shares = balance / U256::from(10u64);
    let queue = WithdrawalQueue::new(world.system.queue, &wallet);
    if with_permit {
        let permit = sign_permit(chain, world, account, world.system.queue, shares).await?;
        let what =
            format!("account {account} requests the withdrawal of a tenth of its shares with a permit");
        let sent = queue
            .requestWithdrawalWithPermit(shares, owner, permit.deadline, permit.v, permit.r, permit.s)
            .send()
            .await;
        return settle(&wallet, what, sent).await;
    }
    let approve = token.approve(world.system.queue, shares).send().await;
    if let Outcome::Refused(what, why) =
        settle(&wallet, format!("account {account} approves the queue"), approve).await?
    {
        return Ok(Outcome::Refused(what, why));
    }
    let what = format!("account {account} requests the withdrawal of a tenth of its shares");
    settle(&wallet, what, queue.requestWithdrawal(shares, owner).send().await).await
}

alloy::sol! {
    /// EIP-2612's permit, as the liquid token (OpenZeppelin's `ERC20Permit`) hashes it.
    struct Permit {
        address owner;
        address spender;
        uint256 value;
        uint256 nonce;
        uint256 deadline;
    }
}

/// A signed permit's call arguments.
struct SignedPermit {
    deadline: U256,
    v: u8,
    r: alloy::primitives::B256,
    s: alloy::primitives::B256,
}

/// Signs, with development account `account`'s key, a permit for `spender` to take `value` of
/// its liquid tokens, valid for an hour of chain time. The EIP-712 domain is the token's own
/// (ERC-5267 `eip712Domain`: its name there is "stSEQ", not the ERC-20 `name`), checked against
/// its `DOMAIN_SEPARATOR`; the nonce is the token's next one for the account.
async fn sign_permit(
    chain: &LocalChain,
    world: &World,
    account: usize,
    spender: Address,
    value: U256,
) -> Result<SignedPermit, DevnetError> {
    let token = LiquidStakingToken::new(world.system.token, chain.reader());
    let read = |action: &'static str| move |source| DevnetError::contract(action, source);
    let owner = chain.address(account);
    let fields = token.eip712Domain().call().await.map_err(read("read the token's EIP-712 domain"))?;
    let domain = Eip712Domain::new(
        Some(fields.name.into()),
        Some(fields.version.into()),
        Some(fields.chainId),
        Some(fields.verifyingContract),
        None,
    );
    let separator =
        token.DOMAIN_SEPARATOR().call().await.map_err(read("read the token's domain separator"))?;
    if domain.separator() != separator {
        return Err(DevnetError::Invariant(format!(
            "the liquid token's DOMAIN_SEPARATOR {separator} is not that of its eip712Domain {domain:?}"
        )));
    }
    let nonce = token.nonces(owner).call().await.map_err(read("read the holder's permit nonce"))?;
    let deadline = U256::from(Clock::of(chain).now().await? + 3600);
    let permit = Permit { owner, spender, value, nonce, deadline };
    let signature = chain
        .signer(account)
        .sign_hash_sync(&permit.eip712_signing_hash(&domain))
        .map_err(|e| DevnetError::Invariant(format!("sign a permit: {e}")))?;
    Ok(SignedPermit {
        deadline,
        v: 27 + u8::from(signature.v()),
        r: signature.r().into(),
        s: signature.s().into(),
    })
}

/// A holder exits shares worth 0.1 to 1 token (by the seed; at most its balance) at once from the
/// token's buffer. The token refuses above the buffer the queue's pending tickets leave free,
/// past the epoch's cap, in bunker mode and while the oracle is stale.
async fn instant_exit(chain: &LocalChain, world: &World, rng: &mut StdRng) -> Result<Outcome, DevnetError> {
    let account = pick(rng, &HOLDERS);
    let tenths = rng.random_range(1..=10u64);
    let owner = chain.address(account);
    let wallet = chain.wallet(account);
    let token = LiquidStakingToken::new(world.system.token, &wallet);
    let read = |action: &'static str| move |source| DevnetError::contract(action, source);
    let worth = tokens(tenths) / U256::from(10u64);
    let shares = token.convertToShares(worth).call().await.map_err(read("convert to shares"))?;
    let balance = token.balanceOf(owner).call().await.map_err(read("read a token balance"))?;
    let shares = shares.min(balance);
    let what = format!("account {account} exits shares worth {}.{} tokens at once", tenths / 10, tenths % 10);
    settle(&wallet, what, token.instantExit(shares, owner).send().await).await
}

/// A delegator moves half of its shares in one of the sequencers it delegates to (by the seed)
/// to another sequencer, without unbonding. With no delegation it picks any source and the
/// registry refuses (ZeroAmount); a destination that is not registered (jailed) is refused too
/// (WrongStatus), as is any move while a slash of either is under way (SlashInProgress).
async fn redelegate(chain: &LocalChain, world: &World, rng: &mut StdRng) -> Result<Outcome, DevnetError> {
    let account = pick(rng, &DELEGATORS);
    let wallet = chain.wallet(account);
    let registry = SequencerRegistry::new(world.system.registry, &wallet);
    let held = holdings(chain, world, account).await?;
    let (src, shares) =
        if held.is_empty() { (pick_sequencer(rng, world), U256::ZERO) } else { pick(rng, &held) };
    let others: Vec<u32> = world.sequencers.iter().map(|s| s.id).filter(|&id| id != src).collect();
    // With a single sequencer there is no other: the registry refuses (SameSequencer).
    let dst = if others.is_empty() { src } else { pick(rng, &others) };
    let what =
        format!("account {account} redelegates half of its shares in sequencer {src} to sequencer {dst}");
    settle(&wallet, what, registry.redelegate(src, dst, shares / U256::from(2u64)).send().await).await
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
