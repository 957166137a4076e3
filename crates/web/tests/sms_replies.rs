//! Replies to our texts through Twilio's webhook (issue 12; the terms' SMS promises): STOP ends
//! them, START brings them back, HELP says who we are; only Twilio's signature is believed; a
//! code someone asks for still goes, and typing it back opts the phone in again.

use reqwest::StatusCode;
use testkit::TestApp;
use testkit::market::ProSetup;

type R = anyhow::Result<()>;

const TOKEN: &str = "0123456789abcdef0123456789abcdef";
const PATH: &str = "/webhooks/twilio/sms";

async fn app() -> anyhow::Result<TestApp> {
    TestApp::builder().setting("TWILIO_AUTH_TOKEN", TOKEN).spawn().await
}

/// Twilio forwarding `body` from `from`, signed with `token` (`None`: no signature).
async fn reply(app: &TestApp, from: &str, body: &str, token: Option<&str>) -> anyhow::Result<(StatusCode, String)> {
    let params: Vec<(String, String)> = [
        ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
        ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        ("From", from),
        ("To", "+16125550000"),
        ("Body", body),
        ("NumMedia", "0"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec();
    let mut req = app.post(PATH).form(&params);
    if let Some(token) = token {
        let url = format!("{}{PATH}", app.url);
        req = req.header(
            "x-twilio-signature",
            services::infra::twilio_signature::signature(token.as_bytes(), &url, &params),
        );
    }
    let res = req.send().await?;
    Ok((res.status(), res.text().await?))
}

/// The answer's text, as a phone would show it (XML character references read).
fn message_in(twiml: &str) -> Option<String> {
    let inner = twiml.split_once("<Message>")?.1.split_once("</Message>")?.0;
    let mut out = String::new();
    let mut rest = inner;
    while let Some((before, after)) = rest.split_once('&') {
        out.push_str(before);
        let (entity, tail) = after.split_once(';')?;
        out.push(match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            e => {
                let n = e
                    .strip_prefix("#x")
                    .map(|h| u32::from_str_radix(h, 16))
                    .or_else(|| e.strip_prefix('#').map(str::parse))?;
                char::from_u32(n.ok()?)?
            }
        });
        rest = tail;
    }
    out.push_str(rest);
    Some(out)
}

async fn texts(app: &TestApp, to: &str) -> anyhow::Result<usize> {
    app.run_pending_jobs().await?;
    Ok(app.texts_to(to).await?.len())
}

#[tokio::test]
async fn a_plumber_who_replies_stop_gets_no_more_texts_until_start_and_email_goes_on() -> R {
    let app = app().await?;
    let pro = app.active_pro(1, &ProSetup::default()).await?;
    let phone = "+16125551001";
    app.verified_lead("6125550301", "drain-cleaning", "within_48h", "55401").await?;
    let before = texts(&app, phone).await?;
    assert!(before > 0, "offers are texted to begin with");

    let (status, twiml) = reply(&app, phone, " Stop. ", Some(TOKEN)).await?;
    assert_eq!(status, StatusCode::OK);
    assert!(
        twiml.contains(
            "<Message>PlumberLeads: you won&#x27;t get any more texts from us. Reply START to get them again.</Message>"
        ) || twiml.contains("<Message>PlumberLeads: you won&#39;t get any more texts from us."),
        "{twiml}"
    );
    let emails = |app: &TestApp| {
        let pool = app.pool.clone();
        let to = pro.email.clone();
        async move {
            anyhow::Ok(
                sqlx::query_scalar::<_, i64>("SELECT count(*) FROM dev_mailbox WHERE to_address = $1")
                    .bind(to)
                    .fetch_one(&pool)
                    .await?,
            )
        }
    };
    let mails = emails(&app).await?;
    app.verified_lead("6125550302", "drain-cleaning", "within_48h", "55401").await?;
    assert_eq!(texts(&app, phone).await?, before, "no text after STOP");
    assert!(emails(&app).await? > mails, "the e-mail about the offer still goes");
    let metrics = app.get("/metrics").send().await?.text().await?;
    assert!(metrics.contains("messages_sent_total{channel=\"sms\",outcome=\"opted_out\"}"), "{metrics}");

    let (_, twiml) = reply(&app, phone, "START", Some(TOKEN)).await?;
    assert!(
        twiml.contains("you&#x27;ll get our texts again") || twiml.contains("you&#39;ll get our texts again"),
        "{twiml}"
    );
    app.verified_lead("6125550303", "drain-cleaning", "within_48h", "55401").await?;
    assert_eq!(texts(&app, phone).await?, before + 1, "texts again after START");
    Ok(())
}

#[tokio::test]
async fn help_says_who_we_are_and_other_messages_get_no_answer() -> R {
    let app = app().await?;
    let (status, twiml) = reply(&app, "+16125550310", "help", Some(TOKEN)).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        message_in(&twiml).as_deref(),
        Some(
            "PlumberLeads: plumbing requests and new-lead alerts. Msg & data rates may apply. Reply STOP to stop. Help: hello@plumberleads.localhost"
        ),
        "{twiml}"
    );
    assert!(twiml.starts_with("<?xml") && twiml.contains("<Response>"), "TwiML: {twiml}");
    for (from, body) in [("+16125550310", "yes please come at 3"), ("", "STOP"), ("12345", "STOP"), ("+0000", "STOP")] {
        let (status, twiml) = reply(&app, from, body, Some(TOKEN)).await?;
        assert_eq!(status, StatusCode::OK, "{from:?} {body:?}");
        assert!(!twiml.contains("<Message>"), "{from:?} {body:?}: {twiml}");
    }
    let out: i64 = sqlx::query_scalar("SELECT count(*) FROM sms_opt_outs").fetch_one(&app.pool).await?;
    assert_eq!(out, 0);
    Ok(())
}

#[tokio::test]
async fn only_twilios_signature_is_believed() -> R {
    let app = app().await?;
    assert_eq!(reply(&app, "+16125550320", "STOP", None).await?.0, StatusCode::FORBIDDEN);
    assert_eq!(
        reply(&app, "+16125550320", "STOP", Some("not-the-token-0123456789abcdef01")).await?.0,
        StatusCode::FORBIDDEN
    );
    let forged = app
        .post(PATH)
        .header("x-twilio-signature", "xgIcgYdo79CnNQolMVugi00IvjM=")
        .form(&[("From", "+16125550320"), ("Body", "STOP")])
        .send()
        .await?;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let out: i64 = sqlx::query_scalar("SELECT count(*) FROM sms_opt_outs").fetch_one(&app.pool).await?;
    assert_eq!(out, 0, "nobody was opted out by a forgery");
    // Without an auth token nothing can forward replies: there is no such endpoint.
    let plain = TestApp::spawn().await?;
    assert_eq!(reply(&plain, "+16125550320", "STOP", Some(TOKEN)).await?.0, StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test]
async fn a_homeowner_who_said_stop_still_gets_the_code_they_ask_for_and_typing_it_opts_them_in() -> R {
    let app = app().await?;
    let phone = "+16125550330";
    reply(&app, phone, "STOP", Some(TOKEN)).await?;
    // verified_lead sends a request and types back the texted code.
    app.verified_lead("6125550330", "drain-cleaning", "within_48h", "55401").await?;
    app.run_pending_jobs().await?;
    let sent = app.texts_to(phone).await?;
    assert!(sent.iter().any(|t| t.contains("your code is")), "the code went: {sent:?}");
    assert!(sent.iter().any(|t| t.contains("is confirmed")), "confirmed, then texted as usual: {sent:?}");
    let out: i64 = sqlx::query_scalar("SELECT count(*) FROM sms_opt_outs").fetch_one(&app.pool).await?;
    assert_eq!(out, 0, "typing the code back opted the phone in");
    Ok(())
}
