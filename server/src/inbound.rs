//! Replies to `mailto:` unsubscribe addresses (RFC 2369; the source articles list 返信メールの送信
//! among the ways to opt out). The mail provider posts each inbound message to `/inbound/email`
//! in one of the common shapes: form fields `to`/`recipient`/`envelope` (multipart or
//! url-encoded, as SendGrid Inbound Parse and Mailgun routes send), or JSON with `To` /
//! `OriginalRecipient` (as Postmark sends). Authenticated by a shared secret.

use app::domain::{Actor, Origin, Provenance, Source};
use axum::{
    Json,
    body::to_bytes,
    extract::{Request, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use subtle::ConstantTimeEq;

use crate::http::{AppState, form_fields};

/// Inbound messages are small (only the addressing is read): 1 MiB at most.
const MAX_INBOUND: usize = 1024 * 1024;

fn authorised(secret: &str, authorization: Option<&str>) -> bool {
    let presented = match authorization {
        Some(h) if h.starts_with("Bearer ") => h["Bearer ".len()..].trim().to_owned(),
        Some(h) if h.starts_with("Basic ") => STANDARD
            .decode(h["Basic ".len()..].trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.split_once(':').map(|(_, p)| p.to_owned()))
            .unwrap_or_default(),
        _ => return false,
    };
    presented.as_bytes().ct_eq(secret.as_bytes()).into()
}

/// Every address in a header-like value (`"Name" <a@b>, c@d`).
fn addresses(value: &str) -> Vec<String> {
    value
        .split([',', ';', ' ', '\t', '\n', '\r', '"', '[', ']'])
        .map(|t| t.trim_matches(['<', '>', '\'']))
        .filter(|t| t.contains('@'))
        .map(|t| t.split('?').next().unwrap_or(t).to_owned())
        .collect()
}

async fn recipients(req: Request) -> Result<Vec<String>, StatusCode> {
    let json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    let status = |e: &str| {
        if e == "payload_too_large" {
            StatusCode::PAYLOAD_TOO_LARGE
        } else {
            StatusCode::BAD_REQUEST
        }
    };
    if !json {
        let fields = form_fields(req, &["to", "recipient", "envelope"], MAX_INBOUND)
            .await
            .map_err(status)?;
        return Ok(fields
            .iter()
            .flat_map(|(_, value)| addresses(value))
            .collect());
    }
    let bytes = to_bytes(req.into_body(), MAX_INBOUND)
        .await
        .map_err(|_| StatusCode::PAYLOAD_TOO_LARGE)?;
    let v: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| StatusCode::BAD_REQUEST)?;
    Ok(["OriginalRecipient", "To", "to", "recipient"]
        .iter()
        .filter_map(|key| v.get(key).and_then(|x| x.as_str()))
        .flat_map(addresses)
        .collect())
}

/// `POST /inbound/email`: 200 with how many unsubscribes it made (a message to no genuine code is
/// accepted and ignored, so the provider does not retry it); 401 without the secret; 404 when
/// replies are not configured.
pub async fn email(State(state): State<AppState>, req: Request) -> Response {
    let Some(secret) = state.inbound_secret.as_deref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !authorised(
        secret,
        req.headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
    ) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
        )
            .into_response();
    }
    let mut found = match recipients(req).await {
        Ok(r) => r,
        Err(status) => return status.into_response(),
    };
    found.sort();
    found.dedup();
    let services = &state.services;
    let mut unsubscribed = 0;
    for address in &found {
        let provenance = Provenance {
            occurred_at: app::services::now(),
            source: Source::Reply,
            actor: Actor::Subject,
            notice_version: None, // the version in force, set by the services
            origin: Origin::default(),
            idempotency_key: None,
            reason: None,
            campaign: None,
            collection_point: None,
            import_batch: None,
            form_url: None,
            proof_ref: None,
        };
        match services.unsubscribe_by_reply(address, provenance).await {
            Ok(true) => unsubscribed += 1,
            Ok(false) => {}
            Err(r) => {
                tracing::warn!(code = r.code, "reply unsubscribe failed");
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Json(serde_json::json!({"code": r.code})),
                )
                    .into_response();
            }
        }
    }
    tracing::info!(recipients = found.len(), unsubscribed, "inbound reply");
    Json(serde_json::json!({ "unsubscribed": unsubscribed })).into_response()
}
