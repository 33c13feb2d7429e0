//! Admins over HTTP on SQLite and PostgreSQL: each role against each admin server function and
//! page, changes on a person's behalf, passwords (argon2id, re-hashing) and TOTP.

mod common;

use app::{
    auth::{Role, base32_decode, totp_code},
    domain::Lang,
};
use common::server::{TestServer, set_cookie};
use reqwest::header;

type RoleCase<'a> = (&'a str, Vec<(&'a str, &'a str)>, Role);

/// What a viewer may download.
const DOWNLOADS: &[&str] = &[
    "/admin/chain/checkpoints.jsonl",
    "/admin/events.csv",
    "/admin/events.jsonl",
];

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
            ("admin/events", vec![], Role::Viewer),
            ("admin/chart", vec![], Role::Viewer),
            ("admin/purposes", vec![], Role::Viewer),
            (
                "admin/save_purpose",
                vec![
                    ("key", "newsletter"),
                    ("name_ja", "ニュースレター"),
                    ("name_en", "Newsletter"),
                    ("description_ja", "お知らせ"),
                    ("description_en", "News"),
                    ("mode", "opt_in"),
                    ("channel_email", "on"),
                    ("kind", "advertising"),
                ],
                Role::Owner,
            ),
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
            // Downloads need a console session of any role.
            for path in DOWNLOADS {
                let status = browser.get(path).await.status().as_u16();
                let expected = if role.is_some() { 200 } else { 401 };
                assert_eq!(status, expected, "{path} as {name}");
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
