//! The append-only, tamper-evident audit log. Each row carries an HMAC-SHA256 (keyed by the
//! deployment's secret) over its own contents and the previous row's hash: changing a row,
//! deleting one, or re-ordering them breaks the chain, and without the key nobody can mend it.
//! Rows are numbered 1, 2, 3… under a transaction-scoped lock, so the chain never forks.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// Arbitrary fixed key for the append lock ("PLAU").
const APPEND_LOCK: i64 = 0x504c_4155;
/// The hash the first row links to.
const GENESIS: [u8; 32] = [0; 32];

#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub actor_id: Option<Uuid>,
    pub action: &'a str,
    pub subject_id: Option<Uuid>,
    pub ip: Option<&'a str>,
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone)]
pub struct Row {
    pub seq: i64,
    pub at: OffsetDateTime,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub subject_id: Option<Uuid>,
    pub ip: Option<String>,
    pub detail: String,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Intact {
        rows: i64,
    },
    /// The first row at which the chain no longer holds, and why.
    Broken {
        seq: i64,
        why: String,
    },
}

/// What a row's hash covers.
#[derive(Clone, Copy)]
struct Fields<'a> {
    seq: i64,
    at: OffsetDateTime,
    actor: Option<Uuid>,
    action: &'a str,
    subject: Option<Uuid>,
    ip: Option<&'a str>,
    detail: &'a str,
}

/// Every field, length-prefixed so no two different rows can produce the same input.
fn row_hash(key: &[u8], prev: &[u8], f: &Fields<'_>) -> Vec<u8> {
    let Fields { seq, at, actor, action, subject, ip, detail } = *f;
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(m) => m,
        // HMAC takes keys of any length.
        Err(_) => return Vec::new(),
    };
    let mut field = |bytes: &[u8]| {
        mac.update(&(bytes.len() as u64).to_be_bytes());
        mac.update(bytes);
    };
    field(prev);
    field(&seq.to_be_bytes());
    field(&(at.unix_timestamp_nanos() / 1_000).to_be_bytes());
    field(actor.as_ref().map_or(&[][..], |u| u.as_bytes()));
    field(action.as_bytes());
    field(subject.as_ref().map_or(&[][..], |u| u.as_bytes()));
    field(ip.unwrap_or("").as_bytes());
    field(detail.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// PostgreSQL keeps microseconds; the hash must cover exactly what is stored.
fn to_micros(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(at.nanosecond() / 1_000 * 1_000).unwrap_or(at)
}

/// Appends one entry. Must run inside a transaction (the lock is held until it ends), which is
/// also what makes the entry commit or roll back with the deed it records. Returns its number.
pub async fn append(
    conn: &mut PgConnection,
    key: &[u8],
    now: OffsetDateTime,
    e: &Entry<'_>,
) -> Result<i64, sqlx::Error> {
    sqlx::query!("SELECT pg_advisory_xact_lock($1)", APPEND_LOCK).execute(&mut *conn).await?;
    let last = sqlx::query!("SELECT seq, hash FROM identity.audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await?;
    let (seq, prev) = match last {
        Some(r) => (r.seq + 1, r.hash),
        None => (1, GENESIS.to_vec()),
    };
    let at = to_micros(now);
    let detail = crate::json::storable(e.detail.clone()).to_string();
    let fields =
        Fields { seq, at, actor: e.actor_id, action: e.action, subject: e.subject_id, ip: e.ip, detail: &detail };
    let hash = row_hash(key, &prev, &fields);
    sqlx::query!(
        "INSERT INTO identity.audit_log (seq, at, actor_id, action, subject_id, ip, detail, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        seq,
        at,
        e.actor_id,
        e.action,
        e.subject_id,
        e.ip,
        detail,
        prev,
        hash
    )
    .execute(conn)
    .await?;
    Ok(seq)
}

/// The newest entry's number and hash: the chain's head, which the log stream and monitoring
/// keep outside the database (deleting the newest entries leaves an intact but shorter chain).
pub async fn head(conn: &mut PgConnection) -> Result<Option<(i64, Vec<u8>)>, sqlx::Error> {
    let row =
        sqlx::query!("SELECT seq, hash FROM identity.audit_log ORDER BY seq DESC LIMIT 1").fetch_optional(conn).await?;
    Ok(row.map(|r| (r.seq, r.hash)))
}

/// The hash stored for entry `seq`, if there is one.
pub async fn hash_of(conn: &mut PgConnection, seq: i64) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar!("SELECT hash FROM identity.audit_log WHERE seq = $1", seq).fetch_optional(conn).await
}

/// Newest first.
pub async fn recent(conn: &mut PgConnection, limit: i64) -> Result<Vec<Row>, sqlx::Error> {
    sqlx::query_as!(
        Row,
        "SELECT seq, at, actor_id, action, subject_id, ip, detail, prev_hash, hash
         FROM identity.audit_log ORDER BY seq DESC LIMIT $1",
        limit
    )
    .fetch_all(conn)
    .await
}

/// A recent entry as the back office lists it: with the name and e-mail of who did it (none
/// for the system or an operator's command).
#[derive(Debug, Clone)]
pub struct Listed {
    pub seq: i64,
    pub at: OffsetDateTime,
    pub action: String,
    pub actor: Option<String>,
    pub ip: Option<String>,
}

pub async fn recent_listed(conn: &mut PgConnection, limit: i64) -> Result<Vec<Listed>, sqlx::Error> {
    sqlx::query_as!(
        Listed,
        r#"SELECT a.seq, a.at, a.action, u.name || ' (' || u.email || ')' AS actor, a.ip
           FROM identity.audit_log a LEFT JOIN identity.users u ON u.id = a.actor_id
           ORDER BY a.seq DESC LIMIT $1"#,
        limit
    )
    .fetch_all(conn)
    .await
}

/// Walks the whole chain from the first row. A deleted last row cannot be seen from the chain
/// alone; `Intact { rows }` says how many there are, to compare with a count kept elsewhere.
/// `keys`: every key a row may have been written with (the current one, and the previous one
/// after a rotation of the secret key).
pub async fn verify(conn: &mut PgConnection, keys: &[Vec<u8>]) -> Result<Verdict, sqlx::Error> {
    use futures::TryStreamExt;
    let mut rows = sqlx::query_as!(
        Row,
        "SELECT seq, at, actor_id, action, subject_id, ip, detail, prev_hash, hash
         FROM identity.audit_log ORDER BY seq"
    )
    .fetch(conn);
    let mut expected_seq = 1_i64;
    let mut prev = GENESIS.to_vec();
    while let Some(r) = rows.try_next().await? {
        if r.seq != expected_seq {
            return Ok(Verdict::Broken { seq: expected_seq, why: format!("row {expected_seq} is missing") });
        }
        if r.prev_hash != prev {
            return Ok(Verdict::Broken { seq: r.seq, why: "it does not link to the row before it".into() });
        }
        let fields = Fields {
            seq: r.seq,
            at: r.at,
            actor: r.actor_id,
            action: &r.action,
            subject: r.subject_id,
            ip: r.ip.as_deref(),
            detail: &r.detail,
        };
        if !keys.iter().any(|key| row_hash(key, &prev, &fields) == r.hash) {
            return Ok(Verdict::Broken { seq: r.seq, why: "its contents were changed after it was written".into() });
        }
        prev = r.hash;
        expected_seq += 1;
    }
    Ok(Verdict::Intact { rows: expected_seq - 1 })
}
