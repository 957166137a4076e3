//! The command line.

use clap::{Parser, Subcommand};

/// PlumberLeads: the lead marketplace for plumbers. Settings come from the environment and an
/// optional .env file (see .env.sample); with none set, everything runs on this machine.
#[derive(Debug, Parser)]
#[command(name = "plumberleads", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web site and API, with background workers in the same process.
    ///
    /// Creates and migrates the database first. Stops gracefully on SIGTERM or Ctrl-C.
    Serve {
        /// Serve HTTP only; run jobs in separate `plumberleads worker` processes.
        #[arg(long)]
        no_worker: bool,
        /// Load the demo data before serving (same as `seed --demo`).
        #[arg(long)]
        demo: bool,
    },
    /// Run background jobs only (notifications, distribution, webhooks…), no site.
    Worker {
        /// Also answer /health, /health/live and /metrics on this address (a worker-only node
        /// watched by Prometheus and its supervisor like the web nodes), e.g. 10.0.1.20:8080.
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
    },
    /// Create the database if needed, apply migrations and load reference data, then exit.
    Migrate,
    /// Load reference data (ZIP codes, categories), and with --demo the demo data.
    Seed {
        /// Also load demo data for trying the platform out.
        #[arg(long)]
        demo: bool,
        /// With --demo: this many more active, funded demo plumbers around real metros (their
        /// password is the demo plumber's).
        #[arg(long, default_value_t = 0, requires = "demo")]
        pros: u32,
    },
    /// Check the configuration and print it (secrets redacted); exit non-zero if invalid.
    CheckConfig {
        /// Also check that PostgreSQL (and Redis, if configured) answer.
        #[arg(long)]
        connect: bool,
    },
    /// Operator tasks.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// List jobs that used up their attempts, newest first.
    DeadJobs {
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Give a dead job a fresh set of attempts.
    RetryJob { id: i64 },
    /// Create a partner and print its API key (shown this once; only a hash is stored).
    CreatePartner {
        /// The partner's name, as staff will see it.
        name: String,
    },
    /// Revoke a partner's API key at once.
    RevokePartner { id: uuid::Uuid },
    /// List partners and whether their keys work.
    Partners,
    /// Create a staff account and print its first password (shown this once). The second
    /// factor (an authenticator app) is set up at the first sign-in.
    CreateStaff {
        email: String,
        /// The person's name, as the audit log and colleagues see it.
        name: String,
        /// An admin, who may also manage staff.
        #[arg(long)]
        admin: bool,
    },
    /// Print, as JSON, everything kept about the homeowner with this phone number (a GDPR/CCPA
    /// request for a copy): each request with its notes, timeline and plumbers.
    ExportHomeowner { phone: String },
    /// Erase the personal data of every request made from this phone number (a request to be
    /// forgotten; audited). Job, ZIP, dates and sales remain for the statistics and the ledger.
    EraseHomeowner { phone: String },
    /// Print, as JSON, everything kept about the plumber with this e-mail (a request for a copy):
    /// account, profile, hours, purchases, wallet, disputes, devices and audit entries.
    ExportPro { email: String },
    /// Approve a plumber whose profile awaits review, as staff would in the back office (audited).
    ApprovePro { email: String },
    /// Remove a staff member's second factor (lost phone and recovery codes); they set it up
    /// again at their next sign-in. Their sessions end.
    ResetMfa { email: String },
    /// Check the audit log's hash chain from its first row; exit non-zero if a row was changed
    /// or removed.
    VerifyAudit {
        /// A head written outside the database (`SEQ:HASH`, from the log line `audit log head`):
        /// the chain must still reach it, which catches the newest entries being deleted.
        #[arg(long, value_name = "SEQ:HASH")]
        head: Vec<services::audit::Head>,
    },
    /// Prove the wallet ledger sound: every transfer sums to zero, no wallet is negative, each
    /// balance is the sum of its entries, every purchase is paid; exit non-zero otherwise.
    LedgerCheck,
    /// The newest audit log entries.
    Audit {
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Submissions the spam and abuse defences turned away, newest first.
    Rejections {
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}
