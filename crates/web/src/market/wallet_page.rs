//! `/pro/wallet`: the wallet's statement — every movement, newest first, signed from the pro's
//! side with the balance after it, a page at a time.

use crate::AppState;
use crate::auth::sessions::ProPage;
use crate::html::{Chrome, html};
use crate::problem::ApiError;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::Cents;
use domain::market::ledger::TransferKind;
use serde::Deserialize;
use services::market::{self, Page};

/// Entries per page.
const PER_PAGE: i64 = 50;

struct Line {
    when: String,
    what: &'static str,
    amount: String,
    credit: bool,
    balance_after: String,
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
    let when = time::macros::format_description!("[month repr:short] [day padding:none], [year] [hour]:[minute] UTC");
    let lines = items
        .into_iter()
        .map(|e| Line {
            when: e.created_at.format(&when).unwrap_or_default(),
            what: what(e.kind),
            amount: signed(e.amount_cents),
            credit: e.amount_cents > 0,
            balance_after: Cents(e.balance_after_cents).to_string(),
        })
        .collect();
    let page = Statement {
        chrome: Chrome::of(&state),
        balance: balance.to_string(),
        lines,
        older: next_cursor,
        first_page: cursor.is_none(),
    };
    html(&page, StatusCode::OK)
}
