//! `doui webhook …`: add, list, rotate, disable and enable webhook endpoints, and read their
//! delivery log (issue 32). The dispatcher of a running `doui serve` picks changes up within a
//! second.

use app::{
    domain::webhook::{WebhookFilter, split_list},
    services::{DELIVERY_PAGE, ReplayFrom, Services, WebhookInput},
};
use clap::Subcommand;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use super::refusal;
use crate::api_v1::webhooks::ms_time;

#[derive(Subcommand)]
pub enum WebhookCommand {
    /// Add an endpoint that receives what is recorded from now on; its secret is printed this
    /// once. Filters are comma lists; left out, every value.
    Add {
        /// `https://…` (plain http only for hosts in webhook_allow_hosts).
        url: String,
        #[arg(long, default_value = "")]
        description: String,
        /// Event kinds (consent.changed).
        #[arg(long, default_value = "")]
        kinds: String,
        #[arg(long, default_value = "")]
        purposes: String,
        #[arg(long, default_value = "")]
        channels: String,
        #[arg(long, default_value = "")]
        sources: String,
        /// The third-party recipient (its id in the APPI register) this endpoint speaks to: it
        /// then receives only the changes of the sharing purposes that recipient was given
        /// people's data under, and their erasures, and each delivery is recorded with the
        /// provisions.
        #[arg(long)]
        recipient: Option<String>,
    },
    /// List the endpoints as tab-separated lines: id, state, cursor, failures, URL, description,
    /// recipient (empty when none).
    List,
    /// Print a new secret; the previous one keeps signing for 24 hours.
    Rotate { id: String },
    /// Stop delivering to an endpoint (its cursor stays).
    Disable { id: String },
    /// Deliver again: from where it stopped, after a cursor, or from a time (RFC 3339).
    Enable {
        id: String,
        #[arg(long, conflicts_with = "from_time")]
        from: Option<i64>,
        #[arg(long)]
        from_time: Option<String>,
    },
    /// The latest delivery attempts, newest first, tab-separated: time, cursor, event id,
    /// attempt, status, latency (ms), error, first bytes of the answer.
    Deliveries {
        id: String,
        #[arg(long, default_value_t = DELIVERY_PAGE)]
        limit: u32,
    },
}

pub async fn run(services: &Services, command: WebhookCommand) -> anyhow::Result<()> {
    match command {
        WebhookCommand::Add {
            url,
            description,
            kinds,
            purposes,
            channels,
            sources,
            recipient,
        } => {
            let input = WebhookInput {
                url,
                description,
                filter: WebhookFilter {
                    kinds: split_list(&kinds),
                    purposes: split_list(&purposes),
                    channels: split_list(&channels),
                    sources: split_list(&sources),
                },
                recipient,
            };
            let (e, secret) = services
                .add_webhook(input, app::services::now())
                .await
                .map_err(refusal)?;
            println!("{}", e.id);
            println!("{secret}");
            eprintln!("endpoint {} added; its secret is shown only now", e.id);
        }
        WebhookCommand::List => {
            for e in services.webhooks().await.map_err(refusal)? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    e.id,
                    e.state,
                    e.position,
                    e.failures,
                    e.url,
                    e.description,
                    e.recipient.as_deref().unwrap_or("")
                );
            }
        }
        WebhookCommand::Rotate { id } => {
            let secret = services
                .rotate_webhook(&id, app::services::now())
                .await
                .map_err(refusal)?;
            println!("{secret}");
            eprintln!("the previous secret keeps signing for 24 hours");
        }
        WebhookCommand::Disable { id } => {
            services.disable_webhook(&id).await.map_err(refusal)?;
            println!("{id} disabled");
        }
        WebhookCommand::Enable {
            id,
            from,
            from_time,
        } => {
            let replay = match (from, from_time) {
                (Some(c), _) => ReplayFrom::Cursor(c),
                (None, Some(t)) => ReplayFrom::Time(
                    OffsetDateTime::parse(&t, &Rfc3339)
                        .map_err(|_| anyhow::anyhow!("--from-time must be RFC 3339"))?,
                ),
                (None, None) => ReplayFrom::Stopped,
            };
            let e = services
                .enable_webhook(&id, replay)
                .await
                .map_err(refusal)?;
            println!("{id} enabled, delivering after cursor {}", e.position);
        }
        WebhookCommand::Deliveries { id, limit } => {
            for d in services
                .webhook_deliveries(&id, limit.clamp(1, 1000))
                .await
                .map_err(refusal)?
            {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    ms_time(d.at),
                    d.position,
                    d.event_id,
                    d.attempt,
                    d.status.map_or("-".to_owned(), |s| s.to_string()),
                    d.latency_ms,
                    d.error.as_deref().unwrap_or(""),
                    d.answer.replace(['\t', '\n', '\r'], " ")
                );
            }
        }
    }
    Ok(())
}
