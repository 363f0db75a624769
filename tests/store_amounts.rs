//! Amounts survive a round trip through real PostgreSQL and real SQLite at full 256-bit
//! width, and each backend orders them numerically.

mod support;

use alloy::primitives::U256;
use seqstake::store::amount::{from_pg_numeric, from_sqlite_text, to_pg_numeric, to_sqlite_text};
use sqlx::{Connection, Row, SqliteConnection};

fn samples() -> Vec<U256> {
    vec![
        U256::MAX,
        U256::from(10u64),
        U256::ZERO,
        U256::from(9u64),
        U256::from(10u64).pow(U256::from(18u64)),
        U256::MAX - U256::from(1u64),
    ]
}

fn sorted(mut amounts: Vec<U256>) -> Vec<U256> {
    amounts.sort();
    amounts
}

#[tokio::test]
async fn postgres_numeric_78_holds_every_u256_in_order() {
    let Some(mut db) = support::postgres("postgres_numeric_78_holds_every_u256_in_order").await else {
        return;
    };
    sqlx::query("CREATE TEMP TABLE amounts (id BIGINT PRIMARY KEY, amount NUMERIC(78,0) NOT NULL)")
        .execute(&mut db)
        .await
        .expect("create");
    for (id, amount) in samples().into_iter().enumerate() {
        sqlx::query("INSERT INTO amounts (id, amount) VALUES ($1, $2::numeric)")
            .bind(i64::try_from(id).expect("small"))
            .bind(to_pg_numeric(amount))
            .execute(&mut db)
            .await
            .expect("insert");
    }
    // The text alias must not shadow the column: `ORDER BY amount` would then sort the text.
    let rows = sqlx::query("SELECT amount::text AS amount_text FROM amounts ORDER BY amount")
        .fetch_all(&mut db)
        .await
        .expect("select");
    let read: Vec<U256> =
        rows.iter().map(|row| from_pg_numeric(row.get::<&str, _>("amount_text")).expect("decodes")).collect();
    assert_eq!(read, sorted(samples()));

    // One more than 2^256 - 1 does not fit the column's meaning; PostgreSQL accepts 78 digits,
    // so the decoder is what refuses it.
    let over: String = sqlx::query_scalar("SELECT ($1::numeric + 1)::text")
        .bind(to_pg_numeric(U256::MAX))
        .fetch_one(&mut db)
        .await
        .expect("select");
    assert!(from_pg_numeric(&over).is_err());
}

#[tokio::test]
async fn sqlite_padded_text_holds_every_u256_in_order() {
    let mut db = SqliteConnection::connect("sqlite::memory:").await.expect("sqlite");
    sqlx::query("CREATE TABLE amounts (id INTEGER PRIMARY KEY, amount TEXT NOT NULL)")
        .execute(&mut db)
        .await
        .expect("create");
    for (id, amount) in samples().into_iter().enumerate() {
        sqlx::query("INSERT INTO amounts (id, amount) VALUES (?, ?)")
            .bind(i64::try_from(id).expect("small"))
            .bind(to_sqlite_text(amount))
            .execute(&mut db)
            .await
            .expect("insert");
    }
    let rows =
        sqlx::query("SELECT amount FROM amounts ORDER BY amount").fetch_all(&mut db).await.expect("select");
    let read: Vec<U256> =
        rows.iter().map(|row| from_sqlite_text(row.get::<&str, _>("amount")).expect("decodes")).collect();
    assert_eq!(read, sorted(samples()));
}
