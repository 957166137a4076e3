//! Messages leave through jobs and the configured providers; the dev providers keep them.

use domain::{Cents, Clock};
use integrations::{CheckoutRequest, PaymentEvent, PaymentProvider, ProviderError, RefundRequest, SandboxPayments};
use services::housekeeping::{Pruned, prune};
use services::jobs::{Housekeeping, Message, SendEmail, SendMessages, SendSms};
use std::sync::Arc;
use store::dev_outbox;
use testkit::TestApp;

type R = anyhow::Result<()>;

#[tokio::test]
async fn an_email_enqueued_with_a_business_write_is_delivered_to_the_dev_mailbox_by_a_worker() -> R {
    let app = TestApp::spawn().await?;
    let mut tx = app.pool.begin().await?;
    let email = SendEmail {
        to: "pat@example.com".into(),
        subject: "Your request is with 3 plumbers".into(),
        text_body: "Expect a call within 30 minutes.".into(),
        html_body: None,
        unsubscribe: None,
    };
    app.state.queue.enqueue(&mut tx, &email).await?;
    tx.commit().await?;

    let mut conn = app.pool.acquire().await?;
    assert!(dev_outbox::recent_emails(&mut conn, None, 10).await?.is_empty(), "nothing is sent inside the request");
    assert_eq!(app.run_pending_jobs().await?, 1);
    let inbox = dev_outbox::recent_emails(&mut conn, Some("pat@example.com"), 10).await?;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].subject, "Your request is with 3 plumbers");
    assert_eq!(inbox[0].from, "PlumberLeads <hello@plumberleads.localhost>");
    assert_eq!(inbox[0].created_at, app.clock.now());
    Ok(())
}

#[tokio::test]
async fn an_sms_the_provider_refuses_is_not_retried_and_a_good_one_is_kept() -> R {
    let app = TestApp::spawn().await?;
    let mut tx = app.pool.begin().await?;
    app.state.queue.enqueue(&mut tx, &SendSms::new("612-555-0123".into(), "code 123456".into())).await?;
    app.state.queue.enqueue(&mut tx, &SendSms::new("+16125550123".into(), "Your code is 123456".into())).await?;
    tx.commit().await?;
    assert_eq!(app.run_pending_jobs().await?, 2);

    let mut conn = app.pool.acquire().await?;
    let sent = dev_outbox::recent_sms(&mut conn, None, 10).await?;
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].to.as_str(), sent[0].body.as_str()), ("+16125550123", "Your code is 123456"));
    let dead = app.state.queue.dead_jobs(10).await?;
    assert_eq!(dead.len(), 1, "a number that is not E.164 will never work: dead at once");
    assert!(dead[0].last_error.as_deref().unwrap_or_default().contains("E.164"));
    Ok(())
}

#[tokio::test]
async fn a_batch_sends_its_messages_once_and_what_the_provider_refuses_goes_on_as_a_job_of_its_own() -> R {
    let app = TestApp::spawn().await?;
    let mail = |to: &str| SendEmail {
        to: to.into(),
        subject: "New lead".into(),
        text_body: "A new lead matches your settings.".into(),
        html_body: None,
        unsubscribe: None,
    };
    let batch = SendMessages {
        messages: vec![
            Message::Sms(SendSms::new("+16125550123".into(), "lead one".into())),
            Message::Sms(SendSms::new("612-555-0199".into(), "lead two".into())),
            Message::Email(mail("pat@example.com")),
            Message::Email(mail("not an address")),
        ],
    };
    let mut tx = app.pool.begin().await?;
    app.state.queue.enqueue(&mut tx, &batch).await?;
    tx.commit().await?;

    // The batch, then the two messages it could not deliver, each tried once as its own job.
    assert_eq!(app.run_pending_jobs().await?, 3);
    let mut conn = app.pool.acquire().await?;
    let texts = dev_outbox::recent_sms(&mut conn, None, 10).await?;
    assert_eq!(
        texts.iter().map(|t| (t.to.as_str(), t.body.as_str())).collect::<Vec<_>>(),
        [("+16125550123", "lead one")]
    );
    assert_eq!(dev_outbox::recent_emails(&mut conn, None, 10).await?.len(), 1, "the good e-mail, once");
    let mut dead: Vec<(String, String)> =
        app.state.queue.dead_jobs(10).await?.into_iter().map(|d| (d.kind, d.last_error.unwrap_or_default())).collect();
    dead.sort();
    assert_eq!(dead.len(), 2, "the refused ones, each in the dead letters with the provider's reason: {dead:?}");
    assert!(dead[0].0 == "send_email" && dead[0].1.contains("is not an e-mail address"), "{dead:?}");
    assert!(dead[1].0 == "send_sms" && dead[1].1.contains("E.164"), "{dead:?}");
    Ok(())
}

#[tokio::test]
async fn sandbox_checkout_completes_once_with_the_amount_and_reference() -> R {
    let app = TestApp::spawn().await?;
    let public = app.settings.http.public_url.clone();
    let sandbox = SandboxPayments::new(app.pool.clone(), Arc::new(app.clock.clone()), public);
    let checkout = sandbox
        .create_checkout(&CheckoutRequest {
            reference: "topup-42".into(),
            amount: Cents(5_000),
            success_url: format!("{}/pro/wallet", app.url),
            cancel_url: format!("{}/pro/wallet", app.url),
        })
        .await?;
    assert!(checkout.url.starts_with(&format!("{}/sandbox/checkout/", app.url)), "{}", checkout.url);

    let event = sandbox.pay(&checkout.id).await?;
    assert_eq!(
        event,
        Some(PaymentEvent::CheckoutCompleted {
            checkout_id: checkout.id.clone(),
            reference: "topup-42".into(),
            amount: Cents(5_000)
        })
    );
    assert_eq!(sandbox.pay(&checkout.id).await?, None, "a second completion produces no second event");
    assert_eq!(sandbox.pay("not-a-checkout").await?, None);
    let refused = sandbox
        .create_checkout(&CheckoutRequest {
            reference: "x".into(),
            amount: Cents(0),
            success_url: String::new(),
            cancel_url: String::new(),
        })
        .await;
    assert!(refused.is_err());
    Ok(())
}

#[tokio::test]
async fn sandbox_refunds_once_per_reference_and_never_more_than_was_paid() -> R {
    let app = TestApp::spawn().await?;
    let public = app.settings.http.public_url.clone();
    let sandbox = SandboxPayments::new(app.pool.clone(), Arc::new(app.clock.clone()), public);
    let request = |reference: &str| CheckoutRequest {
        reference: reference.into(),
        amount: Cents(5_000),
        success_url: String::new(),
        cancel_url: String::new(),
    };
    let paid = sandbox.create_checkout(&request("topup-1")).await?;
    sandbox.pay(&paid.id).await?;
    let unpaid = sandbox.create_checkout(&request("topup-2")).await?;
    let refund = |checkout: &str, cents: i64, reference: &str| RefundRequest {
        checkout_id: checkout.into(),
        amount: Cents(cents),
        reference: reference.into(),
    };

    let first = sandbox.refund(&refund(&paid.id, 3_000, "r1")).await?;
    assert_eq!(sandbox.refund(&refund(&paid.id, 3_000, "r1")).await?, first, "asked twice, refunded once");
    sandbox.refund(&refund(&paid.id, 2_000, "r2")).await?;
    let too_much = sandbox.refund(&refund(&paid.id, 1, "r3")).await;
    assert!(matches!(too_much, Err(ProviderError::Rejected(_))), "{too_much:?}");
    let not_paid = sandbox.refund(&refund(&unpaid.id, 100, "r4")).await;
    assert!(matches!(not_paid, Err(ProviderError::Rejected(_))), "{not_paid:?}");
    let nonsense = sandbox.refund(&refund("not-a-checkout", 100, "r5")).await;
    assert!(matches!(nonsense, Err(ProviderError::Rejected(_))), "{nonsense:?}");
    let given = store::sandbox::refunded(&mut *app.pool.acquire().await?, paid.id.parse()?).await?;
    assert_eq!(given, 5_000);
    Ok(())
}

#[tokio::test]
async fn housekeeping_prunes_expired_idempotency_keys_and_old_rate_limit_windows() -> R {
    let app = TestApp::spawn().await?;
    submit_with_idempotency_key(&app).await?;
    let pruned = |p: Pruned| (p.idempotency_keys, p.rate_limit_windows);
    assert_eq!(pruned(prune(&app.state).await?), (0, 0), "nothing has expired yet");
    app.clock.advance(time::Duration::days(2));
    let (keys, windows) = pruned(prune(&app.state).await?);
    assert_eq!(keys, 1);
    assert!(windows >= 2, "the address and phone windows: {windows}");
    Ok(())
}

#[tokio::test]
async fn the_housekeeping_job_prunes_through_the_same_use_case() -> R {
    let app = TestApp::spawn().await?;
    submit_with_idempotency_key(&app).await?;
    app.run_pending_jobs().await?;
    app.clock.advance(time::Duration::days(2));
    let mut conn = app.pool.acquire().await?;
    app.state.queue.enqueue(&mut conn, &Housekeeping {}).await?;
    app.run_pending_jobs().await?;
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM idempotency_keys").fetch_one(&mut *conn).await?;
    assert_eq!(left, 0, "the job pruned the expired key");
    Ok(())
}

/// A lead by the API with an `Idempotency-Key`: one idempotency record and two rate-limit windows.
async fn submit_with_idempotency_key(app: &TestApp) -> R {
    let body = serde_json::json!({"name": "Pat", "phone": "6125550123", "zip": "55401", "category": "burst-pipe",
        "urgency": "flexible", "description": "Drip under the sink", "consent": true});
    let res = app.post("/api/v1/leads").header("idempotency-key", "k").json(&body).send().await?;
    assert_eq!(res.status(), 201);
    Ok(())
}
