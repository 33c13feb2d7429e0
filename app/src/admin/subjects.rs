//! The console's server functions for subjects: search, one subject's record, and what an
//! operator does for a person (erase, change a consent on their behalf).

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::events::filter_form;
use crate::error::ApiError;
#[cfg(feature = "ssr")]
use crate::view::EventFilterForm;
use crate::view::{AdminSubjectView, SubjectSearchView};
#[cfg(feature = "ssr")]
use crate::{
    api::{admin, refuse, require_csrf, services},
    auth::Role,
};

/// Subjects whose external id, email or phone is `query` or starts with it, paged (viewer).
#[server(endpoint = "admin/search")]
pub async fn admin_search(query: String, page: Option<u32>) -> Result<SubjectSearchView, ApiError> {
    let services = services()?;
    let (_, lang) = admin(&services, Role::Viewer).await?;
    services
        .search_subjects(&query, page.unwrap_or(0))
        .await
        .map_err(|r| refuse(lang, r))
}

/// One subject's matrix and its timeline, filtered and paged (viewer).
#[server(endpoint = "admin/subject")]
pub async fn admin_subject(
    id: String,
    purpose: Option<String>,
    channel: Option<String>,
    source: Option<String>,
    from: Option<String>,
    until: Option<String>,
    before: Option<i64>,
) -> Result<AdminSubjectView, ApiError> {
    let services = services()?;
    let (_, lang) = admin(&services, Role::Viewer).await?;
    let filter = filter_form(purpose, channel, source, from, until);
    services
        .admin_subject_view(&id, lang, filter, before)
        .await
        .map_err(|r| refuse(lang, r))
}

/// Erases a person on their request (GDPR Art. 17), with a mandatory reason (operator): their
/// identifiers go, every consent is withdrawn, the events stay as evidence.
#[server(endpoint = "admin/erase_subject")]
pub async fn admin_erase_subject(
    subject: String,
    reason: String,
    confirm: Option<String>,
    csrf: String,
) -> Result<AdminSubjectView, ApiError> {
    let services = services()?;
    let (admin, lang) = admin(&services, Role::Operator).await?;
    require_csrf(&services, &csrf, lang)?;
    if confirm.is_none() {
        return Err(ApiError::new(lang, "erase_unconfirmed"));
    }
    services
        .erase_subject(
            &subject,
            &reason,
            crate::services::Eraser::Admin(&admin),
            crate::api::provenance(None),
        )
        .await
        .map_err(|r| refuse(lang, r))?;
    services
        .admin_subject_view(&subject, lang, EventFilterForm::default(), None)
        .await
        .map_err(|r| refuse(lang, r))
}

/// Changes a consent on the person's behalf, with a mandatory reason (operator).
#[server(endpoint = "admin/set_consent")]
pub async fn admin_set_consent(
    subject: String,
    purpose: String,
    channel: String,
    state: String,
    reason: String,
    csrf: String,
) -> Result<AdminSubjectView, ApiError> {
    let services = services()?;
    let (admin, lang) = admin(&services, Role::Operator).await?;
    require_csrf(&services, &csrf, lang)?;
    let provenance = crate::api::provenance(None);
    let applied = services
        .admin_set_consent(
            &admin,
            crate::services::BehalfChange {
                subject: &subject,
                purpose: &purpose,
                channel: &channel,
                state: &state,
                reason: &reason,
            },
            provenance,
        )
        .await
        .map_err(|r| refuse(lang, r))?;
    tracing::info!(admin = %admin.id, %subject, %purpose, %channel, %state,
        outcome = crate::services::outcome_word(&applied), "consent set by admin");
    services
        .admin_subject_view(&subject, lang, EventFilterForm::default(), None)
        .await
        .map_err(|r| refuse(lang, r))
}
