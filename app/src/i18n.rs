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
    pub gpc_honoured: &'static str,
    pub gpc_browser: &'static str,
    pub provisions_title: &'static str,
    pub provisions_intro: &'static str,
    pub recipient_label: &'static str,
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
/// Every event source's key, in the order menus list them (the same as `Source::ALL`).
pub const SOURCE_KEYS: [&str; 9] = [
    "preference_center",
    "link",
    "one_click",
    "admin",
    "api",
    "gpc",
    "import",
    "reply",
    "expiry",
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
        (Lang::Ja, "reply") => "返信メール",
        (Lang::Ja, "expiry") => "有効期限切れ",
        (Lang::En, "preference_center") => "Preference center",
        (Lang::En, "link") => "Link in a message",
        (Lang::En, "one_click") => "One-click unsubscribe",
        (Lang::En, "admin") => "Changed by our staff",
        (Lang::En, "api") => "API",
        (Lang::En, "gpc") => "Global Privacy Control",
        (Lang::En, "import") => "Import",
        (Lang::En, "reply") => "Reply by email",
        (Lang::En, "expiry") => "Consent expired",
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
        (Lang::Ja, "narrow_link") => {
            "このリンクでは配信停止のみできます。記録のダウンロードは、設定ページの全体リンクかサインインから行ってください。"
        }
        (Lang::En, "narrow_link") => {
            "This link only unsubscribes. To download your record, open your whole preference center or sign in."
        }
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
        (Lang::Ja, "malformed_purpose") => {
            "キーは英小文字で始まり、英小文字・数字・_ だけの 48 文字以内にしてください。"
        }
        (Lang::En, "malformed_purpose") => {
            "A key starts with a lowercase letter and has only lowercase letters, digits and _ (48 at most)."
        }
        (Lang::Ja, "unknown_mode") => "方式はオプトインかオプトアウトを選んでください。",
        (Lang::En, "unknown_mode") => "Choose opt-in or opt-out.",
        (Lang::Ja, "unknown_source") => "指定された経路はありません。",
        (Lang::En, "unknown_source") => "There is no such source.",
        (Lang::Ja, "bad_date") => "日付は YYYY-MM-DD の形式で入力してください。",
        (Lang::En, "bad_date") => "Enter dates as YYYY-MM-DD.",
        (Lang::Ja, "bad_date_range") => "終了日は開始日以降にしてください。",
        (Lang::En, "bad_date_range") => "The end date must not be before the start date.",
        (Lang::Ja, "purpose_text") => {
            "名前（100 文字まで）と説明（1000 文字まで）を日本語と英語の両方で入力してください。"
        }
        (Lang::En, "purpose_text") => {
            "Give the name (up to 100 characters) and description (up to 1000) in both Japanese and English."
        }
        (Lang::Ja, "purpose_channels") => "チャネルを 1 つ以上選んでください。",
        (Lang::En, "purpose_channels") => "Choose at least one channel.",
        (Lang::Ja, "purpose_ppc_filing") => {
            "個人情報保護委員会への届出は、届出日（YYYY-MM-DD）と届出番号の両方を入力してください。"
        }
        (Lang::En, "purpose_ppc_filing") => {
            "A PPC filing needs both its date (YYYY-MM-DD) and its number."
        }
        (Lang::Ja, "unknown_kind") => "利用目的の種類が正しくありません。",
        (Lang::En, "unknown_kind") => "Unknown kind of purpose.",
        (Lang::Ja, "unknown_jurisdiction") => "法域は jp、eu、us_ca、default のいずれかです。",
        (Lang::En, "unknown_jurisdiction") => "The jurisdiction must be jp, eu, us_ca or default.",
        (Lang::Ja, "rule_jp_advertising_mail_opt_in") => {
            "特定電子メール法 第3条：日本では広告宣伝メール・SMS はオプトイン（事前の同意）でなければ送れません。日本の方式をオプトインにしてください。"
        }
        (Lang::En, "rule_jp_advertising_mail_opt_in") => {
            "Japan's Act on Specified Electronic Mail, Art. 3: advertising email and SMS in Japan need prior consent (opt-in). Set Japan's mode to opt-in."
        }
        (Lang::Ja, "rule_eu_advertising_mail_opt_in") => {
            "ePrivacy 指令 第13条：EU では広告メール・SMS はオプトインです。自社の類似商品についてのソフトオプトインの根拠を記録した場合のみオプトアウトにできます。"
        }
        (Lang::En, "rule_eu_advertising_mail_opt_in") => {
            "ePrivacy Directive Art. 13: advertising email and SMS in the EU need prior consent, unless a soft opt-in basis (the sender's own similar products) is recorded."
        }
        (Lang::Ja, "rule_jp_third_party_needs_filing") => {
            "個人情報保護法 第27条第2項：第三者提供をオプトアウトで行うには、個人情報保護委員会への届出（届出日と番号）の記録が必要です。"
        }
        (Lang::En, "rule_jp_third_party_needs_filing") => {
            "APPI Art. 27(2): opt-out provision to third parties in Japan needs a recorded filing with the Personal Information Protection Commission (date and number)."
        }
        (Lang::Ja, "rule_jp_third_party_needs_notice") => {
            "個人情報保護法 第27条第2項：オプトアウトによる第三者提供の前に、提供する項目・取得方法・提供方法と、事業者の名称・住所・代表者を公表してください（プライバシーポリシーに掲載されます）。"
        }
        (Lang::En, "rule_jp_third_party_needs_notice") => {
            "APPI Art. 27(2): before opt-out provision, publish the data items, how they are acquired and provided, and the sender's name, address and representative (the privacy policy shows them)."
        }
        (Lang::Ja, "rule_jp_third_party_forbidden") => {
            "個人情報保護法 第27条第2項ただし書：要配慮個人情報、不正に取得したデータ、オプトアウトで提供を受けたデータは、オプトアウトで第三者提供できません。"
        }
        (Lang::En, "rule_jp_third_party_forbidden") => {
            "APPI Art. 27(2) proviso: special care-required data, improperly acquired data and data itself received by opt-out can never be provided to third parties by opt-out."
        }
        (Lang::Ja, "rule_eu_consent_required") => {
            "GDPR 第6条・第7条：EU では第三者提供とターゲティング広告には同意（オプトイン）が必要です。"
        }
        (Lang::En, "rule_eu_consent_required") => {
            "GDPR Arts. 6–7: in the EU, sharing with third parties and targeted advertising need consent (opt-in)."
        }
        (Lang::Ja, "bad_request") => "リクエストの形式が正しくありません。",
        (Lang::En, "bad_request") => "The request is malformed.",
        (Lang::Ja, "cross_site") => "他のサイトからの送信は受け付けていません。",
        (Lang::En, "cross_site") => "Requests from other sites are not accepted.",
        (Lang::Ja, "unavailable") => {
            "ただいま処理できません。しばらくしてからもう一度お試しください。"
        }
        (Lang::En, "unavailable") => "We can't process this right now. Please try again shortly.",
        (Lang::Ja, "sign_in_required") => "ログインしてください。",
        (Lang::En, "sign_in_required") => "Please sign in.",
        (Lang::Ja, "forbidden_role") => "この操作を行う権限がありません。",
        (Lang::En, "forbidden_role") => "Your role does not allow this.",
        (Lang::Ja, "sign_in_failed") => "メールアドレスまたはパスワードが正しくありません。",
        (Lang::En, "sign_in_failed") => "The email address or password is not correct.",
        (Lang::Ja, "totp_required") => "確認コード（認証アプリの 6 桁）を入力してください。",
        (Lang::En, "totp_required") => "Enter the 6-digit code from your authenticator app.",
        (Lang::Ja, "totp_invalid") => "確認コードが正しくないか、すでに使われています。",
        (Lang::En, "totp_invalid") => "The code is not correct or was already used.",
        (Lang::Ja, "totp_enrollment_required") => {
            "二要素認証の登録が必要です。管理者に `doui admin totp` の実行を依頼してください。"
        }
        (Lang::En, "totp_enrollment_required") => {
            "Two-factor sign-in is required. Ask an owner to run `doui admin totp` for your account."
        }
        (Lang::Ja, "acquisition_invalid") => {
            "提供元の名称・住所・代表者、取得の経緯、受け取った項目をすべて入力してください（個人情報保護法 第30条）。"
        }
        (Lang::En, "acquisition_invalid") => {
            "Give the provider's name, address and representative, how they acquired the data, and the data items (APPI Art. 30)."
        }
        (Lang::Ja, "unknown_recipient") => "その提供先は登録されていません。",
        (Lang::En, "unknown_recipient") => "There is no such recipient.",
        (Lang::Ja, "recipient_invalid") => {
            "提供先には ID（英小文字・数字・-・_）、名称、住所、代表者が必要です。"
        }
        (Lang::En, "recipient_invalid") => {
            "A recipient needs an id (lower-case letters, digits, - and _), a name, an address and a representative."
        }
        (Lang::Ja, "provision_items") => {
            "本人を識別する項目と提供する項目を、それぞれ 1 つ以上指定してください。"
        }
        (Lang::En, "provision_items") => "Give at least one identifying item and one data item.",
        (Lang::Ja, "provision_not_allowed") => {
            "本人が同意していないか、提供の停止を求めています。提供しないでください。"
        }
        (Lang::En, "provision_not_allowed") => {
            "The person has not agreed or has asked to stop: do not provide their data."
        }
        (Lang::Ja, "opt_in_link_invalid") => {
            "この確認リンクは使用済みか、有効期限が切れています。もう一度お申し込みください。"
        }
        (Lang::En, "opt_in_link_invalid") => {
            "This confirmation link was already used or has expired. Please subscribe again."
        }
        (Lang::Ja, "sign_in_link_invalid") => {
            "このログインリンクは使用済みか期限切れです。新しいリンクを請求してください。"
        }
        (Lang::En, "sign_in_link_invalid") => {
            "This sign-in link was already used or has expired. Please ask for a new one."
        }
        (Lang::Ja, "csrf") => {
            "フォームの有効期限が切れたか、Cookie が無効です。ページを再読み込みしてもう一度お試しください。"
        }
        (Lang::En, "csrf") => {
            "This form has expired or cookies are blocked. Reload the page and try again."
        }
        (Lang::Ja, "rate_limited") => {
            "試行回数が多すぎます。しばらく待ってからもう一度お試しください。"
        }
        (Lang::En, "rate_limited") => "Too many attempts. Please wait a while and try again.",
        (Lang::Ja, "password_too_short") => "パスワードは 12 文字以上にしてください。",
        (Lang::En, "password_too_short") => "The password must have at least 12 characters.",
        (Lang::Ja, "password_too_long") => "パスワードが長すぎます。",
        (Lang::En, "password_too_long") => "The password is too long.",
        (Lang::Ja, "password_common") => "推測されやすいパスワードです。別のものにしてください。",
        (Lang::En, "password_common") => "This password is too easy to guess. Choose another.",
        (Lang::Ja, "unknown_role") => "役割は viewer、operator、owner のいずれかです。",
        (Lang::En, "unknown_role") => "A role is viewer, operator or owner.",
        (Lang::Ja, "unknown_admin") => "その管理者はいません。",
        (Lang::En, "unknown_admin") => "There is no such admin.",
        (Lang::Ja, "last_owner") => "最後のオーナーは変更・無効化できません。",
        (Lang::En, "last_owner") => "The last owner cannot be demoted or disabled.",
        (Lang::Ja, "reason_required") => "代理で変更する理由を入力してください。",
        (Lang::En, "reason_required") => {
            "Enter the reason for changing this on the person's behalf."
        }
        (Lang::Ja, "unknown_subject_id") => "その対象者はいません。",
        (Lang::En, "unknown_subject_id") => "There is no such subject.",
        _ => server_message(lang, code).unwrap_or(match lang {
            Lang::Ja => "エラーが発生しました。もう一度お試しください。",
            Lang::En => "Something went wrong. Please try again.",
        }),
    }
}

/// Messages only the server gives (owners' settings): kept out of the browser's bundle.
#[cfg(feature = "ssr")]
fn server_message(lang: Lang, code: &str) -> Option<&'static str> {
    Some(match (lang, code) {
        (Lang::Ja, "malformed_notice_version") => {
            "版には英数字と . - _ だけを使い、64 文字以内にしてください。"
        }
        (Lang::En, "malformed_notice_version") => {
            "A version uses letters, digits, '.', '-' and '_' only, at most 64 characters."
        }
        (Lang::Ja, "notice_version_taken") => "その版はすでに公開されています。",
        (Lang::En, "notice_version_taken") => "That version is already published.",
        (Lang::Ja, "notice_text_missing") => "日本語と英語の両方の本文を入力してください。",
        (Lang::En, "notice_text_missing") => "Give the notice's text in both Japanese and English.",
        (Lang::Ja, "notice_text_too_long") => "本文が長すぎます（各言語 100,000 文字まで）。",
        (Lang::En, "notice_text_too_long") => {
            "The text is too long (at most 100,000 characters per language)."
        }
        (Lang::Ja, "notice_summary_too_long") => "変更の概要が長すぎます（2,000 文字まで）。",
        (Lang::En, "notice_summary_too_long") => {
            "The summary of changes is too long (at most 2,000 characters)."
        }
        (Lang::Ja, "notice_summary_missing") => {
            "重要な変更には、日本語と英語で変更の概要を書いてください（本人に示されます）。"
        }
        (Lang::En, "notice_summary_missing") => {
            "A material change needs a summary in Japanese and English: people are shown it."
        }
        (Lang::Ja, "notice_effective_before_latest") => {
            "施行日は、公開済みの最新の版の施行日より前にはできません。"
        }
        (Lang::En, "notice_effective_before_latest") => {
            "A version cannot take effect before the latest published one."
        }
        (Lang::Ja, "notice_material_needs_previous") => {
            "最初の版は重要な変更にできません（比べる前の版がありません）。"
        }
        (Lang::En, "notice_material_needs_previous") => {
            "The first version cannot be a material change: there is nothing to compare it with."
        }
        (Lang::Ja, "bad_effective_at") => {
            "施行日時は 2026-12-01T00:00:00Z の形式で入力してください。"
        }
        (Lang::En, "bad_effective_at") => {
            "Give the effective time as 2026-12-01T00:00:00Z (RFC 3339)."
        }
        (Lang::Ja, "erased_identifier") => {
            "このメールアドレスまたは電話番号の方は、ご本人の求めにより消去済みです。登録できません（ご本人が自ら申し込む場合を除く）。"
        }
        (Lang::En, "erased_identifier") => {
            "This email address or phone number belongs to a person erased at their request: it cannot be added again (unless they sign up themselves)."
        }
        (Lang::Ja, "purpose_validity_days") => {
            "同意の有効期間は 1〜3650 日で指定してください（空欄は撤回まで）。"
        }
        (Lang::En, "purpose_validity_days") => {
            "A consent's validity is 1 to 3650 days (empty: until withdrawn)."
        }
        (Lang::Ja, "erase_unconfirmed") => "消去してよいことを確認するチェックを入れてください。",
        (Lang::En, "erase_unconfirmed") => "Tick the box to confirm the erasure.",
        (Lang::Ja, "already_erased") => "この対象者はすでに消去されています。",
        (Lang::En, "already_erased") => "This subject is already erased.",
        (Lang::Ja, "nothing_to_reconfirm") => "再確認が必要な同意はありません。",
        (Lang::En, "nothing_to_reconfirm") => "Nothing here needs re-confirming.",
        _ => return None,
    })
}

#[cfg(not(feature = "ssr"))]
fn server_message(_lang: Lang, _code: &str) -> Option<&'static str> {
    None
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
    signin_title: "ログイン",
    signin_intro: "登録済みのメールアドレスを入力してください。ログイン用のリンクをお送りします。",
    email_label: "メールアドレス",
    send_link: "リンクを送る",
    signin_sent: "入力されたアドレスが登録されていれば、ログイン用のリンクをお送りしました。15 分以内に開いてください。",
    signed_out: "ログアウトしました。",
    continue_title: "ログインを続ける",
    continue_intro: "下のボタンを押すとログインし、設定ページを開きます。",
    continue_button: "続ける",
    sign_out: "ログアウト",
    sign_out_everywhere: "すべての端末からログアウト",
    request_new_link: "メールで新しいリンクを受け取る",
    admin_title: "管理コンソール",
    admin_signin_title: "管理者ログイン",
    password_label: "パスワード",
    code_label: "確認コード（設定している場合）",
    sign_in: "ログイン",
    search: "検索",
    search_help: "メールアドレス・電話番号・外部 ID の完全一致、または前方一致で検索します。空欄なら外部 ID 順に一覧します。",
    subjects: "対象者",
    no_results: "該当する対象者はいません。",
    external_id: "外部 ID",
    phone: "電話番号",
    events: "イベント履歴",
    source: "経路",
    actor: "実行者",
    origin: "送信元",
    reason: "理由",
    change_for_subject: "本人に代わって変更",
    reason_help: "例：電話で配信停止の依頼を受けた（記録に残ります）",
    state_label: "状態",
    apply: "変更する",
    admins: "管理者",
    api_keys: "API キー",
    role: "役割",
    two_factor: "二要素認証",
    disabled: "無効",
    created: "作成日時",
    name: "名前",
    scopes: "権限",
    create_key: "キーを作成",
    revoke: "失効させる",
    key_once: "このキーは今回だけ表示されます。安全な場所に保存してください。",
    save: "保存",
    yes: "はい",
    no: "いいえ",
    revoked: "失効",
    active: "有効",
    stay_signed_in: "この端末でログインしたままにする",
    channel_label: "連絡手段",
    chain_title: "監査チェーン",
    chain_intro: "すべてのイベントは記録直後にハッシュチェーンへ封印されます。編集・削除・挿入・並べ替えがあれば検証で見つかります。",
    chain_length: "封印済みイベント",
    chain_head: "先頭の封印",
    chain_verify: "チェーン全体を今すぐ検証",
    chain_ok: "検証済み：すべてのイベントが封印どおりです。",
    chain_broken: "改ざんを検出しました",
    chain_checkpoint: "最新の署名付きチェックポイント",
    chain_no_checkpoint: "署名付きチェックポイントはまだありません（チェーンが伸びると1分以内に作成されます）。",
    chain_public_key: "検証用の公開鍵（Ed25519）",
    chain_checkpoints_ok: "件の署名付きチェックポイントとも一致しました。",
    chain_download: "チェックポイントをダウンロード（JSON Lines）",
    chain_keep: "チェックポイントを外部（監査人・別の保管先）に保存しておけば、後からチェーン全体が書き換えられても検出できます：doui verify --checkpoints ファイル --public-key 公開鍵",
    record_title: "あなたの同意記録",
    record_intro: "現在の選択とすべての変更履歴を、署名付きの同意レシート（ISO/IEC TS 27560、Kantara CR v1.1）とともに JSON でダウンロードできます。",
    record_download: "同意記録をダウンロード（JSON）",
    filter_any: "すべて",
    filter_from: "開始日",
    filter_until: "終了日",
    filter_apply: "絞り込む",
    filter_clear: "条件をクリア",
    older_events: "さらに古いイベント",
    no_events: "該当するイベントはありません。",
    export_csv: "CSV でエクスポート",
    export_jsonl: "JSON Lines でエクスポート",
    export_progress: "エクスポート中",
    export_help: "表示中の条件に一致するすべてのイベントを、古い順にストリーミングで書き出します。",
    event_stream: "全イベント",
    charts: "グラフ",
    chart_by_purpose: "目的・チャネル別のオプトイン（実線）とオプトアウト（破線）",
    chart_by_source: "経路別の変更",
    chart_empty: "この期間のイベントはありません。",
    subject_column: "対象者",
    next_page: "次へ",
    previous_page: "前へ",
    purposes_title: "目的とチャネル",
    purposes_intro: "目的を追加・変更できます。方式（オプトイン／オプトアウト）の変更は今後にだけ適用され、過去のイベントは書き換えられません。すべての保存は版として記録されます。",
    purpose_key: "キー（英小文字・数字・_）",
    name_ja_label: "名前（日本語）",
    name_en_label: "名前（英語）",
    description_ja_label: "説明（日本語）",
    description_en_label: "説明（英語）",
    mode_label: "方式",
    mode_opt_in_long: "オプトイン（同意があるまで送らない）",
    mode_opt_out_long: "オプトアウト（拒否があるまで適用）",
    marketing_label: "広告・宣伝（「すべての広告を停止」の対象）",
    channels_label: "チャネル",
    add_purpose: "目的を追加",
    versions: "変更履歴",
    version_label: "版",
    changed_by: "変更者",
    kind_label: "種類（法律上の扱い）",
    kind_advertising: "広告宣伝メッセージ",
    kind_ad_targeting: "ターゲティング広告",
    kind_third_party_sharing: "第三者提供",
    kind_other: "その他",
    jurisdiction_modes_label: "法域ごとの方式",
    same_as_default: "既定と同じ",
    jurisdiction_jp: "日本",
    jurisdiction_eu: "EU",
    jurisdiction_us_ca: "米国カリフォルニア州",
    jurisdiction_default: "その他の地域",
    legal_label: "法的根拠",
    soft_opt_in_label: "EU ソフトオプトインの根拠（自社の類似商品）",
    ppc_filed_on_label: "個人情報保護委員会への届出日",
    ppc_number_label: "届出番号",
    sensitive_label: "要配慮個人情報を含む",
    improperly_acquired_label: "不正に取得したデータ",
    received_by_opt_out_label: "オプトアウトで提供を受けたデータ",
    data_items_label: "提供する個人データの項目",
    acquired_by_label: "取得の方法",
    provided_by_label: "提供の方法",
    jurisdiction_label: "法域",
    gpc_honoured: "オプトアウト要求を受け付けました：ブラウザのグローバル・プライバシー・コントロール（GPC）に従い、ターゲティング広告と第三者提供を停止しています。",
    gpc_browser: "お使いのブラウザはグローバル・プライバシー・コントロール（GPC）を有効にしています。Doui はこの信号に従います。",
    provisions_title: "第三者への提供の記録",
    provisions_intro: "あなたの個人データを第三者に提供した記録です（個人情報保護法 第29条）。提供を止めるには「第三者への情報提供」をオフにしてください。",
    recipient_label: "提供先",
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
    signin_title: "Sign in",
    signin_intro: "Enter the email address we know you by. We will send you a sign-in link.",
    email_label: "Email address",
    send_link: "Send me a link",
    signin_sent: "If that address is registered, a sign-in link is on its way. Open it within 15 minutes.",
    signed_out: "You have signed out.",
    continue_title: "Continue signing in",
    continue_intro: "Press the button to sign in and open your preferences.",
    continue_button: "Continue",
    sign_out: "Sign out",
    sign_out_everywhere: "Sign out everywhere",
    request_new_link: "Get a new link by email",
    admin_title: "Admin console",
    admin_signin_title: "Admin sign-in",
    password_label: "Password",
    code_label: "Code (if you use an authenticator app)",
    sign_in: "Sign in",
    search: "Search",
    search_help: "Finds an email address, phone number or external id, exactly or by its beginning. Empty lists by external id.",
    subjects: "Subjects",
    no_results: "No subject matches.",
    external_id: "External id",
    phone: "Phone",
    events: "Events",
    source: "Source",
    actor: "Actor",
    origin: "Origin",
    reason: "Reason",
    change_for_subject: "Change on the person's behalf",
    reason_help: "E.g. asked by phone to stop (this is recorded)",
    state_label: "State",
    apply: "Apply",
    admins: "Admins",
    api_keys: "API keys",
    role: "Role",
    two_factor: "Two-factor",
    disabled: "Disabled",
    created: "Created",
    name: "Name",
    scopes: "Scopes",
    create_key: "Create key",
    revoke: "Revoke",
    key_once: "This key is shown only now. Store it somewhere safe.",
    save: "Save",
    yes: "Yes",
    no: "No",
    revoked: "Revoked",
    active: "Active",
    stay_signed_in: "Stay signed in on this device",
    channel_label: "Channel",
    chain_title: "Audit chain",
    chain_intro: "Every event is sealed into a hash chain just after it is recorded. Verifying finds any edit, deletion, insertion or reordering.",
    chain_length: "Events sealed",
    chain_head: "Head seal",
    chain_verify: "Verify the whole chain now",
    chain_ok: "Verified: every event is as it was sealed.",
    chain_broken: "Tampering found",
    chain_checkpoint: "Latest signed checkpoint",
    chain_no_checkpoint: "No signed checkpoint yet (one is made within a minute of the chain growing).",
    chain_public_key: "Public key to verify with (Ed25519)",
    chain_checkpoints_ok: "signed checkpoints match it too.",
    chain_download: "Download the checkpoints (JSON Lines)",
    chain_keep: "Keep checkpoints outside (an auditor, another store): if the whole chain is ever rewritten, doui verify --checkpoints FILE --public-key KEY finds it.",
    record_title: "Your consent record",
    record_intro: "Download your current choices and every change, with a signed consent receipt (ISO/IEC TS 27560, Kantara CR v1.1), as JSON.",
    record_download: "Download my consent record (JSON)",
    filter_any: "Any",
    filter_from: "From",
    filter_until: "Until",
    filter_apply: "Filter",
    filter_clear: "Clear",
    older_events: "Older events",
    no_events: "No events match.",
    export_csv: "Export CSV",
    export_jsonl: "Export JSON Lines",
    export_progress: "Exporting",
    export_help: "Streams every event matching these filters, oldest first.",
    event_stream: "All events",
    charts: "Charts",
    chart_by_purpose: "Opt-ins (solid) and opt-outs (dashed) by purpose and channel",
    chart_by_source: "Changes by source",
    chart_empty: "No events in this period.",
    subject_column: "Subject",
    next_page: "Next",
    previous_page: "Previous",
    purposes_title: "Purposes and channels",
    purposes_intro: "Add or change purposes. A change of mode (opt-in / opt-out) applies from now on and never rewrites past events. Every save is recorded as a version.",
    purpose_key: "Key (lowercase letters, digits, _)",
    name_ja_label: "Name (Japanese)",
    name_en_label: "Name (English)",
    description_ja_label: "Description (Japanese)",
    description_en_label: "Description (English)",
    mode_label: "Mode",
    mode_opt_in_long: "Opt-in (nothing until the person says yes)",
    mode_opt_out_long: "Opt-out (applies until the person says no)",
    marketing_label: "Marketing (covered by \"stop all marketing\")",
    channels_label: "Channels",
    add_purpose: "Add a purpose",
    versions: "Versions",
    version_label: "Version",
    changed_by: "Changed by",
    kind_label: "Kind (how the law treats it)",
    kind_advertising: "Advertising messages",
    kind_ad_targeting: "Targeted advertising",
    kind_third_party_sharing: "Sharing with third parties",
    kind_other: "Other",
    jurisdiction_modes_label: "Mode by jurisdiction",
    same_as_default: "Same as default",
    jurisdiction_jp: "Japan",
    jurisdiction_eu: "EU",
    jurisdiction_us_ca: "US – California",
    jurisdiction_default: "Elsewhere",
    legal_label: "Legal basis",
    soft_opt_in_label: "EU soft opt-in basis (own similar products)",
    ppc_filed_on_label: "PPC filing date",
    ppc_number_label: "PPC filing number",
    sensitive_label: "Includes special care-required data (要配慮個人情報)",
    improperly_acquired_label: "Improperly acquired data",
    received_by_opt_out_label: "Data itself received by opt-out",
    data_items_label: "Personal data items provided",
    acquired_by_label: "How the data is acquired",
    provided_by_label: "How the data is provided",
    jurisdiction_label: "Jurisdiction",
    gpc_honoured: "Opt-Out Request Honored: following your browser's Global Privacy Control signal, your data is not used for targeted advertising or shared with third parties.",
    gpc_browser: "Your browser has Global Privacy Control turned on. Doui honours it.",
    provisions_title: "Provided to third parties",
    provisions_intro: "Records of your personal data provided to third parties (APPI Art. 29). To stop, switch off \"Sharing with third parties\".",
    recipient_label: "Recipient",
};
