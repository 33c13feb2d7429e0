//! `doui link`, `links`, `suppressions` and `api-key`: what a sender's systems use.

use std::path::PathBuf;

use super::{ApiKeyCommand, refusal};
use crate::config::Config;
use crate::csv::text as csv_text;

/// A subject's preference center link.
pub(super) async fn link(config: &Config, subject: String) -> anyhow::Result<()> {
    let services = crate::services(config).await?;
    let found = services.store.find_subject(&subject).await?;
    let subject =
        found.ok_or_else(|| anyhow::anyhow!("no subject with external id or email {subject:?}"))?;
    println!("{}", services.preference_link(subject.id));
    Ok(())
}

/// One subject's headers and footer, or a CSV of recipients' links and headers.
pub(super) async fn links(
    config: &Config,
    subject: Option<String>,
    csv: Option<PathBuf>,
    purpose: Option<String>,
    channel: Option<String>,
    campaign: Option<String>,
) -> anyhow::Result<()> {
    let services = crate::services(config).await?;
    let Some(subject) = subject else {
        let plan = services
            .link_plan(purpose.as_deref(), channel.as_deref(), campaign.as_deref())
            .await
            .map_err(refusal)?;
        let path = csv.expect("clap requires a subject or --csv");
        let input: Box<dyn std::io::BufRead> = if path.as_os_str() == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            Box::new(std::io::BufReader::new(std::fs::File::open(&path)?))
        };
        print!("{}", crate::api_v1::LINKS_CSV_HEADER);
        let mut batch = Vec::with_capacity(1000);
        let mut lines = std::io::BufRead::lines(input).peekable();
        while let Some(line) = lines.next() {
            let key = crate::api_v1::recipient(&line?);
            if !(key.is_empty() || key == "subject" && batch.is_empty()) {
                batch.push(key);
            }
            if batch.len() == 1000 || lines.peek().is_none() {
                let links = services.bulk_links(&plan, &batch).await.map_err(refusal)?;
                print!("{}", crate::api_v1::csv_rows(&plan, &batch, links));
                batch.clear();
            }
        }
        return Ok(());
    };
    let found = services.store.find_subject(&subject).await?;
    let subject =
        found.ok_or_else(|| anyhow::anyhow!("no subject with external id or email {subject:?}"))?;
    let plan = services
        .link_plan(purpose.as_deref(), channel.as_deref(), campaign.as_deref())
        .await
        .map_err(refusal)?;
    // The send gate: no links for a person who may not be contacted for what they cover.
    if let Some(Err(reason)) = services
        .permitted_for_links(&plan, &[&subject])
        .await
        .map_err(refusal)?
        .pop()
    {
        anyhow::bail!("not_permitted: {reason} (this person may not be contacted for this)");
    }
    let h = services.mail_headers_with(&plan, subject.id);
    if config.sender_name.is_empty()
        || config.sender_address.is_empty()
        || config.sender_contact.is_empty()
    {
        eprintln!(
            "doui: warning: sender_name, sender_address and sender_contact must be configured: \
             advertising messages must show them (特定電子メール法 第4条)"
        );
    }
    println!("List-Unsubscribe: {}", h.list_unsubscribe);
    if let Some(post) = h.list_unsubscribe_post {
        println!("List-Unsubscribe-Post: {post}");
    }
    println!("List-Id: {}", h.list_id);
    println!("\n{}\n{}", h.footer_ja, h.footer_en);
    Ok(())
}

/// Who must not be sent to, as CSV from a cursor.
pub(super) async fn suppressions(
    config: &Config,
    purpose: String,
    channel: String,
    since: i64,
    limit: u32,
) -> anyhow::Result<()> {
    let services = crate::services(config).await?;
    super::events::seal_pending(&services).await?;
    let rows = services
        .suppressions(&purpose, &channel, since, limit)
        .await
        .map_err(refusal)?;
    println!("cursor,external_id,email,phone,withdrawn_at");
    for r in rows {
        let s = &r.subject;
        let at = r
            .since
            .format(&time::format_description::well_known::Rfc3339)?;
        println!(
            "{},{},{},{},{at}",
            r.cursor,
            csv_text(s.external_id.as_str()),
            csv_text(s.email.as_ref().map_or("", |e| e.as_str())),
            csv_text(s.phone.as_ref().map_or("", |p| p.as_str())),
        );
    }
    Ok(())
}

/// API keys: create, list, revoke.
pub(super) async fn api_key(config: &Config, command: ApiKeyCommand) -> anyhow::Result<()> {
    let services = crate::services(config).await?;
    match command {
        ApiKeyCommand::Create { name, scopes } => {
            let (record, key) = services
                .create_api_key(&name, &scopes)
                .await
                .map_err(refusal)?;
            println!("{key}");
            eprintln!(
                "API key {} created; it is shown only now: keep it in your sender's secret store.",
                record.id
            );
        }
        ApiKeyCommand::List => {
            for k in services.store.api_keys().await? {
                let scopes: Vec<&str> = k.scopes.iter().map(|s| s.key()).collect();
                let state = if k.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!("{}  {state:<8} {:<28} {}", k.id, scopes.join(","), k.name);
            }
        }
        ApiKeyCommand::Revoke { id } => {
            anyhow::ensure!(
                services
                    .store
                    .revoke_api_key(&id, app::services::now())
                    .await?,
                "no active API key {id:?}"
            );
            println!("API key {id} revoked.");
        }
    }
    Ok(())
}
