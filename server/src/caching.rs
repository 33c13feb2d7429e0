//! How long a browser may keep a page. Pages that hold no personal data (the home page, the
//! privacy notice, the sign-in and sign-up forms, the Do Not Sell page) as a visitor without a
//! session sees them are kept for five minutes by the browser alone (`private`: each carries
//! its own CSRF token and script nonce, so no shared cache may hand it to someone else). Every
//! other page — a person's preferences, an unsubscribe, the console, anything asked with a
//! query or by someone signed in — is `no-store`: it is not written to disk or shown again from
//! the back button on a shared computer. Answers that say their own caching keep it.

use app::auth::{SessionKind, cookie_value};
use axum::{
    extract::Request,
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::Response,
};

/// What a page that holds no personal data may be kept for.
pub const PUBLIC_PAGE: &str = "private, max-age=300";
/// What every other page gets.
pub const PERSONAL_PAGE: &str = "no-store";

/// The pages that show the same to every visitor without a session.
const PUBLIC_PATHS: &[&str] = &[
    "/",
    "/privacy",
    "/signin",
    "/subscribe",
    "/do-not-sell",
    "/admin/signin",
];

/// Cookies that make a page someone's own: a person's or an admin's session, and a visitor's
/// Do Not Sell choice (the page then says it is recorded).
fn personal_cookies() -> [&'static str; 3] {
    [
        SessionKind::Customer.cookie(),
        SessionKind::Admin.cookie(),
        app::do_not_sell::DO_NOT_SELL_COOKIE,
    ]
}

/// The Cache-Control of an HTML page asked by `method` at `path` (`query` when it has one).
pub fn page_cache_control(
    method: &Method,
    path: &str,
    query: Option<&str>,
    request: &HeaderMap,
    status: StatusCode,
) -> &'static str {
    let public = matches!(*method, Method::GET | Method::HEAD)
        && status == StatusCode::OK
        && query.is_none_or(str::is_empty)
        && PUBLIC_PATHS.contains(&path)
        && !personal_cookies()
            .iter()
            .any(|c| cookie_value(request, c).is_some());
    if public { PUBLIC_PAGE } else { PERSONAL_PAGE }
}

/// Puts the Cache-Control on HTML answers that have none.
pub async fn page_caching(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let headers = req.headers().clone();
    let mut res = next.run(req).await;
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    if !html || res.headers().contains_key(header::CACHE_CONTROL) {
        return res;
    }
    let value = page_cache_control(&method, &path, query.as_deref(), &headers, res.status());
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    if value == PUBLIC_PAGE {
        // The language comes from the cookie or Accept-Language: a change asks again.
        h.append(header::VARY, HeaderValue::from_static("accept-language"));
        h.append(header::VARY, HeaderValue::from_static("cookie"));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(path: &str, query: Option<&str>, cookie: Option<&str>) -> &'static str {
        let mut h = HeaderMap::new();
        if let Some(c) = cookie {
            h.insert(header::COOKIE, HeaderValue::from_str(c).unwrap());
        }
        page_cache_control(&Method::GET, path, query, &h, StatusCode::OK)
    }

    #[test]
    fn only_pages_without_personal_data_are_kept() {
        assert_eq!(cache("/", None, None), PUBLIC_PAGE);
        assert_eq!(cache("/privacy", None, Some("doui_csrf=a.b")), PUBLIC_PAGE);
        assert_eq!(cache("/p/abc", None, None), PERSONAL_PAGE);
        assert_eq!(cache("/u/abc", None, None), PERSONAL_PAGE);
        assert_eq!(cache("/me", None, None), PERSONAL_PAGE);
        assert_eq!(cache("/admin", None, None), PERSONAL_PAGE);
        assert_eq!(
            cache("/subscribe", Some("email=a@b.jp"), None),
            PERSONAL_PAGE
        );
        assert_eq!(cache("/", None, Some("doui_session=x")), PERSONAL_PAGE);
        assert_eq!(
            cache("/do-not-sell", None, Some("doui_dns=1")),
            PERSONAL_PAGE
        );
        let h = HeaderMap::new();
        assert_eq!(
            page_cache_control(&Method::GET, "/", None, &h, StatusCode::NOT_FOUND),
            PERSONAL_PAGE
        );
        assert_eq!(
            page_cache_control(&Method::POST, "/signin", None, &h, StatusCode::OK),
            PERSONAL_PAGE
        );
    }
}
