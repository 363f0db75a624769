//! Storage: PostgreSQL in production, SQLite as the embedded default, two implementations of
//! one interface, each with its numbered migrations (`migrations/sqlite/`,
//! `migrations/postgres/`) applied when a store opens. `amount` says how wei amounts are
//! written to and read from each backend; `member` is an oracle member's own state.

pub mod amount;
pub mod member;
