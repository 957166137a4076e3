//! Failed logins, counted per account (the resolved account, or an unknown address as normalised)
//! and per client address.

use sqlx::PgConnection;
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recent {
    pub count: i64,
    pub oldest: Option<OffsetDateTime>,
    pub latest: Option<OffsetDateTime>,
}

pub async fn for_account(conn: &mut PgConnection, account: &str, since: OffsetDateTime) -> Result<Recent, sqlx::Error> {
    let r = sqlx::query!(
        r#"SELECT count(*) AS "count!", min(failed_at) AS oldest, max(failed_at) AS latest
           FROM identity.login_failures WHERE account = $1 AND failed_at > $2"#,
        account,
        since
    )
    .fetch_one(conn)
    .await?;
    Ok(Recent { count: r.count, oldest: r.oldest, latest: r.latest })
}

pub async fn for_ip(conn: &mut PgConnection, ip: &str, since: OffsetDateTime) -> Result<Recent, sqlx::Error> {
    let r = sqlx::query!(
        r#"SELECT count(*) AS "count!", min(failed_at) AS oldest, max(failed_at) AS latest
           FROM identity.login_failures WHERE ip = $1 AND failed_at > $2"#,
        ip,
        since
    )
    .fetch_one(conn)
    .await?;
    Ok(Recent { count: r.count, oldest: r.oldest, latest: r.latest })
}

/// Serialises sign-in attempts on one account and one client address until the transaction ends,
/// so the count read under the lock is the count the attempt is judged by. Always account first,
/// then address: no two attempts wait on each other in a circle.
pub async fn lock(conn: &mut PgConnection, account: &str, ip: &str) -> Result<(), sqlx::Error> {
    for key in [format!("login:account:{account}"), format!("login:ip:{ip}")] {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))").bind(key).execute(&mut *conn).await?;
    }
    Ok(())
}

pub async fn record(conn: &mut PgConnection, account: &str, ip: &str, now: OffsetDateTime) -> Result<(), sqlx::Error> {
    sqlx::query!("INSERT INTO identity.login_failures (account, ip, failed_at) VALUES ($1, $2, $3)", account, ip, now)
        .execute(conn)
        .await?;
    Ok(())
}

/// After a successful login the account's slate is clean (its address's is not).
pub async fn clear_account(conn: &mut PgConnection, account: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM identity.login_failures WHERE account = $1", account).execute(conn).await?;
    Ok(())
}

pub async fn prune(conn: &mut PgConnection, before: OffsetDateTime) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!("DELETE FROM identity.login_failures WHERE failed_at < $1", before).execute(conn).await?;
    Ok(done.rows_affected())
}
