//! The deployment's guardian and verifier on a real anvil: right after the wiring batch (no
//! second timelock round), the configured verifier proposes a slash, the configured guardian
//! vetoes it and pauses the registry, and nobody else can do either. The chain's clock is
//! advanced, never waited for.

mod support;

use alloy::primitives::{B256, U256};
use seqstake::chain::{
    bindings::{SequencerRegistry, SlashingManager},
    system::{deploy_system, execute_wiring, wiring_in_place},
    tx::confirm,
};
use support::chain::{Chain, advance, deploy_inputs, devnet_config, now, tokens};

/// SlashingManager.State: Pending = 1, Vetoed = 2.
const PENDING: u8 = 1;
const VETOED: u8 = 2;

#[tokio::test]
async fn guardian_and_verifier_act_right_after_deployment() {
    let config = devnet_config();
    let chain = Chain::spawn();
    let admin = chain.wallet(0);
    let inputs = deploy_inputs(&chain, vec![31_338]).await;
    let (system, wiring) = deploy_system(&admin, &config, &inputs).await.expect("deploy");
    assert_eq!((system.guardian, system.verifier), (config.governance.guardian, config.governance.verifier));
    assert_eq!(system.guardian, chain.address(2), "the devnet's guardian is anvil account 2");
    assert_eq!(system.verifier, chain.address(3), "the devnet's verifier is anvil account 3");
    advance(&admin, config.governance.timelock_delay_seconds).await;
    execute_wiring(&admin, system.timelock, &wiring).await.expect("wire");
    assert!(wiring_in_place(&admin, &system).await.expect("read"), "every role in place");

    // A sequencer to slash, with stake from the next epoch.
    let operator = chain.wallet(1);
    let sent = SequencerRegistry::new(system.registry, &operator)
        .register(chain.address(1), chain.address(1), 500)
        .value(tokens(1))
        .send()
        .await
        .expect("register");
    confirm(&operator, "register", *sent.tx_hash()).await.expect("registered");
    advance(&admin, config.epochs.length_seconds).await;
    let registry = SequencerRegistry::new(system.registry, &admin);
    let epoch = registry.currentEpoch().call().await.expect("epoch");

    // Only the verifier proposes.
    let evidence = B256::repeat_byte(0xe7);
    let outsider = SlashingManager::new(system.slashing_manager, chain.wallet(4));
    assert!(outsider.propose(1, epoch, 1, evidence, 100).send().await.is_err(), "not a verifier");
    let verifier = chain.wallet(3);
    let sent = SlashingManager::new(system.slashing_manager, &verifier)
        .propose(1, epoch, 1, evidence, 100)
        .send()
        .await
        .expect("the verifier proposes");
    confirm(&verifier, "propose", *sent.tx_hash()).await.expect("proposed");
    let manager = SlashingManager::new(system.slashing_manager, &admin);
    assert_eq!(manager.stateOf(U256::from(1u64)).call().await.expect("state"), PENDING);

    // Only the guardian vetoes, and it pauses the registry.
    assert!(outsider.veto(U256::from(1u64)).send().await.is_err(), "not the guardian");
    let guardian = chain.wallet(2);
    let sent = SlashingManager::new(system.slashing_manager, &guardian)
        .veto(U256::from(1u64))
        .send()
        .await
        .expect("the guardian vetoes");
    confirm(&guardian, "veto", *sent.tx_hash()).await.expect("vetoed");
    assert_eq!(manager.stateOf(U256::from(1u64)).call().await.expect("state"), VETOED);
    let sent = SequencerRegistry::new(system.registry, &guardian).pause(10).send().await.expect("pause");
    confirm(&guardian, "pause", *sent.tx_hash()).await.expect("paused");
    assert!(registry.pausedUntil().call().await.expect("pausedUntil") > now(&admin).await);
}
