//! The console's server functions for privacy notices: the versions, and publishing one.

use leptos::prelude::*;

use crate::error::ApiError;
#[cfg(feature = "ssr")]
use crate::{
    api::{admin, refuse, require_csrf, services},
    auth::Role,
};

/// The published notice versions, newest first, each with its diff from the one before (viewer).
#[server(endpoint = "admin/notices")]
pub async fn admin_notices() -> Result<Vec<crate::view::NoticeSummary>, ApiError> {
    let services = services()?;
    let (_, lang) = admin(&services, Role::Viewer).await?;
    services
        .notice_summaries(lang)
        .await
        .map_err(|r| refuse(lang, r))
}

/// Publishes a notice version (owner). `effective_at` is a `datetime-local` value (UTC) or
/// RFC 3339; empty means now. `purposes`: keys separated by commas, empty for all.
#[server(endpoint = "admin/publish_notice")]
pub async fn admin_publish_notice(
    version: String,
    effective_at: Option<String>,
    material: Option<String>,
    purposes: Option<String>,
    summary_ja: Option<String>,
    summary_en: Option<String>,
    text_ja: String,
    text_en: String,
    csrf: String,
) -> Result<Vec<crate::view::NoticeSummary>, ApiError> {
    let services = services()?;
    let (owner, lang) = admin(&services, Role::Owner).await?;
    require_csrf(&services, &csrf, lang)?;
    let effective_at = crate::services::parse_effective_at(effective_at.as_deref().unwrap_or(""))
        .map_err(|r| refuse(lang, r))?;
    let input = crate::services::NoticeInput {
        version,
        effective_at,
        material: material.is_some(),
        purposes: purposes
            .unwrap_or_default()
            .split(',')
            .map(str::to_owned)
            .collect(),
        summary_ja: summary_ja.unwrap_or_default(),
        summary_en: summary_en.unwrap_or_default(),
        text_ja,
        text_en,
    };
    services
        .publish_notice(input, &owner.email)
        .await
        .map_err(|r| refuse(lang, r))?;
    services
        .notice_summaries(lang)
        .await
        .map_err(|r| refuse(lang, r))
}
