//! The devnet as the integration tests start it.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
    time::Duration,
};

use seqstake::devnet::DevnetOptions;

/// The test devnet: five sequencers, sequencer 3 offline, four served blocks and three actions
/// an epoch, seed 7, no member stalled.
pub fn options(state_dir: PathBuf) -> DevnetOptions {
    DevnetOptions {
        config: PathBuf::from("config/devnet.toml"),
        state_dir,
        seed: 7,
        epochs: None,
        pace: Duration::ZERO,
        sequencers: 5,
        blocks_per_epoch: 4,
        actions_per_epoch: 3,
        offline: BTreeSet::from([3]),
        offline_epochs: None,
        stalled_members: BTreeMap::new(),
    }
}

/// A fresh state folder for `test`.
pub fn state_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("seqstake-devnet-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}
