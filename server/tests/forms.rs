//! Embeddable signup forms (issue 34 item 6), over HTTP on SQLite and PostgreSQL: the hosted
//! form may be framed by the origins its collection point lists and nobody else; another site's
//! page may post to the CORS endpoint from a listed origin only; both only ask for a double
//! opt-in (R12, R58) whose confirmation grants the purposes with events naming the collection
//! point; a filled honeypot is dropped silently; the mail limits trip; a retired point's form
//! answers 410; refusals in Japanese and English.

mod common;

use app::domain::{CollectionPointKind, ConsentState, NewCollectionPoint};
use common::{
    server::{TestServer, path_of, server_with_smtp},
    smtp::SmtpListener,
};
use reqwest::header;

const SHOP: &str = "https://shop.example";
const LOCAL: &str = "http://127.0.0.1:4000";

/// Registers `key` with a form offering newsletter and ad_targeting to `origins`.
async fn point_with_form(s: &TestServer, key: &str, origins: &[&str]) {
    s.services
        .add_collection_point(
            NewCollectionPoint {
                key: key.into(),
                name_ja: "ニュースレター登録".into(),
                name_en: "Newsletter signup".into(),
                kind: CollectionPointKind::WebForm,
                location: "https://shop.example/".into(),
                wording: "Send me the newsletter. / ニュースレターを受け取る".into(),
                notice_version: Some("2026-forms".into()),
            },
            "cli",
        )
        .await
        .unwrap();
    let origins: Vec<String> = origins.iter().map(|o| o.to_string()).collect();
    s.services
        .set_signup_form(
            key,
            &["newsletter".into(), "ad_targeting".into()],
            &origins,
            "cli",
        )
        .await
        .unwrap();
}

/// A client without cookies (a framed page whose third-party cookies are blocked, or a script).
fn cookieless() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent("Mozilla/5.0 (forms test)")
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
}

fn csp(res: &reqwest::Response) -> String {
    res.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned()
}

/// Whether an answer says it depends on the request's `Origin`.
fn varies_by_origin(res: &reqwest::Response) -> bool {
    res.headers()
        .get_all(header::VARY)
        .iter()
        .any(|v| v.to_str().unwrap().contains("Origin"))
}

/// The hidden token of a form page.
fn token_in(html: &str) -> String {
    let at = html.find("name=\"token\" value=\"").expect("a token field") + 20;
    html[at..].split('"').next().unwrap().to_owned()
}

/// The signed token of the form page at `/forms/{path}`, fetched by `c`.
async fn form_token(c: &reqwest::Client, s: &TestServer, path: &str) -> String {
    let html = c
        .get(format!("{}/forms/{path}", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    token_in(&html)
}

/// How many double opt-in requests are stored (an UPDATE that changes nothing counts them).
async fn opt_in_requests(s: &TestServer) -> u64 {
    s.db.raw("UPDATE opt_in_requests SET lang = lang")
        .await
        .unwrap()
}

/// The confirmation link in a mail.
fn confirm_link(data: &str) -> String {
    let mail = mailparse::parse_mail(data.as_bytes()).unwrap();
    let body = mail.get_body().unwrap();
    body.split_whitespace()
        .find(|w| w.contains("/confirm/"))
        .expect("a confirmation link in the mail")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_may_be_framed_by_its_listed_origins_only() {
    for db in common::backends().await {
        let s = TestServer::start(db).await;
        point_with_form(&s, "shop-signup", &[SHOP, LOCAL]).await;
        point_with_form(&s, "unframed", &[]).await;
        let c = cookieless();

        let res = c
            .get(format!("{}/forms/shop-signup?lang=en", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{}", s.db.name());
        let policy = csp(&res);
        assert!(
            policy.contains("frame-ancestors https://shop.example http://127.0.0.1:4000"),
            "{policy}"
        );
        assert!(policy.contains("default-src 'none'") && policy.contains("form-action 'self'"));
        assert!(
            !policy.contains("script-src"),
            "the form needs no script: {policy}"
        );
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
        let html = res.text().await.unwrap();
        assert!(html.contains("action=\"/forms/shop-signup\""), "{html}");
        assert!(html.contains("value=\"newsletter\"") && html.contains("value=\"ad_targeting\""));
        assert!(
            html.contains("Send me the newsletter."),
            "the wording is shown"
        );
        assert!(html.contains("Send the confirmation"));
        // The honeypot: hidden from people and from screen readers, skipped by Tab, not filled in.
        let hp = html.find("name=\"website\"").expect("a honeypot");
        let around = &html[html[..hp].rfind("<div").unwrap()..hp + 80];
        assert!(around.contains("aria-hidden=\"true\""), "{around}");
        assert!(around.contains("tabindex=\"-1\"") && around.contains("autocomplete=\"off\""));
        assert!(!html.contains("<script"), "no script on the form");

        // Japanese by ?lang= or by the browser's language.
        let ja = c
            .get(format!("{}/forms/shop-signup", s.base))
            .header(header::ACCEPT_LANGUAGE, "ja")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(ja.contains("確認メールを送る") && ja.contains("ニュースレター登録"));

        // A form listing no origin may not be framed; nor may any other page.
        let res = c
            .get(format!("{}/forms/unframed", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert!(
            csp(&res).contains("frame-ancestors 'none'"),
            "{}",
            csp(&res)
        );
        for path in ["/", "/subscribe", "/signin"] {
            let res = c.get(format!("{}{path}", s.base)).send().await.unwrap();
            assert!(csp(&res).contains("frame-ancestors 'none'"), "{path}");
        }

        // No such form; a point without a form; a form switched off: 404 in the visitor's language.
        s.services
            .add_collection_point(
                NewCollectionPoint {
                    key: "paper-2026".into(),
                    name_ja: "紙".into(),
                    name_en: "Paper".into(),
                    kind: CollectionPointKind::Paper,
                    location: "Tokyo".into(),
                    wording: "x".into(),
                    notice_version: None,
                },
                "cli",
            )
            .await
            .unwrap();
        s.services
            .set_signup_form("unframed", &[], &[], "cli")
            .await
            .unwrap();
        for path in [
            "/forms/nope",
            "/forms/paper-2026",
            "/forms/unframed",
            "/forms/Bad!",
        ] {
            let res = c
                .get(format!("{}{path}?lang=ja", s.base))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 404, "{path}");
            assert!(csp(&res).contains("frame-ancestors 'none'"));
            assert!(
                res.text()
                    .await
                    .unwrap()
                    .contains("このフォームはありません")
            );
        }
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r12_r58_a_framed_signup_is_granted_only_by_the_mail_and_names_the_collection_point() {
    for db in common::backends().await {
        let smtp = SmtpListener::start().await;
        let s = server_with_smtp(db, &smtp).await;
        point_with_form(&s, "shop-signup", &[SHOP]).await;
        // The framed page: no cookies at all (third-party cookies blocked).
        let c = cookieless();
        let token = form_token(&c, &s, "shop-signup?lang=en").await;
        let res = c
            .post(format!("{}/forms/shop-signup", s.base))
            .header("sec-fetch-site", "same-origin")
            .form(&[
                ("token", token.as_str()),
                ("lang", "en"),
                ("email", "framed.reader@example.jp"),
                ("purpose", "newsletter"),
                ("purpose", "ad_targeting"),
                ("website", ""),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{}", s.db.name());
        assert_eq!(
            res.headers()[header::LOCATION],
            "/forms/shop-signup?sent=1&lang=en"
        );
        let sent = c
            .get(format!("{}/forms/shop-signup?sent=1&lang=en", s.base))
            .send()
            .await
            .unwrap();
        assert!(csp(&sent).contains("frame-ancestors https://shop.example"));
        assert!(sent.text().await.unwrap().contains("Check your mail"));
        // R12: nothing granted yet.
        assert!(
            s.services
                .store
                .find_subject("framed.reader@example.jp")
                .await
                .unwrap()
                .is_none()
        );
        let mail = smtp.wait_for(1).await.remove(0);
        assert!(mail.to[0].contains("framed.reader@example.jp"));
        assert!(
            mail.data.contains("Newsletter and marketing messages"),
            "{}",
            mail.data
        );
        let path = path_of(&confirm_link(&mail.data));
        let page = s.get(&path, "en").await.text().await.unwrap();
        assert!(
            page.contains("Personalised advertising"),
            "both purposes are shown"
        );

        // The person's click, on Doui's own page.
        let browser = s.browser().await;
        let res = browser.post(&path, &[("lang", "en")]).await;
        assert_eq!(res.status(), 303);
        let subject = s
            .services
            .store
            .find_subject("framed.reader@example.jp")
            .await
            .unwrap()
            .expect("confirmed");
        let events = s
            .services
            .store
            .events_for_subject(subject.id, 10)
            .await
            .unwrap();
        assert_eq!(events.len(), 2, "one click grants both purposes");
        let mut purposes: Vec<&str> = events.iter().map(|e| e.purpose.as_str()).collect();
        purposes.sort();
        assert_eq!(purposes, ["ad_targeting", "newsletter"]);
        for e in &events {
            assert_eq!(e.to, ConsentState::Granted);
            assert_eq!(e.channel.key(), "email");
            assert_eq!(
                e.provenance.collection_point.as_deref(),
                Some("shop-signup")
            );
            assert_eq!(e.provenance.notice_version.as_deref(), Some("2026-forms"));
            assert_eq!(
                e.provenance.form_url.as_deref(),
                Some("https://doui.test/forms/shop-signup")
            );
            let evidence: serde_json::Value =
                serde_json::from_str(e.provenance.reason.as_deref().unwrap()).unwrap();
            let doi = &evidence["double_opt_in"];
            assert_eq!(doi["collection_point"], "shop-signup");
            assert_eq!(doi["form_version"], 1);
            assert_eq!(doi["request_user_agent"], "Mozilla/5.0 (forms test)");
            assert_eq!(doi["request_url"], "https://doui.test/forms/shop-signup");
            assert!(doi["request_ip"].as_str().is_some());
            assert!(doi["confirmed_at"].as_str().is_some());
        }

        // The console's event list names the collection point on each.
        let owner = s.signed_in(app::auth::Role::Owner).await;
        let events_page = owner
            .get("/admin/events?lang=en")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            events_page.contains("collection-point\">Newsletter signup"),
            "{events_page}"
        );
        // The person's record and its signed receipt name it on each event.
        let link = s.services.preference_link(subject.id);
        let page_token = link.rsplit_once("/p/").unwrap().1;
        let record: serde_json::Value = s
            .client
            .get(format!("{}/p/{page_token}/record.json", s.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for e in record["history"].as_array().unwrap() {
            assert_eq!(e["collection_point"]["key"], "shop-signup", "{record}");
            assert_eq!(e["collection_point"]["notice_version"], "2026-forms");
        }
        use base64::Engine;
        let jws = record["receipt"].as_str().unwrap();
        let payload: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(jws.split('.').nth(1).unwrap())
                .unwrap(),
        )
        .unwrap();
        for e in payload["record"]["events"].as_array().unwrap() {
            assert_eq!(e["collection_point"]["key"], "shop-signup", "{payload}");
        }

        // A token from another form, or none, or a forged one: refused, in the visitor's language.
        point_with_form(&s, "other-form", &[SHOP]).await;
        let other = token_in(
            &c.get(format!("{}/forms/other-form", s.base))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
        for (t, lang, says) in [
            (other.as_str(), "ja", "フォームの有効期限が切れました"),
            ("", "en", "This form has expired"),
            ("1.forged", "en", "This form has expired"),
        ] {
            let res = c
                .post(format!("{}/forms/shop-signup", s.base))
                .form(&[
                    ("token", t),
                    ("lang", lang),
                    ("email", "x@example.jp"),
                    ("purpose", "newsletter"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 403);
            assert!(csp(&res).contains("frame-ancestors https://shop.example"));
            assert!(res.text().await.unwrap().contains(says));
        }
        // A purpose the form does not offer, none ticked, a bad address: 400 with a message.
        for (form, says) in [
            (
                vec![
                    ("email", "y@example.jp"),
                    ("purpose", "third_party_sharing"),
                ],
                "A purpose must be",
            ),
            (vec![("email", "y@example.jp")], "Choose at least one"),
            (
                vec![("email", "not-an-address"), ("purpose", "newsletter")],
                "",
            ),
        ] {
            let mut form = form;
            form.push(("token", token.as_str()));
            form.push(("lang", "en"));
            let res = c
                .post(format!("{}/forms/shop-signup", s.base))
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 400, "{form:?}");
            assert!(res.text().await.unwrap().contains(says));
        }
        assert_eq!(opt_in_requests(&s).await, 1);
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_submissions_come_from_listed_origins_only() {
    for db in common::backends().await {
        let smtp = SmtpListener::start().await;
        let s = server_with_smtp(db, &smtp).await;
        point_with_form(&s, "shop-signup", &[SHOP, LOCAL]).await;
        let c = cookieless();
        let url = format!("{}/forms/shop-signup/submit", s.base);

        // Preflight: the exact origin back, Vary: Origin; another origin gets no ACAO.
        let res = c
            .request(reqwest::Method::OPTIONS, &url)
            .header(header::ORIGIN, LOCAL)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 204, "{}", s.db.name());
        assert_eq!(res.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], LOCAL);
        assert!(varies_by_origin(&res));
        assert!(
            res.headers()[header::ACCESS_CONTROL_ALLOW_HEADERS]
                .to_str()
                .unwrap()
                .contains("content-type")
        );
        for origin in [
            "https://evil.example",
            "http://shop.example",
            "https://shop.example.evil",
            "null",
        ] {
            let res = c
                .request(reqwest::Method::OPTIONS, &url)
                .header(header::ORIGIN, origin)
                .header("access-control-request-method", "POST")
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 403, "{origin}");
            assert!(
                !res.headers()
                    .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            );
        }

        // JSON from a listed origin: accepted, answered in the visitor's language.
        let res = c
            .post(&url)
            .header(header::ORIGIN, SHOP)
            .header(header::REFERER, "https://shop.example/join?email=a%40b#top")
            .json(&serde_json::json!({
                "email": "cors.reader@example.jp",
                "purposes": ["newsletter"],
                "lang": "ja",
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 202);
        assert_eq!(res.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], SHOP);
        assert!(varies_by_origin(&res));
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["status"], "confirmation_sent");
        assert!(body["message"].as_str().unwrap().contains("確認のメール"));
        let mail = smtp.wait_for(1).await.remove(0);
        assert!(mail.to[0].contains("cors.reader@example.jp"));
        // A form body from a listed origin works too, in English by Accept-Language.
        let res = c
            .post(&url)
            .header(header::ORIGIN, LOCAL)
            .header(header::ACCEPT_LANGUAGE, "en")
            .form(&[
                ("email", "cors.form@example.jp"),
                ("purpose", "ad_targeting"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 202);
        assert_eq!(res.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], LOCAL);
        assert!(res.text().await.unwrap().contains("We sent a confirmation"));
        smtp.wait_for(2).await;

        // Another origin, or none: 403 with no ACAO, nothing stored or mailed.
        for origin in [Some("https://evil.example"), None] {
            let mut req = c.post(&url).header(header::ACCEPT_LANGUAGE, "en").json(
                &serde_json::json!({"email": "victim@example.jp", "purposes": ["newsletter"]}),
            );
            if let Some(o) = origin {
                req = req.header(header::ORIGIN, o);
            }
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), 403, "{origin:?}");
            assert!(
                !res.headers()
                    .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            );
            let e: serde_json::Value = res.json().await.unwrap();
            assert_eq!(e["code"], "origin_not_allowed");
            assert!(
                e["message"]
                    .as_str()
                    .unwrap()
                    .contains("origin is not listed")
            );
        }
        // Errors from a listed origin are readable there: ACAO, status, message in ja or en.
        for (lang, says) in [("ja", "1 つ以上"), ("en", "at least one")] {
            let res = c
                .post(&url)
                .header(header::ORIGIN, SHOP)
                .json(&serde_json::json!({"email": "z@example.jp", "lang": lang}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 400);
            assert_eq!(res.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], SHOP);
            let e: serde_json::Value = res.json().await.unwrap();
            assert_eq!(e["code"], "form_purpose_required");
            assert!(e["message"].as_str().unwrap().contains(says), "{e}");
        }
        let res = c
            .post(&url)
            .header(header::ORIGIN, SHOP)
            .header(header::CONTENT_TYPE, "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
        assert_eq!(opt_in_requests(&s).await, 2);

        // The evidence keeps the page without its query, and names the point.
        let path = path_of(&confirm_link(&mail.data));
        let browser = s.browser().await;
        assert_eq!(browser.post(&path, &[("lang", "ja")]).await.status(), 303);
        let subject = s
            .services
            .store
            .find_subject("cors.reader@example.jp")
            .await
            .unwrap()
            .unwrap();
        let events = s
            .services
            .store
            .events_for_subject(subject.id, 10)
            .await
            .unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(
            events[0].provenance.collection_point.as_deref(),
            Some("shop-signup")
        );
        assert_eq!(
            events[0].provenance.form_url.as_deref(),
            Some("https://shop.example/join")
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filled_honeypot_looks_like_success_and_keeps_and_mails_nothing() {
    for db in common::backends().await {
        let smtp = SmtpListener::start().await;
        let s = server_with_smtp(db, &smtp).await;
        point_with_form(&s, "shop-signup", &[SHOP]).await;
        let c = cookieless();
        let token = form_token(&c, &s, "shop-signup").await;
        let res = c
            .post(format!("{}/forms/shop-signup", s.base))
            .form(&[
                ("token", token.as_str()),
                ("lang", "en"),
                ("email", "bot@example.jp"),
                ("purpose", "newsletter"),
                ("website", "https://spam.example"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{}", s.db.name());
        assert_eq!(
            res.headers()[header::LOCATION],
            "/forms/shop-signup?sent=1&lang=en"
        );
        let res = c
            .post(format!("{}/forms/shop-signup/submit", s.base))
            .header(header::ORIGIN, SHOP)
            .json(&serde_json::json!({
                "email": "bot2@example.jp", "purposes": ["newsletter"], "website": "x", "lang": "en"
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 202);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["status"], "confirmation_sent");
        assert_eq!(opt_in_requests(&s).await, 0, "nothing kept");
        // A person's submission after them is the only mail.
        let res = c
            .post(format!("{}/forms/shop-signup/submit", s.base))
            .header(header::ORIGIN, SHOP)
            .json(&serde_json::json!({"email": "person@example.jp", "purposes": ["newsletter"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 202);
        smtp.wait_for(1).await;
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let mails = smtp.messages().await;
        assert_eq!(mails.len(), 1, "the robots were mailed nothing");
        assert!(mails[0].to[0].contains("person@example.jp"));
        assert!(
            s.services
                .store
                .find_subject("bot@example.jp")
                .await
                .unwrap()
                .is_none()
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_submissions_trip_the_mail_limits_per_address_and_per_client() {
    use app::rate::{Limit, Limits};
    for db in common::backends().await {
        let s = TestServer::start_with(db, |c| {
            c.limits = Limits {
                sign_in_per_address: Limit {
                    max: 2,
                    window_secs: 60,
                },
                sign_in_per_ip: Limit {
                    max: 3,
                    window_secs: 60,
                },
                ..Limits::default()
            }
        })
        .await;
        point_with_form(&s, "shop-signup", &[SHOP]).await;
        let c = cookieless();
        let url = format!("{}/forms/shop-signup/submit", s.base);
        let post = |email: &'static str, lang: &'static str| {
            c.post(&url)
                .header(header::ORIGIN, SHOP)
                .json(
                    &serde_json::json!({"email": email, "purposes": ["newsletter"], "lang": lang}),
                )
                .send()
        };
        for _ in 0..2 {
            assert_eq!(post("again@example.jp", "en").await.unwrap().status(), 202);
        }
        let res = post("again@example.jp", "ja").await.unwrap();
        assert_eq!(res.status(), 429, "per address, {}", s.db.name());
        assert!(res.headers().contains_key(header::RETRY_AFTER));
        assert_eq!(res.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], SHOP);
        let e: serde_json::Value = res.json().await.unwrap();
        assert_eq!(e["code"], "rate_limited");
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains("試行回数が多すぎます")
        );
        // The client address's own limit: a fourth request from it, whatever the address.
        assert_eq!(post("other@example.jp", "en").await.unwrap().status(), 429);
        // The hosted form's path is limited alike, with a page.
        let html = c
            .get(format!("{}/forms/shop-signup", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let res = c
            .post(format!("{}/forms/shop-signup", s.base))
            .form(&[
                ("token", token_in(&html).as_str()),
                ("lang", "en"),
                ("email", "third@example.jp"),
                ("purpose", "newsletter"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 429);
        assert!(res.headers().contains_key(header::RETRY_AFTER));
        assert!(res.text().await.unwrap().contains("Too many"));
        assert_eq!(opt_in_requests(&s).await, 2);
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retired_points_form_answers_410_and_its_pending_requests_lapse() {
    for db in common::backends().await {
        let smtp = SmtpListener::start().await;
        let s = server_with_smtp(db, &smtp).await;
        point_with_form(&s, "old-form", &[SHOP]).await;
        let c = cookieless();
        let res = c
            .post(format!("{}/forms/old-form/submit", s.base))
            .header(header::ORIGIN, SHOP)
            .json(&serde_json::json!({"email": "late@example.jp", "purposes": ["newsletter"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 202);
        let mail = smtp.wait_for(1).await.remove(0);
        let html = c
            .get(format!("{}/forms/old-form", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        s.services
            .retire_collection_point("old-form", "cli")
            .await
            .unwrap();

        for lang in ["ja", "en"] {
            let res = c
                .get(format!("{}/forms/old-form?lang={lang}", s.base))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 410, "{}", s.db.name());
            let text = res.text().await.unwrap();
            assert!(
                text.contains(if lang == "ja" {
                    "このフォームは終了しました"
                } else {
                    "has been retired"
                }),
                "{text}"
            );
        }
        let res = c
            .post(format!("{}/forms/old-form", s.base))
            .form(&[
                ("token", token_in(&html).as_str()),
                ("email", "x@example.jp"),
                ("purpose", "newsletter"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 410);
        let res = c
            .post(format!("{}/forms/old-form/submit", s.base))
            .header(header::ORIGIN, SHOP)
            .json(&serde_json::json!({"email": "x@example.jp", "purposes": ["newsletter"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 410);
        assert!(
            !res.headers()
                .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        );
        let res = c
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/forms/old-form/submit", s.base),
            )
            .header(header::ORIGIN, SHOP)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 410);
        // Its form cannot be changed any more.
        let r = s
            .services
            .set_signup_form("old-form", &["newsletter".into()], &[], "cli")
            .await
            .unwrap_err();
        assert_eq!(r.code, "collection_point_retired");

        // A request made before: its confirmation names no retired point; nothing is granted.
        let path = path_of(&confirm_link(&mail.data));
        let browser = s.browser().await;
        let res = browser.post(&path, &[("lang", "en")]).await;
        assert_eq!(res.status(), 409);
        assert!(
            s.services
                .store
                .find_subject("late@example.jp")
                .await
                .unwrap()
                .is_none()
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_settings_are_checked_versioned_and_append_only() {
    for db in common::backends().await {
        let s = TestServer::start(db).await;
        point_with_form(&s, "shop-signup", &[SHOP]).await;
        let set = |purposes: &[&str], origins: &[&str]| {
            let p: Vec<String> = purposes.iter().map(|x| x.to_string()).collect();
            let o: Vec<String> = origins.iter().map(|x| x.to_string()).collect();
            let services = s.services.clone();
            async move { services.set_signup_form("shop-signup", &p, &o, "cli").await }
        };
        for (purposes, origins, code) in [
            (
                &["newsletter"][..],
                &["http://shop.example"][..],
                "form_origin_https_required",
            ),
            (
                &["newsletter"],
                &["https://shop.example/path"],
                "form_origin_invalid",
            ),
            (
                &["newsletter"],
                &["https://*.shop.example"],
                "form_origin_invalid",
            ),
            (&["nope"], &[], "form_purpose_invalid"),
            (&["Bad Key"], &[], "form_purpose_invalid"),
        ] {
            assert_eq!(
                set(purposes, origins).await.unwrap_err().code,
                code,
                "{origins:?}"
            );
        }
        let r = s
            .services
            .set_signup_form("no-such-point", &["newsletter".into()], &[], "cli")
            .await
            .unwrap_err();
        assert_eq!(r.code, "unknown_collection_point");
        // A new version each time; origins normalised and deduplicated.
        let f = set(
            &["newsletter, ad_targeting"],
            &[
                "https://Shop.Example/",
                "https://shop.example",
                "http://localhost:3001",
            ],
        )
        .await
        .unwrap();
        assert_eq!(f.version, 2, "{}", s.db.name());
        assert_eq!(f.origins, ["https://shop.example", "http://localhost:3001"]);
        assert_eq!(f.purposes.len(), 2);
        let forms = s.services.signup_forms().await.unwrap();
        assert_eq!(forms.len(), 1);
        assert_eq!(forms[0].version, 2);
        // The database keeps every version as it was.
        assert!(
            s.db.raw("UPDATE collection_point_forms SET origins = ''")
                .await
                .is_err()
        );
        assert!(
            s.db.raw("DELETE FROM collection_point_forms")
                .await
                .is_err()
        );

        // The console: an owner sets the form with a plain HTML form; the page shows it.
        let owner = s.signed_in(app::auth::Role::Owner).await;
        let res = owner
            .post(
                "/api/admin/set_signup_form",
                &[
                    ("key", "shop-signup"),
                    ("purposes", "newsletter"),
                    ("origins", "https://shop.example\nhttps://www.shop.example"),
                    ("lang", "en"),
                    ("return_to", "/admin/collection-points?lang=en"),
                ],
            )
            .await;
        assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
        let page = owner
            .get("/admin/collection-points?lang=en")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("https://doui.test/forms/shop-signup"),
            "{page}"
        );
        assert!(page.contains("https://www.shop.example"));
        assert!(page.contains("action=\"/api/admin/set_signup_form\""));
        let res = owner
            .post(
                "/api/admin/set_signup_form",
                &[
                    ("key", "shop-signup"),
                    ("purposes", "newsletter"),
                    ("origins", "http://shop.example"),
                    ("lang", "en"),
                ],
            )
            .await;
        assert_eq!(res.status(), 400);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("An origin must use https")
        );
        // A viewer reads, but may not change it.
        let viewer = s.signed_in(app::auth::Role::Viewer).await;
        let res = viewer
            .post(
                "/api/admin/set_signup_form",
                &[("key", "shop-signup"), ("purposes", ""), ("origins", "")],
            )
            .await;
        assert_eq!(res.status(), 403);
        assert_eq!(s.services.signup_forms().await.unwrap()[0].version, 3);
        s.stop().await;
    }
}
