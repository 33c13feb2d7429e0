//! HTTP tests: the real server on a random port, driven like a browser (with and without
//! JavaScript) and like a hostile client.

mod common;

use std::sync::Arc;

use app::{
    domain::{ConsentState, Lang, Source, SubjectId},
    token::{Claims, Keyring, Scope, SigningKey},
};
use common::server::{TestServer, servers};
use reqwest::{StatusCode, header};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_readiness_answer() {
    for s in servers().await {
        assert_eq!(s.get("/healthz", "en").await.text().await.unwrap(), "ok");
        let ready = s.get("/readyz", "en").await;
        assert_eq!(ready.status(), StatusCode::OK);
        assert!(
            ready.headers().contains_key("x-request-id"),
            "every response carries a request id"
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_speaks_the_subjects_language_then_the_browsers_with_a_switch() {
    for s in servers().await {
        let (_, token) = s.subject("hanako@example.jp", Lang::Ja).await;
        let page = s.get(&format!("/p/{token}"), "en").await;
        assert_eq!(page.status(), StatusCode::OK);
        let headers = page.headers().clone();
        let html = page.text().await.unwrap();
        assert!(
            html.contains("lang=\"ja\""),
            "the subject's language wins over Accept-Language"
        );
        assert!(html.contains("ニュースレター・お知らせ") && html.contains("配信・同意の設定"));
        assert!(html.contains("role=\"switch\"") && html.contains("aria-checked=\"false\""));
        assert!(
            html.contains("既定（同意するまでオフ）"),
            "the default is shown as a default"
        );
        assert!(html.contains("?lang=en"), "there is a language switch");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert_eq!(headers["x-content-type-options"], "nosniff");

        let english = s
            .get(&format!("/p/{token}?lang=en"), "ja")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            english.contains("lang=\"en\"")
                && english.contains("Newsletter and marketing messages")
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_without_a_valid_token_is_refused_in_the_visitors_language() {
    for s in servers().await {
        let (_, token) = s.subject("x@example.com", Lang::En).await;
        let foreign = Keyring::new(vec![SigningKey::new("k1", vec![9; 32]).unwrap()])
            .unwrap()
            .sign(&Claims {
                subject: SubjectId(uuid::Uuid::now_v7()),
                scope: Scope::Everything,
                issued_at: 0,
                expires_at: None,
                campaign: None,
            });
        let last = if token.ends_with('A') { 'B' } else { 'A' };
        let tampered = format!("{}{last}", &token[..token.len() - 1]);
        for bad in ["nonsense", tampered.as_str(), foreign.as_str()] {
            let ja = s.get(&format!("/p/{bad}"), "ja,en;q=0.5").await;
            assert_eq!(ja.status(), StatusCode::FORBIDDEN, "token {bad}");
            assert!(ja.text().await.unwrap().contains("このリンクは無効です"));
            let en = s.get(&format!("/p/{bad}"), "en-US").await;
            assert_eq!(en.status(), StatusCode::FORBIDDEN);
            assert!(en.text().await.unwrap().contains("This link is not valid"));
        }
        let missing = s.get("/no/such/page", "en").await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_toggle_through_the_server_function_records_an_event_with_provenance() {
    for s in servers().await {
        let (who, token) = s.subject("alex@example.com", Lang::En).await;
        let res = s
            .call(
                "set_consent",
                &[
                    ("token", &token),
                    ("purpose", "newsletter"),
                    ("channel", "email"),
                    ("state", "granted"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let view: app::view::PreferenceView = res.json().await.unwrap();
        let cell = &view.purposes[0].cells[0];
        assert!(cell.on && cell.choice == Some(ConsentState::Granted) && cell.updated_at.is_some());
        assert_eq!(view.history.len(), 1);

        let events = s.services.store.events_for_subject(who, 10).await.unwrap();
        assert_eq!(events.len(), 1);
        let p = &events[0].provenance;
        assert_eq!(p.source, Source::PreferenceCenter);
        assert_eq!(p.notice_version.as_deref(), Some("2026-11"));
        assert_eq!(
            p.origin.ip.as_deref(),
            Some("127.0.0.0/24"),
            "the address is kept truncated"
        );
        assert!(p.origin.user_agent.is_some());
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_form_post_changes_the_consent_and_returns_to_the_page() {
    for s in servers().await {
        let (who, token) = s.subject("taro@example.jp", Lang::Ja).await;
        let form = [
            ("token", token.as_str()),
            ("purpose", "newsletter"),
            ("channel", "sms"),
            ("state", "granted"),
            ("lang", "ja"),
            ("idempotency_key", "render1-newsletter-sms-granted"),
        ];
        let res = s.post_form("set_consent", &form, "ja").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            res.headers()[header::LOCATION],
            format!("/p/{token}?lang=ja")
        );
        // The browser resubmits the same form (back button, double click): nothing more is written.
        assert_eq!(
            s.post_form("set_consent", &form, "ja").await.status(),
            StatusCode::SEE_OTHER
        );
        assert_eq!(s.event_count(who).await, 1);

        let page = s
            .get(&format!("/p/{token}?lang=ja"), "ja")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("aria-checked=\"true\""),
            "the page shows the new value"
        );
        assert!(
            page.contains("あなたの選択") && page.contains("設定ページ"),
            "own choice and history shown"
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_never_changes_anything() {
    for s in servers().await {
        let (who, token) = s.subject("g@example.com", Lang::En).await;
        let url = format!(
            "{}/api/set_consent?token={token}&purpose=newsletter&channel=email&state=granted",
            s.base
        );
        let res = s.client.get(&url).send().await.unwrap();
        assert!(
            res.status().is_client_error(),
            "GET on a server function is refused: {}",
            res.status()
        );
        s.get(&format!("/p/{token}"), "en").await;
        assert_eq!(s.event_count(who).await, 0);
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_4xx_and_writes_nothing() {
    for s in servers().await {
        let (who, token) = s.subject("bad@example.com", Lang::En).await;
        let foreign = Keyring::new(vec![SigningKey::new("k1", vec![3; 32]).unwrap()])
            .unwrap()
            .sign(&Claims {
                subject: who,
                scope: Scope::Everything,
                issued_at: 0,
                expires_at: None,
                campaign: None,
            });
        type Form<'a> = Vec<(&'a str, &'a str)>;
        let cases: Vec<(Form, u16, &str)> = vec![
            (
                vec![
                    ("token", &token),
                    ("purpose", "astrology"),
                    ("channel", "email"),
                    ("state", "granted"),
                ],
                400,
                "unknown_purpose",
            ),
            (
                vec![
                    ("token", &token),
                    ("purpose", "newsletter"),
                    ("channel", "fax"),
                    ("state", "granted"),
                ],
                400,
                "unknown_channel",
            ),
            (
                vec![
                    ("token", &token),
                    ("purpose", "ad_targeting"),
                    ("channel", "postal"),
                    ("state", "granted"),
                ],
                422,
                "channel_not_applicable",
            ),
            (
                vec![
                    ("token", &token),
                    ("purpose", "newsletter"),
                    ("channel", "email"),
                    ("state", "yes"),
                ],
                400,
                "unknown_state",
            ),
            (
                vec![
                    ("token", "1.k1.garbage.garbage"),
                    ("purpose", "newsletter"),
                    ("channel", "email"),
                    ("state", "granted"),
                ],
                403,
                "invalid_token",
            ),
            (
                vec![
                    ("token", &foreign),
                    ("purpose", "newsletter"),
                    ("channel", "email"),
                    ("state", "granted"),
                ],
                403,
                "invalid_token",
            ),
            (
                vec![("token", &token), ("purpose", "newsletter")],
                400,
                "bad_request",
            ),
            (
                vec![
                    ("token", &token),
                    ("purpose", "newsletter"),
                    ("channel", "email"),
                    ("state", "granted"),
                    ("idempotency_key", "has space"),
                ],
                400,
                "malformed_idempotency_key",
            ),
        ];
        for (form, status, code) in &cases {
            let res = s.call("set_consent", form).await;
            assert_eq!(res.status().as_u16(), *status, "{code}");
            let body: serde_json::Value = res.json().await.unwrap();
            assert_eq!(body["code"], *code);
            assert!(
                body["message"].as_str().is_some_and(|m| m.len() > 10),
                "{body}"
            );

            // The same without JavaScript: an HTML page with the message in the form's language.
            let mut form = form.clone();
            form.push(("lang", "ja"));
            let res = s.post_form("set_consent", &form, "en").await;
            assert_eq!(res.status().as_u16(), *status, "{code} (plain form)");
            let html = res.text().await.unwrap();
            assert!(
                html.contains("lang=\"ja\"") && html.contains("エラー"),
                "{code}: {html}"
            );
        }
        let huge = "x".repeat(64 * 1024);
        let res = s
            .call(
                "set_consent",
                &[
                    ("token", &token),
                    ("purpose", &huge),
                    ("channel", "email"),
                    ("state", "granted"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let res = s.call("no_such_function", &[("token", &token)]).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            s.event_count(who).await,
            0,
            "no refused request wrote an event"
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_method_or_path_nothing_answers_is_refused_with_a_message() {
    for s in servers().await {
        let (_, token) = s.subject("method@example.com", Lang::En).await;
        let send = |method: reqwest::Method, path: String, lang: &'static str| {
            s.client
                .request(method, format!("{}{path}", s.base))
                .header(header::ACCEPT_LANGUAGE, lang)
                .send()
        };
        // The API's paths answer JSON, in the caller's language, and keep `Allow`.
        for (lang, words) in [("en", "kind of request"), ("ja", "受け付けていません")] {
            let res = send(reqwest::Method::GET, "/api/v1/links".into(), lang)
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
            assert!(
                res.headers()[header::ALLOW]
                    .to_str()
                    .unwrap()
                    .contains("POST")
            );
            let body: serde_json::Value = res.json().await.unwrap();
            assert_eq!(body["code"], "method_not_allowed");
            assert!(body["message"].as_str().unwrap().contains(words), "{body}");
        }
        // Pages answer a page, with the security headers every page has.
        let res = send(reqwest::Method::PUT, format!("/u/{token}"), "ja")
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert!(res.headers().contains_key(header::ALLOW));
        assert!(res.headers().contains_key("content-security-policy"));
        assert!(
            res.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let html = res.text().await.unwrap();
        assert!(
            html.contains("lang=\"ja\"") && html.contains("受け付けていません"),
            "{html}"
        );
        // A path under /api/ that nothing serves is not found, whatever the method.
        for method in [
            reqwest::Method::GET,
            reqwest::Method::POST,
            reqwest::Method::DELETE,
        ] {
            let res = send(method.clone(), "/api/v1/no_such_thing".into(), "ja")
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{method}");
            let body: serde_json::Value = res.json().await.unwrap();
            assert_eq!(body["code"], "not_found");
            assert!(body["message"].as_str().unwrap().contains("見つかりません"));
        }
        // What the router answers with a body of its own is left as it is.
        let res = send(reqwest::Method::GET, "/no/such/page".into(), "en")
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_idempotency_key_with_another_change_is_a_conflict() {
    for s in servers().await {
        let (who, token) = s.subject("idem@example.com", Lang::En).await;
        let base = [
            ("token", token.as_str()),
            ("purpose", "newsletter"),
            ("channel", "email"),
            ("idempotency_key", "k-1"),
        ];
        let mut grant = base.to_vec();
        grant.push(("state", "granted"));
        assert_eq!(s.call("set_consent", &grant).await.status(), StatusCode::OK);
        assert_eq!(s.call("set_consent", &grant).await.status(), StatusCode::OK);
        let mut other = base.to_vec();
        other.push(("state", "withdrawn"));
        let res = s.call("set_consent", &other).await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
        assert_eq!(s.event_count(who).await, 1);
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_all_marketing_withdraws_every_marketing_purpose_on_every_channel() {
    for s in servers().await {
        let (who, token) = s.subject("stop@example.com", Lang::En).await;
        let person = s.signed_in_as(who).await;
        let grant = |p: &'static str, c: &'static str| {
            [
                ("token", token.clone()),
                ("purpose", p.into()),
                ("channel", c.into()),
                ("state", "granted".into()),
            ]
        };
        for (p, c) in [
            ("newsletter", "email"),
            ("ad_targeting", "web"),
            ("third_party_sharing", "email"),
        ] {
            let form = grant(p, c);
            // Signed in: through a link, sharing and ad targeting wait for a mailed confirmation.
            let form: Vec<(&str, &str)> = form
                .iter()
                .map(|(k, v)| (*k, if *k == "token" { "" } else { v.as_str() }))
                .collect();
            assert_eq!(
                person.call("set_consent", &form).await.status(),
                StatusCode::OK
            );
        }
        let res = s
            .call(
                "stop_all_marketing",
                &[("token", &token), ("idempotency_key", "stop-1")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let view: app::view::PreferenceView = res.json().await.unwrap();
        for p in &view.purposes {
            for c in p.cells.iter().filter(|c| c.applies) {
                if p.marketing {
                    assert!(
                        !c.on && c.choice == Some(ConsentState::Withdrawn),
                        "{} {:?}",
                        p.key,
                        c.channel
                    );
                } else if c.channel == app::domain::Channel::Email {
                    assert!(
                        c.on,
                        "third-party sharing is not marketing and stays as chosen"
                    );
                }
            }
        }
        // newsletter: 5 channels, ad_targeting: 3 channels, plus the 3 grants.
        assert_eq!(s.event_count(who).await, 3 + 5 + 3);
        let again = s
            .call(
                "stop_all_marketing",
                &[("token", &token), ("idempotency_key", "stop-1")],
            )
            .await;
        assert_eq!(again.status(), StatusCode::OK);
        assert_eq!(
            s.event_count(who).await,
            11,
            "a repeated stop writes nothing"
        );
        let history = &view.history;
        assert_eq!(history.len(), 11);
        assert_eq!(
            history.last().unwrap().to,
            ConsentState::Granted,
            "history is newest first"
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_posts_are_refused() {
    for s in servers().await {
        let (who, token) = s.subject("csrf@example.com", Lang::En).await;
        let res = s
            .client
            .post(format!("{}/api/set_consent", s.base))
            .header("origin", "https://evil.example")
            .form(&[
                ("token", token.as_str()),
                ("purpose", "newsletter"),
                ("channel", "email"),
                ("state", "granted"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(s.event_count(who).await, 0);
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_made_by_the_cli_keyring_opens_the_page() {
    // The server signs with the key file in its data directory; a link made from it verifies.
    for s in servers().await {
        let (who, _) = s.subject("cli@example.com", Lang::En).await;
        let keyring: Arc<Keyring> = s.services.keyring.clone();
        let again = server::keys::load_or_create(&s.data_dir, None).unwrap();
        assert_eq!(keyring.signing_key().secret(), again.signing_key().secret());
        let link = s.services.preference_link(who);
        assert!(link.starts_with("https://doui.test/p/1.k1."));
        let token = link.rsplit_once("/p/").unwrap().1;
        assert_eq!(
            s.get(&format!("/p/{token}"), "en").await.status(),
            StatusCode::OK
        );
        s.stop().await;
    }
}

/// Leptos renders the whole app once to list its routes, with resource loading switched off for
/// the whole process meanwhile; a page rendered at that moment used to wait forever (leptos#4773).
/// The route list is made once per process, so pages answer while other servers start.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pages_answer_while_other_servers_start_in_the_same_process() {
    let s = TestServer::start(common::sqlite().await).await;
    let (_, token) = s.subject("render@example.jp", Lang::En).await;
    let config = common::server::config(&s.db.url, s.data_dir.clone());
    let services = s.services.clone();
    let starting = tokio::spawn(async move {
        for _ in 0..100 {
            let other = ::server::start(&config, services.clone()).await.unwrap();
            other.task.abort();
        }
    });
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap();
    let mut requests = tokio::task::JoinSet::new();
    for worker in 0..8 {
        let (client, url) = (client.clone(), format!("{}/p/{token}", s.base));
        requests.spawn(async move {
            for i in 0..40 {
                let res = client
                    .get(&url)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("request {worker}/{i} did not finish: {e}"));
                assert_eq!(res.status(), StatusCode::OK);
            }
        });
    }
    while let Some(done) = requests.join_next().await {
        done.unwrap();
    }
    starting.await.unwrap();
    s.stop().await;
}

/// Pages holding no personal data are kept briefly by the browser alone; a person's pages, the
/// console and anything asked by someone signed in are never stored (issue 34, item 8).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_pages_without_personal_data_may_be_kept_by_the_browser() {
    for s in servers().await {
        let (who, token) = s.subject("cache@example.jp", Lang::En).await;
        let visitor = reqwest::Client::new();
        let get = |path: String| {
            let visitor = visitor.clone();
            let base = s.base.clone();
            async move { visitor.get(format!("{base}{path}")).send().await.unwrap() }
        };
        for path in ["/", "/privacy", "/signin", "/subscribe", "/do-not-sell"] {
            let res = get(path.to_owned()).await;
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            assert_eq!(
                res.headers()["cache-control"],
                "private, max-age=300",
                "{path}"
            );
            let vary: Vec<_> = res.headers().get_all("vary").iter().collect();
            assert!(
                vary.iter()
                    .any(|v| v.to_str().unwrap().contains("accept-language")),
                "{path}: {vary:?}"
            );
        }
        for path in [
            format!("/p/{token}"),
            format!("/u/{token}"),
            "/admin".to_owned(),
            "/subscribe?email=cache%40example.jp".to_owned(),
            "/no-such-page".to_owned(),
        ] {
            let res = get(path.clone()).await;
            assert_eq!(res.headers()["cache-control"], "no-store", "{path}");
        }
        let signed_in = s.signed_in_as(who).await;
        let home = signed_in.get("/").await;
        assert_eq!(home.headers()["cache-control"], "no-store");
        // The stylesheet the page links to is served.
        let html = get("/".to_owned()).await.text().await.unwrap();
        let css = html
            .split("rel=\"stylesheet\"")
            .nth(1)
            .and_then(|rest| rest.split("href=\"").nth(1))
            .and_then(|rest| rest.split('"').next())
            .expect("the page links its stylesheet")
            .to_owned();
        assert!(
            css.starts_with("/pkg/doui") && css.ends_with(".css"),
            "{css}"
        );
        s.stop().await;
    }
}
