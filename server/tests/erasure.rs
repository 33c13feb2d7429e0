//! Erasure on request on SQLite and PostgreSQL (GDPR Art. 17; R35): an operator erases a person
//! with a reason; their identifiers leave the database, every consent is withdrawn first as
//! audited events, their links and sessions stop working, the events stay and the chain still
//! verifies, and a digest of the address keeps it from being imported again.

mod common;

use app::{auth::Role, domain::Lang};
use common::server::servers;
use serde_json::Value;

async fn call(b: &common::server::Browser, form: Vec<(&'static str, String)>) -> reqwest::Response {
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.call("admin/erase_subject", &fields).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r35_an_erased_person_leaves_only_evidence_and_a_suppression_digest() {
    for s in servers().await {
        let db = s.db.name();
        let subject = s
            .services
            .create_subject(
                Some("CRM-77"),
                Some("Erase.Me@Example.com"),
                Some("+81 90 1111 2222"),
                Lang::En,
            )
            .await
            .unwrap();
        let who = subject.id;
        let link = s.services.preference_link(who);
        let token = link.rsplit_once("/p/").unwrap().1.to_owned();
        for (purpose, channel) in [("newsletter", "email"), ("newsletter", "sms")] {
            let res = s
                .call(
                    "set_consent",
                    &[
                        ("token", token.as_str()),
                        ("purpose", purpose),
                        ("channel", channel),
                        ("state", "granted"),
                    ],
                )
                .await;
            assert_eq!(res.status(), 200);
        }
        let before = s.event_count(who).await;

        // Refused: a viewer; no reason; no confirmation.
        let viewer = s.signed_in(Role::Viewer).await;
        let id = who.0.to_string();
        let erase = |reason: &'static str, confirm: bool| {
            let mut form = vec![("subject", id.clone()), ("reason", reason.to_owned())];
            if confirm {
                form.push(("confirm", "on".to_owned()));
            }
            form
        };
        let res = call(&viewer, erase("asked by email", true)).await;
        assert_eq!(res.status(), 403, "{db}");
        let operator = s.signed_in(Role::Operator).await;
        let res = call(&operator, erase(" ", true)).await;
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], "reason_required", "{db}");
        let res = call(&operator, erase("asked by email", false)).await;
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], "erase_unconfirmed", "{db}");
        assert_eq!(s.event_count(who).await, before, "{db}: nothing written");

        // Erased.
        let res = call(&operator, erase("asked by email on 2026-11-29", true)).await;
        assert_eq!(res.status(), 200, "{db}: {}", res.text().await.unwrap());
        let page: Value = res.json().await.unwrap();
        assert_eq!(page["erasure"]["reason"], "asked by email on 2026-11-29");
        assert!(
            page["erasure"]["by"]
                .as_str()
                .unwrap()
                .starts_with("admin:")
        );
        assert_eq!(page["subject"]["email"], Value::Null);
        assert_eq!(page["subject"]["phone"], Value::Null);
        assert_ne!(page["subject"]["external_id"], "CRM-77");

        // Every consent was withdrawn first, as events by the operator with the reason; the
        // earlier events stay, and the chain verifies.
        let events = s
            .services
            .store
            .events_for_subject(who, 1000)
            .await
            .unwrap();
        assert!(events.len() > before, "{db}");
        let withdrawals: Vec<_> = events.iter().take(events.len() - before).collect();
        assert!(withdrawals.iter().all(|e| {
            e.to == app::domain::ConsentState::Withdrawn
                && e.provenance.reason.as_deref() == Some("erasure: asked by email on 2026-11-29")
                && matches!(e.provenance.actor, app::domain::Actor::Admin(_))
        }));
        for purpose in ["newsletter", "ad_targeting", "third_party_sharing"] {
            assert!(withdrawals.iter().any(|e| e.purpose.as_str() == purpose));
        }
        s.services.seal_pending().await.unwrap();
        let report = s.services.verify_chain().await.unwrap();
        assert!(report.broken.is_none(), "{db}: {report:?}");

        // Nothing identifying is left in the database: not the address in any case, nor the
        // phone, nor the sender's id.
        for key in ["Erase.Me@example.com", "CRM-77"] {
            assert!(
                s.services.store.find_subject(key).await.unwrap().is_none(),
                "{db}: {key}"
            );
        }
        let by_phone =
            s.db.console()
                .subject_records()
                .subjects_by_prefix(app::store::SubjectField::Phone, "+8190111", 10)
                .await
                .unwrap();
        assert!(by_phone.is_empty(), "{db}");
        let erased = s.services.store.subject(who).await.unwrap().unwrap();
        assert!(erased.email.is_none() && erased.phone.is_none() && erased.erased_at.is_some());

        // The link opens nothing; a mail provider's one-click still answers and writes nothing.
        let res = s.get(&format!("/p/{token}"), "en").await;
        assert_eq!(res.status(), 403, "{db}");
        let events_after = s.event_count(who).await;
        let res = s.one_click(&token).await;
        assert_eq!(
            res.status(),
            200,
            "{db}: RFC 8058 answers 200, and nothing is left to do"
        );
        assert_eq!(s.event_count(who).await, events_after);

        // Importing the address again (any case), or the phone, is refused; another is fine.
        for (email, phone) in [
            (Some("erase.me@example.com"), None),
            (Some("ERASE.ME@EXAMPLE.COM"), None),
            (None, Some("+81-90-1111-2222")),
        ] {
            let refused = s
                .services
                .create_subject(None, email, phone, Lang::En)
                .await
                .unwrap_err();
            assert_eq!(refused.code, "erased_identifier", "{db}");
        }
        s.services
            .create_subject(None, Some("someone.else@example.com"), None, Lang::En)
            .await
            .unwrap();

        // Twice is refused; the console shows who, when and why.
        let res = call(&operator, erase("again", true)).await;
        assert_eq!(res.status(), 409, "{db}");
        let html = viewer
            .get(&format!("/admin/subjects/{id}?lang=en"))
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("This subject was erased"), "{db}");
        assert!(html.contains("asked by email on 2026-11-29"));
        assert!(
            !html.contains("erase_subject"),
            "{db}: no second erase form"
        );
        s.stop().await;
    }
}

/// The outbox's messages (`.eml`), each with its text.
fn outbox(s: &common::server::TestServer) -> Vec<(std::path::PathBuf, String)> {
    std::fs::read_dir(s.data_dir.join("outbox"))
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .map(|p| {
                    let text = std::fs::read_to_string(&p).unwrap_or_default();
                    (p, text)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Hardening 12: what an erasure leaves cannot be turned back into the address. The digest kept
/// is keyed (a guess at the address can't be confirmed against it without the server's data
/// key), the outbox's messages to the person are deleted, and the outbox itself is private.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hardening_12_an_erasure_leaves_no_guessable_digest_and_no_mail_behind() {
    use app::domain::{erased_identifier, legacy_erased_digest};
    for s in servers().await {
        let db = s.db.name();
        let mut ids = Vec::new();
        for email in ["gone@example.jp", "stays@example.jp"] {
            ids.push(s.subject(email, Lang::En).await.0);
            let res = s.browser().await.post("/signin", &[("email", email)]).await;
            assert_eq!(res.status(), 303, "{db}");
        }
        for _ in 0..100 {
            if outbox(&s).len() >= 2 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(outbox(&s).len(), 2, "{db}: both mails written");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode =
                |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&s.data_dir.join("outbox")), 0o700, "{db}");
            for (path, _) in outbox(&s) {
                assert_eq!(mode(&path), 0o600, "{db}: {}", path.display());
            }
        }

        let operator = s.signed_in(Role::Operator).await;
        let res = call(
            &operator,
            vec![
                ("subject", ids[0].0.to_string()),
                ("reason", "asked by phone".to_owned()),
                ("confirm", "on".to_owned()),
            ],
        )
        .await;
        assert_eq!(res.status(), 200, "{db}: {}", res.text().await.unwrap());

        // Only the other person's mail is left.
        let left = outbox(&s);
        assert_eq!(left.len(), 1, "{db}");
        assert!(left[0].1.contains("stays@example.jp"), "{db}");

        // The plain SHA-256 of the address is not what was kept; the keyed digest is.
        let identifier = erased_identifier("email", "gone@example.jp");
        let console = s.db.console();
        assert!(
            !console
                .erasures()
                .erased_identifier(&[legacy_erased_digest(&identifier)])
                .await
                .unwrap(),
            "{db}: the unkeyed digest would confirm a guess"
        );
        assert!(
            console
                .erasures()
                .erased_identifier(&[s.services.data_key.digest(&identifier)])
                .await
                .unwrap(),
            "{db}"
        );
        let refused = s
            .services
            .create_subject(None, Some("GONE@example.jp"), None, Lang::En)
            .await
            .unwrap_err();
        assert_eq!(refused.code, "erased_identifier", "{db}");

        // An erasure made before digests were keyed still keeps its address out.
        let old = legacy_erased_digest(&erased_identifier("email", "before@example.jp"));
        let at = if db == "sqlite" {
            "'2026-01-01T00:00:00Z'"
        } else {
            "now()"
        };
        s.db.raw(&format!(
            "INSERT INTO erased_identifiers (digest, kind, erased_at) VALUES ('{old}', 'email', {at})"
        ))
        .await
        .unwrap();
        let refused = s
            .services
            .create_subject(None, Some("before@example.jp"), None, Lang::En)
            .await
            .unwrap_err();
        assert_eq!(refused.code, "erased_identifier", "{db}");
        s.stop().await;
    }
}
