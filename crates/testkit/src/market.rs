//! Marketplace fixtures: active, funded pros around a ZIP and verified leads, made through the
//! same services onboarding, approval, top-ups and intake use.

use crate::TestApp;
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
        let dollars = |c: Option<i64>| c.map_or(String::new(), |c| format!("{}.{:02}", c / 100, c % 100));
        let ready = services::pros::ready::Setup {
            business_name: format!("Pro {n} Plumbing"),
            licence_state: "MN",
            zip: setup.zip.to_owned(),
            radius_miles: setup.radius_miles,
            categories: setup.categories.clone(),
            time_zone: setup.time_zone,
            opens: "08:00",
            closes: "17:00",
            emergency_24_7: setup.emergency_24_7,
            balance_cents: setup.balance_cents,
            max_price: dollars(setup.max_price_cents),
            daily_cap: setup.daily_cap.map_or(String::new(), |c| c.to_string()),
            weekly_budget: dollars(setup.weekly_budget_cents),
        };
        services::pros::ready::complete(&self.state.ctx, id, &ready).await?;
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

    /// A verified lead from `phone` offered to `pro` (who must be its best match) and bought:
    /// the purchase's id.
    pub async fn bought_lead(&self, pro: &Pro, phone: &str, category: &str, zip: &str) -> anyhow::Result<Uuid> {
        let lead = self.verified_lead(phone, category, "within_48h", zip).await?;
        self.run_pending_jobs().await?;
        let offer: Uuid = sqlx::query_scalar("SELECT id FROM offers WHERE pro_id = $1 AND lead_id = $2")
            .bind(pro.id)
            .bind(lead)
            .fetch_one(&self.pool)
            .await?;
        let res = self.post(&format!("/api/v1/pro/offers/{offer}/claim")).bearer_auth(&pro.token).send().await?;
        anyhow::ensure!(res.status() == reqwest::StatusCode::OK, "claim answered {}", res.status());
        let body: serde_json::Value = res.json().await?;
        Ok(body["purchase"]["id"].as_str().unwrap_or_default().parse()?)
    }
}
