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
                            // on power loss, the usual choice for WAL.
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
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
        Ok(db)
    }

    async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self.engine {
            Engine::Sqlite => sqlx::migrate!("migrations/sqlite").run(&self.pool).await,
            Engine::Postgres => sqlx::migrate!("migrations/postgres").run(&self.pool).await,
        }
    }

    pub async fn begin(&self) -> Result<Transaction, sqlx::Error> {
        self.pool.begin().await
    }
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
