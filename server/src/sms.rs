//! Text messages sent back to the sender's number (R55): the SMS provider posts each inbound
//! message to `/inbound/sms` as a form (`From`, `To`, `Body`, `MessageSid`…, the shape Twilio
//! and the providers that copy it use), signed with the account's auth token
//! (`X-Twilio-Signature`). The keywords' rules are the services' (`sms_received`); this handler
//! authenticates, reads the form and answers in TwiML.

use app::{api::ClientIp, services::InboundSms};
use axum::{
    Json,
    body::to_bytes,
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

use crate::state::AppState;

/// The header Twilio signs its requests with.
pub const SIGNATURE_HEADER: &str = "x-twilio-signature";

/// An inbound message's form is a few KB (Twilio sends at most 1,600 characters of text and a
/// handful of addressing fields): 64 KiB at most.
const MAX_FORM: usize = 64 * 1024;

/// Twilio's request signature: base64 of HMAC-SHA1, keyed by the auth token, over the full URL
/// the request was sent to, followed by each POST parameter's name and value (sorted by name,
/// then value), concatenated without separators.
pub fn twilio_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac =
        Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()).expect("HMAC takes keys of any size");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `presented` is the signature of this request, compared in constant time.
pub fn twilio_signature_valid(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
    presented: &str,
) -> bool {
    let expected = twilio_signature(auth_token, url, params);
    expected
        .as_bytes()
        .ct_eq(presented.trim().as_bytes())
        .into()
}

/// TwiML that sends `reply` back to the sender, or sends nothing.
pub fn twiml(reply: Option<&str>) -> String {
    let head = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
    match reply {
        Some(text) => format!(
            "{head}<Response><Message>{}</Message></Response>",
            xml_escape(text)
        ),
        None => format!("{head}<Response/>"),
    }
}

/// Text as XML character data (and attribute values): the five special characters escaped,
/// characters XML 1.0 cannot carry dropped.
fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}') => {}
            c => out.push(c),
        }
    }
    out
}

fn refused(status: StatusCode, code: &str) -> Response {
    (status, Json(serde_json::json!({ "code": code }))).into_response()
}

/// `POST /inbound/sms`: 200 with TwiML (the answer to a keyword, or nothing); 403 without a
/// valid signature; 404 when no auth token is configured; 429 past the flood limit; 400 for a
/// body that is not a form or a keyword without a usable `MessageSid`.
pub async fn inbound(State(state): State<AppState>, req: Request) -> Response {
    let Some(token) = state.sms_auth_token.as_deref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let services = &state.services;
    let ip = req.extensions().get::<ClientIp>().map(|c| c.0);
    if let Err(r) = services.inbound_sms_flood(ip) {
        let mut res = refused(StatusCode::TOO_MANY_REQUESTS, r.code);
        if let Some(secs) = r.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        return res;
    }
    let signature = req
        .headers()
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // The URL the provider was given, rebuilt from the configured public URL: behind a proxy
    // the Host header and scheme this server sees are not the ones that were signed.
    let url = format!(
        "{}{}{}",
        services.settings.public_url,
        req.uri().path(),
        req.uri()
            .query()
            .map(|q| format!("?{q}"))
            .unwrap_or_default()
    );
    let bytes = match to_bytes(req.into_body(), MAX_FORM).await {
        Ok(b) => b,
        Err(_) => return refused(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
    };
    let Ok(params) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes) else {
        return refused(StatusCode::BAD_REQUEST, "bad_request");
    };
    if !signature.is_some_and(|s| twilio_signature_valid(token, &url, &params, &s)) {
        tracing::warn!("inbound sms with a missing or wrong signature");
        return refused(StatusCode::FORBIDDEN, "bad_signature");
    }
    let field = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let message = InboundSms {
        provider: "twilio",
        message_id: field("MessageSid")
            .or_else(|| field("SmsMessageSid"))
            .or_else(|| field("SmsSid"))
            .unwrap_or_default(),
        from: field("From").unwrap_or_default(),
        body: field("Body").unwrap_or_default(),
    };
    match services.sms_received(message).await {
        Ok(answer) => (
            [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
            twiml(answer.reply.as_deref()),
        )
            .into_response(),
        Err(r) if r.code == "malformed_message_id" => refused(StatusCode::BAD_REQUEST, r.code),
        Err(r) => {
            tracing::warn!(code = r.code, "inbound sms failed");
            // The provider may try again later; the message id keeps a retry from writing twice.
            refused(StatusCode::SERVICE_UNAVAILABLE, r.code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twiml_escapes_the_answer() {
        assert_eq!(
            twiml(Some("A & B <co> \"q\" 'x'\u{7}")),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>A &amp; B &lt;co&gt; \
             &quot;q&quot; &apos;x&apos;</Message></Response>"
        );
        assert_eq!(
            twiml(None),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>"
        );
    }

    #[test]
    fn the_signature_covers_the_url_and_every_parameter() {
        let params = vec![
            ("To".to_owned(), "+81312345678".to_owned()),
            ("Body".to_owned(), "STOP".to_owned()),
        ];
        let url = "https://doui.test/inbound/sms";
        let good = twilio_signature("token-0123456789", url, &params);
        assert!(twilio_signature_valid(
            "token-0123456789",
            url,
            &params,
            &good
        ));
        // Parameter order does not matter (they are sorted); anything else does.
        let reversed: Vec<_> = params.iter().rev().cloned().collect();
        assert!(twilio_signature_valid(
            "token-0123456789",
            url,
            &reversed,
            &good
        ));
        let mut changed = params.clone();
        changed[1].1 = "START".into();
        assert!(!twilio_signature_valid(
            "token-0123456789",
            url,
            &changed,
            &good
        ));
        assert!(!twilio_signature_valid(
            "token-0123456789",
            "https://doui.test/inbound/sms?x=1",
            &params,
            &good
        ));
        assert!(!twilio_signature_valid(
            "other-token-0000",
            url,
            &params,
            &good
        ));
        assert!(!twilio_signature_valid(
            "token-0123456789",
            url,
            &params,
            ""
        ));
    }
}
