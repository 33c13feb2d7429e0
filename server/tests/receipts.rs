//! The person's consent record and signed receipt (R23–R27, R32, R36), on SQLite and PostgreSQL:
//! downloaded from the preference center, checked by `doui receipt verify`, refused for links
//! that only unsubscribe.

mod common;

use app::{
    domain::{Lang, PurposeKey},
    token::{Claims, Scope},
};
use common::server::{TestServer, servers};
use reqwest::{StatusCode, header};
use serde_json::Value;

async fn toggle(s: &TestServer, token: &str, state: &str) {
    let res = s
        .call(
            "set_consent",
            &[
                ("token", token),
                ("purpose", "newsletter"),
                ("channel", "email"),
                ("state", state),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
}

fn doui(s: &TestServer, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_doui"))
        .args(args)
        .env("DATABASE_URL", &s.db.url)
        .env("DOUI_DATA_DIR", &s.data_dir)
        .env("DOUI_LOG", "warn")
        .env_remove("DOUI_CONFIG")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_downloads_their_record_and_its_receipt_verifies() {
    for s in servers().await {
        let (who, token) = s.subject("record@example.jp", Lang::Ja).await;
        toggle(&s, &token, "granted").await;
        toggle(&s, &token, "withdrawn").await;
        // R36: a machine-readable export of the choices and their history.
        let res = s.get(&format!("/p/{token}/record.json"), "ja").await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            res.headers()[header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
        let text = res.text().await.unwrap();
        let record: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(record["subject"]["id"], who.0.to_string());
        let history = record["history"].as_array().unwrap();
        assert_eq!(history.len(), 2, "{}", s.db.name());
        assert_eq!(
            (&history[0]["to"], &history[1]["to"]),
            (&Value::from("granted"), &Value::from("withdrawn"))
        );
        // R32: who, when, which notice, how.
        assert_eq!(history[1]["source"], "preference_center");
        assert_eq!(history[1]["actor"], "subject");
        assert_eq!(
            history[1]["notice_version"],
            s.services.settings.notice_version.as_str()
        );
        let newsletter_email = record["current"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["purpose"] == "newsletter" && c["channel"] == "email")
            .unwrap();
        assert_eq!(newsletter_email["choice"], "withdrawn");
        assert_eq!(newsletter_email["in_effect"], false);

        // R26, R27: the receipt is a JWS (EdDSA) over the 27560 record and the Kantara view.
        let verifier = s.services.signer.verifier();
        let checked = app::services::verify_receipt(&text, &verifier).unwrap();
        assert_eq!(checked.events, 2);
        let payload = &record["receipt_content"];
        assert_eq!(payload["kantara"]["version"], "KI-CR-v1.1.0");
        assert_eq!(payload["kantara"]["piiPrincipalId"], who.0.to_string());
        assert_eq!(payload["record"]["events"][1]["type"], "withdrawn");
        assert_eq!(record["public_key"], verifier.to_text());

        // `doui receipt verify` accepts it, and refuses any change.
        let file = s.data_dir.join("record.json");
        std::fs::write(&file, &text).unwrap();
        let out = doui(&s, &["receipt", "verify", file.to_str().unwrap()]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}");
        assert!(
            stdout.contains("verified") && stdout.contains("2 events"),
            "{stdout}"
        );

        let mut altered = record.clone();
        altered["receipt_content"]["record"]["events"][1]["type"] = "given".into();
        std::fs::write(&file, altered.to_string()).unwrap();
        let out = doui(&s, &["receipt", "verify", file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stdout).contains("NOT verified"));

        let jws = record["receipt"].as_str().unwrap();
        let mut parts: Vec<String> = jws.split('.').map(str::to_owned).collect();
        parts[1] = parts[1].chars().rev().collect();
        std::fs::write(&file, parts.join(".")).unwrap();
        let out = doui(&s, &["receipt", "verify", file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1));

        std::fs::write(&file, jws).unwrap();
        let other = app::signing::Signer::from_seed([8; 32])
            .verifier()
            .to_text();
        let out = doui(
            &s,
            &[
                "receipt",
                "verify",
                file.to_str().unwrap(),
                "--public-key",
                &other,
            ],
        );
        assert_eq!(out.status.code(), Some(1), "another key");
        let out = doui(&s, &["receipt", "verify", file.to_str().unwrap()]);
        assert!(out.status.success(), "the bare JWS verifies");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_record_needs_the_whole_preference_center() {
    for s in servers().await {
        let (who, token) = s.subject("narrow@example.jp", Lang::En).await;
        // The preference page offers the download.
        let page = s
            .get(&format!("/p/{token}"), "en")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains(&format!("/p/{token}/record.json")),
            "link offered"
        );
        // A link that only unsubscribes from one purpose does not open the record.
        let narrow = s.services.keyring.sign(&Claims {
            subject: who,
            scope: Scope::Purpose(PurposeKey::parse("newsletter").unwrap()),
            issued_at: app::services::now().unix_timestamp(),
            expires_at: None,
            campaign: None,
        });
        let res = s.get(&format!("/p/{narrow}/record.json"), "ja").await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(res.text().await.unwrap().contains("配信停止のみ"));
        let res = s.get("/p/nonsense/record.json", "en").await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        // Without a session, /me/record.json asks to sign in; with one, it is the person's.
        let res = s.get("/me/record.json", "en").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let session = s
            .services
            .start_session(app::auth::Principal::Subject(who))
            .await
            .unwrap();
        let res = s
            .client
            .get(format!("{}/me/record.json", s.base))
            .header(header::COOKIE, format!("doui_session={}", session.cookie))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let record: Value = res.json().await.unwrap();
        assert_eq!(record["subject"]["id"], who.0.to_string());
        s.stop().await;
    }
}

/// What the receipt in a person's downloaded record says.
async fn receipt_content(s: &TestServer, token: &str) -> Value {
    let path = format!("/p/{token}/record.json");
    let file: Value = s.get(&path, "ja").await.json().await.unwrap();
    file["receipt_content"].clone()
}

/// Issue 30, item 23 (R23, R24): the receipt lists the recipients that exist (none while there
/// are none) and the sensitivity categories of the purposes' data, not fixed empty values.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h23_r23_r24_receipts_list_the_real_recipients_and_sensitive_categories() {
    for s in servers().await {
        let db = s.db.name();
        let (_, token) = s.subject("categories@example.jp", Lang::Ja).await;
        // Nothing registered, nothing sensitive: the receipt says so.
        let before = receipt_content(&s, &token).await;
        assert_eq!(
            before["record"]["recipients"],
            serde_json::json!([]),
            "{db}"
        );
        assert_eq!(before["kantara"]["sensitive"], false);
        assert_eq!(before["kantara"]["spiCat"], serde_json::json!([]));

        // A recipient is registered and the sharing purpose's data is marked 要配慮個人情報.
        s.services
            .save_recipient(app::store::Recipient {
                id: "partner-d".into(),
                name: "Partner D K.K.".into(),
                address: "1-2-3 Shibuya, Tokyo".into(),
                representative: "Jiro Suzuki, CEO".into(),
            })
            .await
            .unwrap();
        let mut sharing = s
            .services
            .store
            .purposes()
            .await
            .unwrap()
            .iter()
            .find(|p| p.key.as_str() == "third_party_sharing")
            .cloned()
            .unwrap();
        sharing.legal.sensitive = true;
        sharing.legal.data_items = "medical history".into();
        s.services
            .console
            .purpose_settings()
            .save_purpose(&sharing, "test")
            .await
            .unwrap();
        s.services.store.purposes_changed();

        let after = receipt_content(&s, &token).await;
        let r = &after["record"];
        let recipients = r["recipients"].as_array().unwrap();
        assert_eq!(recipients.len(), 1, "{db}");
        assert_eq!(recipients[0]["id"], "partner-d");
        assert_eq!(recipients[0]["name"], "Partner D K.K.");
        assert_eq!(recipients[0]["representative"], "Jiro Suzuki, CEO");
        assert!(
            r["parties"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "Partner D K.K." && p["type"] == "recipient"),
            "{db}"
        );
        let purpose = |key: &str| {
            r["purposes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["purpose"] == key)
                .cloned()
                .unwrap()
        };
        let shared = purpose("third_party_sharing");
        assert_eq!(shared["recipients"], serde_json::json!(["partner-d"]));
        let categories = shared["sensitive_categories"].as_array().unwrap();
        assert_eq!(categories.len(), 1, "{db}");
        assert!(categories[0].as_str().unwrap().contains("要配慮個人情報"));
        assert!(categories[0].as_str().unwrap().contains("medical history"));
        assert_eq!(
            purpose("newsletter")["sensitive_categories"],
            serde_json::json!([])
        );
        let k = &after["kantara"];
        assert_eq!(k["sensitive"], true, "{db}");
        assert_eq!(k["spiCat"], serde_json::json!(categories));
        let kp = k["services"][0]["purposes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["thirdPartyDisclosure"] == true)
            .cloned()
            .unwrap();
        assert_eq!(kp["thirdPartyName"], "Partner D K.K.", "{db}");
        s.stop().await;
    }
}
