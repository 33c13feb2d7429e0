//! `doui` — serve, migrate, make links, add subjects.

use std::{path::PathBuf, process::ExitCode};

use app::domain::Lang;
use clap::{CommandFactory, Parser, Subcommand};
use tracing_subscriber::{EnvFilter, fmt};

use crate::config::{Config, LogFormat};

mod admin;
mod audience;
mod backup;
mod chain;
mod collection_point;
mod events;
pub mod import;
mod keys;
mod notice;
mod people;
mod sending;
mod webhook;

#[derive(Parser)]
#[command(
    name = "doui",
    version = crate::ops::LONG_VERSION,
    about = "Doui (同意): consent and subscription preference center"
)]
struct Cli {
    /// Configuration file (default: ./doui.toml if it exists). Environment variables win over it.
    #[arg(long, global = true, env = "DOUI_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database and serve the preference center (the default).
    Serve,
    /// Create or update the database schema and the built-in purposes, then exit.
    Migrate,
    /// Print a signed preference-center link for a subject.
    Link {
        /// The subject's external id or email address.
        subject: String,
    },
    /// Manage subjects.
    Subject {
        #[command(subcommand)]
        command: SubjectCommand,
    },
    /// Print the unsubscribe link, mail headers (List-Unsubscribe, List-Unsubscribe-Post, List-Id)
    /// and footer for one message to a subject.
    Links {
        /// The subject's external id or email address (or use --csv for many).
        #[arg(required_unless_present = "csv")]
        subject: Option<String>,
        /// A CSV of recipients (one external id or email per line; `-` reads standard input):
        /// prints a CSV of links and headers in the same order.
        #[arg(long, conflicts_with = "subject")]
        csv: Option<PathBuf>,
        /// The purpose the message is about (default: all marketing).
        #[arg(long)]
        purpose: Option<String>,
        /// The channel (default: every channel of the purpose).
        #[arg(long)]
        channel: Option<String>,
        /// A campaign or list id recorded with an unsubscribe.
        #[arg(long)]
        campaign: Option<String>,
    },
    /// Print, as CSV, who must not be contacted for a purpose on a channel (they withdrew), in
    /// commit order; pass the last cursor seen as --since to get only what changed since.
    Suppressions {
        #[arg(long)]
        purpose: String,
        #[arg(long)]
        channel: String,
        #[arg(long, default_value_t = 0)]
        since: i64,
        #[arg(long, default_value_t = 1000)]
        limit: u32,
    },
    /// Print the event feed as JSON Lines (every consent change, in commit order) from a cursor;
    /// with --follow, keep printing new events as they are sealed. Filters repeat or take a
    /// comma list.
    Events(events::EventsArgs),
    /// Print everyone who may be contacted for a purpose on a channel now (the send gate's
    /// audience), in subject order: a listing of the current state, not a change feed.
    Audience {
        #[arg(long)]
        purpose: String,
        #[arg(long)]
        channel: String,
        #[arg(long, value_enum, default_value = "csv")]
        format: audience::AudienceFormat,
    },
    /// Manage API keys for senders' systems.
    ApiKey {
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
    /// Manage the link-signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Walk the whole hash chain of events, hold it against every signed checkpoint, check each
    /// event's recorded time and the current choices against the log, and report the first
    /// broken link and every suspect event or choice (exit 1), or that every event is sealed
    /// and unchanged.
    Verify {
        /// Checkpoints kept outside (JSON Lines from `doui checkpoints` or the console), checked
        /// instead of the stored ones: finds a chain rewritten even with every seal recomputed.
        #[arg(long)]
        checkpoints: Option<PathBuf>,
        /// The public key the kept checkpoints were signed with (`doui keys public`); default:
        /// this instance's. A key may start with `-` (base64url).
        #[arg(long, allow_hyphen_values = true)]
        public_key: Option<String>,
    },
    /// Consent receipts.
    Receipt {
        #[command(subcommand)]
        command: ReceiptCommand,
    },
    /// Print the signed checkpoints of the chain as JSON Lines (to keep outside).
    Checkpoints {
        /// Only checkpoints longer than this.
        #[arg(long, default_value_t = 0)]
        after: i64,
    },
    /// Versions of the privacy notice; a material change asks for re-confirmation.
    Notice {
        #[command(subcommand)]
        command: notice::NoticeCommand,
    },
    /// Where consents are collected (web forms, checkout, call centers, paper…): the API and
    /// imports name one on each consent collected elsewhere.
    CollectionPoint {
        #[command(subcommand)]
        command: collection_point::CollectionPointCommand,
    },
    /// Third parties personal data may be provided to (APPI 第27条).
    Recipient {
        #[command(subcommand)]
        command: RecipientCommand,
    },
    /// Retention: delete superseded evidence whose largest applicable legal minimum (and
    /// retention_days) has passed, leaving a signed tombstone for each event so the chain still
    /// verifies. Evidence of a consent in force is never deleted.
    Purge {
        /// Count what would be purged, delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Import subjects and consents from a CSV or JSON Lines file another tool exported, its
    /// columns mapped by flags; a file imported twice writes nothing the second time, and a run
    /// stopped halfway resumes where it stopped.
    Import(import::ImportArgs),
    /// Webhook endpoints: the consent log pushed to other systems, signed (Standard Webhooks).
    Webhook {
        #[command(subcommand)]
        command: webhook::WebhookCommand,
    },
    /// Copy a SQLite database to FILE while Doui keeps serving (a consistent snapshot); FILE
    /// must not exist. On PostgreSQL it names pg_dump and pg_basebackup instead.
    Backup {
        /// Where the copy goes (a new file).
        file: PathBuf,
    },
    /// Manage admin accounts (passwords are read from a prompt or standard input, never argv).
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an admin; the password is asked for (or read from standard input).
    Create {
        #[arg(long)]
        email: String,
        /// viewer, operator or owner.
        #[arg(long)]
        role: String,
    },
    /// List admins.
    List,
    /// Change an admin's role.
    SetRole {
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: String,
    },
    /// Disable an admin (signs them out everywhere) or, with --enable, enable them again.
    Disable {
        #[arg(long)]
        email: String,
        #[arg(long)]
        enable: bool,
    },
    /// Set a new password (signs the admin out everywhere).
    Password {
        #[arg(long)]
        email: String,
    },
    /// Enroll a TOTP second factor and print its secret and otpauth:// URI for an authenticator
    /// app (replaces an earlier one).
    Totp {
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum ApiKeyCommand {
    /// Create a key and print it (only this once).
    Create {
        /// Who uses it, e.g. "newsletter sender".
        #[arg(long)]
        name: String,
        /// links and/or suppressions (repeat the option for both).
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
    },
    /// List the keys (never their secrets).
    List,
    /// Revoke a key: it stops working at once.
    Revoke { id: String },
}

#[derive(Subcommand)]
enum ReceiptCommand {
    /// Check a receipt's signature: a consent record downloaded from the preference center
    /// (JSON) or the bare receipt (compact JWS). Exit 1 when it does not verify.
    Verify {
        file: PathBuf,
        /// The public key it should be signed with (`doui keys public` of the instance that
        /// issued it); default: this instance's. A key may start with `-` (base64url).
        #[arg(long, allow_hyphen_values = true)]
        public_key: Option<String>,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// List the keys: the first signs, all verify.
    List,
    /// Add a new signing key; links signed before keep working until their key is retired.
    Rotate,
    /// Remove a key: links signed with it stop working.
    Retire { id: String },
    /// Print the public key (Ed25519, base64url) that checkpoints and receipts verify with.
    Public,
}

#[derive(Subcommand)]
enum RecipientCommand {
    /// Add a recipient, or change one with the same id.
    Add {
        /// A short id senders use, e.g. partner-a.
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        address: String,
        /// The recipient's representative (代表者).
        #[arg(long)]
        representative: String,
    },
    /// List the recipients.
    List,
}

#[derive(Subcommand)]
enum SubjectCommand {
    /// Add a subject and print its link.
    Add {
        #[arg(long)]
        email: Option<String>,
        /// In international form, e.g. +81 90 1234 5678.
        #[arg(long)]
        phone: Option<String>,
        /// ja or en.
        #[arg(long, default_value = "ja")]
        lang: String,
        /// Your own id for the subject (default: Doui's id).
        #[arg(long)]
        external_id: Option<String>,
        /// Whose rules govern the subject's consents: jp, eu, us_ca or default.
        #[arg(long, default_value = "default")]
        jurisdiction: String,
        /// The IANA time zone the person's times are shown in, e.g. Asia/Tokyo (default: the
        /// jurisdiction's: Asia/Tokyo for jp, America/Los_Angeles for us_ca, otherwise UTC).
        #[arg(long)]
        time_zone: Option<String>,
    },
    /// Record data about a subject received from another business (APPI 第30条): the provider
    /// and how it acquired the data, as confirmed on receipt.
    Received {
        /// The subject's external id or email address.
        subject: String,
        #[arg(long)]
        provider_name: String,
        #[arg(long)]
        provider_address: String,
        #[arg(long)]
        provider_representative: String,
        /// How the provider acquired the data.
        #[arg(long)]
        acquired_by: String,
        /// A data item received (repeat for each).
        #[arg(long = "data-item", required = true)]
        data_items: Vec<String>,
    },
    /// Erase a subject at their request (GDPR Art. 17): identifiers cleared, every consent
    /// withdrawn, the events kept as evidence, a hash of the address kept so it is not added
    /// again.
    Erase {
        /// The subject's id, external id or email address.
        subject: String,
        /// Why (recorded on the withdrawals and the erasure).
        #[arg(long)]
        reason: String,
    },
    /// Revoke every link of one person sent so far (a forwarded mail, a lost phone) and end
    /// their sessions; links made afterwards work. Recorded with the reason.
    RevokeLinks {
        /// The subject's id, external id or email address.
        subject: String,
        /// Why (recorded with the revocation).
        #[arg(long)]
        reason: String,
    },
}

/// The command line's definition (subcommands, options, help), for the docs' check that every
/// `doui` command they show exists.
pub fn definition() -> clap::Command {
    Cli::command()
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("doui: configuration: {e:#}");
            return ExitCode::from(2);
        }
    };
    init_logs(config.log_format);
    if !matches!(cli.command, None | Some(Command::Serve)) {
        quiet_on_broken_pipe();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(run(cli.command.unwrap_or(Command::Serve), config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("doui: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `doui links --csv big.csv | head`: when whoever reads standard output stops reading, stop
/// quietly with the status a shell gives a command that pipe killed (128 + SIGPIPE), as other
/// command-line tools do, instead of the panic `println!` raises on a broken pipe.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info.payload_as_str().unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

fn init_logs(format: LogFormat) {
    let filter =
        EnvFilter::try_from_env("DOUI_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let services = crate::services(&config).await?;
            println!("database ready ({})", services.store.backend());
            Ok(())
        }
        Command::Link { subject } => sending::link(&config, subject).await,
        Command::Links {
            subject,
            csv,
            purpose,
            channel,
            campaign,
        } => sending::links(&config, subject, csv, purpose, channel, campaign).await,
        Command::Suppressions {
            purpose,
            channel,
            since,
            limit,
        } => sending::suppressions(&config, purpose, channel, since, limit).await,
        Command::Events(args) => events::events(&config, args).await,
        Command::Audience {
            purpose,
            channel,
            format,
        } => audience::audience(&config, purpose, channel, format).await,
        Command::ApiKey { command } => sending::api_key(&config, command).await,
        Command::Keys { command } => keys::keys(&config, command),
        Command::Receipt { command } => chain::receipt(&config, command),
        Command::Verify {
            checkpoints,
            public_key,
        } => chain::verify(&config, checkpoints, public_key).await,
        Command::Checkpoints { after } => chain::checkpoints(&config, after).await,
        Command::Purge { dry_run } => chain::purge(&config, dry_run).await,
        Command::Subject { command } => people::subject(&config, command).await,
        Command::Recipient { command } => people::recipient(&config, command).await,
        Command::Notice { command } => {
            let services = crate::services(&config).await?;
            notice::run(&services, command).await
        }
        Command::Admin { command } => admin::admin(command, config).await,
        Command::Backup { file } => backup::backup(&config, file).await,
        Command::Import(args) => import::import(&config, args).await,
        Command::CollectionPoint { command } => {
            let services = crate::services(&config).await?;
            collection_point::run(&services, command).await
        }
        Command::Webhook { command } => {
            let services = crate::services(&config).await?;
            webhook::run(&services, command).await
        }
    }
}

/// A refusal from the services as an error in English (the CLI's language).
fn refusal(r: app::services::Refusal) -> anyhow::Error {
    anyhow::anyhow!("{}", app::i18n::error_message(Lang::En, r.code))
}

async fn serve(config: Config) -> anyhow::Result<()> {
    tracing::info!(?config, "starting");
    crate::ops::site::say_where(&config.site_root);
    let services = crate::services(&config).await?;
    if config.demo {
        let links = crate::demo::seed_if_empty(&services).await?;
        if !links.is_empty() {
            println!("\nDemo subjects created. Open their preference centers:");
            for (who, link) in links {
                println!("  {who:<12} {link}");
            }
            println!("(Links for any subject: doui link <external-id|email>)\n");
            if let Some((email, password)) = crate::demo::demo_owner(&services).await? {
                println!(
                    "Demo admin console: {}/admin/signin\n  email    {email}\n  password {password}\n  (shown only now; `doui admin password --email {email}` sets a new one)\n",
                    config.public_url
                );
            }
        }
    }
    if !services.has_admins().await.unwrap_or(true) {
        println!(
            "No admin account yet. Create the first owner with:\n  doui admin create --email you@example.jp --role owner\n"
        );
    }
    let running = crate::start(&config, services).await?;
    println!(
        "Doui is listening on http://{} (database: {})",
        running.addr,
        running.services.store.backend()
    );
    if let Some(at) = running.metrics_addr {
        println!("Metrics for Prometheus on http://{at}/metrics");
    }
    running.finished().await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A public key is base64url, so one in 64 starts with `-`: it must still be taken as the
    /// option's value, not as another option (`doui verify` failed now and then in the tests).
    #[test]
    fn a_public_key_that_starts_with_a_hyphen_is_a_value() {
        let cli = Cli::try_parse_from(["doui", "verify", "--public-key", "-rAbc"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Verify { public_key: Some(ref k), .. }) if k == "-rAbc"
        ));
        let cli = Cli::try_parse_from([
            "doui",
            "receipt",
            "verify",
            "record.json",
            "--public-key",
            "-rAbc",
        ]);
        assert!(cli.is_ok(), "{:?}", cli.err());
    }
}
