use secrecy::ExposeSecret;
use settings::Settings;
use std::collections::HashMap;
use std::time::Duration;

fn with(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn error_line(pairs: &[(&str, &str)]) -> String {
    match Settings::from_map(&with(pairs)) {
        Ok(_) => panic!("{pairs:?} was accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn defaults_are_the_seed_documents_numbers() -> Result<(), settings::SettingError> {
    let s = Settings::from_map(&HashMap::new())?;
    assert_eq!(s.http.bind.to_string(), "127.0.0.1:8080");
    assert_eq!(s.database.url.expose_secret(), "postgres://localhost/plumberleads");
    assert_eq!((s.database.min_connections, s.database.max_connections), (5, 50));
    assert_eq!(s.database.connect_timeout, Duration::from_secs(30));
    assert_eq!(s.database.idle_timeout, Duration::from_secs(300));
    assert_eq!(s.health.probe_interval, Duration::from_secs(10));
    assert_eq!(s.health.probe_timeout, Duration::from_secs(5));
    assert_eq!((s.health.unhealthy_threshold, s.health.healthy_threshold), (3, 5));
    assert_eq!(s.sessions.idle_timeout, Duration::from_secs(30 * 60));
    assert_eq!(s.sessions.absolute_timeout, Duration::from_secs(12 * 3600));
    assert_eq!(s.http.static_max_age, Duration::from_secs(7200));
    assert_eq!(s.alerts.cpu_percent, 85.0);
    assert_eq!(s.alerts.memory_percent, 90.0);
    assert_eq!(s.alerts.disk_percent, 85.0);
    assert_eq!(s.alerts.response_time, Duration::from_millis(500));
    assert_eq!(s.alerts.error_rate_percent, 1.0);
    assert_eq!(s.alerts.db_connection_errors, 5);
    assert_eq!(s.alerts.window, Duration::from_secs(300));
    assert_eq!(s.recovery.rto, Duration::from_secs(3600));
    assert_eq!(s.recovery.rpo, Duration::from_secs(300));
    assert_eq!(s.recovery.backup_retention, Duration::from_secs(7 * 86_400));
    assert!(s.redis_url.is_none());
    Ok(())
}

#[test]
fn values_are_read_and_typed() -> Result<(), settings::SettingError> {
    let s = Settings::from_map(&with(&[
        ("PLUMBERLEADS_BIND", "0.0.0.0:9000"),
        // Reachable by others: a key of its own is required.
        ("PLUMBERLEADS_SECRET_KEY", "0123456789abcdef0123456789abcdef"),
        ("PLUMBERLEADS_DB_MAX_CONNECTIONS", "20"),
        ("PLUMBERLEADS_SESSION_IDLE_TIMEOUT", "90s"),
        ("PLUMBERLEADS_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.0.0/16"),
        ("REDIS_URL", "redis://127.0.0.1:6379/0"),
        ("PLUMBERLEADS_LOG_FORMAT", "TEXT"),
    ]))?;
    assert_eq!(s.http.bind.port(), 9000);
    assert_eq!(s.database.max_connections, 20);
    assert_eq!(s.sessions.idle_timeout, Duration::from_secs(90));
    assert_eq!(s.http.trusted_proxies.len(), 2);
    assert!(s.redis_url.is_some());
    assert_eq!(s.log.format, settings::LogFormat::Text);
    Ok(())
}

#[test]
fn invalid_values_name_the_setting_and_the_problem_in_one_line() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("PLUMBERLEADS_DB_MAX_CONNECTIONS", "lots")],
            "PLUMBERLEADS_DB_MAX_CONNECTIONS: expected a whole number, got \"lots\"",
        ),
        (&[("PLUMBERLEADS_DB_MAX_CONNECTIONS", "0")], "PLUMBERLEADS_DB_MAX_CONNECTIONS: must be at least 1"),
        (
            &[("PLUMBERLEADS_DB_MIN_CONNECTIONS", "60")],
            "PLUMBERLEADS_DB_MIN_CONNECTIONS: is 60, more than PLUMBERLEADS_DB_MAX_CONNECTIONS (50)",
        ),
        (
            &[("PLUMBERLEADS_BIND", "localhost")],
            "PLUMBERLEADS_BIND: expected an address like 127.0.0.1:8080, got \"localhost\"",
        ),
        (
            &[("PLUMBERLEADS_REQUEST_TIMEOUT", "soon")],
            "PLUMBERLEADS_REQUEST_TIMEOUT: expected a duration like 30s, 5m or 12h, got \"soon\"",
        ),
        (&[("PLUMBERLEADS_REQUEST_TIMEOUT", "0s")], "PLUMBERLEADS_REQUEST_TIMEOUT: must be longer than zero"),
        (
            &[("PLUMBERLEADS_TRUSTED_PROXIES", "10.0.0.0/8,everyone")],
            "PLUMBERLEADS_TRUSTED_PROXIES: expected CIDR ranges like 10.0.0.0/8, got \"everyone\"",
        ),
        (&[("PLUMBERLEADS_LOG_FORMAT", "xml")], "PLUMBERLEADS_LOG_FORMAT: expected one of json, text, got \"xml\""),
        (
            &[("PLUMBERLEADS_EMAIL_PROVIDER", "carrier-pigeon")],
            "PLUMBERLEADS_EMAIL_PROVIDER: expected one of dev, got \"carrier-pigeon\"",
        ),
        (&[("DATABASE_URL", "mysql://u:p@h/db")], "DATABASE_URL: must start with postgres:// or postgresql://"),
        (
            &[("PLUMBERLEADS_HEALTH_COMPONENT_TIMEOUT", "5s")],
            "PLUMBERLEADS_HEALTH_COMPONENT_TIMEOUT: must be shorter than PLUMBERLEADS_HEALTH_PROBE_TIMEOUT, or the load balancer gives up first",
        ),
        (
            &[("PLUMBERLEADS_SESSION_IDLE_TIMEOUT", "13h")],
            "PLUMBERLEADS_SESSION_IDLE_TIMEOUT: must not be longer than PLUMBERLEADS_SESSION_ABSOLUTE_TIMEOUT",
        ),
        (&[("PLUMBERLEADS_BIDN", "0.0.0.0:80")], "PLUMBERLEADS_BIDN: is not a setting (see .env.sample for the list)"),
    ];
    for (pairs, expected) in cases {
        let line = error_line(pairs);
        assert_eq!(&line, expected);
        assert!(!line.contains('\n'));
    }
}

#[test]
fn secrets_never_appear_in_errors_or_debug_output() -> Result<(), settings::SettingError> {
    let line = error_line(&[("REDIS_URL", "http://user:hunter2-secret@cache:6379")]);
    assert!(!line.contains("hunter2"), "{line}");
    let line = error_line(&[("DATABASE_URL", "postgres://user:hunter2-secret@[::1")]);
    assert!(line.starts_with("DATABASE_URL: is not a valid URL"), "{line}");
    assert!(!line.contains("hunter2"), "{line}");

    let s = Settings::from_map(&with(&[
        ("DATABASE_URL", "postgres://app:hunter2-secret@db/pl"),
        ("REDIS_URL", "redis://:hunter2-secret@cache:6379"),
    ]))?;
    let debug = format!("{s:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    Ok(())
}

#[test]
fn env_sample_lists_every_setting_and_nothing_else() -> Result<(), std::io::Error> {
    let sample = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.env.sample"))?;
    let listed: Vec<&str> = sample
        .lines()
        .map(|l| l.trim_start_matches('#').trim())
        .filter_map(|l| l.split_once('=').map(|(k, _)| k))
        .filter(|k| k.chars().all(|c| c.is_ascii_uppercase() || c == '_') && !k.is_empty())
        .collect();
    for key in Settings::known_keys() {
        assert!(listed.contains(&key), ".env.sample lacks {key}");
    }
    for key in listed {
        assert!(Settings::known_keys().contains(&key), ".env.sample lists {key}, which is not a setting");
    }
    Ok(())
}

/// Issue 10, item 8: behind a load balancer, a trusted proxy's own address on the staff
/// allow-list would admit whatever the proxy cannot attribute. Refused once the server is
/// reachable by others; on a loopback bind (one machine, no proxy) the defaults share loopback.
#[test]
fn a_staff_allow_list_overlapping_the_trusted_proxies_is_refused_when_reachable() {
    let key = "k".repeat(32);
    let line = error_line(&[
        ("PLUMBERLEADS_BIND", "0.0.0.0:8080"),
        ("PLUMBERLEADS_SECRET_KEY", &key),
        ("PLUMBERLEADS_TRUSTED_PROXIES", "10.0.0.0/8"),
        ("PLUMBERLEADS_STAFF_ALLOW", "192.0.2.0/24,10.20.0.0/16"),
    ]);
    assert!(line.contains("PLUMBERLEADS_STAFF_ALLOW") && line.contains("10.20.0.0/16"), "{line}");
    let apart = [
        ("PLUMBERLEADS_BIND", "0.0.0.0:8080"),
        ("PLUMBERLEADS_SECRET_KEY", &key),
        ("PLUMBERLEADS_TRUSTED_PROXIES", "10.0.0.0/8"),
        ("PLUMBERLEADS_STAFF_ALLOW", "192.0.2.0/24"),
    ];
    assert!(Settings::from_map(&with(&apart)).is_ok());
    assert!(Settings::from_map(&HashMap::new()).is_ok(), "the one-machine defaults start");
}

/// Issue 10, item 1: there is no built-in key; production, or a bind others can reach, must set
/// one of at least 32 bytes.
#[test]
fn no_built_in_secret_key_and_production_refuses_to_start_without_one() {
    let line = error_line(&[("PLUMBERLEADS_ENV", "production")]);
    assert!(
        line.starts_with("configuration error: PLUMBERLEADS_SECRET_KEY")
            || line.contains("PLUMBERLEADS_SECRET_KEY: is required"),
        "{line}"
    );
    let line = error_line(&[("PLUMBERLEADS_BIND", "0.0.0.0:8080")]);
    assert!(line.contains("PLUMBERLEADS_SECRET_KEY"), "{line}");
    let line = error_line(&[("PLUMBERLEADS_SECRET_KEY", &"k".repeat(31))]);
    assert!(line.contains("at least 32 bytes"), "{line}");
    let key = "k".repeat(32);
    let prod = Settings::from_map(&with(&[("PLUMBERLEADS_ENV", "production"), ("PLUMBERLEADS_SECRET_KEY", &key)]));
    assert!(prod.is_ok_and(|s| s.production && s.secret_key.is_some()));
    let dev = Settings::from_map(&HashMap::new());
    assert!(dev.is_ok_and(|s| s.secret_key.is_none() && !s.production), "a laptop needs no key: one is generated");
    let line = error_line(&[("PLUMBERLEADS_SECRET_KEY_PREVIOUS", &key)]);
    assert!(line.contains("PLUMBERLEADS_SECRET_KEY_PREVIOUS"), "{line}");
}
