//! The router: health checks, the server-function endpoint (with body limits, a cross-site check,
//! errors in the user's language and POST-redirect-GET for plain forms), request ids, the client
//! address and security headers, and the route modules mounted beside the Leptos pages.

use std::net::SocketAddr;

use app::{
    App,
    api::{ClientIp, CsrfToken},
    auth::{CSRF_COOKIE, cookie_value, set_cookie},
    domain::Lang,
    error::ApiError,
    services::Services,
    shell,
};
use axum::{
    Json, Router,
    body::{Body, Bytes, to_bytes},
    extract::{ConnectInfo, Request, State},
    http::{Extensions, HeaderMap, HeaderValue, Method, StatusCode, Version, header},
    middleware::{self, Next},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{any, get, post},
};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::{
    compression::{
        CompressionLayer,
        predicate::{DefaultPredicate, Predicate},
    },
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use crate::{
    answers::{error_page, header_str, is_cross_site, is_local_path, request_lang},
    client::client_address,
    state::{AppState, MAX_BODY},
};

/// The Leptos route list, generated once per process. Generating it renders the app with resource
/// loading suppressed by a process-wide flag, so a page whose resource is first polled meanwhile
/// would wait forever (leptos#4773); doing it once, before any router exists, rules that out even
/// when several servers share a process (the tests do).
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::LazyLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::LazyLock::new(|| generate_route_list(App));
    ROUTES.clone()
}

pub fn router(state: AppState) -> Router {
    let routes = route_list();
    let services = state.services.clone();
    let options = state.leptos_options.clone();
    Router::new()
        .merge(crate::api_v1::routes())
        .route("/inbound/email", post(crate::inbound::email))
        .route("/inbound/sms", post(crate::sms::inbound))
        .route("/healthz", get(crate::health::healthz))
        .route("/metrics", get(crate::health::metrics))
        .route("/.well-known/gpc.json", get(gpc_json))
        .route("/brand.css", get(brand_css))
        .route("/u/{token}/reason", post(crate::leaving::answer))
        .route("/u/{token}/pause", post(crate::pause::answer))
        .route("/brand/{file}", get(brand_logo))
        .route("/readyz", get(crate::health::readyz))
        // Leptos adds a route for each server function; this one answers the unknown ones (and
        // any other unknown path under /api/, whatever its method).
        .route("/api/{*fn_name}", any(unknown_server_fn))
        // RFC 8058 one-click (GET is the Leptos confirmation page below).
        .route(
            "/u/{token}",
            post(crate::unsubscribe::one_click).options(crate::unsubscribe::options),
        )
        .merge(crate::auth::routes())
        .merge(crate::webhook_forms::routes())
        .merge(crate::exports::routes())
        .merge(crate::record::routes())
        .merge(crate::do_not_sell::routes())
        .merge(crate::forms::routes())
        .leptos_routes_with_context(&state, routes, page_context(services.clone()), move || {
            shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(page_context(services), shell))
        .layer(middleware::from_fn(crate::ops::site::serve_embedded))
        .layer(middleware::from_fn(explain_bare_refusals))
        .layer(middleware::from_fn(unavailable_says_when))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard_server_fns,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), page_security))
        .layer(middleware::from_fn_with_state(state.clone(), client_ip))
        .layer(middleware::from_fn(crate::caching::page_caching))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        // Pages and JSON answers compressed as they go; downloads (CSV, JSON Lines) stream
        // as they are, and the embedded site is stored compressed already.
        .layer(
            CompressionLayer::new().compress_when(DefaultPredicate::new().and(
                |_: StatusCode, _: Version, h: &HeaderMap, _: &Extensions| {
                    h.get(header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .is_some_and(|t| {
                            t.starts_with("text/html") || t.starts_with("application/json")
                        })
                },
            )),
        )
        .layer(middleware::from_fn(crate::ops::track::track))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let id = req
                        .extensions()
                        .get::<RequestId>()
                        .and_then(|id| id.header_value().to_str().ok());
                    tracing::info_span!("request", id = id.unwrap_or("-"), method = %req.method(),
                        path = %redact_path(req.uri().path()))
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// What every page render gets: the services, and the nonce the CSP header names (set by
/// `page_security`).
fn page_context(services: Services) -> impl Fn() + Clone + Send + 'static {
    move || {
        provide_context(services.clone());
        let nonce = leptos::prelude::use_context::<http::request::Parts>()
            .and_then(|p| p.extensions.get::<CspNonce>().cloned());
        if let Some(n) = nonce {
            provide_context(leptos::nonce::Nonce::from_value(n.0));
        }
    }
}

/// Paths carry tokens (`/p/<token>`, `/u/<token>`, `/signin/<token>`); logs get the shape,
/// never the token.
pub fn redact_path(path: &str) -> String {
    for prefix in ["/p/", "/u/", "/signin/"] {
        if path.starts_with(prefix) && path.len() > prefix.len() {
            return format!("{prefix}[token]");
        }
    }
    path.to_owned()
}

/// The per-response nonce the Content-Security-Policy allows scripts with.
#[derive(Debug, Clone)]
pub struct CspNonce(pub String);

/// The policy every answer carries: scripts only with this response's nonce (and what they load),
/// wasm allowed to compile, everything else from this origin, never framed.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The policy of answers that are not pages: no scripts at all.
const NO_SCRIPT_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Paths that never show a form (machine endpoints and static files): no CSRF cookie.
fn is_machine_path(path: &str) -> bool {
    [
        "/api/v1/",
        "/inbound/",
        "/pkg/",
        "/healthz",
        "/readyz",
        "/metrics",
        "/brand",
    ]
    .iter()
    .any(|p| path.starts_with(p))
}

/// Gives each request a CSP nonce and a CSRF token (the cookie's, or a new one the response
/// sets), and puts the Content-Security-Policy on the answer.
async fn page_security(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    // Only a page (GET or HEAD) can hold scripts and forms; other answers get a policy that
    // allows no script at all, and no new cookie (mail providers' one-click POSTs stay cheap).
    let page =
        matches!(*req.method(), Method::GET | Method::HEAD) && !is_machine_path(req.uri().path());
    let csrf = &state.services.csrf;
    let existing = cookie_value(req.headers(), CSRF_COOKIE)
        .filter(|c| csrf.is_valid(c))
        .map(str::to_owned);
    let new_cookie = existing.is_none() && page;
    let token = existing.unwrap_or_else(|| if page { csrf.issue() } else { String::new() });
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let policy = if page {
        let nonce = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            app::auth::random_bytes::<16>(),
        );
        req.extensions_mut().insert(CspNonce(nonce.clone()));
        HeaderValue::from_str(&content_security_policy(&nonce)).ok()
    } else {
        Some(HeaderValue::from_static(NO_SCRIPT_POLICY))
    };
    let mut res = next.run(req).await;
    if res.status() == StatusCode::PAYLOAD_TOO_LARGE {
        // The rest of the body was not read: the connection cannot carry another request.
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    if let Some(v) = policy
        && !res.headers().contains_key(header::CONTENT_SECURITY_POLICY)
    {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    if new_cookie {
        let cookie = set_cookie(
            CSRF_COOKIE,
            &token,
            state.services.settings.cookie_secure,
            Some(30 * 24 * 3600),
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

/// The site's Global Privacy Control support resource (R15).
async fn gpc_json() -> Response {
    let body = serde_json::json!({"gpc": true, "lastUpdate": app::services::GPC_LAST_UPDATE});
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body.to_string(),
    )
        .into_response()
}

/// The sender's accent on every page (linked only when one is set): a few lines, cached briefly
/// (a changed setting shows within five minutes).
async fn brand_css(State(state): State<AppState>) -> Response {
    let css = state
        .services
        .settings
        .brand
        .accent
        .map(|a| a.stylesheet())
        .unwrap_or_default();
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        css,
    )
        .into_response()
}

/// The sender's logo, at a name that changes with its content: kept by browsers for good.
async fn brand_logo(
    State(state): State<AppState>,
    axum::extract::Path(file): axum::extract::Path<String>,
) -> Response {
    match &state.services.settings.brand.logo {
        Some(logo) if logo.path.strip_prefix("/brand/") == Some(file.as_str()) => (
            [
                (header::CONTENT_TYPE, logo.content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            logo.bytes.to_vec(),
        )
            .into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Records the client's address for the limits and provenance (the truncated address stored as
/// evidence comes from it): see `client_address`.
async fn client_ip(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let ip = peer.map(|peer| {
        client_address(
            peer,
            &forwarded,
            &state.trusted_proxies,
            state.trust_forwarded_for,
        )
    });
    if let Some(ip) = ip {
        req.extensions_mut().insert(ClientIp(ip));
    }
    next.run(req).await
}

async fn unknown_server_fn(req: Request) -> Response {
    let lang = request_lang(&req);
    (
        StatusCode::NOT_FOUND,
        Json(ApiError::new(lang, "not_found")),
    )
        .into_response()
}

/// Every 503 says when to come back (`Retry-After`): the database restarting or failing over
/// (whose refusal set it already, wherever it was answered), this instance draining, anything
/// else unavailable for a moment.
async fn unavailable_says_when(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    if res.status() == StatusCode::SERVICE_UNAVAILABLE
        && !res.headers().contains_key(header::RETRY_AFTER)
    {
        res.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(app::services::UNAVAILABLE_RETRY_SECS),
        );
    }
    res
}

/// A method a route does not take is answered by the router itself, 405 with `Allow` and an
/// empty body; like every other refusal it gets a message in the user's language here: JSON on
/// the API's paths, a page elsewhere. The status and headers stay as the router set them.
async fn explain_bare_refusals(req: Request, next: Next) -> Response {
    let lang = request_lang(&req);
    let path = req.uri().path();
    let json = path.starts_with("/api/") || is_machine_path(path);
    let res = next.run(req).await;
    if res.status() != StatusCode::METHOD_NOT_ALLOWED
        || res.headers().contains_key(header::CONTENT_TYPE)
    {
        return res;
    }
    let error = ApiError::new(lang, "method_not_allowed");
    let explained = if json {
        Json(error).into_response()
    } else {
        Html(error_page(lang, &error, "/")).into_response()
    };
    let (mut parts, _) = res.into_parts();
    let (explained, body) = explained.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.extend(explained.headers);
    Response::from_parts(parts, body)
}

/// Wraps every server function call. Refuses cross-site and oversized requests. Plain HTML forms
/// (no JavaScript) get `303 See Other` back to the page on success and an error page on failure;
/// the hydrated client gets JSON. Every error carries a stable code, the matching HTTP status and
/// a message in the user's language.
async fn guard_server_fns(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if !path.starts_with("/api/") || path.starts_with("/api/v1/") {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let accept_language = header_str(&parts.headers, "accept-language").map(str::to_owned);
    let is_form = header_str(&parts.headers, "content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let plain_form =
        is_form && header_str(&parts.headers, "accept").is_some_and(|a| a.contains("text/html"));
    let browser_lang = Services::page_lang(None, None, accept_language.as_deref());

    if is_cross_site(&parts.headers) {
        return refuse(plain_form, browser_lang, "cross_site", None);
    }
    let bytes = match to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return refuse(plain_form, browser_lang, "payload_too_large", None),
    };
    let form: Vec<(String, String)> = if is_form {
        serde_urlencoded::from_bytes(&bytes).unwrap_or_default()
    } else {
        Vec::new()
    };
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let lang = Services::page_lang(field("lang").as_deref(), None, accept_language.as_deref());
    // Every server function is a POST that a page made: it must echo the CSRF cookie.
    let cookie = cookie_value(&parts.headers, CSRF_COOKIE).unwrap_or_default();
    if !state
        .services
        .csrf
        .matches(cookie, field("csrf").as_deref().unwrap_or_default())
    {
        return refuse(plain_form, lang, "csrf", field("token"));
    }
    let return_to = field("return_to").filter(|p| is_local_path(p));

    if plain_form {
        // Leptos would redirect to the Referer itself; we want the real status and our own page.
        parts
            .headers
            .insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    }
    let res = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;

    if res.status().is_success() {
        if plain_form {
            let to = return_to
                .unwrap_or_else(|| page_path(field("token").as_deref(), field("lang").as_deref()));
            return Redirect::to(&to).into_response();
        }
        return res;
    }
    let status = res.status();
    let retry_after = res.headers().get(header::RETRY_AFTER).cloned();
    let body = to_bytes(res.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let error = decode_error(status, &body);
    let error = match error.code.as_str() {
        // Raised before the visitor was known: say it in the request's language.
        "bad_request" | "internal" | "unavailable" | "not_found" => {
            ApiError::new(lang, &error.code)
        }
        _ => error,
    };
    if error.code == "internal" {
        tracing::error!(status = %status, "server function failed");
    }
    let back = return_to.unwrap_or_else(|| page_path(field("token").as_deref(), Some(lang.key())));
    let mut res = respond_error(plain_form, lang, error, &back);
    if let Some(v) = retry_after {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

fn decode_error(status: StatusCode, body: &Bytes) -> ApiError {
    if let Ok(e) = serde_json::from_slice::<ApiError>(body) {
        return e;
    }
    let code = if body.starts_with(b"Could not find a server function") {
        "not_found"
    } else if status.is_client_error() {
        "bad_request"
    } else {
        "internal"
    };
    ApiError::new(Lang::En, code)
}

/// Where a plain form returns to: the preference page of the token it carried, or the signed-in
/// customer's page when it carried none.
fn page_path(token: Option<&str>, lang: Option<&str>) -> String {
    let token = token.filter(|t| {
        t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    });
    let lang = lang.and_then(|l| l.parse::<Lang>().ok());
    match (token, lang) {
        (Some(""), Some(l)) => format!("/me?lang={}", l.key()),
        (Some(""), None) => "/me".to_owned(),
        (Some(t), Some(l)) => format!("/p/{t}?lang={}", l.key()),
        (Some(t), None) => format!("/p/{t}"),
        (None, _) => "/".to_owned(),
    }
}

fn refuse(plain_form: bool, lang: Lang, code: &str, token: Option<String>) -> Response {
    let back = page_path(token.as_deref(), Some(lang.key()));
    respond_error(plain_form, lang, ApiError::new(lang, code), &back)
}

fn respond_error(plain_form: bool, lang: Lang, error: ApiError, back: &str) -> Response {
    let status =
        StatusCode::from_u16(ApiError::status(&error.code)).unwrap_or(StatusCode::BAD_REQUEST);
    if plain_form {
        (status, Html(error_page(lang, &error, back))).into_response()
    } else {
        (status, Json(error)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_never_reach_the_logs() {
        assert_eq!(redact_path("/p/1.k1.abc.def"), "/p/[token]");
        assert_eq!(redact_path("/healthz"), "/healthz");
    }

    #[test]
    fn plain_forms_return_to_their_page_only() {
        assert_eq!(
            page_path(Some("1.k1.a.b"), Some("ja")),
            "/p/1.k1.a.b?lang=ja"
        );
        assert_eq!(page_path(Some("//evil.example/x"), None), "/");
        assert_eq!(page_path(Some("a"), Some("xx")), "/p/a");
    }
}
