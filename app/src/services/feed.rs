//! The event feed (issue 32): sealed consent changes in chain order, from a cursor, with an
//! optional long poll that answers as soon as the chain grows.

use std::time::Duration;

use crate::domain::{FeedFilter, FeedItem};

use super::{Refusal, Services};

/// Items per answer unless the caller asks for another number.
pub const FEED_PAGE: u32 = 100;
/// The most items one answer carries.
pub const MAX_FEED_PAGE: u32 = 10_000;
/// A long page is read in pieces of this many items, each read while the one before is written
/// out (see [`Services::feed_stream`]).
pub const FEED_PIECE: u32 = 1_000;
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
    /// The chain's head as it was read: no item of the page lies above it.
    pub head: i64,
}

/// A page of the feed handed over in pieces: the first read (and waited for), the rest read by a
/// task of their own, each while the caller writes out the one before, so that the database, the
/// reading of its rows and the writing of the answer run side by side.
pub struct FeedStream {
    /// The first piece (its `next_cursor` is the page's when nothing follows).
    pub first: FeedPage,
    /// The pieces after the first, in order; closed after the last (or after an error).
    pub rest: Option<tokio::sync::mpsc::Receiver<Result<Vec<FeedItem>, Refusal>>>,
    limit: u32,
    /// Whether pieces follow the first (`rest` was given).
    more: bool,
}

impl FeedStream {
    /// The page's next cursor once `count` items were handed over, the last at `last`: the
    /// last item's when the page is full, else the head (events the filter left out are passed
    /// over), never below the cursor asked for.
    pub fn next_cursor(&self, count: usize, last: Option<i64>) -> i64 {
        match last {
            Some(last) if count == self.limit as usize => last,
            _ if !self.more => self.first.next_cursor,
            _ => self.first.head,
        }
    }
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
                head,
            });
        }
        let items = feed.feed_page(cursor, head, filter, limit).await?;
        let next_cursor = match items.last() {
            Some(last) if items.len() == limit as usize => last.cursor,
            _ => head,
        };
        Ok(FeedPage {
            items,
            next_cursor,
            head,
        })
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

    /// Like [`Services::feed_wait`], for a page of up to [`MAX_FEED_PAGE`] items read in pieces
    /// of [`FEED_PIECE`]: the first is waited for as `feed_wait` waits, the others are read
    /// below the same head by a task of their own, at most two pieces ahead of the caller. A
    /// caller that stops reading (its client went away) ends the task.
    pub async fn feed_stream(
        &self,
        cursor: i64,
        filter: &FeedFilter,
        limit: u32,
        wait: Duration,
    ) -> Result<FeedStream, Refusal> {
        if !(1..=MAX_FEED_PAGE).contains(&limit) {
            return Err(Refusal::new("bad_request"));
        }
        let piece = limit.min(FEED_PIECE);
        let first = self.feed_wait(cursor, filter, piece, wait).await?;
        let rest = match first.items.last() {
            Some(last) if piece < limit && first.items.len() == piece as usize => {
                let (sender, receiver) = tokio::sync::mpsc::channel(2);
                let (feed, filter, head) = (self.console.clone(), filter.clone(), first.head);
                let (mut after, mut left) = (last.cursor, limit - piece);
                tokio::spawn(async move {
                    while left > 0 {
                        let n = left.min(FEED_PIECE);
                        let read = feed
                            .feed()
                            .feed_page(after, head, &filter, n)
                            .await
                            .map_err(Refusal::from);
                        let more = match &read {
                            Ok(items) if items.len() == n as usize => {
                                items.last().map(|l| l.cursor)
                            }
                            _ => None,
                        };
                        if sender.send(read).await.is_err() {
                            return;
                        }
                        match more {
                            Some(last) => (after, left) = (last, left - n),
                            None => return,
                        }
                    }
                });
                Some(receiver)
            }
            _ => None,
        };
        Ok(FeedStream {
            first,
            more: rest.is_some(),
            rest,
            limit,
        })
    }
}
