//! `/api/v1/pro/stream`: offers arrive without asking, across app instances; the buyer count
//! moves; a reconnect with `Last-Event-ID` gets what was missed.

use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;
use testkit::TestApp;
use testkit::market::ProSetup;

type R = anyhow::Result<()>;

/// One server-sent event: (id, event, data).
type Sse = (String, String, Value);

struct Stream {
    body: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<axum::body::Bytes>> + Send>>,
    buffer: String,
}

impl Stream {
    async fn open(node: &TestApp, token: &str, last_event_id: Option<&str>) -> anyhow::Result<Self> {
        let mut req = node.get("/api/v1/pro/stream").bearer_auth(token);
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id);
        }
        let res = req.send().await?;
        anyhow::ensure!(res.status() == StatusCode::OK, "stream answered {}", res.status());
        anyhow::ensure!(
            res.headers().get("content-type").and_then(|v| v.to_str().ok()) == Some("text/event-stream"),
            "not an event stream"
        );
        Ok(Self { body: Box::pin(res.bytes_stream()), buffer: String::new() })
    }

    /// The next event (comments skipped); gives up after 10 s, which no passing run comes near.
    async fn next(&mut self) -> anyhow::Result<Sse> {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if let Some(end) = self.buffer.find("\n\n") {
                    let block: String = self.buffer.drain(..end + 2).collect();
                    let (mut id, mut event, mut data) = (String::new(), String::new(), String::new());
                    for line in block.lines() {
                        if let Some(v) = line.strip_prefix("id:") {
                            id = v.trim().to_owned();
                        } else if let Some(v) = line.strip_prefix("event:") {
                            event = v.trim().to_owned();
                        } else if let Some(v) = line.strip_prefix("data:") {
                            data.push_str(v.trim());
                        }
                    }
                    if event.is_empty() {
                        continue;
                    }
                    return anyhow::Ok((id, event, serde_json::from_str(&data)?));
                }
                let chunk = self.body.next().await.ok_or_else(|| anyhow::anyhow!("stream ended"))??;
                self.buffer.push_str(&String::from_utf8_lossy(&chunk));
            }
        })
        .await
        .map_err(|_| anyhow::anyhow!("no event within 10 s"))?
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn offers_reach_open_streams_on_every_instance_and_a_reconnect_misses_nothing() -> R {
    let app = TestApp::spawn().await?;
    let other = app.another_node().await?;
    let watcher = app.active_pro(0, &ProSetup::default()).await?;
    let buyer = app.active_pro(1, &ProSetup::default()).await?;
    // The watcher's stream is served by the other instance; the sale runs on the first.
    let mut watching = Stream::open(&other, &watcher.token, None).await?;
    let mut buying = Stream::open(&app, &buyer.token, None).await?;

    let lead = app.verified_lead("6125550170", "drain-cleaning", "within_48h", "55401").await?;
    app.run_pending_jobs().await?;
    let (first_id, kind, offer) = watching.next().await?;
    assert_eq!(kind, "offer.created");
    assert_eq!(offer["lead_id"], lead.to_string());
    assert_eq!(offer["price"]["total_cents"], 2500);
    assert_eq!(offer["buyers"]["taken"], 0);
    assert!(offer.get("homeowner").is_none());
    let (_, kind, mine) = buying.next().await?;
    assert_eq!(kind, "offer.created");

    let claimed = app
        .post(&format!("/api/v1/pro/offers/{}/claim", mine["id"].as_str().unwrap_or_default()))
        .bearer_auth(&buyer.token)
        .send()
        .await?;
    assert_eq!(claimed.status(), StatusCode::OK);
    let (_, kind, wallet) = buying.next().await?;
    assert_eq!((kind.as_str(), wallet["balance_cents"].as_i64()), ("wallet.changed", Some(47_500)));
    let (_, kind, taken) = watching.next().await?;
    assert_eq!(kind, "offer.taken");
    assert_eq!(taken["offer_id"], offer["id"]);
    assert_eq!(taken["buyers"]["taken"], 1);

    // Reconnecting after the first event replays what came after it.
    drop(watching);
    let mut again = Stream::open(&other, &watcher.token, Some(&first_id)).await?;
    let (_, kind, replayed) = again.next().await?;
    assert_eq!((kind.as_str(), replayed["offer_id"].clone()), ("offer.taken", offer["id"].clone()));

    // Declining closes the offer on the stream.
    let res = app
        .post(&format!("/api/v1/pro/offers/{}/decline", offer["id"].as_str().unwrap_or_default()))
        .bearer_auth(&watcher.token)
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (_, kind, closed) = again.next().await?;
    assert_eq!((kind.as_str(), closed["reason"].as_str()), ("offer.closed", Some("declined")));
    assert_eq!(app.get("/api/v1/pro/stream").send().await?.status(), StatusCode::UNAUTHORIZED);
    Ok(())
}

async fn top_up(app: &TestApp, token: &str) -> anyhow::Result<()> {
    let res = app
        .post("/api/v1/pro/wallet/top-ups")
        .bearer_auth(token)
        .json(&serde_json::json!({ "amount_cents": 2500 }))
        .send()
        .await?;
    anyhow::ensure!(res.status() == StatusCode::CREATED, "top-up answered {}", res.status());
    Ok(())
}

async fn ended(stream: &mut Stream) -> bool {
    matches!(stream.next().await, Err(e) if e.to_string() == "stream ended")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_ends_when_its_access_token_expires_or_its_session_is_logged_out() -> R {
    let app = TestApp::spawn().await?;
    let pro = app.active_pro(0, &ProSetup::default()).await?;
    let mut stream = Stream::open(&app, &pro.token, None).await?;

    // Access tokens last 15 minutes: a second before, the stream still delivers.
    app.clock.advance(time::Duration::minutes(15) - time::Duration::seconds(1));
    top_up(&app, &pro.token).await?;
    assert_eq!(stream.next().await?.1, "wallet.changed");
    // At 15 minutes it ends instead (the news, made with fresh access, waits for a reconnect).
    app.clock.advance(time::Duration::seconds(1));
    let (fresh, _) = app.api_login(&pro.email, testkit::PRO_PASSWORD).await?;
    top_up(&app, &fresh).await?;
    assert!(ended(&mut stream).await, "the expired token's stream ended");

    // A stream on a session that logs out ends at the next news.
    let mut second = Stream::open(&app, &fresh, None).await?;
    let res = app.post("/api/v1/auth/logout").bearer_auth(&fresh).send().await?;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (other, _) = app.api_login(&pro.email, testkit::PRO_PASSWORD).await?;
    let mut third = Stream::open(&app, &other, None).await?;
    top_up(&app, &other).await?;
    assert_eq!(third.next().await?.1, "wallet.changed", "the live session's stream goes on");
    assert!(ended(&mut second).await, "the logged-out session's stream ended");
    Ok(())
}
