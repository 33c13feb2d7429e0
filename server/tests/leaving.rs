//! Issue 34 item 1: "why are you leaving?" — one optional question after an unsubscribe is done
//! (never before, never required), kept beside the withdrawals it explains (the first answer
//! stands), counted in the console per purpose and campaign; an erasure clears the free text.
//! On SQLite and PostgreSQL.

mod common;

use app::{
    auth::Role,
    domain::{ConsentState, Lang, LeaveReason},
    token::Scope,
};
use common::server::{TestServer, servers};

async fn post(s: &TestServer, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let res = s
        .client
        .post(format!("{}{path}", s.base))
        .header("accept-language", "en")
        .form(form)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reason_is_asked_after_the_unsubscribe_and_kept_beside_its_withdrawals() {
    for s in servers().await {
        let name = s.services.store.backend();
        let person = s
            .services
            .create_subject(Some("leaver-1"), Some("leaver@example.com"), None, Lang::En)
            .await
            .unwrap();
        let newsletter = "newsletter".parse().unwrap();
        let token = s.services.unsubscribe_token(
            person.id,
            Scope::Purpose(newsletter),
            Some("spring-sale"),
        );

        // Nothing to explain before the unsubscribe.
        let reason_path = format!("/u/{token}/reason");
        let (status, page) = post(&s, &reason_path, &[("reason", "too_many")]).await;
        assert_eq!(status, 409, "{name}: {page}");
        assert!(page.contains("unsubscribed nothing recently"), "{name}");

        // A mail provider's one-click gets no question; a person on the page does, after.
        let (status, page) = post(
            &s,
            &format!("/u/{token}"),
            &[
                ("List-Unsubscribe", "One-Click"),
                ("confirm", "page"),
                ("lang", "en"),
            ],
        )
        .await;
        assert_eq!(status, 200, "{name}: {page}");
        let done = page
            .find("You are unsubscribed")
            .expect("the unsubscribe is done");
        let asked = page
            .find(&format!("action=\"{reason_path}\""))
            .expect("the question");
        assert!(done < asked, "{name}: asked only after it is done");
        assert!(page.contains("Answering is optional"), "{name}");
        let events = s
            .services
            .store
            .events_for_subject(person.id, 50)
            .await
            .unwrap();
        let withdrawals: Vec<String> = events
            .iter()
            .filter(|e| e.to == ConsentState::Withdrawn)
            .map(|e| e.id.to_string())
            .collect();
        assert!(!withdrawals.is_empty(), "{name}");

        // A reason that is not one of the four is refused, in the person's language.
        let (status, page) = post(&s, &reason_path, &[("reason", "spam"), ("lang", "en")]).await;
        assert_eq!(status, 400, "{name}");
        assert!(page.contains("Choose one of the reasons."), "{name}");
        let long = "x".repeat(501);
        let (status, _) = post(&s, &reason_path, &[("reason", "other"), ("text", &long)]).await;
        assert_eq!(status, 400, "{name}: text bounded");
        // From another site: refused.
        let res = s
            .client
            .post(format!("{}{reason_path}", s.base))
            .header("sec-fetch-site", "cross-site")
            .form(&[("reason", "too_many")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{name}");

        let form = [
            ("reason", "too_many"),
            ("text", "Weekly would be fine"),
            ("lang", "en"),
        ];
        let (status, page) = post(&s, &reason_path, &form).await;
        assert_eq!(status, 200, "{name}: {page}");
        assert!(page.contains("Thank you"), "{name}");
        let kept = s
            .services
            .console
            .leave_reasons_of(person.id)
            .await
            .unwrap();
        let mut explained: Vec<String> = kept.iter().map(|(e, _, _)| e.clone()).collect();
        explained.sort();
        let mut expected = withdrawals.clone();
        expected.sort();
        assert_eq!(
            explained, expected,
            "{name}: beside each withdrawal it explains"
        );
        assert!(
            kept.iter().all(|(_, r, t)| *r == LeaveReason::TooMany
                && t.as_deref() == Some("Weekly would be fine"))
        );
        // The first answer stands.
        let (status, _) = post(&s, &reason_path, &[("reason", "other")]).await;
        assert_eq!(status, 200, "{name}");
        let again = s
            .services
            .console
            .leave_reasons_of(person.id)
            .await
            .unwrap();
        assert!(
            again.iter().all(|(_, r, _)| *r == LeaveReason::TooMany),
            "{name}"
        );

        // The console counts it per purpose and per campaign.
        let viewer = s.signed_in(Role::Viewer).await;
        let page = viewer
            .get("/admin/leave-reasons?lang=en")
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("Why people leave"), "{name}");
        assert!(page.contains("Newsletter and marketing messages"), "{name}");
        assert!(page.contains("spring-sale"), "{name}");
        assert!(
            page.contains(&format!("Too many messages {}", withdrawals.len())),
            "{name}"
        );

        // An erasure clears what they wrote; the reason stays for the counts.
        let (_, key) = s
            .services
            .create_api_key("crm", &["subjects:write".to_string()])
            .await
            .unwrap();
        let res = s
            .client
            .delete(format!("{}/api/v1/subjects/leaver-1", s.base))
            .bearer_auth(&key)
            .json(&serde_json::json!({"reason": "asked by mail"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{name}");
        let after = s
            .services
            .console
            .leave_reasons_of(person.id)
            .await
            .unwrap();
        assert_eq!(after.len(), withdrawals.len(), "{name}");
        assert!(
            after
                .iter()
                .all(|(_, r, t)| *r == LeaveReason::TooMany && t.is_none()),
            "{name}"
        );
        s.stop().await;
    }
}
