//! `doui subject` and `recipient`: people, and the third parties their data goes to.

use app::domain::Lang;

use super::{RecipientCommand, SubjectCommand, refusal};
use crate::config::Config;

/// Adds a subject, erases one, or records where one's data came from.
pub(super) async fn subject(config: &Config, command: SubjectCommand) -> anyhow::Result<()> {
    match command {
        SubjectCommand::Add {
            email,
            phone,
            lang,
            external_id,
            jurisdiction,
            time_zone,
        } => {
            let lang: Lang = lang
                .parse()
                .map_err(|_| anyhow::anyhow!("--lang must be ja or en"))?;
            let jurisdiction: app::domain::Jurisdiction = jurisdiction
                .parse()
                .map_err(|_| anyhow::anyhow!("--jurisdiction must be jp, eu, us_ca or default"))?;
            anyhow::ensure!(
                email.is_some() || phone.is_some(),
                "give --email or --phone (or both)"
            );
            if let Some(z) = &time_zone {
                app::services::known_time_zone(z).map_err(refusal)?;
            }
            let services = crate::services(config).await?;
            let subject = services
                .create_subject_in(
                    external_id.as_deref(),
                    email.as_deref(),
                    phone.as_deref(),
                    lang,
                    jurisdiction,
                )
                .await
                .map_err(refusal)?;
            if let Some(z) = &time_zone {
                let patch = app::services::SubjectPatch {
                    time_zone: Some(z),
                    ..Default::default()
                };
                services
                    .update_subject_fields(subject.external_id.as_str(), patch, "cli")
                    .await
                    .map_err(refusal)?;
            }
            println!(
                "subject {} (external id {})",
                subject.id,
                subject.external_id.as_str()
            );
            println!("{}", services.preference_link(subject.id));
            Ok(())
        }
        SubjectCommand::Erase { subject, reason } => {
            let services = crate::services(config).await?;
            let provenance = app::domain::Provenance {
                occurred_at: app::services::now(),
                source: app::domain::Source::Admin,
                actor: app::domain::Actor::System,
                notice_version: None,
                origin: app::domain::Origin::default(),
                idempotency_key: None,
                reason: None,
                campaign: None,
                collection_point: None,
                import_batch: None,
                form_url: None,
                proof_ref: None,
            };
            let erasure = services
                .erase_subject(&subject, &reason, app::services::Eraser::Cli, provenance)
                .await
                .map_err(refusal)?;
            println!(
                "subject {} erased ({} identifier digests kept as suppression)",
                erasure.subject,
                erasure.digests.len()
            );
            Ok(())
        }
        SubjectCommand::RevokeLinks { subject, reason } => {
            let services = crate::services(config).await?;
            let done = services
                .revoke_links(&subject, "cli", &reason)
                .await
                .map_err(refusal)?;
            println!(
                "links of subject {} issued up to {} revoked; {} session(s) ended",
                done.subject.id,
                time::OffsetDateTime::from_unix_timestamp(done.issued_upto)?
                    .format(&time::format_description::well_known::Rfc3339)?,
                done.sessions_ended
            );
            Ok(())
        }
        SubjectCommand::Received {
            subject,
            provider_name,
            provider_address,
            provider_representative,
            acquired_by,
            data_items,
        } => {
            let services = crate::services(config).await?;
            let subject = services
                .store
                .find_subject(&subject)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no subject with that external id or email"))?;
            let a = services
                .record_acquisition(
                    &subject,
                    app::services::AcquisitionInput {
                        provider_name: &provider_name,
                        provider_address: &provider_address,
                        provider_representative: &provider_representative,
                        acquired_by: &acquired_by,
                        data_items: &data_items,
                    },
                    "cli",
                )
                .await
                .map_err(refusal)?;
            println!("acquisition {} recorded for subject {}", a.seq, subject.id);
            Ok(())
        }
    }
}

/// Third-party recipients: add or list.
pub(super) async fn recipient(config: &Config, command: RecipientCommand) -> anyhow::Result<()> {
    let services = crate::services(config).await?;
    match command {
        RecipientCommand::Add {
            id,
            name,
            address,
            representative,
        } => {
            let r = services
                .save_recipient(app::store::Recipient {
                    id,
                    name,
                    address,
                    representative,
                })
                .await
                .map_err(refusal)?;
            println!("recipient {} saved", r.id);
        }
        RecipientCommand::List => {
            for r in services.recipients().await.map_err(refusal)? {
                println!("{}\t{}\t{}\t{}", r.id, r.name, r.address, r.representative);
            }
        }
    }
    Ok(())
}
