//! `doui notice …`: publish and list the versions of the privacy notice.

use std::path::PathBuf;

use app::{
    domain::Lang,
    services::{NoticeInput, Services, parse_effective_at},
};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum NoticeCommand {
    /// Publish a version (append-only). Texts are read from files (`-` reads standard input for
    /// one of them).
    Publish {
        /// The version label, e.g. 2026-12.
        #[arg(long)]
        version: String,
        /// The Japanese text.
        #[arg(long)]
        ja: PathBuf,
        /// The English text.
        #[arg(long)]
        en: PathBuf,
        /// When it takes effect (RFC 3339 or 2026-12-01T09:00, UTC); now when absent.
        #[arg(long)]
        effective_at: Option<String>,
        /// A material change: people who consented under an earlier version are asked to
        /// re-confirm (needs --summary-ja and --summary-en).
        #[arg(long)]
        material: bool,
        /// Purpose keys the material change concerns, separated by commas (default: all).
        #[arg(long, default_value = "")]
        purposes: String,
        #[arg(long, default_value = "")]
        summary_ja: String,
        #[arg(long, default_value = "")]
        summary_en: String,
    },
    /// List the versions, newest first.
    List,
}

fn read_text(path: &PathBuf) -> anyhow::Result<String> {
    if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)?;
        return Ok(s);
    }
    std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

pub async fn run(services: &Services, command: NoticeCommand) -> anyhow::Result<()> {
    match command {
        NoticeCommand::Publish {
            version,
            ja,
            en,
            effective_at,
            material,
            purposes,
            summary_ja,
            summary_en,
        } => {
            let input = NoticeInput {
                version,
                effective_at: parse_effective_at(effective_at.as_deref().unwrap_or(""))
                    .map_err(super::refusal)?,
                material,
                purposes: purposes.split(',').map(str::to_owned).collect(),
                summary_ja,
                summary_en,
                text_ja: read_text(&ja)?,
                text_en: read_text(&en)?,
            };
            let n = services
                .publish_notice(input, "cli")
                .await
                .map_err(super::refusal)?;
            println!(
                "notice {} published{}",
                n.version,
                if n.material { " (material change)" } else { "" }
            );
        }
        NoticeCommand::List => {
            for n in services
                .notice_summaries(Lang::En)
                .await
                .map_err(super::refusal)?
            {
                let status = if n.in_force {
                    "in force"
                } else if n.upcoming {
                    "upcoming"
                } else {
                    ""
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    n.version,
                    n.effective,
                    if n.material { "material" } else { "minor" },
                    n.purposes.join(","),
                    status
                );
            }
        }
    }
    Ok(())
}
