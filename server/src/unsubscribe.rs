//! RFC 8058 one-click unsubscribe: `POST /u/<token>`. No cookie, login or CSRF token (the signed
//! token in the URL is the authority), never a redirect, idempotent, audited with source
//! `one_click` (or `link` when a person pressed the button on the confirmation page).
//! `GET /u/<token>` is the Leptos confirmation page; it changes nothing.

use app::{
    api::ClientIp,
    domain::{Actor, Lang, Origin, Provenance, Source},
    error::ApiError,
    i18n::{error_message, texts},
    services::{Services, now},
};
use axum::{
    extract::{Path, Request, State},
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};

use crate::{
    answers::{escape, form_fields, page_document},
    state::{AppState, MAX_BODY},
};

/// What the POST body said.
#[derive(Default)]
struct Form {
    one_click: bool,
    from_page: bool,
    lang: Option<String>,
}

impl Form {
    fn take(&mut self, name: &str, value: &str) {
        match name {
            "List-Unsubscribe" => self.one_click |= value == "One-Click",
            "confirm" => self.from_page |= value == "page",
            "lang" => self.lang = Some(value.to_owned()),
            _ => {}
        }
    }
}

async fn read_form(req: Request) -> Result<Form, &'static str> {
    let mut form = Form::default();
    for (name, value) in
        form_fields(req, &["List-Unsubscribe", "confirm", "lang"], MAX_BODY).await?
    {
        form.take(&name, &value);
    }
    Ok(form)
}

/// `POST /u/<token>`.
pub async fn one_click(
    State(state): State<AppState>,
    Path(token): Path<String>,
    req: Request,
) -> Response {
    // The two headers used, kept before the body is read (reading it takes the request).
    let (accept_language, user_agent) = {
        let text_of = |name| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        (
            text_of(header::ACCEPT_LANGUAGE),
            text_of(header::USER_AGENT),
        )
    };
    let ip = req.extensions().get::<ClientIp>().map(|c| c.0);
    let browser_lang = lang_of(accept_language.as_deref(), None);
    let form = match read_form(req).await {
        Ok(f) => f,
        Err(code) => return answer(false, browser_lang, Err(code), &token),
    };
    let lang = lang_of(accept_language.as_deref(), form.lang.as_deref());
    if !form.one_click {
        return answer(form.from_page, lang, Err("not_one_click"), &token);
    }
    let services = &state.services;
    // The signed token is the authority: no session, and no database read before the change.
    // Its signature is checked first; only a refused one counts against this address.
    let claims = match services.claims(&token) {
        Ok(c) => c,
        Err(r) => {
            let r = services.token_refused(ip, r).await;
            let mut res = answer(form.from_page, lang, Err(r.code), &token);
            // Too many refused links from this address: when to try again.
            if let Some(secs) = r.retry_after {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
            }
            return res;
        }
    };
    let provenance = Provenance {
        occurred_at: now(),
        source: if form.from_page {
            Source::Link
        } else {
            Source::OneClick
        },
        actor: Actor::Subject,
        notice_version: None, // the version in force, set by the services
        origin: Origin::new(ip, user_agent.as_deref()),
        idempotency_key: None,
        reason: None,
        campaign: None,
        collection_point: None,
        import_batch: None,
        form_url: None,
        proof_ref: None,
    };
    let outcome = match services.unsubscribe(&claims, provenance).await {
        Ok(applied) => {
            let written = applied
                .iter()
                .filter(|a| matches!(a.outcome, app::domain::Outcome::Recorded(_)))
                .count();
            tracing::info!(subject = %claims.subject, written, campaign = ?claims.campaign, "unsubscribed");
            if form.from_page {
                // A person reads what stopped; a mail provider needs only the status.
                match services.unsubscribe_targets(&claims.scope).await {
                    Ok(targets) => Ok(targets.iter().map(|t| t.describe(lang)).collect::<Vec<_>>()),
                    Err(r) => Err(r.code),
                }
            } else {
                Ok(Vec::new())
            }
        }
        Err(r) => Err(r.code),
    };
    answer(form.from_page, lang, outcome, &token)
}

fn lang_of(accept_language: Option<&str>, explicit: Option<&str>) -> Lang {
    Services::page_lang(explicit, None, accept_language)
}

/// 200 with a short body (a page for people, plain text for mail providers), or the refusal's
/// status. Never a redirect (RFC 8058 §3.1).
fn answer(
    for_person: bool,
    lang: Lang,
    outcome: Result<Vec<String>, &'static str>,
    token: &str,
) -> Response {
    let t = texts(lang);
    match (outcome, for_person) {
        (Ok(_), false) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "unsubscribed\n",
        )
            .into_response(),
        (Ok(items), true) => {
            let items: String = items
                .iter()
                .map(|i| format!("<li>{}</li>", escape(i)))
                .collect();
            let body = format!(
                "<section class=\"card\" role=\"status\"><h1>{}</h1><p>{}</p><ul class=\"targets\">{items}</ul>\
                 <p><a href=\"/p/{}?lang={}\">{}</a></p></section>{}{}",
                escape(t.unsubscribed_title),
                escape(t.unsubscribed_body),
                escape(token),
                lang.key(),
                escape(t.manage_preferences),
                // Only now, with the unsubscribe done: a pause instead, if they like.
                crate::pause::offer(lang, token),
                // And why, if they like.
                crate::leaving::question(lang, token),
            );
            (
                StatusCode::OK,
                Html(page_document(lang, t.unsubscribed_title, &body)),
            )
                .into_response()
        }
        (Err(code), false) => {
            let status =
                StatusCode::from_u16(ApiError::status(code)).unwrap_or(StatusCode::BAD_REQUEST);
            (status, axum::Json(ApiError::new(lang, code))).into_response()
        }
        (Err(code), true) => {
            let status =
                StatusCode::from_u16(ApiError::status(code)).unwrap_or(StatusCode::BAD_REQUEST);
            let body = format!(
                "<section class=\"card error\" role=\"alert\"><h1>{}</h1><p>{}</p></section>",
                escape(t.error_title),
                escape(error_message(lang, code)),
            );
            (status, Html(page_document(lang, t.error_title, &body))).into_response()
        }
    }
}

/// `OPTIONS /u/<token>`: what the URL allows; changes nothing.
pub async fn options() -> Response {
    (
        StatusCode::NO_CONTENT,
        [(header::ALLOW, "GET, HEAD, POST, OPTIONS")],
    )
        .into_response()
}
