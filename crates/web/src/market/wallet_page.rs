//! `/pro/wallet`: every movement of the wallet, newest first, signed from the pro's side with
//! the balance after it, a page at a time; and `/pro/wallet/statements/{YYYY-MM}` (`.csv` for a
//! spreadsheet): a calendar month in the pro's own time zone, opening and closing balance.

use crate::AppState;
use crate::auth::sessions::ProPage;
use crate::html::{Chrome, Moment, html};
use crate::problem::ApiError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::Cents;
use domain::market::ledger::TransferKind;
use serde::Deserialize;
use services::market::{self, Page};

/// Entries per page.
const PER_PAGE: i64 = 50;

struct Line {
    when: String,
    /// The instant, when `when` is in UTC (the running statement): the reader's device shows
    /// it in their zone. A month's statement is already in the pro's own zone.
    when_iso: Option<String>,
    what: &'static str,
    amount: String,
    credit: bool,
    balance_after: String,
}

impl Line {
    /// One movement as both statements show it: signed from the pro's side, balance after.
    fn new(when: String, kind: TransferKind, amount_cents: i64, balance_after_cents: i64) -> Self {
        Line {
            when,
            when_iso: None,
            what: what(kind),
            amount: signed(amount_cents),
            credit: amount_cents > 0,
            balance_after: Cents(balance_after_cents).to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "wallet.html")]
struct Statement<'a> {
    chrome: Chrome<'a>,
    balance: String,
    lines: Vec<Line>,
    /// The next (older) page's cursor.
    older: Option<String>,
    first_page: bool,
    /// (YYYY-MM, "December 2026"): this month and the eleven before it.
    months: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "wallet_month.html")]
struct MonthPage<'a> {
    chrome: Chrome<'a>,
    title: String,
    key: String,
    time_zone: String,
    opening: String,
    closing: String,
    lines: Vec<Line>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StatementQuery {
    before: String,
}

fn what(kind: TransferKind) -> &'static str {
    match kind {
        TransferKind::TopUp => "Money added",
        TransferKind::Purchase => "Lead bought",
        TransferKind::Credit => "Dispute credited",
        TransferKind::Refund => "Refund",
        TransferKind::Adjustment => "Adjustment",
    }
}

fn signed(c: i64) -> String {
    if c > 0 { format!("+{}", Cents(c)) } else { Cents(c).to_string() }
}

pub async fn show(State(state): State<AppState>, ProPage(s): ProPage, Query(q): Query<StatementQuery>) -> Response {
    let cursor = Some(q.before.as_str()).filter(|c| !c.is_empty());
    let read = async {
        let balance = market::wallet::balance(&state, s.user.id).await?;
        let page = market::wallet::entries(&state, s.user.id, cursor, Some(PER_PAGE)).await?;
        Ok::<_, services::ServiceError>((balance, page))
    };
    let (balance, Page { items, next_cursor }) = match read.await {
        Ok(x) => x,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let lines = items
        .into_iter()
        .map(|e| {
            let at = Moment::new(e.created_at);
            let line = Line::new(at.to_string(), e.kind, e.amount_cents, e.balance_after_cents);
            Line { when_iso: Some(at.iso), ..line }
        })
        .collect();
    let page = Statement {
        chrome: Chrome::signed_in(&state, &s),
        balance: balance.to_string(),
        lines,
        older: next_cursor,
        first_page: cursor.is_none(),
        months: recent_months(state.clock.now().date()),
    };
    html(&page, StatusCode::OK)
}

fn month_name(year: i32, month: time::Month) -> String {
    format!("{month} {year}")
}

fn recent_months(today: time::Date) -> Vec<(String, String)> {
    let (mut year, mut month) = (today.year(), today.month());
    let mut out = Vec::new();
    for _ in 0..12 {
        out.push((format!("{year:04}-{:02}", u8::from(month)), month_name(year, month)));
        if month == time::Month::January {
            year -= 1;
        }
        month = month.previous();
    }
    out
}

/// "2026-11" → (2026, November); anything else is not a month we have.
fn parse_month(s: &str) -> Option<(i32, time::Month)> {
    let (y, m) = s.split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Some((y.parse().ok().filter(|y| (2000..=9999).contains(y))?, month))
}

pub async fn month(State(state): State<AppState>, ProPage(s): ProPage, Path(key): Path<String>) -> Response {
    let (key, csv) = match key.strip_suffix(".csv") {
        Some(k) => (k.to_owned(), true),
        None => (key, false),
    };
    let Some((year, month)) = parse_month(&key) else {
        return ApiError::NotFound.into_response();
    };
    let st = match market::wallet::statement(&state, s.user.id, year, month).await {
        Ok(st) => st,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let when = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    if csv {
        return csv_answer(&key, &st);
    }
    let lines = st
        .lines
        .iter()
        .map(|l| {
            Line::new(l.local_time.format(&when).unwrap_or_default(), l.kind, l.amount_cents, l.balance_after_cents)
        })
        .collect();
    let page = MonthPage {
        chrome: Chrome::signed_in(&state, &s),
        title: month_name(year, month),
        key,
        time_zone: st.time_zone,
        opening: st.opening.to_string(),
        closing: st.closing.to_string(),
        lines,
    };
    html(&page, StatusCode::OK)
}

/// The month as CSV: one row per movement, amounts in cents (exact for a spreadsheet to sum).
fn csv_answer(key: &str, st: &market::wallet::Statement) -> Response {
    let when = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut rows = vec![vec![
        format!("time ({})", st.time_zone),
        "kind".into(),
        "amount_cents".into(),
        "balance_after_cents".into(),
        "reference".into(),
    ]];
    rows.push(vec![String::new(), "opening_balance".into(), String::new(), st.opening.0.to_string(), String::new()]);
    for l in &st.lines {
        rows.push(vec![
            l.local_time.format(&when).unwrap_or_default(),
            l.kind.as_str().into(),
            l.amount_cents.to_string(),
            l.balance_after_cents.to_string(),
            l.reference.clone(),
        ]);
    }
    rows.push(vec![String::new(), "closing_balance".into(), String::new(), st.closing.0.to_string(), String::new()]);
    for r in rows {
        if let Err(e) = out.write_record(&r) {
            return ApiError::Internal(e.into()).into_response();
        }
    }
    let body = match out.into_inner() {
        Ok(b) => b,
        Err(e) => return ApiError::Internal(anyhow::anyhow!("{e}")).into_response(),
    };
    let disposition = format!("attachment; filename=\"plumberleads-wallet-{key}.csv\"");
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}
