//! Answers made outside Leptos, shared by the route modules: HTML pages around a body, error
//! pages in the visitor's language, form fields, the request's language and the cross-site check.

use app::{
    domain::Lang,
    error::ApiError,
    i18n::texts,
    services::{Refusal, Services},
};
use axum::{
    body::to_bytes,
    extract::{FromRequest, Request},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};

pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
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

/// A path on this site (`/x`, never `//host` or a scheme): safe to redirect to.
pub(crate) fn is_local_path(p: &str) -> bool {
    p.starts_with('/')
        && !p.starts_with("//")
        && !p.contains('\\')
        && p.len() < 512
        && p.bytes().all(|b| b.is_ascii_graphic())
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
         <title>{title} · Doui</title><link rel=\"stylesheet\" href=\"/pkg/{stem}.css\"></head><body>\
         <a class=\"skip-link\" href=\"#main\">{skip}</a><header class=\"top\"><a class=\"brand\" href=\"/\">Doui<span class=\"brand-ja\"> 同意</span></a></header>\
         <main id=\"main\">{body}</main></body></html>",
        lang = lang.key(),
        title = escape(title),
        skip = app::i18n::skip_to_content(lang),
        stem = crate::ops::site::stem(),
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

/// A refusal answered as a page in the visitor's language (with `Retry-After` when it says when
/// to come back).
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

#[cfg(test)]
mod tests {
    use super::*;

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
