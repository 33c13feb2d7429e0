//! What an import tells: its summary, the progress shown while it runs (a bar on a terminal, or a
//! line every few seconds), and the error report's lines.

use std::time::{Duration, Instant};

use app::{
    domain::{Lang, import::RowError},
    store::ImportJob,
};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// A bar on a terminal (rows/s, ETA).
    Bar,
    /// A plain line on standard error every few seconds.
    Lines,
    Quiet,
}

/// What an import did.
#[derive(Debug, Clone, Default)]
pub struct ImportSummary {
    /// The job (none for a dry run).
    pub job: Option<ImportJob>,
    /// Rows read by this run (a resumed run counts only what it read).
    pub rows_read: u64,
    pub rows_refused: u64,
    /// Events written (a dry run: that would be written).
    pub events_written: u64,
    /// The same file and mapping were imported before: nothing was read or written.
    pub already_done: bool,
    /// The run started after this line (a resumed import), 0 when from the start.
    pub resumed_after: i64,
    /// Stopped before the end (`stop_after_batches`, or `--strict` at a refused row).
    pub stopped: bool,
}

/// The header of an error report.
pub const REPORT_HEADER: &str = "line,column,code,message\n";

/// Refused rows as lines of the error report (the guarded CSV writer: columns and messages are
/// text from outside).
pub fn report_lines(errors: &[RowError], lang: Lang) -> String {
    let mut out = String::new();
    for e in errors {
        crate::csv::push_plain(&mut out, &e.line.to_string());
        out.push(',');
        crate::csv::push_text(&mut out, &e.column);
        out.push(',');
        crate::csv::push_plain(&mut out, e.code);
        out.push(',');
        crate::csv::push_text(&mut out, app::i18n::error_message(lang, e.code));
        out.push('\n');
    }
    out
}

/// The progress shown while an import runs.
pub struct Shown {
    bar: Option<indicatif::ProgressBar>,
    lines: bool,
    started: Instant,
    last: Instant,
    total_bytes: u64,
}

impl Shown {
    pub fn new(progress: Progress, total_bytes: u64) -> Self {
        let bar = (progress == Progress::Bar).then(|| {
            let bar = indicatif::ProgressBar::new(total_bytes);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:30} {percent:>3}% {msg} · ETA {eta}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        Self {
            bar,
            lines: progress == Progress::Lines,
            started: Instant::now(),
            last: Instant::now(),
            total_bytes,
        }
    }

    fn rate(&self, summary: &ImportSummary) -> u64 {
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        (summary.rows_read as f64 / secs) as u64
    }

    pub fn update(&mut self, summary: &ImportSummary, bytes: u64) {
        let rate = self.rate(summary);
        if let Some(bar) = &self.bar {
            bar.set_position(bytes);
            bar.set_message(format!(
                "{} rows ({rate} rows/s), {} refused, {} events",
                summary.rows_read, summary.rows_refused, summary.events_written
            ));
        } else if self.lines && self.last.elapsed() >= Duration::from_secs(5) {
            self.last = Instant::now();
            let percent = (bytes * 100).checked_div(self.total_bytes).unwrap_or(100);
            eprintln!(
                "import: {} rows read ({percent}% of the file), {} refused, {} events written, {rate} rows/s",
                summary.rows_read, summary.rows_refused, summary.events_written
            );
        }
    }

    pub fn finish(&self, summary: &ImportSummary) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if self.lines || self.bar.is_some() {
            eprintln!(
                "import: {} rows read, {} refused, {} events written in {:.1} s ({} rows/s)",
                summary.rows_read,
                summary.rows_refused,
                summary.events_written,
                self.started.elapsed().as_secs_f64(),
                self.rate(summary)
            );
        }
    }
}
