//! The devnet's seeded traffic, read back from the chain: over a few epochs of the test devnet
//! (eight actions an epoch) a holder requests a withdrawal with an EIP-2612 permit (no approval
//! before it: the allowance appears and is spent within the request), a holder exits at once
//! (paid exactly the event's assets, less gas, for exactly its shares, the fee the configured
//! one), and a delegator redelegates (half of its shares leave the source, the position in the
//! destination receives the event's shares); every action the traffic reports done is on chain
//! and every epoch still closes with a report whose pool steps all ran.

use alloy::{
    eips::BlockId,
    primitives::{Address, U256},
    providers::{DynProvider, Provider},
    rpc::types::TransactionReceipt,
    sol_types::SolCall,
};
use seqstake::{
    chain::{
        bindings::{
            SequencerRegistry,
            liquid::{LiquidStakingToken, WithdrawalQueue},
        },
        system::SystemAddresses,
    },
    devnet::{
        Devnet, EpochRun,
        traffic::Outcome,
        world::{DELEGATORS, HOLDERS},
    },
};

mod support;

use support::devnet::{options, state_dir};

#[tokio::test]
async fn traffic_requests_with_permits_exits_at_once_and_redelegates() {
    let dir = state_dir("traffic");
    let mut options = options(dir.clone());
    options.actions_per_epoch = 8;
    let mut devnet = Devnet::start(options).await.expect("devnet starts");
    let mut runs: Vec<EpochRun> = Vec::new();
    for _ in 0..5 {
        let run = devnet.run_epoch().await.expect("epoch runs");
        let report = run.reports.last().expect("a report after every epoch");
        assert_eq!(report.last, run.epoch, "the report closes the epoch just ended");
        for report in &run.reports {
            assert!(
                report.refused_pool_steps.is_empty(),
                "epoch {}: {:?}",
                run.epoch,
                report.refused_pool_steps
            );
        }
        runs.push(run);
    }
    let outcomes: Vec<&Outcome> = runs.iter().flat_map(|r| &r.actions).collect();
    let done = |text: &str| {
        outcomes.iter().filter(|o| matches!(o, Outcome::Done(what) if what.contains(text))).count()
    };
    let seen = Seen::of(&devnet);

    let (with_permit, approved) = seen.withdrawal_requests().await;
    assert_eq!(with_permit, done("with a permit"), "{outcomes:#?}");
    assert_eq!(approved, done("requests the withdrawal") - with_permit, "{outcomes:#?}");
    assert!(with_permit > 0 && approved > 0, "both kinds of request: {outcomes:#?}");

    let fee_bps = U256::from(devnet.config.liquid.instant_exit_fee_bps);
    let exits = seen.instant_exits(fee_bps).await;
    assert_eq!(exits, done("at once"), "{outcomes:#?}");
    assert!(exits > 0, "an instant exit: {outcomes:#?}");

    let moved = seen.redelegations().await;
    assert_eq!(moved, done("redelegates"), "{outcomes:#?}");
    assert!(moved > 0, "a redelegation: {outcomes:#?}");
    let _ = std::fs::remove_dir_all(dir);
}

/// The settlement chain as the checks read it, from the first block the system exists in.
struct Seen {
    chain: DynProvider,
    system: SystemAddresses,
    from: u64,
    holders: Vec<Address>,
    delegators: Vec<Address>,
}

impl Seen {
    fn of(devnet: &Devnet) -> Self {
        Self {
            chain: devnet.settlement.reader(),
            system: devnet.world.system.clone(),
            from: devnet.world.ready_block,
            holders: HOLDERS.iter().map(|&a| devnet.settlement.address(a)).collect(),
            delegators: DELEGATORS.iter().map(|&a| devnet.settlement.address(a)).collect(),
        }
    }

    /// Every withdrawal request: the permit ones approve nothing beforehand (the permit's
    /// approval is in the request, and spent there), the others approve the shares in a
    /// transaction before. Returns how many of each.
    async fn withdrawal_requests(&self) -> (usize, usize) {
        let (chain, system, from, holders) = (&self.chain, &self.system, self.from, &self.holders);
        let token = LiquidStakingToken::new(system.token, chain);
        let queue = WithdrawalQueue::new(system.queue, chain);
        let requested = queue.WithdrawalRequested_filter().from_block(from).query().await.expect("requests");
        let (mut with_permit, mut approved) = (0, 0);
        for (event, log) in &requested {
            let hash = log.transaction_hash.expect("mined");
            let receipt = only_transaction(chain, hash).await;
            let n = receipt.block_number.expect("mined");
            let (before, after) = (BlockId::number(n - 1), BlockId::number(n));
            assert!(holders.contains(&event.owner), "ticket {} for a holder", event.id);
            assert_eq!((receipt.from, event.requester), (event.owner, event.owner), "ticket {}", event.id);
            let allowance = |at: BlockId| {
                let call = token.allowance(event.owner, system.queue).block(at);
                async move { call.call().await.expect("allowance") }
            };
            let nonce = |at: BlockId| {
                let call = token.nonces(event.owner).block(at);
                async move { call.call().await.expect("nonce") }
            };
            let balance = |at: BlockId| {
                let call = token.balanceOf(event.owner).block(at);
                async move { call.call().await.expect("balance") }
            };
            assert_eq!(balance(before).await - balance(after).await, event.shares, "ticket {}", event.id);
            assert_eq!(allowance(after).await, U256::ZERO, "ticket {}: the allowance is spent", event.id);
            let sent = chain.get_transaction_by_hash(hash).await.expect("transaction").expect("exists");
            let input = alloy::consensus::Transaction::input(&sent);
            let approvals: Vec<_> = receipt
                .inner
                .logs()
                .iter()
                .filter_map(|l| l.log_decode::<LiquidStakingToken::Approval>().ok())
                .map(|l| l.inner.data)
                .collect();
            if let Ok(call) = WithdrawalQueue::requestWithdrawalWithPermitCall::abi_decode(input) {
                with_permit += 1;
                assert_eq!((call.shares, call.owner), (event.shares, event.owner), "ticket {}", event.id);
                assert_eq!(
                    allowance(before).await,
                    U256::ZERO,
                    "ticket {}: nothing approved before",
                    event.id
                );
                assert_eq!(nonce(after).await, nonce(before).await + U256::from(1u64), "ticket {}", event.id);
                assert_eq!(approvals.len(), 1, "ticket {}: the permit's approval, in the request", event.id);
                let approval = &approvals[0];
                assert_eq!(
                    (approval.owner, approval.spender, approval.value),
                    (event.owner, system.queue, event.shares),
                    "ticket {}",
                    event.id
                );
            } else {
                WithdrawalQueue::requestWithdrawalCall::abi_decode(input).expect("a plain request");
                approved += 1;
                assert_eq!(allowance(before).await, event.shares, "ticket {}: approved before", event.id);
                assert_eq!(nonce(after).await, nonce(before).await, "ticket {}: no permit", event.id);
                assert!(approvals.is_empty(), "ticket {}: {approvals:?}", event.id);
            }
        }
        (with_permit, approved)
    }

    /// Every instant exit: paid exactly the event's assets (less the gas) for exactly its
    /// shares, their value at the fee (`fee_bps`, rounded up). Returns how many.
    async fn instant_exits(&self, fee_bps: U256) -> usize {
        let (chain, system, from, holders) = (&self.chain, &self.system, self.from, &self.holders);
        let token = LiquidStakingToken::new(system.token, chain);
        let exits = token.InstantExit_filter().from_block(from).query().await.expect("exits");
        for (event, log) in &exits {
            let receipt = only_transaction(chain, log.transaction_hash.expect("mined")).await;
            let n = receipt.block_number.expect("mined");
            let (before, after) = (n - 1, n);
            assert!(holders.contains(&event.account), "{event:?}");
            assert_eq!((receipt.from, event.to), (event.account, event.account), "{event:?}");
            let native = |at: u64| chain.get_balance(event.account).number(at);
            let gas = U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price);
            let paid = native(after).await.expect("balance") + gas - native(before).await.expect("balance");
            assert_eq!(paid, event.assets, "the holder receives exactly the assets: {event:?}");
            let shares = |at: u64| {
                let call = token.balanceOf(event.account).block(BlockId::number(at));
                async move { call.call().await.expect("balance") }
            };
            assert_eq!(shares(before).await - shares(after).await, event.shares, "{event:?}");
            let value = token
                .convertToAssets(event.shares)
                .block(BlockId::number(before))
                .call()
                .await
                .expect("value");
            assert_eq!(event.assets + event.fee, value, "the shares' value: {event:?}");
            let fee = (value * fee_bps).div_ceil(U256::from(10_000u64));
            assert_eq!(event.fee, fee, "the configured fee, rounded up: {event:?}");
        }
        exits.len()
    }

    /// Every redelegation by a delegator (the pool's own, by reports, are the token's): half
    /// of its shares in the source leave, the position in the destination receives the event's
    /// shares. Returns how many.
    async fn redelegations(&self) -> usize {
        let (chain, system, from, delegators) = (&self.chain, &self.system, self.from, &self.delegators);
        let registry = SequencerRegistry::new(system.registry, chain);
        let mut moved = registry.Redelegated_filter().from_block(from).query().await.expect("redelegations");
        moved.retain(|(event, _)| event.account != system.token);
        for (event, log) in &moved {
            let receipt = only_transaction(chain, log.transaction_hash.expect("mined")).await;
            let n = receipt.block_number.expect("mined");
            let (before, after) = (BlockId::number(n - 1), BlockId::number(n));
            assert!(delegators.contains(&event.account), "{event:?}");
            assert_eq!(receipt.from, event.account, "{event:?}");
            assert_ne!(event.src, event.dst, "{event:?}");
            let held = |at: BlockId| {
                let call = registry.delegation(event.src, event.account).block(at);
                async move { call.call().await.expect("delegation").shares }
            };
            let position = |at: BlockId| {
                let call = registry.redelegation(event.account, event.src, event.dst, event.epoch).block(at);
                async move { call.call().await.expect("position").shares }
            };
            let held_before = held(before).await;
            assert_eq!(event.srcShares, held_before / U256::from(2u64), "half of its shares: {event:?}");
            assert_eq!(held_before - held(after).await, event.srcShares, "{event:?}");
            assert!(!event.amount.is_zero() && !event.dstShares.is_zero(), "{event:?}");
            assert_eq!(position(after).await - position(before).await, event.dstShares, "{event:?}");
        }
        moved.len()
    }
}

/// The receipt of `hash`, checked to be the only transaction of its block (the settlement
/// chain mines one per transaction), so that the state before and after its block is the state
/// before and after it.
async fn only_transaction(chain: &DynProvider, hash: alloy::primitives::B256) -> TransactionReceipt {
    let receipt = chain.get_transaction_receipt(hash).await.expect("receipt").expect("mined");
    assert!(receipt.status(), "{hash} succeeded");
    let n = receipt.block_number.expect("mined");
    let block = chain.get_block_by_number(n.into()).await.expect("block").expect("exists");
    assert_eq!(block.transactions.len(), 1, "block {n} holds only {hash}");
    receipt
}
