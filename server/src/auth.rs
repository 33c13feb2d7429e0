//! Signing in and out, outside Leptos (these answers set cookies and redirect): the customer's
//! emailed link, the admin's password, and signing out (here or everywhere). Every form here is
//! checked for cross-site origin and its CSRF token; refusals are pages with the right status.

use app::{
    api::ClientIp,
    auth::{CSRF_COOKIE, SessionKind, cookie_value, set_cookie},
    domain::Lang,
    error::ApiError,
    services::{NewSession, Refusal, Services},
};
use axum::{
    Router,
    extract::{Path, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
};

use crate::http::{
    AppState, MAX_BODY, error_page, escape, form_fields, is_cross_site, page_document,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/signin", post(request_link))
        .route("/signin/link", post(stay_signed_in))
        .route("/signin/{token}", post(continue_with_link))
        .route("/subscribe", post(subscribe))
        .route("/confirm/{token}", post(confirm_subscription))
        .route("/grant/{token}", get(grant_page).post(confirm_grant))
        .route("/signout", post(sign_out_customer))
        .route("/admin/signin", post(admin_sign_in))
        .route("/admin/signout", post(sign_out_admin))
        .route("/admin/api-keys", post(create_api_key))
}

/// A checked form: its fields, the language to answer in, and the client's address.
struct Form {
    fields: Vec<(String, String)>,
    lang: Lang,
    ip: Option<std::net::IpAddr>,
    headers: HeaderMap,
}

impl Form {
    fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

const FIELDS: &[&str] = &[
    "email",
    "password",
    "code",
    "csrf",
    "lang",
    "everywhere",
    "token",
    "name",
    "scopes",
    "purpose",
];

/// Reads a form, refusing cross-site posts and a CSRF token that does not match the cookie.
async fn read_form(services: &Services, req: Request, back: &str) -> Result<Form, Response> {
    let headers = req.headers().clone();
    let ip = req.extensions().get::<ClientIp>().map(|c| c.0);
    let browser = Services::page_lang(
        None,
        None,
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    if is_cross_site(&headers) {
        return Err(page_error(browser, Refusal::new("cross_site"), back));
    }
    let fields = form_fields(req, FIELDS, MAX_BODY)
        .await
        .map_err(|code| page_error(browser, Refusal::new(code), back))?;
    let form = Form {
        lang: fields
            .iter()
            .find(|(k, _)| k == "lang")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(browser),
        fields,
        ip,
        headers,
    };
    let cookie = cookie_value(&form.headers, CSRF_COOKIE).unwrap_or_default();
    if !services.csrf.matches(cookie, form.get("csrf")) {
        return Err(page_error(form.lang, Refusal::new("csrf"), back));
    }
    Ok(form)
}

/// A refusal as a page: the status of its code, its message, a way back, and `Retry-After`
/// when rate limited.
pub(crate) fn page_error(lang: Lang, refusal: Refusal, back: &str) -> Response {
    let error = ApiError::new(lang, refusal.code);
    let status =
        StatusCode::from_u16(ApiError::status(refusal.code)).unwrap_or(StatusCode::BAD_REQUEST);
    let mut res = (status, Html(error_page(lang, &error, back))).into_response();
    if let Some(secs) = refusal.retry_after {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    }
    res
}

fn with_lang(path: &str, lang: Lang) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}lang={}", lang.key())
}

/// 303 to `to`, setting `cookies`.
fn redirect_with(to: &str, cookies: &[String]) -> Response {
    let mut res = Redirect::to(to).into_response();
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

/// The cookie of a new session (the secret; the database keeps its hash).
fn session_cookie(services: &Services, session: &NewSession) -> String {
    let kind = session.principal.kind();
    let max_age = match kind {
        SessionKind::Customer => Some(kind.policy().absolute.whole_seconds()),
        // Admin sessions end with the browser (and after 30 idle minutes, 12 hours at most).
        SessionKind::Admin => None,
    };
    set_cookie(
        kind.cookie(),
        &session.cookie,
        services.settings.cookie_secure,
        max_age,
    )
}

fn clear_cookie(services: &Services, kind: SessionKind) -> String {
    set_cookie(kind.cookie(), "", services.settings.cookie_secure, Some(0))
}

/// Ends the session this browser had before signing in again (a new session id each sign-in).
async fn rotate(services: &Services, headers: &HeaderMap, kind: SessionKind) {
    if let Some(old) = cookie_value(headers, kind.cookie()) {
        let _ = services.sign_out(kind, old, false).await;
    }
}

/// `POST /signin`: mails a sign-in link. The answer is the same whether or not the address is
/// known.
async fn request_link(State(state): State<AppState>, req: Request) -> Response {
    let services = &state.services;
    let form = match read_form(services, req, "/signin").await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let back = with_lang("/signin", form.lang);
    match services.request_sign_in(form.get("email"), form.ip).await {
        Ok(()) => Redirect::to(&with_lang("/signin?sent=1", form.lang)).into_response(),
        Err(r) => page_error(form.lang, r, &back),
    }
}

/// `POST /subscribe`: a double opt-in request (R12, R58). Records the evidence (address, user
/// agent, the page the form was on) and mails the confirmation link; the answer is the same for
/// every address.
async fn subscribe(State(state): State<AppState>, req: Request) -> Response {
    let services = &state.services;
    let form = match read_form(services, req, "/subscribe").await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let back = with_lang("/subscribe", form.lang);
    let header = |name: header::HeaderName| {
        form.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let evidence = app::services::RequestEvidence {
        ip: form.ip,
        user_agent: header(header::USER_AGENT),
        url: header(header::REFERER),
    };
    match services
        .request_opt_in(form.get("email"), form.get("purpose"), form.lang, evidence)
        .await
    {
        Ok(()) => Redirect::to(&with_lang("/subscribe?sent=1", form.lang)).into_response(),
        Err(r) => page_error(form.lang, r, &back),
    }
}

/// `POST /confirm/<token>`: the person's "confirm" button from the mailed link. Grants the
/// purpose by email, once.
async fn confirm_subscription(
    State(state): State<AppState>,
    Path(token): Path<String>,
    req: Request,
) -> Response {
    let services = &state.services;
    let form = match read_form(services, req, "/subscribe").await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let back = with_lang("/subscribe", form.lang);
    let click = app::domain::Origin {
        ip: form.ip.map(app::domain::truncate_ip),
        user_agent: form
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|u| u.chars().take(300).collect()),
    };
    match services.confirm_opt_in(&token, click).await {
        Ok(_) => Redirect::to(&with_lang("/subscribe?confirmed=1", form.lang)).into_response(),
        Err(r) => page_error(form.lang, r, &back),
    }
}

/// The texts of a grant's confirmation page: title, lead, button, done.
fn grant_texts(lang: Lang) -> [&'static str; 4] {
    match lang {
        Lang::Ja => [
            "同意の確認",
            "リンクから、次のことへの同意が求められました。ご本人の操作であれば「同意する」を押してください。",
            "同意する",
            "同意を記録しました。配信設定ページでいつでも撤回できます。",
        ],
        Lang::En => [
            "Please confirm",
            "The link to your preference center was used to allow this. If it was you, press \"Allow\".",
            "Allow",
            "Recorded. You can withdraw it at any time in your preference center.",
        ],
    }
}

/// `GET /grant/<token>`: what a grant's confirmation mail would allow, and one button. Opening
/// it changes nothing (mail scanners open links).
async fn grant_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    req: Request,
) -> Response {
    let services = &state.services;
    let ip = req.extensions().get::<ClientIp>().map(|c| c.0);
    let csrf = req
        .extensions()
        .get::<app::api::CsrfToken>()
        .map(|t| t.0.clone())
        .unwrap_or_default();
    let browser = crate::http::request_lang(&req);
    let preview = match services.grant_preview(&token, ip).await {
        Ok(p) => p,
        Err(r) => return page_error(browser, r, &with_lang("/signin", browser)),
    };
    let lang = req
        .uri()
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("lang=")))
        .and_then(|l| l.parse().ok())
        .unwrap_or(preview.subject.lang);
    let [title, lead, button, _] = grant_texts(lang);
    let body = format!(
        "<section class=\"card\"><h1>{title}</h1><p>{lead}</p><p><strong data-grant>{what}</strong></p>\
         <form method=\"post\" action=\"/grant/{token}\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <input type=\"hidden\" name=\"lang\" value=\"{lang}\"><button type=\"submit\">{button}</button></form></section>",
        title = escape(title),
        lead = escape(lead),
        what = escape(&preview.describe(lang)),
        token = escape(&token),
        csrf = escape(&csrf),
        lang = lang.key(),
        button = escape(button),
    );
    Html(page_document(lang, title, &body)).into_response()
}

/// `POST /grant/<token>`: the button of a grant's confirmation mail. Grants it, once.
async fn confirm_grant(
    State(state): State<AppState>,
    Path(token): Path<String>,
    req: Request,
) -> Response {
    let services = &state.services;
    let form = match read_form(services, req, "/signin").await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let back = with_lang("/signin", form.lang);
    let provenance = app::domain::Provenance {
        occurred_at: app::services::now(),
        source: app::domain::Source::PreferenceCenter,
        actor: app::domain::Actor::Subject,
        notice_version: None,
        origin: app::domain::Origin::new(
            form.ip,
            form.headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok()),
        ),
        idempotency_key: None,
        reason: None,
        campaign: None,
        collection_point: None,
        import_batch: None,
        form_url: None,
        proof_ref: None,
    };
    match services.confirm_grant(&token, form.ip, provenance).await {
        Ok((preview, _)) => {
            tracing::info!(subject = %preview.subject.id, purpose = %preview.purpose.key,
                channel = preview.channel.key(), "grant confirmed by mail");
            let [title, _, _, done] = grant_texts(form.lang);
            let body = format!(
                "<section class=\"card\" role=\"status\" data-grant-done><h1>{}</h1><p><strong>{}</strong></p><p>{}</p></section>",
                escape(title),
                escape(&preview.describe(form.lang)),
                escape(done),
            );
            Html(page_document(form.lang, title, &body)).into_response()
        }
        Err(r) => page_error(form.lang, r, &back),
    }
}

/// `POST /signin/<token>`: the "continue" button. Uses the link (once) and starts a session.
async fn continue_with_link(
    State(state): State<AppState>,
    Path(token): Path<String>,
    req: Request,
) -> Response {
    let services = &state.services;
    let form = match read_form(services, req, "/signin").await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let back = with_lang("/signin", form.lang);
    match services.complete_sign_in(&token, form.ip).await {
        Ok(session) => {
            rotate(services, &form.headers, SessionKind::Customer).await;
            tracing::info!(subject = %session.principal.id(), "customer signed in");
            redirect_with(
                &with_lang("/me", form.lang),
                &[session_cookie(services, &session)],
            )
        }
        Err(r) => page_error(form.lang, r, &back),
    }
}

/// `POST /signin/link`: a link to the whole preference center mails its subject a sign-in link;
/// that link, used, starts the session.
async fn stay_signed_in(State(state): State<AppState>, req: Request) -> Response {
    let services = &state.services;
    let form = match read_form(services, req, "/signin").await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let back = with_lang("/signin", form.lang);
    match services.sign_in_with_link(form.get("token"), form.ip).await {
        Ok(()) => Redirect::to(&with_lang("/signin?sent=1", form.lang)).into_response(),
        Err(r) => page_error(form.lang, r, &back),
    }
}

async fn sign_out(state: AppState, req: Request, kind: SessionKind, to: &str) -> Response {
    let services = &state.services;
    let form = match read_form(services, req, to).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let everywhere = matches!(form.get("everywhere"), "1" | "true" | "on");
    let cookie = cookie_value(&form.headers, kind.cookie()).unwrap_or_default();
    match services.sign_out(kind, cookie, everywhere).await {
        Ok(n) => {
            tracing::info!(kind = kind.key(), sessions = n, everywhere, "signed out");
            redirect_with(&with_lang(to, form.lang), &[clear_cookie(services, kind)])
        }
        Err(r) => page_error(form.lang, r, to),
    }
}

/// `POST /signout` (`everywhere=1` ends every session of the person).
async fn sign_out_customer(State(state): State<AppState>, req: Request) -> Response {
    sign_out(state, req, SessionKind::Customer, "/signin?signed_out=1").await
}

/// `POST /admin/signout` (`everywhere=1` ends every session of the admin).
async fn sign_out_admin(State(state): State<AppState>, req: Request) -> Response {
    sign_out(state, req, SessionKind::Admin, "/admin/signin").await
}

/// `POST /admin/signin`: email, password and (when enrolled) a TOTP code.
async fn admin_sign_in(State(state): State<AppState>, req: Request) -> Response {
    let services = &state.services;
    let form = match read_form(services, req, "/admin/signin").await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let back = with_lang("/admin/signin", form.lang);
    let code = Some(form.get("code")).filter(|c| !c.is_empty());
    match services
        .admin_sign_in(form.get("email"), form.get("password"), code, form.ip)
        .await
    {
        Ok((session, admin)) => {
            rotate(services, &form.headers, SessionKind::Admin).await;
            tracing::info!(admin = %admin.id, role = %admin.role, "admin signed in");
            redirect_with(
                &with_lang("/admin", form.lang),
                &[session_cookie(services, &session)],
            )
        }
        Err(r) => {
            if r.code == "sign_in_failed" {
                tracing::warn!("admin sign-in failed");
            }
            page_error(form.lang, r, &back)
        }
    }
}

/// `POST /admin/api-keys` (owner): creates a key and shows it, this once, on the answer page
/// (a redirect would lose it).
async fn create_api_key(State(state): State<AppState>, req: Request) -> Response {
    let services = &state.services;
    let form = match read_form(services, req, "/admin/api-keys").await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let back = with_lang("/admin/api-keys", form.lang);
    let cookie = cookie_value(&form.headers, SessionKind::Admin.cookie()).unwrap_or_default();
    let owner = match services.admin(cookie, app::auth::Role::Owner).await {
        Ok(a) => a,
        Err(r) => return page_error(form.lang, r, &back),
    };
    let scopes: Vec<String> = form
        .fields
        .iter()
        .filter(|(k, _)| k == "scopes")
        .map(|(_, v)| v.clone())
        .collect();
    match services.create_api_key(form.get("name"), &scopes).await {
        Ok((record, key)) => {
            tracing::info!(by = %owner.id, key = %record.id, "API key created");
            let t = app::i18n::texts(form.lang);
            let body = format!(
                "<section class=\"card\"><h1>{title}</h1><p>{once}</p>\
                 <p><code class=\"secret\" id=\"new-key\">{key}</code></p>\
                 <p><a href=\"{back}\">{title}</a></p></section>",
                title = crate::http::escape(t.api_keys),
                once = crate::http::escape(t.key_once),
                key = crate::http::escape(&key),
                back = crate::http::escape(&back),
            );
            let mut res =
                Html(crate::http::page_document(form.lang, t.api_keys, &body)).into_response();
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(r) => page_error(form.lang, r, &back),
    }
}
