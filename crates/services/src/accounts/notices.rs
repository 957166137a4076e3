//! Telling an account's owner, by e-mail, when something about their sign-in changed (ASVS
//! 2.2.3): the password changed or was reset, or a device not seen before signed in. Each notice
//! is queued in the transaction that made the change, so it goes out exactly when the change
//! stands. A notice carries no link that acts; it says where to go if it was not them.

use crate::Ctx;
use crate::jobs::SendEmail;
use sqlx::PgConnection;
use time::format_description::well_known::Rfc2822;

pub(super) enum Notice<'a> {
    PasswordChanged,
    PasswordReset,
    NewDevice { device: Option<&'a str>, ip: &'a str },
    AccountClosed { refunded: domain::Cents },
}

pub(super) async fn send(conn: &mut PgConnection, ctx: &Ctx, to: &str, notice: Notice<'_>) -> Result<(), sqlx::Error> {
    let at = ctx.clock.now();
    let when = at.format(&Rfc2822).unwrap_or_else(|_| at.to_string());
    let reset = ctx.public_link("/forgot-password");
    let sessions = ctx.public_link("/pro/account");
    let (subject, what) = match notice {
        Notice::PasswordChanged => {
            ("Your PlumberLeads password was changed".to_owned(), format!("Your password was changed on {when}."))
        }
        Notice::PasswordReset => (
            "Your PlumberLeads password was reset".to_owned(),
            format!("Your password was reset with a link from this address on {when}. Every session was signed out."),
        ),
        Notice::NewDevice { device, ip } => (
            "New sign-in to your PlumberLeads account".to_owned(),
            format!(
                "Your account was signed in to from a device we had not seen before, on {when}:\n{}\nfrom the address {ip}.",
                device.unwrap_or("(an app or device that did not say what it is)")
            ),
        ),
        Notice::AccountClosed { refunded } => (
            "Your PlumberLeads account is closed".to_owned(),
            if refunded.0 > 0 {
                format!(
                    "Your account was closed on {when}. The {refunded} left in your wallet is on its way back to the card you paid with; banks take 5 to 10 working days to show it.\nYou will get no more leads, texts or e-mails from us."
                )
            } else {
                format!("Your account was closed on {when}. You will get no more leads, texts or e-mails from us.")
            },
        ),
    };
    let text_body = format!(
        "{what}\n\nIf this was you, there is nothing to do.\n\nIf it wasn't, reset your password now: {reset}\nand check which devices are signed in: {sessions}\n"
    );
    ctx.queue
        .enqueue(conn, &SendEmail { to: to.to_owned(), subject, text_body, html_body: None, unsubscribe: None })
        .await?;
    Ok(())
}
