//! Texts of webhooks (issue 32): the refusal codes of an endpoint, and the console's page.

use crate::domain::Lang;

/// The message for a webhook code, or `None` when the code is not one of webhooks'.
pub fn webhook_message(lang: Lang, code: &str) -> Option<&'static str> {
    Some(match (lang, code) {
        (Lang::Ja, "unknown_webhook") => "そのWebhookエンドポイントはありません。",
        (Lang::En, "unknown_webhook") => "There is no such webhook endpoint.",
        (Lang::Ja, "webhook_url_invalid") => {
            "URL は https:// で始まる 2,000 文字までの URL で、ユーザー名やパスワードを含められません。"
        }
        (Lang::En, "webhook_url_invalid") => {
            "The URL must be an https:// URL of at most 2,000 characters, without a user name or password."
        }
        (Lang::Ja, "webhook_https_required") => {
            "https が必要です（http は設定 webhook_allow_hosts で許可したホストだけに使えます）。"
        }
        (Lang::En, "webhook_https_required") => {
            "https is required (http only for hosts allowed by the webhook_allow_hosts setting)."
        }
        (Lang::Ja, "webhook_address_forbidden") => {
            "この URL のホストはループバック、プライベート、リンクローカルまたはメタデータのアドレスを指すため使えません。"
        }
        (Lang::En, "webhook_address_forbidden") => {
            "This URL's host points to a loopback, private, link-local or metadata address, which may not be called."
        }
        (Lang::Ja, "webhook_host_unknown") => "この URL のホスト名を解決できません。",
        (Lang::En, "webhook_host_unknown") => "This URL's host name does not resolve.",
        (Lang::Ja, "webhook_description_too_long") => "説明は 500 文字までです。",
        (Lang::En, "webhook_description_too_long") => "The description is at most 500 characters.",
        (Lang::Ja, "unknown_webhook_kind") => "イベントの種類は consent.changed です。",
        (Lang::En, "unknown_webhook_kind") => "The event kind must be consent.changed.",
        (Lang::Ja, "webhook_secret_unreadable") => {
            "署名の秘密鍵を復号できません（データキーが変わった可能性があります）。秘密鍵を再発行してください。"
        }
        (Lang::En, "webhook_secret_unreadable") => {
            "The signing secret cannot be decrypted (the data key may have changed). Rotate the secret."
        }
        (Lang::Ja, "bad_cursor") => "カーソルは 0 以上の整数です。",
        (Lang::En, "bad_cursor") => "The cursor is a whole number of at least 0.",
        _ => {
            return super::do_not_sell::do_not_sell_message(lang, code)
                .or_else(|| super::pause::pause_message(lang, code))
                .or_else(|| super::forms::form_message(lang, code));
        }
    })
}
