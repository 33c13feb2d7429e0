//! The admin console's server functions. Each checks the signed-in admin's role first: 401 when
//! nobody is signed in, 403 when the role is too low. State-changing ones also check the form's
//! CSRF token. One file per page group of the console (`console/`), the same names.

// A server function's arguments are its form's fields (so forms work without JavaScript).
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::api::{admin, csrf_token, services};
#[cfg(feature = "ssr")]
use crate::auth::Role;
use crate::{error::ApiError, view::SignedInAdmin};

mod access;
mod chain;
mod collection_points;
mod do_not_sell;
mod events;
mod notices;
mod purposes;
mod recipients;
mod subjects;

pub use access::*;
pub use chain::*;
pub use collection_points::*;
pub use do_not_sell::*;
pub use events::*;
pub use notices::*;
pub use purposes::*;
pub use recipients::*;
pub use subjects::*;

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
