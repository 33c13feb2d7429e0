//! The event feed (issue 32): sealed consent changes in chain order, from a cursor, with an
//! optional long poll that answers as soon as the chain grows.

use std::time::Duration;

use crate::domain::{FeedFilter, FeedItem};

use super::{Refusal, Services};

/// Items per answer unless the caller asks for another number.
pub const FEED_PAGE: u32 = 100;
/// The most items one answer carries.
pub const MAX_FEED_PAGE: u32 = 1000;
/// The longest a long poll waits.
pub const MAX_FEED_WAIT: Duration = Duration::from_secs(30);
/// How often a waiting long poll looks at the store: the sealer may run on another instance,
/// whose rounds this process is not told of.
pub const FEED_POLL: Duration = Duration::from_millis(200);

/// One answer of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedPage {
    pub items: Vec<FeedItem>,
    /// Pass as the next cursor: the last item's when the page is full, else the chain's head as
    /// it was read (events the filter left out are passed over), never below the cursor given.
    pub next_cursor: i64,
}

impl Services {
    /// Sealed events after `cursor` (a chain position) that pass `filter`, at most `limit`.
    pub async fn feed(
        &self,
        cursor: i64,
        filter: &FeedFilter,
        limit: u32,
    ) -> Result<FeedPage, Refusal> {
        if cursor < 0 || !(1..=MAX_FEED_PAGE).contains(&limit) {
            return Err(Refusal::new("bad_request"));
        }
        if !filter.purposes.is_empty() {
            let known = self.store.purposes().await?;
            if !filter
                .purposes
                .iter()
                .all(|p| known.iter().any(|k| &k.key == p))
            {
                return Err(Refusal::new("unknown_purpose"));
            }
        }
        let feed = self.console.feed();
        // The head first: every position up to it is committed, so the page misses nothing below
        // it, and a page that is not full may move the cursor to it.
        let head = feed.feed_head().await?;
        if head <= cursor {
            return Ok(FeedPage {
                items: Vec::new(),
                next_cursor: cursor,
            });
        }
        let items = feed.feed_page(cursor, head, filter, limit).await?;
        let next_cursor = match items.last() {
            Some(last) if items.len() == limit as usize => last.cursor,
            _ => head,
        };
        Ok(FeedPage { items, next_cursor })
    }

    /// Like [`Services::feed`], but when nothing is there yet, waits up to `wait` (at most
    /// [`MAX_FEED_WAIT`]) and answers as soon as something is: woken when this process seals,
    /// and looking every [`FEED_POLL`] for what another instance sealed.
    pub async fn feed_wait(
        &self,
        cursor: i64,
        filter: &FeedFilter,
        limit: u32,
        wait: Duration,
    ) -> Result<FeedPage, Refusal> {
        if wait > MAX_FEED_WAIT {
            return Err(Refusal::new("bad_request"));
        }
        let deadline = tokio::time::Instant::now() + wait;
        let mut sealed = self.sealed.subscribe();
        let mut cursor = cursor;
        loop {
            sealed.borrow_and_update();
            let page = self.feed(cursor, filter, limit).await?;
            let now = tokio::time::Instant::now();
            if !page.items.is_empty() || now >= deadline {
                return Ok(page);
            }
            // Events the filter left out are passed over for good.
            cursor = page.next_cursor;
            let nap = FEED_POLL.min(deadline - now);
            tokio::select! {
                _ = sealed.changed() => {}
                _ = tokio::time::sleep(nap) => {}
            }
        }
    }
}
