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
