//! Double opt-in end to end through a real SMTP listener, on SQLite and PostgreSQL (R12, R58):
//! the request is kept with its evidence and only mails a confirmation; opening the link changes
//! nothing; the person's POST grants the purpose by email, once, with all three steps on the
//! event; an unknown or used link is refused.

mod common;

use app::domain::{ConsentState, Source};
use common::{
    server::{path_of, server_with_smtp},
    smtp::SmtpListener,
};
use reqwest::header;

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
async fn r12_r58_double_opt_in_grants_only_after_the_confirming_post_with_the_evidence() {
    for db in common::backends().await {
        let smtp = SmtpListener::start().await;
        let s = server_with_smtp(db, &smtp).await;
        let browser = s.browser().await;
        let form = s
            .get("/subscribe?lang=en", "en")
            .await
            .text()
            .await
            .unwrap();
        assert!(form.contains("name=\"purpose\"") && form.contains("value=\"newsletter\""));

        // The request: from a page, with a browser's user agent. The page's address carries the
        // person's address in its query (hardening 12): the evidence keeps the page alone.
        let res = browser
            .client
            .post(format!("{}/subscribe", s.base))
            .header("sec-fetch-site", "same-origin")
            .header(
                header::REFERER,
                "https://shop.example.jp/signup?email=new.reader%40example.jp#form",
            )
            .header(header::USER_AGENT, "Mozilla/5.0 (signup)")
            .form(&[
                ("email", "new.reader@example.jp"),
                ("purpose", "newsletter"),
                ("lang", "en"),
                ("csrf", browser.csrf.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{}", s.db.name());
        assert_eq!(res.headers()[header::LOCATION], "/subscribe?sent=1&lang=en");
        // R12: until confirmed, only the confirmation mail; no subject, no consent.
        assert!(
            s.services
                .store
                .find_subject("new.reader@example.jp")
                .await
                .unwrap()
                .is_none()
        );
        let mail = smtp.wait_for(1).await.remove(0);
        assert!(mail.to[0].contains("new.reader@example.jp"));
        assert!(mail.data.contains("Please confirm"), "{}", mail.data);
        let path = path_of(&confirm_link(&mail.data));

        // A scanner opening the link (twice) changes nothing.
        for _ in 0..2 {
            let page = s.get(&path, "en").await;
            assert_eq!(page.status(), 200);
            let html = page.text().await.unwrap();
            assert!(html.contains(&format!("action=\"{path}\"")), "{html}");
            assert!(html.contains("n•••@example.jp"));
        }
        assert!(
            s.services
                .store
                .find_subject("new.reader@example.jp")
                .await
                .unwrap()
                .is_none()
        );

        // The person's POST confirms: granted by email, with the three steps as evidence.
        let res = browser
            .client
            .post(format!("{}{path}", s.base))
            .header("sec-fetch-site", "same-origin")
            .header(header::USER_AGENT, "Mozilla/5.0 (confirm)")
            .form(&[("lang", "en"), ("csrf", browser.csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        assert_eq!(
            res.headers()[header::LOCATION],
            "/subscribe?confirmed=1&lang=en"
        );
        let subject = s
            .services
            .store
            .find_subject("new.reader@example.jp")
            .await
            .unwrap()
            .expect("the subject exists once confirmed");
        let events = s
            .services
            .store
            .events_for_subject(subject.id, 10)
            .await
            .unwrap();
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(
            (e.purpose.as_str(), e.channel.key(), e.to),
            ("newsletter", "email", ConsentState::Granted)
        );
        assert_eq!(e.provenance.source, Source::Link);
        assert_eq!(
            e.provenance.origin.user_agent.as_deref(),
            Some("Mozilla/5.0 (confirm)")
        );
        let evidence: serde_json::Value =
            serde_json::from_str(e.provenance.reason.as_deref().unwrap()).unwrap();
        let doi = &evidence["double_opt_in"];
        assert_eq!(doi["request_url"], "https://shop.example.jp/signup");
        assert_eq!(doi["request_user_agent"], "Mozilla/5.0 (signup)");
        assert!(doi["request_ip"].as_str().is_some());
        assert_eq!(doi["notice_version"], s.services.settings.notice_version);
        assert!(
            doi["confirmation_mail"]
                .as_str()
                .unwrap()
                .starts_with("doi-")
        );
        assert!(
            mail.data
                .contains(doi["confirmation_mail"].as_str().unwrap())
        );
        assert!(doi["requested_at"].as_str().unwrap() <= doi["confirmed_at"].as_str().unwrap());

        // Once: the link again, and an unknown one, are refused (403) and write nothing.
        for p in [path.as_str(), "/confirm/not-a-token"] {
            let res = browser.post(p, &[("lang", "en")]).await;
            assert_eq!(res.status(), 403, "{p}");
            assert!(
                res.text()
                    .await
                    .unwrap()
                    .contains("already used or has expired")
            );
        }
        assert_eq!(s.event_count(subject.id).await, 1);

        // Pending requests expire: one past its time is refused on its page and on POST.
        let at = app::services::now() - time::Duration::hours(49);
        s.db.identity()
            .create_opt_in_request(&app::auth::OptInRequest {
                token_hash: app::auth::token_hash("expired-token"),
                email: "late@example.jp".into(),
                purpose: app::domain::PurposeKey::parse("newsletter").unwrap(),
                lang: app::domain::Lang::En,
                requested_at: at,
                expires_at: at + time::Duration::hours(app::services::OPT_IN_HOURS),
                origin: app::domain::Origin::default(),
                url: None,
                notice_version: "1.0".into(),
                mail_ref: "doi-expired".into(),
                confirmed_at: None,
                collection_point: None,
                form_version: None,
                also_purposes: Vec::new(),
            })
            .await
            .unwrap();
        assert_eq!(s.get("/confirm/expired-token", "en").await.status(), 403);
        let res = browser
            .post("/confirm/expired-token", &[("lang", "en")])
            .await;
        assert_eq!(res.status(), 403);
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
