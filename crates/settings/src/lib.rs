//! Every setting the platform reads, typed, with the seed document's numbers as defaults.
//! Read once at start-up; an invalid value stops start-up with one line naming the setting.
//! `.env.sample` at the repository root lists them all (a test keeps the two in step).

mod reader;

use ipnet::IpNet;
use reader::Reader;
use secrecy::SecretString;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use reader::SettingError;

#[derive(Debug, Clone)]
pub struct Settings {
    pub http: Http,
    pub database: Database,
    pub redis_url: Option<SecretString>,
    /// Prefix of every key we write to Redis, so deployments (and tests) sharing one Redis
    /// never see each other's counters.
    pub redis_namespace: String,
    pub health: Health,
    pub sessions: Sessions,
    pub jobs: Jobs,
    pub providers: Providers,
    pub alerts: Alerts,
    pub recovery: Recovery,
    pub log: Log,
    pub intake: Intake,
    pub auth: Auth,
    /// Signs links, form tokens and access tokens and keys the audit chain; the same on every
    /// node. Unset (allowed only in development on a loopback bind), the first start generates
    /// one and keeps it in the database.
    pub secret_key: Option<SecretString>,
    /// The key before the last rotation: still accepted when checking, never used to sign.
    pub previous_secret_key: Option<SecretString>,
    /// `PLUMBERLEADS_ENV=production`: nothing may fall back to a development default.
    pub production: bool,
}

#[derive(Debug, Clone)]
pub struct Http {
    pub bind: SocketAddr,
    /// Where users reach us; used in links in e-mails and SMS.
    pub public_url: url::Url,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    pub request_timeout: Duration,
    pub body_limit_bytes: usize,
    /// How long SIGTERM waits for in-flight requests and jobs before giving up.
    pub shutdown_grace: Duration,
    /// `Cache-Control: public, max-age=…` on static assets (seed: 7200).
    pub static_max_age: Duration,
    /// How long a node keeps the category list, and the public pages built from it, before
    /// reading and rendering them again.
    pub page_cache_ttl: Duration,
    /// Peers allowed to scrape `/metrics` (monitoring lives in the private subnet).
    pub metrics_allow: Vec<IpNet>,
}

#[derive(Debug, Clone)]
pub struct Database {
    pub url: SecretString,
    /// The schema owner's connection, for migrations and reference data only. Set, the app's own
    /// role (`url`) needs no more than the privileges the migrations grant `plumberleads_app`,
    /// and cannot rewrite the audit log or the ledger; unset, `url` migrates (one machine).
    pub migration_url: Option<SecretString>,
    pub min_connections: u32,
    pub max_connections: u32,
    pub connect_timeout: Duration,
    pub idle_timeout: Duration,
}

/// The load balancer's probe (seed) and our own budget for answering it.
#[derive(Debug, Clone)]
pub struct Health {
    pub probe_interval: Duration,
    pub probe_timeout: Duration,
    pub unhealthy_threshold: u32,
    pub healthy_threshold: u32,
    /// Each component check (PostgreSQL, Redis) must answer within this, well under the probe's timeout.
    pub component_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct Sessions {
    pub idle_timeout: Duration,
    pub absolute_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct Jobs {
    pub concurrency: usize,
    pub lease: Duration,
    pub poll_interval: Duration,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    pub max_attempts: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailProvider {
    /// Stored in the dev mailbox, viewable by staff.
    Dev,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsProvider {
    /// Stored in the dev SMS outbox, viewable by staff.
    Dev,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentsProvider {
    /// Instant top-ups with the same event shape as the real provider.
    Sandbox,
}

#[derive(Debug, Clone)]
pub struct Providers {
    pub email: EmailProvider,
    pub email_from: String,
    pub sms: SmsProvider,
    /// Twilio's auth token, which signs the replies it forwards (`/webhooks/twilio/sms`). Unset:
    /// no replies are taken (nothing could send them).
    pub twilio_auth_token: Option<SecretString>,
    pub payments: PaymentsProvider,
    pub storage_dir: PathBuf,
}

/// The seed's alert thresholds; exported on `/metrics` so alert rules and dashboards read them.
#[derive(Debug, Clone)]
pub struct Alerts {
    pub window: Duration,
    pub cpu_percent: f64,
    pub memory_percent: f64,
    pub disk_percent: f64,
    pub response_time: Duration,
    pub error_rate_percent: f64,
    pub db_connection_errors: u32,
}

/// Disaster-recovery objectives (seed: production RTO 1 h, RPO 5 min; backups kept 7 days).
#[derive(Debug, Clone)]
pub struct Recovery {
    pub rto: Duration,
    pub rpo: Duration,
    pub backup_retention: Duration,
}

/// A limit of `max` events per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub max: u32,
    pub window: Duration,
}

/// Homeowner lead intake: verification, spam defence, limits.
#[derive(Debug, Clone)]
pub struct Intake {
    pub verification_required: bool,
    pub code_ttl: Duration,
    pub code_max_attempts: i32,
    pub code_resend_interval: Duration,
    pub code_max_sends: i32,
    /// A form sent back sooner than this after it was shown is a bot's.
    pub form_min_fill_time: Duration,
    /// A form older than this is refused (shown again, fresh).
    pub form_max_age: Duration,
    pub duplicate_window: Duration,
    pub per_ip: RateLimit,
    pub per_phone: RateLimit,
    pub per_partner: RateLimit,
    pub status_link_ttl: Duration,
    pub idempotency_ttl: Duration,
    /// How long a request keeps its homeowner's personal data (then only the facts remain).
    pub homeowner_retention: Duration,
}

/// Accounts and logins (issue 4; ASVS level 2 and the seed's security section).
#[derive(Debug, Clone)]
pub struct Auth {
    /// Lifetime of an API access token (a JWT); never longer than the session's idle limit.
    pub access_token_ttl: Duration,
    /// Keys that sign API access tokens, by key id: the first signs, all verify, so a key can
    /// be rotated in without logging anyone out. Empty: one key derived from the secret key.
    pub jwt_keys: Vec<(String, SecretString)>,
    pub email_verify_ttl: Duration,
    pub password_reset_ttl: Duration,
    /// Failed logins per account before each next try must wait (doubling from the base).
    pub login_free_failures: u32,
    /// The same, per client address (which may try many accounts).
    pub login_ip_free_failures: u32,
    pub login_backoff_base: Duration,
    pub login_backoff_max: Duration,
    /// ASVS 2.2.1: at most this many failures an hour per account.
    pub login_max_failures_per_hour: u32,
    /// Largest insurance certificate (or other upload) taken.
    pub upload_max_bytes: usize,
    /// Addresses from which the staff area and staff logins are reachable.
    pub staff_allow: Vec<IpNet>,
    /// Staff confirm password and code again before a sensitive action (approving a pro,
    /// adding staff) unless they gave them this recently.
    pub reauth_window: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Text,
}

#[derive(Debug, Clone)]
pub struct Log {
    pub format: LogFormat,
    pub filter: String,
}

impl Settings {
    /// The process environment, with `.env` (if present) filling in what the environment lacks.
    pub fn from_env() -> Result<Self, SettingError> {
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(e) if e.not_found() => {}
            Err(e) => return Err(SettingError::new(".env", format!("could not be read: {e}"))),
        }
        Self::from_map(&std::env::vars().collect())
    }

    pub fn from_map(vars: &HashMap<String, String>) -> Result<Self, SettingError> {
        let mut r = Reader::new(vars);
        let settings = Self::read(&mut r)?;
        r.reject_unknown()?;
        Ok(settings)
    }

    /// Every setting this build knows, for `.env.sample` and `check-config`.
    pub fn known_keys() -> Vec<&'static str> {
        let empty = HashMap::new();
        let mut r = Reader::new(&empty);
        let _ = Self::read(&mut r);
        r.seen()
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, SettingError> {
        let http = Http {
            bind: r.parse("PLUMBERLEADS_BIND", "127.0.0.1:8080", "an address like 127.0.0.1:8080")?,
            public_url: r.url("PLUMBERLEADS_PUBLIC_URL", "http://127.0.0.1:8080")?,
            trusted_proxies: r.list(
                "PLUMBERLEADS_TRUSTED_PROXIES",
                "127.0.0.0/8,::1/128",
                "CIDR ranges like 10.0.0.0/8",
            )?,
            request_timeout: r.duration("PLUMBERLEADS_REQUEST_TIMEOUT", "30s")?,
            body_limit_bytes: r.parse("PLUMBERLEADS_BODY_LIMIT_BYTES", "262144", "a number of bytes")?,
            shutdown_grace: r.duration("PLUMBERLEADS_SHUTDOWN_GRACE", "30s")?,
            static_max_age: r.duration("PLUMBERLEADS_STATIC_MAX_AGE", "2h")?,
            page_cache_ttl: r.duration("PLUMBERLEADS_PAGE_CACHE_TTL", "60s")?,
            metrics_allow: r.list(
                "PLUMBERLEADS_METRICS_ALLOW",
                "127.0.0.0/8,::1/128,10.0.0.0/8",
                "CIDR ranges like 10.0.0.0/8",
            )?,
        };
        let database = Database {
            url: r.secret_url("DATABASE_URL", "postgres://localhost/plumberleads", &["postgres", "postgresql"])?,
            migration_url: r.optional_secret_url("DATABASE_MIGRATION_URL", &["postgres", "postgresql"])?,
            min_connections: r.parse("PLUMBERLEADS_DB_MIN_CONNECTIONS", "5", "a whole number")?,
            max_connections: r.parse("PLUMBERLEADS_DB_MAX_CONNECTIONS", "50", "a whole number")?,
            connect_timeout: r.duration("PLUMBERLEADS_DB_CONNECT_TIMEOUT", "30s")?,
            idle_timeout: r.duration("PLUMBERLEADS_DB_IDLE_TIMEOUT", "300s")?,
        };
        if database.max_connections == 0 {
            return Err(SettingError::new("PLUMBERLEADS_DB_MAX_CONNECTIONS", "must be at least 1"));
        }
        if database.min_connections > database.max_connections {
            return Err(SettingError::new(
                "PLUMBERLEADS_DB_MIN_CONNECTIONS",
                format!(
                    "is {}, more than PLUMBERLEADS_DB_MAX_CONNECTIONS ({})",
                    database.min_connections, database.max_connections
                ),
            ));
        }
        let redis_url = r.optional_secret_url("REDIS_URL", &["redis", "rediss"])?;
        let redis_namespace = r.string("PLUMBERLEADS_REDIS_NAMESPACE", "plumberleads");
        let health = Health {
            probe_interval: r.duration("PLUMBERLEADS_HEALTH_PROBE_INTERVAL", "10s")?,
            probe_timeout: r.duration("PLUMBERLEADS_HEALTH_PROBE_TIMEOUT", "5s")?,
            unhealthy_threshold: r.parse("PLUMBERLEADS_HEALTH_UNHEALTHY_THRESHOLD", "3", "a whole number")?,
            healthy_threshold: r.parse("PLUMBERLEADS_HEALTH_HEALTHY_THRESHOLD", "5", "a whole number")?,
            component_timeout: r.duration("PLUMBERLEADS_HEALTH_COMPONENT_TIMEOUT", "1s")?,
        };
        if health.component_timeout >= health.probe_timeout {
            return Err(SettingError::new(
                "PLUMBERLEADS_HEALTH_COMPONENT_TIMEOUT",
                "must be shorter than PLUMBERLEADS_HEALTH_PROBE_TIMEOUT, or the load balancer gives up first",
            ));
        }
        let sessions = Sessions {
            idle_timeout: r.duration("PLUMBERLEADS_SESSION_IDLE_TIMEOUT", "30m")?,
            absolute_timeout: r.duration("PLUMBERLEADS_SESSION_ABSOLUTE_TIMEOUT", "12h")?,
        };
        if sessions.idle_timeout > sessions.absolute_timeout {
            return Err(SettingError::new(
                "PLUMBERLEADS_SESSION_IDLE_TIMEOUT",
                "must not be longer than PLUMBERLEADS_SESSION_ABSOLUTE_TIMEOUT",
            ));
        }
        let jobs = Jobs {
            concurrency: r.parse("PLUMBERLEADS_JOBS_CONCURRENCY", "4", "a whole number")?,
            lease: r.duration("PLUMBERLEADS_JOBS_LEASE", "60s")?,
            poll_interval: r.duration("PLUMBERLEADS_JOBS_POLL_INTERVAL", "5s")?,
            backoff_base: r.duration("PLUMBERLEADS_JOBS_BACKOFF_BASE", "5s")?,
            backoff_max: r.duration("PLUMBERLEADS_JOBS_BACKOFF_MAX", "1h")?,
            max_attempts: r.parse("PLUMBERLEADS_JOBS_MAX_ATTEMPTS", "10", "a whole number")?,
        };
        if jobs.concurrency == 0 || jobs.max_attempts < 1 {
            return Err(SettingError::new(
                "PLUMBERLEADS_JOBS_CONCURRENCY",
                "and PLUMBERLEADS_JOBS_MAX_ATTEMPTS must be at least 1",
            ));
        }
        let providers = Providers {
            email: r.choice("PLUMBERLEADS_EMAIL_PROVIDER", "dev", &[("dev", EmailProvider::Dev)])?,
            email_from: r.string("PLUMBERLEADS_EMAIL_FROM", "PlumberLeads <hello@plumberleads.localhost>"),
            sms: r.choice("PLUMBERLEADS_SMS_PROVIDER", "dev", &[("dev", SmsProvider::Dev)])?,
            twilio_auth_token: r.optional_secret("TWILIO_AUTH_TOKEN"),
            payments: r.choice(
                "PLUMBERLEADS_PAYMENTS_PROVIDER",
                "sandbox",
                &[("sandbox", PaymentsProvider::Sandbox)],
            )?,
            storage_dir: PathBuf::from(r.string("PLUMBERLEADS_STORAGE_DIR", "./data/storage")),
        };
        let alerts = Alerts {
            window: r.duration("PLUMBERLEADS_ALERT_WINDOW", "5m")?,
            cpu_percent: r.parse("PLUMBERLEADS_ALERT_CPU_PERCENT", "85", "a percentage")?,
            memory_percent: r.parse("PLUMBERLEADS_ALERT_MEMORY_PERCENT", "90", "a percentage")?,
            disk_percent: r.parse("PLUMBERLEADS_ALERT_DISK_PERCENT", "85", "a percentage")?,
            response_time: r.duration("PLUMBERLEADS_ALERT_RESPONSE_TIME", "500ms")?,
            error_rate_percent: r.parse("PLUMBERLEADS_ALERT_ERROR_RATE_PERCENT", "1", "a percentage")?,
            db_connection_errors: r.parse("PLUMBERLEADS_ALERT_DB_CONNECTION_ERRORS", "5", "a whole number")?,
        };
        let recovery = Recovery {
            rto: r.duration("PLUMBERLEADS_RECOVERY_RTO", "1h")?,
            rpo: r.duration("PLUMBERLEADS_RECOVERY_RPO", "5m")?,
            backup_retention: r.duration("PLUMBERLEADS_BACKUP_RETENTION", "7days")?,
        };
        let log = Log {
            format: r.choice(
                "PLUMBERLEADS_LOG_FORMAT",
                "json",
                &[("json", LogFormat::Json), ("text", LogFormat::Text)],
            )?,
            filter: r.string("PLUMBERLEADS_LOG", "info"),
        };
        let intake = Intake {
            verification_required: r.parse("PLUMBERLEADS_VERIFICATION_REQUIRED", "true", "true or false")?,
            code_ttl: r.duration("PLUMBERLEADS_VERIFICATION_CODE_TTL", "10m")?,
            code_max_attempts: r.parse("PLUMBERLEADS_VERIFICATION_MAX_ATTEMPTS", "5", "a whole number")?,
            code_resend_interval: r.duration("PLUMBERLEADS_VERIFICATION_RESEND_INTERVAL", "60s")?,
            code_max_sends: r.parse("PLUMBERLEADS_VERIFICATION_MAX_SENDS", "5", "a whole number")?,
            form_min_fill_time: r.duration("PLUMBERLEADS_FORM_MIN_FILL_TIME", "3s")?,
            form_max_age: r.duration("PLUMBERLEADS_FORM_MAX_AGE", "2h")?,
            duplicate_window: r.duration("PLUMBERLEADS_DUPLICATE_WINDOW", "7days")?,
            per_ip: r.rate("PLUMBERLEADS_RATE_LEADS_PER_IP", "20/1h")?,
            per_phone: r.rate("PLUMBERLEADS_RATE_LEADS_PER_PHONE", "5/24h")?,
            per_partner: r.rate("PLUMBERLEADS_RATE_LEADS_PER_PARTNER", "600/1m")?,
            status_link_ttl: r.duration("PLUMBERLEADS_STATUS_LINK_TTL", "30days")?,
            idempotency_ttl: r.duration("PLUMBERLEADS_IDEMPOTENCY_TTL", "24h")?,
            homeowner_retention: r.duration("PLUMBERLEADS_HOMEOWNER_RETENTION", "24months")?,
        };
        let auth = Auth {
            access_token_ttl: r.duration("PLUMBERLEADS_ACCESS_TOKEN_TTL", "15m")?,
            jwt_keys: r.key_list("PLUMBERLEADS_JWT_KEYS")?,
            email_verify_ttl: r.duration("PLUMBERLEADS_EMAIL_VERIFY_TTL", "24h")?,
            password_reset_ttl: r.duration("PLUMBERLEADS_PASSWORD_RESET_TTL", "1h")?,
            login_free_failures: r.parse("PLUMBERLEADS_LOGIN_FREE_FAILURES", "5", "a whole number")?,
            login_ip_free_failures: r.parse("PLUMBERLEADS_LOGIN_IP_FREE_FAILURES", "20", "a whole number")?,
            login_backoff_base: r.duration("PLUMBERLEADS_LOGIN_BACKOFF_BASE", "1s")?,
            login_backoff_max: r.duration("PLUMBERLEADS_LOGIN_BACKOFF_MAX", "15m")?,
            login_max_failures_per_hour: r.parse(
                "PLUMBERLEADS_LOGIN_MAX_FAILURES_PER_HOUR",
                "100",
                "a whole number",
            )?,
            upload_max_bytes: r.parse("PLUMBERLEADS_UPLOAD_MAX_BYTES", "10485760", "a number of bytes")?,
            staff_allow: r.list("PLUMBERLEADS_STAFF_ALLOW", "127.0.0.0/8,::1/128", "CIDR ranges like 10.0.0.0/8")?,
            reauth_window: r.duration("PLUMBERLEADS_REAUTH_WINDOW", "5m")?,
        };
        let production =
            r.choice("PLUMBERLEADS_ENV", "development", &[("development", false), ("production", true)])?;
        let secret_key = r.secret_key("PLUMBERLEADS_SECRET_KEY")?;
        let previous_secret_key = r.secret_key("PLUMBERLEADS_SECRET_KEY_PREVIOUS")?;
        if secret_key.is_none() && (production || !http.bind.ip().is_loopback()) {
            return Err(SettingError::new(
                "PLUMBERLEADS_SECRET_KEY",
                "is required in production and on a non-loopback bind: 32 bytes or more, the same on every node \
                 (e.g. `openssl rand -hex 32`)",
            ));
        }
        if previous_secret_key.is_some() && secret_key.is_none() {
            return Err(SettingError::new("PLUMBERLEADS_SECRET_KEY_PREVIOUS", "needs PLUMBERLEADS_SECRET_KEY set too"));
        }
        // Reachable by others (not a loopback bind), a proxy's own address on the staff
        // allow-list would open the staff area to any request the proxy cannot attribute.
        if !http.bind.ip().is_loopback()
            && let Some((staff, proxy)) = auth
                .staff_allow
                .iter()
                .flat_map(|s| http.trusted_proxies.iter().map(move |p| (s, p)))
                .find(|(s, p)| s.contains(&p.network()) || p.contains(&s.network()))
        {
            return Err(SettingError::new(
                "PLUMBERLEADS_STAFF_ALLOW",
                format!("{staff} overlaps the trusted proxy range {proxy} (PLUMBERLEADS_TRUSTED_PROXIES)"),
            ));
        }
        Ok(Self {
            auth,
            intake,
            secret_key,
            previous_secret_key,
            production,
            http,
            database,
            redis_url,
            redis_namespace,
            health,
            sessions,
            jobs,
            providers,
            alerts,
            recovery,
            log,
        })
    }
}
