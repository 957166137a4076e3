//! Marketplace fixtures: active, funded pros around a ZIP and verified leads, made through the
//! same store and service calls onboarding and intake use (approval is set directly: no staff
//! second factor is needed to test a sale).

use crate::TestApp;
use domain::Clock;
use store::profiles::{HoursRow, Preferences};
use time::macros::time;
use uuid::Uuid;

/// How a fixture pro works.
#[derive(Debug, Clone)]
pub struct ProSetup {
    pub zip: &'static str,
    pub radius_miles: i32,
    pub categories: Vec<&'static str>,
    pub time_zone: &'static str,
    pub emergency_24_7: bool,
    pub balance_cents: i64,
    pub max_price_cents: Option<i64>,
    pub daily_cap: Option<i32>,
    pub weekly_budget_cents: Option<i64>,
}

impl Default for ProSetup {
    fn default() -> Self {
        Self {
            zip: "55401",
            radius_miles: 10,
            categories: vec!["drain-cleaning", "burst-pipe", "clogged-toilet", "leak-detection"],
            time_zone: "America/Chicago",
            emergency_24_7: true,
            balance_cents: 50_000,
            max_price_cents: Some(50_000),
            daily_cap: Some(50),
            weekly_budget_cents: Some(1_000_000),
        }
    }
}

/// A pro ready to buy: their id and an API access token.
#[derive(Debug, Clone)]
pub struct Pro {
    pub id: Uuid,
    pub email: String,
    pub token: String,
}

impl TestApp {
    /// Signs up, completes and approves a pro working Monday–Friday 8–17 in `setup.time_zone`,
    /// tops their wallet up to `setup.balance_cents` (in top-ups of at most 5,000.00), and logs in.
    pub async fn active_pro(&self, n: u32, setup: &ProSetup) -> anyhow::Result<Pro> {
        let email = format!("pro{n}@example.com");
        let phone = format!("612555{:04}", 1000 + n);
        let id = self.signup_pro(&email, &phone).await?;
        let now = self.clock.now();
        let mut tx = self.pool.begin().await?;
        store::profiles::set_business(&mut tx, id, &format!("Pro {n} Plumbing"), &format!("PL-{n}"), "MN", now).await?;
        let zip = domain::Zip::parse(setup.zip).map_err(|_| anyhow::anyhow!("bad zip {}", setup.zip))?;
        let within = store::zips::within_radius(&mut tx, &zip, domain::Miles(f64::from(setup.radius_miles)))
            .await?
            .ok_or_else(|| anyhow::anyhow!("unknown zip {}", setup.zip))?;
        let zips: Vec<String> = within.into_iter().map(|z| z.info.zip).collect();
        store::profiles::set_area(&mut tx, id, setup.zip, setup.radius_miles, &zips, &[], now).await?;
        let cats: Vec<String> = setup.categories.iter().map(|c| (*c).to_owned()).collect();
        store::profiles::set_categories(&mut tx, id, &cats).await?;
        let days: Vec<HoursRow> =
            (0..5).map(|d| HoursRow { weekday: d, opens: time!(08:00), closes: time!(17:00) }).collect();
        store::profiles::set_hours(&mut tx, id, &days, setup.time_zone, setup.emergency_24_7, now).await?;
        let prefs = Preferences {
            max_price_cents: setup.max_price_cents,
            accepts_shared: true,
            accepts_exclusive: true,
            daily_cap: setup.daily_cap,
            weekly_budget_cents: setup.weekly_budget_cents,
            paused: false,
        };
        store::profiles::set_preferences(&mut tx, id, &prefs, now).await?;
        sqlx::query("UPDATE pros SET status = 'active', approved_at = $2 WHERE user_id = $1")
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut left = setup.balance_cents;
        while left > 0 {
            let amount = left.clamp(services::market::wallet::MIN_TOP_UP.0, services::market::wallet::MAX_TOP_UP.0);
            services::market::wallet::top_up(&self.state.ctx, id, amount, None).await?;
            left -= amount;
        }
        let (token, _) = self.api_login(&email, crate::PRO_PASSWORD).await?;
        Ok(Pro { id, email, token })
    }

    /// A homeowner's request sent and verified by its texted code; returns the lead's id. Jobs
    /// queued by the verification are left for the test to run.
    pub async fn verified_lead(&self, phone: &str, category: &str, urgency: &str, zip: &str) -> anyhow::Result<Uuid> {
        // Sent by a partner: its key also lets it confirm the homeowner's code.
        let (_, key) = self.create_partner(&format!("Partner {phone}")).await?;
        let res = self
            .post("/api/v1/leads")
            .bearer_auth(&key)
            .json(&serde_json::json!({
                "name": "Pat Lee", "phone": phone, "zip": zip, "category": category, "urgency": urgency,
                "description": "The kitchen sink drains slowly and now backs up", "consent": true
            }))
            .send()
            .await?;
        anyhow::ensure!(res.status() == reqwest::StatusCode::CREATED, "lead answered {}", res.status());
        let body: serde_json::Value = res.json().await?;
        let id = body["id"].as_str().unwrap_or_default().to_owned();
        let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
        let code = self.latest_code(&format!("+1{}", &digits[digits.len().saturating_sub(10)..])).await?;
        let res = self
            .post(&format!("/api/v1/leads/{id}/verification"))
            .bearer_auth(&key)
            .json(&serde_json::json!({ "code": code }))
            .send()
            .await?;
        anyhow::ensure!(res.status() == reqwest::StatusCode::OK, "verification answered {}", res.status());
        Ok(id.parse()?)
    }
}
