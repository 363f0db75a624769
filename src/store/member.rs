//! An oracle member's own state: which member and deployment the database belongs to, and
//! every report the member built (its bytes, its hash, its vote and its execution). SQLite is
//! the embedded default (`sqlite:` paths, one file per member); PostgreSQL takes the same
//! schema (`postgres://` URLs). Opening a store runs the numbered migrations of its backend
//! (`migrations/sqlite/`, `migrations/postgres/`, embedded in the binary) and then checks its
//! identity: a database written for another member, chain or report contract is refused, never
//! reused. A different report for a slot whose report already executed is refused too, and
//! changes nothing (one never executed is replaced: a later round rebuilt the slot).

use std::{path::Path, str::FromStr};

use alloy::{
    primitives::{Address, B256, TxHash},
    sol_types::SolValue,
};
use sqlx::{
    PgPool, Row, SqlitePool,
    postgres::PgPoolOptions,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions},
};

use crate::economics::report::Report;

/// Why the member store refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened, migrated, read or written.
    #[error("member store {what}: {source}")]
    Database {
        /// What was being done.
        what: &'static str,
        /// The database's error.
        source: sqlx::Error,
    },
    /// The database could not be opened.
    #[error("open member store {target}: {source}")]
    Open {
        /// The file or server.
        target: String,
        /// The database's error.
        source: sqlx::Error,
    },
    /// The migrations could not be applied.
    #[error("member store migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The URL names no supported backend.
    #[error("member store URL {0:?}: expected sqlite:PATH or postgres://…")]
    Url(String),
    /// The database belongs to another member or deployment.
    #[error(
        "member store belongs to member {found_member} on chain {found_chain} (report contract {found_executor}), \
         not member {member} on chain {chain_id} (report contract {executor}): use a new database"
    )]
    Foreign {
        /// The member asked for.
        member: Address,
        /// The chain asked for.
        chain_id: u64,
        /// The report contract asked for.
        executor: Address,
        /// The member recorded.
        found_member: String,
        /// The chain recorded.
        found_chain: i64,
        /// The report contract recorded.
        found_executor: String,
    },
    /// A different report was recorded for a slot already built.
    #[error("member store already holds report {recorded} for slot {slot}; refusing to record {offered}")]
    Conflict {
        /// The slot (first epoch).
        slot: u64,
        /// The hash recorded.
        recorded: B256,
        /// The hash offered.
        offered: B256,
    },
    /// A stored row could not be read back.
    #[error("member store holds an unreadable {0}")]
    Corrupt(String),
}

fn db(what: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |source| StoreError::Database { what, source }
}

/// A report as the member recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReport {
    /// The report.
    pub report: Report,
    /// Its hash, as voted.
    pub hash: B256,
    /// The member's vote's transaction, once sent.
    pub voted_tx: Option<TxHash>,
    /// The settlement block of its `ReportExecuted`, once seen.
    pub executed_block: Option<u64>,
    /// How many of its calls this member sent.
    pub calls_sent: u32,
}

/// A stored report's columns, as both backends read them.
#[derive(sqlx::FromRow)]
struct ReportRow {
    report: Vec<u8>,
    report_hash: String,
    voted_tx: Option<String>,
    executed_block: Option<i64>,
    calls_sent: i32,
}

#[derive(Debug, Clone)]
enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// One member's store.
#[derive(Debug, Clone)]
pub struct MemberStore {
    backend: Backend,
}

/// SQL written once with `?` placeholders, numbered (`$1`, `$2`, …) for PostgreSQL. Only
/// this module's constant statements pass through it: no input ever becomes SQL text.
fn pg(sql: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(numbered(sql))
}

/// Runs a write written once with `?` placeholders on the store's backend, binding the
/// arguments in order; evaluates to the rows it changed, or [`StoreError::Database`] with `what`.
macro_rules! write {
    ($backend:expr, $what:expr, $sql:expr $(, $arg:expr)* $(,)?) => {
        match $backend {
            Backend::Sqlite(pool) => sqlx::query($sql)$(.bind($arg))*.execute(pool).await.map(|r| r.rows_affected()),
            Backend::Postgres(pool) => sqlx::query(pg($sql))$(.bind($arg))*.execute(pool).await.map(|r| r.rows_affected()),
        }
        .map_err(db($what))
    };
}

fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// An update of one slot's row changed exactly it.
fn one_row(changed: u64, slot: u64, what: &str) -> Result<(), StoreError> {
    if changed == 1 {
        Ok(())
    } else {
        Err(StoreError::Corrupt(format!("no report recorded for slot {slot} ({what})")))
    }
}

fn to_i64(value: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} {value} beyond i64")))
}

fn to_u64(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} {value}")))
}

impl MemberStore {
    /// Opens (creating if needed) the SQLite database at `path`, migrates it and checks that it
    /// is `member`'s on `chain_id` for `executor` (recording that on first use).
    pub async fn open_sqlite(
        path: &Path,
        member: Address,
        chain_id: u64,
        executor: Address,
    ) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open { target: path.display().to_string(), source })?;
        Self::start(Backend::Sqlite(pool), member, chain_id, executor).await
    }

    /// Opens the store a URL names: `sqlite:PATH` or `postgres://…`.
    pub async fn open(
        url: &str,
        member: Address,
        chain_id: u64,
        executor: Address,
    ) -> Result<Self, StoreError> {
        if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            return Self::open_sqlite(Path::new(path), member, chain_id, executor).await;
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new().max_connections(2).connect(url).await.map_err(db("open"))?;
            return Self::start(Backend::Postgres(pool), member, chain_id, executor).await;
        }
        Err(StoreError::Url(url.to_owned()))
    }

    async fn start(
        backend: Backend,
        member: Address,
        chain_id: u64,
        executor: Address,
    ) -> Result<Self, StoreError> {
        match &backend {
            Backend::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
            Backend::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        let store = Self { backend };
        store.check_identity(member, chain_id, executor).await?;
        Ok(store)
    }

    async fn check_identity(
        &self,
        member: Address,
        chain_id: u64,
        executor: Address,
    ) -> Result<(), StoreError> {
        let chain = to_i64(chain_id, "chain id")?;
        let insert = "INSERT INTO oracle_member (id, address, chain_id, executor) VALUES (1, ?, ?, ?) \
                      ON CONFLICT (id) DO NOTHING";
        let select = "SELECT address, chain_id, executor FROM oracle_member WHERE id = 1";
        write!(&self.backend, "record its member", insert, member.to_string(), chain, executor.to_string())?;
        let (address, found_chain, found_executor): (String, i64, String) = match &self.backend {
            Backend::Sqlite(pool) => {
                let row = sqlx::query(select).fetch_one(pool).await.map_err(db("read its member"))?;
                (row.get(0), row.get(1), row.get(2))
            }
            Backend::Postgres(pool) => {
                let row = sqlx::query(select).fetch_one(pool).await.map_err(db("read its member"))?;
                (row.get(0), row.get(1), row.get(2))
            }
        };
        if address == member.to_string() && found_chain == chain && found_executor == executor.to_string() {
            return Ok(());
        }
        Err(StoreError::Foreign {
            member,
            chain_id,
            executor,
            found_member: address,
            found_chain,
            found_executor,
        })
    }

    /// Records a report built for its slot. Recording the same report again is a no-op. A
    /// different report for a slot whose report never executed replaces it (a later round
    /// rebuilt the slot over a longer range; the vote is cleared, to be cast again); once the
    /// slot's report executed, a different one is refused ([`StoreError::Conflict`]).
    pub async fn record_built(&self, report: &Report, hash: B256) -> Result<(), StoreError> {
        let slot = report.header.firstEpoch;
        let first = to_i64(slot, "first epoch")?;
        let last = to_i64(report.header.lastEpoch, "last epoch")?;
        let ref_block = to_i64(report.header.refBlock, "reference block")?;
        let bytes = report.abi_encode();
        if let Some(recorded) = self.report(slot).await? {
            if recorded.hash == hash {
                return Ok(());
            }
            if recorded.executed_block.is_some() {
                return Err(StoreError::Conflict { slot, recorded: recorded.hash, offered: hash });
            }
            let sql = "UPDATE oracle_reports SET last_epoch = ?, ref_block = ?, report_hash = ?, report = ?, \
                       voted_tx = NULL, calls_sent = 0 WHERE first_epoch = ? AND executed_block IS NULL";
            let replaced = write!(
                &self.backend,
                "replace an unexecuted report",
                sql,
                last,
                ref_block,
                hash.to_string(),
                bytes,
                first
            )?;
            if replaced == 1 {
                return Ok(());
            }
            return Err(StoreError::Conflict { slot, recorded: recorded.hash, offered: hash });
        }
        let sql = "INSERT INTO oracle_reports (first_epoch, last_epoch, ref_block, report_hash, report) \
                   VALUES (?, ?, ?, ?, ?) ON CONFLICT (first_epoch) DO NOTHING";
        let inserted = write!(
            &self.backend,
            "record a built report",
            sql,
            first,
            last,
            ref_block,
            hash.to_string(),
            bytes
        )?;
        if inserted == 0 {
            // Another writer recorded the slot first: the same report is fine.
            let recorded = self.report(slot).await?.map(|r| r.hash).unwrap_or_default();
            if recorded != hash {
                return Err(StoreError::Conflict { slot, recorded, offered: hash });
            }
        }
        Ok(())
    }

    /// Records the member's vote for `slot`.
    pub async fn record_vote(&self, slot: u64, tx: TxHash) -> Result<(), StoreError> {
        let sql = "UPDATE oracle_reports SET voted_tx = ? WHERE first_epoch = ?";
        let changed = write!(&self.backend, "record a vote", sql, tx.to_string(), to_i64(slot, "slot")?)?;
        one_row(changed, slot, "record a vote")
    }

    /// Records one more call of `slot`'s report sent by this member.
    pub async fn record_call(&self, slot: u64) -> Result<(), StoreError> {
        let sql = "UPDATE oracle_reports SET calls_sent = calls_sent + 1 WHERE first_epoch = ?";
        let changed = write!(&self.backend, "record a call", sql, to_i64(slot, "slot")?)?;
        one_row(changed, slot, "record a call")
    }

    /// Records that `slot`'s report ended (its `ReportExecuted`) in settlement block `block`.
    pub async fn record_executed(&self, slot: u64, block: u64) -> Result<(), StoreError> {
        let sql = "UPDATE oracle_reports SET executed_block = ? WHERE first_epoch = ?";
        let changed = write!(
            &self.backend,
            "record an execution",
            sql,
            to_i64(block, "block")?,
            to_i64(slot, "slot")?
        )?;
        one_row(changed, slot, "record an execution")
    }

    /// The report recorded for `slot`, if any.
    pub async fn report(&self, slot: u64) -> Result<Option<StoredReport>, StoreError> {
        let sql = "SELECT report, report_hash, voted_tx, executed_block, calls_sent FROM oracle_reports \
                   WHERE first_epoch = ?";
        let slot_key = to_i64(slot, "slot")?;
        let row: Option<ReportRow> = match &self.backend {
            Backend::Sqlite(pool) => sqlx::query_as(sql).bind(slot_key).fetch_optional(pool).await,
            Backend::Postgres(pool) => sqlx::query_as(pg(sql)).bind(slot_key).fetch_optional(pool).await,
        }
        .map_err(db("read a report"))?;
        let Some(ReportRow {
            report: bytes,
            report_hash: hash,
            voted_tx: voted,
            executed_block: executed,
            calls_sent: calls,
        }) = row
        else {
            return Ok(None);
        };
        let report = Report::abi_decode(&bytes)
            .map_err(|e| StoreError::Corrupt(format!("report for slot {slot}: {e}")))?;
        let hash =
            B256::from_str(&hash).map_err(|e| StoreError::Corrupt(format!("hash for slot {slot}: {e}")))?;
        let voted_tx = voted
            .map(|t| TxHash::from_str(&t))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("vote for slot {slot}: {e}")))?;
        let executed_block = executed.map(|b| to_u64(b, "executed block")).transpose()?;
        let calls_sent = u32::try_from(calls).map_err(|_| StoreError::Corrupt(format!("calls {calls}")))?;
        Ok(Some(StoredReport { report, hash, voted_tx, executed_block, calls_sent }))
    }

    /// The highest slot recorded, if any.
    pub async fn last_slot(&self) -> Result<Option<u64>, StoreError> {
        let sql = "SELECT MAX(first_epoch) FROM oracle_reports";
        let max: Option<i64> = match &self.backend {
            Backend::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
            Backend::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        }
        .map_err(db("read the last slot"))?;
        max.map(|m| to_u64(m, "slot")).transpose()
    }

    /// Closes the store's connections.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(pool) => pool.close().await,
            Backend::Postgres(pool) => pool.close().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn placeholders_are_numbered_in_order() {
        assert_eq!(
            numbered("UPDATE t SET a = ? WHERE b = ? AND c = ?"),
            "UPDATE t SET a = $1 WHERE b = $2 AND c = $3"
        );
        assert_eq!(numbered("SELECT 1"), "SELECT 1");
    }
}
