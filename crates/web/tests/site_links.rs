//! No link on any page leads nowhere (issue 12): the site is crawled from `/` — signed out, as a
//! working pro (who has bought a lead, so the inbox, wallet and statements have rows to link)
//! and as staff — following every same-site `a`, `link`, `script` and `img` reference and every
//! redirect; each must answer without a client or server error. And the pages the footer and
//! header name say what they are for.

use reqwest::{StatusCode, Url, header};
use scraper::{Html, Selector};
use std::collections::{BTreeMap, VecDeque};
use testkit::market::ProSetup;
use testkit::{PRO_PASSWORD, TestApp};

/// The crawl stops here, so a page that links ever-new URLs fails instead of running forever.
const MAX_PAGES: usize = 400;

/// What one crawl saw: every URL visited with its status, and where each was first linked from.
struct Crawl {
    seen: BTreeMap<String, (StatusCode, String)>,
}

impl Crawl {
    fn broken(&self) -> Vec<String> {
        self.seen
            .iter()
            .filter(|(_, (status, _))| status.is_client_error() || status.is_server_error())
            .map(|(url, (status, from))| format!("{url} answered {status} (linked from {from})"))
            .collect()
    }
}

async fn crawl(app: &TestApp, cookie: Option<&str>, starts: &[&str]) -> anyhow::Result<Crawl> {
    let base = Url::parse(&app.url)?;
    let refs = Selector::parse("a[href], link[href], script[src], img[src]").expect("selector");
    let mut queue: VecDeque<(String, String)> = starts.iter().map(|s| ((*s).to_owned(), "start".to_owned())).collect();
    let mut seen = BTreeMap::new();
    while let Some((path, from)) = queue.pop_front() {
        if seen.contains_key(&path) {
            continue;
        }
        anyhow::ensure!(seen.len() < MAX_PAGES, "more than {MAX_PAGES} distinct URLs: the site links ever-new ones");
        let mut req = app.get(&path);
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, format!("__Host-pl_session={c}"));
        }
        let res = req.send().await?;
        let status = res.status();
        seen.insert(path.clone(), (status, from));
        let page = base.join(&path)?;
        let mut next = Vec::new();
        if status.is_redirection() {
            if let Some(to) = res.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()) {
                next.push(to.to_owned());
            }
        } else if res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/html"))
        {
            let doc = Html::parse_document(&res.text().await?);
            for el in doc.select(&refs) {
                let attr = if el.value().name() == "script" || el.value().name() == "img" { "src" } else { "href" };
                next.extend(el.value().attr(attr).map(str::to_owned));
            }
        }
        for link in next {
            let Ok(mut url) = page.join(&link) else { continue };
            if url.origin() != base.origin() {
                continue; // mailto:, other sites
            }
            url.set_fragment(None);
            let target = match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_owned(),
            };
            if !seen.contains_key(&target) {
                queue.push_back((target, path.clone()));
            }
        }
    }
    Ok(Crawl { seen })
}

#[tokio::test(flavor = "multi_thread")]
async fn no_page_links_to_a_page_that_is_not_there_signed_out_as_a_pro_or_as_staff() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let pro = app.active_pro(1, &ProSetup::default()).await?;
    app.bought_lead(&pro, "6125550199", "drain-cleaning", "55401").await?;

    let visitor = crawl(&app, None, &["/"]).await?;
    for page in ["/privacy", "/terms", "/partners", "/for-plumbers", "/request", "/login", "/signup", "/api/docs"] {
        assert!(visitor.seen.contains_key(page), "the crawl never reached {page}: {:?}", visitor.seen.keys());
    }
    assert_eq!(visitor.broken(), Vec::<String>::new());

    let sid = app.browser_login(&pro.email, PRO_PASSWORD).await?;
    let as_pro = crawl(&app, Some(&sid), &["/", "/pro"]).await?;
    for page in ["/pro/offers", "/pro/wallet", "/pro/profile", "/pro/account"] {
        assert!(as_pro.seen.contains_key(page), "the pro's crawl never reached {page}: {:?}", as_pro.seen.keys());
    }
    assert!(as_pro.seen.keys().any(|u| u.starts_with("/pro/wallet/statements/")), "{:?}", as_pro.seen.keys());
    assert_eq!(as_pro.broken(), Vec::<String>::new());

    // Someone waiting for review, so the back office links a review page.
    let waiting = app.signup_pro("new@example.com", "+16125550142").await?;
    sqlx::query("UPDATE pros SET status = 'pending_approval', submitted_at = now() WHERE user_id = $1")
        .bind(waiting)
        .execute(&app.pool)
        .await?;
    let staff = app.staff_session("olga@example.com").await?;
    let as_staff = crawl(&app, Some(&staff), &["/", "/staff"]).await?;
    let review = format!("/staff/pros/{waiting}");
    for page in ["/staff/prices", "/staff/disputes", review.as_str()] {
        assert!(as_staff.seen.contains_key(page), "staff's crawl never reached {page}: {:?}", as_staff.seen.keys());
    }
    assert_eq!(as_staff.broken(), Vec::<String>::new());
    app.shutdown().await
}

#[tokio::test]
async fn the_plumbers_page_sells_with_todays_prices_and_signs_up() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    // Staff made sewer-line jobs exclusive: one buyer, at the exclusive multiplier (×2.5).
    sqlx::query("UPDATE categories SET max_buyers = 1 WHERE slug = 'sewer-line'").execute(&app.pool).await?;
    let base = |slug: &'static str| {
        sqlx::query_as::<_, (String, i64)>("SELECT name, base_price_cents FROM categories WHERE slug = $1")
            .bind(slug)
            .fetch_one(&app.pool)
    };
    let (drain, drain_base) = base("drain-cleaning").await?;
    let (sewer, sewer_base) = base("sewer-line").await?;
    let res = app.get("/for-plumbers").send().await?;
    assert_eq!(res.status(), StatusCode::OK);
    let doc = Html::parse_document(&res.text().await?);
    let row = Selector::parse("tbody tr").expect("selector");
    let cells = Selector::parse("th, td").expect("selector");
    let row_of = |name: &str| {
        doc.select(&row)
            .map(|r| r.select(&cells).map(|c| c.text().collect::<String>().trim().to_owned()).collect::<Vec<_>>())
            .find(|r| r.first().is_some_and(|n| n.starts_with(name)))
            .unwrap_or_else(|| panic!("no row for {name}"))
    };
    // Flexible ×0.8, within 48 hours ×1, emergency ×1.5 (PRODUCT.md's defaults).
    let dollars = |c: i64| domain::Cents(c).to_string();
    let drain = row_of(&drain);
    assert_eq!(
        drain,
        [drain[0].clone(), dollars(drain_base * 8 / 10), dollars(drain_base), dollars(drain_base * 3 / 2)]
    );
    let sewer_row = row_of(&sewer);
    assert_eq!(sewer_row[0], format!("{sewer} (only you)"));
    assert_eq!(sewer_row[1..], [dollars(sewer_base * 2), dollars(sewer_base * 5 / 2), dollars(sewer_base * 15 / 4)]);
    let main_action = Selector::parse("main .button--primary").expect("selector");
    assert!(doc.select(&main_action).count() >= 1);
    assert!(doc.select(&main_action).all(|a| a.value().attr("href") == Some("/signup")));
    // The header's "For plumbers" leads here, not to a bare login.
    let home = app.get("/").send().await?.text().await?;
    assert!(home.contains(r#"<a href="/for-plumbers">For plumbers</a>"#), "{home}");
    app.shutdown().await
}

#[tokio::test]
async fn the_terms_quote_the_consent_the_request_form_asks_for_with_its_texting_terms() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let terms = app.get("/terms").send().await?.text().await?;
    let form = app.get("/request").send().await?.text().await?;
    let text_of = |html: &str, css: &str| {
        let doc = Html::parse_document(html);
        let sel = Selector::parse(css).expect("selector");
        doc.select(&sel).map(|e| e.text().collect::<String>().trim().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(text_of(&form, "#f-consent label span"), [domain::lead::CONSENT_TEXT], "the form asks for this");
    assert_eq!(text_of(&terms, "#texts + p + blockquote"), [domain::lead::CONSENT_TEXT], "the terms quote it");
    assert!(terms.contains(domain::lead::CONSENT_TEXT_VERSION));
    for needed in ["STOP", "HELP", "Message and data rates"] {
        assert!(terms.contains(needed), "{needed}");
    }
    let privacy = app.get("/privacy").send().await?.text().await?;
    // Requests go to the configured sender's address.
    assert!(privacy.contains("mailto:hello@plumberleads.localhost"), "{privacy}");
    app.shutdown().await
}
