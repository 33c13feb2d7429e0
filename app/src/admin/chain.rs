//! The console's server function for the hash chain: its state, and a walk on request.

use leptos::prelude::*;

use crate::error::ApiError;
use crate::view::ChainView;
#[cfg(feature = "ssr")]
use crate::{
    api::{admin, refuse, services},
    auth::Role,
};

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
