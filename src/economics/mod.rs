//! The economics engine: pure and deterministic, no I/O, no clock, no database, so that anyone
//! can recompute an epoch from its inputs. Rounding follows DESIGN.md's table (recorded as
//! built in docs/ECONOMICS.md): every division rounds down and each remainder has an owner.

pub mod accumulator;
pub mod allocation;
pub mod downtime;
mod error;
pub mod finalization;
pub mod liquid;
pub mod math;
pub mod moves;
pub mod precision;
pub mod producer;
pub mod report;
pub mod revenue;
pub mod schedule;
pub mod settlement;
pub mod slashing;

pub use error::EconomicsError;
