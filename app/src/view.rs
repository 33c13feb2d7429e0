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
    /// The browser sent a Global Privacy Control signal, and it was honoured (R20).
    pub gpc: bool,
    /// What was provided of the person's data to third parties (APPI 第29条), newest first
    /// (server-rendered, outside the island: never sent to the browser as data).
    #[serde(skip)]
    pub provisions: Vec<ProvisionRow>,
    /// Material changes of the privacy notice the person is asked to re-confirm (rendered on the
    /// server, outside the island, so never sent to the browser as data).
    #[serde(skip)]
    pub reconfirm: Vec<ReconfirmView>,
    /// Consents in their last days or ended, offered for renewal (R59; server-rendered too).
    #[serde(skip)]
    pub renewals: Vec<RenewalRow>,
    /// When the person's lasting objection to direct marketing was made, while it stands (R34;
    /// server-rendered).
    #[serde(skip)]
    pub objection: Option<Moment>,
    /// The person is governed from California (`us_ca`): the page offers "Do Not Sell or Share
    /// My Personal Information" (R57; server-rendered).
    #[serde(skip)]
    pub do_not_sell: bool,
    /// Consents paused by the person, with their end (server-rendered).
    #[serde(skip)]
    pub pauses: Vec<PauseRow>,
    /// How often the person wants each marketing purpose's messages (server-rendered).
    #[serde(skip)]
    pub frequencies: Vec<FrequencyRow>,
}

/// A consent paused by the person: withdrawn until `until`, then granted again by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PauseRow {
    pub purpose: String,
    pub purpose_name: String,
    pub channel: Channel,
    pub channel_name: String,
    pub until: Moment,
}

/// How often the person wants the messages of a purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrequencyRow {
    pub purpose: String,
    pub purpose_name: String,
    /// `every`, `weekly` or `monthly`.
    pub frequency: String,
}

/// A moment shown to the person: as the server wrote it in their time zone (`text`, in `zone`),
/// and the instant itself (`at`, RFC 3339 in UTC) for `<time datetime>` and for the browser to
/// show in its own zone once the page runs.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Moment {
    pub at: String,
    pub text: String,
    pub zone: String,
}

/// A consent whose validity ends soon (or has ended), offered for renewal.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RenewalRow {
    pub purpose: String,
    pub purpose_name: String,
    /// When it ends (or ended).
    pub expires: Moment,
    pub ended: bool,
}

/// A material change of the privacy notice awaiting the person's answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReconfirmView {
    pub version: String,
    pub previous_version: String,
    /// When it took effect.
    pub effective: Moment,
    pub summary: String,
    /// What changed, in the page's language.
    pub diff: Vec<DiffRow>,
    /// The purposes (key, name) whose consents it asks to re-confirm.
    pub purposes: Vec<(String, String)>,
}

/// One line of a notice diff: `kind` is ' ' (unchanged), '-' (removed), '+' (added) or '…'
/// (unchanged lines left out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffRow {
    pub kind: char,
    pub line: String,
}

/// One published notice version, as the console lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeSummary {
    pub version: String,
    pub effective: String,
    pub in_force: bool,
    pub upcoming: bool,
    pub material: bool,
    pub purposes: Vec<String>,
    pub summary: String,
    pub published_by: String,
    /// What changed from the version before it.
    pub diff: Vec<DiffRow>,
}

/// One provision of the person's data, as they see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionRow {
    pub when: Moment,
    pub recipient: String,
    pub recipient_address: String,
    pub data_items: String,
    /// Set when the sharing was withdrawn after the provision: whether the recipient was told.
    pub withdrawal: Option<WithdrawalRow>,
}

/// Whether a recipient was told of the withdrawal that followed a provision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawalRow {
    /// When its endpoint answered 2xx to the withdrawal; `None`: not yet delivered.
    pub delivered_at: Option<String>,
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
    /// When the choice was made.
    pub updated_at: Option<Moment>,
    /// A material change of the notice awaits the person's re-confirmation of this consent.
    #[serde(skip)]
    pub reconfirm: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRow {
    pub when: Moment,
    pub purpose_name: String,
    pub channel: Channel,
    pub from: Option<ConsentState>,
    pub to: ConsentState,
    pub source: String,
    /// Where the consent was collected (a change the sender reported), by its name in the
    /// page's language.
    #[serde(default)]
    pub collection_point: Option<String>,
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

/// The double opt-in form: the opt-in purposes one can subscribe to by email.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscribeView {
    pub lang: Lang,
    pub csrf: String,
    /// (key, name) of each purpose sent by email.
    pub purposes: Vec<(String, String)>,
}

/// A double opt-in confirmation page: what the link confirms (nothing changes until the POST).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptInView {
    pub lang: Lang,
    pub csrf: String,
    pub purpose_name: String,
    /// Partly masked.
    pub email: String,
}

/// The public privacy policy, generated from the configuration and the purposes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrivacyView {
    pub lang: Lang,
    /// Sender display items (特定電子メール法 第4条) and the APPI 27(2) business items.
    pub sender_name: String,
    pub sender_address: String,
    pub sender_representative: String,
    pub sender_contact: String,
    pub notice_version: String,
    /// The notice in force, in the page's language, and when it took effect (empty while no
    /// version is published).
    pub notice_text: String,
    pub notice_effective: String,
    pub purposes: Vec<PrivacyPurpose>,
    /// The operator's own minimum retention, in days.
    pub retention_days: i64,
}

/// One purpose as the privacy policy states it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrivacyPurpose {
    pub key: String,
    pub name: String,
    pub description: String,
    pub channels: Vec<Channel>,
    /// `opt_in` or `opt_out`, where no jurisdiction's own applies.
    pub mode: Mode,
    /// (jurisdiction key, mode) where it differs.
    pub modes: Vec<(String, Mode)>,
    /// Provided to third parties by opt-out in Japan: the APPI 27(2) items.
    pub opt_out_provision: Option<OptOutProvision>,
}

/// The items APPI 27(2) requires published before opt-out provision (the business's own name,
/// address and representative are the sender's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptOutProvision {
    pub data_items: String,
    pub acquired_by: String,
    pub provided_by: String,
    pub filed_on: String,
    pub filing_number: String,
}

/// A subject as the admin console lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubjectSummary {
    pub id: String,
    pub external_id: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub lang: Lang,
    /// `jp`, `eu`, `us_ca` or `default`.
    pub jurisdiction: String,
    /// The zone the person's pages show times in (theirs, or their jurisdiction's).
    pub time_zone: String,
}

/// One event with all its provenance, for admins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminEventRow {
    /// The event's place in the log (pages continue below it).
    pub seq: i64,
    /// The subject's id.
    pub subject: String,
    pub when: String,
    /// When Doui wrote it, where that is not `when` (minute precision): a change reported late
    /// or dated in the past shows both. `None` too for events written before Doui kept it.
    pub recorded: Option<String>,
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
    /// Where the consent was collected (a change written through the API or an import): the
    /// collection point's name in the reader's language, or its key when it is not registered.
    pub collection_point: Option<String>,
    /// The collection point's key.
    pub collection_point_key: Option<String>,
}

/// A subject's page in the console: who, the current matrix, every event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminSubjectView {
    pub subject: SubjectSummary,
    pub channels: Vec<Channel>,
    pub purposes: Vec<PurposeRow>,
    /// The timeline: a page of events, newest first, with its filter.
    pub events: EventPageView,
    /// What was provided of the person's data to third parties (APPI 第29条), newest first
    /// (server-rendered, outside the island: never sent to the browser as data).
    #[serde(skip)]
    pub provisions: Vec<ProvisionRow>,
    /// Consents the person paused, with their end (server-rendered).
    #[serde(skip)]
    pub pauses: Vec<PauseRow>,
    /// How often the person wants each marketing purpose's messages (server-rendered).
    #[serde(skip)]
    pub frequencies: Vec<FrequencyRow>,
    /// Set when the person was erased on request: when, by whom, why.
    pub erasure: Option<ErasureRow>,
}

/// An erasure as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureRow {
    pub when: String,
    pub by: String,
    pub reason: String,
}

/// A third-party recipient as the console shows and edits it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RecipientRow {
    pub id: String,
    pub name: String,
    pub address: String,
    pub representative: String,
}

/// A collection point as the console lists it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CollectionPointRow {
    pub key: String,
    pub name_ja: String,
    pub name_en: String,
    pub kind: String,
    /// The kind's name in the page's language.
    pub kind_name: String,
    pub location: String,
    pub wording: String,
    pub wording_sha256: String,
    pub notice_version: Option<String>,
    pub created: String,
    pub created_by: String,
    /// When and by whom it was retired.
    pub retired: Option<String>,
    /// Its embeddable signup form, as it stands now (if it ever had one).
    pub form: Option<SignupFormRow>,
}

/// A collection point's signup form in the console.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignupFormRow {
    pub version: i64,
    /// Offered now (a version offering nothing switches it off).
    pub on: bool,
    /// The purposes offered (keys, separated by commas).
    pub purposes: String,
    /// The origins that may frame it and post to it.
    pub origins: Vec<String>,
    /// The hosted form's address.
    pub url: String,
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
    /// Events and current choices the walk found suspect, in words (each names its event).
    pub findings: Vec<String>,
    /// Signed checkpoints the walk found true.
    pub checkpoints_checked: i64,
    /// The longest signed checkpoint: its length and when it was signed (RFC 3339).
    pub latest_checkpoint: Option<(i64, String)>,
    /// The public key checkpoints and receipts verify with (base64url) and its id.
    pub public_key: String,
    pub key_id: String,
}

/// A page of subject search results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubjectSearchView {
    pub query: String,
    pub subjects: Vec<SubjectSummary>,
    /// 0-based.
    pub page: u32,
    pub has_more: bool,
}

/// The event filters as a form sends them (every field optional; dates `YYYY-MM-DD`, UTC).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventFilterForm {
    pub purpose: Option<String>,
    pub channel: Option<String>,
    pub source: Option<String>,
    pub from: Option<String>,
    pub until: Option<String>,
}

/// A page of events, newest first, with the filter that chose them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventPageView {
    pub filter: EventFilterForm,
    /// The filter as query parameters (for the next page and the exports).
    pub query: String,
    pub rows: Vec<AdminEventRow>,
    /// Pass as `before` for the next (older) page.
    pub next_before: Option<i64>,
}

/// One line of a chart: a count per day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartSeries {
    pub label: String,
    /// Opt-ins (else opt-outs).
    pub granted: bool,
    pub values: Vec<i64>,
}

/// What the charts draw: days, then opt-ins and opt-outs per purpose and channel, and all
/// changes per source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartView {
    pub days: Vec<String>,
    pub series: Vec<ChartSeries>,
    pub sources: Vec<ChartSeries>,
}

/// A purpose's settings as the owner's form edits them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurposeForm {
    pub key: String,
    pub name_ja: String,
    pub name_en: String,
    pub description_ja: String,
    pub description_en: String,
    /// `opt_in` or `opt_out`: the default mode.
    pub mode: String,
    /// Each jurisdiction's own mode (`jp`, `eu`, `us_ca`): `opt_in`, `opt_out`, or empty for the
    /// default.
    pub jurisdiction_modes: Vec<(String, String)>,
    pub channels: Vec<String>,
    pub marketing: bool,
    /// `advertising`, `ad_targeting`, `third_party_sharing` or `other`.
    pub kind: String,
    /// The legal basis the rules look at (see `domain::LegalBasis`).
    pub soft_opt_in: String,
    pub ppc_filed_on: String,
    pub ppc_number: String,
    pub sensitive: bool,
    pub improperly_acquired: bool,
    pub received_by_opt_out: bool,
    pub data_items: String,
    pub acquired_by: String,
    pub provided_by: String,
    /// Days a consent lasts before it must be renewed; empty: until withdrawn.
    pub validity_days: String,
}

/// One saved version of a purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurposeVersionRow {
    pub version: i64,
    pub changed_at: String,
    pub changed_by: String,
    pub mode: String,
    pub channels: Vec<String>,
}

/// A purpose on the owner's page: its settings and every version, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurposeAdminRow {
    pub form: PurposeForm,
    pub versions: Vec<PurposeVersionRow>,
}

/// Percent-encodes a query value (unreserved characters pass).
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
