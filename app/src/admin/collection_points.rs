//! The console's server functions for collection points and their signup forms.

use leptos::prelude::*;

use crate::error::ApiError;
#[cfg(feature = "ssr")]
use crate::{
    api::{admin, refuse, require_csrf, services},
    auth::Role,
};

/// The collection points, retired ones too (viewer).
#[server(endpoint = "admin/collection_points")]
pub async fn admin_collection_points() -> Result<Vec<crate::view::CollectionPointRow>, ApiError> {
    let services = services()?;
    let (_, lang) = admin(&services, Role::Viewer).await?;
    collection_point_rows(&services, lang).await
}

#[cfg(feature = "ssr")]
async fn collection_point_rows(
    services: &crate::services::Services,
    lang: crate::domain::Lang,
) -> Result<Vec<crate::view::CollectionPointRow>, ApiError> {
    let when = |t: time::OffsetDateTime| {
        t.format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute] UTC"
        ))
        .unwrap_or_default()
    };
    let forms = services.signup_forms().await.map_err(|r| refuse(lang, r))?;
    Ok(services
        .collection_points()
        .await
        .map_err(|r| refuse(lang, r))?
        .into_iter()
        .map(|p| crate::view::CollectionPointRow {
            form: forms
                .iter()
                .find(|f| f.point == p.key)
                .map(|f| crate::view::SignupFormRow {
                    version: f.version,
                    on: f.is_on(),
                    purposes: f
                        .purposes
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    origins: f.origins.clone(),
                    url: format!("{}/forms/{}", services.settings.public_url, p.key),
                }),
            kind_name: p.kind.name(lang).to_owned(),
            kind: p.kind.key().to_owned(),
            created: when(p.created_at),
            retired: p
                .retired_at
                .map(|at| format!("{} ({})", when(at), p.retired_by.unwrap_or_default())),
            key: p.key,
            name_ja: p.name_ja,
            name_en: p.name_en,
            location: p.location,
            wording: p.wording,
            wording_sha256: p.wording_sha256,
            notice_version: p.notice_version,
            created_by: p.created_by,
        })
        .collect())
}

/// Registers a collection point (owner); it is never changed afterwards, only retired.
#[server(endpoint = "admin/add_collection_point")]
pub async fn admin_add_collection_point(
    key: String,
    name_ja: String,
    name_en: String,
    kind: String,
    location: String,
    wording: String,
    notice_version: Option<String>,
    csrf: String,
) -> Result<Vec<crate::view::CollectionPointRow>, ApiError> {
    let services = services()?;
    let (owner, lang) = admin(&services, Role::Owner).await?;
    require_csrf(&services, &csrf, lang)?;
    let kind = kind.parse().map_err(|_| {
        refuse(
            lang,
            crate::services::Refusal::new("unknown_collection_point_kind"),
        )
    })?;
    services
        .add_collection_point(
            crate::domain::NewCollectionPoint {
                key: key.trim().to_owned(),
                name_ja,
                name_en,
                kind,
                location,
                wording,
                notice_version,
            },
            &format!("admin:{}", owner.id),
        )
        .await
        .map_err(|r| refuse(lang, r))?;
    collection_point_rows(&services, lang).await
}

/// Retires a collection point (owner): it stays as evidence and names no new consent.
#[server(endpoint = "admin/retire_collection_point")]
pub async fn admin_retire_collection_point(
    key: String,
    csrf: String,
) -> Result<Vec<crate::view::CollectionPointRow>, ApiError> {
    let services = services()?;
    let (owner, lang) = admin(&services, Role::Owner).await?;
    require_csrf(&services, &csrf, lang)?;
    services
        .retire_collection_point(key.trim(), &format!("admin:{}", owner.id))
        .await
        .map_err(|r| refuse(lang, r))?;
    collection_point_rows(&services, lang).await
}

/// Sets a collection point's signup form (owner): a new version offering `purposes` (keys
/// separated by commas; empty switches the form off) to `origins` (one per line).
#[server(endpoint = "admin/set_signup_form")]
pub async fn admin_set_signup_form(
    key: String,
    purposes: String,
    origins: String,
    csrf: String,
) -> Result<Vec<crate::view::CollectionPointRow>, ApiError> {
    let services = services()?;
    let (owner, lang) = admin(&services, Role::Owner).await?;
    require_csrf(&services, &csrf, lang)?;
    services
        .set_signup_form(
            key.trim(),
            &[purposes],
            &[origins],
            &format!("admin:{}", owner.id),
        )
        .await
        .map_err(|r| refuse(lang, r))?;
    collection_point_rows(&services, lang).await
}
