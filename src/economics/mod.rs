//! The economics engine: pure and deterministic, no I/O, no clock, no database, so that anyone
//! can recompute an epoch from its inputs. This part holds the precision shared with the
//! contracts; settlement, accumulators, schedules, APR and allocation build on it.

pub mod precision;
