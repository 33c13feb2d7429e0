//! California's "Do Not Sell or Share My Personal Information" (R57) on SQLite and PostgreSQL:
//! the page `/do-not-sell` and its plain form (no JavaScript, no sign-in, the house's CSRF
//! rules); a visitor's opt-out kept for the browser and, for an address given, applied to its
//! subject with the same answer whether the address is known or not; a person's opt-out through
//! a link or a session, written as withdrawals with provenance and the Do Not Sell marker; the
//! receipt and the console show each request; and the console refuses to ask a person to allow
//! sale or sharing again within twelve months of their opt-out (and no longer after).

mod common;

use app::{
    auth::Role,
    domain::{ConsentState, DO_NOT_SELL_REASON, DoNotSellVia, Jurisdiction, Lang, Source},
    token::Scope,
};
use common::server::{Browser, TestServer, servers, set_cookie};
use reqwest::header;
use time::Duration;

/// A subject governed from California, and a link to their whole preference center.
async fn californian(s: &TestServer, email: &str) -> (app::domain::SubjectId, String) {
    let subject = s
        .services
        .create_subject_in(None, Some(email), None, Lang::En, Jurisdiction::UsCa)
        .await
        .unwrap();
    let link = s.services.preference_link(subject.id);
    (subject.id, link.rsplit_once("/p/").unwrap().1.to_owned())
}

/// The person grants `purpose` by email themself (signed in: through a link, sharing and ad
/// targeting wait for a mailed confirmation).
async fn grant(s: &TestServer, who: app::domain::SubjectId, purpose: &str) {
    let person = s.signed_in_as(who).await;
    let res = person
        .call(
            "set_consent",
            &[
                ("token", ""),
                ("purpose", purpose),
                ("channel", "email"),
                ("state", "granted"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

/// The Do Not Sell form as the page posts it (same site, with the page's CSRF token).
async fn opt_out(b: &Browser, form: &[(&str, &str)]) -> reqwest::Response {
    b.post("/do-not-sell", form).await
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The subject's withdrawals of sale and sharing (purpose, channel, source, reason).
async fn dns_withdrawals(
    s: &TestServer,
    who: app::domain::SubjectId,
) -> Vec<app::domain::ConsentEvent> {
    s.services
        .store
        .events_for_subject(who, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(app::domain::do_not_sell::is_do_not_sell)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r57_a_visitor_opts_out_without_sign_in_and_no_address_is_revealed() {
    for s in servers().await {
        let db = s.db.name();
        // Every page of the person's links the page, in both languages; the console does not.
        let home = s.get("/?lang=en", "en").await.text().await.unwrap();
        assert!(
            home.contains("href=\"/do-not-sell?lang=en\"")
                && home.contains("Do Not Sell or Share My Personal Information"),
            "{db}: {home}"
        );
        let home_ja = s.get("/?lang=ja", "ja").await.text().await.unwrap();
        assert!(home_ja.contains("個人情報の販売・共有の拒否"), "{db}");
        let signin = s
            .get("/admin/signin?lang=en", "en")
            .await
            .text()
            .await
            .unwrap();
        assert!(!signin.contains("/do-not-sell"), "{db}: not in the console");

        // The page: a plain form, no sign-in, GPC named as the same request.
        let b = s.browser().await;
        let res = b.get("/do-not-sell?lang=en").await;
        assert_eq!(res.status(), 200, "{db}");
        let page = res.text().await.unwrap();
        assert!(
            page.contains("<form method=\"post\" action=\"/do-not-sell\""),
            "{db}: {page}"
        );
        assert!(page.contains("name=\"email\""), "{db}");
        assert!(page.contains("Global Privacy Control"), "{db}");
        assert!(!page.contains("data-do-not-sell-browser"), "{db}");
        let page_ja = s
            .get("/do-not-sell?lang=ja", "ja")
            .await
            .text()
            .await
            .unwrap();
        assert!(page_ja.contains("販売・共有を拒否する"), "{db}");
        assert!(
            page_ja.contains("グローバル・プライバシー・コントロール"),
            "{db}"
        );

        // Refused from another site, and without the page's token, in the person's language.
        let res = b
            .client
            .post(format!("{}/do-not-sell", s.base))
            .header("sec-fetch-site", "cross-site")
            .form(&[("csrf", b.csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{db}");
        let res = opt_out(&b, &[("csrf", "forged"), ("lang", "ja")]).await;
        assert_eq!(res.status(), 403, "{db}");
        assert!(
            res.text().await.unwrap().contains("フォームの有効期限"),
            "{db}: in Japanese"
        );
        let res = opt_out(&b, &[("email", "not an address"), ("lang", "en")]).await;
        assert_eq!(res.status(), 400, "{db}");
        assert!(
            res.text().await.unwrap().contains("email"),
            "{db}: the message names the field"
        );

        // A known address and an unknown one get the same answer; both browsers keep the opt-out.
        let (known, _) = californian(&s, "dns-known@example.com").await;
        grant(&s, known, "ad_targeting").await;
        let before = s.event_count(known).await;
        let res_known = opt_out(&b, &[("email", "dns-known@EXAMPLE.com"), ("lang", "en")]).await;
        let other = s.browser().await;
        let res_unknown = opt_out(
            &other,
            &[("email", "nobody-here@example.com"), ("lang", "en")],
        )
        .await;
        assert_eq!(res_known.status(), 303, "{db}");
        assert_eq!(res_unknown.status(), 303, "{db}");
        assert_eq!(location(&res_known), location(&res_unknown), "{db}");
        assert_eq!(location(&res_known), "/do-not-sell?lang=en&done=1");
        for res in [&res_known, &res_unknown] {
            let cookie = set_cookie(res, "doui_dns").expect("the browser keeps its opt-out");
            assert!(
                cookie.contains("HttpOnly") && cookie.contains("Max-Age="),
                "{cookie}"
            );
        }

        // The known subject: every sale and sharing consent withdrawn, as an event each, with
        // the request's provenance and the marker; the request itself kept.
        let purposes = s.services.store.purposes().await.unwrap();
        let expected: usize = purposes
            .iter()
            .filter(|p| p.kind.gpc_applies())
            .map(|p| p.channels.len())
            .sum();
        let withdrawals = dns_withdrawals(&s, known).await;
        assert_eq!(withdrawals.len(), expected, "{db}");
        assert_eq!(s.event_count(known).await, before + expected, "{db}");
        for e in &withdrawals {
            let p = &e.provenance;
            assert_eq!(p.source, Source::PreferenceCenter, "{db}");
            assert_eq!(
                p.reason.as_deref(),
                Some("Do Not Sell or Share request: email given without sign-in")
            );
            assert_eq!(p.origin.ip.as_deref(), Some("127.0.0.0/24"), "{db}");
            assert_eq!(p.origin.user_agent.as_deref(), Some("doui-tests/1.0"));
            assert!(p.notice_version.is_some());
        }
        let consents = s.services.store.consents(known).await.unwrap();
        assert!(
            consents
                .iter()
                .filter(|c| c.purpose.as_str() == "ad_targeting")
                .all(|c| c.state == ConsentState::Withdrawn),
            "{db}"
        );
        let requests = s
            .services
            .console
            .do_not_sell_requests_of(known, 10)
            .await
            .unwrap();
        assert_eq!(requests.len(), 1, "{db}");
        assert_eq!(requests[0].via, DoNotSellVia::Email);
        assert_eq!(requests[0].withdrawn, expected as i64);

        // Back on the page: honoured, and this browser is remembered.
        let page = b
            .get("/do-not-sell?lang=en&done=1")
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("Opt-Out Request Honored"), "{db}: {page}");
        assert!(page.contains("data-do-not-sell-browser"), "{db}");
        // A request without any address is a visitor's too (for the browser only).
        let third = s.browser().await;
        let res = opt_out(&third, &[("lang", "ja")]).await;
        assert_eq!(res.status(), 303, "{db}");
        assert_eq!(location(&res), "/do-not-sell?lang=ja&done=1");
        let page = third
            .get("/do-not-sell?lang=ja&done=1")
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("オプトアウト要求を受け付けました"), "{db}");
        // GPC is named as the same request, and a browser that sends it is told.
        let res = s
            .client
            .get(format!("{}/do-not-sell?lang=en", s.base))
            .header("sec-gpc", "1")
            .send()
            .await
            .unwrap();
        assert!(
            res.text().await.unwrap().contains("data-gpc=\"on\""),
            "{db}"
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r57_a_person_with_a_link_or_a_session_opts_out_with_one_button() {
    for s in servers().await {
        let db = s.db.name();
        let (by_link, token) = californian(&s, "dns-link@example.com").await;
        grant(&s, by_link, "third_party_sharing").await;

        // The preference center of a Californian offers it, with the link's token.
        let page = s
            .get(&format!("/p/{token}?lang=en"), "en")
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("data-do-not-sell-link"), "{db}: {page}");
        assert!(
            page.contains(&format!("/do-not-sell?token={token}&amp;lang=en")),
            "{db}"
        );
        // Someone governed from elsewhere sees only the footer's link.
        let (elsewhere, other_token) = s.subject("dns-jp@example.jp", Lang::Ja).await;
        let page = s
            .get(&format!("/p/{other_token}?lang=en"), "en")
            .await
            .text()
            .await
            .unwrap();
        assert!(!page.contains("data-do-not-sell-link"), "{db}");
        assert!(page.contains("href=\"/do-not-sell?lang=en\""), "{db}");
        let _ = elsewhere;

        // The page names whom the request is for; one button, no address asked.
        let b = s.browser().await;
        let page = b
            .get(&format!("/do-not-sell?token={token}&lang=en"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("d•••@example.com"), "{db}: {page}");
        assert!(!page.contains("name=\"email\""), "{db}");
        assert!(
            page.contains(&format!("name=\"token\" value=\"{token}\"")),
            "{db}"
        );
        let res = opt_out(&b, &[("token", &token), ("lang", "en")]).await;
        assert_eq!(res.status(), 303, "{db}");
        assert_eq!(
            location(&res),
            format!("/do-not-sell?token={token}&lang=en&done=1")
        );
        let withdrawals = dns_withdrawals(&s, by_link).await;
        assert!(!withdrawals.is_empty(), "{db}");
        for e in &withdrawals {
            assert_eq!(e.provenance.source, Source::Link, "{db}");
            assert_eq!(e.provenance.reason.as_deref(), Some(DO_NOT_SELL_REASON));
            assert_eq!(e.provenance.actor, app::domain::Actor::Subject);
        }
        assert!(
            withdrawals
                .iter()
                .any(|e| e.purpose.as_str() == "third_party_sharing"
                    && e.from == Some(ConsentState::Granted)),
            "{db}: the grant is withdrawn"
        );
        // Again: nothing left to withdraw, but the request is kept (it starts the months again).
        let res = opt_out(&b, &[("token", &token), ("lang", "en")]).await;
        assert_eq!(res.status(), 303, "{db}");
        assert_eq!(dns_withdrawals(&s, by_link).await.len(), withdrawals.len());
        let requests = s
            .services
            .console
            .do_not_sell_requests_of(by_link, 10)
            .await
            .unwrap();
        assert_eq!(
            requests
                .iter()
                .map(|r| (r.via, r.withdrawn))
                .collect::<Vec<_>>(),
            [
                (DoNotSellVia::Link, 0),
                (DoNotSellVia::Link, withdrawals.len() as i64)
            ],
            "{db}: newest first"
        );

        // The receipt and the record carry the requests.
        let record: serde_json::Value = s
            .get(&format!("/p/{token}/record.json"), "en")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(record["do_not_sell"]["requests"][0]["via"], "link", "{db}");
        assert!(record["do_not_sell"]["ask_again_refused_until"].is_string());
        assert_eq!(
            record["receipt_content"]["record"]["do_not_sell"][1]["withdrawn"],
            withdrawals.len() as i64,
            "{db}"
        );
        assert!(
            record["history"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["reason"] == DO_NOT_SELL_REASON),
            "{db}"
        );

        // Signed in: the session's subject, source preference center.
        let (by_session, _) = californian(&s, "dns-session@example.com").await;
        grant(&s, by_session, "ad_targeting").await;
        let person = s.signed_in_as(by_session).await;
        let page = person
            .get("/do-not-sell?lang=en")
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("d•••@example.com"), "{db}");
        let res = opt_out(&person, &[("lang", "en")]).await;
        assert_eq!(res.status(), 303, "{db}");
        let withdrawals = dns_withdrawals(&s, by_session).await;
        assert!(!withdrawals.is_empty(), "{db}");
        assert!(
            withdrawals
                .iter()
                .all(|e| e.provenance.source == Source::PreferenceCenter)
        );
        let requests = s
            .services
            .console
            .do_not_sell_requests_of(by_session, 10)
            .await
            .unwrap();
        assert_eq!(requests[0].via, DoNotSellVia::PreferenceCenter, "{db}");

        // A link that only unsubscribes from one purpose reaches no other: refused, in words.
        let narrow = s.services.unsubscribe_token(
            by_session,
            Scope::Purpose("newsletter".parse().unwrap()),
            None,
        );
        let res = opt_out(&b, &[("token", &narrow), ("lang", "en")]).await;
        assert_eq!(res.status(), 403, "{db}");
        // A forged link is refused too (never treated as a visitor's request).
        let res = opt_out(&b, &[("token", "forged"), ("lang", "en")]).await;
        assert_eq!(res.status(), 403, "{db}");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r57_nobody_is_asked_to_allow_sale_or_sharing_again_within_twelve_months() {
    for s in servers().await {
        let db = s.db.name();
        let (who, token) = californian(&s, "dns-ask@example.com").await;
        let b = s.browser().await;
        let res = opt_out(&b, &[("token", &token), ("lang", "en")]).await;
        assert_eq!(res.status(), 303, "{db}");
        let id = who.0.to_string();

        // The console shows the request and until when asking is refused.
        let operator = s.signed_in(Role::Operator).await;
        let page = operator
            .get(&format!("/admin/subjects/{id}?lang=en"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("Do Not Sell or Share (CCPA)"), "{db}: {page}");
        assert!(page.contains("data-via=\"link\""), "{db}");
        let until = app::domain::do_not_sell::twelve_months_after(
            s.services
                .console
                .do_not_sell_requests_of(who, 1)
                .await
                .unwrap()[0]
                .received_at,
        );
        let until_text = app::services::moment_text(until, "UTC");
        assert!(
            page.contains(&format!("data-ask-refused-until=\"{until_text}\"")),
            "{db}: {page}"
        );

        // Asking to allow ad targeting again: refused, with the code and the message (en, ja).
        let res = operator
            .call(
                "admin/ask_again",
                &[("subject", &id), ("purpose", "ad_targeting")],
            )
            .await;
        assert_eq!(res.status(), 409, "{db}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["code"], "do_not_sell_recent", "{db}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("within the last 12 months")
        );
        // The plain form (no JavaScript) gets the page in the admin's language.
        let res = operator
            .client
            .post(format!("{}/api/admin/ask_again", s.base))
            .header(header::ACCEPT, "text/html")
            .header(header::ACCEPT_LANGUAGE, "ja")
            .header("sec-fetch-site", "same-origin")
            .form(&[
                ("subject", id.as_str()),
                ("purpose", "third_party_sharing"),
                ("lang", "ja"),
                ("csrf", operator.csrf.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 409, "{db}");
        assert!(res.text().await.unwrap().contains("12 か月"), "{db}");
        // A purpose that is not sale or sharing may be asked about (the newsletter is off).
        let res = operator
            .call(
                "admin/ask_again",
                &[("subject", &id), ("purpose", "newsletter")],
            )
            .await;
        assert_eq!(res.status(), 200, "{db}: {}", res.text().await.unwrap());
        // A viewer may not ask at all.
        let viewer = s.signed_in(Role::Viewer).await;
        let res = viewer
            .call(
                "admin/ask_again",
                &[("subject", &id), ("purpose", "newsletter")],
            )
            .await;
        assert_eq!(res.status(), 403, "{db}");

        // Twelve months on (the clock driven as the services take it), asking is allowed again;
        // a day before, still refused.
        let refused = s
            .services
            .ask_to_allow_again_at(who, "ad_targeting", "test", until - Duration::days(1))
            .await;
        assert_eq!(refused.unwrap_err().code, "do_not_sell_recent", "{db}");
        s.services
            .ask_to_allow_again_at(who, "ad_targeting", "test", until)
            .await
            .unwrap();
        assert_eq!(
            s.services
                .do_not_sell_status_at(who, until)
                .await
                .unwrap()
                .ask_again_refused_until,
            None,
            "{db}"
        );

        // An opt-out by GPC counts the same: the twelve months start from it.
        let (gpc, gpc_token) = californian(&s, "dns-gpc@example.com").await;
        grant(&s, gpc, "ad_targeting").await;
        let res = s
            .client
            .get(format!("{}/p/{gpc_token}?lang=en", s.base))
            .header("sec-gpc", "1")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let res = operator
            .call(
                "admin/ask_again",
                &[("subject", &gpc.0.to_string()), ("purpose", "ad_targeting")],
            )
            .await;
        assert_eq!(
            res.status(),
            409,
            "{db}: GPC is an opt-out of sale and sharing"
        );

        // The person may opt back in themself at any time; then nobody is barred from asking
        // (and there is nothing to ask for what is on).
        let person = s.signed_in_as(gpc).await;
        let res = person
            .client
            .post(format!("{}/api/set_consent", s.base))
            .header(header::ACCEPT, "application/json")
            .form(&[
                ("token", ""),
                ("purpose", "ad_targeting"),
                ("channel", "email"),
                ("state", "granted"),
                ("csrf", person.csrf.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{db}: opting back in is never refused");
        let status = s
            .services
            .do_not_sell_status_at(gpc, app::services::now())
            .await
            .unwrap();
        assert_eq!(status.ask_again_refused_until, None, "{db}");
        let res = operator
            .call(
                "admin/ask_again",
                &[("subject", &gpc.0.to_string()), ("purpose", "ad_targeting")],
            )
            .await;
        assert_eq!(res.status(), 409, "{db}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["code"], "already_allowed", "{db}");
        s.stop().await;
    }
}
