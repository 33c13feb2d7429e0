//! Protection for everyone, over HTTP: cross-site and tokenless posts refused, rate limits that
//! trip and recover, security headers with the script nonce, Secure cookies.

mod common;

use app::{
    auth::Role,
    domain::Lang,
    rate::{Limit, Limits},
};
use common::server::{Browser, TestServer, csrf_from, set_cookie};
use reqwest::header;

/// An admin sign-in form posted through a proxy that says the client is `client`.
async fn sign_in_from(b: &Browser, client: &str, email: &str, password: &str) -> reqwest::Response {
    b.client
        .post(format!("{}/admin/signin", b.base))
        .header(header::ACCEPT, "text/html")
        .header("sec-fetch-site", "same-origin")
        .header("x-forwarded-for", client)
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf", b.csrf.as_str()),
        ])
        .send()
        .await
        .unwrap()
}

/// The test server behind a proxy at 127.0.0.1 (the tests' own address).
fn behind_a_proxy(c: &mut ::server::config::Config) {
    c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
}

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
        inbound_sms_per_ip: Limit {
            max: 50,
            window_secs: 2,
        },
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
async fn item01_parallel_admin_sign_ins_verify_at_most_the_allowed_number() {
    for db in common::backends().await {
        let s = TestServer::start_with(db, behind_a_proxy).await;
        let limits = s.services.settings.limits;
        s.admin("burst@admins.example.jp", Role::Owner).await;
        let b = s.browser().await;
        // 60 wrong passwords at once from one address: each try is counted before its
        // password is checked, so only the free failures are ever verified (401).
        let tries = (0..60).map(|_| {
            sign_in_from(
                &b,
                "198.51.100.1",
                "burst@admins.example.jp",
                "wrong-password-guess",
            )
        });
        let statuses: Vec<u16> = futures_util::future::join_all(tries)
            .await
            .iter()
            .map(|r| r.status().as_u16())
            .collect();
        let verified = statuses.iter().filter(|&&c| c == 401).count();
        assert!(
            statuses.iter().all(|c| [401, 429, 503].contains(c)),
            "{statuses:?}"
        );
        assert!(
            verified <= limits.password_free_failures as usize,
            "{verified} verified: {statuses:?}"
        );
        assert!(verified >= 1, "{statuses:?}");
        // Waves no bigger than the hashing bound (none is turned away as busy), just enough of
        // them to pass the free failures: the tries of a wave are all checked before any is
        // verified, and still only the free failures are (a later try would have to wait).
        let gate = &s.services.limiter.hashing;
        s.admin("waves@admins.example.jp", Role::Owner).await;
        let free = limits.password_free_failures as usize;
        let size = match gate.permits().max(2) {
            n if n == free => n + 1,
            n => n,
        };
        let mut verified = 0;
        for _ in 0..free.div_ceil(size) {
            let wave = (0..size).map(|_| {
                sign_in_from(
                    &b,
                    "198.51.100.2",
                    "waves@admins.example.jp",
                    "wrong-password-guess",
                )
            });
            for res in futures_util::future::join_all(wave).await {
                assert!([401, 429].contains(&res.status().as_u16()));
                verified += usize::from(res.status() == 401);
            }
        }
        assert_eq!(verified, free);

        // From 100 addresses against 100 accounts no limit applies; the hashing bound does:
        // no more hashes run at once than the machine has cores, the rest are told at once to
        // come back (503), and nothing else fails.
        let tries = (0..100).map(|i| {
            let (client, email) = (
                format!("203.0.113.{i}"),
                format!("nobody{i}@admins.example.jp"),
            );
            let b = &b;
            async move { sign_in_from(b, &client, &email, "wrong-password-guess").await }
        });
        let statuses: Vec<u16> = futures_util::future::join_all(tries)
            .await
            .iter()
            .map(|r| r.status().as_u16())
            .collect();
        assert!(
            statuses.iter().all(|c| [401, 503].contains(c)),
            "{statuses:?}"
        );
        assert!(
            gate.peak() <= gate.permits(),
            "{} hashes ran at once, the bound is {}",
            gate.peak(),
            gate.permits()
        );
        assert!(statuses.contains(&503), "{statuses:?}");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item02_the_client_address_is_the_right_most_one_not_a_trusted_proxy() {
    for db in common::backends().await {
        let s = TestServer::start_with(db, |c| {
            c.limits = short_limits();
            behind_a_proxy(c);
        })
        .await;
        let (who, token) = s.subject("proxied@example.jp", Lang::En).await;
        let b = s.browser().await;
        let via = |client: String, path: String| {
            b.client
                .get(format!("{}{path}", b.base))
                .header("x-forwarded-for", client)
                .send()
        };
        // The client varies what it writes itself; the proxy appends the address it saw.
        for i in 0..3 {
            let res = via(
                format!("10.0.0.{i}, 198.51.100.20"),
                "/p/1.k1.forged".into(),
            )
            .await
            .unwrap();
            assert_eq!(res.status(), 403);
        }
        let res = via("10.0.0.9, 198.51.100.20".into(), "/p/1.k1.forged".into())
            .await
            .unwrap();
        assert_eq!(res.status(), 429, "counted by the address the proxy saw");
        // IPv6 clients are counted by their /64.
        for i in 0..3 {
            let res = via(format!("2001:db8:1:2::{i:x}"), "/p/1.k1.forged".into())
                .await
                .unwrap();
            assert_eq!(res.status(), 403);
        }
        let res = via("2001:db8:1:2:ffff::1".into(), "/p/1.k1.forged".into())
            .await
            .unwrap();
        assert_eq!(res.status(), 429, "another address of the same /64");
        let res = via("2001:db8:1:3::1".into(), "/p/1.k1.forged".into())
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "another /64");

        // The evidence of a change records the same address, truncated.
        let res = b
            .client
            .post(format!("{}/api/set_consent", b.base))
            .header(header::ACCEPT, "application/json")
            .header("x-forwarded-for", "192.0.2.1, 203.0.113.77")
            .form(&[
                ("token", token.as_str()),
                ("purpose", "newsletter"),
                ("channel", "email"),
                ("state", "granted"),
                ("csrf", b.csrf.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let events = s.services.store.events_for_subject(who, 10).await.unwrap();
        assert_eq!(
            events[0].provenance.origin.ip.as_deref(),
            Some("203.0.113.0/24")
        );
        s.stop().await;
    }
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
        let refused = s.one_click("1.k1.forged.token").await;
        assert_eq!(refused.status(), 429);
        // A mail provider's retry knows when (RFC 8058 POSTs are machine-made).
        let wait: i64 = refused.headers()[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(wait >= 1, "{wait}");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item04_nobody_can_lock_an_admin_out_from_elsewhere() {
    for db in common::backends().await {
        let s = TestServer::start_with(db, |c| {
            c.limits = Limits {
                password_max_delay_secs: 900,
                ..short_limits()
            };
            behind_a_proxy(c);
        })
        .await;
        let email = "owner@admins.example.jp";
        let password = s.admin(email, Role::Owner).await;
        let b = s.browser().await;
        // Someone keeps sending wrong passwords for the owner's account from their address
        // until each try must wait (the waits double: 1 s, 2 s, 4 s…; a debug build's argon2
        // takes about as long as the first).
        for _ in 0..2 {
            let res = sign_in_from(&b, "203.0.113.66", email, "wrong-password-guess").await;
            assert_eq!(res.status(), 401);
        }
        let mut tries = 0;
        loop {
            let res = sign_in_from(&b, "203.0.113.66", email, "wrong-password-guess").await;
            if res.status() == 429 {
                break;
            }
            assert_eq!(res.status(), 401);
            tries += 1;
            assert!(tries < 6, "the back-off never tripped");
        }
        // From there even the right password waits…
        let res = sign_in_from(&b, "203.0.113.66", email, &password).await;
        assert_eq!(res.status(), 429);
        // …but the owner, from an address that is not failing, gets in at once.
        let owner = s.browser().await;
        let res = sign_in_from(&owner, "198.51.100.8", email, &password).await;
        assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
        s.stop().await;
    }
}

/// Issue 33: the account-protection limits are counted by every instance sharing the database:
/// tries spread over two instances (two services over one database, each with its own table in
/// memory) are refused once their sum reaches the limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_protection_limits_are_shared_by_every_instance() {
    use std::{net::IpAddr, sync::Arc};
    for db in common::backends().await {
        if !db.identity().limits_shared() {
            // SQLite: one process owns the database; its table in memory is the whole count
            // (a sign-in never waits for a write). The store's own records still count right.
            assert_eq!(db.name(), "sqlite");
            let store = db.identity();
            let once = app::rate::LimitOp::Hit(Limit {
                max: 1,
                window_secs: 60,
            });
            assert!(store.apply_limit("k", once, 1_000).await.unwrap().is_ok());
            assert!(store.apply_limit("k", once, 1_001).await.unwrap().is_err());
            db.cleanup().await;
            continue;
        }
        let instance = || {
            let mut s = common::services(&db);
            s.settings = Arc::new(app::services::Settings {
                limits: Limits {
                    sign_in_per_address: Limit {
                        max: 2,
                        window_secs: 60,
                    },
                    password_failures_per_ip: Limit {
                        max: 2,
                        window_secs: 60,
                    },
                    ..short_limits()
                },
                ..(*s.settings).clone()
            });
            s
        };
        let (a, b) = (instance(), instance());
        let ip: Option<IpAddr> = Some("198.51.100.7".parse().unwrap());
        let name = db.name();

        // Sign-in mails for one address: one on each instance, the third refused on either.
        a.request_sign_in("shared@example.jp", ip).await.unwrap();
        b.request_sign_in("shared@example.jp", ip).await.unwrap();
        for s in [&a, &b] {
            let r = s
                .request_sign_in("shared@example.jp", ip)
                .await
                .unwrap_err();
            assert_eq!(r.code, "rate_limited", "{name}");
            assert!(r.retry_after.is_some_and(|s| s > 0 && s <= 60), "{name}");
        }

        // Refused link tokens from one address (3 allowed in the window).
        for s in [&a, &b, &a] {
            let r = s
                .token_refused(ip, app::services::Refusal::new("invalid_token"))
                .await;
            assert_eq!(r.code, "invalid_token", "{name}");
        }
        let r = b
            .token_refused(ip, app::services::Refusal::new("invalid_token"))
            .await;
        assert_eq!(
            r.code, "rate_limited",
            "{name}: the fourth, on the other instance"
        );

        // Wrong admin passwords from one address: one on each instance, the third refused.
        for s in [&a, &b] {
            let Err(r) = s
                .admin_sign_in("nobody@admins.example.jp", "wrong-password", None, ip)
                .await
            else {
                panic!("{name}: signed in with a wrong password")
            };
            assert_eq!(r.code, "sign_in_failed", "{name}");
        }
        let Err(r) = a
            .admin_sign_in("nobody@admins.example.jp", "wrong-password", None, ip)
            .await
        else {
            panic!("{name}: signed in with a wrong password")
        };
        assert_eq!(
            r.code, "rate_limited",
            "{name}: waits after failures on both"
        );

        // Records nobody touched for a day are forgotten; fresh ones stay.
        assert_eq!(a.prune_limits().await.unwrap(), 0, "{name}");
        db.cleanup().await;
    }
}
