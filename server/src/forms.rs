//! Embeddable signup forms (issue 34 item 6). `GET /forms/<key>`: the hosted form, a page
//! without script that the origins listed on the form may frame (`frame-ancestors`; every other
//! page keeps `'none'`); `POST /forms/<key>`: its submission, authorised by a signed hidden token
//! bound to the form and the time (a framed page cannot count on its cookies); `POST
//! /forms/<key>/submit` (and its `OPTIONS` preflight): the same from another site's own page,
//! allowed by CORS for the listed origins only, answered in JSON. Every path only asks for a
//! double opt-in: nothing is granted before the person confirms from the mail.

use app::{
    api::ClientIp,
    domain::Lang,
    error::ApiError,
    i18n::{error_message, form_texts},
    services::{FormOutcome, FormPage, FormSubmission, Refusal, RequestEvidence, Services},
};
use axum::{
    Json, Router,
    body::to_bytes,
    extract::{Path, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
};

use crate::{
    answers::{escape, form_fields, header_str},
    state::{AppState, MAX_BODY},
};

/// The honeypot's field: hidden from people and screen readers, filled by robots.
pub const HONEYPOT: &str = "website";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/forms/{key}", get(page).post(submit_page))
        .route("/forms/{key}/submit", post(submit_cors).options(preflight))
}

/// The policy of a form's pages: no script at all, styles from here, posts to here only, framed
/// by the listed origins alone.
fn form_policy(frame_ancestors: &str) -> String {
    format!(
        "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; \
         form-action 'self'; frame-ancestors {frame_ancestors}"
    )
}

fn html(status: StatusCode, frame_ancestors: &str, body: String) -> Response {
    let mut res = (status, Html(body)).into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&form_policy(frame_ancestors)) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    // The page carries a token made for this moment.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// A form's page around `body`: the sender's brand, no header links out of the frame.
fn document(services: &Services, lang: Lang, title: &str, body: &str) -> String {
    let s = &services.settings;
    let accent = if s.brand.accent.is_some() {
        "<link rel=\"stylesheet\" href=\"/brand.css\">"
    } else {
        ""
    };
    let logo = s
        .brand
        .logo
        .as_ref()
        .map(|l| {
            format!(
                "<img class=\"brand-logo\" src=\"{}\" alt=\"\"> ",
                escape(&l.path)
            )
        })
        .unwrap_or_default();
    format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width, initial-scale=1\"><meta name=\"robots\" content=\"noindex\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/pkg/{stem}.css\">{accent}</head>\
         <body class=\"embedded-form\"><header class=\"top\"><span class=\"brand\">{logo}{sender}</span></header>\
         <main id=\"main\">{body}</main></body></html>",
        lang = lang.key(),
        title = escape(title),
        sender = escape(s.sender.name.trim()),
        stem = crate::ops::site::stem(),
    )
}

fn lang_of(explicit: Option<&str>, headers: &HeaderMap) -> Lang {
    Services::page_lang(explicit, None, header_str(headers, "accept-language"))
}

fn query_value(req: &Request, name: &str) -> Option<String> {
    let q = req.uri().query()?;
    serde_urlencoded::from_str::<Vec<(String, String)>>(q)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// A refusal as a page that a framing site can show (its own form's frame-ancestors).
fn error_page(
    services: &Services,
    lang: Lang,
    key: &str,
    frame_ancestors: &str,
    refusal: Refusal,
) -> Response {
    let t = app::i18n::texts(lang);
    let status =
        StatusCode::from_u16(ApiError::status(refusal.code)).unwrap_or(StatusCode::BAD_REQUEST);
    let back = if matches!(refusal.code, "unknown_form" | "form_retired") {
        String::new()
    } else {
        format!(
            "<p><a href=\"/forms/{}?lang={}\">{}</a></p>",
            escape(key),
            lang.key(),
            escape(form_texts(lang).back),
        )
    };
    let body = format!(
        "<section class=\"card error\" role=\"alert\"><h1>{}</h1><p>{}</p>{back}</section>",
        escape(t.error_title),
        escape(error_message(lang, refusal.code)),
    );
    let mut res = html(
        status,
        frame_ancestors,
        document(services, lang, t.error_title, &body),
    );
    if let Some(secs) = refusal.retry_after {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    }
    res
}

/// `GET /forms/<key>`: the form (or, after a submission, `?sent=1`, what happens next).
async fn page(State(state): State<AppState>, Path(key): Path<String>, req: Request) -> Response {
    let services = &state.services;
    let lang = lang_of(query_value(&req, "lang").as_deref(), req.headers());
    let page = match services.signup_form_page(&key).await {
        Ok(p) => p,
        Err(r) => return error_page(services, lang, &key, "'none'", r),
    };
    let ancestors = page.form.frame_ancestors();
    let t = form_texts(lang);
    if query_value(&req, "sent").is_some() {
        let body = format!(
            "<section class=\"card signup-form\" role=\"status\"><h1>{}</h1><p class=\"notice ok\">{}</p>\
             <p><a href=\"/forms/{}?lang={}\">{}</a></p></section>",
            escape(t.sent_title),
            escape(t.sent),
            escape(&key),
            lang.key(),
            escape(t.again),
        );
        return html(
            StatusCode::OK,
            &ancestors,
            document(services, lang, t.sent_title, &body),
        );
    }
    let body = form_body(services, &page, lang, &key);
    html(
        StatusCode::OK,
        &ancestors,
        document(services, lang, page.point.name(lang), &body),
    )
}

fn form_body(services: &Services, page: &FormPage, lang: Lang, key: &str) -> String {
    let t = form_texts(lang);
    let one = page.purposes.len() == 1;
    let choices: String = page
        .purposes
        .iter()
        .map(|p| {
            format!(
                "<label class=\"choice\"><input type=\"checkbox\" name=\"purpose\" value=\"{}\"{} /> {}</label>",
                escape(p.key.as_str()),
                if one { " checked" } else { "" },
                escape(p.name(lang)),
            )
        })
        .collect();
    let wording: String = page
        .point
        .wording
        .lines()
        .map(|l| format!("{}<br>", escape(l)))
        .collect();
    format!(
        "<section class=\"card signup-form\"><h1>{name}</h1>\
         <form method=\"post\" action=\"/forms/{key}\" class=\"stacked\">\
         <input type=\"hidden\" name=\"token\" value=\"{token}\" />\
         <input type=\"hidden\" name=\"lang\" value=\"{lang}\" />\
         <label>{email_label}<input type=\"email\" name=\"email\" required autocomplete=\"email\" /></label>\
         <fieldset><legend>{purposes}</legend>{choices}</fieldset>\
         <div class=\"hp\" aria-hidden=\"true\">\
         <label>{leave_empty}<input type=\"text\" name=\"{HONEYPOT}\" tabindex=\"-1\" autocomplete=\"off\" value=\"\" /></label></div>\
         <p class=\"wording\">{wording}</p>\
         <button type=\"submit\">{submit}</button>\
         <p class=\"fine\">{how}</p>\
         <p class=\"fine\"><a href=\"/privacy?lang={lang}\" target=\"_blank\" rel=\"noopener\">{privacy}</a></p>\
         </form></section>",
        name = escape(page.point.name(lang)),
        key = escape(key),
        token = escape(&services.signup_form_token(key)),
        lang = lang.key(),
        email_label = escape(t.email),
        purposes = escape(t.purposes),
        leave_empty = escape(t.leave_empty),
        submit = escape(t.submit),
        how = escape(t.how_it_works),
        privacy = escape(t.privacy),
    )
}

fn evidence(
    req_headers: &HeaderMap,
    ip: Option<std::net::IpAddr>,
    url: Option<String>,
) -> RequestEvidence {
    RequestEvidence {
        ip,
        user_agent: header_str(req_headers, "user-agent").map(str::to_owned),
        url,
    }
}

/// `POST /forms/<key>`: the hosted form's submission. Answered by a redirect to the page that
/// says a mail is on its way, the same for a known address, a new one, and a robot.
async fn submit_page(
    State(state): State<AppState>,
    Path(key): Path<String>,
    req: Request,
) -> Response {
    let services = &state.services;
    let headers = req.headers().clone();
    let ip = req.extensions().get::<ClientIp>().map(|c| c.0);
    let (fields, unreadable) = match form_fields(
        req,
        &["email", "purpose", "lang", "token", HONEYPOT],
        MAX_BODY,
    )
    .await
    {
        Ok(f) => (f, None),
        Err(code) => (Vec::new(), Some(code)),
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let lang = lang_of(field("lang").as_deref(), &headers);
    let page = match services.signup_form_page(&key).await {
        Ok(p) => p,
        Err(r) => return error_page(services, lang, &key, "'none'", r),
    };
    let ancestors = page.form.frame_ancestors();
    if let Some(code) = unreadable {
        return error_page(services, lang, &key, &ancestors, Refusal::new(code));
    }
    if !services.signup_form_token_valid(&key, &field("token").unwrap_or_default()) {
        return error_page(
            services,
            lang,
            &key,
            &ancestors,
            Refusal::new("form_token_invalid"),
        );
    }
    let submission = FormSubmission {
        email: field("email").unwrap_or_default(),
        purposes: fields
            .iter()
            .filter(|(n, _)| n == "purpose")
            .map(|(_, v)| v.clone())
            .collect(),
        lang: Some(lang),
        honeypot: field(HONEYPOT).unwrap_or_default(),
    };
    let url = Some(format!("{}/forms/{key}", services.settings.public_url));
    match services
        .submit_signup_form(&key, submission, lang, evidence(&headers, ip, url))
        .await
    {
        Ok(_) => Redirect::to(&format!("/forms/{key}?sent=1&lang={}", lang.key())).into_response(),
        Err(r) => error_page(services, lang, &key, &ancestors, r),
    }
}

/// The CORS headers of an answer to an allowed origin.
fn allow(res: &mut Response, origin: &str) {
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
}

fn json_error(lang: Lang, refusal: Refusal) -> Response {
    let status =
        StatusCode::from_u16(ApiError::status(refusal.code)).unwrap_or(StatusCode::BAD_REQUEST);
    let mut res = (status, Json(ApiError::new(lang, refusal.code))).into_response();
    res.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(secs) = refusal.retry_after {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    }
    res
}

/// The form, when the request's `Origin` is one it lists; else the refusal to answer with (no
/// `Access-Control-Allow-Origin`).
async fn allowed_form(
    services: &Services,
    key: &str,
    headers: &HeaderMap,
) -> Result<(FormPage, String), Refusal> {
    let page = services.signup_form_page(key).await?;
    match header_str(headers, "origin") {
        Some(origin) if page.form.allows_origin(origin) => Ok((page, origin.to_owned())),
        _ => Err(Refusal::new("origin_not_allowed")),
    }
}

/// `OPTIONS /forms/<key>/submit`: the preflight. Allowed origins get themselves back.
async fn preflight(
    State(state): State<AppState>,
    Path(key): Path<String>,
    req: Request,
) -> Response {
    let lang = lang_of(query_value(&req, "lang").as_deref(), req.headers());
    match allowed_form(&state.services, &key, req.headers()).await {
        Ok((_, origin)) => {
            let mut res = StatusCode::NO_CONTENT.into_response();
            allow(&mut res, &origin);
            let h = res.headers_mut();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("POST"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("content-type, accept-language"),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
            res
        }
        Err(r) => json_error(lang, r),
    }
}

/// What another site's page posts: JSON or a form body.
#[derive(Debug, Default, serde::Deserialize)]
struct Posted {
    #[serde(default)]
    email: String,
    #[serde(default)]
    purposes: Vec<String>,
    #[serde(default)]
    purpose: Option<String>,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    website: Option<String>,
}

/// `POST /forms/<key>/submit`: a submission from a listed origin's own page. JSON in the
/// visitor's language; the same answer whether the address is known or not.
async fn submit_cors(
    State(state): State<AppState>,
    Path(key): Path<String>,
    req: Request,
) -> Response {
    let services = &state.services;
    let headers = req.headers().clone();
    let ip = req.extensions().get::<ClientIp>().map(|c| c.0);
    let query_lang = query_value(&req, "lang");
    let (_, origin) = match allowed_form(services, &key, &headers).await {
        Ok(f) => f,
        Err(r) => return json_error(lang_of(query_lang.as_deref(), &headers), r),
    };
    let json =
        header_str(&headers, "content-type").is_some_and(|c| c.starts_with("application/json"));
    let posted: Result<Posted, &'static str> = if json {
        match to_bytes(req.into_body(), MAX_BODY).await {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|_| "bad_request"),
            Err(_) => Err("payload_too_large"),
        }
    } else {
        form_fields(req, &["email", "purpose", "lang", HONEYPOT], MAX_BODY)
            .await
            .map(|fields| {
                let get = |n: &str| fields.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
                Posted {
                    email: get("email").unwrap_or_default(),
                    purposes: fields
                        .iter()
                        .filter(|(k, _)| k == "purpose")
                        .map(|(_, v)| v.clone())
                        .collect(),
                    purpose: None,
                    lang: get("lang"),
                    website: get(HONEYPOT),
                }
            })
    };
    let lang = lang_of(
        posted
            .as_ref()
            .ok()
            .and_then(|p| p.lang.as_deref())
            .or(query_lang.as_deref()),
        &headers,
    );
    let mut res = match posted {
        Err(code) => json_error(lang, Refusal::new(code)),
        Ok(p) => {
            let mut purposes = p.purposes;
            purposes.extend(p.purpose);
            let submission = FormSubmission {
                email: p.email,
                purposes,
                lang: Some(lang),
                honeypot: p.website.unwrap_or_default(),
            };
            // The page the visitor was on, when its site sends it; else its origin.
            let url = header_str(&headers, "referer")
                .filter(|r| r.starts_with(&format!("{origin}/")))
                .map(str::to_owned)
                .or_else(|| Some(origin.clone()));
            match services
                .submit_signup_form(&key, submission, lang, evidence(&headers, ip, url))
                .await
            {
                Ok(FormOutcome::Mailed | FormOutcome::Dropped) => (
                    StatusCode::ACCEPTED,
                    Json(serde_json::json!({
                        "status": "confirmation_sent",
                        "message": form_texts(lang).sent,
                    })),
                )
                    .into_response(),
                Err(r) => json_error(lang, r),
            }
        }
    };
    allow(&mut res, &origin);
    res
}
