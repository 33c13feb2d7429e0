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
    pub rest: Option<tokio::sync::mpsc::Receiver<Result<FeedPiece, Refusal>>>,
}

/// A piece of a long page after the first.
#[derive(Debug)]
pub struct FeedPiece {
    pub items: Vec<FeedItem>,
    /// Every position up to here has been read (the page's next cursor if this piece is its
    /// last): the last item's when the piece is full, else the end of what it covered.
    pub through: i64,
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
    ///
    /// Without a filter every position holds an event (but those retention removed), so the
    /// pieces after the first are ranges of positions, each known before the one before it is
    /// read, and read as many at a time as the store does best (`feed_reads_at_once`: two
    /// connections on PostgreSQL); a page with such a gap comes out shorter than asked, its next
    /// cursor past the gap. With a filter each piece starts after the last item of the one
    /// before.
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
                let (console, filter, head) = (self.console.clone(), filter.clone(), first.head);
                let (after, left) = (last.cursor, limit - piece);
                if filter == FeedFilter::default() {
                    tokio::spawn(read_ranges(console, head, after, left, sender));
                } else {
                    tokio::spawn(read_in_turn(console, filter, head, after, left, sender));
                }
                Some(receiver)
            }
            _ => None,
        };
        Ok(FeedStream { first, rest })
    }
}

type Pieces = tokio::sync::mpsc::Sender<Result<FeedPiece, Refusal>>;

/// The pieces of an unfiltered page after `after`: `left` positions at most, below `head`, in
/// ranges of [`FEED_PIECE`] read as many at a time as the store does best, sent in order.
async fn read_ranges(
    console: std::sync::Arc<dyn crate::store::ConsoleStore>,
    head: i64,
    after: i64,
    left: u32,
    sender: Pieces,
) {
    use futures_util::StreamExt;
    let end = head.min(after + i64::from(left));
    let starts = (after..end).step_by(FEED_PIECE as usize);
    let at_once = console.feed().feed_reads_at_once().max(1);
    let mut pieces = futures_util::stream::iter(starts)
        .map(|from| {
            let console = console.clone();
            async move {
                let through = end.min(from + i64::from(FEED_PIECE));
                let filter = FeedFilter::default();
                let items = console
                    .feed()
                    .feed_page(from, through, &filter, FEED_PIECE)
                    .await
                    .map_err(Refusal::from)?;
                Ok(FeedPiece { items, through })
            }
        })
        .buffered(at_once);
    while let Some(read) = pieces.next().await {
        let failed = read.is_err();
        if sender.send(read).await.is_err() || failed {
            return;
        }
    }
}

/// The pieces of a filtered page after `after`, each read after the one before (where a piece
/// starts is where the last ended), `left` items at most, below `head`.
async fn read_in_turn(
    console: std::sync::Arc<dyn crate::store::ConsoleStore>,
    filter: FeedFilter,
    head: i64,
    mut after: i64,
    mut left: u32,
    sender: Pieces,
) {
    while left > 0 {
        let n = left.min(FEED_PIECE);
        let read = console
            .feed()
            .feed_page(after, head, &filter, n)
            .await
            .map_err(Refusal::from)
            .map(|items| {
                let through = match items.last() {
                    Some(l) if items.len() == n as usize => l.cursor,
                    _ => head,
                };
                FeedPiece { items, through }
            });
        let more = match &read {
            Ok(p) if p.items.len() == n as usize => Some(p.through),
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
}
