//! What the browser receives: plain data, already localised and formatted on the server (so the
//! hydrated page matches the server's HTML and the bundle carries no date or locale code).

use serde::{Deserialize, Serialize};

use crate::domain::{Channel, ConsentState, Lang, Mode};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreferenceView {
    pub lang: Lang,
    /// The signed token this page was opened with; forms send it back.
    pub token: String,
    /// Who this page is for, partly masked (`h•••@example.jp`).
    pub subject_label: String,
    pub notice_version: String,
    /// The channels that any purpose uses: the matrix's columns.
    pub channels: Vec<Channel>,
    pub purposes: Vec<PurposeRow>,
    pub history: Vec<HistoryRow>,
    /// Unique per rendering; forms derive their idempotency keys from it.
    pub render_id: String,
    /// The CSRF token forms send back.
    pub csrf: String,
    /// Opened by a signed-in customer (no token): the page offers signing out.
    pub signed_in: bool,
    /// Opened with a link to the whole preference center: the page offers staying signed in.
    pub can_stay_signed_in: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PurposeRow {
    pub key: String,
    pub name: String,
    pub description: String,
    pub mode: Mode,
    pub marketing: bool,
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub channel: Channel,
    /// False where the purpose is not used on this channel.
    pub applies: bool,
    /// The effective value.
    pub on: bool,
    /// The subject's own choice, if any (otherwise `on` is the mode's default).
    pub choice: Option<ConsentState>,
    /// When the choice was made, formatted for the page's language.
    pub updated_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRow {
    pub when: String,
    pub purpose_name: String,
    pub channel: Channel,
    pub from: Option<ConsentState>,
    pub to: ConsentState,
    pub source: String,
}

impl PreferenceView {
    /// Sets one cell's effective value (an optimistic update while the server confirms).
    pub fn with_cell(mut self, purpose: &str, channel: Channel, on: bool) -> Self {
        if let Some(cell) = self
            .purposes
            .iter_mut()
            .filter(|p| p.key == purpose)
            .flat_map(|p| p.cells.iter_mut())
            .find(|c| c.channel == channel && c.applies)
        {
            cell.on = on;
            cell.choice = Some(ConsentState::from_bool(on));
        }
        self
    }
}

/// The confirmation page of an unsubscribe link (GET never changes anything).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnsubscribeView {
    pub lang: Lang,
    pub token: String,
    /// What the link unsubscribes from, one line per purpose.
    pub items: Vec<String>,
    pub already: bool,
}

/// A subject as the admin console lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubjectSummary {
    pub id: String,
    pub external_id: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub lang: Lang,
}

/// One event with all its provenance, for admins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminEventRow {
    pub when: String,
    pub purpose: String,
    pub channel: Channel,
    pub from: Option<ConsentState>,
    pub to: ConsentState,
    pub source: String,
    pub actor: String,
    pub notice_version: Option<String>,
    pub origin_ip: Option<String>,
    pub reason: Option<String>,
    pub campaign: Option<String>,
}

/// A subject's page in the console: who, the current matrix, every event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminSubjectView {
    pub subject: SubjectSummary,
    pub channels: Vec<Channel>,
    pub purposes: Vec<PurposeRow>,
    pub events: Vec<AdminEventRow>,
}

/// The signed-in admin, for the console's header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedInAdmin {
    pub email: String,
    pub role: String,
    pub csrf: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminRow {
    pub email: String,
    pub role: String,
    pub totp: bool,
    pub disabled: bool,
    pub created: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyRow {
    pub id: String,
    pub name: String,
    pub scopes: String,
    pub created: String,
    pub revoked: bool,
}

/// A new API key: the secret is shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedApiKey {
    pub key: String,
    pub keys: Vec<ApiKeyRow>,
}

/// The hash chain's state, for the console.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainView {
    /// Events sealed.
    pub length: i64,
    /// The last seal (hex), empty before the first event.
    pub head: String,
    /// Whether the whole chain was walked for this answer.
    pub checked: bool,
    /// What the walk found first wrong, in words.
    pub broken: Option<String>,
    /// Signed checkpoints the walk found true.
    pub checkpoints_checked: i64,
    /// The longest signed checkpoint: its length and when it was signed (RFC 3339).
    pub latest_checkpoint: Option<(i64, String)>,
    /// The public key checkpoints and receipts verify with (base64url) and its id.
    pub public_key: String,
    pub key_id: String,
}
