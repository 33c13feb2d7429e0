//! Versioned privacy notices on SQLite and PostgreSQL (R31, R32, R43): owners publish versions
//! (checked, append-only); every event pins the version in force; a material change asks the
//! people who consented under an earlier version to re-confirm, shows them what changed, and
//! until they answer an opt-in consent does not apply; confirming or withdrawing is an event.

mod common;

use app::{auth::Role, domain::Lang};
use common::server::{Browser, TestServer, servers};
use serde_json::Value;

/// A form's fields.
type Form = Vec<(&'static str, &'static str)>;

const V1_EN: &str =
    "1. We collect your email address.\n2. We send the newsletter.\n3. Contact: privacy@example.jp";
const V2_EN: &str = "1. We collect your email address.\n2. We send the newsletter and offers from partner shops.\n3. Contact: privacy@example.jp";

async fn publish(owner: &Browser, fields: &[(&str, &str)]) -> reqwest::Response {
    owner.call("admin/publish_notice", fields).await
}

async fn error_code(res: reqwest::Response) -> (u16, String, String) {
    let status = res.status().as_u16();
    let body: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
    (
        status,
        body["code"].as_str().unwrap_or_default().to_owned(),
        body["message"].as_str().unwrap_or_default().to_owned(),
    )
}

/// (purpose, channel) → in_effect, from the person's downloadable record.
async fn in_effect(s: &TestServer, token: &str, purpose: &str, channel: &str) -> bool {
    let res = s.get(&format!("/p/{token}/record.json"), "en").await;
    let record: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
    record["current"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["purpose"] == purpose && c["channel"] == channel)
        .unwrap()["in_effect"]
        .as_bool()
        .unwrap()
}

/// (from, to, notice version) of the subject's latest event.
async fn latest(s: &TestServer, who: app::domain::SubjectId) -> (Option<String>, String, String) {
    let e = s
        .services
        .store
        .events_for_subject(who, 1)
        .await
        .unwrap()
        .remove(0);
    (
        e.from.map(|f| f.key().to_owned()),
        e.to.key().to_owned(),
        e.provenance.notice_version.unwrap_or_default(),
    )
}

async fn grant(s: &TestServer, token: &str, purpose: &str, channel: &str) {
    // Ad targeting through a link waits for a mailed confirmation: grant it signed in.
    let who = s.services.claims(token).unwrap().subject;
    let res = s
        .signed_in_as(who)
        .await
        .call(
            "set_consent",
            &[
                ("token", ""),
                ("purpose", purpose),
                ("channel", channel),
                ("state", "granted"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r31_r32_r43_events_pin_the_notice_in_force_and_a_material_change_asks_to_reconfirm() {
    for s in servers().await {
        let db = s.db.name();
        let owner = s.signed_in(Role::Owner).await;
        let (a, token_a) = s.subject("reconfirm-a@example.com", Lang::En).await;
        let (b, token_b) = s.subject("reconfirm-b@example.com", Lang::En).await;

        // Before any notice is published, events pin the configured version.
        grant(&s, &token_a, "ad_targeting", "web").await;
        let configured = s.services.settings.notice_version.clone();
        assert_eq!(latest(&s, a).await.2, configured, "{db}");

        let res = publish(
            &owner,
            &[
                ("version", "v1"),
                ("text_ja", "1. メールアドレスを取得します。"),
                ("text_en", V1_EN),
            ],
        )
        .await;
        assert_eq!(res.status(), 200, "{db}: {}", res.text().await.unwrap());
        for token in [&token_a, &token_b] {
            grant(&s, token, "newsletter", "email").await;
        }
        assert_eq!(latest(&s, a).await.2, "v1", "{db}");
        assert_eq!(s.services.notice_version().await.unwrap(), "v1");

        // A material change for the newsletter, in force now.
        let res = publish(
            &owner,
            &[
                ("version", "v2"),
                ("material", "on"),
                ("purposes", "newsletter"),
                ("summary_ja", "提携店舗からのお知らせを追加しました。"),
                ("summary_en", "We added offers from partner shops."),
                (
                    "text_ja",
                    "1. メールアドレスを取得します。\n2. 提携店舗のお知らせを送ります。",
                ),
                ("text_en", V2_EN),
            ],
        )
        .await;
        assert_eq!(res.status(), 200, "{db}: {}", res.text().await.unwrap());
        let listed: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
        assert_eq!(listed[0]["version"], "v2");
        assert_eq!(listed[0]["in_force"], true);

        // The person sees what changed and is asked; until then the opt-in consent does not
        // apply, and what the change does not concern still does.
        let page = s
            .get(&format!("/p/{token_a}"), "en")
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("data-notice=\"v2\""), "{db}: {page}");
        assert!(page.contains("We added offers from partner shops."));
        assert!(
            page.contains("We send the newsletter.</li>"),
            "removed line shown"
        );
        assert!(
            page.contains("offers from partner shops.</li>"),
            "added line shown"
        );
        assert!(page.contains("data-reconfirm=\"newsletter\""));
        assert!(!page.contains("data-reconfirm=\"ad_targeting\""));
        assert!(
            !in_effect(&s, &token_a, "newsletter", "email").await,
            "{db}"
        );
        assert!(in_effect(&s, &token_a, "ad_targeting", "web").await);

        // A provision or a send can't rely on it meanwhile; the page's form (no JavaScript)
        // confirms: an event granted → granted under v2, and the consent applies again.
        let before = s.event_count(a).await;
        let res = s
            .post_form(
                "reconfirm",
                &[
                    ("token", token_a.as_str()),
                    ("purpose", "newsletter"),
                    ("decision", "confirm"),
                ],
                "en",
            )
            .await;
        assert!(res.status().is_redirection(), "{db}: {}", res.status());
        assert_eq!(s.event_count(a).await, before + 1);
        assert_eq!(
            latest(&s, a).await,
            (Some("granted".into()), "granted".into(), "v2".into())
        );
        assert!(in_effect(&s, &token_a, "newsletter", "email").await, "{db}");
        let page = s
            .get(&format!("/p/{token_a}"), "en")
            .await
            .text()
            .await
            .unwrap();
        assert!(!page.contains("data-reconfirm="), "{db}: answered");

        // Answering twice writes nothing.
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
        let (status, code, _) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (409, "nothing_to_reconfirm"),
            "{db}"
        );
        assert_eq!(s.event_count(a).await, before + 1);

        // The other person withdraws instead: granted → withdrawn, pinned to v2.
        let res = s
            .call(
                "reconfirm",
                &[
                    ("token", token_b.as_str()),
                    ("purpose", "newsletter"),
                    ("decision", "withdraw"),
                ],
            )
            .await;
        assert_eq!(res.status(), 200, "{db}: {}", res.text().await.unwrap());
        assert_eq!(
            latest(&s, b).await,
            (Some("granted".into()), "withdrawn".into(), "v2".into())
        );

        // A consent given after the change is not asked again.
        let (c, token_c) = s.subject("reconfirm-c@example.com", Lang::Ja).await;
        grant(&s, &token_c, "newsletter", "email").await;
        assert_eq!(latest(&s, c).await.2, "v2");
        assert!(in_effect(&s, &token_c, "newsletter", "email").await);

        // The public policy shows the version in force and its text.
        let policy = s.get("/privacy", "en").await.text().await.unwrap();
        assert!(policy.contains("data-notice=\"v2\""), "{db}");
        assert!(policy.contains("offers from partner shops."));
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r31_r43_notices_are_checked_owned_by_owners_and_append_only() {
    for s in servers().await {
        let db = s.db.name();
        let owner = s.signed_in(Role::Owner).await;
        let both = |version: &'static str| {
            vec![
                ("version", version),
                ("text_ja", "本文"),
                ("text_en", "Text"),
            ]
        };
        // The first version cannot be material: nothing to compare with.
        let mut first = both("2026-01");
        first.push(("material", "on"));
        first.push(("summary_ja", "概要"));
        first.push(("summary_en", "Summary"));
        let (status, code, _) = error_code(publish(&owner, &first).await).await;
        assert_eq!(
            (status, code.as_str()),
            (400, "notice_material_needs_previous"),
            "{db}"
        );
        let res = publish(&owner, &both("2026-01")).await;
        assert_eq!(res.status(), 200, "{db}");

        let cases: Vec<(Form, u16, &str)> = vec![
            (both("2026-01"), 409, "notice_version_taken"),
            (both("bad version"), 400, "malformed_notice_version"),
            (
                vec![
                    ("version", "2026-02"),
                    ("text_ja", " "),
                    ("text_en", "Text"),
                ],
                400,
                "notice_text_missing",
            ),
            (
                [both("2026-02"), vec![("material", "on")]].concat(),
                400,
                "notice_summary_missing",
            ),
            (
                [
                    both("2026-02"),
                    vec![
                        ("material", "on"),
                        ("purposes", "no_such_purpose"),
                        ("summary_ja", "概要"),
                        ("summary_en", "Summary"),
                    ],
                ]
                .concat(),
                400,
                "unknown_purpose",
            ),
            (
                [both("2026-02"), vec![("effective_at", "2000-01-01T00:00")]].concat(),
                400,
                "notice_effective_before_latest",
            ),
            (
                [both("2026-02"), vec![("effective_at", "next tuesday")]].concat(),
                400,
                "bad_effective_at",
            ),
        ];
        for (fields, want_status, want_code) in cases {
            let (status, code, message) = error_code(publish(&owner, &fields).await).await;
            assert_eq!((status, code.as_str()), (want_status, want_code), "{db}");
            assert!(
                !message.is_empty() && !message.contains("Something went wrong"),
                "{code}: {message}"
            );
        }
        // Messages come in the admin's language.
        let res = owner
            .client
            .post(format!("{}/api/admin/publish_notice", owner.base))
            .header("accept", "application/json")
            .header("accept-language", "ja")
            .form(&[
                ("version", "2026-01"),
                ("text_ja", "本文"),
                ("text_en", "Text"),
                ("csrf", owner.csrf.as_str()),
            ])
            .send()
            .await
            .unwrap();
        let (_, code, message) = error_code(res).await;
        assert_eq!(code, "notice_version_taken");
        assert!(message.contains("公開"), "{message}");

        // A version that takes effect later is listed as upcoming and not yet in force.
        let res = publish(
            &owner,
            &[
                ("version", "2099-01"),
                ("effective_at", "2099-01-01T00:00:00Z"),
                ("text_ja", "将来の本文"),
                ("text_en", "Future text"),
            ],
        )
        .await;
        let listed: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
        assert_eq!(listed[0]["version"], "2099-01");
        assert_eq!(listed[0]["upcoming"], true);
        assert_eq!(listed[1]["in_force"], true);
        assert_eq!(
            s.services.notice_version().await.unwrap(),
            "2026-01",
            "{db}"
        );

        // Below the owner role: refused, nothing published.
        let viewer = s.signed_in(Role::Operator).await;
        let (status, code, _) = error_code(publish(&viewer, &both("2026-03")).await).await;
        assert_eq!((status, code.as_str()), (403, "forbidden_role"), "{db}");
        let page = viewer.get("/admin/notices").await.text().await.unwrap();
        assert!(
            page.contains("data-version=\"2026-01\""),
            "{db}: viewers read the list"
        );
        assert!(!page.contains("publish_notice"), "{db}: but get no form");
        assert_eq!(s.services.notices().await.unwrap().len(), 2);

        // Published versions are evidence: the database refuses to change or delete them.
        assert!(
            s.db.raw("UPDATE notices SET text_en = 'rewritten'")
                .await
                .is_err(),
            "{db}"
        );
        assert!(s.db.raw("DELETE FROM notices").await.is_err(), "{db}");
        s.stop().await;
    }
}

/// Hardening 16: a re-confirmation's idempotency key is checked like every other path's, so a
/// key with a multi-byte character where it used to be cut (byte 96) is refused with a message
/// instead of panicking the request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hardening_16_a_reconfirmation_key_with_a_multibyte_character_is_refused_not_a_panic() {
    for s in servers().await {
        let db = s.db.name();
        let owner = s.signed_in(Role::Owner).await;
        let (who, token) = s.subject("reconfirm-key@example.com", Lang::En).await;
        let res = publish(
            &owner,
            &[("version", "v1"), ("text_ja", "一"), ("text_en", V1_EN)],
        )
        .await;
        assert_eq!(res.status(), 200, "{db}");
        grant(&s, &token, "newsletter", "email").await;
        let res = publish(
            &owner,
            &[
                ("version", "v2"),
                ("material", "on"),
                ("purposes", "newsletter"),
                ("summary_ja", "変更"),
                ("summary_en", "Changed."),
                ("text_ja", "二"),
                ("text_en", V2_EN),
            ],
        )
        .await;
        assert_eq!(res.status(), 200, "{db}");

        let key = format!("{}é-and-more", "k".repeat(95));
        let before = s.event_count(who).await;
        let res = s
            .call(
                "reconfirm",
                &[
                    ("token", token.as_str()),
                    ("purpose", "newsletter"),
                    ("decision", "confirm"),
                    ("idempotency_key", key.as_str()),
                ],
            )
            .await;
        let (status, code, message) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (400, "malformed_idempotency_key"),
            "{db}"
        );
        assert!(!message.is_empty());
        assert_eq!(s.event_count(who).await, before, "{db}: nothing written");

        // A well-formed key still answers.
        let res = s
            .call(
                "reconfirm",
                &[
                    ("token", token.as_str()),
                    ("purpose", "newsletter"),
                    ("decision", "confirm"),
                    ("idempotency_key", "k".repeat(120).as_str()),
                ],
            )
            .await;
        assert_eq!(res.status(), 200, "{db}: {}", res.text().await.unwrap());
        s.stop().await;
    }
}
