//! Consent validity on SQLite and PostgreSQL (R59, R56): a purpose may say how long a consent
//! lasts (CASL's implied consent: 730 or 180 days); the person is asked to renew it in its last
//! 30 days; renewing is an event that starts the validity again; a consent not renewed ends as an
//! event with source `expiry`, and so appears on the suppression list.

mod common;

use app::{
    auth::Role,
    domain::{Lang, PurposeKey, Source},
};
use common::server::{TestServer, servers};
use serde_json::Value;
use time::Duration;

async fn set_validity(s: &TestServer, days: Option<u32>) {
    let mut newsletter = s
        .services
        .store
        .purposes()
        .await
        .unwrap()
        .iter()
        .find(|p| p.key.as_str() == "newsletter")
        .cloned()
        .unwrap();
    newsletter.legal.validity_days = days;
    s.services
        .console
        .purpose_settings()
        .save_purpose(&newsletter, "test")
        .await
        .unwrap();
    s.services.store.purposes_changed();
}

async fn grant(s: &TestServer, token: &str) {
    let res = s
        .call(
            "set_consent",
            &[
                ("token", token),
                ("purpose", "newsletter"),
                ("channel", "email"),
                ("state", "granted"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r56_r59_consents_last_their_validity_are_offered_for_renewal_and_end_as_events() {
    for s in servers().await {
        let db = s.db.name();
        // Owners set the validity in the console; out-of-range values are refused.
        let owner = s.signed_in(Role::Owner).await;
        let page = owner
            .get("/admin/purposes?lang=en")
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("name=\"validity_days\""), "{db}");

        set_validity(&s, Some(10)).await;
        let (a, token_a) = s.subject("valid-a@example.com", Lang::En).await;
        let (b, token_b) = s.subject("valid-b@example.com", Lang::En).await;
        grant(&s, &token_a).await;
        grant(&s, &token_b).await;

        // Ten days: already in the renewal window, so the page asks.
        let html = s
            .get(&format!("/p/{token_a}"), "en")
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("data-renew=\"newsletter\""), "{db}: {html}");
        assert!(html.contains("Renew your consent"));

        // Renewing is an event (granted → granted) that starts the ten days again.
        let before = s.event_count(a).await;
        let res = s
            .call(
                "reconfirm",
                &[
                    ("token", token_a.as_str()),
                    ("purpose", "newsletter"),
                    ("decision", "confirm"),
                ],
            )
            .await;
        assert_eq!(res.status(), 200, "{db}: {}", res.text().await.unwrap());
        assert_eq!(s.event_count(a).await, before + 1);
        let renewed = &s.services.store.events_for_subject(a, 1).await.unwrap()[0];
        assert_eq!(
            (renewed.from, renewed.to),
            (
                Some(app::domain::ConsentState::Granted),
                app::domain::ConsentState::Granted
            )
        );

        // Nothing ends before its time (a's renewal and b's grant are both minutes old); eleven
        // days on, both have ended: each is withdrawn by Doui, source `expiry`.
        let now = app::services::now();
        assert_eq!(
            s.services
                .expire_due_at(now + Duration::days(9))
                .await
                .unwrap(),
            0,
            "{db}"
        );
        let ended = s
            .services
            .expire_due_at(now + Duration::days(11))
            .await
            .unwrap();
        assert_eq!(ended, 2, "{db}");
        for who in [a, b] {
            let e = &s.services.store.events_for_subject(who, 1).await.unwrap()[0];
            assert_eq!(e.provenance.source, Source::Expiry, "{db}");
            assert_eq!(e.to, app::domain::ConsentState::Withdrawn);
            assert_eq!(e.provenance.actor, app::domain::Actor::System);
            assert_eq!(
                e.provenance.reason.as_deref(),
                Some("validity of 10 days ended")
            );
        }
        // Running again writes nothing; the suppression list carries both.
        assert_eq!(
            s.services
                .expire_due_at(now + Duration::days(11))
                .await
                .unwrap(),
            0
        );
        let key = PurposeKey::parse("newsletter").unwrap();
        common::seal_all(&s.services).await;
        let suppressed = s
            .services
            .store
            .suppressions(&key, app::domain::Channel::Email, 0, 100)
            .await
            .unwrap();
        for who in [a, b] {
            assert!(suppressed.iter().any(|x| x.subject.id == who), "{db}");
        }
        let record: Value = s
            .get(&format!("/p/{token_b}/record.json"), "en")
            .await
            .json()
            .await
            .unwrap();
        let cell = record["current"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["purpose"] == "newsletter" && c["channel"] == "email")
            .unwrap()
            .clone();
        assert_eq!(cell["in_effect"], false, "{db}");
        assert_eq!(cell["source"], "expiry");

        // A long validity is not offered for renewal yet; no validity never ends.
        set_validity(&s, Some(730)).await;
        grant(&s, &token_b).await;
        let html = s
            .get(&format!("/p/{token_b}"), "en")
            .await
            .text()
            .await
            .unwrap();
        assert!(!html.contains("data-renew="), "{db}");
        set_validity(&s, None).await;
        assert_eq!(
            s.services
                .expire_due_at(now + Duration::days(5000))
                .await
                .unwrap(),
            0
        );

        // The console refuses a validity out of range, naming it.
        let res = owner
            .call(
                "admin/save_purpose",
                &[
                    ("key", "member_news"),
                    ("name_ja", "会員向けのお知らせ"),
                    ("name_en", "Member news"),
                    ("description_ja", "会員向けのお知らせです。"),
                    ("description_en", "News for members."),
                    ("mode", "opt_in"),
                    ("channel_email", "on"),
                    ("kind", "other"),
                    ("validity_days", "0"),
                ],
            )
            .await;
        assert_eq!(res.status(), 400, "{db}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], "purpose_validity_days");
        s.stop().await;
    }
}
