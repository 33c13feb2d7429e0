//! `POST /do-not-sell`: California's "Do Not Sell or Share My Personal Information" (R57), the
//! plain form of the page `/do-not-sell`. A link's token or a session makes it the person's
//! opt-out (recorded as events with the request's provenance); without either it is a visitor's,
//! kept for the browser (a cookie) and, when an address is given that is a subject's, for them
//! too. Same-site posts with the page's CSRF token only; the answer is a redirect back to the
//! page, which then says the request was honoured (the same whether the address is known).

use app::{
    api::ClientIp,
    auth::{CSRF_COOKIE, SessionKind, cookie_value, set_cookie},
    do_not_sell::DO_NOT_SELL_COOKIE,
    domain::{Lang, Origin},
    services::{Refusal, Services, now},
};
use axum::{
    Router,
    extract::{Request, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Redirect, Response},
    routing::post,
};

use crate::{
    answers::{form_fields, is_cross_site, page_error},
    state::{AppState, MAX_BODY},
};

/// How long the browser keeps its opt-out (400 days, the longest browsers keep a cookie).
const COOKIE_DAYS: i64 = 400;

pub fn routes() -> Router<AppState> {
    Router::new().route("/do-not-sell", post(request))
}

async fn request(State(state): State<AppState>, req: Request) -> Response {
    let services = &state.services;
    let headers = req.headers().clone();
    let ip = req.extensions().get::<ClientIp>().map(|c| c.0);
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let browser = Services::page_lang(None, None, accept);
    if is_cross_site(&headers) {
        return page_error(browser, Refusal::new("cross_site"), "/do-not-sell");
    }
    let fields = match form_fields(req, &["csrf", "token", "email", "lang"], MAX_BODY).await {
        Ok(f) => f,
        Err(code) => return page_error(browser, Refusal::new(code), "/do-not-sell"),
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    let lang: Lang = field("lang").parse().unwrap_or(browser);
    let token = field("token").trim();
    let back = if token.is_empty() {
        format!("/do-not-sell?lang={}", lang.key())
    } else {
        format!("/do-not-sell?token={token}&lang={}", lang.key())
    };
    let csrf = cookie_value(&headers, CSRF_COOKIE).unwrap_or_default();
    if !services.csrf.matches(csrf, field("csrf")) {
        return page_error(lang, Refusal::new("csrf"), &back);
    }
    let origin = Origin::new(
        ip,
        headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok()),
    );
    let session = cookie_value(&headers, SessionKind::Customer.cookie()).unwrap_or_default();
    let outcome = if !token.is_empty() {
        match services.visitor_from_token(token, ip).await {
            Ok(v) => services.do_not_sell(&v, origin).await.map(|_| ()),
            Err(r) => Err(r),
        }
    } else {
        match services.customer(session).await {
            Ok(v) => services.do_not_sell(&v, origin).await.map(|_| ()),
            // No session (or one that ended): a visitor's request; no sign-in is needed.
            Err(_) => {
                let email = Some(field("email")).filter(|e| !e.trim().is_empty());
                services.do_not_sell_as_visitor(email, ip, origin).await
            }
        }
    };
    match outcome {
        Ok(()) => {
            let mut res = Redirect::to(&format!("{back}&done=1")).into_response();
            let cookie = set_cookie(
                DO_NOT_SELL_COOKIE,
                &now().unix_timestamp().to_string(),
                services.settings.cookie_secure,
                Some(COOKIE_DAYS * 86_400),
            );
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res
        }
        Err(r) => page_error(lang, r, &back),
    }
}
