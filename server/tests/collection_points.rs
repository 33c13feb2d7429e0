//! Issue 31: collection points in the console (owners add and retire them, everyone reads them),
//! and the collection point of each event shown in the console, the person's page, record.json
//! and the receipt. On SQLite and on PostgreSQL.

mod common;

use app::{auth::Role, domain::Lang};
use common::server::servers;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owners_add_and_retire_collection_points_and_everyone_reads_them() {
    for s in servers().await {
        let db = s.db.name();
        let owner = s.signed_in(Role::Owner).await;
        let point = [
            ("key", "store-ginza"),
            ("name_ja", "銀座店"),
            ("name_en", "Ginza store"),
            ("kind", "store"),
            ("location", "東京都中央区銀座1-1"),
            (
                "wording",
                "店頭の申込書：「新商品のお知らせをメールで受け取る」",
            ),
            ("notice_version", "2026-01"),
        ];
        let res = owner.call("admin/add_collection_point", &point).await;
        assert_eq!(res.status(), 200, "{db}");
        let list: Value = res.json().await.unwrap();
        assert_eq!(list[0]["key"], "store-ginza");
        assert_eq!(list[0]["kind"], "store");
        assert_eq!(
            list[0]["wording_sha256"],
            app::domain::sha256_hex("店頭の申込書：「新商品のお知らせをメールで受け取る」")
        );
        let res = owner.call("admin/add_collection_point", &point).await;
        assert_eq!(res.status(), 409, "{db}: a key is registered once");
        let mut bad = point;
        bad[3] = ("kind", "kiosk");
        bad[0] = ("key", "kiosk");
        let res = owner.call("admin/add_collection_point", &bad).await;
        assert_eq!(res.status(), 400, "{db}");

        // Operators and viewers read; only owners add or retire.
        let operator = s.signed_in(Role::Operator).await;
        let mut other = point;
        other[0] = ("key", "store-2");
        let res = operator.call("admin/add_collection_point", &other).await;
        assert_eq!(res.status(), 403, "{db}");
        let res = operator
            .call("admin/retire_collection_point", &[("key", "store-ginza")])
            .await;
        assert_eq!(res.status(), 403, "{db}");
        let viewer = s.signed_in(Role::Viewer).await;
        let page = viewer
            .get("/admin/collection-points?lang=ja")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("data-collection-point=\"store-ginza\""),
            "{db}"
        );
        assert!(page.contains("銀座店"));
        assert!(!page.contains("add-collection-point"), "{db}: read-only");
        assert!(!page.contains("retire-collection-point"), "{db}: read-only");
        let page = owner
            .get("/admin/collection-points?lang=en")
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("add-collection-point"), "{db}");
        assert!(page.contains("retire-collection-point"), "{db}");
        assert!(
            page.contains("href=\"/admin/collection-points?lang=en\""),
            "{db}: in the nav"
        );

        // Without JavaScript: the form posts and comes back to the page.
        let res = owner
            .post(
                "/api/admin/add_collection_point",
                &[
                    ("key", "call-center"),
                    ("name_ja", "コールセンター"),
                    ("name_en", "Call center"),
                    ("kind", "call_center"),
                    ("location", "Osaka"),
                    ("wording", "Script v3"),
                    ("lang", "en"),
                    ("return_to", "/admin/collection-points?lang=en"),
                ],
            )
            .await;
        assert_eq!(res.status(), 303, "{db}");
        assert_eq!(
            res.headers()["location"],
            "/admin/collection-points?lang=en"
        );

        let res = owner
            .call("admin/retire_collection_point", &[("key", "store-ginza")])
            .await;
        assert_eq!(res.status(), 200, "{db}");
        let list: Value = res.json().await.unwrap();
        let ginza = list
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["key"] == "store-ginza")
            .unwrap();
        assert!(
            ginza["retired"].as_str().unwrap().contains("admin:"),
            "{db}"
        );
        let res = owner
            .call("admin/retire_collection_point", &[("key", "store-ginza")])
            .await;
        assert_eq!(res.status(), 409, "{db}: retired once");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_event_shows_its_collection_point_to_the_console_the_person_and_the_receipt() {
    for s in servers().await {
        let db = s.db.name();
        s.services
            .add_collection_point(
                app::domain::NewCollectionPoint {
                    key: "checkout".into(),
                    name_ja: "購入画面".into(),
                    name_en: "Checkout page".into(),
                    kind: app::domain::CollectionPointKind::Checkout,
                    location: "https://shop.example/checkout".into(),
                    wording: "お知らせを受け取る".into(),
                    notice_version: Some("1.0".into()),
                },
                "admin:test",
            )
            .await
            .unwrap();
        let (who, token) = s.subject("shown@example.jp", Lang::Ja).await;
        let key = s
            .services
            .create_api_key("crm", &["consents:write".to_owned()])
            .await
            .unwrap()
            .1;
        let external_id = who.to_string();
        let res = s
            .client
            .post(format!("{}/api/v1/consents", s.base))
            .bearer_auth(&key)
            .json(&json!({
                "subject": external_id, "purpose": "newsletter", "channel": "email",
                "state": "granted", "occurred_at": "2026-01-05T10:00:00+09:00",
                "collection_point": "checkout", "notice_version": "1.0"
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{db}: {}", res.text().await.unwrap());

        // The console's page of the subject (in the admin's language).
        let viewer = s.signed_in(Role::Viewer).await;
        let page = viewer
            .get(&format!("/admin/subjects/{who}?lang=en"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("collection-point"), "{db}");
        assert!(page.contains("Checkout page"), "{db}");
        // The person's page, in their language.
        let page = s
            .client
            .get(format!("{}/p/{token}", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("購入画面"), "{db}: the person's history");
        // record.json and its receipt.
        let record: Value = s
            .client
            .get(format!("{}/p/{token}/record.json", s.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let text = record.to_string();
        assert!(text.contains("\"collection_point\""), "{db}");
        let history = record["history"].as_array().unwrap();
        let cp = &history.last().unwrap()["collection_point"];
        assert_eq!(cp["key"], "checkout", "{db}: {record}");
        assert_eq!(cp["name"], "購入画面");
        assert_eq!(cp["kind"], "checkout");
        assert_eq!(
            cp["wording_sha256"],
            app::domain::sha256_hex("お知らせを受け取る")
        );
        // The signed receipt says it too (its payload, a compact JWS's middle part).
        use base64::Engine;
        let jws = record["receipt"].as_str().unwrap();
        let payload = jws.split('.').nth(1).unwrap();
        let payload: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap();
        let events = payload["record"]["events"].as_array().unwrap();
        assert_eq!(
            events.last().unwrap()["collection_point"]["key"],
            "checkout",
            "{db}: {payload}"
        );
        s.stop().await;
    }
}
