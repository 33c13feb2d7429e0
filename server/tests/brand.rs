//! Issue 34 item 7: the sender's brand on every page: their name and logo in the header and the
//! title, their accent colour through `/brand.css` (checked for contrast when configured). Doui's
//! own look without them. On SQLite and PostgreSQL.

mod common;

use app::domain::{
    Lang,
    brand::{Accent, Brand, Logo},
};
use common::server::TestServer;
use reqwest::header;

/// A small PNG (its signature and a header chunk's worth of bytes: enough to be told apart).
fn png() -> Vec<u8> {
    [b"\x89PNG\r\n\x1a\n".as_slice(), b"\0\0\0\rIHDRlogo-bytes"].concat()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_senders_name_logo_and_accent_are_on_every_page() {
    for db in common::backends().await {
        let name = db.name();
        let logo = Logo::new(png()).unwrap();
        let logo_path = logo.path.clone();
        let s = TestServer::start_with(db, |c| {
            c.sender_name = "Ginza Books K.K.".into();
            c.brand = Brand {
                accent: Some(Accent::parse("#c8102e").unwrap()),
                logo: Some(logo),
            };
        })
        .await;
        let (_, token) = s.subject("brand@example.jp", Lang::En).await;
        for path in [
            "/signin?lang=en".to_string(),
            format!("/p/{token}"),
            "/privacy".into(),
        ] {
            let page = s.get(&path, "en").await.text().await.unwrap();
            assert!(
                page.contains("href=\"/brand.css\""),
                "{name} {path}: the accent's sheet"
            );
            assert!(
                page.contains(&format!("src=\"{logo_path}\"")),
                "{name} {path}: the logo"
            );
            assert!(
                page.contains("Ginza Books K.K."),
                "{name} {path}: the sender's name"
            );
            assert!(
                page.contains("· Ginza Books K.K.</title>"),
                "{name} {path}: the title"
            );
        }
        let css = s.get("/brand.css", "en").await;
        assert_eq!(css.status(), 200);
        assert_eq!(
            css.headers()[header::CONTENT_TYPE],
            "text/css; charset=utf-8"
        );
        let css = css.text().await.unwrap();
        assert!(
            css.contains("--accent: #c8102e; --on-accent: #ffffff;"),
            "{css}"
        );
        assert!(css.contains("prefers-color-scheme: dark"), "{css}");

        let res = s.get(&logo_path, "en").await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()[header::CONTENT_TYPE], "image/png");
        assert!(
            res.headers()[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
        assert_eq!(res.bytes().await.unwrap().as_ref(), png().as_slice());
        assert_eq!(
            s.get("/brand/logo-000000000000.png", "en").await.status(),
            404
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_brand_the_pages_are_douis_own() {
    for db in common::backends().await {
        let name = db.name();
        let s = TestServer::start_with(db, |c| c.sender_name = String::new()).await;
        let page = s.get("/signin?lang=en", "en").await.text().await.unwrap();
        assert!(!page.contains("/brand.css"), "{name}: no accent sheet");
        assert!(!page.contains("/brand/logo-"), "{name}: no logo");
        assert!(page.contains("同意"), "{name}: Doui's own name");
        assert_eq!(s.get("/brand.css", "en").await.text().await.unwrap(), "");
        s.stop().await;
    }
}
