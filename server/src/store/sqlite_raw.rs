//! Bulk reads on SQLite (chain walks, exports) straight from its C interface, one row at a time
//! on a blocking thread: no per-row copies through sqlx's connection thread (≈10 µs a row of
//! twenty columns) and no packing of rows into text inside SQLite (≈1.5 µs a row). Each value is
//! read in place, valid until the next row; callers copy what they keep.
//!
//! The unsafe code is all here: a read-only connection of its own per read (opened here, kept
//! for the next read, never shared with sqlx's), a statement finalized on every path, and values read only
//! while their row is current.

use std::{
    ffi::{CString, c_int},
    marker::PhantomData,
    path::PathBuf,
    ptr::NonNull,
};

use app::store::{StoreError, StoreResult};
use libsqlite3_sys as ffi;

/// A value bound to a `?N` parameter of a read on its own thread.
pub(crate) enum Param {
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

impl Param {
    fn value(&self) -> Value<'_> {
        match self {
            Param::Int(v) => Value::Int(*v),
            Param::Text(t) => Value::Text(t),
            Param::Blob(b) => Value::Blob(b),
        }
    }
}

/// A value bound to a `?N` parameter, borrowed for the call.
#[derive(Clone, Copy)]
pub(crate) enum Value<'a> {
    Null,
    Int(i64),
    Text(&'a str),
    Blob(&'a [u8]),
}

impl<'a> From<Option<&'a str>> for Value<'a> {
    fn from(v: Option<&'a str>) -> Self {
        v.map_or(Value::Null, Value::Text)
    }
}

/// The current row of a statement being stepped.
pub(crate) struct Row<'s> {
    stmt: NonNull<ffi::sqlite3_stmt>,
    _row: PhantomData<&'s ()>,
}

impl Row<'_> {
    fn null(&self, i: c_int) -> bool {
        // SAFETY: the statement is live and positioned on a row for as long as `self` exists.
        unsafe { ffi::sqlite3_column_type(self.stmt.as_ptr(), i) == ffi::SQLITE_NULL }
    }

    /// Column `i` as an integer (0 for NULL).
    pub fn int(&self, i: c_int) -> i64 {
        // SAFETY: as in `null`; any column index is allowed (out of range reads NULL).
        unsafe { ffi::sqlite3_column_int64(self.stmt.as_ptr(), i) }
    }

    /// Column `i` as bytes (`None` for NULL). Two calls into SQLite for a value, three only for
    /// NULL or empty (a walk reads twenty columns a row, ten million rows).
    pub fn bytes(&self, i: c_int) -> Option<&[u8]> {
        // SAFETY: `sqlite3_column_blob` returns a buffer of `sqlite3_column_bytes` bytes (called
        // after it, as SQLite requires) that stays valid until the statement steps again or is
        // finalized, neither of which can happen while this row is borrowed. NULL, and a
        // zero-length value, come back as a null pointer; reading a NULL as a blob converts
        // nothing, so its type still says NULL afterwards.
        unsafe {
            let data = ffi::sqlite3_column_blob(self.stmt.as_ptr(), i);
            if data.is_null() {
                return (!self.null(i)).then_some(&[]);
            }
            let len = usize::try_from(ffi::sqlite3_column_bytes(self.stmt.as_ptr(), i)).ok()?;
            Some(std::slice::from_raw_parts(data.cast::<u8>(), len))
        }
    }

    /// Column `i` as text (`None` for NULL); text that is not UTF-8 is corrupt.
    pub fn text(&self, i: c_int) -> StoreResult<Option<&str>> {
        self.bytes(i)
            .map(std::str::from_utf8)
            .transpose()
            .map_err(|_| super::corrupt("text"))
    }
}

/// A prepared statement, finalized when dropped.
struct Statement {
    db: NonNull<ffi::sqlite3>,
    stmt: NonNull<ffi::sqlite3_stmt>,
}

impl Drop for Statement {
    fn drop(&mut self) {
        // SAFETY: prepared by `prepare` on this connection, finalized once.
        unsafe {
            ffi::sqlite3_finalize(self.stmt.as_ptr());
        }
    }
}

fn failure(db: NonNull<ffi::sqlite3>, rc: c_int) -> StoreError {
    // SAFETY: `sqlite3_errmsg` returns a NUL-terminated message owned by the connection.
    let message = unsafe {
        let m = ffi::sqlite3_errmsg(db.as_ptr());
        if m.is_null() {
            String::new()
        } else {
            std::ffi::CStr::from_ptr(m).to_string_lossy().into_owned()
        }
    };
    StoreError::Backend(format!("sqlite error {rc}: {message}"))
}

impl Statement {
    fn prepare(db: NonNull<ffi::sqlite3>, sql: &str) -> StoreResult<Self> {
        let len = c_int::try_from(sql.len()).map_err(|_| super::corrupt("query"))?;
        let mut stmt = std::ptr::null_mut();
        // SAFETY: `sql` is valid for `len` bytes; on success `stmt` holds a new statement.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(
                db.as_ptr(),
                sql.as_ptr().cast(),
                len,
                &mut stmt,
                std::ptr::null_mut(),
            )
        };
        match NonNull::new(stmt) {
            Some(stmt) if rc == ffi::SQLITE_OK => Ok(Self { db, stmt }),
            _ => Err(failure(db, rc)),
        }
    }

    fn bind(&mut self, params: &[Value<'_>]) -> StoreResult<()> {
        for (i, p) in params.iter().enumerate() {
            let at = c_int::try_from(i + 1).map_err(|_| super::corrupt("query"))?;
            let s = self.stmt.as_ptr();
            // SAFETY: SQLITE_TRANSIENT makes SQLite copy text and blobs before returning.
            let rc = unsafe {
                match p {
                    Value::Null => ffi::sqlite3_bind_null(s, at),
                    Value::Int(v) => ffi::sqlite3_bind_int64(s, at, *v),
                    Value::Text(t) => ffi::sqlite3_bind_text64(
                        s,
                        at,
                        t.as_ptr().cast(),
                        t.len() as u64,
                        ffi::SQLITE_TRANSIENT(),
                        ffi::SQLITE_UTF8 as u8,
                    ),
                    Value::Blob(b) => ffi::sqlite3_bind_blob64(
                        s,
                        at,
                        b.as_ptr().cast(),
                        b.len() as u64,
                        ffi::SQLITE_TRANSIENT(),
                    ),
                }
            };
            if rc != ffi::SQLITE_OK {
                return Err(failure(self.db, rc));
            }
        }
        Ok(())
    }

    /// Steps through every row, handing each to `each`.
    fn each(&mut self, mut each: impl FnMut(&Row<'_>) -> StoreResult<()>) -> StoreResult<()> {
        loop {
            // SAFETY: the statement is live; no value of an earlier row is still borrowed.
            match unsafe { ffi::sqlite3_step(self.stmt.as_ptr()) } {
                ffi::SQLITE_ROW => each(&Row {
                    stmt: self.stmt,
                    _row: PhantomData,
                })?,
                ffi::SQLITE_DONE => return Ok(()),
                rc => return Err(failure(self.db, rc)),
            }
        }
    }

    /// Makes the statement ready to run again, with no values bound.
    fn reset(&mut self) {
        // SAFETY: a live statement; resetting never invalidates it.
        unsafe {
            ffi::sqlite3_reset(self.stmt.as_ptr());
            ffi::sqlite3_clear_bindings(self.stmt.as_ptr());
        }
    }
}

/// A connection of its own, closed when dropped.
struct Connection(NonNull<ffi::sqlite3>);

impl Drop for Connection {
    fn drop(&mut self) {
        // SAFETY: opened by `open`; every statement on it is finalized before (declared after).
        unsafe {
            ffi::sqlite3_close(self.0.as_ptr());
        }
    }
}

impl Connection {
    fn open(path: &std::path::Path, flags: c_int) -> StoreResult<Self> {
        let path = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| StoreError::Backend("the database path holds a NUL".into()))?;
        let mut db = std::ptr::null_mut();
        // SAFETY: `path` is NUL-terminated; on return `db` holds a connection (even on failure,
        // when it must still be closed).
        let rc = unsafe {
            ffi::sqlite3_open_v2(
                path.as_ptr(),
                &mut db,
                flags | ffi::SQLITE_OPEN_NOMUTEX,
                std::ptr::null(),
            )
        };
        let conn =
            Self(NonNull::new(db).ok_or_else(|| StoreError::Backend("out of memory".into()))?);
        if rc != ffi::SQLITE_OK {
            return Err(failure(conn.0, rc));
        }
        // SAFETY: a live connection. Readers of a WAL database wait only while it recovers;
        // a writer waits for another process's write to end.
        unsafe {
            ffi::sqlite3_busy_timeout(conn.0.as_ptr(), 10_000);
        }
        Ok(conn)
    }
}

// SAFETY: opened with SQLITE_OPEN_NOMUTEX and used by one thread at a time (a read takes it
// from `Readers` and gives it back when done); SQLite allows moving such a connection between
// threads.
unsafe impl Send for Connection {}

/// The read-only connections of one database kept between reads (a few): a read then neither
/// opens the file, nor reads its schema again, nor starts from an empty page cache. A connection
/// is given back with no statement left on it, so it holds no snapshot: each read sees what was
/// committed when it started.
pub(crate) struct Readers {
    path: PathBuf,
    idle: std::sync::Mutex<Vec<Connection>>,
}

/// The most idle read connections kept (more reads at once open connections of their own): a
/// permissions check reads its choices and its objections, each in up to four statements at
/// once (`store::audience::READS_AT_ONCE`).
const IDLE_READERS: usize = 8;

/// A read connection maps the database file into memory (up to 2 GiB, SQLite's own ceiling;
/// past it, pages are read as before): a page it reads is the operating system's cached page
/// itself, not a copy made by a system call into a page cache of the connection's own. The
/// send gate's lookups land on random pages of a large file (a permissions check of 10,000
/// keys makes four lookups a key: its key, its subject, its consents, its objection): mapped,
/// the check took 0.8 times as long and the audience 0.7 (docs/development/benchmarks.md). The
/// mapping holds no memory of its own: the pages are the operating system's file cache, shared
/// by every connection.
const READER_MMAP: &str = "PRAGMA mmap_size = 2147418112";

impl Readers {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            idle: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn take(&self) -> StoreResult<Connection> {
        let kept = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match kept {
            Some(conn) => Ok(conn),
            None => {
                let conn = Connection::open(&self.path, ffi::SQLITE_OPEN_READONLY)?;
                Statement::prepare(conn.0, READER_MMAP)?.each(|_| Ok(()))?;
                Ok(conn)
            }
        }
    }

    fn give_back(&self, conn: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
    }
}

/// Runs `sql` with `params` on a read-only connection to the database `readers` reads, on a
/// blocking thread, and hands every result row to `each` (which stops the read by returning an
/// error). Returns `acc` as `each` left it.
pub(crate) async fn each_row<T, F>(
    readers: std::sync::Arc<Readers>,
    sql: String,
    params: Vec<Param>,
    mut acc: T,
    mut each: F,
) -> StoreResult<T>
where
    T: Send + 'static,
    F: FnMut(&mut T, &Row<'_>) -> StoreResult<()> + Send + 'static,
{
    tokio::task::spawn_blocking(move || {
        let conn = readers.take()?;
        let read = (|| {
            let mut stmt = Statement::prepare(conn.0, &sql)?;
            let values: Vec<Value<'_>> = params.iter().map(Param::value).collect();
            stmt.bind(&values)?;
            stmt.each(|row| each(&mut acc, row))
            // The statement is finalized here, before the connection is given back.
        })();
        readers.give_back(conn);
        read.map(|()| acc)
    })
    .await
    .map_err(|_| StoreError::Backend("the read stopped".into()))?
}

/// A read-write connection of the group commit's own (see `SqliteStore::apply_group`), with its
/// statements prepared once and kept. Used from one thread at a time.
pub(crate) struct WriteConnection {
    // Declared before `conn`: the statements are finalized before the connection closes.
    statements: std::collections::HashMap<&'static str, Statement>,
    conn: Connection,
}

// SAFETY: the connection is opened with SQLITE_OPEN_NOMUTEX and used by one thread at a time
// (the owner holds it behind a mutex); SQLite allows moving such a connection between threads.
unsafe impl Send for WriteConnection {}

impl WriteConnection {
    /// Opens the database at `path` for writing: WAL (set when the file was made), every commit
    /// synced (`synchronous=FULL`), foreign keys checked. Its page cache holds up to 64 MiB (a
    /// batch of an import touches more than the default 2 MiB, which spilled pages to the log
    /// mid-transaction), and its statement journals stay in memory: every statement that may
    /// abort (a trigger, a foreign key) copies each page it changes there, and past 64 KiB SQLite
    /// moved that copy to a temporary file for the rest of the transaction, two `pwrite` calls a
    /// page a statement (measured: 15 system calls an imported event, a third of the import's
    /// time).
    pub fn open(path: &std::path::Path) -> StoreResult<Self> {
        let mut conn = Self {
            statements: std::collections::HashMap::new(),
            conn: Connection::open(path, ffi::SQLITE_OPEN_READWRITE)?,
        };
        for pragma in [
            "PRAGMA synchronous = FULL",
            "PRAGMA foreign_keys = ON",
            "PRAGMA cache_size = -65536",
            "PRAGMA temp_store = MEMORY",
        ] {
            conn.execute(pragma, &[])?;
        }
        Ok(conn)
    }

    fn statement(&mut self, sql: &'static str) -> StoreResult<&mut Statement> {
        if !self.statements.contains_key(sql) {
            let stmt = Statement::prepare(self.conn.0, sql)?;
            self.statements.insert(sql, stmt);
        }
        self.statements
            .get_mut(sql)
            .ok_or_else(|| super::corrupt("query"))
    }

    /// Runs `sql` with `params`, handing every result row to `each`.
    pub fn query(
        &mut self,
        sql: &'static str,
        params: &[Value<'_>],
        each: impl FnMut(&Row<'_>) -> StoreResult<()>,
    ) -> StoreResult<()> {
        let stmt = self.statement(sql)?;
        let result = stmt.bind(params).and_then(|()| stmt.each(each));
        stmt.reset();
        result
    }

    /// Rows the last statement changed.
    pub fn changes(&self) -> i64 {
        // SAFETY: a live connection.
        unsafe { ffi::sqlite3_changes64(self.conn.0.as_ptr()) }
    }

    /// Runs `sql` with `params`; returns the rowid it inserted last (for an INSERT).
    pub fn execute(&mut self, sql: &'static str, params: &[Value<'_>]) -> StoreResult<i64> {
        self.query(sql, params, |_| Ok(()))?;
        // SAFETY: a live connection.
        Ok(unsafe { ffi::sqlite3_last_insert_rowid(self.conn.0.as_ptr()) })
    }
}

/// The compile-time options of the bundled SQLite that make its connections wait on each other
/// (`.cargo/config.toml` builds it without them): `ENABLE_MEMORY_MANAGEMENT` puts every
/// connection's page cache behind one process-wide lock, and memory statistics take another on
/// every allocation. Empty when the build is as it should be.
pub(crate) fn contended_build() -> Vec<&'static str> {
    let mut found = Vec::new();
    // SAFETY: a NUL-terminated option name; the function only reads compile-time data.
    if unsafe { ffi::sqlite3_compileoption_used(c"ENABLE_MEMORY_MANAGEMENT".as_ptr()) } == 1 {
        found.push("SQLITE_ENABLE_MEMORY_MANAGEMENT");
    }
    if unsafe { ffi::sqlite3_compileoption_used(c"DEFAULT_MEMSTATUS=0".as_ptr()) } == 0 {
        found.push("SQLITE_DEFAULT_MEMSTATUS (not 0)");
    }
    found
}

#[cfg(test)]
mod tests {
    /// The build keeps a page cache per connection and no memory statistics: with them, the
    /// send gate's reads on several connections at once waited on SQLite's process-wide locks
    /// (a permissions check of 10,000 triples took twice as long).
    #[test]
    fn the_bundled_sqlite_lets_connections_read_without_waiting_on_each_other() {
        assert_eq!(super::contended_build(), Vec::<&str>::new());
    }
}
