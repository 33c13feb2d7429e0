//! `doui collection-point …`: register, list and retire the places where consents are collected.

use std::path::PathBuf;

use app::{
    domain::{CollectionPointKind, NewCollectionPoint},
    services::Services,
};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum CollectionPointCommand {
    /// Register a collection point. Its wording (the text shown to the person) is read from a
    /// file (`-` reads standard input); its SHA-256 is kept with it.
    Add {
        /// The key the API and imports name it by (lower-case letters, digits, - and _).
        key: String,
        #[arg(long)]
        name_ja: String,
        #[arg(long)]
        name_en: String,
        /// web_form, checkout, app, store, call_center, paper, import or api.
        #[arg(long)]
        kind: String,
        /// The form's URL, or the place.
        #[arg(long)]
        location: String,
        /// A file holding the wording shown to the person.
        #[arg(long)]
        wording: PathBuf,
        /// The version of the notice it presents.
        #[arg(long)]
        notice_version: Option<String>,
    },
    /// List the collection points (retired ones too) as tab-separated lines: key, kind, status,
    /// notice version, name (ja), name (en), location, SHA-256 of the wording.
    List,
    /// Retire a collection point: it stays as evidence for the consents it names, and names no
    /// new one.
    Retire { key: String },
}

fn read_text(path: &PathBuf) -> anyhow::Result<String> {
    if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)?;
        return Ok(s);
    }
    std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

pub async fn run(services: &Services, command: CollectionPointCommand) -> anyhow::Result<()> {
    match command {
        CollectionPointCommand::Add {
            key,
            name_ja,
            name_en,
            kind,
            location,
            wording,
            notice_version,
        } => {
            let kind: CollectionPointKind = kind.parse().map_err(|_| {
                super::refusal(app::services::Refusal::new("unknown_collection_point_kind"))
            })?;
            let point = services
                .add_collection_point(
                    NewCollectionPoint {
                        key,
                        name_ja,
                        name_en,
                        kind,
                        location,
                        wording: read_text(&wording)?,
                        notice_version,
                    },
                    "cli",
                )
                .await
                .map_err(super::refusal)?;
            println!(
                "collection point {} added (wording sha256 {})",
                point.key, point.wording_sha256
            );
        }
        CollectionPointCommand::List => {
            for p in services.collection_points().await.map_err(super::refusal)? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    p.key,
                    p.kind,
                    if p.is_retired() { "retired" } else { "active" },
                    p.notice_version.as_deref().unwrap_or("-"),
                    p.name_ja,
                    p.name_en,
                    p.location,
                    p.wording_sha256
                );
            }
        }
        CollectionPointCommand::Retire { key } => {
            let p = services
                .retire_collection_point(&key, "cli")
                .await
                .map_err(super::refusal)?;
            println!("collection point {} retired", p.key);
        }
    }
    Ok(())
}
