//! Every text the product shows, in Japanese and English. A `Texts` value must fill every field, so
//! the compiler refuses a text that exists in one language only.

use crate::domain::{Channel, Lang};

mod a11y;
mod errors;
pub use a11y::{chart_column, skip_to_content};
#[cfg(feature = "ssr")]
mod imports;
pub use errors::error_message;
#[cfg(feature = "ssr")]
pub use imports::import_message;
pub mod do_not_sell;
#[cfg(feature = "ssr")]
mod forms;
#[cfg(feature = "ssr")]
pub use forms::{FormTexts, form_message, form_texts};
#[cfg(feature = "ssr")]
mod webhooks;
#[cfg(feature = "ssr")]
pub use webhooks::webhook_message;
mod en;
mod ja;
mod pause;
pub use pause::{PauseTexts, pause_message, pause_texts};

pub struct Texts {
    pub product: &'static str,
    pub tagline: &'static str,
    pub home_intro: &'static str,
    pub home_how: &'static str,
    pub language: &'static str,
    pub preferences_title: &'static str,
    pub preferences_intro: &'static str,
    pub signed_in_as: &'static str,
    pub purpose: &'static str,
    pub on: &'static str,
    pub off: &'static str,
    pub your_choice: &'static str,
    pub default_opt_in: &'static str,
    pub default_opt_out: &'static str,
    pub not_applicable: &'static str,
    pub last_changed: &'static str,
    pub mode_opt_in: &'static str,
    pub mode_opt_out: &'static str,
    pub stop_all: &'static str,
    pub stop_all_help: &'static str,
    pub saving: &'static str,
    pub saved: &'static str,
    pub unchanged: &'static str,
    pub history: &'static str,
    pub history_empty: &'static str,
    pub when: &'static str,
    pub change: &'static str,
    pub via: &'static str,
    pub not_chosen: &'static str,
    pub granted: &'static str,
    pub withdrawn: &'static str,
    pub notice_version: &'static str,
    pub turn_on: &'static str,
    pub turn_off: &'static str,
    pub back_to_preferences: &'static str,
    pub error_title: &'static str,
    pub not_found_title: &'static str,
    pub not_found_body: &'static str,
    pub no_js_note: &'static str,
    pub unsubscribe_title: &'static str,
    pub unsubscribe_intro: &'static str,
    pub unsubscribe_button: &'static str,
    pub unsubscribe_already: &'static str,
    pub unsubscribed_title: &'static str,
    pub unsubscribed_body: &'static str,
    pub manage_preferences: &'static str,
    pub signin_title: &'static str,
    pub signin_intro: &'static str,
    pub email_label: &'static str,
    pub send_link: &'static str,
    pub signin_sent: &'static str,
    pub signed_out: &'static str,
    pub continue_title: &'static str,
    pub continue_intro: &'static str,
    pub continue_button: &'static str,
    pub sign_out: &'static str,
    pub sign_out_everywhere: &'static str,
    pub request_new_link: &'static str,
    pub admin_title: &'static str,
    pub admin_signin_title: &'static str,
    pub password_label: &'static str,
    pub code_label: &'static str,
    pub sign_in: &'static str,
    pub search: &'static str,
    pub search_help: &'static str,
    pub subjects: &'static str,
    pub no_results: &'static str,
    pub external_id: &'static str,
    pub phone: &'static str,
    pub events: &'static str,
    pub source: &'static str,
    pub actor: &'static str,
    pub origin: &'static str,
    pub reason: &'static str,
    pub change_for_subject: &'static str,
    pub reason_help: &'static str,
    pub state_label: &'static str,
    pub apply: &'static str,
    pub admins: &'static str,
    pub api_keys: &'static str,
    pub role: &'static str,
    pub two_factor: &'static str,
    pub disabled: &'static str,
    pub created: &'static str,
    pub name: &'static str,
    pub scopes: &'static str,
    pub create_key: &'static str,
    pub revoke: &'static str,
    pub key_once: &'static str,
    pub save: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub revoked: &'static str,
    pub active: &'static str,
    pub stay_signed_in: &'static str,
    pub channel_label: &'static str,
    pub chain_title: &'static str,
    pub chain_intro: &'static str,
    pub chain_length: &'static str,
    pub chain_head: &'static str,
    pub chain_verify: &'static str,
    pub chain_ok: &'static str,
    pub chain_broken: &'static str,
    pub chain_suspect: &'static str,
    pub recorded_label: &'static str,
    pub chain_checkpoint: &'static str,
    pub chain_no_checkpoint: &'static str,
    pub chain_public_key: &'static str,
    pub chain_checkpoints_ok: &'static str,
    pub chain_download: &'static str,
    pub chain_keep: &'static str,
    pub record_title: &'static str,
    pub record_intro: &'static str,
    pub record_download: &'static str,
    pub filter_any: &'static str,
    pub filter_from: &'static str,
    pub filter_until: &'static str,
    pub filter_apply: &'static str,
    pub filter_clear: &'static str,
    pub older_events: &'static str,
    pub no_events: &'static str,
    pub export_csv: &'static str,
    pub export_jsonl: &'static str,
    pub export_progress: &'static str,
    pub export_help: &'static str,
    pub event_stream: &'static str,
    pub charts: &'static str,
    pub chart_by_purpose: &'static str,
    pub chart_by_source: &'static str,
    pub chart_empty: &'static str,
    pub subject_column: &'static str,
    pub next_page: &'static str,
    pub previous_page: &'static str,
    pub purposes_title: &'static str,
    pub purposes_intro: &'static str,
    pub purpose_key: &'static str,
    pub name_ja_label: &'static str,
    pub name_en_label: &'static str,
    pub description_ja_label: &'static str,
    pub description_en_label: &'static str,
    pub mode_label: &'static str,
    pub mode_opt_in_long: &'static str,
    pub mode_opt_out_long: &'static str,
    pub marketing_label: &'static str,
    pub channels_label: &'static str,
    pub add_purpose: &'static str,
    pub versions: &'static str,
    pub version_label: &'static str,
    pub changed_by: &'static str,
    pub kind_label: &'static str,
    pub kind_advertising: &'static str,
    pub kind_ad_targeting: &'static str,
    pub kind_third_party_sharing: &'static str,
    pub kind_other: &'static str,
    pub kind_choose: &'static str,
    pub jurisdiction_modes_label: &'static str,
    pub same_as_default: &'static str,
    pub jurisdiction_jp: &'static str,
    pub jurisdiction_eu: &'static str,
    pub jurisdiction_us_ca: &'static str,
    pub jurisdiction_default: &'static str,
    pub legal_label: &'static str,
    pub soft_opt_in_label: &'static str,
    pub ppc_filed_on_label: &'static str,
    pub ppc_number_label: &'static str,
    pub sensitive_label: &'static str,
    pub improperly_acquired_label: &'static str,
    pub received_by_opt_out_label: &'static str,
    pub data_items_label: &'static str,
    pub acquired_by_label: &'static str,
    pub provided_by_label: &'static str,
    pub jurisdiction_label: &'static str,
    pub time_zone_label: &'static str,
    pub gpc_honoured: &'static str,
    pub gpc_browser: &'static str,
    pub provisions_title: &'static str,
    pub provisions_intro: &'static str,
    pub recipient_label: &'static str,
    /// The column telling whether a recipient was told of a withdrawal.
    pub withdrawal_label: &'static str,
    /// `{recipient}` and `{when}` are replaced.
    pub withdrawal_delivered: &'static str,
    /// `{recipient}` is replaced.
    pub withdrawal_not_delivered: &'static str,
}

pub fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::Ja => &ja::JA,
        Lang::En => &en::EN,
    }
}

pub fn channel_name(lang: Lang, channel: Channel) -> &'static str {
    match (lang, channel) {
        (Lang::Ja, Channel::Email) => "メール",
        (Lang::Ja, Channel::Sms) => "SMS",
        (Lang::Ja, Channel::Push) => "プッシュ通知",
        (Lang::Ja, Channel::Postal) => "郵送",
        (Lang::Ja, Channel::Phone) => "電話",
        (Lang::Ja, Channel::Web) => "ウェブ",
        (Lang::En, Channel::Email) => "Email",
        (Lang::En, Channel::Sms) => "SMS",
        (Lang::En, Channel::Push) => "Push",
        (Lang::En, Channel::Postal) => "Post",
        (Lang::En, Channel::Phone) => "Phone",
        (Lang::En, Channel::Web) => "Web",
    }
}

/// The name of a change's source, as the person reading their history would say it.
/// Every event source's key, in the order menus list them (the same as `Source::ALL`).
pub const SOURCE_KEYS: [&str; 10] = [
    "preference_center",
    "link",
    "one_click",
    "admin",
    "api",
    "gpc",
    "import",
    "reply",
    "expiry",
    "pause",
];

pub fn source_name(lang: Lang, source_key: &str) -> &'static str {
    match (lang, source_key) {
        (Lang::Ja, "preference_center") => "設定ページ",
        (Lang::Ja, "link") => "メール内のリンク",
        (Lang::Ja, "one_click") => "ワンクリック配信停止",
        (Lang::Ja, "admin") => "担当者による変更",
        (Lang::Ja, "api") => "API",
        (Lang::Ja, "gpc") => "グローバル・プライバシー・コントロール",
        (Lang::Ja, "import") => "取り込み",
        (Lang::Ja, "reply") => "返信（メール・SMS）",
        (Lang::Ja, "expiry") => "有効期限切れ",
        (Lang::Ja, "pause") => "一時停止の終了",
        (Lang::En, "preference_center") => "Preference center",
        (Lang::En, "link") => "Link in a message",
        (Lang::En, "one_click") => "One-click unsubscribe",
        (Lang::En, "admin") => "Changed by our staff",
        (Lang::En, "api") => "API",
        (Lang::En, "gpc") => "Global Privacy Control",
        (Lang::En, "import") => "Import",
        (Lang::En, "reply") => "Reply (email or SMS)",
        (Lang::En, "expiry") => "Consent expired",
        (Lang::En, "pause") => "End of a pause",
        (Lang::Ja, _) => "その他",
        (Lang::En, _) => "Other",
    }
}

/// A jurisdiction's name (its key when unknown).
pub fn jurisdiction_name(lang: Lang, key: &str) -> &'static str {
    let t = texts(lang);
    match key {
        "jp" => t.jurisdiction_jp,
        "eu" => t.jurisdiction_eu,
        "us_ca" => t.jurisdiction_us_ca,
        _ => t.jurisdiction_default,
    }
}
