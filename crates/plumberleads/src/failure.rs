//! The one line a command prints when it stops with an error.
//!
//! Two things make that line readable. An error whose message already includes its cause
//! (`could not reach PostgreSQL: {0}`, and sqlx's own `error communicating with database: {0}`)
//! would otherwise repeat that cause once per level. And when the database is this machine's
//! PostgreSQL and it does not answer, the line says what to run instead.

use std::io::ErrorKind;
use std::net::IpAddr;
use std::path::Path;
use url::Url;

/// Where Debian keeps one directory per installed PostgreSQL version (`/etc/postgresql/15`).
const DEBIAN_CLUSTERS: &str = "/etc/postgresql";

/// The line to print for `error`, without the `error: ` prefix.
pub fn message(error: &anyhow::Error, database_url: &str) -> String {
    let installed = installed_postgres(Path::new(DEBIAN_CLUSTERS));
    hint(error, database_url, installed.as_deref()).unwrap_or_else(|| chain(error))
}

/// When `error` is this machine's PostgreSQL not answering, what to run: start its cluster
/// (`installed` is the version found in /etc/postgresql), or install it. `None` for any other
/// error, and for a database on another machine (nothing to run here).
fn hint(error: &anyhow::Error, database_url: &str, installed: Option<&str>) -> Option<String> {
    let not_answering = error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| matches!(e.kind(), ErrorKind::ConnectionRefused | ErrorKind::NotFound))
    });
    if !not_answering || !error.chain().any(|c| matches!(c.downcast_ref(), Some(store::db::DbError::Connect(_)))) {
        return None;
    }
    let at = local_server(database_url)?;
    Some(match installed {
        Some(version) => format!(
            "PostgreSQL is not answering at {at}. Start it with: pg_ctlcluster --skip-systemctl-redirect {version} main start"
        ),
        None => format!(
            "PostgreSQL is not answering at {at}, and it is not installed here. Install it with: apt-get install -y postgresql"
        ),
    })
}

/// `host:port` (or the socket directory) when the URL names a server on this machine.
fn local_server(database_url: &str) -> Option<String> {
    let url = Url::parse(database_url).ok()?;
    let port = url.port().unwrap_or(5432);
    if let Some((_, dir)) = url.query_pairs().find(|(k, _)| k == "host") {
        return dir.starts_with('/').then(|| dir.into_owned());
    }
    // A postgres: URL's host is kept as written (`127.0.0.1` is not parsed as an address).
    let host = url.host_str().unwrap_or_default().replace("%2F", "/").replace("%2f", "/");
    if host.starts_with('/') {
        return Some(host);
    }
    let loopback = host.trim_matches(['[', ']']).parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    (host.is_empty() || host.eq_ignore_ascii_case("localhost") || loopback)
        .then(|| format!("{}:{port}", if host.is_empty() { "localhost" } else { &host }))
}

/// The newest PostgreSQL version with a directory in `clusters`, if any.
fn installed_postgres(clusters: &Path) -> Option<String> {
    let version = |name: &str| name.split('.').map(str::parse::<u32>).collect::<Result<Vec<_>, _>>().ok();
    std::fs::read_dir(clusters)
        .ok()?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter_map(|name| Some((version(&name)?, name)))
        .max()
        .map(|(_, name)| name)
}

/// The error and its causes on one line, leaving out a cause its parent's message already says.
fn chain(error: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !parts.last().is_some_and(|parent| parent.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::db::DbError;

    /// What `store::prepare` returns when nothing listens: sqlx's I/O error inside ours.
    fn refused() -> anyhow::Error {
        let io = std::io::Error::from(ErrorKind::ConnectionRefused);
        DbError::Connect(sqlx::Error::Io(io)).into()
    }

    #[test]
    fn a_local_postgresql_that_does_not_answer_gets_the_command_that_starts_it() {
        assert_eq!(
            hint(&refused(), "postgres://localhost/plumberleads", Some("15")).as_deref(),
            Some(
                "PostgreSQL is not answering at localhost:5432. Start it with: pg_ctlcluster --skip-systemctl-redirect 15 main start"
            )
        );
        assert_eq!(
            hint(&refused(), "postgres://localhost/plumberleads", None).as_deref(),
            Some(
                "PostgreSQL is not answering at localhost:5432, and it is not installed here. Install it with: apt-get install -y postgresql"
            )
        );
    }

    #[test]
    fn every_way_of_naming_this_machine_is_local() {
        for (url, at) in [
            ("postgres://127.0.0.1:5433/pl", "127.0.0.1:5433"),
            ("postgresql://app:secret@[::1]/pl", "[::1]:5432"),
            ("postgres:///pl", "localhost:5432"),
            ("postgres://%2Fvar%2Frun%2Fpostgresql/pl", "/var/run/postgresql"),
            ("postgres:///pl?host=/var/run/postgresql", "/var/run/postgresql"),
        ] {
            let line = hint(&refused(), url, Some("16")).unwrap_or_default();
            assert!(line.starts_with(&format!("PostgreSQL is not answering at {at}. ")), "{url}: {line}");
        }
    }

    #[test]
    fn no_hint_for_another_machine_or_another_error() {
        assert_eq!(hint(&refused(), "postgres://db.internal/pl", Some("15")), None);
        assert_eq!(hint(&refused(), "postgres://localhost/pl?host=db.internal", Some("15")), None);
        let denied =
            anyhow::Error::from(DbError::Connect(sqlx::Error::Protocol("password authentication failed".into())));
        assert_eq!(hint(&denied, "postgres://localhost/pl", Some("15")), None);
        let elsewhere = anyhow::Error::from(std::io::Error::from(ErrorKind::ConnectionRefused));
        assert_eq!(hint(&elsewhere, "postgres://localhost/pl", Some("15")), None);
    }

    #[test]
    fn a_cause_already_in_its_parents_message_is_said_once() {
        assert_eq!(
            chain(&refused()),
            format!(
                "could not reach PostgreSQL: error communicating with database: {}",
                std::io::Error::from(ErrorKind::ConnectionRefused)
            )
        );
        let wrapped = anyhow::anyhow!("PostgreSQL: timed out").context("checking the configuration");
        assert_eq!(chain(&wrapped), "checking the configuration: PostgreSQL: timed out");
    }

    #[test]
    fn the_newest_installed_version_is_the_one_to_start() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        assert_eq!(installed_postgres(&dir.path().join("absent")), None);
        assert_eq!(installed_postgres(dir.path()), None);
        for name in ["9.6", "15", "13", "README"] {
            std::fs::create_dir(dir.path().join(name))?;
        }
        assert_eq!(installed_postgres(dir.path()).as_deref(), Some("15"));
        Ok(())
    }
}
