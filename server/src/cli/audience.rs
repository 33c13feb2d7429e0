//! `doui audience`: everyone who may be contacted for a purpose on a channel now, streamed page
//! by page (memory stays flat whatever the number of subjects).

use std::io::Write;

use super::refusal;
use crate::config::Config;

/// How the audience is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum AudienceFormat {
    /// CSV: external_id,email,phone,lang,jurisdiction,frequency (text guarded against formulas).
    Csv,
    /// One JSON object per line.
    Jsonl,
}

pub(super) async fn audience(
    config: &Config,
    purpose: String,
    channel: String,
    format: AudienceFormat,
) -> anyhow::Result<()> {
    let services = crate::services(config).await?;
    let (purpose, channel) = services
        .purpose_on(&purpose, &channel)
        .await
        .map_err(refusal)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if format == AudienceFormat::Csv {
        out.write_all(crate::api_v1::audience::AUDIENCE_CSV_HEADER.as_bytes())?;
    }
    let mut text = String::new();
    let mut pages = services
        .audience_pages(&purpose, channel, None, app::services::AUDIENCE_RANGE)
        .await
        .map_err(refusal)?;
    while let Some(page) = futures_util::StreamExt::next(&mut pages).await {
        let page = page.map_err(refusal)?;
        text.clear();
        for s in &page.subjects {
            match format {
                AudienceFormat::Csv => crate::api_v1::audience::audience_csv_line(
                    &mut text,
                    s,
                    page.frequencies.get(&s.id).copied(),
                ),
                AudienceFormat::Jsonl => {
                    let member = crate::api_v1::audience::AudienceMember::of(
                        s,
                        page.frequencies.get(&s.id).copied(),
                    );
                    text.push_str(&serde_json::to_string(&member)?);
                    text.push('\n');
                }
            }
        }
        out.write_all(text.as_bytes())?;
    }
    out.flush()?;
    Ok(())
}
