//! The registry deployed from its committed artifacts with the devnet's economics and a
//! timelock as admin: a bond counts from the next epoch, which the test reaches by advancing
//! the chain's clock.

use alloy::{
    node_bindings::Anvil,
    primitives::{U256, address},
    providers::{Provider, ProviderBuilder, ext::AnvilApi},
    signers::local::PrivateKeySigner,
};
use seqstake::{
    chain::{
        bindings::SequencerRegistry,
        deploy::{deploy_registry, deploy_timelock, registry_params},
        tx::confirm,
    },
    config::EconomicsConfig,
};

#[tokio::test]
async fn bond_counts_from_the_next_epoch_on_the_chains_clock() {
    let config = EconomicsConfig::from_toml(include_str!("../config/devnet.toml")).expect("devnet config");
    let anvil = Anvil::new().try_spawn().expect("anvil on PATH (run through `make test`)");
    let admin: PrivateKeySigner = anvil.keys()[0].clone().into();
    let operator: PrivateKeySigner = anvil.keys()[1].clone().into();
    let admin_address = admin.address();
    let provider = ProviderBuilder::new().wallet(admin).connect_http(anvil.endpoint_url());
    let operator_provider = ProviderBuilder::new().wallet(operator).connect_http(anvil.endpoint_url());

    let now = provider
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await
        .expect("block")
        .expect("latest")
        .header
        .timestamp;
    let params = registry_params(&config, now);
    let timelock = deploy_timelock(&provider, config.governance.timelock_delay_seconds, vec![admin_address])
        .await
        .expect("deploy timelock");
    let address = deploy_registry(&provider, params, timelock).await.expect("deploy");
    let registry = SequencerRegistry::new(address, &operator_provider);
    assert_eq!(registry.epochLength().call().await.expect("epochLength"), 5);

    let epoch = registry.currentEpoch().call().await.expect("epoch");
    let bond = config.staking.min_bond * U256::from(3u64);
    let signer = address!("0000000000000000000000000000000000005162");
    let register =
        registry.register(signer, admin_address, 1_000).value(bond).send().await.expect("register");
    confirm(&operator_provider, "register", *register.tx_hash()).await.expect("registered");
    assert_eq!(registry.bondAt(1, epoch).call().await.expect("bondAt"), U256::ZERO);
    assert_eq!(registry.bondAt(1, epoch + 1).call().await.expect("bondAt"), bond);

    // Advance the chain's clock by one epoch and mine: the registry's epoch moves with it.
    provider.anvil_increase_time(config.epochs.length_seconds).await.expect("increase time");
    provider.anvil_mine(Some(1), None).await.expect("mine");
    assert_eq!(registry.currentEpoch().call().await.expect("epoch"), epoch + 1);

    // A bond below the minimum is refused with a typed error.
    let Err(refused) = registry.addBond(1).value(U256::ZERO).call().await else {
        panic!("an empty bond top-up must revert");
    };
    let decoded = refused.as_decoded_error::<SequencerRegistry::BondOutOfRange>().expect("typed revert");
    assert_eq!(decoded.bond, bond);
}
