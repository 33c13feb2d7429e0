//! APPI records on SQLite and PostgreSQL: recipients, a record of each provision through the API
//! (R51), data received from other businesses (R52), the person's view of both, and a stop
//! request (R53) that refuses the next provision at once and is itself an audited event.

mod common;

use app::{domain::Lang, store::Recipient};
use common::server::{TestServer, servers};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The person agrees to sharing by email, signed in (through a link, sharing waits for a
/// mailed confirmation).
async fn grant_sharing(s: &TestServer, who: app::domain::SubjectId) {
    let granted = s
        .signed_in_as(who)
        .await
        .call(
            "set_consent",
            &[
                ("token", ""),
                ("purpose", "third_party_sharing"),
                ("channel", "email"),
                ("state", "granted"),
            ],
        )
        .await;
    assert_eq!(granted.status(), 200);
}

async fn provide(s: &TestServer, key: &str, body: Value) -> reqwest::Response {
    s.client
        .post(format!("{}/api/v1/provisions", s.base))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r51_r53_provisions_are_recorded_shown_to_the_person_and_stopped_at_once() {
    for s in servers().await {
        s.services
            .save_recipient(Recipient {
                id: "partner-a".into(),
                name: "提携先A株式会社".into(),
                address: "東京都港区1-2-3".into(),
                representative: "代表取締役 山田太郎".into(),
            })
            .await
            .unwrap();
        assert_eq!(
            s.services
                .save_recipient(Recipient {
                    id: "Bad Id".into(),
                    name: "x".into(),
                    address: "y".into(),
                    representative: "z".into(),
                })
                .await
                .unwrap_err()
                .code,
            "recipient_invalid"
        );
        let (who, token) = s.subject("shared@example.jp", Lang::Ja).await;
        let key = s
            .services
            .create_api_key("crm", &["provisions".to_owned()])
            .await
            .unwrap()
            .1;
        let body = json!({
            "subject": "shared@example.jp",
            "recipient": "partner-a",
            "identified_by": ["email", "name"],
            "data_items": ["purchase history", "postal address"],
        });
        // Opt-in sharing, not agreed: nothing may be provided.
        let res = provide(&s, &key, body.clone()).await;
        assert_eq!(res.status(), StatusCode::CONFLICT, "{}", s.db.name());
        let error: Value = res.json().await.unwrap();
        assert_eq!(error["code"], "provision_not_allowed");

        // The person agrees; the provision is recorded with every item of 第29条.
        grant_sharing(&s, who).await;
        let res = provide(&s, &key, body.clone()).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let record: Value = res.json().await.unwrap();
        assert_eq!(record["recipient"], "partner-a");
        assert_eq!(record["purpose"], "third_party_sharing");
        assert_eq!(record["identified_by"], "email, name");
        assert_eq!(record["data_items"], "purchase history, postal address");
        assert!(record["provided_at"].as_str().unwrap().starts_with("20"));

        // The person sees it, with the recipient's name and address, and in their record.
        let page = s
            .get(&format!("/p/{token}"), "ja")
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("第三者への提供の記録"), "{page}");
        assert!(page.contains("提携先A株式会社") && page.contains("東京都港区1-2-3"));
        assert!(page.contains("purchase history, postal address"));
        let file: Value = s
            .get(&format!("/p/{token}/record.json"), "ja")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(file["provisions"][0]["recipient"], "提携先A株式会社");

        // R52: data received from another business, with the provider and how it acquired it.
        let subject = s.services.store.subject(who).await.unwrap().unwrap();
        let items = vec!["氏名".to_owned(), "購買履歴".to_owned()];
        s.services
            .record_acquisition(
                &subject,
                app::services::AcquisitionInput {
                    provider_name: "提供元B株式会社",
                    provider_address: "大阪市北区4-5-6",
                    provider_representative: "代表取締役 佐藤花子",
                    acquired_by: "本人の同意を得た会員登録",
                    data_items: &items,
                },
                "test",
            )
            .await
            .unwrap();
        let file: Value = s
            .get(&format!("/p/{token}/record.json"), "ja")
            .await
            .json()
            .await
            .unwrap();
        let a = &file["acquisitions"][0];
        assert_eq!(a["provider"]["representative"], "代表取締役 佐藤花子");
        assert_eq!(a["acquired_by"], "本人の同意を得た会員登録");
        assert_eq!(a["data_items"], "氏名, 購買履歴");
        assert!(s.db.raw("DELETE FROM acquisitions").await.is_err());

        // R53: the stop request — withdrawing the sharing purpose — is an audited event and
        // refuses the next provision at once.
        let events = s.event_count(who).await;
        let stopped = s
            .call(
                "set_consent",
                &[
                    ("token", token.as_str()),
                    ("purpose", "third_party_sharing"),
                    ("channel", "email"),
                    ("state", "withdrawn"),
                ],
            )
            .await;
        assert_eq!(stopped.status(), 200);
        assert_eq!(s.event_count(who).await, events + 1);
        let res = provide(&s, &key, body.clone()).await;
        assert_eq!(res.status(), StatusCode::CONFLICT);

        // Unknown recipients and keys without the scope are refused; the records are
        // append-only in the database itself.
        let mut other = body.clone();
        other["recipient"] = json!("nobody");
        assert_eq!(
            provide(&s, &key, other).await.status(),
            StatusCode::NOT_FOUND
        );
        let links_only = s
            .services
            .create_api_key("mailer", &["links".to_owned()])
            .await
            .unwrap()
            .1;
        assert_eq!(
            provide(&s, &links_only, body).await.status(),
            StatusCode::FORBIDDEN
        );
        assert!(s.db.raw("DELETE FROM provisions").await.is_err());
        assert!(
            s.db.raw("UPDATE provisions SET data_items = 'nothing'")
                .await
                .is_err()
        );
        assert_eq!(
            s.services
                .console
                .register()
                .provisions(who, 10)
                .await
                .unwrap()
                .len(),
            1
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r51_recipients_are_managed_in_the_console_and_provisions_show_on_the_subject_page() {
    use app::auth::Role;
    for s in servers().await {
        let db = s.db.name();
        let owner = s.signed_in(Role::Owner).await;
        let recipient = [
            ("id", "partner-b"),
            ("name", "Partner B Ltd."),
            ("address", "1 Harbour St, Sydney"),
            ("representative", "Alex Kim, CEO"),
        ];
        let res = owner.call("admin/save_recipient", &recipient).await;
        assert_eq!(res.status(), 200, "{db}");
        let list: Value = res.json().await.unwrap();
        assert_eq!(list[0]["id"], "partner-b");
        assert_eq!(list[0]["representative"], "Alex Kim, CEO");

        // A change keeps the id; a bad id or a missing item is refused, in the admin's words.
        let mut changed = recipient;
        changed[2] = ("address", "2 Harbour St, Sydney");
        let res = owner.call("admin/save_recipient", &changed).await;
        let list: Value = res.json().await.unwrap();
        assert_eq!(list.as_array().unwrap().len(), 1, "{db}");
        assert_eq!(list[0]["address"], "2 Harbour St, Sydney");
        let mut bad = recipient;
        bad[3] = ("representative", " ");
        let res = owner.call("admin/save_recipient", &bad).await;
        assert_eq!(res.status(), 400, "{db}");
        let error: Value = res.json().await.unwrap();
        assert_eq!(error["code"], "recipient_invalid");
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("representative")
        );

        // Operators and viewers read the list; only owners change it.
        let operator = s.signed_in(Role::Operator).await;
        let res = operator.call("admin/save_recipient", &recipient).await;
        assert_eq!(res.status(), 403, "{db}");
        let viewer = s.signed_in(Role::Viewer).await;
        let page = viewer.get("/admin/recipients").await.text().await.unwrap();
        assert!(page.contains("data-recipient=\"partner-b\""), "{db}");
        assert!(page.contains("2 Harbour St, Sydney"));
        assert!(!page.contains("save-recipient"), "{db}: read-only");
        let page = owner.get("/admin/recipients").await.text().await.unwrap();
        assert!(
            page.contains("save-recipient"),
            "{db}: owners get the forms"
        );

        // A provision to it shows on the subject's page in the console.
        let (who, _) = s.subject("provided@example.com", Lang::En).await;
        grant_sharing(&s, who).await;
        let key = s
            .services
            .create_api_key("crm", &["provisions".to_owned()])
            .await
            .unwrap()
            .1;
        let body = json!({
            "subject": "provided@example.com",
            "recipient": "partner-b",
            "identified_by": ["email"],
            "data_items": ["order history"],
        });
        assert_eq!(provide(&s, &key, body).await.status(), StatusCode::CREATED);
        let page = viewer
            .get(&format!("/admin/subjects/{}", who.0))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("Partner B Ltd."), "{db}: {page}");
        assert!(page.contains("order history"));
        s.stop().await;
    }
}

/// Issue 30, item 22 (R51): a provision record keeps the recipient's identity as it was when the
/// data was provided. The recipient edited afterwards changes neither the record already made
/// (in the API's answer, the person's page, their consent record and signed receipt, and the
/// console) nor anything but the records made after the edit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h22_r51_a_provision_keeps_the_recipient_as_it_was_when_provided() {
    use app::auth::Role;
    for s in servers().await {
        let db = s.db.name();
        let first = Recipient {
            id: "partner-c".into(),
            name: "旧社名株式会社".into(),
            address: "東京都千代田区1-1".into(),
            representative: "代表取締役 旧代表".into(),
        };
        s.services.save_recipient(first.clone()).await.unwrap();
        let (who, token) = s.subject("snapshot@example.jp", Lang::Ja).await;
        grant_sharing(&s, who).await;
        let key = s
            .services
            .create_api_key("crm", &["provisions".to_owned()])
            .await
            .unwrap()
            .1;
        let body = json!({
            "subject": "snapshot@example.jp",
            "recipient": "partner-c",
            "identified_by": ["email"],
            "data_items": ["購買履歴"],
        });
        let res = provide(&s, &key, body.clone()).await;
        assert_eq!(res.status(), StatusCode::CREATED, "{db}");
        let record: Value = res.json().await.unwrap();
        assert_eq!(record["recipient_name"], "旧社名株式会社", "{db}");
        assert_eq!(record["recipient_representative"], "代表取締役 旧代表");

        // The recipient is renamed and moves; a second provision goes to it as it is now.
        s.services
            .save_recipient(Recipient {
                name: "新社名株式会社".into(),
                address: "大阪府大阪市2-2".into(),
                representative: "代表取締役 新代表".into(),
                ..first
            })
            .await
            .unwrap();
        assert_eq!(provide(&s, &key, body).await.status(), StatusCode::CREATED);

        let stored = s
            .services
            .console
            .register()
            .provisions(who, 10)
            .await
            .unwrap();
        let names: Vec<_> = stored
            .iter()
            .map(|p| p.recipient_as_provided.as_ref().unwrap().name.as_str())
            .collect();
        assert_eq!(names, ["新社名株式会社", "旧社名株式会社"], "{db}");

        // The person's page and their record show each provision with its recipient then.
        let page = s
            .get(&format!("/p/{token}"), "ja")
            .await
            .text()
            .await
            .unwrap();
        for text in ["旧社名株式会社", "東京都千代田区1-1", "新社名株式会社"] {
            assert!(page.contains(text), "{db}: {text} in {page}");
        }
        let file: Value = s
            .get(&format!("/p/{token}/record.json"), "ja")
            .await
            .json()
            .await
            .unwrap();
        let provisions = file["provisions"].as_array().unwrap();
        assert_eq!(provisions[1]["recipient"], "旧社名株式会社", "{db}");
        assert_eq!(provisions[1]["recipient_address"], "東京都千代田区1-1");
        assert_eq!(
            provisions[1]["recipient_representative"],
            "代表取締役 旧代表"
        );
        assert_eq!(provisions[0]["recipient"], "新社名株式会社");
        // The signed receipt says the same.
        let signed = file["receipt_content"]["record"]["provisions"]
            .as_array()
            .unwrap();
        assert_eq!(signed[1]["recipient"]["name"], "旧社名株式会社", "{db}");
        assert_eq!(signed[0]["recipient"]["address"], "大阪府大阪市2-2");

        // So does the console's subject page.
        let viewer = s.signed_in(Role::Viewer).await;
        let page = viewer
            .get(&format!("/admin/subjects/{}", who.0))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("旧社名株式会社"), "{db}: {page}");
        assert!(page.contains("東京都千代田区1-1"));
        // The snapshot is evidence: the database refuses to change it.
        assert!(
            s.db.raw("UPDATE provisions SET recipient_name = 'x'")
                .await
                .is_err()
        );
        s.stop().await;
    }
}
