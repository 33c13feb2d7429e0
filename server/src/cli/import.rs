//! `doui import`: subjects and consents from a file another tool exported (issue 31).

use std::{io::IsTerminal, path::PathBuf};

use app::domain::{Actor, import::Mapping};
use clap::Args;

use crate::config::Config;
use crate::import::{Format, ImportOptions, ImportSummary, Progress};

#[derive(Args, Debug, Clone)]
pub struct ImportArgs {
    /// The file (CSV with a header line, or JSON Lines); `-` reads standard input.
    pub file: PathBuf,
    /// csv or jsonl (default: by the file's extension; standard input: csv).
    #[arg(long)]
    pub format: Option<String>,
    /// A subject field and the column holding it: external_id (required), email, phone, lang,
    /// jurisdiction. Repeat for each, e.g. --map external_id=CustomerNo --map email=Email.
    #[arg(long = "map", value_name = "FIELD=COLUMN")]
    pub maps: Vec<String>,
    /// A consent and the column holding its state, e.g. --consent newsletter:email=NL_Optin.
    /// Cells: granted/withdrawn, yes/no, 1/0, true/false, opt-in/opt-out; empty: no change.
    #[arg(long = "consent", value_name = "PURPOSE:CHANNEL=COLUMN")]
    pub consents: Vec<String>,
    /// The column with when the person acted (RFC 3339 or YYYY-MM-DD), kept as occurred_at.
    #[arg(long)]
    pub time_column: Option<String>,
    /// Where the consents were collected (needed, with --notice-version, for opt-in grants).
    #[arg(long)]
    pub collection_point: Option<String>,
    /// The version of the notice the people were shown.
    #[arg(long)]
    pub notice_version: Option<String>,
    /// Check every row (against the database too) and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Stop at the first refused row (rows are checked before anything is written).
    #[arg(long)]
    pub strict: bool,
    /// Where the error report (CSV: line, column, code, message) goes; default: FILE.errors.csv
    /// next to the file, or standard error for standard input.
    #[arg(long)]
    pub errors: Option<PathBuf>,
}

/// Runs `doui import` and prints what it did.
pub(super) async fn import(config: &Config, args: ImportArgs) -> anyhow::Result<()> {
    let services = crate::services(config).await?;
    let summary = run(&services, config, args, Progress::default_for_terminal()).await?;
    if summary.stopped && summary.rows_refused > 0 {
        anyhow::bail!("stopped at a refused row (--strict); see the error report");
    }
    Ok(())
}

impl Progress {
    /// A bar on a terminal, plain lines otherwise.
    pub fn default_for_terminal() -> Self {
        if std::io::stderr().is_terminal() {
            Progress::Bar
        } else {
            Progress::Lines
        }
    }
}

/// `doui import` as a function (what the tests drive): imports, seals what it wrote, prints the
/// summary on standard output.
pub async fn run(
    services: &app::services::Services,
    config: &Config,
    args: ImportArgs,
    progress: Progress,
) -> anyhow::Result<ImportSummary> {
    let mapping = Mapping::parse(
        &args.maps,
        &args.consents,
        args.time_column.as_deref(),
        args.collection_point.as_deref(),
        args.notice_version.as_deref(),
    )
    .map_err(|e| {
        anyhow::anyhow!(
            "{} ({})",
            app::i18n::error_message(app::domain::Lang::En, e.code),
            e.detail
        )
    })?;
    let stdin = args.file.as_os_str() == "-";
    let format = match &args.format {
        Some(f) => {
            Format::parse(f).ok_or_else(|| anyhow::anyhow!("--format must be csv or jsonl"))?
        }
        None if stdin => Format::Csv,
        None => Format::of_path(&args.file),
    };
    // Standard input is kept in a file while it is read, so a stopped import can be resumed.
    let (path, spooled) = if stdin {
        let dir = crate::import::spool_dir(&config.data_dir);
        crate::files::private_dir(&dir)?;
        let path = dir.join(format!(
            "stdin-{}.{}",
            uuid::Uuid::now_v7(),
            format.extension()
        ));
        let stdin = std::io::stdin();
        let spool_path = path.clone();
        tokio::task::spawn_blocking(move || crate::import::spool(stdin.lock(), &spool_path))
            .await??;
        (path.clone(), Some(path))
    } else {
        (args.file.clone(), None)
    };
    let file_name = if stdin {
        "-".to_owned()
    } else {
        args.file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let mut options = ImportOptions::new(mapping, format, &file_name, Actor::System);
    options.dry_run = args.dry_run;
    options.strict = args.strict;
    options.progress = progress;
    let report_path = match (&args.errors, stdin) {
        (Some(p), _) => Some(p.clone()),
        (None, true) => None,
        (None, false) => {
            let mut name = args.file.clone().into_os_string();
            name.push(".errors.csv");
            Some(PathBuf::from(name))
        }
    };
    let mut report: Box<dyn std::io::Write + Send> = match &report_path {
        Some(p) => Box::new(std::io::BufWriter::new(std::fs::File::create(p).map_err(
            |e| anyhow::anyhow!("writing the error report {}: {e}", p.display()),
        )?)),
        None => Box::new(std::io::stderr()),
    };
    let result = crate::import::run(services, &path, options, &mut *report).await;
    drop(report);
    if let Some(spooled) = spooled {
        std::fs::remove_file(spooled).ok();
    }
    let summary = result.map_err(|e| match e.downcast_ref::<crate::import::Unusable>() {
        Some(u) => anyhow::anyhow!(
            "{} ({})",
            app::i18n::error_message(app::domain::Lang::En, u.code),
            u.detail
        ),
        None => e,
    })?;
    // A report with nothing in it is not left next to the file.
    let refused = summary
        .job
        .as_ref()
        .map_or(0, |j| j.rows_refused.max(0) as u64)
        .max(summary.rows_refused);
    let report_path = match report_path {
        Some(p) if refused == 0 && args.errors.is_none() => {
            std::fs::remove_file(&p).ok();
            None
        }
        other => other,
    };
    if !args.dry_run {
        // Seal what was written, so `doui verify` finds every event sealed.
        while services.seal_pending().await.map_err(super::refusal)? > 0 {}
    }
    print_summary(&summary, args.dry_run, report_path.as_deref());
    Ok(summary)
}

fn print_summary(s: &ImportSummary, dry_run: bool, report: Option<&std::path::Path>) {
    let id = s.job.as_ref().map(|j| j.id.to_string()).unwrap_or_default();
    if s.already_done {
        println!("import {id}: this file was imported already with this mapping; nothing written");
        return;
    }
    let verb = if dry_run { "would write" } else { "wrote" };
    let resumed = if s.resumed_after > 0 {
        format!(" (resumed after line {})", s.resumed_after)
    } else {
        String::new()
    };
    let refused = match (s.rows_refused, report) {
        (0, _) => String::new(),
        (_, Some(p)) => format!("; error report: {}", p.display()),
        (_, None) => "; error report above".to_owned(),
    };
    let label = if dry_run {
        "dry run".to_owned()
    } else {
        format!("import {id}")
    };
    println!(
        "{label}: {} rows read{resumed}, {} refused, {verb} {} events{refused}",
        s.rows_read, s.rows_refused, s.events_written
    );
}
