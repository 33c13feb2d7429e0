//! The admin console's server functions. Each checks the signed-in admin's role first: 401 when
//! nobody is signed in, 403 when the role is too low. State-changing ones also check the form's
//! CSRF token.

use leptos::prelude::*;

use crate::{
    error::ApiError,
    view::{
        AdminRow, AdminSubjectView, ApiKeyRow, ChainView, CreatedApiKey, SignedInAdmin,
        SubjectSummary,
    },
};

#[cfg(feature = "ssr")]
use crate::{
    api::{admin, csrf_token, refuse, require_csrf, services},
    auth::Role,
};

/// Who is signed in (any role).
#[server(endpoint = "admin/me")]
pub async fn admin_me() -> Result<SignedInAdmin, ApiError> {
    let services = services()?;
    let (admin, _) = admin(&services, Role::Viewer).await?;
    Ok(SignedInAdmin {
        email: admin.email,
        role: admin.role.key().to_owned(),
        csrf: csrf_token(),
    })
}

/// Subjects by exact external id or email (viewer).
#[server(endpoint = "admin/search")]
pub async fn admin_search(query: String) -> Result<Vec<SubjectSummary>, ApiError> {
    let services = services()?;
    let (_, lang) = admin(&services, Role::Viewer).await?;
    services
        .search_subjects(&query)
        .await
        .map_err(|r| refuse(lang, r))
}

/// One subject's matrix and every event with its provenance (viewer).
#[server(endpoint = "admin/subject")]
pub async fn admin_subject(id: String) -> Result<AdminSubjectView, ApiError> {
    let services = services()?;
    let (_, lang) = admin(&services, Role::Viewer).await?;
    services
        .admin_subject_view(&id, lang)
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
    let provenance = crate::api::provenance(&services, None);
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
        .admin_subject_view(&subject, lang)
        .await
        .map_err(|r| refuse(lang, r))
}

/// Every admin account (owner).
#[server(endpoint = "admin/admins")]
pub async fn admin_list_admins() -> Result<Vec<AdminRow>, ApiError> {
    let services = services()?;
    let (_, lang) = admin(&services, Role::Owner).await?;
    services.admin_rows().await.map_err(|r| refuse(lang, r))
}

/// Changes an admin's role, or disables / enables the account (owner).
#[server(endpoint = "admin/set_role")]
pub async fn admin_set_role(
    email: String,
    role: String,
    disabled: Option<String>,
    csrf: String,
) -> Result<Vec<AdminRow>, ApiError> {
    let services = services()?;
    let (owner, lang) = admin(&services, Role::Owner).await?;
    require_csrf(&services, &csrf, lang)?;
    let role: Role = role
        .parse()
        .map_err(|e: crate::domain::Invalid| refuse(lang, e.into()))?;
    let disabled = disabled.is_some_and(|d| d == "true" || d == "on");
    let changed = services
        .set_admin_role(&email, role, disabled)
        .await
        .map_err(|r| refuse(lang, r))?;
    tracing::info!(by = %owner.id, admin = %changed.id, role = %changed.role, disabled, "admin changed");
    services.admin_rows().await.map_err(|r| refuse(lang, r))
}

/// Every API key (owner).
#[server(endpoint = "admin/api_keys")]
pub async fn admin_list_api_keys() -> Result<Vec<ApiKeyRow>, ApiError> {
    let services = services()?;
    let (_, lang) = admin(&services, Role::Owner).await?;
    services.api_key_rows().await.map_err(|r| refuse(lang, r))
}

/// Creates an API key; the answer shows its secret once (owner).
#[server(endpoint = "admin/create_api_key")]
pub async fn admin_create_api_key(
    name: String,
    scopes: String,
    csrf: String,
) -> Result<CreatedApiKey, ApiError> {
    let services = services()?;
    let (owner, lang) = admin(&services, Role::Owner).await?;
    require_csrf(&services, &csrf, lang)?;
    let scopes: Vec<String> = scopes
        .split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let (record, key) = services
        .create_api_key(&name, &scopes)
        .await
        .map_err(|r| refuse(lang, r))?;
    tracing::info!(by = %owner.id, key = %record.id, "API key created");
    let keys = services.api_key_rows().await.map_err(|r| refuse(lang, r))?;
    Ok(CreatedApiKey { key, keys })
}

/// Revokes an API key (owner).
#[server(endpoint = "admin/revoke_api_key")]
pub async fn admin_revoke_api_key(id: String, csrf: String) -> Result<Vec<ApiKeyRow>, ApiError> {
    let services = services()?;
    let (owner, lang) = admin(&services, Role::Owner).await?;
    require_csrf(&services, &csrf, lang)?;
    let revoked = services
        .store
        .revoke_api_key(&id, crate::services::now())
        .await
        .map_err(|e| refuse(lang, e.into()))?;
    if !revoked {
        return Err(refuse(lang, crate::services::Refusal::new("not_found")));
    }
    tracing::info!(by = %owner.id, key = %id, "API key revoked");
    services.api_key_rows().await.map_err(|r| refuse(lang, r))
}

/// The hash chain: its length and head, and with `verify` the result of walking all of it
/// (viewer; reads only).
#[server(endpoint = "admin/chain")]
pub async fn admin_chain(verify: bool) -> Result<ChainView, ApiError> {
    let services = services()?;
    let (_, lang) = admin(&services, Role::Viewer).await?;
    services
        .chain_view(verify)
        .await
        .map_err(|r| refuse(lang, r))
}
