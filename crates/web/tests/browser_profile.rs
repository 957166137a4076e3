//! The profile's hours in a real browser (issue 12, item 6): the days line up on a desktop and
//! fit a phone, and one tap copies Monday to Tuesday–Friday; saving from the hours part leaves
//! the parts nobody touched alone.

use anyhow::ensure;
use testkit::browser::{Browser, PHONE};
use testkit::{PRO_PASSWORD, TestApp};

type R = anyhow::Result<()>;

async fn log_in(b: &Browser, app: &TestApp) -> R {
    b.goto(&format!("{}/login", app.url)).await?;
    b.fill("#f-email", "pat@example.com").await?;
    b.fill("#f-password", PRO_PASSWORD).await?;
    b.click("main button[type=submit]").await?;
    b.wait_for_url("/pro", Browser::WAIT).await?;
    b.goto(&format!("{}/pro/profile", app.url)).await
}

#[tokio::test]
async fn monday_copies_to_the_weekdays_and_the_days_line_up_on_a_desktop_and_fit_a_phone() -> R {
    let app = TestApp::spawn().await?;
    let pro = app.signup_pro("pat@example.com", "+16125550177").await?;
    for (width, height) in [(1366, 900), PHONE] {
        let b = Browser::start_with_viewport(width, height).await?;
        let result = async {
            log_in(&b, &app).await?;
            // Only days ticked open show their times (a phone is not 14 pickers long).
            let shown = "return [...document.querySelectorAll('.hours-row input[type=time]')].filter(e => e.name.startsWith('opens_') || e.name.startsWith('closes_')).filter(e => e.offsetParent !== null).length;";
            let open_days = "return document.querySelectorAll('.hours-row input[type=checkbox]:checked').length;";
            let (times, days) = (b.eval(shown).await?, b.eval(open_days).await?);
            ensure!(times.as_i64() == days.as_i64().map(|d| 2 * d), "{times} pickers for {days} open days at {width} px");
            b.eval("document.querySelectorAll('.hours-row input[type=checkbox]').forEach(c => c.checked = false); document.querySelector('[name=open_2]').click(); return 0;").await?;
            ensure!(b.eval(shown).await?.as_i64() == Some(2), "one day ticked: its two times at {width} px");
            b.eval("document.querySelectorAll('.hours-row input[type=checkbox]').forEach(c => c.checked = true); return 0;").await?;
            // Wide enough to read and tap, set or not (an empty one once shrank to a sliver).
            let widths = b.eval("return [...document.querySelectorAll('.hours-row input[type=time]')].map(e => Math.round(e.getBoundingClientRect().width));").await?;
            let widths: Vec<i64> = serde_json::from_value(widths)?;
            ensure!(widths.iter().all(|w| *w >= 96), "time pickers at {width} px: {widths:?}");
            // (left of "from", left of "to", top of "from", top of "to") for each day.
            let at = b
                .eval(
                    "return [0,1,2,3,4,5,6].map(d => [document.querySelector(`[name=opens_${d}]`), document.querySelector(`[name=closes_${d}]`)]
                       .map(e => e.getBoundingClientRect())).map(([a, b]) => [a.left, b.left, a.top, b.top].map(Math.round));",
                )
                .await?;
            let at: Vec<[i64; 4]> = serde_json::from_value(at)?;
            ensure!(at.iter().all(|d| d[0] == at[0][0] && d[1] == at[0][1]), "the days' times line up at {width} px: {at:?}");
            ensure!(at.iter().all(|d| d[2] == d[3] && d[1] > d[0]), "'from' and 'to' side by side at {width} px: {at:?}");
            ensure!(b.horizontal_overflow().await? <= 0, "the profile fits {width} px");
            Ok(())
        }
        .await;
        let closed = b.close().await;
        result?;
        closed?;
    }

    let b = Browser::start().await?;
    let result = async {
        log_in(&b, &app).await?;
        b.eval("const f = document.getElementById('profile'); f.open_0.checked = true; f.opens_0.value = '07:00'; f.closes_0.value = '15:30'; f.time_zone.value = 'America/Chicago'; return 0;").await?;
        b.click("#copy-weekdays").await?;
        let friday = b.eval("const f = document.getElementById('profile'); return [f.open_4.checked, f.opens_4.value, f.closes_4.value, f.open_5.checked];").await?;
        ensure!(friday == serde_json::json!([true, "07:00", "15:30", false]), "Friday copied, Saturday left: {friday}");
        b.click("button[value=hours]").await?;
        b.wait_for_url("done=hours", Browser::WAIT).await?;
        b.wait_for_text("#hours + .notice", "Hours saved.", Browser::WAIT).await?;
        Ok(())
    }
    .await;
    let closed = b.close().await;
    result?;
    closed?;
    let days: Vec<(i16, String, String)> = sqlx::query_as(
        "SELECT weekday, to_char(opens, 'HH24:MI'), to_char(closes, 'HH24:MI') FROM pro_hours WHERE pro_id = $1 ORDER BY weekday",
    )
    .bind(pro)
    .fetch_all(&app.pool)
    .await?;
    let want: Vec<(i16, String, String)> = (0..5).map(|d| (d, "07:00".to_owned(), "15:30".to_owned())).collect();
    assert_eq!(days, want);
    // Only the hours were saved: the untouched business part was neither checked nor written.
    let parts: Vec<String> = sqlx::query_scalar(
        "SELECT detail::jsonb->>'part' FROM identity.audit_log WHERE action = 'profile_changed' AND subject_id = $1",
    )
    .bind(pro)
    .fetch_all(&app.pool)
    .await?;
    assert_eq!(parts, ["hours"]);
    app.shutdown().await
}
