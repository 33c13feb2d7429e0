//! The console's server functions for access: admins and their roles, and API keys.

use leptos::prelude::*;

use crate::error::ApiError;
use crate::view::{AdminRow, ApiKeyRow, CreatedApiKey};
#[cfg(feature = "ssr")]
use crate::{
    api::{admin, refuse, require_csrf, services},
    auth::Role,
};

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
