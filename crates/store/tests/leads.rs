//! `write_new`: many submissions in one call, each written or refused for its own reason.

use domain::lead::{LeadEvent, LeadStatus};
use sqlx::PgPool;
use store::lead_writer::LeadWriter;
use store::leads::{Checks, Counted, Intake, NewLead, Outbound, WithLead, Written, write_new};
use testkit::TestDatabase;
use time::OffsetDateTime;
use uuid::Uuid;

type R = anyhow::Result<()>;

async fn pool() -> anyhow::Result<(TestDatabase, PgPool)> {
    let db = TestDatabase::create().await?;
    let pool = PgPool::connect(&db.url).await?;
    Ok((db, pool))
}

fn at() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A submission from `phone` for `category`; its phone may make two leads a day.
fn intake(phone: &str, category: &str) -> Intake {
    let now = at();
    Intake {
        lead: NewLead {
            id: Uuid::now_v7(),
            status: LeadStatus::PendingVerification,
            category: category.into(),
            urgency: "emergency",
            zip: "55401".into(),
            description: "Water under the sink; it's <b>'; DROP TABLE leads; --".into(),
            name: "Pat Lee".into(),
            phone: phone.into(),
            email: None,
            contact_preference: "phone",
            consent_version: "2026-11-25",
            source: "web",
            partner_id: None,
            utm: serde_json::json!({}),
            referrer: None,
            now,
        },
        checks: Checks {
            duplicate_since: now - time::Duration::days(7),
            phone: Counted { key: format!("leads:phone:{phone}"), window: now, max: 2 },
        },
        with: WithLead {
            code: Some((vec![7; 32], now + time::Duration::minutes(10))),
            events: &[LeadEvent::Received, LeadEvent::CodeSent],
            job: Some(Outbound {
                kind: "send_sms",
                payload: serde_json::json!({"to": phone, "body": "code"}),
                max_attempts: 5,
            }),
            funnel: None,
        },
    }
}

/// An address's limit: at most `max` submissions in the window.
fn address(ip: &str, max: i32) -> Option<Counted> {
    Some(Counted { key: format!("leads:ip:{ip}"), window: at(), max })
}

async fn count(pool: &PgPool, sql: &str) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(sql).fetch_one(pool).await?)
}

#[tokio::test]
async fn each_submission_of_a_call_is_written_or_refused_for_its_own_reason() -> R {
    let (_db, pool) = pool().await?;
    let mut conn = pool.acquire().await?;
    // Earlier: a lead from one phone, and a phone already at its limit of two.
    let earlier = intake("+16125550100", "burst-pipe");
    assert_eq!(write_new(&mut conn, std::slice::from_ref(&earlier)).await?, [Written::Created]);
    for one in [intake("+16125550101", "burst-pipe"), intake("+16125550101", "gas-line")] {
        assert_eq!(write_new(&mut conn, &[one]).await?, [Written::Created]);
    }

    let funnel = Uuid::new_v4();
    let from_form = |phone: &str| {
        let mut i = intake(phone, "burst-pipe");
        i.with.funnel = Some(funnel);
        i
    };
    let batch = [
        from_form("+16125550102"),
        // The same phone and job as the earlier lead: a duplicate of it.
        intake("+16125550100", "burst-pipe"),
        // A third job from a phone allowed two.
        intake("+16125550101", "sump-pump"),
        from_form("+16125550104"),
    ];
    let written = write_new(&mut conn, &batch).await?;
    assert_eq!(
        written,
        [Written::Created, Written::Duplicate { existing: earlier.lead.id }, Written::PhoneLimited, Written::Created]
    );

    let new = [batch[0].lead.id, batch[3].lead.id];
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT description FROM leads WHERE id = ANY($1)").bind(&new[..]).fetch_all(&pool).await?;
    assert_eq!(stored, ["Water under the sink; it's <b>'; DROP TABLE leads; --"; 2], "stored verbatim");
    // Each new lead: its code, its two timeline events in order, its text; nothing for the refused.
    assert_eq!(count(&pool, "SELECT count(*) FROM leads").await?, 5);
    assert_eq!(count(&pool, "SELECT count(*) FROM lead_verifications").await?, 5);
    assert_eq!(count(&pool, "SELECT count(*) FROM jobs WHERE kind = 'send_sms'").await?, 5);
    let kinds: Vec<String> = sqlx::query_scalar("SELECT kind FROM lead_events WHERE lead_id = $1 ORDER BY id")
        .bind(new[1])
        .fetch_all(&pool)
        .await?;
    assert_eq!(kinds, ["received", "code_sent"]);
    let attempts = format!(
        "SELECT count(*) FROM lead_events WHERE lead_id = '{}' AND kind = 'duplicate_attempt'",
        earlier.lead.id
    );
    assert_eq!(count(&pool, &attempts).await?, 1);
    let steps =
        format!("SELECT count(*) FROM analytics.funnel_events WHERE funnel_id = '{funnel}' AND step = 'submitted'");
    assert_eq!(count(&pool, &steps).await?, 1, "the form's funnel reached `submitted`");
    // The phone limit is counted only for would-be new leads.
    let phone = "SELECT count::bigint FROM rate_limit_counters WHERE key = 'leads:phone:";
    assert_eq!(count(&pool, &format!("{phone}+16125550101'")).await?, 3);
    assert_eq!(count(&pool, &format!("{phone}+16125550100'")).await?, 1);
    Ok(())
}

#[tokio::test]
async fn a_call_is_all_or_nothing_and_refuses_two_submissions_from_one_phone() -> R {
    let (_db, pool) = pool().await?;
    let mut conn = pool.acquire().await?;
    let mut bad = intake("+16125550111", "burst-pipe");
    bad.lead.zip = "00000".into();
    let batch = [intake("+16125550110", "burst-pipe"), bad];
    assert!(write_new(&mut conn, &batch).await.is_err(), "an unknown ZIP breaks the call");
    assert_eq!(count(&pool, "SELECT count(*) FROM leads").await?, 0, "nothing of the call is kept");
    assert_eq!(count(&pool, "SELECT count(*) FROM rate_limit_counters").await?, 0);

    let twice = [intake("+16125550110", "burst-pipe"), intake("+16125550110", "gas-line")];
    let refused = write_new(&mut conn, &twice).await.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(refused.contains("one submission per phone"), "{refused}");
    assert_eq!(count(&pool, "SELECT count(*) FROM leads").await?, 0);
    Ok(())
}

#[tokio::test]
async fn the_writer_answers_each_submission_even_when_one_it_groups_them_with_fails() -> R {
    let (_db, pool) = pool().await?;
    let writer = LeadWriter::new(pool.clone());
    let mut bad = intake("+16125550129", "burst-pipe");
    bad.lead.zip = "00000".into();
    // Sent together (this runtime runs the writer only once every submission is queued), so
    // they are grouped into calls; the bad one is refused alone.
    let mut sent: Vec<Intake> = (0..9).map(|i| intake(&format!("+1612555012{i}"), "burst-pipe")).collect();
    sent.insert(4, bad);
    // And three copies of one request: a lead, then a duplicate of it, then one over the
    // address's limit of 12 (every submission counts, whatever becomes of it).
    let copy = intake("+16125550199", "gas-line");
    sent.extend((0..3).map(|_| Intake { lead: NewLead { id: Uuid::now_v7(), ..copy.lead.clone() }, ..copy.clone() }));
    let answers =
        futures::future::join_all(sent.iter().map(|i| writer.write(i.clone(), address("10.0.0.1", 12)))).await;

    assert!(answers[4].is_err(), "the unknown ZIP: {:?}", answers[4]);
    let created = answers.iter().filter(|a| matches!(a, Ok(Written::Created))).count();
    assert_eq!(created, 10, "{answers:?}");
    assert!(matches!(answers[11], Ok(Written::Duplicate { existing }) if existing == sent[10].lead.id), "{answers:?}");
    assert!(matches!(answers[12], Ok(Written::Limited)), "{answers:?}");
    assert_eq!(count(&pool, "SELECT count(*) FROM leads").await?, 10);
    assert_eq!(
        count(&pool, "SELECT count::bigint FROM rate_limit_counters WHERE key = 'leads:ip:10.0.0.1'").await?,
        13
    );
    Ok(())
}
