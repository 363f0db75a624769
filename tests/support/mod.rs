//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use sqlx::{Connection, PgConnection};

/// Whether a missing PostgreSQL is a failure (CI) or a loud skip (a developer's machine).
fn postgres_required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
        || std::env::var("SEQSTAKE_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// A connection to the PostgreSQL server named by `DATABASE_URL`. When none answers, fails
/// under CI; elsewhere prints that the PostgreSQL test did not run and returns `None`.
pub async fn postgres(test: &str) -> Option<PgConnection> {
    let url = std::env::var("DATABASE_URL").unwrap_or_default();
    let error = if url.is_empty() {
        "DATABASE_URL is not set".to_owned()
    } else {
        match PgConnection::connect(&url).await {
            Ok(connection) => return Some(connection),
            Err(err) => format!("cannot connect to {url}: {err}"),
        }
    };
    assert!(!postgres_required(), "{test}: PostgreSQL is required here and {error}");
    eprintln!("!!! {test}: the PostgreSQL test DID NOT RUN: {error}");
    None
}

pub mod chain;
pub mod devnet;
