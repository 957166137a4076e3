//! The marketplace end to end over HTTP, on real PostgreSQL: a verified lead is offered to ranked
//! pros, claimed atomically, paid for from the wallet. The concurrency tests race real requests
//! on a multi-threaded runtime; the ledger is proven sound after each.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::TestApp;
use testkit::market::{Pro, ProSetup};
use uuid::Uuid;

type R = anyhow::Result<()>;

async fn offers(app: &TestApp, pro: &Pro) -> anyhow::Result<Vec<Value>> {
    let res = app.get("/api/v1/pro/offers").bearer_auth(&pro.token).send().await?;
    anyhow::ensure!(res.status() == StatusCode::OK, "offers answered {}", res.status());
    let body: Value = res.json().await?;
    Ok(body["items"].as_array().cloned().unwrap_or_default())
}

async fn offer_for(app: &TestApp, pro: &Pro, lead: Uuid) -> anyhow::Result<String> {
    offers(app, pro)
        .await?
        .into_iter()
        .find(|o| o["lead_id"] == json!(lead.to_string()))
        .and_then(|o| o["id"].as_str().map(str::to_owned))
        .ok_or_else(|| anyhow::anyhow!("{} has no offer for {lead}", pro.email))
}

async fn claim(app: &TestApp, pro: &Pro, offer: &str) -> anyhow::Result<(StatusCode, Value)> {
    let res = app.post(&format!("/api/v1/pro/offers/{offer}/claim")).bearer_auth(&pro.token).send().await?;
    Ok((res.status(), res.json().await?))
}

async fn balance(app: &TestApp, pro: &Pro) -> anyhow::Result<i64> {
    let body: Value = app.get("/api/v1/pro/wallet").bearer_auth(&pro.token).send().await?.json().await?;
    body["balance_cents"].as_i64().ok_or_else(|| anyhow::anyhow!("no balance in {body}"))
}

async fn ledger_sound(app: &TestApp) -> R {
    let check = services::market::wallet::check(&app.state.ctx).await?;
    anyhow::ensure!(check.sound(), "ledger not sound: {check:?}");
    Ok(())
}

async fn pros(app: &TestApp, n: u32, setup: &ProSetup) -> anyhow::Result<Vec<Pro>> {
    let mut all = Vec::new();
    for i in 0..n {
        all.push(app.active_pro(i, setup).await?);
    }
    Ok(all)
}

#[tokio::test]
async fn a_verified_lead_is_offered_claimed_and_paid_for() -> R {
    let app = TestApp::spawn().await?;
    let p = pros(&app, 4, &ProSetup::default()).await?;
    let lead = app.verified_lead("6125550142", "drain-cleaning", "within_48h", "55401").await?;
    app.run_pending_jobs().await?;

    // Drain cleaning sells to 3 buyers: 2 × 3 places, so all four pros are offered it at $25.00.
    let listed = offers(&app, &p[0]).await?;
    assert_eq!(listed.len(), 1);
    let o = &listed[0];
    assert_eq!(o["status"], "pending");
    assert_eq!(o["category"], "drain-cleaning");
    assert_eq!(o["exclusive"], false);
    assert_eq!(
        o["price"],
        json!({"base_cents": 2500, "urgency_bps": 10000, "exclusive_bps": 10000, "total_cents": 2500, "currency": "USD"})
    );
    assert_eq!(o["buyers"], json!({"max": 3, "taken": 0}));
    assert_eq!(o["city"], "Minneapolis");
    for component in ["score", "distance", "responsiveness", "rating", "fairness"] {
        assert!(o["why"][component].as_f64().is_some_and(|x| (0.0..=1.0).contains(&x)), "{component}: {o}");
    }
    let text = o.to_string();
    assert!(!text.contains("Pat Lee") && !text.contains("5550142"), "no contact before the claim: {text}");

    // The claim: the homeowner's contact, the price taken from the wallet, once.
    let offer = o["id"].as_str().unwrap_or_default().to_owned();
    let (status, bought) = claim(&app, &p[0], &offer).await?;
    assert_eq!(status, StatusCode::OK, "{bought}");
    assert_eq!(bought["purchase"]["homeowner"]["phone"], "+16125550142");
    assert_eq!(bought["purchase"]["homeowner"]["name"], "Pat Lee");
    assert_eq!(bought["purchase"]["price_cents"], 2500);
    assert_eq!(bought["purchase"]["status"], "new");
    assert_eq!(bought["wallet"]["balance_cents"], 47_500);
    let (again, replay) = claim(&app, &p[0], &offer).await?;
    assert_eq!(again, StatusCode::OK);
    assert_eq!(replay["purchase"]["id"], bought["purchase"]["id"], "the same purchase");
    assert_eq!(balance(&app, &p[0]).await?, 47_500, "charged once");

    // The others see the buyer count move.
    let seen = offers(&app, &p[1]).await?;
    assert_eq!(seen[0]["buyers"]["taken"], 1);

    // Entries: the top-up and the purchase, newest first, with running balances.
    let entries: Value = app.get("/api/v1/pro/wallet/entries").bearer_auth(&p[0].token).send().await?.json().await?;
    let items = entries["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 2, "{entries}");
    assert_eq!(items[0]["kind"], "purchase");
    assert_eq!(items[0]["amount_cents"], -2500);
    assert_eq!(items[0]["balance_after_cents"], 47_500);
    assert_eq!(items[0]["reference"], bought["purchase"]["id"]);
    assert_eq!(items[1]["kind"], "top_up");

    // The bought lead is listed with its contact.
    let leads: Value = app.get("/api/v1/pro/leads").bearer_auth(&p[0].token).send().await?.json().await?;
    assert_eq!(leads["items"][0]["lead_id"], json!(lead.to_string()));
    assert_eq!(leads["items"][0]["homeowner"]["phone"], "+16125550142");
    assert_eq!(leads["next_cursor"], Value::Null);

    // Declining: 204, then the offer cannot be claimed; a claimed offer cannot be declined.
    let other = offer_for(&app, &p[1], lead).await?;
    let res = app
        .post(&format!("/api/v1/pro/offers/{other}/decline"))
        .bearer_auth(&p[1].token)
        .json(&json!({"reason": "too far"}))
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (status, problem) = claim(&app, &p[1], &other).await?;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["type"], "/problems/offer-declined");
    let res = app.post(&format!("/api/v1/pro/offers/{offer}/decline")).bearer_auth(&p[0].token).send().await?;
    assert_eq!(res.status(), StatusCode::CONFLICT);

    // Someone else's offer is not found, whoever asks.
    let (status, _) = claim(&app, &p[2], &other).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = claim(&app, &p[2], &Uuid::now_v7().to_string()).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    ledger_sound(&app).await
}

#[tokio::test]
async fn pro_endpoints_refuse_strangers_and_bad_input() -> R {
    let app = TestApp::spawn().await?;
    let p = pros(&app, 1, &ProSetup { balance_cents: 2_500, ..ProSetup::default() }).await?;
    assert_eq!(app.get("/api/v1/pro/offers").send().await?.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/api/v1/pro/wallet").bearer_auth("nonsense").send().await?.status(), StatusCode::UNAUTHORIZED);
    let bad = app.get("/api/v1/pro/offers?status=stolen").bearer_auth(&p[0].token).send().await?;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    for q in ["limit=0", "limit=101", "limit=ten", "cursor=not-a-cursor"] {
        let res = app.get(&format!("/api/v1/pro/leads?{q}")).bearer_auth(&p[0].token).send().await?;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{q}");
    }
    let res = app.post("/api/v1/pro/offers/not-a-uuid/claim").bearer_auth(&p[0].token).send().await?;
    assert!(res.status().is_client_error());

    // Top-ups: the amount pinned on both sides of its limits; wrong shapes refused; nothing kept.
    for (amount, ok) in [(2_499, false), (2_500, true), (500_000, true), (500_001, false), (-2_500, false)] {
        let res = app
            .post("/api/v1/pro/wallet/top-ups")
            .bearer_auth(&p[0].token)
            .json(&json!({"amount_cents": amount}))
            .send()
            .await?;
        let want = if ok { StatusCode::CREATED } else { StatusCode::UNPROCESSABLE_ENTITY };
        assert_eq!(res.status(), want, "{amount}");
    }
    assert_eq!(balance(&app, &p[0]).await?, 2_500 + 2_500 + 500_000);
    let res =
        app.post("/api/v1/pro/wallet/top-ups").bearer_auth(&p[0].token).body("{\"amount_cents\": 5000}").send().await?;
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let res = app
        .post("/api/v1/pro/wallet/top-ups")
        .bearer_auth(&p[0].token)
        .header("content-type", "application/json")
        .body("{\"amount_cents\": ")
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app
        .post("/api/v1/pro/wallet/top-ups")
        .bearer_auth(&p[0].token)
        .json(&json!({"amount_cents": "5000"}))
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .post("/api/v1/pro/wallet/top-ups")
        .bearer_auth(&p[0].token)
        .json(&json!({"amount_cents": 5000, "card": "4242"}))
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "unknown fields are refused");
    let res = app
        .post("/api/v1/pro/offers/00000000-0000-0000-0000-000000000000/decline")
        .bearer_auth(&p[0].token)
        .json(&json!({"reason": "x".repeat(501)}))
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(balance(&app, &p[0]).await?, 505_000);
    ledger_sound(&app).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn top_ups_with_one_idempotency_key_credit_once() -> R {
    let app = TestApp::spawn().await?;
    let p = pros(&app, 1, &ProSetup { balance_cents: 2_500, ..ProSetup::default() }).await?;
    let send = |key: &'static str, amount: i64| {
        app.post("/api/v1/pro/wallet/top-ups")
            .bearer_auth(&p[0].token)
            .header("Idempotency-Key", key)
            .json(&json!({"amount_cents": amount}))
            .send()
    };
    let answers = join_all((0..10).map(|_| send("top-up-1", 10_000))).await;
    let mut ids = std::collections::HashSet::new();
    for res in answers {
        let res = res?;
        assert_eq!(res.status(), StatusCode::CREATED);
        let body: Value = res.json().await?;
        // A retry that arrives while the first is still with the provider sees it pending.
        assert!(body["status"] == "succeeded" || body["status"] == "pending", "{body}");
        ids.insert(body["id"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(ids.len(), 1, "one top-up");
    assert_eq!(balance(&app, &p[0]).await?, 12_500, "credited once");
    let replay: Value = send("top-up-1", 10_000).await?.json().await?;
    assert_eq!(replay["status"], "succeeded");
    assert!(ids.contains(replay["id"].as_str().unwrap_or_default()));
    let res = send("top-up-1", 20_000).await?;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json::<Value>().await?["type"], "/problems/idempotency-key-reused");
    // One receipt for the one top-up (and one for the fixture's first), with the balance after it.
    let receipts: Vec<String> = sqlx::query_scalar(
        "SELECT payload->>'text_body' FROM jobs WHERE kind = 'send_email' AND payload->>'to' = $1 \
         AND payload->>'subject' LIKE 'Receipt: %' ORDER BY id",
    )
    .bind(&p[0].email)
    .fetch_all(&app.pool)
    .await?;
    assert_eq!(receipts.len(), 2, "{receipts:?}");
    assert!(
        receipts[1].contains("$100.00 was added") && receipts[1].contains("\nBalance after: $125.00\n"),
        "{receipts:?}"
    );
    ledger_sound(&app).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn six_pros_racing_for_three_places_three_buy() -> R {
    let app = TestApp::spawn().await?;
    let p = pros(&app, 6, &ProSetup::default()).await?;
    let lead = app.verified_lead("6125550143", "drain-cleaning", "within_48h", "55401").await?;
    app.run_pending_jobs().await?;
    let mut claims = Vec::new();
    for pro in &p {
        claims.push((pro.clone(), offer_for(&app, pro, lead).await?));
    }
    let answers = join_all(claims.iter().map(|(pro, offer)| claim(&app, pro, offer))).await;
    let mut won = 0;
    let mut sold_out = 0;
    for a in answers {
        let (status, body) = a?;
        match status {
            StatusCode::OK => won += 1,
            StatusCode::CONFLICT if body["type"] == "/problems/offer-sold-out" => sold_out += 1,
            other => anyhow::bail!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((won, sold_out), (3, 3));
    let mut charged = 0;
    for pro in &p {
        charged += 50_000 - balance(&app, pro).await?;
    }
    assert_eq!(charged, 3 * 2_500, "exactly three paid");
    let status: String =
        sqlx::query_scalar("SELECT status::text FROM leads WHERE id = $1").bind(lead).fetch_one(&app.pool).await?;
    assert_eq!(status, "sold");
    let buyers: i32 =
        sqlx::query_scalar("SELECT buyers FROM leads WHERE id = $1").bind(lead).fetch_one(&app.pool).await?;
    assert_eq!(buyers, 3);
    ledger_sound(&app).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_claim_twenty_times_at_once_charges_once() -> R {
    let app = TestApp::spawn().await?;
    let p = pros(&app, 1, &ProSetup::default()).await?;
    let lead = app.verified_lead("6125550144", "drain-cleaning", "within_48h", "55401").await?;
    app.run_pending_jobs().await?;
    let offer = offer_for(&app, &p[0], lead).await?;
    let answers = join_all((0..20).map(|_| claim(&app, &p[0], &offer))).await;
    let mut purchases = std::collections::HashSet::new();
    for a in answers {
        let (status, body) = a?;
        assert_eq!(status, StatusCode::OK, "{body}");
        purchases.insert(body["purchase"]["id"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(purchases.len(), 1);
    assert_eq!(balance(&app, &p[0]).await?, 47_500);
    ledger_sound(&app).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_balance_for_three_leads_buys_three_of_ten() -> R {
    let app = TestApp::spawn().await?;
    let p = pros(&app, 1, &ProSetup { balance_cents: 7_500, ..ProSetup::default() }).await?;
    let mut offers_held = Vec::new();
    for i in 0..10 {
        let lead = app.verified_lead(&format!("61255502{i:02}"), "drain-cleaning", "within_48h", "55401").await?;
        app.run_pending_jobs().await?;
        offers_held.push(offer_for(&app, &p[0], lead).await?);
    }
    let answers = join_all(offers_held.iter().map(|o| claim(&app, &p[0], o))).await;
    let mut bought = 0;
    let mut too_low = 0;
    for a in answers {
        let (status, body) = a?;
        match status {
            StatusCode::OK => bought += 1,
            StatusCode::PAYMENT_REQUIRED => {
                assert_eq!(body["type"], "/problems/insufficient-balance");
                too_low += 1;
            }
            other => anyhow::bail!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((bought, too_low), (3, 7));
    assert_eq!(balance(&app, &p[0]).await?, 0);
    ledger_sound(&app).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn daily_cap_and_weekly_budget_hold_under_parallel_claims() -> R {
    let app = TestApp::spawn().await?;
    let capped = app.active_pro(0, &ProSetup { daily_cap: Some(2), ..ProSetup::default() }).await?;
    let budgeted = app
        .active_pro(1, &ProSetup { weekly_budget_cents: Some(5_000), daily_cap: None, ..ProSetup::default() })
        .await?;
    // Offers counted against cap and budget while live: each lead is offered before the next, and
    // claimed... so make all offers first, with cap and budget lifted, then lower them.
    sqlx::query("UPDATE pros SET daily_cap = NULL, weekly_budget_cents = NULL").execute(&app.pool).await?;
    let mut held = Vec::new();
    for i in 0..4 {
        let lead = app.verified_lead(&format!("61255503{i:02}"), "drain-cleaning", "within_48h", "55401").await?;
        app.run_pending_jobs().await?;
        held.push((offer_for(&app, &capped, lead).await?, offer_for(&app, &budgeted, lead).await?));
    }
    sqlx::query("UPDATE pros SET daily_cap = 2 WHERE user_id = $1").bind(capped.id).execute(&app.pool).await?;
    sqlx::query("UPDATE pros SET weekly_budget_cents = 5000 WHERE user_id = $1")
        .bind(budgeted.id)
        .execute(&app.pool)
        .await?;
    let answers =
        join_all(held.iter().flat_map(|(a, b)| [(capped.clone(), a.clone()), (budgeted.clone(), b.clone())]).map(
            |(pro, offer)| {
                let app = &app;
                async move { (pro.id, claim(app, &pro, &offer).await) }
            },
        ))
        .await;
    let (mut ok, mut capped_out) = (std::collections::HashMap::new(), 0);
    for (id, a) in answers {
        let (status, body) = a?;
        match status {
            StatusCode::OK => *ok.entry(id).or_insert(0) += 1,
            StatusCode::CONFLICT if body["type"] == "/problems/cap-reached" => capped_out += 1,
            other => anyhow::bail!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(ok.get(&capped.id), Some(&2), "daily cap 2");
    assert_eq!(ok.get(&budgeted.id), Some(&2), "budget 50.00 = two 25.00 leads");
    assert_eq!(capped_out, 4);
    ledger_sound(&app).await
}

#[tokio::test]
async fn a_bought_lead_moves_forwards_through_its_outcome() -> R {
    let app = TestApp::spawn().await?;
    let p = pros(&app, 2, &ProSetup::default()).await?;
    let lead = app.verified_lead("6125550145", "drain-cleaning", "within_48h", "55401").await?;
    app.run_pending_jobs().await?;
    let (_, bought) = claim(&app, &p[0], &offer_for(&app, &p[0], lead).await?).await?;
    let id = bought["purchase"]["id"].as_str().unwrap_or_default().to_owned();
    let patch = |pro: &Pro, body: Value| {
        app.request(reqwest::Method::PATCH, &format!("/api/v1/pro/leads/{id}"))
            .bearer_auth(&pro.token)
            .json(&body)
            .send()
    };

    let res = patch(&p[0], json!({"status": "quoted", "quote_cents": 45_000})).await?;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await?;
    assert_eq!((body["status"].clone(), body["quote_cents"].clone()), (json!("quoted"), json!(45_000)));
    assert_eq!(body["homeowner"]["phone"], "+16125550145");
    // Backwards is refused; so is a status the pro does not set; the quote is kept.
    let res = patch(&p[0], json!({"status": "contacted"})).await?;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(res.json::<Value>().await?["type"], "/problems/invalid-transition");
    assert_eq!(patch(&p[0], json!({"status": "credited"})).await?.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(patch(&p[0], json!({})).await?.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        patch(&p[0], json!({"status": "won", "job_value_cents": -1})).await?.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let res = patch(&p[0], json!({"status": "won", "job_value_cents": 52_000})).await?;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await?;
    assert_eq!((body["quote_cents"].clone(), body["job_value_cents"].clone()), (json!(45_000), json!(52_000)));
    assert_eq!(patch(&p[0], json!({"status": "lost"})).await?.status(), StatusCode::CONFLICT, "won is final");
    // Another pro cannot see or change it.
    assert_eq!(patch(&p[1], json!({"status": "lost"})).await?.status(), StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test]
async fn the_ledger_refuses_edits_and_its_check_finds_what_slipped_past() -> R {
    let app = TestApp::spawn().await?;
    let p = pros(&app, 1, &ProSetup { balance_cents: 5_000, ..ProSetup::default() }).await?;
    ledger_sound(&app).await?;
    // The schema refuses edits, deletions and balances moved by hand.
    for sql in [
        "UPDATE ledger_entries SET amount_cents = amount_cents * 2",
        "DELETE FROM ledger_entries",
        "UPDATE ledger_transfers SET reference = 'x'",
        "UPDATE ledger_accounts SET balance_cents = balance_cents + 100",
    ] {
        assert!(sqlx::query(sql).execute(&app.pool).await.is_err(), "{sql}");
    }
    assert_eq!(balance(&app, &p[0]).await?, 5_000);
    // Behind the guards' back (only the schema's owner could): half a transfer.
    let owner = app.owner_pool().await?;
    sqlx::query("ALTER TABLE ledger_entries DISABLE TRIGGER USER").execute(&owner).await?;
    sqlx::query(
        "INSERT INTO ledger_entries (transfer_id, account_id, amount_cents, balance_after_cents, created_at)
         SELECT transfer_id, account_id, 100, 999, created_at FROM ledger_entries WHERE amount_cents > 0 LIMIT 1",
    )
    .execute(&owner)
    .await?;
    let check = services::market::wallet::check(&app.state.ctx).await?;
    assert!(!check.sound());
    assert_eq!(
        (check.unbalanced_transfers, check.drifted_balances, check.broken_running_balances),
        (1, 1, 1),
        "{check:?}"
    );
    Ok(())
}

async fn claim_on(node: &TestApp, pro: &Pro, offer: &str) -> anyhow::Result<(StatusCode, Value)> {
    claim(node, pro, offer).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_database_still_sell_three_places_and_never_overdraw() -> R {
    let app = TestApp::spawn().await?;
    let other = app.another_node().await?;
    let p = pros(&app, 6, &ProSetup::default()).await?;
    let lead = app.verified_lead("6125550146", "drain-cleaning", "within_48h", "55401").await?;
    app.run_pending_jobs().await?;
    let mut claims = Vec::new();
    for (i, pro) in p.iter().enumerate() {
        let node = if i % 2 == 0 { &app } else { &other };
        claims.push((node, pro.clone(), offer_for(&app, pro, lead).await?));
    }
    let answers = join_all(claims.iter().map(|(node, pro, offer)| claim_on(node, pro, offer))).await;
    let won = answers.iter().filter(|a| a.as_ref().is_ok_and(|(s, _)| *s == StatusCode::OK)).count();
    let sold_out = answers
        .iter()
        .filter(|a| {
            a.as_ref().is_ok_and(|(s, b)| *s == StatusCode::CONFLICT && b["type"] == "/problems/offer-sold-out")
        })
        .count();
    let seen: Vec<String> =
        answers.iter().map(|a| format!("{:?}", a.as_ref().map(|(s, b)| (s, b["type"].clone())))).collect();
    assert_eq!((won, sold_out), (3, 3), "{seen:?}");

    // One pro (alone in Chicago) whose balance covers three leads claims ten, half through each
    // instance.
    let q = app.active_pro(10, &ProSetup { balance_cents: 7_500, zip: "60601", ..ProSetup::default() }).await?;
    let mut held = Vec::new();
    for i in 0..10 {
        let lead = app.verified_lead(&format!("31255504{i:02}"), "clogged-toilet", "within_48h", "60601").await?;
        app.run_pending_jobs().await?;
        held.push(offer_for(&app, &q, lead).await?);
    }
    let answers =
        join_all(held.iter().enumerate().map(|(i, o)| claim_on(if i % 2 == 0 { &app } else { &other }, &q, o))).await;
    let bought = answers.iter().filter(|a| a.as_ref().is_ok_and(|(s, _)| *s == StatusCode::OK)).count();
    let too_low = answers.iter().filter(|a| a.as_ref().is_ok_and(|(s, _)| *s == StatusCode::PAYMENT_REQUIRED)).count();
    // Clogged toilets are $20.00: $75.00 buys three, and $15.00 is left.
    assert_eq!((bought, too_low), (3, 7));
    assert_eq!(balance(&app, &q).await?, 1_500);
    ledger_sound(&app).await
}

#[tokio::test]
async fn disputes_within_fourteen_days_credit_at_once_when_our_data_shows_it() -> R {
    let app = TestApp::spawn().await?;
    let p = pros(&app, 2, &ProSetup::default()).await?;
    let buy = |pro: usize, phone: &'static str, category: &'static str| {
        let (app, pro) = (&app, &p[pro]);
        async move {
            let lead = app.verified_lead(phone, category, "within_48h", "55401").await?;
            app.run_pending_jobs().await?;
            let (status, body) = claim(app, pro, &offer_for(app, pro, lead).await?).await?;
            anyhow::ensure!(status == StatusCode::OK, "{body}");
            anyhow::Ok(body["purchase"]["id"].as_str().unwrap_or_default().to_owned())
        }
    };
    let dispute = |token: String, purchase: String, body: Value| {
        app.post(&format!("/api/v1/pro/leads/{purchase}/disputes")).bearer_auth(token).json(&body).send()
    };
    // The same homeowner asks twice a minute apart (another job title for the same clog): the
    // second request, bought by the other pro, is a duplicate by our own data.
    let first = buy(0, "6125550190", "drain-cleaning").await?;
    app.clock.advance(time::Duration::minutes(1));
    let second = buy(1, "6125550190", "clogged-toilet").await?;
    assert_eq!(balance(&app, &p[1]).await?, 48_000);
    let res =
        dispute(p[1].token.clone(), second.clone(), json!({"reason": "duplicate", "note": "Same job as the drain"}))
            .await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await?;
    assert_eq!((body["status"].clone(), body["credit_cents"].clone()), (json!("credited"), json!(2000)));
    assert_eq!(balance(&app, &p[1]).await?, 50_000);
    let again = dispute(p[1].token.clone(), second.clone(), json!({"reason": "other"})).await?;
    assert_eq!(again.json::<Value>().await?["type"], "/problems/already-disputed");
    assert_eq!(
        dispute(p[0].token.clone(), second.clone(), json!({"reason": "other"})).await?.status(),
        StatusCode::NOT_FOUND
    );
    // The first request had no earlier twin: open for staff, no credit.
    let body: Value = dispute(p[0].token.clone(), first.clone(), json!({"reason": "duplicate"})).await?.json().await?;
    assert_eq!((body["status"].clone(), body["credit_cents"].clone()), (json!("open"), Value::Null));
    assert_eq!(balance(&app, &p[0]).await?, 47_500);
    let leads: Value = app.get("/api/v1/pro/leads").bearer_auth(&p[0].token).send().await?.json().await?;
    assert_eq!(
        (leads["items"][0]["status"].clone(), leads["items"][0]["dispute"]["status"].clone()),
        (json!("disputed"), json!("open"))
    );

    // A reason is required; fourteen days is the limit, pinned on both sides.
    let third = buy(0, "6125550191", "leak-detection").await?;
    assert_eq!(
        dispute(p[0].token.clone(), third.clone(), json!({"reason": "lost"})).await?.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(dispute(p[0].token.clone(), third.clone(), json!({})).await?.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let fourth = buy(1, "6125550192", "leak-detection").await?;
    let token = |n: usize| {
        let (app, email) = (&app, p[n].email.clone());
        async move { anyhow::Ok(app.api_login(&email, testkit::PRO_PASSWORD).await?.0) }
    };
    app.clock.advance(time::Duration::days(14) + time::Duration::seconds(1));
    let late = dispute(token(0).await?, third, json!({"reason": "not_a_real_request"})).await?;
    assert_eq!(late.json::<Value>().await?["type"], "/problems/dispute-window-closed");
    app.clock.advance(time::Duration::seconds(-2));
    let in_time = dispute(token(1).await?, fourth, json!({"reason": "not_a_real_request"})).await?;
    assert_eq!(in_time.status(), StatusCode::CREATED);
    ledger_sound(&app).await
}
