//! Counts and times every request by its route template (axum's `MatchedPath`: `/p/{token}`,
//! never the token itself), method and status.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request},
    http::Method,
    middleware::Next,
    response::Response,
};

use super::prometheus;

pub async fn track(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(req.method());
    let route = colon_params(route_label(
        req.extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str),
        req.uri().path(),
    ));
    let res = next.run(req).await;
    prometheus::request(method, &route, res.status().as_u16(), started.elapsed());
    res
}

/// A method a client made up must not make a label of its own.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The route's template; a path no route matched (static files, unknown pages) by its kind, so
/// that a scan of made-up paths cannot grow the label set.
fn route_label<'a>(matched: Option<&'a str>, path: &str) -> &'a str {
    match matched {
        Some(template) => template,
        None if path.starts_with("/pkg/") => "/pkg/{file}",
        None => "unmatched",
    }
}

/// `/p/{token}` as `/p/:token` (and `{*rest}` as `*rest`): braces inside a label value are
/// valid Prometheus text, but trip simpler readers of it.
fn colon_params(template: &str) -> String {
    let mut out = String::with_capacity(template.len());
    for c in template.chars() {
        match c {
            '{' => out.push(':'),
            '}' => {}
            c => out.push(c),
        }
    }
    out.replace(":*", "*")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_templates_never_raw_paths() {
        assert_eq!(route_label(Some("/p/{token}"), "/p/abc"), "/p/{token}");
        assert_eq!(colon_params("/p/{token}"), "/p/:token");
        assert_eq!(colon_params("/api/{*fn_name}"), "/api/*fn_name");
        assert_eq!(colon_params("/pkg/{file}"), "/pkg/:file");
        assert_eq!(route_label(None, "/pkg/doui.wasm"), "/pkg/{file}");
        assert_eq!(route_label(None, "/wp-admin/x.php"), "unmatched");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
    }
}
