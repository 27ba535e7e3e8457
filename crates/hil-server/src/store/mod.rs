//! Storage: the schema, migrations for both backends, and every query. Nothing above this
//! module writes SQL.
//!
//! One set of SQL text serves SQLite and PostgreSQL through sqlx's `Any` driver (`$N`
//! placeholders work on both). Where the dialects differ, the query asks `Backend`.
//!
//! Concurrency: every write runs in one transaction. On PostgreSQL it is SERIALIZABLE, so
//! HIL's check-then-act sequences cannot interleave; on SQLite writers are serialised by a
//! process-wide lock plus `BEGIN IMMEDIATE`. Constraint violations and serialisation failures
//! make `Store::retrying` run the whole operation again, whose checks then report HIL's error.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyConnection, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::error::{ApiError, ApiResult};

pub mod actions;
pub mod audit;
pub mod audit_log;
pub mod headnodes;
pub mod networks;
pub mod nodes;
pub mod obm;
pub mod projects;
pub mod switches;
pub mod users;
pub mod vlans;

pub type Conn = AnyConnection;

/// Now, as the Unix milliseconds the queue and the audit tables store.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    pool: sqlx::AnyPool,
    backend: Backend,
    /// SQLite allows one writer; queueing here is cheaper than SQLITE_BUSY retries.
    write_lock: Option<Arc<Mutex<()>>>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// How long an operation keeps being retried after serialisation failures or constraint races.
const RETRY_DEADLINE: Duration = Duration::from_secs(20);

/// The pause before retry number `attempt`: exponential from 2 ms up to 256 ms, with "equal
/// jitter" (half fixed, half random) so that the writers that collided do not collide again.
fn retry_delay(attempt: u32) -> Duration {
    let ceiling_ms = 2u64 << attempt.min(7);
    let half = ceiling_ms / 2;
    Duration::from_millis(half + rand::random::<u64>() % (half + 1))
}

impl Store {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(sqlx::Error::Configuration(
                "database url must start with sqlite: or postgresql:".into(),
            ));
        };
        if backend == Backend::Sqlite {
            create_sqlite_parent_dir(url);
        }
        let max = match (max_connections, backend) {
            (0, Backend::Sqlite) => 8,
            (0, Backend::Postgres) => 16,
            (n, _) => n,
        };
        let options: AnyConnectOptions = url.parse()?;
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        sqlx::query("PRAGMA journal_mode = WAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA busy_timeout = 10000")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA foreign_keys = ON")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA synchronous = NORMAL")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let write_lock = (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(())));
        Ok(Store {
            pool,
            backend,
            write_lock,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies pending migrations; safe to run again and again.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await,
        }
    }

    /// True when every known migration has been applied.
    pub async fn schema_is_current(&self) -> ApiResult<bool> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        let applied: i64 = match sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM _sqlx_migrations WHERE success = $1",
        )
        .bind(true)
        .fetch_one(&self.pool)
        .await
        {
            Ok(n) => n,
            Err(_) => return Ok(false),
        };
        Ok(applied as usize >= migrator.iter().count())
    }

    /// Starts a write transaction.
    pub async fn begin(&self) -> ApiResult<Tx> {
        let guard = match &self.write_lock {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        let begin = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN ISOLATION LEVEL SERIALIZABLE",
        };
        let tx = self.begin_detached(begin).await?;
        Ok(Tx { tx, _guard: guard })
    }

    /// Starts a read-only transaction: one consistent snapshot, no write lock.
    pub async fn read(&self) -> ApiResult<Tx> {
        let begin = match self.backend {
            Backend::Sqlite => "BEGIN",
            Backend::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        };
        let tx = self.begin_detached(begin).await?;
        Ok(Tx { tx, _guard: None })
    }

    /// A pooled connection outside any transaction, for a single-statement read that needs no
    /// snapshot (one round trip instead of BEGIN, the query and ROLLBACK).
    pub async fn single_read(&self) -> ApiResult<sqlx::pool::PoolConnection<Any>> {
        Ok(self.pool.acquire().await?)
    }

    /// Sends `begin` from a task of its own. sqlx counts a connection's transaction depth only
    /// once the database has answered; a caller cancelled in between (a client that hung up)
    /// would return the connection to the pool inside a transaction that sqlx does not know
    /// about, and every later `BEGIN` on it would fail. A detached task always sees the answer,
    /// and if nobody waits for it any more, dropping its `Transaction` rolls it back.
    async fn begin_detached(&self, begin: &'static str) -> ApiResult<Transaction<'static, Any>> {
        let pool = self.pool.clone();
        match tokio::spawn(async move { pool.begin_with(begin).await }).await {
            Ok(tx) => Ok(tx?),
            Err(e) => Err(ApiError::Internal(format!("starting a transaction: {e}"))),
        }
    }

    /// Runs `op` (which begins and commits its own transaction) again when it lost a race:
    /// a serialisation failure, a deadlock, a busy database, or a uniqueness violation. The
    /// retried operation's own checks then report HIL's error for the state that won.
    ///
    /// Under SERIALIZABLE, concurrent writers that touch neighbouring rows (the next free
    /// VLAN, one index page) fail and retry in waves; exponential backoff with jitter spreads
    /// them out, and the deadline is generous so that ordinary contention never reaches the
    /// client.
    pub async fn retrying<T, F, Fut>(&self, op: F) -> ApiResult<T>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = ApiResult<T>>,
    {
        let started = tokio::time::Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            match op().await {
                Err(ApiError::Database(e))
                    if is_retryable(&e) && started.elapsed() < RETRY_DEADLINE =>
                {
                    tokio::time::sleep(retry_delay(attempt)).await;
                }
                Err(ApiError::Database(e)) if is_unique_violation(&e) => {
                    return Err(ApiError::Duplicate(
                        "A concurrent request changed the same object; try again.".into(),
                    ))
                }
                Err(ApiError::Database(e)) if is_retryable(&e) => {
                    tracing::warn!(attempts = attempt, error = %e, "write still conflicting after the retry deadline");
                    return Err(ApiError::Database(e));
                }
                other => return other,
            }
        }
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn create_sqlite_parent_dir(url: &str) {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    if let Some(parent) = std::path::Path::new(path).parent() {
        if !parent.as_os_str().is_empty() {
            let _ = std::fs::create_dir_all(parent);
        }
    }
}

/// A transaction; derefs to the connection the store's query functions take.
pub struct Tx {
    tx: Transaction<'static, Any>,
    _guard: Option<OwnedMutexGuard<()>>,
}

impl Tx {
    pub async fn commit(self) -> ApiResult<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl Deref for Tx {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.tx
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.tx
    }
}

fn db_code(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(d) => d.code().map(|c| c.into_owned()),
        _ => None,
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

/// Errors that mean "another transaction got there first; run the operation again".
pub fn is_retryable(e: &sqlx::Error) -> bool {
    if is_unique_violation(e) {
        return true;
    }
    matches!(
        db_code(e).as_deref(),
        // PostgreSQL: serialization_failure, deadlock_detected. SQLite: BUSY, LOCKED.
        Some("40001") | Some("40P01") | Some("5") | Some("6") | Some("517") | Some("262")
    )
}

/// Reads a boolean column stored as BOOLEAN (PostgreSQL) or INTEGER (SQLite).
pub fn get_bool(row: &sqlx::any::AnyRow, col: &str) -> Result<bool, sqlx::Error> {
    use sqlx::Row;
    row.try_get::<bool, _>(col)
        .or_else(|_| row.try_get::<i64, _>(col).map(|v| v != 0))
}

impl Store {
    /// Starts a transaction for the worker's queue bookkeeping. On PostgreSQL it runs at READ
    /// COMMITTED: claims rely on row locks (`SKIP LOCKED`), not on serialisability.
    pub async fn begin_queue(&self) -> ApiResult<Tx> {
        if self.backend == Backend::Sqlite {
            return self.begin().await;
        }
        let tx = self.pool.begin().await?;
        Ok(Tx { tx, _guard: None })
    }
}

/// JSON aggregation, which the two dialects spell differently. Long lists come back from the
/// database as one JSON value instead of one row per item: sqlx's `Any` driver spends several
/// microseconds on every row, which at 10,000 nodes was most of a list call's time.
pub struct Json(Backend);

impl Json {
    pub fn of(c: &Conn) -> Json {
        match c.backend_name() {
            "SQLite" => Json(Backend::Sqlite),
            _ => Json(Backend::Postgres),
        }
    }

    /// A JSON array of the comma-separated SQL expressions `items`.
    pub fn array(&self, items: &str) -> String {
        match self.0 {
            Backend::Sqlite => format!("json_array({items})"),
            Backend::Postgres => format!("json_build_array({items})"),
        }
    }

    /// The JSON array of `item` over the rows; `[]` when there are none. No ORDER BY: an
    /// ordered aggregate makes the database sort again even when an index already gives the
    /// order, so callers sort in Rust (HIL sorted in Python too, by code point).
    pub fn agg(&self, item: &str) -> String {
        match self.0 {
            Backend::Sqlite => format!("json_group_array({item})"),
            Backend::Postgres => format!("COALESCE(json_agg({item}), '[]'::json)"),
        }
    }

    /// A scalar subquery that yields JSON, as a text column of the outer query.
    pub fn column(&self, subquery: &str) -> String {
        match self.0 {
            Backend::Sqlite => format!("({subquery})"),
            Backend::Postgres => format!("({subquery})::text"),
        }
    }

    /// Runs `SELECT <agg> FROM ...` (one row, one JSON column) and decodes the value.
    pub async fn fetch<T: serde::de::DeserializeOwned>(
        &self,
        c: &mut Conn,
        select_agg: &str,
        rest: &str,
    ) -> sqlx::Result<T> {
        let cast = match self.0 {
            Backend::Sqlite => "",
            Backend::Postgres => "::text",
        };
        let text: String = sqlx::query_scalar(&format!("SELECT ({select_agg}){cast} {rest}"))
            .fetch_one(c)
            .await?;
        from_json(&text)
    }
}

/// Decodes a JSON text column.
pub fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> sqlx::Result<T> {
    serde_json::from_str(text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// Sorted labels of a table's rows (optionally filtered by `condition`), as one JSON value.
/// The subquery reads them in index order, so the sort here finds them (nearly) sorted.
pub async fn sorted_labels(
    c: &mut Conn,
    table: &str,
    condition: &str,
) -> sqlx::Result<Vec<String>> {
    let json = Json::of(c);
    let from = format!("FROM (SELECT label FROM {table} {condition} ORDER BY label) AS labels");
    let mut labels: Vec<String> = json.fetch(c, &json.agg("label"), &from).await?;
    labels.sort_unstable();
    Ok(labels)
}

/// Groups `(owner id, label)` rows by owner, keeping the rows' order within each group.
fn group_labels(pairs: Vec<(i64, String)>) -> std::collections::HashMap<i64, Vec<String>> {
    let mut groups: std::collections::HashMap<i64, Vec<String>> = std::collections::HashMap::new();
    for (id, label) in pairs {
        groups.entry(id).or_default().push(label);
    }
    groups
}
