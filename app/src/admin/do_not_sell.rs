//! The console's server functions for California's Do Not Sell or Share (R57): a subject's
//! requests and until when nobody may ask them to allow sale or sharing again (viewer), and
//! "ask to allow again" (operator), which the services refuse within those twelve months.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
#[cfg(feature = "ssr")]
use crate::{
    api::{admin, refuse, require_csrf, services},
    auth::Role,
};

/// One request, as the console lists it (times in UTC, as the console reads every time).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoNotSellRow {
    pub received: String,
    /// How it arrived, in words.
    pub via: String,
    /// Its key (`preference_center`, `link`, `email`, `browser`).
    pub via_key: String,
    pub withdrawn: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoNotSellAdminView {
    pub rows: Vec<DoNotSellRow>,
    /// Until when asking to allow sale or sharing again is refused (UTC), if it is.
    pub ask_refused_until: Option<String>,
}

#[cfg(feature = "ssr")]
fn subject_id(id: &str) -> Result<crate::domain::SubjectId, crate::services::Refusal> {
    uuid::Uuid::parse_str(id.trim())
        .map(crate::domain::SubjectId)
        .map_err(|_| crate::services::Refusal::new("unknown_subject_id"))
}

/// A subject's Do Not Sell requests, newest first, and until when asking again is refused
/// (viewer).
#[server(endpoint = "admin/do_not_sell")]
pub async fn admin_do_not_sell(id: String) -> Result<DoNotSellAdminView, ApiError> {
    let services = services()?;
    let (_, lang) = admin(&services, Role::Viewer).await?;
    let id = subject_id(&id).map_err(|r| refuse(lang, r))?;
    let status = services
        .do_not_sell_status_at(id, crate::services::now())
        .await
        .map_err(|r| refuse(lang, r))?;
    let utc = |t| crate::services::moment_text(t, "UTC");
    Ok(DoNotSellAdminView {
        rows: status
            .requests
            .iter()
            .map(|r| DoNotSellRow {
                received: utc(r.received_at),
                via: crate::i18n::do_not_sell::via_label(lang, r.via).to_owned(),
                via_key: r.via.key().to_owned(),
                withdrawn: r.withdrawn,
            })
            .collect(),
        ask_refused_until: status.ask_again_refused_until.map(utc),
    })
}

/// Mails the person a request to allow `purpose` again (operator). Refused with
/// `do_not_sell_recent` for sale or sharing within twelve months of their opt-out.
#[server(endpoint = "admin/ask_again")]
pub async fn admin_ask_again(
    subject: String,
    purpose: String,
    csrf: String,
) -> Result<(), ApiError> {
    let services = services()?;
    let (admin, lang) = admin(&services, Role::Operator).await?;
    require_csrf(&services, &csrf, lang)?;
    let id = subject_id(&subject).map_err(|r| refuse(lang, r))?;
    services
        .ask_to_allow_again_at(id, &purpose, &admin.id.to_string(), crate::services::now())
        .await
        .map_err(|r| refuse(lang, r))
}
