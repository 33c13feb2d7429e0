//! Protection for everyone, over HTTP: cross-site and tokenless posts refused, rate limits that
//! trip and recover, security headers with the script nonce, Secure cookies.

mod common;

use app::{
    auth::Role,
    domain::Lang,
    rate::{Limit, Limits},
};
use common::server::{TestServer, csrf_from, set_cookie};
use reqwest::header;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_and_tokenless_posts_are_refused() {
    for db in common::backends().await {
        let s = TestServer::start(db).await;
        let (who, token) = s.subject("csrf@example.jp", Lang::En).await;
        let consent = [
            ("token", token.as_str()),
            ("purpose", "newsletter"),
            ("channel", "email"),
            ("state", "granted"),
        ];
        // A server function without the CSRF field, with a forged one, or with no cookie.
        let mut no_field = consent.to_vec();
        no_field.push(("csrf", ""));
        assert_eq!(s.call("set_consent", &no_field).await.status(), 403);
        let mut forged = consent.to_vec();
        forged.push(("csrf", "AAAAAAAAAAAAAAAAAAAAAAAA.forged"));
        let res = s.call("set_consent", &forged).await;
        assert_eq!(res.status(), 403);
        assert_eq!(
            res.json::<serde_json::Value>().await.unwrap()["code"],
            "csrf"
        );
        let cookieless = reqwest::Client::new()
            .post(format!("{}/api/set_consent", s.base))
            .form(&[consent.as_slice(), &[("csrf", s.csrf.as_str())]].concat())
            .send()
            .await
            .unwrap();
        assert_eq!(cookieless.status(), 403);
        // Another site's form, even with a token.
        let res = s
            .client
            .post(format!("{}/signin", s.base))
            .header("sec-fetch-site", "cross-site")
            .form(&[("email", "csrf@example.jp"), ("csrf", s.csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
        for path in ["/signin", "/admin/signin", "/signout", "/admin/api-keys"] {
            let res = s
                .client
                .post(format!("{}{path}", s.base))
                .header("origin", "https://evil.example")
                .form(&[("email", "x@example.jp"), ("csrf", s.csrf.as_str())])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 403, "{path}");
        }
        assert_eq!(s.event_count(who).await, 0);
        // With the token it works.
        assert_eq!(s.call("set_consent", &consent).await.status(), 200);
        assert_eq!(s.event_count(who).await, 1);
        s.stop().await;
    }
}

/// (server function, its form, the least role allowed to call it)
fn short_limits() -> Limits {
    Limits {
        sign_in_per_address: Limit {
            max: 2,
            window_secs: 2,
        },
        sign_in_per_ip: Limit {
            max: 50,
            window_secs: 2,
        },
        token_failures_per_ip: Limit {
            max: 3,
            window_secs: 2,
        },
        password_failures_per_ip: Limit {
            max: 50,
            window_secs: 2,
        },
        password_free_failures: 2,
        password_max_delay_secs: 2,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_trip_with_a_clear_429_and_recover() {
    for db in common::backends().await {
        let s = TestServer::start_with(db, |c| c.limits = short_limits()).await;
        let b = s.browser().await;
        // Sign-in mails per address.
        for _ in 0..2 {
            let res = b.post("/signin", &[("email", "many@example.jp")]).await;
            assert_eq!(res.status(), 303);
        }
        let res = b
            .post("/signin", &[("email", "many@example.jp"), ("lang", "ja")])
            .await;
        assert_eq!(res.status(), 429);
        assert!(res.headers().contains_key(header::RETRY_AFTER));
        assert!(res.text().await.unwrap().contains("試行回数が多すぎます"));

        // Refused link tokens per client address.
        for _ in 0..3 {
            assert_eq!(b.get("/p/1.k1.forged.token").await.status(), 403);
        }
        let res = b.get("/p/1.k1.forged.token").await;
        assert_eq!(res.status(), 429);
        let (_, token) = s.subject("limited@example.jp", Lang::En).await;
        assert_eq!(
            b.get(&format!("/p/{token}")).await.status(),
            200,
            "a good one is never refused for the bad ones"
        );

        // Admin passwords: after the free failures each try waits 1 s, then 2 s…
        let password = s.admin("slow@admins.example.jp", Role::Viewer).await;
        let wrong = [
            ("email", "slow@admins.example.jp"),
            ("password", "wrong-password"),
        ];
        for _ in 0..2 {
            assert_eq!(b.post("/admin/signin", &wrong).await.status(), 401);
        }
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        assert_eq!(b.post("/admin/signin", &wrong).await.status(), 401);
        let res = b
            .post(
                "/admin/signin",
                &[("email", "slow@admins.example.jp"), ("password", &password)],
            )
            .await;
        assert_eq!(res.status(), 429, "even the right password waits");
        assert!(res.headers().contains_key(header::RETRY_AFTER));

        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        assert_eq!(
            b.post("/signin", &[("email", "many@example.jp")])
                .await
                .status(),
            303
        );
        assert_eq!(b.get(&format!("/p/{token}")).await.status(), 200);
        b.admin_sign_in("slow@admins.example.jp", &password).await;
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_carries_the_security_headers_and_the_script_nonce() {
    let s = TestServer::start(common::sqlite().await).await;
    let (_, token) = s.subject("headers@example.jp", Lang::En).await;
    for path in [
        "/",
        &format!("/p/{token}"),
        "/signin",
        "/admin/signin",
        "/nope",
    ] {
        let res = s.get(path, "en").await;
        let h = res.headers().clone();
        let csp = h[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("'wasm-unsafe-eval'") && csp.contains("object-src 'none'"));
        assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|r| r.split('\'').next())
            .unwrap()
            .to_owned();
        let html = res.text().await.unwrap();
        if html.contains("<script") {
            assert!(
                html.contains(&format!("nonce=\"{nonce}\"")),
                "{path}: scripts carry the nonce"
            );
        }
    }
    let a = s.get("/", "en").await;
    let b = s.get("/", "en").await;
    assert_ne!(
        a.headers()[header::CONTENT_SECURITY_POLICY],
        b.headers()[header::CONTENT_SECURITY_POLICY],
        "a new nonce each response"
    );
    // The CSRF cookie is HttpOnly and only made here.
    let fresh = reqwest::Client::new()
        .get(format!("{}/", s.base))
        .send()
        .await
        .unwrap();
    let cookie = set_cookie(&fresh, "doui_csrf").unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    assert!(s.services.csrf.is_valid(&csrf_from(&fresh).unwrap()));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secure_cookies_over_tls() {
    let s = TestServer::start_with(common::sqlite().await, |c| c.cookie_secure = true).await;
    let res = reqwest::Client::new()
        .get(format!("{}/", s.base))
        .send()
        .await
        .unwrap();
    assert!(set_cookie(&res, "doui_csrf").unwrap().ends_with("Secure"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item03_refused_token_limiter_never_refuses_a_valid_link() {
    for db in common::backends().await {
        let s = TestServer::start_with(db, |c| c.limits = short_limits()).await;
        let (who, token) = s.subject("valid@example.jp", Lang::En).await;
        let b = s.browser().await;
        // Garbage from the same address (one NAT, one proxy) until the limiter trips.
        for _ in 0..3 {
            assert_eq!(b.get("/p/1.k1.forged.token").await.status(), 403);
        }
        assert_eq!(b.get("/p/1.k1.forged.token").await.status(), 429);
        assert_eq!(s.one_click("1.k1.forged.token").await.status(), 429);
        // A person's valid links from that address still work: the page, the unsubscribe
        // page and the RFC 8058 one-click POST.
        assert_eq!(b.get(&format!("/p/{token}")).await.status(), 200);
        let unsubscribe = s
            .services
            .unsubscribe_token(who, app::token::Scope::AllMarketing, None);
        assert_eq!(b.get(&format!("/u/{unsubscribe}")).await.status(), 200);
        assert_eq!(s.one_click(&unsubscribe).await.status(), 200);
        // And the garbage is still refused.
        assert_eq!(b.get("/p/1.k1.forged.token").await.status(), 429);
        s.stop().await;
    }
}
