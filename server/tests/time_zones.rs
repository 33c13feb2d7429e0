//! Issue 34 item 7: times on the person's pages are in the person's own zone: the one set for
//! them (API, command line), else their jurisdiction's (Asia/Tokyo for `jp`). Each `<time>`
//! carries the instant, for the browser to show in its own zone (the Chromium test checks that).
//! On SQLite and PostgreSQL.

mod common;

use app::domain::{CollectionPointKind, NewCollectionPoint};
use common::server::{TestServer, servers};
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime, UtcOffset, format_description::well_known::Rfc3339};

async fn send(
    s: &TestServer,
    method: reqwest::Method,
    path: &str,
    key: &str,
    body: Value,
) -> (StatusCode, Value) {
    let res = s
        .client
        .request(method, format!("{}{path}", s.base))
        .bearer_auth(key)
        .header("accept-language", "en")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The person's page, opened with their link.
async fn page(s: &TestServer, external_id: &str) -> String {
    let subject = s
        .services
        .subject_by_external_id(external_id)
        .await
        .unwrap()
        .unwrap();
    let link = s.services.preference_link(subject.id);
    let path = &link[link.find("/p/").unwrap()..];
    let res = s
        .client
        .get(format!("{}{path}", s.base))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

/// `t` as the page writes it at `offset`, with the zone's abbreviation.
fn shown(t: OffsetDateTime, offset: UtcOffset, abbreviation: &str) -> String {
    let local = t.to_offset(offset);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} {abbreviation}",
        local.year(),
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_persons_times_are_in_their_zone_or_their_jurisdictions() {
    for s in servers().await {
        let name = s.services.store.backend();
        let scopes = ["subjects:write".to_string(), "consents:write".to_string()];
        let (_, k) = s.services.create_api_key("crm", &scopes).await.unwrap();
        s.services
            .add_collection_point(
                NewCollectionPoint {
                    key: "checkout".into(),
                    name_ja: "購入画面".into(),
                    name_en: "Checkout".into(),
                    kind: CollectionPointKind::Checkout,
                    location: "https://shop.example/checkout".into(),
                    wording: "お知らせメールを受け取る".into(),
                    notice_version: Some("1.0".into()),
                },
                "admin:test",
            )
            .await
            .unwrap();

        // A Japanese customer with no zone of their own; one in India with theirs.
        let post = reqwest::Method::POST;
        let body = json!({"external_id": "TZ-JP", "email": "jp@example.jp", "jurisdiction": "jp"});
        let (status, jp) = send(&s, post.clone(), "/api/v1/subjects", &k, body).await;
        assert_eq!(status, StatusCode::CREATED, "{name}: {jp}");
        assert_eq!(
            (jp["time_zone"].as_str(), jp["time_zone_set"].as_bool()),
            (Some("Asia/Tokyo"), Some(false))
        );
        let body =
            json!({"external_id": "TZ-IN", "email": "in@example.com", "time_zone": "Asia/Kolkata"});
        let (status, india) = send(&s, post.clone(), "/api/v1/subjects", &k, body).await;
        assert_eq!(status, StatusCode::CREATED, "{name}: {india}");
        assert_eq!(
            (
                india["time_zone"].as_str(),
                india["time_zone_set"].as_bool()
            ),
            (Some("Asia/Kolkata"), Some(true))
        );

        // A zone the database does not know is refused, and nobody is created.
        let body =
            json!({"external_id": "TZ-X", "email": "x@example.com", "time_zone": "Mars/Olympus"});
        let (status, refused) = send(&s, post.clone(), "/api/v1/subjects", &k, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {refused}");
        assert_eq!(refused["code"], "unknown_time_zone");
        assert!(
            refused["message"].as_str().unwrap().contains("Asia/Tokyo"),
            "{refused}"
        );
        assert!(
            s.services
                .subject_by_external_id("TZ-X")
                .await
                .unwrap()
                .is_none(),
            "{name}"
        );

        // Each grants the newsletter at the same instant (two days ago, to the second).
        let then = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() - Duration::days(2);
        let when = then.format(&Rfc3339).unwrap();
        let change = |subject: &str| {
            json!({
                "subject": subject, "purpose": "newsletter", "channel": "email",
                "state": "granted", "occurred_at": when, "collection_point": "checkout",
                "notice_version": "1.0", "evidence": {"proof_ref": "crm:1"}
            })
        };
        let batch = json!({"changes": [change("TZ-JP"), change("TZ-IN")]});
        let (status, answer) = send(&s, post.clone(), "/api/v1/consents", &k, batch).await;
        assert_eq!(status, StatusCode::OK, "{name}: {answer}");

        let tokyo = UtcOffset::from_hms(9, 0, 0).unwrap();
        let kolkata = UtcOffset::from_hms(5, 30, 0).unwrap();
        let jp_page = page(&s, "TZ-JP").await;
        assert!(
            jp_page.contains(&shown(then, tokyo, "JST")),
            "{name}: Tokyo time on the page"
        );
        assert!(
            jp_page.contains(&format!("datetime=\"{when}\"")),
            "{name}: the instant"
        );
        assert!(
            !jp_page.contains(" UTC<"),
            "{name}: no UTC time left for the person"
        );
        let in_page = page(&s, "TZ-IN").await;
        assert!(
            in_page.contains(&shown(then, kolkata, "IST")),
            "{name}: Kolkata time on the page"
        );

        // The console's subject page names the zone (its own times stay UTC).
        let viewer = s.signed_in(app::auth::Role::Viewer).await;
        let console = viewer
            .get(&format!(
                "/admin/subjects/{}?lang=en",
                india["id"].as_str().unwrap()
            ))
            .await
            .text()
            .await
            .unwrap();
        // (Leptos marks the seams between texts with `<!>`.)
        let text = console.replace("<!>", "");
        assert!(text.contains("Time zone: Asia/Kolkata"), "{name}");

        // Removing the zone goes back to the jurisdiction's (here none: UTC); recorded.
        let (status, back) = send(
            &s,
            reqwest::Method::PATCH,
            "/api/v1/subjects/TZ-IN",
            &k,
            json!({"time_zone": null}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{name}: {back}");
        assert_eq!(
            (back["time_zone"].as_str(), back["time_zone_set"].as_bool()),
            (Some("UTC"), Some(false))
        );
        let in_page = page(&s, "TZ-IN").await;
        assert!(
            in_page.contains(&shown(then, UtcOffset::UTC, "UTC")),
            "{name}"
        );
        let (status, refused) = send(
            &s,
            reqwest::Method::PATCH,
            "/api/v1/subjects/TZ-IN",
            &k,
            json!({"time_zone": "Asia/Nowhere"}),
        )
        .await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("unknown_time_zone")),
            "{name}"
        );
        let id = app::domain::SubjectId(india["id"].as_str().unwrap().parse().unwrap());
        let changes = s
            .services
            .console
            .subject_records()
            .subject_changes(id)
            .await
            .unwrap();
        let zones: Vec<(&str, Option<&str>)> = changes
            .iter()
            .map(|c| (c.field.as_str(), c.new_value.as_deref()))
            .collect();
        assert_eq!(
            zones,
            [("time_zone", Some("Asia/Kolkata")), ("time_zone", None)],
            "{name}"
        );
        s.stop().await;
    }
}
