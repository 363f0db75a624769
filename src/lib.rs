//! seqstake: a staking and token-economics engine for rollups with decentralized or shared
//! sequencers. It tracks sequencer stake and delegations, turns each epoch's revenue and
//! emissions into exact rewards, and drives the bundled liquid-staking contracts.
//!
//! `economics` is pure; `config` parses and validates the economics parameters; `chain` binds
//! and deploys the contracts; `devnet` runs the whole system on local chains; `cli` is the
//! `seqstake` binary's front end.

pub mod amount;
pub mod chain;
pub mod cli;
pub mod config;
pub mod devnet;
pub mod economics;
pub mod keeper;
pub mod store;
pub mod verify;
