//! Everything kept about one plumber, as they get it in a copy of their data (GDPR/CCPA
//! access): account, business profile and hours, purchases (the jobs, not the homeowners' own
//! details, which are theirs), wallet entries and top-ups, disputes, devices signed in and the
//! audit entries about them. Secrets (password hash, session hashes, TOTP) are never included.

use sqlx::PgConnection;

/// `None` when `email` is no plumber's account.
pub async fn export(conn: &mut PgConnection, email: &str) -> Result<Option<serde_json::Value>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT json_build_object(
             'account', json_build_object('id', u.id, 'name', u.name, 'email', u.email, 'phone', u.phone,
                 'created_at', u.created_at, 'email_verified_at', u.email_verified_at,
                 'phone_verified_at', u.phone_verified_at, 'password_changed_at', u.password_changed_at),
             'profile', (SELECT to_jsonb(p) - 'user_id' FROM pros p WHERE p.user_id = u.id),
             'hours', (SELECT coalesce(json_agg(h ORDER BY h.weekday), '[]') FROM
                        (SELECT weekday, opens, closes FROM pro_hours WHERE pro_id = u.id) h),
             'purchases', (SELECT coalesce(json_agg(x ORDER BY x.purchased_at), '[]') FROM
                        (SELECT pu.id, pu.lead_id, l.category, l.zip, l.urgency, pu.price_cents, pu.status,
                                pu.purchased_at, pu.quote_cents, pu.job_value_cents, pu.lost_reason
                         FROM purchases pu JOIN leads l ON l.id = pu.lead_id WHERE pu.pro_id = u.id) x),
             'wallet', (SELECT coalesce(json_agg(e ORDER BY e.id), '[]') FROM
                        (SELECT le.id, t.kind, t.reference, le.amount_cents, le.balance_after_cents, le.created_at
                         FROM ledger_entries le JOIN ledger_accounts a ON a.id = le.account_id
                         JOIN ledger_transfers t ON t.id = le.transfer_id WHERE a.pro_id = u.id) e),
             'top_ups', (SELECT coalesce(json_agg(t ORDER BY t.created_at), '[]') FROM
                        (SELECT id, amount_cents, status, created_at, completed_at FROM wallet_top_ups
                         WHERE pro_id = u.id) t),
             'disputes', (SELECT coalesce(json_agg(d ORDER BY d.created_at), '[]') FROM
                        (SELECT d.id, d.purchase_id, d.reason, d.note, d.status, d.credit_cents, d.created_at,
                                d.decided_at
                         FROM disputes d JOIN purchases pu ON pu.id = d.purchase_id WHERE pu.pro_id = u.id) d),
             'devices', (SELECT coalesce(json_agg(s ORDER BY s.created_at), '[]') FROM
                        (SELECT id, kind, created_at, last_seen_at, ended_at, ended_reason, ip, user_agent
                         FROM identity.sessions WHERE user_id = u.id) s),
             'audit', (SELECT coalesce(json_agg(a ORDER BY a.seq), '[]') FROM
                        (SELECT seq, at, action, ip, actor_id = u.id AS by_them FROM identity.audit_log
                         WHERE subject_id = u.id OR actor_id = u.id) a)
           ) AS "copy!: serde_json::Value"
           FROM identity.users u JOIN pros p ON p.user_id = u.id
           WHERE lower(u.email) = lower($1)"#,
        email
    )
    .fetch_optional(conn)
    .await
}
