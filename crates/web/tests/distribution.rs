//! Distribution on the movable clock: batches, expiry and the next batch, the window closing,
//! exclusive sales one pro at a time, emergencies and opening hours across time zones.

use reqwest::StatusCode;
use serde_json::Value;
use testkit::TestApp;
use testkit::market::{Pro, ProSetup};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

type R = anyhow::Result<()>;

/// Offers per pro for one lead: (pro index, status).
async fn offered(app: &TestApp, lead: Uuid) -> anyhow::Result<Vec<(Uuid, String, i32)>> {
    Ok(sqlx::query_as("SELECT pro_id, status::text, batch FROM offers WHERE lead_id = $1 ORDER BY batch, score DESC")
        .bind(lead)
        .fetch_all(&app.pool)
        .await?)
}

async fn lead_status(app: &TestApp, lead: Uuid) -> anyhow::Result<String> {
    Ok(sqlx::query_scalar("SELECT status::text FROM leads WHERE id = $1").bind(lead).fetch_one(&app.pool).await?)
}

async fn live_offers(app: &TestApp, pro: &Pro) -> anyhow::Result<usize> {
    let body: Value = app.get("/api/v1/pro/offers").bearer_auth(&pro.token).send().await?.json().await?;
    Ok(body["items"].as_array().map_or(0, Vec::len))
}

/// A Wednesday, 10:30 in Minneapolis (16:30 UTC).
const WEDNESDAY_MORNING: OffsetDateTime = datetime!(2026-12-02 16:30 UTC);

async fn app_at(at: OffsetDateTime) -> anyhow::Result<TestApp> {
    let app = TestApp::spawn().await?;
    app.clock.set(at);
    Ok(app)
}

#[tokio::test]
async fn batches_expire_the_next_goes_out_and_the_window_closes_unsold() -> R {
    let app = app_at(WEDNESDAY_MORNING).await?;
    let mut pros = Vec::new();
    for i in 0..8 {
        pros.push(app.active_pro(i, &ProSetup::default()).await?);
    }
    let lead = app.verified_lead("6125550150", "drain-cleaning", "within_48h", "55401").await?;
    app.run_pending_jobs().await?;
    let first = offered(&app, lead).await?;
    assert_eq!(first.len(), 6, "2 × 3 places");
    assert_eq!(lead_status(&app, lead).await?, "offered");

    // Just before 15 minutes the batch is live and nothing new goes out.
    app.clock.advance(Duration::minutes(15) - Duration::seconds(1));
    app.run_pending_jobs().await?;
    assert_eq!(offered(&app, lead).await?.len(), 6);
    let live = live_offers(&app, &pros[0]).await? + live_offers(&app, &pros[7]).await?;
    assert_eq!(live, 1, "one of the two ranked last is not offered yet");

    // At 15 minutes the first batch has expired and the two pros left get theirs.
    app.clock.advance(Duration::seconds(1));
    app.run_pending_jobs().await?;
    let now = offered(&app, lead).await?;
    assert_eq!(now.iter().filter(|o| o.1 == "expired").count(), 6);
    assert_eq!(now.iter().filter(|o| o.1 == "pending" && o.2 == 2).count(), 2);
    // (Access tokens last 15 minutes: log in again on the moved clock.)
    let (token, _) = app.api_login(&pros[0].email, testkit::PRO_PASSWORD).await?;
    let claim_expired = app
        .post(&format!("/api/v1/pro/offers/{}/claim", offer_of(&app, &pros[0], lead).await?))
        .bearer_auth(&token)
        .send()
        .await?;
    assert_eq!(claim_expired.status(), StatusCode::CONFLICT);
    assert_eq!(claim_expired.json::<Value>().await?["type"], "/problems/offer-expired");

    // Nobody buys; at two hours the window closes: unsold, every offer closed.
    app.clock.advance(Duration::minutes(15));
    app.run_pending_jobs().await?;
    assert_eq!(lead_status(&app, lead).await?, "offered", "the window is still open");
    app.clock.set(WEDNESDAY_MORNING + Duration::hours(2));
    app.run_pending_jobs().await?;
    assert_eq!(lead_status(&app, lead).await?, "unsold");
    assert!(offered(&app, lead).await?.iter().all(|o| o.1 == "expired"));
    let timeline: Vec<String> = sqlx::query_scalar("SELECT kind FROM lead_events WHERE lead_id = $1 ORDER BY id")
        .bind(lead)
        .fetch_all(&app.pool)
        .await?;
    assert!(timeline.ends_with(&["offered".to_owned(), "unsold".to_owned()]), "{timeline:?}");
    Ok(())
}

async fn offer_of(app: &TestApp, pro: &Pro, lead: Uuid) -> anyhow::Result<Uuid> {
    Ok(sqlx::query_scalar("SELECT id FROM offers WHERE lead_id = $1 AND pro_id = $2")
        .bind(lead)
        .bind(pro.id)
        .fetch_one(&app.pool)
        .await?)
}

#[tokio::test]
async fn an_exclusive_lead_goes_to_one_pro_at_a_time_at_the_exclusive_price() -> R {
    let app = app_at(WEDNESDAY_MORNING).await?;
    sqlx::query("UPDATE categories SET max_buyers = 1 WHERE slug = 'sewer-line'").execute(&app.pool).await?;
    let setup = ProSetup { categories: vec!["sewer-line"], ..ProSetup::default() };
    let mut pros = Vec::new();
    for i in 0..3 {
        pros.push(app.active_pro(i, &setup).await?);
    }
    let lead = app.verified_lead("6125550151", "sewer-line", "within_48h", "55401").await?;
    app.run_pending_jobs().await?;
    let o = offered(&app, lead).await?;
    assert_eq!(o.len(), 1, "one at a time");
    let price: (i64, i32) = sqlx::query_as("SELECT price_cents, exclusive_bps FROM offers WHERE lead_id = $1")
        .bind(lead)
        .fetch_one(&app.pool)
        .await?;
    assert_eq!(price, (15_000, 25_000), "$60.00 × 2.5");
    // Five minutes, then the next pro.
    app.clock.advance(Duration::minutes(5) - Duration::seconds(1));
    app.run_pending_jobs().await?;
    assert_eq!(offered(&app, lead).await?.len(), 1);
    app.clock.advance(Duration::seconds(1));
    app.run_pending_jobs().await?;
    let o = offered(&app, lead).await?;
    assert_eq!(o.len(), 2);
    assert_eq!(o[0].1, "expired");
    assert_eq!(o[1].1, "pending");
    assert_ne!(o[0].0, o[1].0);
    // The second pro buys it: sold, nobody else is offered it.
    let second = pros.iter().find(|p| p.id == o[1].0).ok_or_else(|| anyhow::anyhow!("who?"))?;
    let res = app
        .post(&format!("/api/v1/pro/offers/{}/claim", offer_of(&app, second, lead).await?))
        .bearer_auth(&second.token)
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(lead_status(&app, lead).await?, "sold");
    app.clock.advance(Duration::minutes(10));
    app.run_pending_jobs().await?;
    assert_eq!(offered(&app, lead).await?.len(), 2);
    Ok(())
}

#[tokio::test]
async fn emergencies_reach_only_pros_open_now_or_on_call_in_their_own_time_zone() -> R {
    // Wednesday 16:30 in Minneapolis = 17:30 in New York (closed) = 14:30 in Los Angeles (open).
    let app = app_at(datetime!(2026-12-02 22:30 UTC)).await?;
    let base = ProSetup { emergency_24_7: false, ..ProSetup::default() };
    let new_york = app.active_pro(0, &ProSetup { time_zone: "America/New_York", ..base.clone() }).await?;
    let los_angeles = app.active_pro(1, &ProSetup { time_zone: "America/Los_Angeles", ..base.clone() }).await?;
    let on_call =
        app.active_pro(2, &ProSetup { time_zone: "America/New_York", emergency_24_7: true, ..base.clone() }).await?;
    let lead = app.verified_lead("6125550152", "burst-pipe", "emergency", "55401").await?;
    app.run_pending_jobs().await?;
    let got: Vec<Uuid> = offered(&app, lead).await?.into_iter().map(|o| o.0).collect();
    assert!(got.contains(&los_angeles.id) && got.contains(&on_call.id), "{got:?}");
    assert!(!got.contains(&new_york.id), "closed at 17:30 in New York");
    // Emergency offers last five minutes; price × 1.5.
    let (price, ttl): (i64, f64) = sqlx::query_as(
        "SELECT price_cents, extract(epoch FROM expires_at - created_at)::float8 FROM offers WHERE lead_id = $1 LIMIT 1",
    )
    .bind(lead)
    .fetch_one(&app.pool)
    .await?;
    assert_eq!((price, ttl), (8_250, 300.0));

    // A lead that can wait reaches everyone, open or not.
    let later = app.verified_lead("6125550153", "drain-cleaning", "flexible", "55401").await?;
    app.run_pending_jobs().await?;
    assert_eq!(offered(&app, later).await?.len(), 3);
    Ok(())
}

#[tokio::test]
async fn pros_out_of_area_paused_too_dear_or_broke_are_not_offered() -> R {
    let app = app_at(WEDNESDAY_MORNING).await?;
    let fine = app.active_pro(0, &ProSetup::default()).await?;
    let far = app.active_pro(1, &ProSetup { zip: "60601", ..ProSetup::default() }).await?;
    let cheap = app.active_pro(2, &ProSetup { max_price_cents: Some(2_499), ..ProSetup::default() }).await?;
    let broke = app.active_pro(3, &ProSetup { balance_cents: 0, ..ProSetup::default() }).await?;
    let paused = app.active_pro(4, &ProSetup::default()).await?;
    sqlx::query("UPDATE pros SET paused = true WHERE user_id = $1").bind(paused.id).execute(&app.pool).await?;
    let other_trade = app.active_pro(5, &ProSetup { categories: vec!["gas-line"], ..ProSetup::default() }).await?;
    let lead = app.verified_lead("6125550154", "drain-cleaning", "within_48h", "55401").await?;
    app.run_pending_jobs().await?;
    let got: Vec<Uuid> = offered(&app, lead).await?.into_iter().map(|o| o.0).collect();
    assert_eq!(got, vec![fine.id]);
    for p in [&far, &cheap, &broke, &paused, &other_trade] {
        assert_eq!(live_offers(&app, p).await?, 0, "{}", p.email);
    }

    // The same phone again within 30 days: a pro who bought from it is not offered it again.
    let offer = offer_of(&app, &fine, lead).await?;
    let res = app.post(&format!("/api/v1/pro/offers/{offer}/claim")).bearer_auth(&fine.token).send().await?;
    assert_eq!(res.status(), StatusCode::OK);
    app.clock.advance(Duration::days(8));
    let again = app.verified_lead("6125550154", "clogged-toilet", "within_48h", "55401").await?;
    app.run_pending_jobs().await?;
    let got: Vec<Uuid> = offered(&app, again).await?.into_iter().map(|o| o.0).collect();
    assert!(!got.contains(&fine.id), "bought from this phone 8 days ago");
    assert!(got.contains(&cheap.id), "a $20.00 lead is within a $24.99 maximum");
    Ok(())
}

#[tokio::test]
async fn pros_hear_of_offers_as_they_chose_and_the_homeowner_hears_who_bought() -> R {
    // 23:30 in Minneapolis, a Wednesday.
    let app = app_at(datetime!(2026-12-03 05:30 UTC)).await?;
    let awake = app.active_pro(0, &ProSetup::default()).await?;
    let sleeping = app.active_pro(1, &ProSetup::default()).await?;
    sqlx::query("UPDATE pros SET quiet_from = '22:00', quiet_until = '07:00' WHERE user_id = $1")
        .bind(sleeping.id)
        .execute(&app.pool)
        .await?;
    let no_email = app.active_pro(2, &ProSetup::default()).await?;
    sqlx::query("UPDATE pros SET offer_email = false WHERE user_id = $1").bind(no_email.id).execute(&app.pool).await?;
    let texts = |n: u32| {
        let app = &app;
        async move { app.texts_to(&format!("+1612555{:04}", 1000 + n)).await }
    };

    let lead = app.verified_lead("6125550160", "drain-cleaning", "within_48h", "55401").await?;
    app.run_pending_jobs().await?;
    assert_eq!(offered(&app, lead).await?.len(), 3);
    let offer_texts = |t: Vec<String>| t.into_iter().filter(|m| m.contains("Drain cleaning lead")).count();
    assert_eq!(offer_texts(texts(0).await?), 1, "texted");
    assert_eq!(offer_texts(texts(1).await?), 0, "quiet hours: no text");
    assert_eq!(offer_texts(texts(2).await?), 1);
    let (subject, body) = app.latest_email_to(&sleeping.email).await?;
    assert!(subject.starts_with("New lead: Drain cleaning lead in Minneapolis 55401"), "{subject}");
    assert!(body.contains("$25.00") && body.contains("15 minutes"), "{body}");
    assert!(app.latest_email_to(&no_email.email).await.map_or(true, |(s, _)| !s.starts_with("New lead")));
    // An emergency comes through the quiet hours.
    let urgent = app.verified_lead("6125550161", "burst-pipe", "emergency", "55401").await?;
    app.run_pending_jobs().await?;
    assert_eq!(offered(&app, urgent).await?.len(), 3);
    assert_eq!(texts(1).await?.iter().filter(|m| m.contains("EMERGENCY Burst pipe")).count(), 1);

    // The homeowner is told who bought, and their status page lists the plumber.
    let res = app
        .post(&format!("/api/v1/pro/offers/{}/claim", offer_of(&app, &awake, lead).await?))
        .bearer_auth(&awake.token)
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::OK);
    app.run_pending_jobs().await?;
    let homeowner = app.texts_to("+16125550160").await?;
    assert!(homeowner.iter().any(|m| m.contains("Pro 0 Plumbing (+16125551000) took your request")), "{homeowner:?}");
    let link = homeowner
        .iter()
        .find_map(|m| m.split("See who: ").nth(1))
        .ok_or_else(|| anyhow::anyhow!("no status link in {homeowner:?}"))?;
    let path = link.trim().trim_start_matches(&app.url);
    let page = app.get(path).send().await?.text().await?;
    assert!(page.contains("Pro 0 Plumbing") && page.contains("tel:+16125551000"), "{page}");
    assert!(page.contains("(612) 555-1000") && page.contains("Taken by one plumber so far"), "{page}");
    Ok(())
}

#[tokio::test]
async fn a_lead_nobody_can_take_is_looked_at_again_and_closes_unsold() -> R {
    let app = app_at(WEDNESDAY_MORNING + Duration::nanoseconds(123_456_789)).await?;
    let lead = app.verified_lead("6125550155", "drain-cleaning", "within_48h", "55401").await?;
    app.run_pending_jobs().await?;
    assert_eq!(lead_status(&app, lead).await?, "offered");
    // A pro who signs up later is offered it at the next look, a quarter of an hour on.
    let late = app.active_pro(0, &ProSetup::default()).await?;
    app.clock.advance(Duration::minutes(15));
    app.run_pending_jobs().await?;
    assert_eq!(offered(&app, lead).await?.len(), 1, "offered to {}", late.email);
    app.clock.set(WEDNESDAY_MORNING + Duration::hours(3));
    app.run_pending_jobs().await?;
    assert_eq!(lead_status(&app, lead).await?, "unsold");
    Ok(())
}

#[tokio::test]
async fn a_pro_can_see_why_they_got_a_lead_or_not() -> R {
    let app = app_at(WEDNESDAY_MORNING).await?;
    let got = app.active_pro(0, &ProSetup::default()).await?;
    let dear = app.active_pro(1, &ProSetup { max_price_cents: Some(2_000), ..ProSetup::default() }).await?;
    let lead = app.verified_lead("6125550156", "drain-cleaning", "within_48h", "55401").await?;
    app.run_pending_jobs().await?;
    let why = |pro: &testkit::market::Pro| {
        app.get(&format!("/api/v1/pro/leads/{lead}/why")).bearer_auth(pro.token.clone()).send()
    };
    let mine: Value = why(&got).await?.json().await?;
    assert_eq!(mine["offered"], true);
    assert!(mine["why"]["score"].as_f64().is_some_and(|s| s > 0.0), "{mine}");
    let theirs: Value = why(&dear).await?.json().await?;
    assert_eq!(
        (theirs["offered"].clone(), theirs["rule"].clone()),
        (Value::Bool(false), Value::from("price_above_max"))
    );
    let missed: Value = app.get("/api/v1/pro/missed").bearer_auth(&dear.token).send().await?.json().await?;
    assert_eq!(missed["items"][0]["lead_id"], lead.to_string());
    assert_eq!(missed["items"][0]["rule"], "price_above_max");
    assert_eq!(missed["items"][0]["city"], "Minneapolis");
    let none: Value = app.get("/api/v1/pro/missed").bearer_auth(&got.token).send().await?.json().await?;
    assert_eq!(none["items"], serde_json::json!([]));
    // A lead nobody considered them for is not theirs to ask about.
    let res = app.get(&format!("/api/v1/pro/leads/{}/why", Uuid::now_v7())).bearer_auth(&got.token).send().await?;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test]
async fn missed_leads_come_newest_first_a_page_at_a_time_for_thirty_days_from_the_pros_own_area() -> R {
    let app = app_at(WEDNESDAY_MORNING).await?;
    let cheap = |zip| ProSetup { zip, max_price_cents: Some(2_000), ..ProSetup::default() };
    let dear = app.active_pro(1, &cheap("55401")).await?;
    // In Duluth, 150 miles away: left out of a lead there too, which is not Minneapolis' business.
    let far = app.active_pro(2, &cheap("55802")).await?;
    let mut leads = Vec::new();
    for (n, zip) in ["55401", "55402", "55401"].into_iter().enumerate() {
        leads.push(app.verified_lead(&format!("612555016{n}"), "drain-cleaning", "within_48h", zip).await?);
    }
    let duluth = app.verified_lead("2185550160", "drain-cleaning", "within_48h", "55802").await?;
    app.run_pending_jobs().await?;
    let missed = |token: &str, query: &str| {
        let req = app.get(&format!("/api/v1/pro/missed{query}")).bearer_auth(token);
        async move {
            let res = req.send().await?;
            anyhow::ensure!(res.status() == StatusCode::OK, "{}", res.status());
            let page: Value = res.json().await?;
            let items = page["items"].as_array().cloned().unwrap_or_default();
            let ids: Vec<String> = items.iter().map(|m| m["lead_id"].as_str().unwrap_or("?").to_owned()).collect();
            anyhow::Ok((ids, page["next_cursor"].as_str().map(str::to_owned)))
        }
    };
    assert_eq!(missed(&far.token, "").await?.0, [duluth.to_string()]);
    let (first, cursor) = missed(&dear.token, "?limit=2").await?;
    assert_eq!(first, [leads[2].to_string(), leads[1].to_string()]);
    let (second, end) = missed(&dear.token, &format!("?limit=2&cursor={}", cursor.unwrap_or_default())).await?;
    assert_eq!((second, end), (vec![leads[0].to_string()], None));
    // Kept in view for thirty days from the look that left them out, not a second longer (signed in
    // again each time: an access token lasts less than a month).
    app.clock.set(WEDNESDAY_MORNING + Duration::days(30));
    let (token, _) = app.api_login(&dear.email, testkit::PRO_PASSWORD).await?;
    assert_eq!(missed(&token, "").await?.0.len(), 3);
    app.clock.set(WEDNESDAY_MORNING + Duration::days(30) + Duration::seconds(1));
    let (token, _) = app.api_login(&dear.email, testkit::PRO_PASSWORD).await?;
    assert_eq!(missed(&token, "").await?.0.len(), 0);
    Ok(())
}

/// The rule that left `pro` out of `lead`, if any.
async fn left_out_by(app: &TestApp, lead: Uuid, pro: &Pro) -> anyhow::Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT rule FROM match_exclusions WHERE lead_id = $1 AND $2 = ANY (pro_ids)")
        .bind(lead)
        .bind(pro.id)
        .fetch_optional(&app.pool)
        .await?)
}

/// A verified $20.00 lead, distributed; `n` picks its phone.
async fn lead_at(app: &TestApp, n: u32) -> anyhow::Result<Uuid> {
    let lead = app.verified_lead(&format!("61255502{n:02}"), "drain-cleaning", "within_48h", "55401").await?;
    app.run_pending_jobs().await?;
    Ok(lead)
}

#[tokio::test]
async fn the_daily_cap_and_weekly_budget_count_purchases_and_live_offers_until_the_pros_own_midnight() -> R {
    // Wednesday 22:00 in Minneapolis.
    let wednesday_night = datetime!(2026-12-03 04:00 UTC);
    let app = app_at(wednesday_night).await?;
    let capped =
        app.active_pro(0, &ProSetup { daily_cap: Some(2), weekly_budget_cents: None, ..ProSetup::default() }).await?;
    let budgeted = app
        .active_pro(1, &ProSetup { daily_cap: None, weekly_budget_cents: Some(5_000), ..ProSetup::default() })
        .await?;
    for n in 0..2 {
        let lead = lead_at(&app, n).await?;
        for pro in [&capped, &budgeted] {
            let offer = offer_of(&app, pro, lead).await?;
            let res = app.post(&format!("/api/v1/pro/offers/{offer}/claim")).bearer_auth(&pro.token).send().await?;
            assert_eq!(res.status(), StatusCode::OK);
        }
    }
    // Two bought today ($40.00 this week): the cap of 2 is reached, and a third $20.00 would
    // pass the $50.00 budget.
    let third = lead_at(&app, 2).await?;
    assert_eq!(left_out_by(&app, third, &capped).await?.as_deref(), Some("cap_reached"));
    assert_eq!(left_out_by(&app, third, &budgeted).await?.as_deref(), Some("budget_reached"));

    // A second before their midnight, still today; at midnight, a new day but the same week.
    app.clock.set(datetime!(2026-12-03 05:59:59 UTC));
    let late = lead_at(&app, 3).await?;
    assert_eq!(left_out_by(&app, late, &capped).await?.as_deref(), Some("cap_reached"));
    app.clock.set(datetime!(2026-12-03 06:00 UTC));
    let thursday = lead_at(&app, 4).await?;
    assert!(offered(&app, thursday).await?.iter().any(|o| o.0 == capped.id), "a new day for the cap");
    assert_eq!(left_out_by(&app, thursday, &budgeted).await?.as_deref(), Some("budget_reached"));

    // A live offer counts too: one live (none bought today) leaves room for one more, not two.
    let second = lead_at(&app, 5).await?;
    assert!(offered(&app, second).await?.iter().any(|o| o.0 == capped.id), "1 live + 0 bought < 2");
    let third_live = lead_at(&app, 6).await?;
    assert_eq!(left_out_by(&app, third_live, &capped).await?.as_deref(), Some("cap_reached"), "2 live");

    // The budget starts again at their Monday 00:00, not a second before.
    app.clock.set(datetime!(2026-12-07 05:59:59 UTC));
    app.run_pending_jobs().await?;
    let sunday = lead_at(&app, 7).await?;
    assert_eq!(left_out_by(&app, sunday, &budgeted).await?.as_deref(), Some("budget_reached"));
    app.clock.set(datetime!(2026-12-07 06:00 UTC));
    let monday = lead_at(&app, 8).await?;
    assert!(offered(&app, monday).await?.iter().any(|o| o.0 == budgeted.id), "a new week for the budget");
    Ok(())
}

#[tokio::test]
async fn a_pro_moving_time_zone_moves_the_day_their_purchases_count_in() -> R {
    // 23:30 on Wednesday in Minneapolis is 00:30 on Thursday in New York.
    let app = app_at(datetime!(2026-12-03 05:30 UTC)).await?;
    let pro = app.active_pro(0, &ProSetup::default()).await?;
    app.bought_lead(&pro, "6125550301", "drain-cleaning", "55401").await?;
    let day = |app: &TestApp| {
        let pool = app.pool.clone();
        let id = pro.id;
        async move {
            sqlx::query_as::<_, (time::Date, i32)>("SELECT bought_on, bought_that_day FROM pros WHERE user_id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
        }
    };
    assert_eq!(day(&app).await?, (time::macros::date!(2026 - 12 - 02), 1));
    sqlx::query("UPDATE pros SET time_zone = 'America/New_York' WHERE user_id = $1")
        .bind(pro.id)
        .execute(&app.pool)
        .await?;
    assert_eq!(day(&app).await?, (time::macros::date!(2026 - 12 - 03), 1));
    Ok(())
}

/// Each instance keeps the pros' facts in memory and reads what changed before each look: a
/// change made through another instance, or by a transaction that began before the previous
/// read and committed after it, is seen at the next look.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_look_sees_every_committed_change_to_a_pro_whichever_instance_or_order_made_it() -> R {
    let app = app_at(WEDNESDAY_MORNING).await?;
    let other = app.another_node().await?;
    let fine = app.active_pro(0, &ProSetup::default()).await?;
    let broke = app.active_pro(1, &ProSetup { balance_cents: 0, ..ProSetup::default() }).await?;
    let gas = ProSetup { categories: vec!["gas-line"], ..ProSetup::default() };
    let late = app.active_pro(2, &gas).await?;

    // A transaction pauses `late` and is still open while this instance reads its roster for the
    // first lead (which `late` does not take anyway, so nothing else touches them).
    let mut slow = app.pool.begin().await?;
    sqlx::query("UPDATE pros SET paused = true WHERE user_id = $1").bind(late.id).execute(&mut *slow).await?;
    let drains = app.verified_lead("6125550171", "drain-cleaning", "within_48h", "55401").await?;
    app.run_pending_jobs().await?;
    let got: Vec<Uuid> = offered(&app, drains).await?.into_iter().map(|o| o.0).collect();
    assert_eq!(got, vec![fine.id], "the broke pro is left out");
    slow.commit().await?;

    // The other instance tops the broke pro's wallet up (signed in there: each test instance has
    // its own key).
    let (token, _) = other.api_login(&broke.email, testkit::PRO_PASSWORD).await?;
    let res = other
        .post("/api/v1/pro/wallet/top-ups")
        .bearer_auth(&token)
        .json(&serde_json::json!({ "amount_cents": 5000 }))
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED);

    let gas_leak = app.verified_lead("6125550172", "gas-line", "within_48h", "55401").await?;
    let pipes = app.verified_lead("6125550173", "drain-cleaning", "within_48h", "55401").await?;
    app.run_pending_jobs().await?;
    assert_eq!(left_out_by(&app, gas_leak, &late).await?.as_deref(), Some("paused"), "paused after the first read");
    let got: Vec<Uuid> = offered(&app, pipes).await?.into_iter().map(|o| o.0).collect();
    assert!(got.contains(&broke.id), "topped up on the other instance: {got:?}");
    Ok(())
}

/// Moves a pro's area through the JSON profile, as the portal's clients do.
async fn move_area(app: &TestApp, token: &str, base_zip: &str) -> R {
    let res = app
        .request(reqwest::Method::PATCH, "/api/v1/pro/profile")
        .bearer_auth(token)
        .json(&serde_json::json!({ "area": { "base_zip": base_zip, "radius_miles": 10 } }))
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await?);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pro_who_moves_their_area_is_matched_by_the_new_one_on_every_instance() -> R {
    let app = app_at(WEDNESDAY_MORNING).await?;
    let other = app.another_node().await?;
    let leaving = app.active_pro(0, &ProSetup::default()).await?;
    let arriving = app.active_pro(1, &ProSetup { zip: "60601", ..ProSetup::default() }).await?;
    let staying = app.active_pro(2, &ProSetup::default()).await?;
    let before = app.verified_lead("6125550181", "drain-cleaning", "within_48h", "55401").await?;
    app.run_pending_jobs().await?;
    let mut got: Vec<Uuid> = offered(&app, before).await?.into_iter().map(|o| o.0).collect();
    got.sort();
    let mut want = vec![leaving.id, staying.id];
    want.sort();
    assert_eq!(got, want, "this instance's roster now holds both areas");

    // One pro moves to Chicago here, the other to Minneapolis on the other instance.
    move_area(&app, &leaving.token, "60601").await?;
    let (token, _) = other.api_login(&arriving.email, testkit::PRO_PASSWORD).await?;
    move_area(&other, &token, "55401").await?;

    let after = app.verified_lead("6125550182", "drain-cleaning", "within_48h", "55401").await?;
    let chicago = app.verified_lead("6125550183", "drain-cleaning", "within_48h", "60601").await?;
    app.run_pending_jobs().await?;
    let mut got: Vec<Uuid> = offered(&app, after).await?.into_iter().map(|o| o.0).collect();
    got.sort();
    let mut want = vec![arriving.id, staying.id];
    want.sort();
    assert_eq!(got, want, "the old area is forgotten and the new one known");
    let got: Vec<Uuid> = offered(&app, chicago).await?.into_iter().map(|o| o.0).collect();
    assert_eq!(got, vec![leaving.id]);
    assert_eq!(lead_status(&app, chicago).await?, "offered");
    Ok(())
}

#[tokio::test]
async fn unsold_requests_are_the_back_offices_unmet_demand_with_who_takes_that_job_there_now() -> R {
    let app = app_at(WEDNESDAY_MORNING).await?;
    for (phone, job) in
        [("6125550161", "drain-cleaning"), ("6125550162", "drain-cleaning"), ("6125550163", "clogged-toilet")]
    {
        app.verified_lead(phone, job, "within_48h", "55401").await?;
    }
    app.run_pending_jobs().await?;
    // A plumber for drains arrives after the windows closed.
    app.clock.set(WEDNESDAY_MORNING + Duration::hours(3));
    app.run_pending_jobs().await?;
    app.active_pro(0, &ProSetup { categories: vec!["drain-cleaning"], ..ProSetup::default() }).await?;
    app.run_pending_jobs().await?;

    let app = &app;
    let staff_home = |email: &'static str| async move {
        let sid = app.staff_session(email).await?;
        let res = app.get("/staff").header("cookie", format!("__Host-pl_session={sid}")).send().await?;
        anyhow::ensure!(res.status() == StatusCode::OK, "/staff answered {}", res.status());
        anyhow::Ok(res.text().await?)
    };
    let page = staff_home("olga@plumberleads.example").await?;
    let rows: Vec<&str> =
        page.split("<tr><td>55401").skip(1).map(|r| r.split("</tr>").next().unwrap_or_default()).collect();
    assert_eq!(rows.len(), 2, "{page}");
    assert!(rows[0].contains("Drain cleaning</td><td>2</td>") && rows[0].contains("<td>1</td>"), "{}", rows[0]);
    assert!(rows[1].contains("Clogged toilet</td><td>1</td>") && rows[1].contains("none"), "{}", rows[1]);
    let metrics = app.get("/metrics").send().await?.text().await?;
    assert!(metrics.lines().any(|l| l == "leads_unsold_total{category=\"drain-cleaning\"} 2"), "{metrics}");

    // A month on, they are history.
    app.clock.set(WEDNESDAY_MORNING + Duration::days(30) + Duration::hours(1));
    let page = staff_home("piotr@plumberleads.example").await?;
    assert!(page.contains("every confirmed request found a plumber"), "{page}");
    Ok(())
}
