//! What every handler reaches: the services and the settings of the HTTP layer, shared by the
//! router and every route module.

use std::sync::Arc;

use app::services::Services;
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use crate::client::Cidr;

/// The largest body a server function accepts (forms are a few hundred bytes).
pub const MAX_BODY: usize = 16 * 1024;

/// What every handler reaches. Shared, not copied: each middleware and handler takes it.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub services: Services,
    pub leptos_options: LeptosOptions,
    /// Deprecated: the peer is one proxy; take the right-most `X-Forwarded-For` entry.
    pub trust_forwarded_for: bool,
    /// Proxies whose `X-Forwarded-For` entries are believed (see `client_address`).
    pub trusted_proxies: Vec<Cidr>,
    /// The secret inbound mail is posted with; `None` disables `/inbound/email`.
    pub inbound_secret: Option<String>,
    /// The SMS provider's auth token inbound messages are signed with; `None` disables
    /// `/inbound/sms`.
    pub sms_auth_token: Option<String>,
    /// Where posted imports are kept while they run (`<data_dir>/imports`).
    pub data_dir: std::path::PathBuf,
    /// The shutdown in progress, if any (`/readyz` answers 503 while it drains).
    pub shutdown: crate::ops::Shutdown,
    /// The bearer token `/metrics` asks for on the main address; `None`: not served there.
    pub metrics_token: Option<String>,
}

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
