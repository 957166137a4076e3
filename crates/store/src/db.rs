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
pub async fn ensure_database(url: &str) -> Result<(), DbError> {
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

/// Everything `serve` and `migrate` do before the first request: database, schema, reference
/// data — as the schema owner (`DATABASE_MIGRATION_URL`) when one is set — then the app's pool.
pub async fn prepare(settings: &Database) -> Result<PgPool, DbError> {
    let Some(owner_url) = &settings.migration_url else {
        ensure_database(settings.url.expose_secret()).await?;
        let pool = connect(settings).await?;
        migrate(&pool).await?;
        crate::zips::ensure_loaded(&pool).await.map_err(DbError::Reference)?;
        return Ok(pool);
    };
    ensure_database(owner_url.expose_secret()).await?;
    let owner = Database { url: owner_url.clone(), min_connections: 0, max_connections: 2, ..settings.clone() };
    let owner = connect(&owner).await?;
    migrate(&owner).await?;
    crate::zips::ensure_loaded(&owner).await.map_err(DbError::Reference)?;
    owner.close().await;
    connect(settings).await
}

/// What the app's own database role may do to the audit log (and, by the same grants, the
/// ledger): a role that owns the table can drop its append-only trigger, and one with UPDATE,
/// DELETE or TRUNCATE could remove the newest entries unnoticed by the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryGuard {
    pub owns_audit_log: bool,
    pub can_rewrite_audit_log: bool,
}

impl HistoryGuard {
    pub fn holds(self) -> bool {
        !self.owns_audit_log && !self.can_rewrite_audit_log
    }
}

pub async fn history_guard(pool: &PgPool) -> Result<HistoryGuard, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT pg_has_role(current_user, c.relowner, 'USAGE') AS "owns!",
                  has_table_privilege('identity.audit_log', 'UPDATE')
                  OR has_table_privilege('identity.audit_log', 'DELETE')
                  OR has_table_privilege('identity.audit_log', 'TRUNCATE') AS "rewrites!"
           FROM pg_class c WHERE c.oid = 'identity.audit_log'::regclass"#
    )
    .fetch_one(pool)
    .await?;
    Ok(HistoryGuard { owns_audit_log: row.owns, can_rewrite_audit_log: row.rewrites })
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
