//! The one error type server functions return: a stable code and a message in the user's language.

use serde::{Deserialize, Serialize};
use server_fn_error::*;

use crate::{domain::Lang, i18n::error_message};

mod server_fn_error {
    pub use leptos::server_fn::{
        codec::JsonEncoding,
        error::{FromServerFnError, ServerFnErrorErr},
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(lang: Lang, code: &str) -> Self {
        Self {
            code: code.to_owned(),
            message: error_message(lang, code).to_owned(),
        }
    }

    /// The HTTP status a code is answered with.
    pub fn status(code: &str) -> u16 {
        match code {
            "unauthorized"
            | "metrics_token_required"
            | "sign_in_required"
            | "sign_in_failed"
            | "totp_required"
            | "totp_invalid"
            | "totp_enrollment_required" => 401,
            "invalid_token"
            | "expired_token"
            | "link_revoked"
            | "grant_confirmation_mailed"
            | "sign_in_to_confirm"
            | "grant_link_invalid"
            | "unknown_subject"
            | "cross_site"
            | "forbidden_scope"
            | "narrow_link"
            | "forbidden_role"
            | "csrf"
            | "sign_in_link_invalid"
            | "opt_in_link_invalid" => 403,
            "not_found"
            | "unknown_subject_key"
            | "unknown_admin"
            | "unknown_subject_id"
            | "unknown_recipient" => 404,
            "provision_not_allowed"
            | "collection_point_taken"
            | "collection_point_retired"
            | "grant_link_used"
            | "marketing_objection"
            | "notice_version_taken"
            | "nothing_to_reconfirm"
            | "no_recent_unsubscribe"
            | "do_not_sell_recent"
            | "already_allowed"
            | "no_email"
            | "erased_identifier"
            | "already_erased"
            | "not_permitted" => 409,
            "last_owner" => 409,
            "chain_walk_running" => 409,
            "nothing_to_pause" | "not_paused" => 409,
            "rate_limited" => 429,
            "idempotency_key_reused" => 409,
            "method_not_allowed" => 405,
            "payload_too_large" | "too_many_permissions" | "batch_too_large" => 413,
            "batch_refused" => 422,
            "unknown_import" | "unknown_webhook" | "unknown_form" => 404,
            "form_retired" => 410,
            "form_token_invalid" | "origin_not_allowed" => 403,
            "form_changed_meanwhile" => 409,
            "unknown_import_format" => 415,
            "channel_not_applicable" => 422,
            "unavailable" => 503,
            "internal" => 500,
            _ => 400,
        }
    }
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let code = match value {
            ServerFnErrorErr::Args(_)
            | ServerFnErrorErr::MissingArg(_)
            | ServerFnErrorErr::Deserialization(_) => "bad_request",
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => "unavailable",
            _ => "internal",
        };
        // The language is not known here; the server's handler re-localises by code.
        ApiError::new(Lang::En, code)
    }
}
