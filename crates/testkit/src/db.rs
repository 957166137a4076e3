//! A fresh database per test, copied from a template that is migrated and loaded with reference
//! data once per schema version (a copy takes milliseconds; loading 42,000 ZIPs does not).
//!
//! `TEST_DATABASE_URL` names the server and a database to administer from
//! (default `postgres://localhost/postgres`). Its role owns the schema (it migrates, as
//! `DATABASE_MIGRATION_URL` would); the app logs in as `plumberleads_test_app`, a member of the
//! migrations' `plumberleads_app`, as production does — so every test also shows the app needs
//! no more than those grants.

use anyhow::Context;
use secrecy::SecretString;
use sqlx::{Connection, PgConnection};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Arbitrary fixed key: only one process builds the template at a time.
const TEMPLATE_LOCK: i64 = 0x504c_5450; // "PLTP"
/// Test databases older than this are left-overs of killed runs and are dropped.
const STALE_AFTER: Duration = Duration::from_secs(3 * 3600);
const PREFIX: &str = "plt_";
/// The login role the app uses in tests (trust authentication, no password).
pub const APP_ROLE: &str = "plumberleads_test_app";

pub struct TestDatabase {
    pub name: String,
    /// As the app: a member of `plumberleads_app`.
    pub url: String,
    /// As the schema owner: for what only migrations may do (a test that tampers, DDL).
    pub owner_url: String,
    admin_url: String,
}

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://localhost/postgres".to_owned())
}

fn url_for(admin: &str, db: &str) -> anyhow::Result<String> {
    let mut u = url::Url::parse(admin).context("TEST_DATABASE_URL is not a URL")?;
    u.set_path(db);
    Ok(u.to_string())
}

fn app_url_for(admin: &str, db: &str) -> anyhow::Result<String> {
    let mut u = url::Url::parse(&url_for(admin, db)?)?;
    u.set_username(APP_ROLE).map_err(|()| anyhow::anyhow!("TEST_DATABASE_URL cannot name a user"))?;
    u.set_password(None).map_err(|()| anyhow::anyhow!("TEST_DATABASE_URL cannot drop its password"))?;
    Ok(u.to_string())
}

/// The app's login role, once per server (roles are cluster-wide; other runs may race to make it).
async fn ensure_app_role(admin: &mut PgConnection) -> anyhow::Result<()> {
    sqlx::query(&format!(
        "DO $$ BEGIN
             IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                 CREATE ROLE {APP_ROLE} LOGIN IN ROLE plumberleads_app;
             END IF;
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
         END $$"
    ))
    .execute(admin)
    .await?;
    Ok(())
}

/// Names the template after the migrations it contains, so a new migration makes a new one.
fn template_name() -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for m in store::db::MIGRATOR.iter() {
        m.version.hash(&mut h);
        m.checksum.hash(&mut h);
    }
    format!("plumberleads_tpl_{:016x}", h.finish())
}

async fn exists(conn: &mut PgConnection, name: &str) -> anyhow::Result<bool> {
    Ok(sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(conn)
        .await?)
}

async fn ensure_template(admin: &mut PgConnection, admin_url: &str) -> anyhow::Result<String> {
    let tpl = template_name();
    sqlx::query("SELECT pg_advisory_lock($1)").bind(TEMPLATE_LOCK).execute(&mut *admin).await?;
    let result = async {
        if exists(admin, &tpl).await? {
            return Ok(());
        }
        let building = format!("{tpl}_building");
        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)")).execute(&mut *admin).await?;
        sqlx::query(&format!("CREATE DATABASE \"{building}\"")).execute(&mut *admin).await?;
        let settings = settings::Database {
            url: SecretString::from(url_for(admin_url, &building)?),
            min_connections: 0,
            max_connections: 2,
            connect_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            migration_url: None,
        };
        let pool = store::connect(&settings).await?;
        store::migrate(&pool).await?;
        store::zips::ensure_loaded(&pool).await?;
        pool.close().await;
        sqlx::query(&format!("ALTER DATABASE \"{building}\" RENAME TO \"{tpl}\"")).execute(&mut *admin).await?;
        drop_stale(admin, &tpl).await;
        anyhow::Ok(())
    }
    .await;
    let result = match result {
        Ok(()) => ensure_app_role(admin).await,
        Err(e) => Err(e),
    };
    sqlx::query("SELECT pg_advisory_unlock($1)").bind(TEMPLATE_LOCK).execute(&mut *admin).await?;
    result.map(|()| tpl)
}

/// Old templates and test databases left by killed runs. Best effort.
async fn drop_stale(admin: &mut PgConnection, current_tpl: &str) {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname LIKE 'plumberleads_tpl_%' OR datname LIKE 'plt\\_%'",
    )
    .fetch_all(&mut *admin)
    .await
    .unwrap_or_default();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    for name in names {
        let stale =
            match name.strip_prefix(PREFIX).and_then(|rest| rest.split('_').next()).and_then(|s| s.parse::<u64>().ok())
            {
                Some(created) => now.saturating_sub(created) > STALE_AFTER.as_secs(),
                None => name != current_tpl && !name.ends_with("_building"),
            };
        if stale {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut *admin).await;
        }
    }
}

impl TestDatabase {
    pub async fn create() -> anyhow::Result<Self> {
        let admin_url = admin_url();
        let mut admin = PgConnection::connect(&admin_url).await.context("connecting to TEST_DATABASE_URL")?;
        let tpl = ensure_template(&mut admin, &admin_url).await?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let name = format!("{PREFIX}{now}_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        sqlx::query(&format!("CREATE DATABASE \"{name}\" TEMPLATE \"{tpl}\"")).execute(&mut admin).await?;
        admin.close().await?;
        let url = app_url_for(&admin_url, &name)?;
        let owner_url = url_for(&admin_url, &name)?;
        Ok(Self { name, url, owner_url, admin_url })
    }
}

impl Drop for TestDatabase {
    /// Drops the database on a helper thread (Drop cannot await), closing any connections left.
    fn drop(&mut self) {
        let (name, admin_url) = (self.name.clone(), self.admin_url.clone());
        let dropper = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            rt.block_on(async {
                if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .execute(&mut admin)
                        .await;
                }
            });
        });
        let _ = dropper.join();
    }
}
