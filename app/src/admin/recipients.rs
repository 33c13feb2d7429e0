//! The console's server functions for the third-party recipients of the APPI register.

use leptos::prelude::*;

use crate::error::ApiError;
#[cfg(feature = "ssr")]
use crate::{
    api::{admin, refuse, require_csrf, services},
    auth::Role,
};

/// The third-party recipients (viewer).
#[server(endpoint = "admin/recipients")]
pub async fn admin_recipients() -> Result<Vec<crate::view::RecipientRow>, ApiError> {
    let services = services()?;
    let (_, lang) = admin(&services, Role::Viewer).await?;
    recipient_rows(&services, lang).await
}

#[cfg(feature = "ssr")]
async fn recipient_rows(
    services: &crate::services::Services,
    lang: crate::domain::Lang,
) -> Result<Vec<crate::view::RecipientRow>, ApiError> {
    Ok(services
        .recipients()
        .await
        .map_err(|r| refuse(lang, r))?
        .into_iter()
        .map(|r| crate::view::RecipientRow {
            id: r.id,
            name: r.name,
            address: r.address,
            representative: r.representative,
        })
        .collect())
}

/// Adds a recipient or changes one (owner); the id names it in the API and in the records.
#[server(endpoint = "admin/save_recipient")]
pub async fn admin_save_recipient(
    id: String,
    name: String,
    address: String,
    representative: String,
    csrf: String,
) -> Result<Vec<crate::view::RecipientRow>, ApiError> {
    let services = services()?;
    let (owner, lang) = admin(&services, Role::Owner).await?;
    require_csrf(&services, &csrf, lang)?;
    let saved = services
        .save_recipient(crate::store::Recipient {
            id: id.trim().to_owned(),
            name,
            address,
            representative,
        })
        .await
        .map_err(|r| refuse(lang, r))?;
    tracing::info!(admin = %owner.id, recipient = %saved.id, "recipient saved");
    recipient_rows(&services, lang).await
}
