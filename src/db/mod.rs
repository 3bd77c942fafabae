//! The database: one connection pool over SQLite (embedded, the default) or PostgreSQL, chosen
//! from the URL scheme, and the migrations for each. This is the only module that knows the two
//! engines differ; stores write portable SQL (`$1` placeholders work on both) and ask
//! [`Db::engine`] where they must not.

use std::path::Path;
use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

pub type Transaction = sqlx::Transaction<'static, sqlx::Any>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub engine: Engine,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("unsupported database URL {0:?}: use sqlite://… or postgres://…")]
    UnsupportedUrl(String),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// The URL of the embedded database inside a data directory.
pub fn sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("yijia.db").display())
}

impl Db {
    /// Connects and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Db, ConnectError> {
        sqlx::any::install_default_drivers();
        let engine = if url.starts_with("sqlite:") {
            Engine::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Engine::Postgres
        } else {
            return Err(ConnectError::UnsupportedUrl(url.to_owned()));
        };
        let options = AnyConnectOptions::from_str(url)?.disable_statement_logging();
        let pool = match engine {
            Engine::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(8)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            // WAL lets readers run beside the one writer; NORMAL is durable
                            // across application crashes and loses at most the last commits
                            // on power loss, the usual choice for WAL. A 64 MiB page cache per
                            // connection keeps large transactions (the county demo load, group
                            // commits of audit entries) from spilling pages to the WAL early.
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                                 PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 0;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Engine::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .connect_with(options)
                    .await?
            }
        };
        let db = Db { pool, engine };
        db.migrate().await?;
        if engine == Engine::Sqlite {
            tokio::spawn(checkpoint_wal(db.pool.clone()));
        }
        Ok(db)
    }

    async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self.engine {
            Engine::Sqlite => sqlx::migrate!("migrations/sqlite").run(&self.pool).await,
            Engine::Postgres => sqlx::migrate!("migrations/postgres").run(&self.pool).await,
        }
    }

    /// The SQL aggregate of the distinct values of `column`, joined by commas.
    pub fn distinct_list(&self, column: &str) -> String {
        match self.engine {
            Engine::Sqlite => format!("group_concat(DISTINCT {column})"),
            Engine::Postgres => format!("string_agg(DISTINCT {column}, ',')"),
        }
    }

    /// A transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`): a
    /// transaction that read first and wrote later would fail with SQLITE_BUSY_SNAPSHOT, not
    /// wait, whenever another connection committed in between.
    pub async fn begin(&self) -> Result<Transaction, sqlx::Error> {
        match self.engine {
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Engine::Postgres => self.pool.begin().await,
        }
    }
}

/// Copies the SQLite write-ahead log back into the database file every half second, off the
/// request path. Automatic checkpoints are off because they run inside whichever commit crosses
/// the threshold, and their fsync made that request (often an audit group commit that many
/// readers wait for) the slowest of all.
async fn checkpoint_wal(pool: AnyPool) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            tracing::warn!(%error, "WAL checkpoint failed");
        }
    }
}

/// `LIMIT … OFFSET …` with the numbers written into the SQL. They are not bound as parameters:
/// SQLite (3.47 and later) reads a bound LIMIT while planning and then re-prepares the statement
/// on every execution, which made lookups several times slower.
pub fn limit_clause(limit: i64, offset: i64) -> String {
    format!("LIMIT {} OFFSET {}", limit.max(0), offset.max(0))
}

/// True when a database error is the violation of the named unique constraint (or, on SQLite,
/// which does not report constraint names, of a unique index over `columns`).
pub fn is_unique_violation(error: &sqlx::Error, constraint: &str, columns: &str) -> bool {
    let sqlx::Error::Database(db_error) = error else {
        return false;
    };
    if !matches!(db_error.kind(), sqlx::error::ErrorKind::UniqueViolation) {
        return false;
    }
    match db_error.constraint() {
        Some(name) => name == constraint,
        None => db_error.message().contains(columns),
    }
}
