//! The served chain's blocks: a fixed number per epoch, at timestamps inside the settlement
//! epoch, each with its producer's signer as the header's `miner` (`anvil_setCoinbase`) by the
//! producer rule (`economics::producer`). A sequencer marked offline misses its turns: the
//! next online member of the set stands in, and the block counts as a miss of the expected
//! one. The chain's users pay real gas fees in every block.

use std::collections::BTreeSet;

use alloy::{
    network::TransactionBuilder,
    primitives::{Address, U256},
    providers::{Provider, ext::AnvilApi},
    rpc::types::TransactionRequest,
};
use rand::{Rng, rngs::StdRng};

use super::{DevnetError, chains::LocalChain, world::DevnetSequencer};
use crate::economics::{producer::expected_producer, settlement::SequencerId};

/// One served block as produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedBlock {
    /// Its number.
    pub number: u64,
    /// Its timestamp.
    pub timestamp: u64,
    /// Who the rule expected.
    pub expected: Option<SequencerId>,
    /// Whose signer is its `miner` (a stand-in when the expected one is offline).
    pub producer: Option<SequencerId>,
    /// The gas fees its users paid: gas used times effective price, over its receipts.
    pub fees: U256,
}

/// Produces `count` blocks at `first_timestamp`, `first_timestamp + 1`, ... with `set` in
/// force. The served chain does not mine by itself (the devnet turned its automine off).
pub async fn produce_blocks(
    served: &LocalChain,
    sequencers: &[DevnetSequencer],
    set: &[SequencerId],
    offline: &BTreeSet<SequencerId>,
    first_timestamp: u64,
    count: u64,
    rng: &mut StdRng,
) -> Result<Vec<ServedBlock>, DevnetError> {
    let reader = served.reader();
    let rpc = |action: &str| {
        let action = action.to_owned();
        move |source| DevnetError::Rpc { action: action.clone(), source }
    };
    let mut blocks = Vec::with_capacity(usize::try_from(count).unwrap_or_default());
    for k in 0..count {
        let number = reader.get_block_number().await.map_err(rpc("read the served chain's head"))? + 1;
        let expected = expected_producer(number, set);
        let producer = expected.and_then(|id| stand_in(id, set, offline));
        let miner = producer
            .and_then(|id| sequencers.iter().find(|s| s.id == id))
            .map_or(Address::ZERO, |s| s.signer);
        reader.anvil_set_coinbase(miner).await.map_err(rpc("set the served chain's coinbase"))?;
        let mut hashes = Vec::new();
        for _ in 0..rng.random_range(1..=3u32) {
            let from = super::world::USERS[rng.random_range(0..super::world::USERS.len())];
            let to = served.address(super::world::USERS[rng.random_range(0..super::world::USERS.len())]);
            let value = U256::from(rng.random_range(1..1_000_000u64));
            let tx = TransactionRequest::default().with_to(to).with_value(value);
            let pending = served.wallet(from).send_transaction(tx).await.map_err(|source| {
                DevnetError::Rpc { action: format!("served user {from} pays gas"), source }
            })?;
            hashes.push(*pending.tx_hash());
        }
        let timestamp = first_timestamp + k;
        reader.anvil_set_next_block_timestamp(timestamp).await.map_err(rpc("set the served block's time"))?;
        reader.evm_mine(None).await.map_err(rpc("mine a served block"))?;
        let mut fees = U256::ZERO;
        for hash in hashes {
            let receipt = reader
                .get_transaction_receipt(hash)
                .await
                .map_err(rpc("read a served receipt"))?
                .ok_or_else(|| {
                DevnetError::Invariant(format!("served transaction {hash} was not mined"))
            })?;
            fees += U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price);
        }
        blocks.push(ServedBlock { number, timestamp, expected, producer, fees });
    }
    Ok(blocks)
}

/// The expected producer if online, else the next online member of the set after it.
fn stand_in(
    expected: SequencerId,
    set: &[SequencerId],
    offline: &BTreeSet<SequencerId>,
) -> Option<SequencerId> {
    let start = set.iter().position(|&id| id == expected)?;
    (0..set.len()).map(|step| set[(start + step) % set.len()]).find(|id| !offline.contains(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offline_producer_is_stood_in_for_by_the_next_online_member() {
        let set = [1, 2, 3];
        let offline = BTreeSet::from([2]);
        assert_eq!(stand_in(1, &set, &offline), Some(1));
        assert_eq!(stand_in(2, &set, &offline), Some(3));
        assert_eq!(stand_in(3, &set, &BTreeSet::from([3, 1])), Some(2));
        assert_eq!(stand_in(1, &set, &BTreeSet::from([1, 2, 3])), None);
    }
}
