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
    /// Give a collection point an embeddable signup form (`/forms/<key>`), or change it (each
    /// change is a new version): the purposes it offers, and the origins that may frame it or
    /// post to it. Without a purpose (or with --off) the form is switched off.
    Form {
        key: String,
        /// A purpose the form offers (repeat for several; opt-in purposes that apply to email).
        #[arg(long = "purpose")]
        purposes: Vec<String>,
        /// An origin that may frame the form and post to it: https://host[:port] (http only for
        /// loopback hosts). Repeat for several; none: the form may not be framed.
        #[arg(long = "origin")]
        origins: Vec<String>,
        /// Switch the form off.
        #[arg(long, conflicts_with_all = ["purposes", "origins"])]
        off: bool,
    },
    /// Show every collection point's form as tab-separated lines: key, version, status,
    /// purposes, origins.
    Forms,
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
        CollectionPointCommand::Form {
            key,
            purposes,
            origins,
            off,
        } => {
            let (purposes, origins) = if off {
                (Vec::new(), Vec::new())
            } else {
                (purposes, origins)
            };
            let form = services
                .set_signup_form(&key, &purposes, &origins, "cli")
                .await
                .map_err(super::refusal)?;
            if form.is_on() {
                println!(
                    "form of {} is version {}: {}/forms/{}",
                    form.point, form.version, services.settings.public_url, form.point
                );
            } else {
                println!(
                    "form of {} switched off (version {})",
                    form.point, form.version
                );
            }
        }
        CollectionPointCommand::Forms => {
            for f in services.signup_forms().await.map_err(super::refusal)? {
                let purposes: Vec<&str> = f.purposes.iter().map(|p| p.as_str()).collect();
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    f.point,
                    f.version,
                    if f.is_on() { "on" } else { "off" },
                    if purposes.is_empty() {
                        "-".to_owned()
                    } else {
                        purposes.join(",")
                    },
                    if f.origins.is_empty() {
                        "-".to_owned()
                    } else {
                        f.origins.join(",")
                    },
                );
            }
        }
    }
    Ok(())
}
