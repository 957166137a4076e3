//! The site's information pages, the same for every visitor and so rendered once per cache
//! period: what PlumberLeads offers a plumber (with the live price list), privacy, terms (the
//! texting terms the consent box cites), and the partner API.

use crate::html::Chrome;
use crate::{AppState, problem::ApiError};
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use domain::Cents;
use domain::lead::{CONSENT_TEXT, CONSENT_TEXT_VERSION};
use domain::market::Sale;
use domain::pricing::Urgency;
use services::market::{disputes, wallet};

/// One category's row of the plumbers' price list.
struct PriceRow {
    name: String,
    flexible: Cents,
    within_48h: Cents,
    emergency: Cents,
    max_buyers: i32,
}

#[derive(Template)]
#[template(path = "for_plumbers.html")]
struct ForPlumbers<'a> {
    chrome: Chrome<'a>,
    rows: Vec<PriceRow>,
    /// The most buyers any category's lead may have (PRODUCT.md: 3 at most by default).
    max_buyers: i32,
    dispute_days: i64,
    min_top_up: Cents,
}

#[derive(Template)]
#[template(path = "privacy.html")]
struct Privacy<'a> {
    chrome: Chrome<'a>,
    contact: &'a str,
    /// How long backups are kept (`PLUMBERLEADS_BACKUP_RETENTION`), in whole days.
    backup_days: u64,
    /// How long a request keeps its homeowner's details (`PLUMBERLEADS_HOMEOWNER_RETENTION`).
    retention: String,
}

#[derive(Template)]
#[template(path = "terms.html")]
struct Terms<'a> {
    chrome: Chrome<'a>,
    contact: &'a str,
    consent_text: &'a str,
    consent_version: &'a str,
    dispute_days: i64,
}

#[derive(Template)]
#[template(path = "partners.html")]
struct Partners<'a> {
    chrome: Chrome<'a>,
    contact: &'a str,
    consent_text: &'a str,
}

/// `/for-plumbers`: what a plumber gets and pays, with sign-up as its main action.
pub async fn for_plumbers(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let page = state
        .cached_page("for-plumbers", || async {
            let categories = state.categories().await?;
            let m = services::market::prices::multipliers(&state).await?;
            let rows: Vec<PriceRow> = categories
                .iter()
                .map(|c| {
                    // A category sold to one buyer is priced as exclusive, as its offers are.
                    let price = |urgency| m.price(c.base_price, urgency, Sale::exclusivity_for(c.max_buyers));
                    PriceRow {
                        name: c.name.clone(),
                        flexible: price(Urgency::Flexible),
                        within_48h: price(Urgency::Within48h),
                        emergency: price(Urgency::Emergency),
                        max_buyers: c.max_buyers,
                    }
                })
                .collect();
            let max_buyers = rows.iter().map(|r| r.max_buyers).max().unwrap_or(3);
            let page = ForPlumbers {
                chrome: Chrome::of(&state),
                rows,
                max_buyers,
                dispute_days: disputes::WINDOW.whole_days(),
                min_top_up: wallet::MIN_TOP_UP,
            };
            page.render().map_err(|e| ApiError::Internal(e.into()))
        })
        .await?;
    Ok(html_response(&page, &headers))
}

/// `/privacy`
pub async fn privacy(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let page = state
        .cached_page("privacy", || async {
            let backup_days = state.settings.recovery.backup_retention.as_secs().div_ceil(86_400);
            let retention = services::privacy::retention_words(&state);
            let page = Privacy { chrome: Chrome::of(&state), contact: contact(&state), backup_days, retention };
            page.render().map_err(|e| ApiError::Internal(e.into()))
        })
        .await?;
    Ok(html_response(&page, &headers))
}

/// `/terms`
pub async fn terms(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let page = state
        .cached_page("terms", || async {
            let page = Terms {
                chrome: Chrome::of(&state),
                contact: contact(&state),
                consent_text: CONSENT_TEXT,
                consent_version: CONSENT_TEXT_VERSION,
                dispute_days: disputes::WINDOW.whole_days(),
            };
            page.render().map_err(|e| ApiError::Internal(e.into()))
        })
        .await?;
    Ok(html_response(&page, &headers))
}

/// `/partners`
pub async fn partners(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let page = state
        .cached_page("partners", || async {
            let page = Partners { chrome: Chrome::of(&state), contact: contact(&state), consent_text: CONSENT_TEXT };
            page.render().map_err(|e| ApiError::Internal(e.into()))
        })
        .await?;
    Ok(html_response(&page, &headers))
}

fn html_response(page: &crate::encoded::Encoded, headers: &HeaderMap) -> Response {
    page.response(headers, HeaderValue::from_static("text/html; charset=utf-8"))
}

/// Where people write to us: the address our e-mails come from (`PLUMBERLEADS_EMAIL_FROM`), so
/// the pages name the one address that is configured.
pub(crate) fn contact(state: &AppState) -> &str {
    address_of(&state.settings.providers.email_from)
}

/// "Name <address>" → "address"; a bare address as it is.
fn address_of(from: &str) -> &str {
    from.split_once('<').and_then(|(_, rest)| rest.split_once('>')).map_or(from.trim(), |(address, _)| address.trim())
}

#[cfg(test)]
mod tests {
    use super::address_of;

    #[test]
    fn the_contact_is_the_address_inside_the_angle_brackets_or_the_whole_setting() {
        assert_eq!(address_of("PlumberLeads <hello@plumberleads.localhost>"), "hello@plumberleads.localhost");
        assert_eq!(address_of(" help@example.com "), "help@example.com");
    }
}
