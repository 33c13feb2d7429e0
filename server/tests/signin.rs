//! Customers signing in, over HTTP on SQLite and PostgreSQL: the emailed single-use link
//! (through a real SMTP listener), sessions and signing out, links that start a session.

mod common;

use app::domain::Lang;
use common::{
    server::{Browser, TestServer, link_in_mail, path_of, server_with_smtp, set_cookie},
    smtp::SmtpListener,
};
use reqwest::header;

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
    assert!(link_in_mail(&eml).starts_with("https://doui.test/signin/"));
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
        let smtp = SmtpListener::start().await;
        let s = server_with_smtp(db, &smtp).await;
        let (who, token) = s.subject("linked@example.jp", Lang::En).await;
        let b = s.browser().await;
        let page = b.get(&format!("/p/{token}")).await.text().await.unwrap();
        assert!(
            page.contains("action=\"/signin/link\""),
            "the page offers it"
        );
        // The link mails its subject a sign-in link (issue 30, item 9); that one starts the
        // session.
        let res = b.post("/signin/link", &[("token", &token)]).await;
        assert_eq!(res.status(), 303);
        assert!(set_cookie(&res, "doui_session").is_none());
        let mail = smtp.wait_for(1).await.remove(0);
        let res = b
            .post(&path_of(&link_in_mail(&mail.data)), &[("lang", "en")])
            .await;
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

/// Another writer holding the sign-in links: writes to them wait until `release`.
enum Held {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

async fn hold_sign_in_links(db: &common::TestDb) -> Held {
    match (&db.sqlite, &db.pg) {
        (Some(s), _) => {
            let mut conn = s.pool().acquire().await.unwrap();
            sqlx::raw_sql("BEGIN IMMEDIATE")
                .execute(&mut *conn)
                .await
                .unwrap();
            Held::Sqlite(conn)
        }
        (_, Some(p)) => {
            let mut tx = p.pool().begin().await.unwrap();
            sqlx::query("LOCK TABLE sign_in_links IN EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await
                .unwrap();
            Held::Postgres(tx)
        }
        _ => unreachable!(),
    }
}

async fn release(held: Held) {
    match held {
        Held::Sqlite(mut conn) => {
            sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await.unwrap();
        }
        Held::Postgres(tx) => tx.rollback().await.unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item18_a_registered_address_is_answered_after_the_same_work_as_an_unknown_one() {
    for db in common::backends().await {
        let smtp = SmtpListener::start().await;
        let s = server_with_smtp(db, &smtp).await;
        s.subject("timed@example.jp", Lang::En).await;
        let browser = s.browser().await;
        // While writes to the sign-in links wait, an answer that waited for its own write (an
        // fsync the unknown address never pays) would tell that the address is registered.
        let held = hold_sign_in_links(&s.db).await;
        let ask = |email: &'static str| {
            let browser = &browser;
            async move {
                let started = std::time::Instant::now();
                let res = tokio::time::timeout(
                    std::time::Duration::from_secs(4),
                    browser.post("/signin", &[("email", email), ("lang", "en")]),
                )
                .await
                .expect("answered without waiting for a write");
                (res, started.elapsed())
            }
        };
        let (known, known_took) = ask("timed@example.jp").await;
        let (unknown, unknown_took) = ask("untimed@example.jp").await;
        assert_eq!(known.status(), 303, "{}", s.db.name());
        assert_eq!(unknown.status(), known.status());
        assert_eq!(
            known.headers()[header::LOCATION],
            unknown.headers()[header::LOCATION]
        );
        assert!(
            known_took < std::time::Duration::from_secs(2),
            "{known_took:?} against {unknown_took:?}"
        );
        assert!(
            smtp.messages().await.is_empty(),
            "no link mailed before it is stored"
        );
        release(held).await;
        // Once the write goes through, the link is stored and mailed, and it works.
        let mail = smtp.wait_for(1).await.remove(0);
        assert!(mail.to[0].contains("timed@example.jp"), "{:?}", mail.to);
        let path = path_of(&link_in_mail(&mail.data));
        let res = browser.post(&path, &[("lang", "en")]).await;
        assert_eq!(res.status(), 303);
        s.stop().await;
    }
}
