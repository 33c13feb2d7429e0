//! Bulk reads on PostgreSQL (chain walks, exports) by binary `COPY … TO STDOUT`: the server
//! sends each row's values as they are stored (a uuid is 16 bytes, a time 8), with no text
//! conversion on either side and no per-row decoding in sqlx. A page is read whole, then parsed
//! in place.

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
    let (pool, query, settings) = (pool.clone(), query.to_owned(), settings.to_vec());
    tokio::spawn(async move { read_whole(&pool, &query, &settings).await })
        .await
        .map_err(|_| StoreError::Backend("the read stopped".into()))?
}

async fn read_whole(
    pool: &sqlx::PgPool,
    query: &str,
    settings: &[(String, String)],
) -> StoreResult<Vec<u8>> {
    let copy = format!("COPY ({query}) TO STDOUT (FORMAT binary)");
    if settings.is_empty() {
        // Nothing to set: no transaction around it, one round trip fewer.
        let mut conn = pool.acquire().await.map_err(db_error)?;
        return collect(conn.copy_out_raw(&copy).await.map_err(db_error)?).await;
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
    let out = collect(tx.copy_out_raw(&copy).await.map_err(db_error)?).await?;
    tx.rollback().await.map_err(db_error)?;
    Ok(out)
}

/// The stream's chunks, kept until its end, then copied once into a buffer of their total size
/// (a growing buffer would copy a page of megabytes several times over).
async fn collect(
    mut stream: futures_util::stream::BoxStream<'_, sqlx::Result<axum::body::Bytes>>,
) -> StoreResult<Vec<u8>> {
    let mut chunks = Vec::new();
    while let Some(chunk) = stream.try_next().await.map_err(db_error)? {
        chunks.push(chunk);
    }
    Ok(chunks.concat())
}

/// The most values a copied row holds (an event page's seq and event columns, with room to spare).
const MAX_FIELDS: usize = 20;

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
    let bad = || corrupt("copied row");
    let header = page.strip_prefix(SIGNATURE).ok_or_else(bad)?;
    // Flags, then the length of a header extension to skip.
    let mut rest = header.get(4..).ok_or_else(bad)?;
    let ext = u32::from_be_bytes(take_array(&mut rest).ok_or_else(bad)?) as usize;
    rest = rest.get(ext..).ok_or_else(bad)?;
    let mut tuple = Tuple {
        fields: [None; MAX_FIELDS],
        count: 0,
    };
    loop {
        let count = i16::from_be_bytes(take_array(&mut rest).ok_or_else(bad)?);
        let Ok(count) = usize::try_from(count) else {
            return Ok(()); // the trailer
        };
        if count > MAX_FIELDS {
            return Err(bad());
        }
        tuple.count = count;
        for f in &mut tuple.fields[..count] {
            let len = i32::from_be_bytes(take_array(&mut rest).ok_or_else(bad)?);
            *f = match usize::try_from(len) {
                Ok(len) => Some(take(&mut rest, len).ok_or_else(bad)?),
                Err(_) => None,
            };
        }
        row(&tuple)?;
    }
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
}
