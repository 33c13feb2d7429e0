//! Emailed links and RFC 8058 one-click unsubscribe. Each test names the requirement it proves
//! (../shared/REQUIREMENTS.md): R1, R2, R4–R9, R11, R46, R54.

mod common;

use app::{
    domain::{Channel, ConsentState, Lang, Source, SubjectId},
    token::Scope,
};
use common::server::{TestServer, servers};
use reqwest::{StatusCode, header, multipart};

async fn grant_all_marketing(s: &TestServer, who: SubjectId, token: &str) {
    // Signed in: through a link, ad targeting waits for a mailed confirmation.
    let person = s.signed_in_as(who).await;
    let _ = token;
    for (p, c) in [
        ("newsletter", "email"),
        ("newsletter", "sms"),
        ("ad_targeting", "web"),
    ] {
        let form = [
            ("token", ""),
            ("purpose", p),
            ("channel", c),
            ("state", "granted"),
        ];
        assert_eq!(
            person.call("set_consent", &form).await.status(),
            StatusCode::OK
        );
    }
    assert_eq!(s.event_count(who).await, 3);
}

fn unsubscribe_token(
    s: &TestServer,
    who: SubjectId,
    scope: Scope,
    campaign: Option<&str>,
) -> String {
    s.services.unsubscribe_token(who, scope, campaign)
}

fn newsletter_email() -> Scope {
    Scope::PurposeChannel("newsletter".parse().unwrap(), Channel::Email)
}

async fn state(
    s: &TestServer,
    who: SubjectId,
    purpose: &str,
    channel: Channel,
) -> Option<ConsentState> {
    let consents = s.services.store.consents(who).await.unwrap();
    consents
        .iter()
        .find(|r| r.purpose.as_str() == purpose && r.channel == channel)
        .map(|r| r.state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r05_r06_one_click_post_form_urlencoded_unsubscribes_without_cookie_or_redirect() {
    for s in servers().await {
        let (who, token) = s.subject("oc@example.com", Lang::En).await;
        grant_all_marketing(&s, who, &token).await;
        let link = unsubscribe_token(&s, who, newsletter_email(), Some("spring-sale"));
        let res = s.one_click(&link).await;
        assert_eq!(res.status(), StatusCode::OK, "R5: 2xx");
        assert!(!res.status().is_redirection(), "R6");
        assert!(res.headers().get(header::SET_COOKIE).is_none());
        assert!(!res.text().await.unwrap().is_empty(), "a short body");

        assert_eq!(
            state(&s, who, "newsletter", Channel::Email).await,
            Some(ConsentState::Withdrawn)
        );
        assert_eq!(
            state(&s, who, "newsletter", Channel::Sms).await,
            Some(ConsentState::Granted),
            "only its scope"
        );
        let events = s.services.store.events_for_subject(who, 1).await.unwrap();
        let p = &events[0].provenance;
        assert_eq!(p.source, Source::OneClick);
        assert_eq!(
            p.campaign.as_deref(),
            Some("spring-sale"),
            "the campaign is recorded"
        );
        assert_eq!(p.notice_version.as_deref(), Some("2026-11"));
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r05_one_click_post_multipart_unsubscribes() {
    for s in servers().await {
        let (who, token) = s.subject("mp@example.com", Lang::En).await;
        grant_all_marketing(&s, who, &token).await;
        let link = unsubscribe_token(&s, who, Scope::Purpose("newsletter".parse().unwrap()), None);
        let form = multipart::Form::new().text("List-Unsubscribe", "One-Click");
        let res = s
            .client
            .post(format!("{}/u/{link}", s.base))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        for c in [Channel::Email, Channel::Sms] {
            assert_eq!(
                state(&s, who, "newsletter", c).await,
                Some(ConsentState::Withdrawn),
                "{c}"
            );
        }
        assert_eq!(
            state(&s, who, "ad_targeting", Channel::Web).await,
            Some(ConsentState::Granted)
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r07_get_head_and_options_never_change_anything() {
    for s in servers().await {
        let (who, token) = s.subject("scan@example.jp", Lang::Ja).await;
        grant_all_marketing(&s, who, &token).await;
        let link = unsubscribe_token(&s, who, newsletter_email(), None);
        let url = format!("{}/u/{link}", s.base);
        let page = s.client.get(&url).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(
            html.contains("配信停止") && html.contains("ニュースレター・お知らせ · メール"),
            "{html}"
        );
        assert!(
            html.contains(&format!("action=\"/u/{link}\"")),
            "the button posts to the same URL"
        );
        assert!(
            html.contains(&format!("/p/{link}")),
            "a link to the preference center"
        );
        let head = s.client.head(&url).send().await.unwrap();
        assert_eq!(head.status(), StatusCode::OK);
        let options = s
            .client
            .request(reqwest::Method::OPTIONS, &url)
            .send()
            .await
            .unwrap();
        assert!(options.status().is_success());
        assert_eq!(s.event_count(who).await, 3, "nothing was written");
        assert_eq!(
            state(&s, who, "newsletter", Channel::Email).await,
            Some(ConsentState::Granted)
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r08_a_second_post_writes_no_second_event() {
    for s in servers().await {
        let (who, token) = s.subject("twice@example.com", Lang::En).await;
        grant_all_marketing(&s, who, &token).await;
        let link = unsubscribe_token(&s, who, newsletter_email(), None);
        assert_eq!(s.one_click(&link).await.status(), StatusCode::OK);
        assert_eq!(s.one_click(&link).await.status(), StatusCode::OK);
        assert_eq!(s.event_count(who).await, 4, "one effective change");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_confirmation_button_unsubscribes_and_shows_what_stopped() {
    for s in servers().await {
        let (who, token) = s.subject("button@example.jp", Lang::Ja).await;
        grant_all_marketing(&s, who, &token).await;
        let link = unsubscribe_token(&s, who, Scope::AllMarketing, None);
        let res = s
            .client
            .post(format!("{}/u/{link}", s.base))
            .header(header::ACCEPT, "text/html")
            .form(&[
                ("List-Unsubscribe", "One-Click"),
                ("confirm", "page"),
                ("lang", "ja"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let html = res.text().await.unwrap();
        assert!(
            html.contains("配信を停止しました") && html.contains("広告のパーソナライズ"),
            "{html}"
        );
        for (p, c) in [
            ("newsletter", Channel::Email),
            ("newsletter", Channel::Sms),
            ("ad_targeting", Channel::Web),
        ] {
            assert_eq!(
                state(&s, who, p, c).await,
                Some(ConsentState::Withdrawn),
                "{p} {c}"
            );
        }
        let event = &s.services.store.events_for_subject(who, 1).await.unwrap()[0];
        assert_eq!(
            event.provenance.source,
            Source::Link,
            "a person pressed the button"
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r04_tampered_foreign_expired_and_cross_scope_tokens_change_nothing() {
    for s in servers().await {
        let (alice, alice_pref) = s.subject("alice@example.com", Lang::En).await;
        let (bob, bob_pref) = s.subject("bob@example.com", Lang::En).await;
        grant_all_marketing(&s, alice, &alice_pref).await;
        grant_all_marketing(&s, bob, &bob_pref).await;
        let link = unsubscribe_token(&s, alice, newsletter_email(), None);
        let tampered = format!(
            "{}{}",
            &link[..link.len() - 2],
            if link.ends_with("AA") { "BB" } else { "AA" }
        );
        let expired = s.services.keyring.sign(&app::token::Claims {
            subject: alice,
            scope: newsletter_email(),
            issued_at: 1,
            expires_at: Some(2),
            campaign: None,
        });
        for (bad, status) in [
            (tampered.as_str(), 403),
            (expired.as_str(), 403),
            ("1.k1.x.y", 403),
        ] {
            let res = s.one_click(bad).await;
            assert_eq!(res.status().as_u16(), status, "{bad}");
            assert!(
                !res.status().is_redirection(),
                "R6: never a redirect, even when refused"
            );
            let page = s
                .client
                .get(format!("{}/u/{bad}", s.base))
                .header(header::ACCEPT_LANGUAGE, "ja")
                .send()
                .await
                .unwrap();
            assert_eq!(page.status(), StatusCode::FORBIDDEN);
            assert!(
                page.text().await.unwrap().contains("リンク"),
                "a clear page"
            );
        }
        // Cross-scope: the newsletter/email link can't change anything else through the page.
        let other = [
            ("token", link.as_str()),
            ("purpose", "ad_targeting"),
            ("channel", "web"),
            ("state", "withdrawn"),
        ];
        assert_eq!(
            s.call("set_consent", &other).await.status(),
            StatusCode::FORBIDDEN
        );
        // Cross-recipient: Alice's link only ever touches Alice.
        assert_eq!(s.one_click(&link).await.status(), StatusCode::OK);
        assert_eq!(s.event_count(bob).await, 3, "Bob is untouched");
        assert_eq!(
            s.event_count(alice).await,
            4,
            "only the valid link wrote, once"
        );
        // A POST without the one-click field is refused and writes nothing.
        let res = s
            .client
            .post(format!("{}/u/{link}", s.base))
            .form(&[("x", "y")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r54_unsubscribe_links_work_for_at_least_60_days() {
    for s in servers().await {
        let (who, _) = s.subject("long@example.com", Lang::En).await;
        let link = unsubscribe_token(&s, who, newsletter_email(), None);
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        assert!(
            s.services.keyring.verify(&link, now + 60 * 86_400).is_ok(),
            "R54/R56: valid 60 days on"
        );
        assert!(
            s.services.keyring.verify(&link, now + 91 * 86_400).is_err(),
            "expires after the configured 90 days"
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r01_r02_r09_r11_r46_headers_and_footer_for_senders() {
    for s in servers().await {
        let (who, _) = s.subject("hdr@example.jp", Lang::Ja).await;
        let subject = s.services.store.subject(who).await.unwrap().unwrap();
        let h = s
            .services
            .mail_headers(&subject, Some("newsletter"), Some("email"), Some("c-42"))
            .await
            .unwrap();
        // R1: exactly one https URI in angle brackets.
        assert!(
            h.list_unsubscribe.starts_with("<https://doui.test/u/1.k1.")
                && h.list_unsubscribe.ends_with('>')
        );
        assert_eq!(h.list_unsubscribe.matches('<').count(), 1);
        assert_eq!(
            h.list_unsubscribe_post,
            Some("List-Unsubscribe=One-Click"),
            "R2: byte-exact"
        );

        // Hardening 19: served over http (a loopback demo), the links are not https, and RFC 8058
        // allows the one-click header only with an https URI: it is left out.
        let mut demo = s.services.clone();
        demo.settings = std::sync::Arc::new(app::services::Settings {
            public_url: "http://127.0.0.1:3000".into(),
            ..(*s.services.settings).clone()
        });
        let plain = demo
            .mail_headers(&subject, Some("newsletter"), Some("email"), None)
            .await
            .unwrap();
        assert!(
            plain
                .list_unsubscribe
                .starts_with("<http://127.0.0.1:3000/u/")
        );
        assert_eq!(plain.list_unsubscribe_post, None, "hardening 19");
        assert_eq!(
            h.list_id, "\"Newsletter and marketing messages\" <newsletter.doui.test>",
            "R11"
        );
        let other = s
            .services
            .mail_headers(&subject, Some("ad_targeting"), None, None)
            .await
            .unwrap();
        assert_ne!(other.list_id, h.list_id, "R11: one List-Id per purpose");
        for footer in [&h.footer_ja, &h.footer_en] {
            for item in [
                "Example K.K.",
                "1-1 Chiyoda, Tokyo",
                "privacy@example.jp",
                h.unsubscribe_url.as_str(),
            ] {
                assert!(footer.contains(item), "R9/R46: {item} in {footer}");
            }
        }
        assert!(h.footer_ja.contains("配信を停止"));
        // The link in the header works.
        let token = h.unsubscribe_url.rsplit_once("/u/").unwrap().1;
        assert_eq!(s.one_click(token).await.status(), StatusCode::OK);
        let last = &s.services.store.events_for_subject(who, 1).await.unwrap()[0];
        assert_eq!(last.provenance.campaign.as_deref(), Some("c-42"));
        assert!(matches!(
            s.services.mail_headers(&subject, Some("ad_targeting"), Some("postal"), None).await,
            Err(r) if r.code == "channel_not_applicable"
        ));
        assert!(
            s.services
                .mail_headers(&subject, None, None, Some("bad id!"))
                .await
                .is_err()
        );
        s.stop().await;
    }
}

/// Starts a server over `db_url` with the keys in `data_dir`; returns its base URL.
async fn serve(db_url: &str, data_dir: &std::path::Path) -> (String, app::services::Services) {
    let config = common::server::config(db_url, data_dir.to_path_buf());
    let services = ::server::services(&config).await.unwrap();
    let running = ::server::start(&config, services).await.unwrap();
    (format!("http://{}", running.addr), running.services)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r04_links_sent_before_a_key_rotation_work_until_their_key_is_retired() {
    for db in common::backends().await {
        let data_dir = std::env::temp_dir().join(common::unique("doui_rotation"));
        let client = reqwest::Client::new();
        let post = |base: String, token: String| {
            let client = client.clone();
            async move {
                client
                    .post(format!("{base}/u/{token}"))
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body("List-Unsubscribe=One-Click")
                    .send()
                    .await
                    .unwrap()
                    .status()
            }
        };
        let (_, before) = serve(&db.url, &data_dir).await;
        let who = before
            .create_subject(None, Some("rot@example.com"), None, Lang::En)
            .await
            .unwrap()
            .id;
        let sent = before.unsubscribe_token(who, newsletter_email(), None);
        assert!(sent.starts_with("1.k1."));

        assert_eq!(::server::keys::rotate(&data_dir).unwrap(), "k2");
        let (base, after) = serve(&db.url, &data_dir).await;
        assert!(
            after
                .unsubscribe_token(who, newsletter_email(), None)
                .starts_with("1.k2."),
            "the new key signs"
        );
        assert_eq!(
            post(base, sent.clone()).await,
            StatusCode::OK,
            "a link sent before the rotation still works"
        );

        ::server::keys::retire(&data_dir, "k1").unwrap();
        let (base, _) = serve(&db.url, &data_dir).await;
        assert_eq!(
            post(base.clone(), sent).await,
            StatusCode::FORBIDDEN,
            "its key is retired"
        );
        std::fs::remove_dir_all(&data_dir).ok();
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r10_r45_an_opt_out_is_on_the_suppression_list_at_once_and_pages_by_cursor() {
    for s in servers().await {
        let (a, a_pref) = s.subject("sa@example.com", Lang::En).await;
        let (b, b_pref) = s.subject("sb@example.com", Lang::En).await;
        grant_all_marketing(&s, a, &a_pref).await;
        grant_all_marketing(&s, b, &b_pref).await;
        let list = |since| s.services.suppressions("newsletter", "email", since, 100);
        assert!(list(0).await.unwrap().is_empty());

        s.one_click(&unsubscribe_token(&s, a, newsletter_email(), None))
            .await;
        // Listed once sealed, a fraction of a second after the POST was answered (the cursor
        // is the chain position: commit-ordered).
        common::seal_all(&s.services).await;
        let first = list(0).await.unwrap();
        assert_eq!(first.len(), 1, "listed once sealed");
        assert_eq!(first[0].subject.id, a);
        let cursor = first[0].cursor;
        assert!(
            list(cursor).await.unwrap().is_empty(),
            "nothing new since the cursor"
        );

        s.one_click(&unsubscribe_token(&s, b, Scope::AllMarketing, None))
            .await;
        common::seal_all(&s.services).await;
        let since = list(cursor).await.unwrap();
        assert_eq!(
            since.iter().map(|x| x.subject.id).collect::<Vec<_>>(),
            vec![b]
        );
        assert!(since[0].cursor > cursor);
        assert!(
            s.services
                .suppressions("newsletter", "sms", 0, 100)
                .await
                .unwrap()
                .iter()
                .any(|x| x.subject.id == b)
        );

        // Subscribing again takes the subject off the list.
        let form = [
            ("token", a_pref.as_str()),
            ("purpose", "newsletter"),
            ("channel", "email"),
            ("state", "granted"),
        ];
        assert_eq!(s.call("set_consent", &form).await.status(), StatusCode::OK);
        common::seal_all(&s.services).await;
        assert_eq!(
            list(0)
                .await
                .unwrap()
                .iter()
                .map(|x| x.subject.id)
                .collect::<Vec<_>>(),
            vec![b]
        );

        let services = &s.services;
        let unknown = services
            .suppressions("astrology", "email", 0, 10)
            .await
            .unwrap_err();
        assert_eq!(unknown.code, "unknown_purpose");
        let not_used = services
            .suppressions("ad_targeting", "postal", 0, 10)
            .await
            .unwrap_err();
        assert_eq!(not_used.code, "channel_not_applicable");
        s.stop().await;
    }
}

const INBOUND_SECRET: &str = "inbound-secret-for-tests-0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_to_the_mailto_address_unsubscribes_with_source_reply() {
    for db in common::backends().await {
        let s = TestServer::start_with(db, |c| {
            c.reply_domain = Some("unsubscribe.doui.test".into());
            c.inbound_secret = Some(INBOUND_SECRET.into());
        })
        .await;
        let (who, pref) = s.subject("reply@example.jp", Lang::Ja).await;
        grant_all_marketing(&s, who, &pref).await;
        let subject = s.services.store.subject(who).await.unwrap().unwrap();
        let h = s
            .services
            .mail_headers(&subject, Some("newsletter"), Some("email"), None)
            .await
            .unwrap();
        // R1: one https URI, then the optional mailto.
        let parts: Vec<&str> = h.list_unsubscribe.split(", ").collect();
        assert_eq!(parts.len(), 2, "{}", h.list_unsubscribe);
        assert!(parts[0].starts_with("<https://doui.test/u/"));
        let mailto = parts[1]
            .trim_start_matches("<mailto:")
            .trim_end_matches('>');
        let address = mailto.split('?').next().unwrap();
        let (local, domain) = address.split_once('@').unwrap();
        assert!(
            local.len() <= 64 && domain == "unsubscribe.doui.test",
            "{address}"
        );

        let inbound = |auth: Option<&str>, form: Vec<(&'static str, String)>| {
            let mut req = s
                .client
                .post(format!("{}/inbound/email", s.base))
                .form(&form);
            if let Some(a) = auth {
                req = req.bearer_auth(a);
            }
            req.send()
        };
        // Unauthenticated posts change nothing.
        let form = vec![
            ("to", format!("\"Doui\" <{}>", address.to_uppercase())),
            ("from", "reply@example.jp".into()),
        ];
        assert_eq!(
            inbound(None, form.clone()).await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            inbound(Some("wrong"), form.clone()).await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            state(&s, who, "newsletter", Channel::Email).await,
            Some(ConsentState::Granted)
        );
        // A forged code is accepted (no retries) and ignored.
        let forged = vec![("to", format!("u-{}@unsubscribe.doui.test", "a".repeat(50)))];
        let res = inbound(Some(INBOUND_SECRET), forged).await.unwrap();
        assert_eq!(
            res.json::<serde_json::Value>().await.unwrap()["unsubscribed"],
            0
        );
        // The genuine reply (the provider may upper-case the local part).
        let res = inbound(Some(INBOUND_SECRET), form).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.json::<serde_json::Value>().await.unwrap()["unsubscribed"],
            1
        );
        assert_eq!(
            state(&s, who, "newsletter", Channel::Email).await,
            Some(ConsentState::Withdrawn)
        );
        assert_eq!(
            state(&s, who, "newsletter", Channel::Sms).await,
            Some(ConsentState::Granted),
            "only its scope"
        );
        let last = &s.services.store.events_for_subject(who, 1).await.unwrap()[0];
        assert_eq!(last.provenance.source, Source::Reply);

        // The JSON shape (Postmark) works too, with Basic authentication.
        let all = s
            .services
            .mail_headers(&subject, None, None, None)
            .await
            .unwrap();
        let address = all
            .list_unsubscribe
            .split("<mailto:")
            .nth(1)
            .unwrap()
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        let res = s
            .client
            .post(format!("{}/inbound/email", s.base))
            .basic_auth("postmark", Some(INBOUND_SECRET))
            .json(&serde_json::json!({"OriginalRecipient": address, "From": "reply@example.jp"}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.json::<serde_json::Value>().await.unwrap()["unsubscribed"],
            1
        );
        assert_eq!(
            state(&s, who, "ad_targeting", Channel::Web).await,
            Some(ConsentState::Withdrawn)
        );
        s.stop().await;
    }
}
