//! Storage: PostgreSQL in production, SQLite as the embedded default, two implementations of
//! one interface. This part holds how amounts are written to and read from each backend.

pub mod amount;
