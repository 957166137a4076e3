//! The double-entry ledger: accounts, transfers, entries. Balances are moved only by posting
//! entries (the schema's `ledger_post` trigger); a wallet that would go negative fails
//! `wallet_never_negative`; a transfer that does not sum to zero fails at commit.

use domain::market::ledger::{Account, Transfer, TransferKind};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// The pro's wallet account, opened on first use.
pub async fn wallet(conn: &mut PgConnection, pro_id: Uuid) -> Result<Uuid, sqlx::Error> {
    if let Some(id) = sqlx::query_scalar!("SELECT id FROM ledger_accounts WHERE pro_id = $1", pro_id)
        .fetch_optional(&mut *conn)
        .await?
    {
        return Ok(id);
    }
    sqlx::query!(
        "INSERT INTO ledger_accounts (id, kind, pro_id) VALUES ($1, 'wallet', $2) ON CONFLICT (pro_id) DO NOTHING",
        Uuid::now_v7(),
        pro_id
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query_scalar!("SELECT id FROM ledger_accounts WHERE pro_id = $1", pro_id).fetch_one(conn).await
}

async fn house(conn: &mut PgConnection, account: Account) -> Result<Uuid, sqlx::Error> {
    let kind = match account {
        Account::Payments => "payments",
        Account::Revenue => "revenue",
        Account::Credits => "credits",
        Account::Wallet => return Err(sqlx::Error::Protocol("a wallet is not a house account".into())),
    };
    // `kind <> 'wallet'` spelled out lets the prepared (generic) plan use the partial index
    // `ledger_house_accounts`; without it every claim scanned all wallets (bench/market).
    sqlx::query_scalar!(
        "SELECT id FROM ledger_accounts WHERE kind = $1::text::ledger_account_kind AND kind <> 'wallet'",
        kind
    )
    .fetch_one(conn)
    .await
}

/// Posts a transfer for one pro's wallet; returns the wallet's balance after it. A transfer for
/// the same `(kind, reference)` fails `ledger_transfers_once`.
pub async fn post(
    conn: &mut PgConnection,
    pro_id: Uuid,
    transfer: &Transfer,
    reference: &str,
    now: OffsetDateTime,
) -> Result<i64, sqlx::Error> {
    let wallet = wallet(conn, pro_id).await?;
    let transfer_id = Uuid::now_v7();
    sqlx::query!(
        "INSERT INTO ledger_transfers (id, kind, reference, created_at) VALUES ($1, $2, $3, $4)",
        transfer_id,
        transfer.kind as TransferKind,
        reference,
        now
    )
    .execute(&mut *conn)
    .await?;
    // Every account the transfer touches is locked before its entries are numbered, the wallet
    // first, then the house's accounts in one fixed order (no two transfers wait on each other in
    // a circle), so entry ids follow the order balances moved in and each running balance reads
    // straight down its account's entries.
    let mut postings = Vec::with_capacity(transfer.postings.len());
    for &(account, amount) in &transfer.postings {
        let account_id = if account == Account::Wallet { wallet } else { house(conn, account).await? };
        postings.push((account != Account::Wallet, account_id, account, amount));
    }
    postings.sort_by_key(|&(house, id, ..)| (house, id));
    let ids: Vec<Uuid> = postings.iter().map(|p| p.1).collect();
    sqlx::query!(
        "SELECT a.id FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n) JOIN LATERAL
           (SELECT id FROM ledger_accounts WHERE id = t.id FOR NO KEY UPDATE) a ON true ORDER BY t.n",
        &ids
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut balance = None;
    for (_, account_id, account, amount) in postings {
        let after = sqlx::query_scalar!(
            "INSERT INTO ledger_entries (transfer_id, account_id, amount_cents, balance_after_cents, created_at)
             VALUES ($1, $2, $3, 0, $4) RETURNING balance_after_cents",
            transfer_id,
            account_id,
            amount.0,
            now
        )
        .fetch_one(&mut *conn)
        .await?;
        if account == Account::Wallet {
            balance = Some(after);
        }
    }
    balance.ok_or_else(|| sqlx::Error::Protocol("a wallet transfer without a wallet posting".into()))
}

/// The wallet's balance with its account locked as a posting locks it: nothing moves it until the
/// transaction ends, so what is read can be paid out exactly.
pub async fn lock_balance(conn: &mut PgConnection, pro_id: Uuid) -> Result<i64, sqlx::Error> {
    let wallet = wallet(conn, pro_id).await?;
    sqlx::query_scalar!("SELECT balance_cents FROM ledger_accounts WHERE id = $1 FOR NO KEY UPDATE", wallet)
        .fetch_one(conn)
        .await
}

pub async fn balance(conn: &mut PgConnection, pro_id: Uuid) -> Result<i64, sqlx::Error> {
    Ok(sqlx::query_scalar!("SELECT balance_cents FROM ledger_accounts WHERE pro_id = $1", pro_id)
        .fetch_optional(conn)
        .await?
        .unwrap_or(0))
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: i64,
    pub kind: TransferKind,
    pub amount_cents: i64,
    pub balance_after_cents: i64,
    pub reference: String,
    pub created_at: OffsetDateTime,
}

/// A pro's wallet entries, newest first; `before`: the last id of the previous page.
pub async fn entries(
    conn: &mut PgConnection,
    pro_id: Uuid,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Entry>, sqlx::Error> {
    sqlx::query_as!(
        Entry,
        r#"SELECT e.id, t.kind AS "kind!: TransferKind", e.amount_cents, e.balance_after_cents, t.reference, e.created_at
           FROM ledger_entries e
           JOIN ledger_accounts a ON a.id = e.account_id
           JOIN ledger_transfers t ON t.id = e.transfer_id
           WHERE a.pro_id = $1 AND ($2::bigint IS NULL OR e.id < $2)
           ORDER BY e.id DESC
           LIMIT $3"#,
        pro_id,
        before,
        limit
    )
    .fetch_all(conn)
    .await
}

/// What `admin ledger-check` proves; every count is zero on a sound ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Check {
    pub transfers: i64,
    pub entries: i64,
    pub unbalanced_transfers: i64,
    pub negative_wallets: i64,
    /// Accounts whose balance is not the sum of their entries.
    pub drifted_balances: i64,
    /// Entries whose `balance_after` does not follow from the one before.
    pub broken_running_balances: i64,
    /// Purchases without their ledger transfer, or the other way round.
    pub unmatched_purchases: i64,
}

impl Check {
    pub fn sound(&self) -> bool {
        self.unbalanced_transfers == 0
            && self.negative_wallets == 0
            && self.drifted_balances == 0
            && self.broken_running_balances == 0
            && self.unmatched_purchases == 0
    }
}

pub async fn check(conn: &mut PgConnection) -> Result<Check, sqlx::Error> {
    let r = sqlx::query!(
        r#"SELECT
             (SELECT count(*) FROM ledger_transfers) AS "transfers!",
             (SELECT count(*) FROM ledger_entries) AS "entries!",
             (SELECT count(*) FROM (SELECT t.id FROM ledger_transfers t LEFT JOIN ledger_entries e ON e.transfer_id = t.id
                                    GROUP BY t.id HAVING coalesce(sum(e.amount_cents), 0) <> 0 OR count(e.id) < 2) x) AS "unbalanced!",
             (SELECT count(*) FROM ledger_accounts WHERE kind = 'wallet' AND balance_cents < 0) AS "negative!",
             (SELECT count(*) FROM ledger_accounts a
                WHERE a.balance_cents <> coalesce((SELECT sum(e.amount_cents) FROM ledger_entries e WHERE e.account_id = a.id), 0)) AS "drifted!",
             (SELECT count(*) FROM (SELECT balance_after_cents - amount_cents
                                             - coalesce(lag(balance_after_cents) OVER (PARTITION BY account_id ORDER BY id), 0) AS gap
                                    FROM ledger_entries) g WHERE gap <> 0) AS "broken!",
             (SELECT count(*) FROM purchases p FULL JOIN ledger_transfers t ON t.kind = 'purchase' AND t.reference = p.id::text
                WHERE p.id IS NULL AND t.kind = 'purchase' OR t.id IS NULL) AS "unmatched!""#
    )
    .fetch_one(conn)
    .await?;
    Ok(Check {
        transfers: r.transfers,
        entries: r.entries,
        unbalanced_transfers: r.unbalanced,
        negative_wallets: r.negative,
        drifted_balances: r.drifted,
        broken_running_balances: r.broken,
        unmatched_purchases: r.unmatched,
    })
}

/// One line of a monthly statement, its time in the pro's time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementLine {
    pub kind: TransferKind,
    pub amount_cents: i64,
    pub balance_after_cents: i64,
    pub reference: String,
    pub local_time: time::PrimitiveDateTime,
}

/// A calendar month of a pro's wallet in their own time zone: (time zone, opening balance,
/// lines oldest first). `start` and `end` are local midnights (the month's first day and the
/// next month's).
pub async fn month(
    conn: &mut PgConnection,
    pro_id: Uuid,
    start: time::PrimitiveDateTime,
    end: time::PrimitiveDateTime,
) -> Result<(String, i64, Vec<StatementLine>), sqlx::Error> {
    let tz: String =
        sqlx::query_scalar!(r#"SELECT coalesce(time_zone, 'UTC') AS "tz!" FROM pros WHERE user_id = $1"#, pro_id)
            .fetch_optional(&mut *conn)
            .await?
            .unwrap_or_else(|| "UTC".to_owned());
    let opening = sqlx::query_scalar!(
        "SELECT e.balance_after_cents FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
         WHERE a.pro_id = $1 AND e.created_at < ($2::timestamp AT TIME ZONE $3)
         ORDER BY e.id DESC LIMIT 1",
        pro_id,
        start,
        tz
    )
    .fetch_optional(&mut *conn)
    .await?
    .unwrap_or(0);
    let lines = sqlx::query_as!(
        StatementLine,
        r#"SELECT t.kind AS "kind!: TransferKind", e.amount_cents, e.balance_after_cents, t.reference,
                  (e.created_at AT TIME ZONE $4) AS "local_time!"
           FROM ledger_entries e
           JOIN ledger_accounts a ON a.id = e.account_id
           JOIN ledger_transfers t ON t.id = e.transfer_id
           WHERE a.pro_id = $1
             AND e.created_at >= ($2::timestamp AT TIME ZONE $4) AND e.created_at < ($3::timestamp AT TIME ZONE $4)
           ORDER BY e.id"#,
        pro_id,
        start,
        end,
        tz
    )
    .fetch_all(conn)
    .await?;
    Ok((tz, opening, lines))
}
