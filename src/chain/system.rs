//! Deployment of the whole system from the committed artifacts, as the devnet and the Rust
//! tests run it: the governance timelock, the registry, the slashing manager, the liquid token
//! and its withdrawal queue, one fee vault per served chain, the emission reserve and the report
//! contract, every parameter from the economics configuration. Every admin is the timelock, so
//! the wiring (the queue, the slash listener and every role) is one timelock batch: scheduled
//! by the governor at deployment and executable once the delay has passed on the chain's clock
//! ([`execute_wiring`]).

use alloy::{
    primitives::{Address, B256, Bytes, U256, keccak256},
    providers::Provider,
    sol_types::SolCall,
};

use super::{
    ChainError,
    bindings::{
        EmissionReserve, IAccessControl, SeqstakeTimelock, SequencerRegistry, SlashingManager,
        executor::ReportExecutor,
        liquid::{LiquidStakingToken, WithdrawalQueue},
    },
    deploy::{deploy_fee_vault, deploy_registry, deploy_timelock, deployed_at, registry_params},
    tx::confirm_sent,
};
use crate::config::{EconomicsConfig, EmissionConfig, JailedRewardDestination, largest_rate_move_bps};

/// Where every contract of one deployment lives.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SystemAddresses {
    /// The governance timelock, admin of everything.
    pub timelock: Address,
    /// The sequencer registry.
    pub registry: Address,
    /// The slashing manager (the registry's slasher).
    pub slashing_manager: Address,
    /// The liquid staking token.
    pub token: Address,
    /// Its withdrawal queue.
    pub queue: Address,
    /// The emission reserve.
    pub reserve: Address,
    /// The report contract (and the oracle members' consensus).
    pub executor: Address,
    /// `(served chain id, fee vault)`, in the report's chain order.
    pub vaults: Vec<(u64, Address)>,
    /// The guardian account (config `governance.guardian`): pauses the registry, vetoes
    /// slash proposals, from the wiring on.
    pub guardian: Address,
    /// The verifier account (config `governance.verifier`): proposes slashes.
    pub verifier: Address,
}

/// The timelock batch that wires a deployment: one call per entry, scheduled together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wiring {
    /// `(target, calldata)` of each call.
    pub calls: Vec<(Address, Bytes)>,
    /// The batch's salt (distinct per deployment).
    pub salt: B256,
}

/// What a deployment needs beyond the economics configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployInputs {
    /// Unix time of epoch 0 on the settlement chain.
    pub genesis_time: u64,
    /// The timelock's proposer: schedules the wiring (the deployer on a devnet).
    pub governor: Address,
    /// The served chains, in the order every report lists them; a chain with a
    /// `[[revenue_share]]` entry gets its partner terms.
    pub served_chains: Vec<u64>,
}

/// Deploys every contract and schedules the wiring batch (from `provider`'s account, which
/// must be `inputs.governor`). Returns the addresses and the batch to execute after the
/// timelock's delay.
pub async fn deploy_system<P: Provider>(
    provider: &P,
    config: &EconomicsConfig,
    inputs: &DeployInputs,
) -> Result<(SystemAddresses, Wiring), ChainError> {
    let delay = config.governance.timelock_delay_seconds;
    let timelock = deploy_timelock(provider, delay, vec![inputs.governor]).await?;
    let registry = deploy_registry(provider, registry_params(config, inputs.genesis_time), timelock).await?;
    let slashing_manager = deploy_slashing_manager(provider, config, registry, timelock).await?;
    let token = deploy_token(provider, config, registry, timelock).await?;
    let queue = deployed_at(
        provider,
        "deploy WithdrawalQueue".to_owned(),
        WithdrawalQueue::deploy_builder(
            provider,
            token,
            config.liquid.min_request,
            config.liquid.max_request,
            timelock,
        )
        .send()
        .await
        .map(|p| *p.tx_hash()),
    )
    .await?;
    let mut vaults = Vec::with_capacity(inputs.served_chains.len());
    for &chain_id in &inputs.served_chains {
        vaults.push((chain_id, deploy_fee_vault(provider, chain_id, timelock).await?));
    }
    let first_epoch = SequencerRegistry::new(registry, provider)
        .nextRewardEpoch()
        .call()
        .await
        .map_err(|source| ChainError::Contract { action: "read nextRewardEpoch".to_owned(), source })?;
    let reserve = deployed_at(
        provider,
        "deploy EmissionReserve".to_owned(),
        EmissionReserve::deploy_builder(provider, reserve_params(config, first_epoch), timelock)
            .send()
            .await
            .map(|p| *p.tx_hash()),
    )
    .await?;
    let executor =
        deploy_executor(provider, config, &vaults, [registry, token, queue, reserve], timelock).await?;
    let system = SystemAddresses {
        timelock,
        registry,
        slashing_manager,
        token,
        queue,
        reserve,
        executor,
        vaults,
        guardian: config.governance.guardian,
        verifier: config.governance.verifier,
    };
    let wiring = wiring(&system);
    schedule_wiring(provider, &system, &wiring, delay).await?;
    Ok((system, wiring))
}

/// Executes the wiring batch once the timelock's delay has passed. Anyone may.
pub async fn execute_wiring<P: Provider>(
    provider: &P,
    timelock: Address,
    wiring: &Wiring,
) -> Result<(), ChainError> {
    let (targets, payloads) = split(wiring);
    let values = vec![U256::ZERO; targets.len()];
    let action = "execute the wiring batch";
    let sent = SeqstakeTimelock::new(timelock, provider)
        .executeBatch(targets, values, payloads, B256::ZERO, wiring.salt)
        .send()
        .await;
    confirm_sent(provider, action, sent.map(|p| *p.tx_hash())).await?;
    Ok(())
}

/// Every role the wiring grants: `(contract, role, account)`. The slashing manager slashes in
/// the registry; the guardian pauses the registry and vetoes in the manager, where the verifier
/// proposes (so slashing works from the wiring on, not after a second timelock round); the
/// report contract holds its roles on the registry, the token, the queue, the reserve and each
/// vault.
fn grants(system: &SystemAddresses) -> Vec<(Address, &'static str, Address)> {
    let e = system.executor;
    let mut grants = vec![
        (system.registry, "SLASHER_ROLE", system.slashing_manager),
        (system.registry, "GUARDIAN_ROLE", system.guardian),
        (system.slashing_manager, "GUARDIAN_ROLE", system.guardian),
        (system.slashing_manager, "VERIFIER_ROLE", system.verifier),
        (system.registry, "REPORTER_ROLE", e),
        (system.token, "REPORTER_ROLE", e),
        (system.queue, "FINALIZER_ROLE", e),
        (system.reserve, "DRAWER_ROLE", e),
    ];
    grants.extend(system.vaults.iter().map(|&(_, vault)| (vault, "DRAWER_ROLE", e)));
    grants
}

/// The wiring: the token's queue, the registry's slash listener, then every grant.
fn wiring(system: &SystemAddresses) -> Wiring {
    let mut calls: Vec<(Address, Bytes)> = vec![
        (
            system.token,
            LiquidStakingToken::setWithdrawalQueueCall { queue: system.queue }.abi_encode().into(),
        ),
        (
            system.registry,
            SequencerRegistry::setSlashListenerCall { listener: system.token }.abi_encode().into(),
        ),
    ];
    calls.extend(grants(system).into_iter().map(|(target, role, account)| {
        (target, IAccessControl::grantRoleCall { role: keccak256(role), account }.abi_encode().into())
    }));
    Wiring { calls, salt: keccak256(system.executor) }
}

fn split(wiring: &Wiring) -> (Vec<Address>, Vec<Bytes>) {
    wiring.calls.iter().cloned().unzip()
}

async fn schedule_wiring<P: Provider>(
    provider: &P,
    system: &SystemAddresses,
    wiring: &Wiring,
    delay: u64,
) -> Result<(), ChainError> {
    let (targets, payloads) = split(wiring);
    let values = vec![U256::ZERO; targets.len()];
    let action = "schedule the wiring batch";
    let sent = SeqstakeTimelock::new(system.timelock, provider)
        .scheduleBatch(targets, values, payloads, B256::ZERO, wiring.salt, U256::from(delay))
        .send()
        .await;
    confirm_sent(provider, action, sent.map(|p| *p.tx_hash())).await?;
    Ok(())
}

async fn deploy_slashing_manager<P: Provider>(
    provider: &P,
    config: &EconomicsConfig,
    registry: Address,
    timelock: Address,
) -> Result<Address, ChainError> {
    let params = SlashingManager::Params {
        vetoWindowEpochs: config.slashing.veto_window_epochs,
        maxFractionBps: config.slashing.max_fraction_bps,
        maxPerPeriodBps: config.slashing.max_per_period_bps,
        periodEpochs: config.slashing.period_epochs,
    };
    let sent = SlashingManager::deploy_builder(provider, registry, params, timelock).send().await;
    deployed_at(provider, "deploy SlashingManager".to_owned(), sent.map(|p| *p.tx_hash())).await
}

async fn deploy_token<P: Provider>(
    provider: &P,
    config: &EconomicsConfig,
    registry: Address,
    timelock: Address,
) -> Result<Address, ChainError> {
    let liquid = &config.liquid;
    let longest_exit = (u64::from(config.staking.unbonding_epochs) + 1) * config.epochs.length_seconds;
    // Validated configurations keep the largest move within bps (at most the exit fee).
    let max_rate_move = u16::try_from(largest_rate_move_bps(config)).unwrap_or(u16::MAX);
    let params = LiquidStakingToken::Params {
        minDeposit: liquid.min_deposit,
        totalCap: liquid.total_cap,
        stakeLimitMax: liquid.stake_limit_max,
        stakeLimitRefillPerBlock: liquid.stake_limit_refill_per_block,
        longestExit: U256::from(longest_exit),
        registry,
        treasury: config.treasury.address,
        poolFeeBps: liquid.pool_fee_bps,
        perSequencerCapBps: liquid.per_sequencer_cap_bps,
        maxMovedPerEpoch: liquid.max_moved_per_epoch,
        instantExitFeeBps: liquid.instant_exit_fee_bps,
        maxRateMoveBps: max_rate_move,
        instantExitCapPerEpoch: liquid.instant_exit_cap_per_epoch,
        staleTimeoutEpochs: liquid.stale_timeout_epochs,
    };
    let sent = LiquidStakingToken::deploy_builder(provider, params, timelock).send().await;
    deployed_at(provider, "deploy LiquidStakingToken".to_owned(), sent.map(|p| *p.tx_hash())).await
}

/// The reserve's parameters for the configured schedule, its first epoch the registry's first
/// reward epoch.
pub fn reserve_params(config: &EconomicsConfig, first_epoch: u64) -> EmissionReserve::Params {
    let mut p = EmissionReserve::Params {
        kind: 0,
        perEpoch: U256::ZERO,
        decayRay: U256::ZERO,
        budget: U256::ZERO,
        totalSupply: U256::ZERO,
        maxInflationBps: 0,
        epochLength: config.epochs.length_seconds,
        firstEpoch: first_epoch,
    };
    match &config.emission {
        EmissionConfig::Constant { per_epoch } => p.perEpoch = *per_epoch,
        EmissionConfig::Decaying { initial_per_epoch, decay_ray } => {
            (p.kind, p.perEpoch, p.decayRay) = (1, *initial_per_epoch, *decay_ray);
        }
        EmissionConfig::FixedBudget { per_epoch, budget } => {
            (p.kind, p.perEpoch, p.budget) = (2, *per_epoch, *budget);
        }
        EmissionConfig::BondedRatioTarget { max_inflation_bps, total_supply, .. } => {
            (p.kind, p.maxInflationBps, p.totalSupply) = (3, *max_inflation_bps, *total_supply);
        }
    }
    p
}

/// `[registry, token, queue, reserve]`, then the report contract with the served chains' vaults
/// and terms and the oracle members.
async fn deploy_executor<P: Provider>(
    provider: &P,
    config: &EconomicsConfig,
    vaults: &[(u64, Address)],
    [registry, token, queue, reserve]: [Address; 4],
    timelock: Address,
) -> Result<Address, ChainError> {
    let chains = vaults
        .iter()
        .map(|&(chain_id, vault)| {
            let terms = config.revenue_share.iter().find(|t| t.chain_id == chain_id);
            ReportExecutor::ServedChain {
                chainId: chain_id,
                vault,
                partner: terms.map_or(Address::ZERO, |t| t.partner),
                aBps: terms.map_or(0, |t| t.a_bps),
                bBps: terms.map_or(0, |t| t.b_bps),
            }
        })
        .collect();
    let params = ReportExecutor::Params {
        registry,
        token,
        queue,
        reserve,
        treasury: config.treasury.address,
        protocolFeeBps: config.treasury.fee_bps,
        jailedToTreasury: config.rewards.jailed_reward_destination == JailedRewardDestination::Treasury,
        maxMissedBps: config.downtime.max_missed_bps,
        maxEpochsPerReport: config.report.max_epochs_per_report,
        maxRateAprBps: config.report.max_rate_apr_bps,
        maxMovesPerReport: config.report.max_stake_moves_per_report,
        chains,
    };
    // A validated configuration has at most 64 members (ReportConsensus's MAX_MEMBERS).
    let quorum = u8::try_from(config.oracle.quorum).unwrap_or(u8::MAX);
    let sent =
        ReportExecutor::deploy_builder(provider, params, config.oracle.members.clone(), quorum, timelock)
            .send()
            .await;
    deployed_at(provider, "deploy ReportExecutor".to_owned(), sent.map(|p| *p.tx_hash())).await
}

/// Reads back what the wiring set, for a caller that wants to check a deployment: whether the
/// report contract holds each of its roles, and whether the token knows its queue and the
/// registry its slash listener.
pub async fn wiring_in_place<P: Provider>(
    provider: &P,
    system: &SystemAddresses,
) -> Result<bool, ChainError> {
    let read = |source| ChainError::Contract { action: "read the wiring".to_owned(), source };
    let token = LiquidStakingToken::new(system.token, provider);
    let registry = SequencerRegistry::new(system.registry, provider);
    let mut ok = token.withdrawalQueue().call().await.map_err(read)? == system.queue
        && registry.slashListener().call().await.map_err(read)? == system.token;
    for (target, role, account) in grants(system) {
        ok = ok
            && IAccessControl::new(target, provider)
                .hasRole(keccak256(role), account)
                .call()
                .await
                .map_err(read)?;
    }
    Ok(ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn devnet() -> EconomicsConfig {
        EconomicsConfig::from_toml(include_str!("../../config/devnet.toml")).expect("devnet config")
    }

    #[test]
    fn reserve_params_follow_each_schedule() {
        let mut config = devnet();
        let decaying = reserve_params(&config, 7);
        assert_eq!((decaying.kind, decaying.firstEpoch, decaying.epochLength), (1, 7, 5));
        let EmissionConfig::Decaying { initial_per_epoch, decay_ray } = config.emission.clone() else {
            panic!("the devnet decays");
        };
        assert_eq!((decaying.perEpoch, decaying.decayRay), (initial_per_epoch, decay_ray));
        config.emission = EmissionConfig::Constant { per_epoch: U256::from(5u64) };
        let constant = reserve_params(&config, 0);
        assert_eq!((constant.kind, constant.perEpoch, constant.budget), (0, U256::from(5u64), U256::ZERO));
        config.emission =
            EmissionConfig::FixedBudget { per_epoch: U256::from(3u64), budget: U256::from(10u64) };
        let budget = reserve_params(&config, 0);
        assert_eq!((budget.kind, budget.perEpoch, budget.budget), (2, U256::from(3u64), U256::from(10u64)));
        config.emission = EmissionConfig::BondedRatioTarget {
            initial_inflation_bps: 700,
            min_inflation_bps: 200,
            max_inflation_bps: 2000,
            target_bonded_bps: 6700,
            max_change_per_year_bps: 1300,
            total_supply: U256::from(1_000u64),
        };
        let targeting = reserve_params(&config, 0);
        assert_eq!(
            (targeting.kind, targeting.maxInflationBps, targeting.totalSupply),
            (3, 2000, U256::from(1_000u64))
        );
    }

    #[test]
    fn the_wiring_grants_every_role_once() {
        let at = |b: u8| Address::repeat_byte(b);
        let system = SystemAddresses {
            timelock: at(1),
            registry: at(2),
            slashing_manager: at(3),
            token: at(4),
            queue: at(5),
            reserve: at(6),
            executor: at(7),
            vaults: vec![(10, at(8)), (11, at(9))],
            guardian: at(0x6a),
            verifier: at(0x7e),
        };
        let wiring = wiring(&system);
        let targets: Vec<Address> = wiring.calls.iter().map(|(target, _)| *target).collect();
        assert_eq!(
            targets,
            vec![at(4), at(2), at(2), at(2), at(3), at(3), at(2), at(4), at(5), at(6), at(8), at(9)]
        );
        let grant = |role: &str, account: Address| -> Bytes {
            SequencerRegistry::grantRoleCall { role: keccak256(role), account }.abi_encode().into()
        };
        assert_eq!(wiring.calls[2].1, grant("SLASHER_ROLE", at(3)));
        assert_eq!(wiring.calls[3].1, grant("GUARDIAN_ROLE", at(0x6a)));
        assert_eq!(wiring.calls[4].1, grant("GUARDIAN_ROLE", at(0x6a)));
        assert_eq!(wiring.calls[5].1, grant("VERIFIER_ROLE", at(0x7e)));
        for call in &wiring.calls[6..] {
            let role = if call.0 == at(5) {
                "FINALIZER_ROLE"
            } else if call.0 == at(2) || call.0 == at(4) {
                "REPORTER_ROLE"
            } else {
                "DRAWER_ROLE"
            };
            assert_eq!(call.1, grant(role, at(7)), "{role} on {}", call.0);
        }
        assert_ne!(wiring.salt, super::wiring(&SystemAddresses { executor: at(0xee), ..system }).salt);
    }
}
