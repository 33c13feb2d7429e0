//! HTTP outside the Leptos pages: health checks, the server-function endpoint (with body limits,
//! a cross-site check, errors in the user's language and POST-redirect-GET for plain forms),
//! request ids, client addresses and security headers.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use app::{
    App,
    api::{ClientIp, CsrfToken},
    auth::{CSRF_COOKIE, cookie_value, set_cookie},
    domain::Lang,
    error::ApiError,
    i18n::texts,
    services::Services,
    shell,
};
use axum::{
    Json, Router,
    body::{Body, Bytes, to_bytes},
    extract::{ConnectInfo, FromRef, FromRequest, Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{any, get, post},
};
use leptos::prelude::{LeptosOptions, provide_context};
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

/// The largest body a server function accepts (forms are a few hundred bytes).
pub const MAX_BODY: usize = 16 * 1024;

/// What every handler reaches. Shared, not copied: each middleware and handler takes it.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub services: Services,
    pub leptos_options: LeptosOptions,
    /// Deprecated: the peer is one proxy; take the right-most `X-Forwarded-For` entry.
    pub trust_forwarded_for: bool,
    /// Proxies whose `X-Forwarded-For` entries are believed (see `client_address`).
    pub trusted_proxies: Vec<Cidr>,
    /// The secret inbound mail is posted with; `None` disables `/inbound/email`.
    pub inbound_secret: Option<String>,
    /// Where posted imports are kept while they run (`<data_dir>/imports`).
    pub data_dir: std::path::PathBuf,
}

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

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
        .route("/healthz", get(healthz))
        .route("/.well-known/gpc.json", get(gpc_json))
        .route("/readyz", get(readyz))
        // Leptos adds a route for each server function; this one answers the unknown ones (and
        // any other unknown path under /api/, whatever its method).
        .route("/api/{*fn_name}", any(unknown_server_fn))
        // RFC 8058 one-click (GET is the Leptos confirmation page below).
        .route(
            "/u/{token}",
            post(crate::unsubscribe::one_click).options(crate::unsubscribe::options),
        )
        .merge(crate::auth::routes())
        .merge(crate::exports::routes())
        .leptos_routes_with_context(&state, routes, page_context(services.clone()), move || {
            shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(page_context(services), shell))
        .layer(middleware::from_fn(explain_bare_refusals))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard_server_fns,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), page_security))
        .layer(middleware::from_fn_with_state(state.clone(), client_ip))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
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
    ["/api/v1/", "/inbound/", "/pkg/", "/healthz", "/readyz"]
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

async fn healthz() -> &'static str {
    "ok"
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

async fn readyz(State(state): State<AppState>) -> Response {
    match state.services.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "database not reachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database not reachable").into_response()
        }
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

/// An address block (`192.0.2.0/24`, `2001:db8::/32`, or one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    bits: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, ip.to_canonical()) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.bits)).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.bits))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (addr, bits) = s.split_once('/').map_or((s, None), |(a, b)| (a, Some(b)));
        let net: IpAddr = addr
            .parse()
            .map(|ip: IpAddr| ip.to_canonical())
            .map_err(|_| format!("{s:?} is not an address or CIDR block"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let bits = match bits {
            None => max,
            Some(b) => b
                .parse::<u8>()
                .ok()
                .filter(|b| *b <= max)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 0 to {max}"))?,
        };
        Ok(Self { net, bits })
    }
}

/// Who the client is. The TCP peer, unless it is a trusted proxy: then `X-Forwarded-For` is read
/// from its right-most entry (the one the proxy itself added) leftwards, past every address that
/// is a trusted proxy too; the first one that is not is the client (the entries further left
/// are whatever the client chose to send). With `trust_forwarded_for` and no list, the peer is
/// the one trusted proxy: the right-most entry. An entry that is not an address ends the walk
/// at the last proxy.
pub fn client_address(
    peer: IpAddr,
    forwarded: &[&str],
    trusted: &[Cidr],
    trust_forwarded_for: bool,
) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    let peer_trusted = if trusted.is_empty() {
        trust_forwarded_for
    } else {
        is_trusted(peer)
    };
    if !peer_trusted {
        return peer;
    }
    let mut client = peer;
    for entry in forwarded.iter().rev().flat_map(|h| h.rsplit(',')) {
        let Ok(ip) = entry.trim().parse::<IpAddr>() else {
            return client;
        };
        client = ip.to_canonical();
        if trusted.is_empty() || !is_trusted(client) {
            return client;
        }
    }
    client
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whether a state-changing request comes from another site (browsers say so in `Sec-Fetch-Site`,
/// or in an `Origin` that does not match `Host`).
pub(crate) fn is_cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = header_str(headers, "sec-fetch-site") {
        return !matches!(site, "same-origin" | "none");
    }
    match (header_str(headers, "origin"), header_str(headers, "host")) {
        (Some("null"), _) => true,
        (Some(origin), Some(host)) => origin.split_once("://").map(|(_, h)| h) != Some(host),
        _ => false,
    }
}

/// The language of an answer made outside Leptos (a download, a refusal): `?lang=`, else
/// Accept-Language.
pub(crate) fn request_lang(req: &Request) -> Lang {
    let explicit = req
        .uri()
        .query()
        .and_then(|q| q.split('&').find_map(|p| p.strip_prefix("lang=")));
    let accept = header_str(req.headers(), "accept-language");
    Services::page_lang(explicit, None, accept)
}

async fn unknown_server_fn(req: Request) -> Response {
    let lang = request_lang(&req);
    (
        StatusCode::NOT_FOUND,
        Json(ApiError::new(lang, "not_found")),
    )
        .into_response()
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

/// A path on this site (`/x`, never `//host` or a scheme): safe to redirect to.
pub(crate) fn is_local_path(p: &str) -> bool {
    p.starts_with('/')
        && !p.starts_with("//")
        && !p.contains('\\')
        && p.len() < 512
        && p.bytes().all(|b| b.is_ascii_graphic())
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

pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The fields of a form body (`application/x-www-form-urlencoded` or `multipart/form-data`) whose
/// names are in `wanted`, reading at most `limit` bytes. Errors are `bad_request` or
/// `payload_too_large`.
pub(crate) async fn form_fields(
    req: Request,
    wanted: &[&str],
    limit: usize,
) -> Result<Vec<(String, String)>, &'static str> {
    let multipart = header_str(req.headers(), "content-type")
        .is_some_and(|c| c.starts_with("multipart/form-data"));
    let mut fields = Vec::new();
    if multipart {
        let mut form = axum::extract::Multipart::from_request(req, &())
            .await
            .map_err(|_| "bad_request")?;
        let mut total = 0usize;
        while let Some(field) = form.next_field().await.map_err(|_| "bad_request")? {
            let name = field.name().unwrap_or("").to_owned();
            let value = field.text().await.map_err(|_| "bad_request")?;
            total += name.len() + value.len();
            if total > limit {
                return Err("payload_too_large");
            }
            if wanted.contains(&name.as_str()) {
                fields.push((name, value));
            }
        }
    } else {
        let bytes = to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| "payload_too_large")?;
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&bytes).map_err(|_| "bad_request")?;
        fields.extend(
            pairs
                .into_iter()
                .filter(|(name, _)| wanted.contains(&name.as_str())),
        );
    }
    Ok(fields)
}

/// A whole HTML page around `body` (already escaped), for answers rendered outside Leptos.
pub(crate) fn page_document(lang: Lang, title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width, initial-scale=1\"><meta name=\"robots\" content=\"noindex\">\
         <title>{title} · Doui</title><link rel=\"stylesheet\" href=\"/pkg/doui.css\"></head><body>\
         <header class=\"top\"><a class=\"brand\" href=\"/\">Doui<span class=\"brand-ja\"> 同意</span></a></header>\
         <main id=\"main\">{body}</main></body></html>",
        lang = lang.key(),
        title = escape(title),
    )
}

/// The page a plain form gets when its change was refused.
pub(crate) fn error_page(lang: Lang, error: &ApiError, back: &str) -> String {
    let t = texts(lang);
    let back_label = if back == "/" {
        t.product
    } else {
        t.back_to_preferences
    };
    let body = format!(
        "<section class=\"card error\" role=\"alert\"><h1>{title}</h1><p>{message}</p>\
         <p><a href=\"{back}\">{back_label}</a></p></section>",
        title = escape(t.error_title),
        message = escape(&error.message),
        back = escape(back),
        back_label = escape(back_label),
    );
    page_document(lang, t.error_title, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item02_client_address_is_the_right_most_not_a_trusted_proxy() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let cidrs = |l: &[&str]| {
            l.iter()
                .map(|c| c.parse::<Cidr>().unwrap())
                .collect::<Vec<_>>()
        };
        let proxies = cidrs(&["10.0.0.0/8", "2001:db8:ff::/48"]);
        let lb = ip("10.0.0.2");
        // The client wrote "1.1.1.1" itself; the proxies appended what they saw.
        let chain = ["1.1.1.1, 198.51.100.7", "10.1.2.3"];
        assert_eq!(
            client_address(lb, &chain, &proxies, false),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_address(lb, &chain, &proxies, true),
            ip("198.51.100.7"),
            "the list wins over the old switch"
        );
        // A peer that is no proxy of ours is the client, whatever it says.
        assert_eq!(
            client_address(ip("203.0.113.9"), &chain, &proxies, false),
            ip("203.0.113.9")
        );
        // Every entry a proxy: the left-most; garbage ends the walk at the last proxy.
        assert_eq!(
            client_address(lb, &["10.9.9.9"], &proxies, false),
            ip("10.9.9.9")
        );
        assert_eq!(
            client_address(lb, &["nonsense, 10.9.9.9"], &proxies, false),
            ip("10.9.9.9")
        );
        // IPv6 proxies and IPv4-mapped peers.
        assert_eq!(
            client_address(
                ip("::ffff:10.0.0.2"),
                &["2001:db8:1::5, 2001:db8:ff::1"],
                &proxies,
                false
            ),
            ip("2001:db8:1::5")
        );
        // The old switch alone: the peer is the one proxy, the right-most entry is the client.
        assert_eq!(client_address(lb, &chain, &[], true), ip("10.1.2.3"));
        assert_eq!(client_address(lb, &chain, &[], false), lb);
        assert_eq!(client_address(lb, &[], &[], true), lb);
        // Parsing.
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("bogus".parse::<Cidr>().is_err());
        assert!("0.0.0.0/0".parse::<Cidr>().unwrap().contains(ip("8.8.8.8")));
        assert!(!"::/0".parse::<Cidr>().unwrap().contains(ip("8.8.8.8")));
        assert!(
            "192.0.2.7"
                .parse::<Cidr>()
                .unwrap()
                .contains(ip("192.0.2.7"))
        );
        assert!(
            !"192.0.2.7"
                .parse::<Cidr>()
                .unwrap()
                .contains(ip("192.0.2.8"))
        );
    }

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

    #[test]
    fn cross_site_requests_are_recognised() {
        let mut h = HeaderMap::new();
        h.insert("host", HeaderValue::from_static("127.0.0.1:3000"));
        assert!(!is_cross_site(&h));
        h.insert("origin", HeaderValue::from_static("http://127.0.0.1:3000"));
        assert!(!is_cross_site(&h));
        h.insert("origin", HeaderValue::from_static("https://evil.example"));
        assert!(is_cross_site(&h));
        h.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        assert!(!is_cross_site(&h));
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(is_cross_site(&h));
    }

    #[test]
    fn error_pages_escape_their_text() {
        let e = ApiError {
            code: "x".into(),
            message: "<script>".into(),
        };
        assert!(!error_page(Lang::En, &e, "/").contains("<script>"));
    }
}
