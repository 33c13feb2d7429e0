//! The file an import reads: its format, its digest, the spooled copy of standard input or a
//! request body, and its rows, each checked, handed over in batches by a thread of its own.

use std::{
    io::{BufRead, Read, Write},
    path::{Path, PathBuf},
};

use anyhow::Context;
use app::domain::import::{Columns, ImportRow, Mapping, RowError, check_row};
use sha2::{Digest, Sha256};

/// The two formats a file may be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    /// JSON Lines: one object per line, its keys the columns.
    Jsonl,
}

impl Format {
    /// `csv`, `jsonl` (or `ndjson`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            _ => None,
        }
    }

    /// By a file name's extension (`.jsonl`, `.ndjson`; anything else is CSV).
    pub fn of_path(path: &Path) -> Self {
        path.extension()
            .and_then(|e| e.to_str())
            .and_then(Format::parse)
            .unwrap_or(Format::Csv)
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
        }
    }
}

/// A mapping or file that cannot be imported at all (nothing is written): a code and detail.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {detail}")]
pub struct Unusable {
    pub code: &'static str,
    pub detail: String,
}

/// The SHA-256 (hex) of a file, read in pieces.
pub fn file_sha256(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// Copies `input` into `path` as it is read, and returns its SHA-256 (hex): standard input and
/// request bodies are kept in a file so a stopped import can be resumed.
pub fn spool(mut input: impl Read, path: &Path) -> anyhow::Result<String> {
    crate::files::private_file(path)?;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)?;
    let mut out = std::io::BufWriter::new(file);
    let mut hasher = Sha256::new();
    let mut buf = vec![0; 1 << 16];
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])?;
    }
    out.flush()?;
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The batch an import of a file (by its digest) with a mapping is: the same file and mapping
/// is the same batch.
pub fn batch_of(file_sha256: &str, mapping: &Mapping) -> String {
    let mut hasher = Sha256::new();
    hasher.update(file_sha256.as_bytes());
    hasher.update(b"\n");
    hasher.update(mapping.fingerprint().as_bytes());
    hex(&hasher.finalize())
}

/// One batch as the reading thread hands it over.
pub struct Batch {
    pub rows: Vec<Result<ImportRow, RowError>>,
    /// The last line read.
    pub through_line: u64,
    /// Bytes of the file read so far.
    pub bytes: u64,
}

/// Reads the file on a thread of its own and hands over its rows, checked, in batches of `size`
/// (two batches ahead at most), starting after `after_line`. The thread ends at the end of the
/// file, at an error (handed over), or when the receiver is dropped.
pub fn read_batches(
    path: PathBuf,
    format: Format,
    mapping: Mapping,
    size: usize,
    after_line: u64,
) -> (
    tokio::sync::mpsc::Receiver<anyhow::Result<Batch>>,
    std::thread::JoinHandle<()>,
) {
    let (sender, batches) = tokio::sync::mpsc::channel::<anyhow::Result<Batch>>(2);
    let reader = {
        std::thread::spawn(move || {
            let mut rows = match Rows::open(&path, format, &mapping, after_line) {
                Ok(rows) => rows,
                Err(e) => {
                    let _ = sender.blocking_send(Err(e));
                    return;
                }
            };
            let mut batch = Batch {
                rows: Vec::with_capacity(size),
                through_line: after_line,
                bytes: 0,
            };
            loop {
                match rows.next() {
                    Ok(Some((line, row, bytes))) => {
                        batch.rows.push(row);
                        (batch.through_line, batch.bytes) = (line, bytes);
                        if batch.rows.len() == size {
                            let next = Batch {
                                rows: Vec::with_capacity(size),
                                through_line: line,
                                bytes,
                            };
                            if sender
                                .blocking_send(Ok(std::mem::replace(&mut batch, next)))
                                .is_err()
                            {
                                return;
                            }
                        }
                    }
                    Ok(None) => {
                        if !batch.rows.is_empty() {
                            let _ = sender.blocking_send(Ok(batch));
                        }
                        return;
                    }
                    Err(e) => {
                        let _ = sender.blocking_send(Err(e));
                        return;
                    }
                }
            }
        })
    };
    (batches, reader)
}

/// The rows of a file, in order, each checked; lines up to `after_line` are skipped.
pub struct Rows {
    inner: RowsInner,
    columns: Columns,
    after_line: u64,
    now: time::OffsetDateTime,
}

enum RowsInner {
    Csv(
        csv::Reader<std::io::BufReader<std::fs::File>>,
        csv::StringRecord,
    ),
    Jsonl {
        reader: std::io::BufReader<std::fs::File>,
        line: u64,
        bytes: u64,
    },
}

impl Rows {
    /// Opens a file and resolves the mapping against its columns.
    pub fn open(
        path: &Path,
        format: Format,
        mapping: &Mapping,
        after_line: u64,
    ) -> anyhow::Result<Self> {
        let file =
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let reader = std::io::BufReader::with_capacity(1 << 16, file);
        let now = app::services::now();
        let unusable = |e: app::domain::import::MappingError| Unusable {
            code: e.code,
            detail: e.detail,
        };
        match format {
            Format::Csv => {
                let mut csv = csv::ReaderBuilder::new()
                    .flexible(true)
                    .has_headers(true)
                    .from_reader(reader);
                let header: Vec<String> = csv
                    .headers()
                    .map_err(|e| Unusable {
                        code: "malformed_row",
                        detail: format!("header: {e}"),
                    })?
                    .iter()
                    .map(str::to_owned)
                    .collect();
                let columns = mapping.resolve(&header).map_err(unusable)?;
                Ok(Self {
                    inner: RowsInner::Csv(csv, csv::StringRecord::new()),
                    columns,
                    after_line,
                    now,
                })
            }
            Format::Jsonl => {
                // Each object's keys are its columns: the mapped names are all there are.
                let mut names = vec![mapping.external_id.clone()];
                names.extend(
                    [
                        &mapping.email,
                        &mapping.phone,
                        &mapping.lang,
                        &mapping.jurisdiction,
                        &mapping.time_column,
                    ]
                    .into_iter()
                    .flatten()
                    .cloned(),
                );
                names.extend(mapping.consents.iter().map(|c| c.column.clone()));
                let columns = mapping.resolve(&names).map_err(unusable)?;
                Ok(Self {
                    inner: RowsInner::Jsonl {
                        reader,
                        line: 0,
                        bytes: 0,
                    },
                    columns,
                    after_line,
                    now,
                })
            }
        }
    }

    /// The next row (checked), its line, and the bytes read so far; `None` at the end.
    fn next(&mut self) -> anyhow::Result<Option<ReadRow>> {
        loop {
            let (line, row, bytes) = match &mut self.inner {
                RowsInner::Csv(reader, record) => match reader.read_record(record) {
                    Ok(false) => return Ok(None),
                    Ok(true) => {
                        let (line, byte) =
                            record.position().map_or((0, 0), |p| (p.line(), p.byte()));
                        if line <= self.after_line {
                            continue;
                        }
                        let row = check_row(line, &self.columns, |i| record.get(i), self.now);
                        (line, row, byte)
                    }
                    Err(e) => match e.kind() {
                        csv::ErrorKind::Utf8 { pos, .. } => {
                            let line = pos.as_ref().map_or(0, |p| p.line());
                            let bytes = pos.as_ref().map_or(0, |p| p.byte());
                            if line <= self.after_line {
                                continue;
                            }
                            (line, Err(malformed(line)), bytes)
                        }
                        _ => return Err(anyhow::anyhow!("reading the file: {e}")),
                    },
                },
                RowsInner::Jsonl {
                    reader,
                    line,
                    bytes,
                } => {
                    let mut raw = Vec::new();
                    let n = reader
                        .read_until(b'\n', &mut raw)
                        .context("reading the file")?;
                    if n == 0 {
                        return Ok(None);
                    }
                    *line += 1;
                    *bytes += n as u64;
                    let (line, bytes) = (*line, *bytes);
                    if line <= self.after_line || raw.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    let object = std::str::from_utf8(&raw).ok().and_then(|text| {
                        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text)
                            .ok()
                    });
                    let row = match object {
                        None => Err(malformed(line)),
                        Some(object) => {
                            let cells: Vec<Option<String>> = self
                                .columns
                                .names
                                .iter()
                                .map(|name| match object.get(name) {
                                    None | Some(serde_json::Value::Null) => None,
                                    Some(serde_json::Value::String(s)) => Some(s.clone()),
                                    Some(other) => Some(other.to_string()),
                                })
                                .collect();
                            check_row(
                                line,
                                &self.columns,
                                |i| cells.get(i).and_then(|c| c.as_deref()),
                                self.now,
                            )
                        }
                    };
                    (line, row, bytes)
                }
            };
            return Ok(Some((line, row, bytes)));
        }
    }
}

/// A row read: its line, the row checked, and the bytes of the file read so far.
type ReadRow = (u64, Result<ImportRow, RowError>, u64);

fn malformed(line: u64) -> RowError {
    RowError {
        line,
        column: String::new(),
        code: "malformed_row",
    }
}

/// Checks that a file has every column the mapping names (nothing is read beyond its header).
pub fn check_columns(path: &Path, format: Format, mapping: &Mapping) -> Result<(), Unusable> {
    match Rows::open(path, format, mapping, 0) {
        Ok(_) => Ok(()),
        Err(e) => Err(e.downcast::<Unusable>().unwrap_or_else(|e| Unusable {
            code: "malformed_row",
            detail: format!("{e:#}"),
        })),
    }
}

/// Checks a whole file without the database (`--strict` does this first): the first refused
/// row, if any.
pub fn first_bad_row(
    path: &Path,
    format: Format,
    mapping: &Mapping,
    after_line: u64,
) -> anyhow::Result<Option<RowError>> {
    let mut rows = Rows::open(path, format, mapping, after_line)?;
    while let Some((_, row, _)) = rows.next()? {
        if let Err(e) = row {
            return Ok(Some(e));
        }
    }
    Ok(None)
}
