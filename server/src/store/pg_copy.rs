//! Bulk reads on PostgreSQL (chain walks, exports) by binary `COPY … TO STDOUT`: the server
//! sends each row's values as they are stored (a uuid is 16 bytes, a time 8), with no text
//! conversion on either side and no per-row decoding in sqlx. A page is parsed row by row as it
//! arrives (chain walks' seals and events, exports), or, when small, read whole and then parsed in
//! place (a chain page's tombstones).

use app::store::{StoreError, StoreResult};
use futures_util::TryStreamExt;

use super::{corrupt, db_error};

/// The start of every binary COPY output: signature, flags, header extension length.
const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

/// What a `COPY … (FORMAT binary)` of `query` returns, whole. `settings` are set for the
/// transaction first (`set_config`), so `query` reads run-time values with `current_setting`
/// instead of parameters, which COPY does not take.
///
/// The read runs to its end on a task of its own even when the caller stops waiting (a chain
/// walk drops the pages it read ahead in vain): a COPY abandoned midway would leave its messages
/// on the connection for the next user of the pool to misread.
pub(crate) async fn read(
    pool: &sqlx::PgPool,
    query: &str,
    settings: &[(String, String)],
) -> StoreResult<Vec<u8>> {
    on_own_task(pool, query, settings, Whole(Vec::new())).await
}

/// Like `read` then `each`, but each row is given to `row` (with `state`, returned at the end) as
/// soon as it has arrived: the server goes on producing the next rows meanwhile, where a page
/// read whole and only then parsed leaves it idle while the page is parsed. An error of `row`'s
/// stops the parsing, not the reading (see `read`).
pub(crate) async fn read_each<T, F>(
    pool: &sqlx::PgPool,
    query: &str,
    settings: &[(String, String)],
    state: T,
    row: F,
) -> StoreResult<T>
where
    T: Send + 'static,
    F: FnMut(&mut T, &Tuple<'_>) -> StoreResult<()> + Send + 'static,
{
    let rows = Rows {
        at: At::Header,
        pending: Vec::new(),
        state,
        row,
        failed: None,
    };
    on_own_task(pool, query, settings, rows).await
}

/// What is done with a COPY's output as it arrives.
trait Consumer: Send + 'static {
    type Out: Send + 'static;
    fn chunk(&mut self, chunk: axum::body::Bytes);
    fn finish(self) -> StoreResult<Self::Out>;
}

/// The output kept whole (chunk by chunk, then copied once into a buffer of their total size: a
/// growing buffer would copy a page of megabytes several times over).
struct Whole(Vec<axum::body::Bytes>);

impl Consumer for Whole {
    type Out = Vec<u8>;
    fn chunk(&mut self, chunk: axum::body::Bytes) {
        self.0.push(chunk);
    }
    fn finish(self) -> StoreResult<Vec<u8>> {
        Ok(self.0.concat())
    }
}

/// The rows parsed as they arrive; a row cut across chunks waits in `pending` for the rest.
struct Rows<T, F> {
    at: At,
    pending: Vec<u8>,
    state: T,
    row: F,
    failed: Option<StoreError>,
}

impl<T, F> Consumer for Rows<T, F>
where
    T: Send + 'static,
    F: FnMut(&mut T, &Tuple<'_>) -> StoreResult<()> + Send + 'static,
{
    type Out = T;
    fn chunk(&mut self, chunk: axum::body::Bytes) {
        if self.failed.is_some() {
            return;
        }
        let (state, row) = (&mut self.state, &mut self.row);
        let mut each_row = |t: &Tuple<'_>| row(state, t);
        let parsed = if self.pending.is_empty() {
            advance(&chunk, &mut self.at, &mut each_row)
                .map(|used| self.pending.extend_from_slice(&chunk[used..]))
        } else {
            self.pending.extend_from_slice(&chunk);
            advance(&self.pending, &mut self.at, &mut each_row).map(|used| {
                self.pending.drain(..used);
            })
        };
        self.failed = parsed.err();
    }
    fn finish(self) -> StoreResult<T> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        // Nothing at all is an empty page (as in `each`); anything else must have ended.
        match (self.at, self.pending.is_empty()) {
            (At::End, _) | (At::Header, true) => Ok(self.state),
            _ => Err(corrupt("copied row")),
        }
    }
}

/// `read_into` on a task of its own, which runs to the end even when the caller stops waiting
/// (see `read`).
async fn on_own_task<C: Consumer>(
    pool: &sqlx::PgPool,
    query: &str,
    settings: &[(String, String)],
    consumer: C,
) -> StoreResult<C::Out> {
    let (pool, query, settings) = (pool.clone(), query.to_owned(), settings.to_vec());
    tokio::spawn(async move { read_into(&pool, &query, &settings, consumer).await })
        .await
        .map_err(|_| StoreError::Backend("the read stopped".into()))?
}

/// Runs `query` as a binary COPY (with `settings` set for its transaction, if any) and hands
/// its output to `consumer` as it arrives; the COPY is always read to its end.
async fn read_into<C: Consumer>(
    pool: &sqlx::PgPool,
    query: &str,
    settings: &[(String, String)],
    consumer: C,
) -> StoreResult<C::Out> {
    let copy = format!("COPY ({query}) TO STDOUT (FORMAT binary)");
    if settings.is_empty() {
        // Nothing to set: no transaction around it, one round trip fewer.
        let mut conn = pool.acquire().await.map_err(db_error)?;
        return consume(conn.copy_out_raw(&copy).await.map_err(db_error)?, consumer).await;
    }
    let mut tx = pool.begin().await.map_err(db_error)?;
    for (name, value) in settings {
        sqlx::query("SELECT set_config($1, $2, true)")
            .bind(name)
            .bind(value)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
    }
    let out = consume(tx.copy_out_raw(&copy).await.map_err(db_error)?, consumer).await;
    tx.rollback().await.map_err(db_error)?;
    out
}

/// The stream to its end, chunk by chunk, into `consumer`.
async fn consume<C: Consumer>(
    mut stream: futures_util::stream::BoxStream<'_, sqlx::Result<axum::body::Bytes>>,
    mut consumer: C,
) -> StoreResult<C::Out> {
    while let Some(chunk) = stream.try_next().await.map_err(db_error)? {
        consumer.chunk(chunk);
    }
    consumer.finish()
}

/// The most values a copied row holds (a chain page's position, seq and seal before the 20 event
/// columns, with room to spare).
const MAX_FIELDS: usize = 28;

/// One row: its values (`None` for NULL), borrowed from the page.
pub(crate) struct Tuple<'a> {
    fields: [Option<&'a [u8]>; MAX_FIELDS],
    count: usize,
}

/// Calls `row` with each row of a binary COPY output, in order. One `Tuple` is filled in place
/// for every row: a chain walk reads two rows per link, millions of them, and neither a vector
/// per row nor a row moved out of an iterator is free at that count.
pub(crate) fn each<'a>(
    page: &'a [u8],
    mut row: impl FnMut(&Tuple<'a>) -> StoreResult<()>,
) -> StoreResult<()> {
    if page.is_empty() {
        return Ok(());
    }
    let mut at = At::Header;
    advance(page, &mut at, &mut row)?;
    // Cut short: a row or the trailer is missing.
    if at != At::End {
        return Err(corrupt("copied row"));
    }
    Ok(())
}

/// Where a reader of COPY output is: before the header, among the rows, or past the trailer.
#[derive(Clone, Copy, PartialEq, Debug)]
enum At {
    Header,
    Rows,
    End,
}

/// Reads what `data` holds whole from `at` on (the header, then rows, each given to `row`, up to
/// the trailer) and returns how many bytes it used: a part cut off at the end of `data` is left
/// for when the rest has arrived. Output that cannot be COPY's is an error.
fn advance<'a>(
    data: &'a [u8],
    at: &mut At,
    row: &mut impl FnMut(&Tuple<'a>) -> StoreResult<()>,
) -> StoreResult<usize> {
    let bad = || corrupt("copied row");
    let mut rest = data;
    let used = |rest: &[u8]| data.len() - rest.len();
    if *at == At::Header {
        let seen = rest.len().min(SIGNATURE.len());
        if rest[..seen] != SIGNATURE[..seen] {
            return Err(bad());
        }
        // Signature and flags, then the length of a header extension to skip.
        let mut r = rest;
        let (Some(_), Some(ext)) = (take(&mut r, SIGNATURE.len() + 4), take_array(&mut r)) else {
            return Ok(0);
        };
        if take(&mut r, u32::from_be_bytes(ext) as usize).is_none() {
            return Ok(0);
        }
        rest = r;
        *at = At::Rows;
    }
    let mut tuple = Tuple {
        fields: [None; MAX_FIELDS],
        count: 0,
    };
    while *at == At::Rows {
        let mut r = rest;
        let Some(count) = take_array(&mut r).map(i16::from_be_bytes) else {
            break;
        };
        let Ok(count) = usize::try_from(count) else {
            *at = At::End; // the trailer
            return Ok(used(r));
        };
        if count > MAX_FIELDS {
            return Err(bad());
        }
        tuple.count = count;
        let mut whole = true;
        for f in &mut tuple.fields[..count] {
            let Some(len) = take_array(&mut r).map(i32::from_be_bytes) else {
                whole = false;
                break;
            };
            *f = match usize::try_from(len) {
                Ok(len) => match take(&mut r, len) {
                    Some(v) => Some(v),
                    None => {
                        whole = false;
                        break;
                    }
                },
                Err(_) => None,
            };
        }
        if !whole {
            break;
        }
        rest = r;
        row(&tuple)?;
    }
    Ok(used(rest))
}

fn take<'a>(rest: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    let (head, tail) = (rest.get(..n)?, rest.get(n..)?);
    *rest = tail;
    Some(head)
}

/// The next `N` bytes of `rest`, as an array (a big-endian number's bytes).
fn take_array<const N: usize>(rest: &mut &[u8]) -> Option<[u8; N]> {
    take(rest, N)?.try_into().ok()
}

/// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01).
const PG_EPOCH_MICROS: i128 = 946_684_800_000_000;

impl<'a> Tuple<'a> {
    pub fn bytes(&self, i: usize) -> Option<&'a [u8]> {
        self.fields[..self.count].get(i).copied().flatten()
    }

    pub fn text(&self, i: usize) -> StoreResult<Option<&'a str>> {
        self.bytes(i)
            .map(std::str::from_utf8)
            .transpose()
            .map_err(|_| corrupt("text"))
    }

    /// A bigint.
    pub fn int(&self, i: usize) -> StoreResult<i64> {
        let b = self.bytes(i).ok_or_else(|| corrupt("number"))?;
        Ok(i64::from_be_bytes(
            b.try_into().map_err(|_| corrupt("number"))?,
        ))
    }

    /// A uuid (`None` for NULL).
    pub fn uuid(&self, i: usize) -> StoreResult<Option<uuid::Uuid>> {
        self.bytes(i)
            .map(|b| uuid::Uuid::from_slice(b).map_err(|_| corrupt("id")))
            .transpose()
    }

    /// A timestamptz.
    pub fn time(&self, i: usize) -> StoreResult<time::OffsetDateTime> {
        let micros = self.int(i)?;
        time::OffsetDateTime::from_unix_timestamp_nanos(
            (i128::from(micros) + PG_EPOCH_MICROS) * 1_000,
        )
        .map_err(|_| corrupt("time"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(rows: &[&[Option<&[u8]>]]) -> Vec<u8> {
        let mut out = SIGNATURE.to_vec();
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes());
        for row in rows {
            out.extend_from_slice(&(row.len() as i16).to_be_bytes());
            for f in *row {
                match f {
                    None => out.extend_from_slice(&(-1i32).to_be_bytes()),
                    Some(b) => {
                        out.extend_from_slice(&(b.len() as i32).to_be_bytes());
                        out.extend_from_slice(b);
                    }
                }
            }
        }
        out.extend_from_slice(&(-1i16).to_be_bytes());
        out
    }

    /// How many rows `each` reads from `p`, or its error.
    fn count(p: &[u8]) -> StoreResult<usize> {
        let mut n = 0;
        each(p, |_| {
            n += 1;
            Ok(())
        })?;
        Ok(n)
    }

    #[test]
    fn rows_are_read_back_whatever_they_hold() {
        let n = 7i64.to_be_bytes();
        // 2025-01-01T00:00:00.000001Z, in microseconds since 2000-01-01.
        let t = (1_735_689_600_000_001i64 - 946_684_800_000_000).to_be_bytes();
        let text = "a,\"b\" ()\n".as_bytes();
        let p = page(&[&[Some(&n), None, Some(text), Some(b"")], &[Some(&t)]]);
        let mut seen = 0;
        each(&p, |row| {
            if seen == 0 {
                assert_eq!(row.int(0).unwrap(), 7);
                assert_eq!(row.text(1).unwrap(), None);
                assert_eq!(row.text(2).unwrap(), Some("a,\"b\" ()\n"));
                assert_eq!(row.text(3).unwrap(), Some(""));
                assert!(row.int(3).is_err());
                assert_eq!(row.bytes(4), None);
            } else {
                assert_eq!(
                    row.time(0).unwrap(),
                    time::macros::datetime!(2025-01-01 0:00:00.000001 UTC)
                );
                // The first row's values are not the second's.
                assert_eq!(row.bytes(2), None);
            }
            seen += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, 2);
        assert_eq!(count(&[]).unwrap(), 0);
        // Cut short anywhere, or not COPY output at all: an error, never a panic.
        for cut in 1..p.len() - 2 {
            assert!(count(&p[..cut]).is_err(), "cut at {cut}");
        }
        assert!(count(b"(1,2)").is_err());
        // More values than a row can hold: an error too.
        let wide = [None; MAX_FIELDS + 1];
        assert!(count(&page(&[&wide])).is_err());
        assert_eq!(count(&page(&[&wide[1..], &wide[1..]])).unwrap(), 2);
        // An error of the caller's stops the reading.
        let mut calls = 0;
        let stopped = each(&p, |_| {
            calls += 1;
            Err(corrupt("test"))
        });
        assert!(stopped.is_err());
        assert_eq!(calls, 1);
    }

    /// The rows a `Rows` consumer finds in `page` delivered in `chunks` (their lengths, the last
    /// taking the rest), as each row's first value.
    fn streamed(page: &[u8], chunks: &[usize]) -> StoreResult<Vec<Option<Vec<u8>>>> {
        let mut rows = Rows {
            at: At::Header,
            pending: Vec::new(),
            state: Vec::new(),
            row: |seen: &mut Vec<Option<Vec<u8>>>, t: &Tuple<'_>| {
                seen.push(t.bytes(0).map(<[u8]>::to_vec));
                Ok(())
            },
            failed: None,
        };
        let mut rest = page;
        for &n in chunks {
            let (head, tail) = rest.split_at(n.min(rest.len()));
            rows.chunk(axum::body::Bytes::copy_from_slice(head));
            rest = tail;
        }
        if !rest.is_empty() {
            rows.chunk(axum::body::Bytes::copy_from_slice(rest));
        }
        rows.finish()
    }

    #[test]
    fn rows_arriving_in_pieces_are_read_as_a_whole_page_is() {
        let p = page(&[
            &[Some(b"first"), None, Some(b"x")],
            &[None],
            &[Some(b""), Some(&[0; 300])],
            &[Some(b"last")],
        ]);
        let mut whole = Vec::new();
        each(&p, |t| {
            whole.push(t.bytes(0).map(<[u8]>::to_vec));
            Ok(())
        })
        .unwrap();
        assert_eq!(whole.len(), 4);
        // Cut in two anywhere, or byte by byte.
        for cut in 0..=p.len() {
            assert_eq!(streamed(&p, &[cut]).unwrap(), whole, "cut at {cut}");
        }
        assert_eq!(streamed(&p, &vec![1; p.len()]).unwrap(), whole);
        // Nothing at all is an empty page; a stream that stops short is an error, wherever.
        assert_eq!(streamed(&[], &[]).unwrap(), Vec::new());
        for end in 1..p.len() - 1 {
            assert!(streamed(&p[..end], &[end / 2]).is_err(), "ends at {end}");
        }
        assert!(streamed(b"(1,2)", &[2]).is_err());
        // An error of the caller's is kept, and what arrives after it is not parsed.
        let mut calls = 0;
        let mut rows = Rows {
            at: At::Header,
            pending: Vec::new(),
            state: (),
            row: move |_: &mut (), _: &Tuple<'_>| {
                calls += 1;
                assert_eq!(calls, 1, "parsed after the error");
                Err(corrupt("test"))
            },
            failed: None,
        };
        rows.chunk(axum::body::Bytes::copy_from_slice(&p[..40]));
        rows.chunk(axum::body::Bytes::copy_from_slice(&p[40..]));
        assert!(rows.finish().is_err());
    }
}
