//! The console's server functions for purposes: their settings and versions, and saving one.

use leptos::prelude::*;

use crate::error::ApiError;
use crate::view::PurposeAdminRow;
#[cfg(feature = "ssr")]
use crate::view::PurposeForm;
#[cfg(feature = "ssr")]
use crate::{
    api::{admin, refuse, require_csrf, services},
    auth::Role,
};

/// Every purpose with its settings and versions (viewer).
#[server(endpoint = "admin/purposes")]
pub async fn admin_purposes() -> Result<Vec<PurposeAdminRow>, ApiError> {
    let services = services()?;
    let (_, lang) = admin(&services, Role::Viewer).await?;
    services.purpose_rows().await.map_err(|r| refuse(lang, r))
}

/// Adds or changes a purpose; each save is a new, attributed version (owner). Channels come as
/// one checkbox each, so the form works without JavaScript.
#[server(endpoint = "admin/save_purpose")]
pub async fn admin_save_purpose(
    key: String,
    name_ja: String,
    name_en: String,
    description_ja: String,
    description_en: String,
    mode: String,
    marketing: Option<String>,
    channel_email: Option<String>,
    channel_sms: Option<String>,
    channel_push: Option<String>,
    channel_postal: Option<String>,
    channel_phone: Option<String>,
    channel_web: Option<String>,
    kind: Option<String>,
    mode_jp: Option<String>,
    mode_eu: Option<String>,
    mode_us_ca: Option<String>,
    soft_opt_in: Option<String>,
    ppc_filed_on: Option<String>,
    ppc_number: Option<String>,
    sensitive: Option<String>,
    improperly_acquired: Option<String>,
    received_by_opt_out: Option<String>,
    data_items: Option<String>,
    acquired_by: Option<String>,
    provided_by: Option<String>,
    validity_days: Option<String>,
    csrf: String,
) -> Result<Vec<PurposeAdminRow>, ApiError> {
    let services = services()?;
    let (owner, lang) = admin(&services, Role::Owner).await?;
    require_csrf(&services, &csrf, lang)?;
    let channels = [
        ("email", channel_email),
        ("sms", channel_sms),
        ("push", channel_push),
        ("postal", channel_postal),
        ("phone", channel_phone),
        ("web", channel_web),
    ]
    .into_iter()
    .filter(|(_, on)| on.is_some())
    .map(|(c, _)| c.to_owned())
    .collect();
    let form = PurposeForm {
        key,
        name_ja,
        name_en,
        description_ja,
        description_en,
        mode,
        jurisdiction_modes: [("jp", mode_jp), ("eu", mode_eu), ("us_ca", mode_us_ca)]
            .into_iter()
            .map(|(j, m)| (j.to_owned(), m.unwrap_or_default()))
            .collect(),
        channels,
        marketing: marketing.is_some(),
        kind: kind.unwrap_or_default(),
        soft_opt_in: soft_opt_in.unwrap_or_default(),
        ppc_filed_on: ppc_filed_on.unwrap_or_default(),
        ppc_number: ppc_number.unwrap_or_default(),
        sensitive: sensitive.is_some(),
        improperly_acquired: improperly_acquired.is_some(),
        received_by_opt_out: received_by_opt_out.is_some(),
        data_items: data_items.unwrap_or_default(),
        acquired_by: acquired_by.unwrap_or_default(),
        provided_by: provided_by.unwrap_or_default(),
        validity_days: validity_days.unwrap_or_default(),
    };
    services
        .save_purpose(&owner, &form)
        .await
        .map_err(|r| refuse(lang, r))?;
    services.purpose_rows().await.map_err(|r| refuse(lang, r))
}
