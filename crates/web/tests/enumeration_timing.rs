//! Whether an address has an account must not show in how long sign-in and password-reset take
//! (issue 10: "the timing of login and reset for unknown and known addresses is the same within
//! noise"). Each test times both kinds of request, interleaved, and asserts the difference of the
//! medians is under the spread of the timings themselves.

use reqwest::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};
use testkit::TestApp;

type R = anyhow::Result<()>;

const ROUNDS: usize = 40;
const KNOWN: &str = "jane@example.com";
const UNKNOWN: &str = "nobody-here@example.com";

/// Throttles and limits set out of the way: this is about the work done, not the limits.
async fn app() -> anyhow::Result<TestApp> {
    let app = TestApp::builder()
        .setting("PLUMBERLEADS_LOGIN_FREE_FAILURES", "100000")
        .setting("PLUMBERLEADS_LOGIN_IP_FREE_FAILURES", "100000")
        .setting("PLUMBERLEADS_LOGIN_MAX_FAILURES_PER_HOUR", "100000")
        .setting("PLUMBERLEADS_RATE_LEADS_PER_IP", "100000/1h")
        .setting("PLUMBERLEADS_RATE_LEADS_PER_PHONE", "100000/24h")
        .spawn()
        .await?;
    app.signup_pro(KNOWN, "+16125550123").await?;
    Ok(app)
}

/// Median and inter-quartile range, in microseconds.
fn median_and_spread(mut xs: Vec<Duration>) -> (f64, f64) {
    xs.sort();
    let at = |q: f64| xs[((xs.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e6;
    (at(0.5), at(0.75) - at(0.25))
}

/// Times `send(known)` and `send(unknown)` in turns (the order alternating, so drift in the
/// machine's load falls on both alike), each answered with `expected`.
async fn timed<F, Fut>(send: F, expected: StatusCode) -> anyhow::Result<(Vec<Duration>, Vec<Duration>)>
where
    F: Fn(&'static str) -> Fut,
    Fut: Future<Output = anyhow::Result<StatusCode>>,
{
    // Warm up both paths (connections, prepared statements) before anything is counted.
    for who in [KNOWN, UNKNOWN, KNOWN, UNKNOWN] {
        send(who).await?;
    }
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let order = if round % 2 == 0 { [KNOWN, UNKNOWN] } else { [UNKNOWN, KNOWN] };
        for who in order {
            let started = Instant::now();
            let status = send(who).await?;
            let took = started.elapsed();
            anyhow::ensure!(status == expected, "{who}: {status}");
            if who == KNOWN { known.push(took) } else { unknown.push(took) }
        }
    }
    Ok((known, unknown))
}

fn assert_alike(what: &str, known: Vec<Duration>, unknown: Vec<Duration>) {
    let (k, k_spread) = median_and_spread(known);
    let (u, u_spread) = median_and_spread(unknown);
    let spread = k_spread.max(u_spread);
    eprintln!("{what}: known {k:.0} µs (IQR {k_spread:.0}), unknown {u:.0} µs (IQR {u_spread:.0})");
    assert!(
        (k - u).abs() <= spread,
        "{what}: medians {k:.0} µs (known) and {u:.0} µs (unknown) differ by more than the spread {spread:.0} µs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_takes_as_long_for_an_address_with_no_account() -> R {
    let app = app().await?;
    let send = |email: &'static str| {
        let req = app.post("/api/v1/auth/login").json(&json!({"email": email, "password": "not the password 123"}));
        async move { anyhow::Ok(req.send().await?.status()) }
    };
    let (known, unknown) = timed(send, StatusCode::UNAUTHORIZED).await?;
    assert_alike("login", known, unknown);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_for_a_reset_link_takes_as_long_for_an_address_with_no_account() -> R {
    let app = app().await?;
    let send = |email: &'static str| {
        let req = app.post("/api/v1/auth/password-reset").json(&json!({"email": email}));
        async move { anyhow::Ok(req.send().await?.status()) }
    };
    let (known, unknown) = timed(send, StatusCode::ACCEPTED).await?;
    assert_alike("password reset", known, unknown);
    // The known address did get its link (the newest one works).
    app.run_pending_jobs().await?;
    let (subject, _) = app.latest_email_to(KNOWN).await?;
    assert!(subject.to_lowercase().contains("password"), "{subject}");
    Ok(())
}
