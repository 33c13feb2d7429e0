//! The built site (wasm, JS, CSS, public files) inside the binary, each file stored as it is and
//! precompressed (gzip, brotli) by build.rs: served in the best encoding the browser accepts,
//! with an ETag, so `doui` runs from any directory. A binary built without the site (tests,
//! `cargo build` before `cargo leptos build`) has none embedded and serves `site_root` from disk.
//!
//! The script, module and stylesheet are also served under a name that carries a hash of their
//! content (`pkg/doui.<hash>.wasm`), which the pages link to: browsers keep those for a year
//! without asking again, and a new build is fetched at once because its names are new. The plain
//! names stay served (`no-cache`: asked again each time, a 304 while unchanged).

use std::{collections::HashMap, sync::LazyLock};

use axum::{
    body::Body,
    extract::Request,
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// One embedded file.
pub struct Asset {
    /// Its path under the site root, e.g. `pkg/doui.wasm`.
    pub path: &'static str,
    /// The name it is also served under, with the site's hash in it (`pkg/doui.<hash>.js`).
    pub hashed: Option<&'static str>,
    pub mime: &'static str,
    /// A quoted hash of its bytes.
    pub etag: &'static str,
    pub identity: &'static [u8],
    pub gzip: Option<&'static [u8]>,
    pub br: Option<&'static [u8]>,
}

/// The files embedded at build time (none when the site was not built first).
pub static SITE: &[Asset] = include!(concat!(env!("OUT_DIR"), "/site.rs"));

/// `doui.<hash>`: the stem of the hashed names, when the site is embedded.
static STEM: Option<&str> = include!(concat!(env!("OUT_DIR"), "/site_stem.rs"));

static BY_PATH: LazyLock<HashMap<&'static str, &'static Asset>> = LazyLock::new(|| {
    SITE.iter()
        .flat_map(|a| std::iter::once(a.path).chain(a.hashed).map(move |p| (p, a)))
        .collect()
});

/// The stem the pages name the script, module and stylesheet by (`<stem>.js`, `<stem>.wasm`,
/// `<stem>.css` under `pkg/`): the hashed one when the site is embedded, else `doui`.
pub fn stem() -> &'static str {
    STEM.unwrap_or("doui")
}

/// Whether this binary holds the site.
pub fn embedded() -> bool {
    !SITE.is_empty()
}

/// Says in the log where the site is served from.
pub fn say_where(site_root: &str) {
    if embedded() {
        tracing::info!(
            files = SITE.len(),
            "serving the site embedded in this binary"
        );
    } else if std::path::Path::new(site_root).join("pkg").exists() {
        tracing::info!(
            site_root,
            "no site embedded in this binary (it was built before the site): serving it from disk"
        );
    } else {
        tracing::warn!(
            site_root,
            "no site embedded in this binary and none built here: pages work but without styles \
             and scripts (build with `cargo leptos build --release`)"
        );
    }
}

/// Answers GET and HEAD of an embedded file; everything else goes on.
pub async fn serve_embedded(req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    let Some((path, asset)) = req
        .uri()
        .path()
        .strip_prefix('/')
        .and_then(|p| BY_PATH.get(p).map(|a| (p, *a)))
    else {
        return next.run(req).await;
    };
    answer(asset, path, req.headers(), req.method() == Method::HEAD)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Br,
    Gzip,
    Identity,
}

/// The best encoding `accept` (an Accept-Encoding value) allows among those stored.
fn choose(accept: &str, has_br: bool, has_gzip: bool) -> Encoding {
    let accepted = |name: &str| {
        accept.split(',').any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or_default().trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (coding.eq_ignore_ascii_case(name) || coding == "*") && q > 0.0
        })
    };
    if has_br && accepted("br") {
        Encoding::Br
    } else if has_gzip && accepted("gzip") {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

/// Asked by its hashed name, a file never changes: browsers keep it. By its plain name, it can
/// change with an upgrade: they ask each time (a 304 while unchanged).
fn cache_control(hashed: bool) -> &'static str {
    if hashed {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    }
}

/// `path` is the name it was asked by (without the leading `/`).
fn answer(asset: &Asset, path: &str, headers: &HeaderMap, head: bool) -> Response {
    let mut res = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == asset.etag || t.trim() == "*")
        }) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let accept = headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let (bytes, encoding) = match choose(accept, asset.br.is_some(), asset.gzip.is_some()) {
            Encoding::Br => (asset.br.unwrap_or(asset.identity), Some("br")),
            Encoding::Gzip => (asset.gzip.unwrap_or(asset.identity), Some("gzip")),
            Encoding::Identity => (asset.identity, None),
        };
        let mut res = Response::new(if head {
            Body::empty()
        } else {
            Body::from(bytes)
        });
        let h = res.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.mime));
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
        if let Some(e) = encoding {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(e));
        }
        res
    };
    let h = res.headers_mut();
    h.insert(header::ETAG, HeaderValue::from_static(asset.etag));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control(asset.hashed == Some(path))),
    );
    if asset.br.is_some() || asset.gzip.is_some() {
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    static WASM: Asset = Asset {
        path: "pkg/doui.wasm",
        hashed: Some("pkg/doui.0123456789abcdef.wasm"),
        mime: "application/wasm",
        etag: "\"0123456789abcdef\"",
        identity: b"identity",
        gzip: Some(b"gz"),
        br: Some(b"br"),
    };

    fn get(accept: &str, etag: Option<&str>) -> Response {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(accept).unwrap(),
        );
        if let Some(e) = etag {
            h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(e).unwrap());
        }
        answer(&WASM, "pkg/doui.wasm", &h, false)
    }

    fn encoding(r: &Response) -> Option<&str> {
        r.headers()
            .get(header::CONTENT_ENCODING)
            .map(|v| v.to_str().unwrap())
    }

    #[test]
    fn the_best_accepted_encoding_is_served() {
        assert_eq!(encoding(&get("gzip, deflate, br", None)), Some("br"));
        assert_eq!(encoding(&get("gzip", None)), Some("gzip"));
        assert_eq!(encoding(&get("br;q=0, gzip", None)), Some("gzip"));
        assert_eq!(encoding(&get("", None)), None);
        assert_eq!(encoding(&get("identity", None)), None);
        let r = get("br", None);
        assert_eq!(r.headers()[header::CONTENT_LENGTH], "2");
        assert_eq!(r.headers()[header::VARY], "accept-encoding");
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/wasm");
    }

    #[test]
    fn an_unchanged_file_is_not_sent_again() {
        let r = get("br", Some("\"0123456789abcdef\""));
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(get("br", Some("\"other\"")).status(), StatusCode::OK);
    }

    #[test]
    fn only_the_hashed_name_is_immutable() {
        let cache = |path| {
            answer(&WASM, path, &HeaderMap::new(), true).headers()[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(cache("pkg/doui.wasm"), "no-cache");
        assert_eq!(
            cache("pkg/doui.0123456789abcdef.wasm"),
            "public, max-age=31536000, immutable"
        );
    }
}
