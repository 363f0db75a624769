//! The oracle member's store on real SQLite and real PostgreSQL: migrated on open, what a
//! member records survives a restart, a foreign database and a conflicting report are refused
//! and change nothing.

mod support;

use alloy::primitives::{Address, B256, U256, address, b256};
use seqstake::{
    economics::report::{Header, LiquidActions, Report},
    store::member::{MemberStore, StoreError},
};
use sqlx::{Connection, Executor, PgConnection};

const MEMBER: Address = address!("0x0000000000000000000000000000000000000a11");
const OTHER: Address = address!("0x0000000000000000000000000000000000000b22");
const EXECUTOR: Address = address!("0x00000000000000000000000000000000000e7ec0");

fn report(first: u64, pool_rewards: u64) -> Report {
    Report {
        header: Header {
            firstEpoch: first,
            lastEpoch: first + 1,
            refBlock: 1_000 + first,
            ..Default::default()
        },
        activeSet: vec![1, 3, 2],
        liquid: LiquidActions { poolRewards: U256::from(pool_rewards), ..Default::default() },
        ..Default::default()
    }
}

const HASH_A: B256 = b256!("0x1111111111111111111111111111111111111111111111111111111111111111");
const HASH_B: B256 = b256!("0x2222222222222222222222222222222222222222222222222222222222222222");
const VOTE: B256 = b256!("0x3333333333333333333333333333333333333333333333333333333333333333");

/// What every backend must do, on the store `url` names (empty at first).
async fn member_state_survives_and_refuses(url: &str) {
    let store = MemberStore::open(url, MEMBER, 31337, EXECUTOR).await.expect("open and migrate");
    assert_eq!(store.last_slot().await.expect("last slot"), None);
    assert_eq!(store.report(5).await.expect("read"), None);

    // A report never executed is replaced by the slot's rebuilt report, its vote cleared.
    store.record_built(&report(5, 8), HASH_B).await.expect("record");
    store.record_vote(5, VOTE).await.expect("vote");
    store.record_built(&report(5, 7), HASH_A).await.expect("rebuilt before it executed");
    let rebuilt = store.report(5).await.expect("read").expect("kept");
    assert_eq!((rebuilt.report, rebuilt.hash, rebuilt.voted_tx), (report(5, 7), HASH_A, None));
    store.record_built(&report(5, 7), HASH_A).await.expect("the same report again is a no-op");
    store.record_vote(5, VOTE).await.expect("vote");
    store.record_call(5).await.expect("call");
    store.record_call(5).await.expect("call");
    store.record_executed(5, 4_321).await.expect("executed");
    // Once executed, a different report for the slot is refused and changes nothing.
    let conflict = store.record_built(&report(5, 8), HASH_B).await.expect_err("a second report for slot 5");
    assert!(
        matches!(conflict, StoreError::Conflict { slot: 5, recorded, offered } if recorded == HASH_A && offered == HASH_B),
        "{conflict}"
    );
    let missing = store.record_vote(9, VOTE).await.expect_err("no report for slot 9");
    assert!(matches!(missing, StoreError::Corrupt(_)), "{missing}");
    store.close().await;

    // A restart: the same database, opened again (migrations already applied).
    let store = MemberStore::open(url, MEMBER, 31337, EXECUTOR).await.expect("reopen");
    let stored = store.report(5).await.expect("read").expect("slot 5 kept");
    assert_eq!(stored.report, report(5, 7), "the report's bytes survive whole");
    assert_eq!(stored.hash, HASH_A);
    assert_eq!(stored.voted_tx, Some(VOTE));
    assert_eq!(stored.executed_block, Some(4_321));
    assert_eq!(stored.calls_sent, 2);
    store.record_built(&report(7, 0), HASH_B).await.expect("next slot");
    assert_eq!(store.last_slot().await.expect("last slot"), Some(7));
    store.close().await;

    // Another member, another chain or another report contract: refused, nothing recorded.
    for (member, chain, executor) in [(OTHER, 31337, EXECUTOR), (MEMBER, 1, EXECUTOR), (MEMBER, 31337, OTHER)]
    {
        let err = MemberStore::open(url, member, chain, executor).await.expect_err("foreign database");
        assert!(matches!(err, StoreError::Foreign { .. }), "{err}");
        assert!(err.to_string().contains("use a new database"), "{err}");
    }
    let store = MemberStore::open(url, MEMBER, 31337, EXECUTOR).await.expect("reopen once more");
    assert_eq!(store.report(5).await.expect("read").map(|r| r.hash), Some(HASH_A));
    store.close().await;
}

#[tokio::test]
async fn sqlite_member_store() {
    let dir = std::env::temp_dir().join(format!("seqstake-member-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("member.sqlite");
    let _ = std::fs::remove_file(&path);
    member_state_survives_and_refuses(&format!("sqlite:{}", path.display())).await;
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[tokio::test]
async fn unknown_store_url_is_refused() {
    let err = MemberStore::open("mysql://x", MEMBER, 1, EXECUTOR).await.expect_err("unsupported");
    assert!(matches!(err, StoreError::Url(_)), "{err}");
}

#[tokio::test]
async fn postgres_member_store() {
    let Some(mut admin) = support::postgres("postgres_member_store").await else { return };
    let name = format!("seqstake_member_{}", std::process::id());
    admin.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}"))).await.expect("drop old");
    admin.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.expect("create database");
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let url = match base.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => panic!("DATABASE_URL {base} names no database"),
    };
    member_state_survives_and_refuses(&url).await;
    let mut check = PgConnection::connect(&url).await.expect("connect");
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut check)
        .await
        .expect("migrations");
    assert_eq!(applied, 1, "the first numbered migration, applied once");
    check.close().await.expect("close");
    admin.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE {name}"))).await.expect("drop");
}
