//! Pool, database creation and migrations.

use secrecy::ExposeSecret;
use settings::Database;
use sqlx::migrate::{MigrateDatabase, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres};
use std::str::FromStr;
use std::time::Duration;

pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("could not reach PostgreSQL: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("could not create the database: {0}")]
    Create(#[source] sqlx::Error),
    #[error("migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("loading reference data failed: {0}")]
    Reference(#[source] sqlx::Error),
}

/// Creates the database named in the URL when it does not exist yet (dev and first deploys).
pub async fn ensure_database(settings: &Database) -> Result<(), DbError> {
    let url = settings.url.expose_secret();
    if !Postgres::database_exists(url).await.map_err(DbError::Connect)? {
        match Postgres::create_database(url).await {
            Ok(()) => tracing::info!("created the database"),
            // Another node created it between our check and our create.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
            Err(e) => return Err(DbError::Create(e)),
        }
    }
    Ok(())
}

/// How long a pooled connection may sit unused before it is pinged again before use.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// The application pool, sized and timed by the seed's connection-management numbers.
pub async fn connect(settings: &Database) -> Result<PgPool, DbError> {
    let options = PgConnectOptions::from_str(settings.url.expose_secret())
        .map_err(DbError::Connect)?
        .application_name("plumberleads");
    PgPoolOptions::new()
        .min_connections(settings.min_connections)
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.connect_timeout)
        .idle_timeout(settings.idle_timeout)
        // sqlx pings every connection when it comes back to the pool; pinging it again on the
        // way out costs each checkout a second round trip. Only a connection that has sat idle
        // (where the server may have gone away meanwhile) is pinged before use; a failed ping
        // discards it and the pool hands out another.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_AFTER_IDLE {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .connect_with(options)
        .await
        .map_err(DbError::Connect)
}

/// Applies pending migrations; safe to run from many nodes at once (sqlx takes an advisory lock).
pub async fn migrate(pool: &PgPool) -> Result<(), DbError> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// Everything `serve` and `migrate` do before the first request: database, schema, reference data.
pub async fn prepare(settings: &Database) -> Result<PgPool, DbError> {
    ensure_database(settings).await?;
    let pool = connect(settings).await?;
    migrate(&pool).await?;
    crate::zips::ensure_loaded(&pool).await.map_err(DbError::Reference)?;
    Ok(pool)
}

/// One round trip, bounded: the health check's view of the database.
pub async fn ping(pool: &PgPool, within: Duration) -> Result<(), String> {
    let once = || async {
        let mut conn = pool.acquire().await?;
        sqlx::query_scalar!("SELECT 1 AS \"one!\"").fetch_one(&mut *conn).await
    };
    // A connection used in the last second is not pinged before use (see `connect`), so right
    // after an outage one may still be broken: it is discarded, and a second try says whether
    // the database itself answers.
    let check = async {
        match once().await {
            Err(sqlx::Error::Io(_)) => once().await,
            other => other,
        }
    };
    match tokio::time::timeout(within, check).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(describe(&e)),
        Err(_) => Err("timed out".to_owned()),
    }
}

/// A short cause for the health body: the kind of failure, not the server's message.
fn describe(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::PoolTimedOut => "no connection available".into(),
        sqlx::Error::Io(_) => "unreachable".into(),
        sqlx::Error::Database(_) => "query failed".into(),
        _ => "unavailable".into(),
    }
}
