//! Identity and access over HTTP, on SQLite and PostgreSQL: customer sign-in by emailed link
//! (through a real SMTP listener), sessions, admin roles, TOTP, CSRF, rate limits, headers.

mod common;

use app::{
    auth::{Role, base32_decode, totp_code},
    domain::Lang,
    rate::{Limit, Limits},
};
use common::{
    server::{Browser, TestServer, csrf_from},
    smtp::SmtpListener,
};
use reqwest::header;

fn set_cookie<'a>(res: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
}

/// The sign-in link in a received message (the body may be quoted-printable or base64).
fn link_in_mail(data: &str) -> String {
    let mail = mailparse::parse_mail(data.as_bytes()).unwrap();
    let body = mail.get_body().unwrap();
    body.split_whitespace()
        .find(|w| w.contains("/signin/"))
        .expect("a sign-in link in the mail")
        .to_owned()
}

fn path_of(link: &str) -> String {
    link.split_once("doui.test")
        .expect("public url")
        .1
        .to_owned()
}

async fn server_with_smtp(db: common::TestDb, smtp: &SmtpListener) -> TestServer {
    let url = smtp.url();
    TestServer::start_with(db, move |c| c.smtp_url = Some(url)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_signs_in_with_a_mailed_single_use_link() {
    for db in common::backends().await {
        let smtp = SmtpListener::start().await;
        let s = server_with_smtp(db, &smtp).await;
        let (who, _) = s.subject("hanako@example.jp", Lang::Ja).await;
        let browser = s.browser().await;

        let res = browser
            .post("/signin", &[("email", "hanako@Example.JP"), ("lang", "ja")])
            .await;
        assert_eq!(res.status(), 303, "{}", s.db.name());
        assert_eq!(res.headers()[header::LOCATION], "/signin?sent=1&lang=ja");
        let mail = smtp.wait_for(1).await.remove(0);
        assert!(mail.to[0].contains("hanako@example.jp"), "{:?}", mail.to);
        let parsed = mailparse::parse_mail(mail.data.as_bytes()).unwrap();
        assert_eq!(
            parsed
                .headers
                .iter()
                .find(|h| h.get_key() == "Subject")
                .unwrap()
                .get_value(),
            "配信設定へのログインリンク"
        );
        let path = path_of(&link_in_mail(&mail.data));

        // A mail scanner opening the link changes nothing: the page only offers a button.
        for _ in 0..2 {
            let page = browser.get(&path).await;
            assert_eq!(page.status(), 200);
            let html = page.text().await.unwrap();
            assert!(html.contains(&format!("action=\"{path}\"")), "{html}");
        }
        let hash = app::auth::token_hash(path.trim_start_matches("/signin/"));
        let link = s.db.identity().sign_in_link(&hash).await.unwrap().unwrap();
        assert!(link.used_at.is_none(), "GET used the link");
        assert_eq!(s.event_count(who).await, 0);

        // The POST uses it and starts a session: HttpOnly, SameSite=Lax.
        let res = browser.post(&path, &[("lang", "ja")]).await;
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()[header::LOCATION], "/me?lang=ja");
        let cookie = set_cookie(&res, "doui_session").unwrap().to_owned();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        assert!(!cookie.contains("Secure"), "plain http here: {cookie}");

        let me = browser.get("/me").await;
        assert_eq!(me.status(), 200);
        let html = me.text().await.unwrap();
        assert!(html.contains("h•••@example.jp"), "{html}");
        assert!(html.contains("action=\"/signout\""));

        // Single use: the same link again is refused.
        let again = s.browser().await.post(&path, &[("lang", "en")]).await;
        assert_eq!(again.status(), 403);
        assert!(
            again
                .text()
                .await
                .unwrap()
                .contains("already used or has expired")
        );

        // The signed-in customer changes their own consent with no token.
        let res = browser
            .call(
                "set_consent",
                &[
                    ("token", ""),
                    ("purpose", "newsletter"),
                    ("channel", "email"),
                    ("state", "granted"),
                ],
            )
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(s.event_count(who).await, 1);
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_addresses_get_the_same_answer_and_no_mail() {
    for db in common::backends().await {
        let smtp = SmtpListener::start().await;
        let s = server_with_smtp(db, &smtp).await;
        s.subject("known@example.jp", Lang::En).await;
        let browser = s.browser().await;
        let unknown = browser
            .post("/signin", &[("email", "nobody@example.jp"), ("lang", "en")])
            .await;
        let known = browser
            .post("/signin", &[("email", "known@example.jp"), ("lang", "en")])
            .await;
        assert_eq!(unknown.status(), known.status());
        assert_eq!(
            unknown.headers()[header::LOCATION],
            known.headers()[header::LOCATION]
        );
        let mails = smtp.wait_for(1).await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(smtp.messages().await.len(), 1, "{mails:?}");
        assert!(mails[0].to[0].contains("known@example.jp"));
        // A malformed address is a clear 400 in the user's language.
        let bad = browser
            .post("/signin", &[("email", "not-an-address"), ("lang", "ja")])
            .await;
        assert_eq!(bad.status(), 400);
        assert!(bad.text().await.unwrap().contains("メールアドレスの形式"));
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_smtp_the_mail_is_written_to_the_outbox() {
    let s = TestServer::start(common::sqlite().await).await;
    s.subject("outbox@example.jp", Lang::En).await;
    let res = s
        .browser()
        .await
        .post("/signin", &[("email", "outbox@example.jp")])
        .await;
    assert_eq!(res.status(), 303);
    let outbox = s.data_dir.join("outbox");
    let mut found = None;
    for _ in 0..50 {
        found = std::fs::read_dir(&outbox)
            .ok()
            .and_then(|mut d| d.next())
            .map(|e| e.unwrap().path());
        if found.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let eml = std::fs::read_to_string(found.expect("an .eml in the outbox")).unwrap();
    assert!(link_in_mail(&eml).starts_with("http://doui.test/signin/"));
    s.stop().await;
}

/// Signs a customer in through the mailed link; returns the browser.
async fn signed_in_customer(s: &TestServer, smtp: &SmtpListener, email: &str) -> Browser {
    let before = smtp.messages().await.len();
    let browser = s.browser().await;
    browser.post("/signin", &[("email", email)]).await;
    let mails = smtp.wait_for(before + 1).await;
    let path = path_of(&link_in_mail(&mails[before].data));
    let res = browser.post(&path, &[]).await;
    assert_eq!(res.status(), 303);
    browser
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_rotate_and_signing_out_everywhere_ends_them_all() {
    for db in common::backends().await {
        let smtp = SmtpListener::start().await;
        let s = server_with_smtp(db, &smtp).await;
        s.subject("aiko@example.jp", Lang::En).await;
        let laptop = signed_in_customer(&s, &smtp, "aiko@example.jp").await;
        let phone = signed_in_customer(&s, &smtp, "aiko@example.jp").await;
        assert_eq!(laptop.get("/me").await.status(), 200);
        assert_eq!(phone.get("/me").await.status(), 200);

        // Signing out on one device ends only that session.
        let res = phone.post("/signout", &[]).await;
        assert_eq!(res.status(), 303);
        assert!(
            set_cookie(&res, "doui_session")
                .unwrap()
                .contains("Max-Age=0")
        );
        assert_eq!(phone.get("/me").await.status(), 401);
        assert_eq!(laptop.get("/me").await.status(), 200);

        // Everywhere: a session elsewhere ends too.
        let tablet = signed_in_customer(&s, &smtp, "aiko@example.jp").await;
        let res = laptop.post("/signout", &[("everywhere", "1")]).await;
        assert_eq!(res.status(), 303);
        assert_eq!(tablet.get("/me").await.status(), 401);
        let page = laptop.get("/me").await;
        assert_eq!(page.status(), 401);
        assert!(
            page.text()
                .await
                .unwrap()
                .contains("href=\"/signin?lang=en\"")
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_center_link_may_start_a_session_for_its_subject_only() {
    for db in common::backends().await {
        let s = TestServer::start(db).await;
        let (who, token) = s.subject("linked@example.jp", Lang::En).await;
        let b = s.browser().await;
        let page = b.get(&format!("/p/{token}")).await.text().await.unwrap();
        assert!(
            page.contains("action=\"/signin/link\""),
            "the page offers it"
        );
        let res = b.post("/signin/link", &[("token", &token)]).await;
        assert_eq!(res.status(), 303);
        assert!(set_cookie(&res, "doui_session").is_some());
        let me = b.get("/me").await.text().await.unwrap();
        assert!(me.contains("l•••@example.jp"), "{me}");

        // A narrower link (one purpose, as in an unsubscribe footer) cannot.
        let narrow = s.services.unsubscribe_token(
            who,
            app::token::Scope::Purpose(app::domain::PurposeKey::parse("newsletter").unwrap()),
            None,
        );
        let res = s
            .browser()
            .await
            .post("/signin/link", &[("token", &narrow)])
            .await;
        assert_eq!(res.status(), 403);
        let forged = s
            .browser()
            .await
            .post("/signin/link", &[("token", "1.k1.x.y")])
            .await;
        assert_eq!(forged.status(), 403);
        s.stop().await;
    }
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
type RoleCase<'a> = (&'a str, Vec<(&'a str, &'a str)>, Role);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_can_do_only_what_it_may() {
    for db in common::backends().await {
        let s = TestServer::start(db).await;
        let (who, _) = s.subject("roles@example.jp", Lang::En).await;
        let id = who.to_string();
        let mut browsers = vec![("anonymous", None, s.browser().await)];
        for role in Role::ALL {
            let email = format!("{}@admins.example.jp", role.key());
            let password = s.admin(&email, role).await;
            let b = s.browser().await;
            b.admin_sign_in(&email, &password).await;
            browsers.push((role.key(), Some(role), b));
        }
        s.admin("target@admins.example.jp", Role::Viewer).await;

        let calls: Vec<RoleCase> = vec![
            ("admin/me", vec![], Role::Viewer),
            ("admin/search", vec![("query", "")], Role::Viewer),
            ("admin/chain", vec![("verify", "true")], Role::Viewer),
            ("admin/subject", vec![("id", id.as_str())], Role::Viewer),
            (
                "admin/set_consent",
                vec![
                    ("subject", id.as_str()),
                    ("purpose", "newsletter"),
                    ("channel", "email"),
                    ("state", "withdrawn"),
                    ("reason", "asked by phone"),
                ],
                Role::Operator,
            ),
            ("admin/admins", vec![], Role::Owner),
            (
                "admin/set_role",
                vec![("email", "target@admins.example.jp"), ("role", "operator")],
                Role::Owner,
            ),
            ("admin/api_keys", vec![], Role::Owner),
            (
                "admin/create_api_key",
                vec![("name", "sender"), ("scopes", "links")],
                Role::Owner,
            ),
            (
                "admin/revoke_api_key",
                vec![("id", "no-such-key")],
                Role::Owner,
            ),
        ];
        for (function, form, least) in &calls {
            for (name, role, browser) in &browsers {
                let res = browser.call(function, form).await;
                let status = res.status().as_u16();
                let body = res.text().await.unwrap();
                match role {
                    None => assert_eq!(status, 401, "{function} as {name}: {body}"),
                    Some(r) if !r.allows(*least) => {
                        assert_eq!(status, 403, "{function} as {name}: {body}");
                        assert!(body.contains("forbidden_role"), "{body}");
                    }
                    Some(_) => assert!(
                        status == 200 || (*function == "admin/revoke_api_key" && status == 404),
                        "{function} as {name}: {status} {body}"
                    ),
                }
            }
        }
        // Pages answer the same way.
        for (name, role, browser) in &browsers {
            let home = browser.get("/admin").await.status().as_u16();
            let admins = browser.get("/admin/admins").await.status().as_u16();
            match role {
                None => assert_eq!((home, admins), (401, 401), "{name}"),
                Some(Role::Owner) => assert_eq!((home, admins), (200, 200), "{name}"),
                Some(_) => assert_eq!((home, admins), (200, 403), "{name}"),
            }
        }
        // A customer's session is not an admin's.
        let customer = s.browser().await;
        let session = s
            .services
            .start_session(app::auth::Principal::Subject(who))
            .await
            .unwrap();
        let res = customer
            .client
            .post(format!("{}/api/admin/me", s.base))
            .header(
                header::COOKIE,
                format!("doui_admin={}; doui_csrf={}", session.cookie, customer.csrf),
            )
            .form(&[("csrf", customer.csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_change_records_the_admin_and_needs_a_reason() {
    for db in common::backends().await {
        let s = TestServer::start(db).await;
        let (who, _) = s.subject("behalf@example.jp", Lang::En).await;
        let id = who.to_string();
        let password = s.admin("op@admins.example.jp", Role::Operator).await;
        let op = s.browser().await;
        op.admin_sign_in("op@admins.example.jp", &password).await;
        let form = |reason: &'static str| {
            vec![
                ("subject", id.clone()),
                ("purpose", "newsletter".into()),
                ("channel", "email".into()),
                ("state", "granted".into()),
                ("reason", reason.into()),
            ]
        };
        let as_refs = |f: &Vec<(&'static str, String)>| {
            f.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>()
        };
        let no_reason = as_refs(&form(" "));
        let pairs: Vec<(&str, &str)> = no_reason.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let res = op.call("admin/set_consent", &pairs).await;
        assert_eq!(res.status(), 400);
        assert_eq!(
            res.json::<serde_json::Value>().await.unwrap()["code"],
            "reason_required"
        );
        assert_eq!(s.event_count(who).await, 0);

        let with_reason = as_refs(&form("asked by phone, ticket 42"));
        let pairs: Vec<(&str, &str)> = with_reason.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let res = op.call("admin/set_consent", &pairs).await;
        assert_eq!(res.status(), 200);
        let events = s.services.store.events_for_subject(who, 10).await.unwrap();
        assert_eq!(events.len(), 1);
        let p = &events[0].provenance;
        assert_eq!(p.source.key(), "admin");
        let admin = s
            .services
            .admin_named("op@admins.example.jp")
            .await
            .unwrap();
        assert_eq!(p.actor.to_string(), format!("admin:{}", admin.id));
        assert_eq!(p.reason.as_deref(), Some("asked by phone, ticket 42"));
        assert_eq!(p.notice_version.as_deref(), Some("2026-11"));

        // The subject page shows it with its provenance.
        let page = op
            .get(&format!("/admin/subjects/{id}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("asked by phone, ticket 42") && page.contains("admin:"),
            "{page}"
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_passwords_totp_and_rehashing() {
    for db in common::backends().await {
        let s = TestServer::start(db).await;
        let email = "owner@admins.example.jp";
        let password = s.admin(email, Role::Owner).await;
        let b = s.browser().await;

        let wrong = b
            .post(
                "/admin/signin",
                &[("email", email), ("password", "not the password")],
            )
            .await;
        assert_eq!(wrong.status(), 401);
        let unknown = b
            .post(
                "/admin/signin",
                &[
                    ("email", "ghost@admins.example.jp"),
                    ("password", "whatever-it-is"),
                ],
            )
            .await;
        assert_eq!(unknown.status(), 401, "same answer for an unknown account");

        // Weak parameters are raised at the next sign-in.
        let mut admin = s.services.admin_named(email).await.unwrap();
        use argon2::PasswordHasher;
        let weak = argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(1024, 1, 1, None).unwrap(),
        );
        let salt = argon2::password_hash::SaltString::encode_b64(&[3; 16]).unwrap();
        admin.password_hash = weak
            .hash_password(password.as_bytes(), &salt)
            .unwrap()
            .to_string();
        s.db.identity().update_admin(&admin).await.unwrap();
        b.admin_sign_in(email, &password).await;
        let rehashed = s.services.admin_named(email).await.unwrap().password_hash;
        assert!(
            rehashed.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{rehashed}"
        );

        // TOTP: once enrolled, the code is required, and each code works once.
        let secret = s.services.enroll_totp(email).await.unwrap();
        let res = b
            .post(
                "/admin/signin",
                &[("email", email), ("password", &password)],
            )
            .await;
        assert_eq!(res.status(), 401);
        assert!(res.text().await.unwrap().contains("6-digit code"));
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let code = format!(
            "{:06}",
            totp_code(&base32_decode(&secret).unwrap(), (now / 30) as u64, 6)
        );
        let ok = b
            .post(
                "/admin/signin",
                &[("email", email), ("password", &password), ("code", &code)],
            )
            .await;
        assert_eq!(ok.status(), 303);
        assert!(set_cookie(&ok, "doui_admin").is_some());
        let replay = b
            .post(
                "/admin/signin",
                &[("email", email), ("password", &password), ("code", &code)],
            )
            .await;
        assert_eq!(replay.status(), 401, "a code works once");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totp_can_be_required_by_config() {
    let s = TestServer::start_with(common::sqlite().await, |c| c.require_totp = true).await;
    let password = s.admin("viewer@admins.example.jp", Role::Viewer).await;
    let res = s
        .browser()
        .await
        .post(
            "/admin/signin",
            &[
                ("email", "viewer@admins.example.jp"),
                ("password", &password),
            ],
        )
        .await;
    assert_eq!(res.status(), 401);
    assert!(res.text().await.unwrap().contains("doui admin totp"));
    s.stop().await;
}

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
            429,
            "even a good one, for a while"
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
