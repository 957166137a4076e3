//! History that cannot be rewritten (issue 10, item 10): the app's database role may append to
//! the audit log and the ledger and read them, nothing more — and the audit chain's head is kept
//! outside the database, so deleting the newest entries (which leaves a shorter, intact chain)
//! is still seen.

use testkit::{PRO_PASSWORD, TestApp};

type R = anyhow::Result<()>;

const EMAIL: &str = "jane@example.com";

/// The SQLSTATE of a refused statement, or "ok".
async fn outcome(pool: &sqlx::PgPool, sql: &str) -> String {
    match sqlx::query(sql).execute(pool).await {
        Ok(_) => "ok".into(),
        Err(sqlx::Error::Database(e)) => e.code().map(|c| c.into_owned()).unwrap_or_default(),
        Err(e) => format!("{e}"),
    }
}

#[tokio::test]
async fn the_apps_role_cannot_delete_the_newest_audit_entries_drop_their_trigger_or_rewrite_the_ledger() -> R {
    let app = TestApp::spawn().await?;
    app.signup_pro(EMAIL, "+16125550123").await?;
    app.api_login(EMAIL, PRO_PASSWORD).await?;
    // 42501: insufficient privilege (not the trigger's refusal, which the owner gets too).
    for sql in [
        "DELETE FROM identity.audit_log WHERE seq = (SELECT max(seq) FROM identity.audit_log)",
        "TRUNCATE identity.audit_log",
        "UPDATE identity.audit_log SET ip = NULL",
        "DROP TRIGGER audit_log_append_only ON identity.audit_log",
        "ALTER TABLE identity.audit_log DISABLE TRIGGER audit_log_append_only",
        "DROP TABLE identity.audit_log",
        "DELETE FROM ledger_entries",
        "UPDATE ledger_transfers SET reference = 'x'",
        "ALTER TABLE ledger_entries DISABLE TRIGGER USER",
        "DELETE FROM _sqlx_migrations",
        "CREATE TABLE public.shadow (seq bigint)",
    ] {
        assert_eq!(outcome(&app.pool, sql).await, "42501", "{sql}");
    }
    let guard = store::db::history_guard(&app.pool).await?;
    assert!(guard.holds(), "{guard:?}");

    // The schema's owner (a single-role deployment's app) could: the same test against it fails.
    let owner = app.owner_pool().await?;
    let mut tx = owner.begin().await?;
    sqlx::query("DROP TRIGGER audit_log_append_only ON identity.audit_log").execute(&mut *tx).await?;
    let deleted = sqlx::query("DELETE FROM identity.audit_log WHERE seq = 2").execute(&mut *tx).await?;
    assert_eq!(deleted.rows_affected(), 1);
    tx.rollback().await?;
    assert!(!store::db::history_guard(&owner).await?.holds());

    // What the app does every day still works under these grants: a new entry is appended.
    app.api_login(EMAIL, PRO_PASSWORD).await?;
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM identity.audit_log").fetch_one(&app.pool).await?;
    assert_eq!(rows, 3);
    Ok(())
}

#[tokio::test]
async fn the_head_goes_to_metrics_and_a_deleted_newest_entry_is_caught_against_it() -> R {
    let app = TestApp::spawn().await?;
    app.signup_pro(EMAIL, "+16125550123").await?;
    for _ in 0..3 {
        app.api_login(EMAIL, PRO_PASSWORD).await?;
    }
    let metrics = app.get("/metrics").send().await?.text().await?;
    assert!(metrics.lines().any(|l| l == "audit_log_head_seq 4"), "{metrics}");
    let head = services::audit::publish_head(&app.state.ctx).await?.ok_or_else(|| anyhow::anyhow!("no head"))?;
    assert_eq!((head.seq, head.to_string().parse::<services::audit::Head>()), (4, Ok(head.clone())));

    let owner = app.owner_pool().await?;
    sqlx::query("ALTER TABLE identity.audit_log DISABLE TRIGGER audit_log_append_only").execute(&owner).await?;
    sqlx::query("DELETE FROM identity.audit_log WHERE seq = 4").execute(&owner).await?;
    let mut conn = app.pool.acquire().await?;
    let verdict = store::audit::verify(&mut conn, &services::audit::keys(&app.state)).await?;
    assert_eq!(verdict, store::audit::Verdict::Intact { rows: 3 }, "the chain alone cannot tell");
    let why = services::audit::reaches(&mut conn, &head).await?;
    assert_eq!(why.as_deref(), Some("entry 4 was logged as the head but is gone: the newest entries were deleted"));
    // Monitoring sees the head go back (deploy/monitoring: AuditLogHeadWentBack).
    let metrics = app.get("/metrics").send().await?.text().await?;
    assert!(metrics.lines().any(|l| l == "audit_log_head_seq 3"), "{metrics}");
    Ok(())
}
