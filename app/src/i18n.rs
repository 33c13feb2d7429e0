//! Every text the product shows, in Japanese and English. A `Texts` value must fill every field, so
//! the compiler refuses a text that exists in one language only.

use crate::domain::{Channel, Lang};

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
}

pub fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::Ja => &JA,
        Lang::En => &EN,
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
pub fn source_name(lang: Lang, source_key: &str) -> &'static str {
    match (lang, source_key) {
        (Lang::Ja, "preference_center") => "設定ページ",
        (Lang::Ja, "link") => "メール内のリンク",
        (Lang::Ja, "one_click") => "ワンクリック配信停止",
        (Lang::Ja, "admin") => "担当者による変更",
        (Lang::Ja, "api") => "API",
        (Lang::Ja, "gpc") => "グローバル・プライバシー・コントロール",
        (Lang::Ja, "import") => "取り込み",
        (Lang::Ja, "reply") => "返信メール",
        (Lang::En, "preference_center") => "Preference center",
        (Lang::En, "link") => "Link in a message",
        (Lang::En, "one_click") => "One-click unsubscribe",
        (Lang::En, "admin") => "Changed by our staff",
        (Lang::En, "api") => "API",
        (Lang::En, "gpc") => "Global Privacy Control",
        (Lang::En, "import") => "Import",
        (Lang::En, "reply") => "Reply by email",
        (Lang::Ja, _) => "その他",
        (Lang::En, _) => "Other",
    }
}

/// Messages for errors, by their stable code.
pub fn error_message(lang: Lang, code: &str) -> &'static str {
    match (lang, code) {
        (Lang::Ja, "invalid_token") => {
            "このリンクは無効です。メールに記載されたリンクをそのまま開いてください。"
        }
        (Lang::En, "invalid_token") => {
            "This link is not valid. Please open the link exactly as it appears in your message."
        }
        (Lang::Ja, "expired_token") => "このリンクは有効期限が切れています。",
        (Lang::En, "expired_token") => "This link has expired.",
        (Lang::Ja, "unknown_subject") => "このリンクの宛先は登録されていません。",
        (Lang::En, "unknown_subject") => "The person this link was made for is not registered.",
        (Lang::Ja, "unknown_purpose") => "指定された利用目的はありません。",
        (Lang::En, "unknown_purpose") => "There is no such purpose.",
        (Lang::Ja, "unknown_channel") => "指定された連絡手段はありません。",
        (Lang::En, "unknown_channel") => "There is no such channel.",
        (Lang::Ja, "channel_not_applicable") => "この利用目的はその連絡手段には使われません。",
        (Lang::En, "channel_not_applicable") => "This purpose is not used on that channel.",
        (Lang::Ja, "unknown_state") => {
            "値は granted（同意）か withdrawn（撤回）で指定してください。"
        }
        (Lang::En, "unknown_state") => "The value must be granted or withdrawn.",
        (Lang::Ja, "malformed_idempotency_key") => "冪等キーの形式が正しくありません。",
        (Lang::En, "malformed_idempotency_key") => "The idempotency key is malformed.",
        (Lang::Ja, "idempotency_key_reused") => "この冪等キーは別の変更ですでに使われています。",
        (Lang::En, "idempotency_key_reused") => {
            "This idempotency key was already used for a different change."
        }
        (Lang::Ja, "email_taken") => "このメールアドレスはすでに登録されています。",
        (Lang::En, "email_taken") => "This email address is already registered.",
        (Lang::Ja, "external_id_taken") => "この外部 ID はすでに登録されています。",
        (Lang::En, "external_id_taken") => "This external id is already registered.",
        (Lang::Ja, "malformed_email") => "メールアドレスの形式が正しくありません。",
        (Lang::En, "malformed_email") => "The email address is malformed.",
        (Lang::Ja, "malformed_phone") => "電話番号は +81 で始まる国際形式で入力してください。",
        (Lang::En, "malformed_phone") => {
            "The phone number must be in international form, like +81 90 1234 5678."
        }
        (Lang::Ja, "malformed_external_id") => "外部 ID の形式が正しくありません。",
        (Lang::En, "malformed_external_id") => "The external id is malformed.",
        (Lang::Ja, "malformed_campaign") => "キャンペーン ID の形式が正しくありません。",
        (Lang::En, "malformed_campaign") => "The campaign id is malformed.",
        (Lang::Ja, "not_one_click") => "配信停止の要求には List-Unsubscribe=One-Click が必要です。",
        (Lang::En, "not_one_click") => {
            "An unsubscribe request must carry List-Unsubscribe=One-Click."
        }
        (Lang::Ja, "unauthorized") => "有効な API キーが必要です（Authorization: Bearer …）。",
        (Lang::En, "unauthorized") => "A valid API key is required (Authorization: Bearer …).",
        (Lang::Ja, "forbidden_scope") => "この API キーにはこの操作の権限がありません。",
        (Lang::En, "forbidden_scope") => "This API key is not allowed to do this.",
        (Lang::Ja, "unknown_scope") => "権限は links または suppressions で指定してください。",
        (Lang::En, "unknown_scope") => "A scope is links or suppressions.",
        (Lang::Ja, "malformed_key_name") => "API キーの名前は 1〜100 文字で指定してください。",
        (Lang::En, "malformed_key_name") => "An API key's name has 1 to 100 characters.",
        (Lang::Ja, "unknown_subject_key") => "その外部 ID またはメールアドレスの対象者はいません。",
        (Lang::En, "unknown_subject_key") => "There is no subject with that external id or email.",
        (Lang::Ja, "payload_too_large") => "送信されたデータが大きすぎます。",
        (Lang::En, "payload_too_large") => "The request is too large.",
        (Lang::Ja, "not_found") => "お探しのページは見つかりませんでした。",
        (Lang::En, "not_found") => "We could not find that page.",
        (Lang::Ja, "bad_request") => "リクエストの形式が正しくありません。",
        (Lang::En, "bad_request") => "The request is malformed.",
        (Lang::Ja, "cross_site") => "他のサイトからの送信は受け付けていません。",
        (Lang::En, "cross_site") => "Requests from other sites are not accepted.",
        (Lang::Ja, "unavailable") => {
            "ただいま処理できません。しばらくしてからもう一度お試しください。"
        }
        (Lang::En, "unavailable") => "We can't process this right now. Please try again shortly.",
        (Lang::Ja, _) => "エラーが発生しました。もう一度お試しください。",
        (Lang::En, _) => "Something went wrong. Please try again.",
    }
}

static JA: Texts = Texts {
    product: "Doui",
    tagline: "同意と配信設定の管理",
    home_intro: "Doui は、ニュースレター・広告・第三者提供について、あなたが選んだ設定を管理し、その記録を残します。",
    home_how: "設定ページは、お届けしたメールに記載されたリンクから開けます。",
    language: "言語",
    preferences_title: "配信・同意の設定",
    preferences_intro: "利用目的と連絡手段ごとに、受け取るかどうかを選べます。変更はすぐに反映され、記録されます。",
    signed_in_as: "対象",
    purpose: "利用目的",
    on: "オン",
    off: "オフ",
    your_choice: "あなたの選択",
    default_opt_in: "既定（同意するまでオフ）",
    default_opt_out: "既定（停止するまでオン）",
    not_applicable: "対象外",
    last_changed: "最終変更",
    mode_opt_in: "オプトイン",
    mode_opt_out: "オプトアウト",
    stop_all: "すべての広告・宣伝を停止",
    stop_all_help: "ニュースレターと広告のパーソナライズを、すべての連絡手段で停止します。",
    saving: "保存中…",
    saved: "保存しました",
    unchanged: "変更はありません",
    history: "変更履歴",
    history_empty: "まだ変更はありません。",
    when: "日時",
    change: "変更内容",
    via: "経路",
    not_chosen: "未選択",
    granted: "同意",
    withdrawn: "撤回",
    notice_version: "プライバシーポリシーの版",
    turn_on: "オンにする",
    turn_off: "オフにする",
    back_to_preferences: "設定ページに戻る",
    error_title: "エラー",
    not_found_title: "ページが見つかりません",
    not_found_body: "お探しのページは見つかりませんでした。",
    no_js_note: "JavaScript が無効でも、各ボタンで設定を変更できます。",
    unsubscribe_title: "配信停止",
    unsubscribe_intro: "次の配信を停止します:",
    unsubscribe_button: "配信を停止する",
    unsubscribe_already: "この配信はすでに停止されています。",
    unsubscribed_title: "配信を停止しました",
    unsubscribed_body: "次の配信を停止しました。反映のため、手続き中のメールが届く場合があります:",
    manage_preferences: "すべての配信・同意の設定を見る",
};

static EN: Texts = Texts {
    product: "Doui",
    tagline: "Consent and subscription preferences",
    home_intro: "Doui keeps the choices you make about newsletters, advertising and sharing with third parties, and a record of each one.",
    home_how: "Open your preference center from the link in any message we sent you.",
    language: "Language",
    preferences_title: "Your preferences",
    preferences_intro: "Choose, for each purpose and channel, whether you want it. Changes apply at once and are recorded.",
    signed_in_as: "For",
    purpose: "Purpose",
    on: "On",
    off: "Off",
    your_choice: "your choice",
    default_opt_in: "default (off until you agree)",
    default_opt_out: "default (on until you say no)",
    not_applicable: "Not used",
    last_changed: "Last changed",
    mode_opt_in: "Opt-in",
    mode_opt_out: "Opt-out",
    stop_all: "Stop all marketing",
    stop_all_help: "Turns off the newsletter and personalised advertising on every channel.",
    saving: "Saving…",
    saved: "Saved",
    unchanged: "Nothing to change",
    history: "History",
    history_empty: "No changes yet.",
    when: "When",
    change: "Change",
    via: "Via",
    not_chosen: "not chosen",
    granted: "granted",
    withdrawn: "withdrawn",
    notice_version: "Privacy notice version",
    turn_on: "Turn on",
    turn_off: "Turn off",
    back_to_preferences: "Back to your preferences",
    error_title: "Error",
    not_found_title: "Page not found",
    not_found_body: "We could not find that page.",
    no_js_note: "Each switch works even with JavaScript turned off.",
    unsubscribe_title: "Unsubscribe",
    unsubscribe_intro: "You will stop receiving:",
    unsubscribe_button: "Unsubscribe",
    unsubscribe_already: "You are already unsubscribed from this.",
    unsubscribed_title: "You are unsubscribed",
    unsubscribed_body: "You will no longer receive:",
    manage_preferences: "See and change all your preferences",
};
