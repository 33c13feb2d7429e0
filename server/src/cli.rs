//! `doui` — serve, migrate, make links, add subjects.

use std::{path::PathBuf, process::ExitCode};

use app::domain::Lang;
use clap::{Parser, Subcommand};
use tracing_subscriber::{EnvFilter, fmt};

use crate::config::{Config, LogFormat};

mod notice;

#[derive(Parser)]
#[command(
    name = "doui",
    version,
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
    /// Print, as CSV, who must not be contacted for a purpose on a channel (they withdrew), in the
    /// order they changed; pass the last cursor seen as --since to get only what changed since.
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
    /// Walk the whole hash chain of events, hold it against every signed checkpoint, and report
    /// the first broken link (exit 1), or that every event is sealed and unchanged.
    Verify {
        /// Checkpoints kept outside (JSON Lines from `doui checkpoints` or the console), checked
        /// instead of the stored ones: finds a chain rewritten even with every seal recomputed.
        #[arg(long)]
        checkpoints: Option<PathBuf>,
        /// The public key the kept checkpoints were signed with (`doui keys public`); default:
        /// this instance's.
        #[arg(long)]
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

/// A new password: from the terminal (asked twice, not echoed) or one line of standard input.
fn read_new_password() -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password (12 characters or more): ")?;
        let second = rpassword::prompt_password("Again: ")?;
        anyhow::ensure!(first == second, "the two passwords differ");
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
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
        /// issued it); default: this instance's.
        #[arg(long)]
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
        Command::Link { subject } => {
            let services = crate::services(&config).await?;
            let found = services.store.find_subject(&subject).await?;
            let subject = found.ok_or_else(|| {
                anyhow::anyhow!("no subject with external id or email {subject:?}")
            })?;
            println!("{}", services.preference_link(subject.id));
            Ok(())
        }
        Command::Links {
            subject,
            csv,
            purpose,
            channel,
            campaign,
        } => {
            let services = crate::services(&config).await?;
            let message = |r: app::services::Refusal| {
                anyhow::anyhow!("{}", app::i18n::error_message(Lang::En, r.code))
            };
            let Some(subject) = subject else {
                let plan = services
                    .link_plan(purpose.as_deref(), channel.as_deref(), campaign.as_deref())
                    .await
                    .map_err(message)?;
                let path = csv.expect("clap requires a subject or --csv");
                let input: Box<dyn std::io::BufRead> = if path.as_os_str() == "-" {
                    Box::new(std::io::stdin().lock())
                } else {
                    Box::new(std::io::BufReader::new(std::fs::File::open(&path)?))
                };
                print!("{}", crate::api_v1::LINKS_CSV_HEADER);
                let mut batch = Vec::with_capacity(1000);
                let mut lines = std::io::BufRead::lines(input).peekable();
                while let Some(line) = lines.next() {
                    let key = crate::api_v1::recipient(&line?);
                    if !(key.is_empty() || key == "subject" && batch.is_empty()) {
                        batch.push(key);
                    }
                    if batch.len() == 1000 || lines.peek().is_none() {
                        let links = services.bulk_links(&plan, &batch).await.map_err(message)?;
                        print!("{}", crate::api_v1::csv_rows(&plan, &batch, links));
                        batch.clear();
                    }
                }
                return Ok(());
            };
            let found = services.store.find_subject(&subject).await?;
            let subject = found.ok_or_else(|| {
                anyhow::anyhow!("no subject with external id or email {subject:?}")
            })?;
            let h = services
                .mail_headers(
                    &subject,
                    purpose.as_deref(),
                    channel.as_deref(),
                    campaign.as_deref(),
                )
                .await
                .map_err(|r| anyhow::anyhow!("{}", app::i18n::error_message(Lang::En, r.code)))?;
            if config.sender_name.is_empty()
                || config.sender_address.is_empty()
                || config.sender_contact.is_empty()
            {
                eprintln!(
                    "doui: warning: sender_name, sender_address and sender_contact must be configured: \
                     advertising messages must show them (特定電子メール法 第4条)"
                );
            }
            println!("List-Unsubscribe: {}", h.list_unsubscribe);
            println!("List-Unsubscribe-Post: {}", h.list_unsubscribe_post);
            println!("List-Id: {}", h.list_id);
            println!("\n{}\n{}", h.footer_ja, h.footer_en);
            Ok(())
        }
        Command::Suppressions {
            purpose,
            channel,
            since,
            limit,
        } => {
            let services = crate::services(&config).await?;
            let rows = services
                .suppressions(&purpose, &channel, since, limit)
                .await
                .map_err(|r| anyhow::anyhow!("{}", app::i18n::error_message(Lang::En, r.code)))?;
            println!("cursor,external_id,email,phone,withdrawn_at");
            for r in rows {
                let s = &r.subject;
                let at = r
                    .since
                    .format(&time::format_description::well_known::Rfc3339)?;
                println!(
                    "{},{},{},{},{at}",
                    r.cursor,
                    csv_field(s.external_id.as_str()),
                    csv_field(s.email.as_ref().map_or("", |e| e.as_str())),
                    csv_field(s.phone.as_ref().map_or("", |p| p.as_str())),
                );
            }
            Ok(())
        }
        Command::ApiKey { command } => {
            let services = crate::services(&config).await?;
            let message = |r: app::services::Refusal| {
                anyhow::anyhow!("{}", app::i18n::error_message(Lang::En, r.code))
            };
            match command {
                ApiKeyCommand::Create { name, scopes } => {
                    let (record, key) = services
                        .create_api_key(&name, &scopes)
                        .await
                        .map_err(message)?;
                    println!("{key}");
                    eprintln!(
                        "API key {} created; it is shown only now: keep it in your sender's secret store.",
                        record.id
                    );
                }
                ApiKeyCommand::List => {
                    for k in services.store.api_keys().await? {
                        let scopes: Vec<&str> = k.scopes.iter().map(|s| s.key()).collect();
                        let state = if k.revoked_at.is_some() {
                            "revoked"
                        } else {
                            "active"
                        };
                        println!("{}  {state:<8} {:<28} {}", k.id, scopes.join(","), k.name);
                    }
                }
                ApiKeyCommand::Revoke { id } => {
                    anyhow::ensure!(
                        services
                            .store
                            .revoke_api_key(&id, app::services::now())
                            .await?,
                        "no active API key {id:?}"
                    );
                    println!("API key {id} revoked.");
                }
            }
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::Public,
        } => {
            let signer = crate::keys::signer(&config.data_dir, config.signing_key.as_deref())?;
            println!("{}", signer.verifier().to_text());
            eprintln!("key id {}", signer.id());
            Ok(())
        }
        Command::Receipt {
            command: ReceiptCommand::Verify { file, public_key },
        } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?;
            let verifier = match &public_key {
                Some(k) => app::signing::Verifier::from_text(k)
                    .map_err(|e| anyhow::anyhow!("--public-key: {e}"))?,
                None => {
                    crate::keys::signer(&config.data_dir, config.signing_key.as_deref())?.verifier()
                }
            };
            match app::services::verify_receipt(&text, &verifier) {
                Ok(r) => {
                    let issued = time::OffsetDateTime::from_unix_timestamp(r.issued_at)?
                        .format(&time::format_description::well_known::Rfc3339)?;
                    println!(
                        "receipt {} verified: signed by key {}, issued {issued} for {}, {} purposes, {} events",
                        r.receipt_id, r.key_id, r.principal, r.purposes, r.events
                    );
                    Ok(())
                }
                Err(e) => {
                    println!("receipt NOT verified: {e}");
                    std::process::exit(1);
                }
            }
        }
        Command::Subject {
            command:
                SubjectCommand::Received {
                    subject,
                    provider_name,
                    provider_address,
                    provider_representative,
                    acquired_by,
                    data_items,
                },
        } => {
            let services = crate::services(&config).await?;
            let message = |r: app::services::Refusal| {
                anyhow::anyhow!("{}", app::i18n::error_message(Lang::En, r.code))
            };
            let subject = services
                .store
                .find_subject(&subject)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no subject with that external id or email"))?;
            let a = services
                .record_acquisition(
                    &subject,
                    app::services::AcquisitionInput {
                        provider_name: &provider_name,
                        provider_address: &provider_address,
                        provider_representative: &provider_representative,
                        acquired_by: &acquired_by,
                        data_items: &data_items,
                    },
                    "cli",
                )
                .await
                .map_err(message)?;
            println!("acquisition {} recorded for subject {}", a.seq, subject.id);
            Ok(())
        }
        Command::Notice { command } => {
            let services = crate::services(&config).await?;
            notice::run(&services, command).await
        }
        Command::Recipient { command } => {
            let services = crate::services(&config).await?;
            let message = |r: app::services::Refusal| {
                anyhow::anyhow!("{}", app::i18n::error_message(Lang::En, r.code))
            };
            match command {
                RecipientCommand::Add {
                    id,
                    name,
                    address,
                    representative,
                } => {
                    let r = services
                        .save_recipient(app::store::Recipient {
                            id,
                            name,
                            address,
                            representative,
                        })
                        .await
                        .map_err(message)?;
                    println!("recipient {} saved", r.id);
                }
                RecipientCommand::List => {
                    for r in services.recipients().await.map_err(message)? {
                        println!("{}\t{}\t{}\t{}", r.id, r.name, r.address, r.representative);
                    }
                }
            }
            Ok(())
        }
        Command::Purge { dry_run } => {
            let services = crate::services(&config).await?;
            // Seal what committed first: only sealed events can leave a tombstone.
            while services
                .seal_pending()
                .await
                .map_err(|r| anyhow::anyhow!(r.code))?
                > 0
            {}
            let r = services
                .purge(dry_run)
                .await
                .map_err(|r| anyhow::anyhow!(r.code))?;
            let verb = if dry_run { "would purge" } else { "purged" };
            println!(
                "{verb} {} events (examined {}: {} still in force, {} within their retention minimum)",
                r.purged, r.examined, r.in_force, r.within_minimum
            );
            Ok(())
        }
        Command::Checkpoints { after } => {
            let services = crate::services(&config).await?;
            let mut after = after;
            loop {
                let page = services
                    .checkpoints(after, 1_000)
                    .await
                    .map_err(|r| anyhow::anyhow!(r.code))?;
                let Some(last) = page.last() else { break };
                after = last.length;
                print!("{}", crate::exports::checkpoint_lines(&page));
            }
            Ok(())
        }
        Command::Keys { command } => {
            anyhow::ensure!(
                config.token_secret.is_none(),
                "links are signed with token_secret from the configuration; keys are managed there"
            );
            match command {
                KeysCommand::List => {
                    for k in crate::keys::list(&config.data_dir)? {
                        println!(
                            "{:<6} {:<10} created {}",
                            k.id,
                            if k.signing { "signing" } else { "verifying" },
                            k.created_at
                        );
                    }
                }
                KeysCommand::Rotate => {
                    let id = crate::keys::rotate(&config.data_dir)?;
                    println!(
                        "{id} now signs new links; older keys keep verifying until retired. Restart doui to use it."
                    );
                }
                KeysCommand::Retire { id } => {
                    crate::keys::retire(&config.data_dir, &id)?;
                    println!(
                        "{id} retired: links signed with it no longer work. Restart doui to apply."
                    );
                }
                KeysCommand::Public => unreachable!("answered above"),
            }
            Ok(())
        }
        Command::Admin { command } => admin(command, config).await,
        Command::Verify {
            checkpoints,
            public_key,
        } => {
            let kept = match &checkpoints {
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
                    let kept = crate::exports::parse_checkpoint_lines(&text)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                    anyhow::ensure!(!kept.is_empty(), "{} holds no checkpoint", path.display());
                    Some(kept)
                }
                None => None,
            };
            let services = crate::services(&config).await?;
            let verifier = match &public_key {
                Some(k) => app::signing::Verifier::from_text(k)
                    .map_err(|e| anyhow::anyhow!("--public-key: {e}"))?,
                None => services.signer.verifier(),
            };
            // Events that committed since the server last sealed are sealed first.
            services
                .seal_pending()
                .await
                .map_err(|r| anyhow::anyhow!(r.code))?;
            let report = services
                .verify_chain_against(kept.as_deref(), &verifier)
                .await
                .map_err(|r| anyhow::anyhow!(r.code))?;
            match report.broken {
                None => {
                    println!(
                        "chain verified: {} events sealed, head {}, {} signed checkpoints match",
                        report.length, report.head, report.checkpoints
                    );
                    Ok(())
                }
                Some(b) => {
                    println!(
                        "chain BROKEN after {} good events (head {}): {b}",
                        report.length, report.head
                    );
                    std::process::exit(1);
                }
            }
        }
        Command::Subject {
            command: SubjectCommand::Erase { subject, reason },
        } => {
            let services = crate::services(&config).await?;
            let provenance = app::domain::Provenance {
                occurred_at: app::services::now(),
                source: app::domain::Source::Admin,
                actor: app::domain::Actor::System,
                notice_version: None,
                origin: app::domain::Origin::default(),
                idempotency_key: None,
                reason: None,
                campaign: None,
            };
            let erasure = services
                .erase_subject(&subject, &reason, app::services::Eraser::Cli, provenance)
                .await
                .map_err(|r| anyhow::anyhow!("{}", app::i18n::error_message(Lang::En, r.code)))?;
            println!(
                "subject {} erased ({} identifier digests kept as suppression)",
                erasure.subject,
                erasure.digests.len()
            );
            Ok(())
        }
        Command::Subject {
            command:
                SubjectCommand::Add {
                    email,
                    phone,
                    lang,
                    external_id,
                    jurisdiction,
                },
        } => {
            let lang: Lang = lang
                .parse()
                .map_err(|_| anyhow::anyhow!("--lang must be ja or en"))?;
            let jurisdiction: app::domain::Jurisdiction = jurisdiction
                .parse()
                .map_err(|_| anyhow::anyhow!("--jurisdiction must be jp, eu, us_ca or default"))?;
            anyhow::ensure!(
                email.is_some() || phone.is_some(),
                "give --email or --phone (or both)"
            );
            let services = crate::services(&config).await?;
            let subject = services
                .create_subject_in(
                    external_id.as_deref(),
                    email.as_deref(),
                    phone.as_deref(),
                    lang,
                    jurisdiction,
                )
                .await
                .map_err(|r| anyhow::anyhow!("{}", app::i18n::error_message(Lang::En, r.code)))?;
            println!(
                "subject {} (external id {})",
                subject.id,
                subject.external_id.as_str()
            );
            println!("{}", services.preference_link(subject.id));
            Ok(())
        }
    }
}

async fn admin(command: AdminCommand, config: Config) -> anyhow::Result<()> {
    let services = crate::services(&config).await?;
    let message = |r: app::services::Refusal| {
        anyhow::anyhow!("{}", app::i18n::error_message(Lang::En, r.code))
    };
    let role = |r: &str| -> anyhow::Result<app::auth::Role> {
        r.parse()
            .map_err(|_| anyhow::anyhow!("--role must be viewer, operator or owner"))
    };
    match command {
        AdminCommand::Create { email, role: r } => {
            let role = role(&r)?;
            let password = read_new_password()?;
            let admin = services
                .create_admin(&email, role, &password)
                .await
                .map_err(message)?;
            println!("admin {} created ({})", admin.email, admin.role);
            println!("sign in at {}/admin/signin", config.public_url);
        }
        AdminCommand::List => {
            for a in services.identity.admins().await? {
                let state = if a.disabled_at.is_some() {
                    "disabled"
                } else {
                    "active"
                };
                let totp = if a.totp_secret.is_some() { "totp" } else { "-" };
                println!("{:<40} {:<9} {state:<9} {totp}", a.email, a.role.key());
            }
        }
        AdminCommand::SetRole { email, role: r } => {
            let current = services.admin_named(&email).await.map_err(message)?;
            let a = services
                .set_admin_role(&email, role(&r)?, current.disabled_at.is_some())
                .await
                .map_err(message)?;
            println!("{} is now {}", a.email, a.role);
        }
        AdminCommand::Disable { email, enable } => {
            let current = services.admin_named(&email).await.map_err(message)?;
            let a = services
                .set_admin_role(&email, current.role, !enable)
                .await
                .map_err(message)?;
            let state = if enable {
                "enabled"
            } else {
                "disabled and signed out"
            };
            println!("{} {state}", a.email);
        }
        AdminCommand::Password { email } => {
            let password = read_new_password()?;
            services
                .set_admin_password(&email, &password)
                .await
                .map_err(message)?;
            println!("password changed; {email} was signed out everywhere");
        }
        AdminCommand::Totp { email } => {
            let secret = services.enroll_totp(&email).await.map_err(message)?;
            let admin = services.admin_named(&email).await.map_err(message)?;
            println!("secret: {secret}");
            println!("{}", app::auth::otpauth_uri("Doui", &admin.email, &secret));
            eprintln!(
                "Add it to an authenticator app; from now on sign-in asks for its 6-digit code."
            );
        }
    }
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    tracing::info!(?config, "starting");
    if !std::path::Path::new(&config.site_root).join("pkg").exists() {
        tracing::warn!(site_root = %config.site_root,
            "no built site here: pages work but without styles and scripts (build with `cargo leptos build --release`)");
    }
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
    running.task.await??;
    Ok(())
}

/// A CSV field (RFC 4180): quoted when it holds a comma, quote or line break.
/// Free text for a CSV cell: quoted as needed, and never read as a spreadsheet formula (a leading
/// `=`, `+`, `-`, `@`, tab or carriage return gets a `'` in front).
pub(crate) fn csv_text(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        csv_field(&format!("'{value}"))
    } else {
        csv_field(value)
    }
}

pub(crate) fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}
