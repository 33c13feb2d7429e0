//! `doui verify`, `checkpoints`, `purge` and `receipt`: the hash chain and what proves it.

use std::path::PathBuf;

use super::{ReceiptCommand, refusal};
use crate::config::Config;

/// Checks a receipt's signature.
pub(super) fn receipt(config: &Config, command: ReceiptCommand) -> anyhow::Result<()> {
    let ReceiptCommand::Verify { file, public_key } = command;
    let text = std::fs::read_to_string(&file)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?;
    let verifier = match &public_key {
        Some(k) => app::signing::Verifier::from_text(k)
            .map_err(|e| anyhow::anyhow!("--public-key: {e}"))?,
        None => crate::keys::signer(&config.data_dir, config.signing_key.as_deref())?.verifier(),
    };
    match app::services::verify_receipt(&text, &verifier) {
        Ok(r) => {
            let issued = time::OffsetDateTime::from_unix_timestamp(r.issued_at)?
                .format(&time::format_description::well_known::Rfc3339)?;
            println!(
                "receipt {} verified: signed by key {}, issued {issued} for {}, {} purposes, {} events",
                r.receipt_id, r.key_id, r.principal, r.purposes, r.events
            );
            Ok(())
        }
        Err(e) => {
            println!("receipt NOT verified: {e}");
            std::process::exit(1);
        }
    }
}

/// Removes events past their retention, each leaving a signed tombstone.
pub(super) async fn purge(config: &Config, dry_run: bool) -> anyhow::Result<()> {
    let services = crate::services(config).await?;
    // Seal what committed first: only sealed events can leave a tombstone.
    while services.seal_pending().await.map_err(refusal)? > 0 {}
    let r = services.purge(dry_run).await.map_err(refusal)?;
    let verb = if dry_run { "would purge" } else { "purged" };
    println!(
        "{verb} {} events (examined {}: {} still in force, {} within their retention minimum)",
        r.purged, r.examined, r.in_force, r.within_minimum
    );
    Ok(())
}

/// Prints the stored signed checkpoints as JSON Lines.
pub(super) async fn checkpoints(config: &Config, mut after: i64) -> anyhow::Result<()> {
    let services = crate::services(config).await?;
    loop {
        let page = services.checkpoints(after, 1_000).await.map_err(refusal)?;
        let Some(last) = page.last() else { break };
        after = last.length;
        print!("{}", crate::exports::checkpoint_lines(&page));
    }
    Ok(())
}

/// Walks the whole chain, against the stored checkpoints or ones kept outside.
pub(super) async fn verify(
    config: &Config,
    checkpoints: Option<PathBuf>,
    public_key: Option<String>,
) -> anyhow::Result<()> {
    let kept = match &checkpoints {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
            let kept = crate::exports::parse_checkpoint_lines(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            anyhow::ensure!(!kept.is_empty(), "{} holds no checkpoint", path.display());
            Some(kept)
        }
        None => None,
    };
    let services = crate::services(config).await?;
    let verifier = match &public_key {
        Some(k) => app::signing::Verifier::from_text(k)
            .map_err(|e| anyhow::anyhow!("--public-key: {e}"))?,
        None => services.signer.verifier(),
    };
    // Events that committed since the server last sealed are sealed first.
    services.seal_pending().await.map_err(refusal)?;
    let report = services
        .verify_chain_against(kept.as_deref(), &verifier)
        .await
        .map_err(refusal)?;
    match &report.broken {
        None if report.findings.is_empty() => {
            println!(
                "chain verified: {} events sealed, head {}, {} signed checkpoints match",
                report.length, report.head, report.checkpoints
            );
            return Ok(());
        }
        None => println!(
            "chain sealed as written: {} events, head {}, {} signed checkpoints match; but SUSPECT:",
            report.length, report.head, report.checkpoints
        ),
        Some(b) => println!(
            "chain BROKEN after {} good events (head {}): {b}",
            report.length, report.head
        ),
    }
    // Each suspect event or current choice on a line of its own, naming it.
    for finding in &report.findings {
        println!("  {finding}");
    }
    std::process::exit(1);
}
