//! `doui events`: the event feed as JSON Lines, for scripts (the items `GET /api/v1/events`
//! gives, in the same order and shape).

use std::io::Write;

use app::{
    domain::FeedFilter,
    services::{MAX_FEED_PAGE, MAX_FEED_WAIT},
};

use super::refusal;
use crate::{api_v1::events::EventItem, config::Config};

/// What to print: from `--since` on, at most `--limit` events (all there are when absent), only
/// those the filters pass; with `--follow`, then every new event as it is sealed, until stopped.
#[derive(clap::Args)]
pub(super) struct EventsArgs {
    /// The cursor to start after (the `cursor` of the last event seen; 0: from the start).
    #[arg(long, default_value_t = 0)]
    since: i64,
    /// At most this many events (default: all there are).
    #[arg(long)]
    limit: Option<u64>,
    /// Keep printing new events as they are sealed.
    #[arg(long)]
    follow: bool,
    /// Only these purposes (repeat, or a comma list).
    #[arg(long)]
    purpose: Vec<String>,
    /// Only these channels (repeat, or a comma list).
    #[arg(long)]
    channel: Vec<String>,
    /// Only changes from these sources (repeat, or a comma list).
    #[arg(long)]
    source: Vec<String>,
}

pub(super) async fn events(config: &Config, args: EventsArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.since >= 0, "--since is a cursor: 0 or more");
    let filter = FeedFilter::parse(
        args.purpose.iter().map(String::as_str),
        args.channel.iter().map(String::as_str),
        args.source.iter().map(String::as_str),
    )
    .map_err(|e| anyhow::anyhow!("--{}: not a known value", e.field))?;
    let services = crate::services(config).await?;
    seal_pending(&services).await?;
    let mut out = std::io::stdout().lock();
    let mut cursor = args.since;
    let mut left = args.limit.unwrap_or(u64::MAX);
    while left > 0 {
        let page_size = left.min(u64::from(MAX_FEED_PAGE)) as u32;
        let page = if args.follow {
            services
                .feed_wait(cursor, &filter, page_size, MAX_FEED_WAIT)
                .await
        } else {
            services.feed(cursor, &filter, page_size).await
        }
        .map_err(refusal)?;
        for item in &page.items {
            serde_json::to_writer(&mut out, &EventItem::from(item))?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        left -= page.items.len() as u64;
        let moved = page.next_cursor != cursor;
        cursor = page.next_cursor;
        if !args.follow && (page.items.len() < page_size as usize || !moved) {
            break;
        }
    }
    Ok(())
}

/// Seals what was committed and not sealed yet (no server may be running to do it): cursor
/// readers see an event once it is sealed. Safe beside a running server: one sealer at a time.
pub(super) async fn seal_pending(services: &app::services::Services) -> anyhow::Result<()> {
    while services.seal_pending().await.map_err(refusal)? >= app::services::SEAL_BATCH {}
    Ok(())
}
