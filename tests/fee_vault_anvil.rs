//! The Rust side deploys the committed FeeVault artifact to a real anvil and drives it:
//! revenue arrives, only a drawer may draw, and never more than arrived.

use alloy::{
    network::TransactionBuilder,
    node_bindings::Anvil,
    primitives::{U256, address},
    providers::{Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
};
use seqstake::chain::{bindings::FeeVault, deploy::deploy_fee_vault, tx::confirm};

fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18u64))
}

#[tokio::test]
async fn deploys_from_artifact_and_settles_only_arrived_revenue() {
    let anvil = Anvil::new().try_spawn().expect("anvil on PATH (run through `make test`)");
    let admin: PrivateKeySigner = anvil.keys()[0].clone().into();
    let bridge: PrivateKeySigner = anvil.keys()[1].clone().into();
    let admin_address = admin.address();
    let provider = ProviderBuilder::new().wallet(admin).connect_http(anvil.endpoint_url());
    let bridge_provider = ProviderBuilder::new().wallet(bridge).connect_http(anvil.endpoint_url());

    let vault_address = deploy_fee_vault(&provider, 31_338, admin_address).await.expect("deploy");
    let vault = FeeVault::new(vault_address, &provider);
    assert_eq!(vault.servedChainId().call().await.expect("servedChainId"), 31_338);

    let revenue = TransactionRequest::default().with_to(vault_address).with_value(ether(3));
    let pending = bridge_provider.send_transaction(revenue).await.expect("send revenue");
    confirm(&bridge_provider, "send revenue", *pending.tx_hash()).await.expect("revenue included");
    assert_eq!(vault.available().call().await.expect("available"), ether(3));

    // Reverts are checked with eth_call: a refused send would still take a nonce from the
    // wallet's nonce cache and leave the next transaction waiting behind a gap.
    let recipient = address!("00000000000000000000000000000000000c0ffe");
    let drawer_role = vault.DRAWER_ROLE().call().await.expect("role");
    let Err(refused) = vault.draw(ether(1), recipient).call().await else {
        panic!("a non-drawer must not draw");
    };
    let unauthorized =
        refused.as_decoded_error::<FeeVault::AccessControlUnauthorizedAccount>().expect("typed revert");
    assert_eq!((unauthorized.account, unauthorized.neededRole), (admin_address, drawer_role));

    let grant = vault.grantRole(drawer_role, admin_address).send().await.expect("grant");
    confirm(&provider, "grant drawer", *grant.tx_hash()).await.expect("granted");

    let Err(too_much) = vault.draw(ether(4), recipient).call().await else {
        panic!("drawing more than arrived must revert");
    };
    let insufficient = too_much.as_decoded_error::<FeeVault::InsufficientRevenue>().expect("typed revert");
    assert_eq!((insufficient.requested, insufficient.available), (ether(4), ether(3)));

    let draw = vault.draw(ether(1), recipient).send().await.expect("draw");
    confirm(&provider, "draw", *draw.tx_hash()).await.expect("drawn");
    assert_eq!(provider.get_balance(recipient).await.expect("balance"), ether(1));
    assert_eq!(vault.available().call().await.expect("available"), ether(2));
}
