//! Issue 31: writing from other systems through the API — subjects created, read, changed (each
//! change recorded with who and when) and erased; consents collected elsewhere recorded with their
//! collection point and evidence, all or nothing per batch, idempotent under a retried key, and
//! refused when the evidence is missing, the time is in the future or older than the latest
//! change, or the collection point is retired. Every test runs on SQLite and on PostgreSQL.

mod common;

use app::domain::{CollectionPointKind, NewCollectionPoint};
use common::server::{TestServer, servers};
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime, format_description::well_known::Rfc3339};

/// A key with `scopes`, and its id.
async fn key(s: &TestServer, scopes: &[&str]) -> (String, String) {
    let scopes: Vec<String> = scopes.iter().map(|x| x.to_string()).collect();
    let (record, key) = s.services.create_api_key("crm", &scopes).await.unwrap();
    (key, record.id)
}

async fn send(
    s: &TestServer,
    method: reqwest::Method,
    path: &str,
    key: &str,
    body: Option<Value>,
    idempotency_key: Option<&str>,
) -> (StatusCode, Value, String) {
    let mut req = s
        .client
        .request(method, format!("{}{path}", s.base))
        .bearer_auth(key)
        .header("accept-language", "en");
    if let Some(b) = body {
        req = req.json(&b);
    }
    if let Some(k) = idempotency_key {
        req = req.header("idempotency-key", k);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, json, text)
}

async fn post(s: &TestServer, path: &str, key: &str, body: Value) -> (StatusCode, Value) {
    let (status, json, _) = send(s, reqwest::Method::POST, path, key, Some(body), None).await;
    (status, json)
}

fn at(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap()
}

/// Registers the collection point `key` (presenting notice version 1.0).
async fn point(s: &TestServer, key: &str) {
    s.services
        .add_collection_point(
            NewCollectionPoint {
                key: key.into(),
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
}

/// A grant of the newsletter by email for `subject`, collected at checkout `ago` ago.
fn grant(subject: &str, ago: Duration) -> Value {
    json!({
        "subject": subject,
        "purpose": "newsletter",
        "channel": "email",
        "state": "granted",
        "occurred_at": at(OffsetDateTime::now_utc() - ago),
        "collection_point": "checkout",
        "notice_version": "1.0",
        "evidence": {
            "ip": "203.0.113.77",
            "user_agent": "Mozilla/5.0",
            "form_url": "https://shop.example/checkout",
            "proof_ref": "crm:order-42"
        }
    })
}

/// Creates subjects through the API.
async fn subjects(s: &TestServer, key: &str, ids: &[&str]) {
    for id in ids {
        let (status, _) = post(s, "/api/v1/subjects", key, json!({"external_id": id})).await;
        assert_eq!(status, StatusCode::CREATED);
    }
}

async fn events_of(s: &TestServer, external_id: &str) -> Vec<app::domain::ConsentEvent> {
    let subject = s
        .services
        .subject_by_external_id(external_id)
        .await
        .unwrap()
        .unwrap();
    s.services
        .store
        .events_for_subject(subject.id, 100)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subjects_are_created_once_read_changed_with_who_and_when_and_erased() {
    for s in servers().await {
        let name = s.services.store.backend();
        let (k, key_id) = key(&s, &["subjects:read", "subjects:write"]).await;
        let body = json!({"external_id": "CUST-1", "email": "one@example.jp", "lang": "ja"});
        let (status, created) = post(&s, "/api/v1/subjects", &k, body.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{name}: {created}");
        assert_eq!(created["external_id"], "CUST-1");
        assert_eq!(created["email"], "one@example.jp");
        let (status, again) = post(&s, "/api/v1/subjects", &k, body).await;
        assert_eq!(status, StatusCode::OK, "{name}: the same external id");
        assert_eq!(again["id"], created["id"]);

        let (status, read, _) = send(
            &s,
            reqwest::Method::GET,
            "/api/v1/subjects/CUST-1",
            &k,
            None,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{name}");
        assert_eq!(read["subject"]["id"], created["id"]);
        let newsletter_email = read["consents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["purpose"] == "newsletter" && c["channel"] == "email")
            .unwrap();
        assert_eq!(newsletter_email["state"], Value::Null);
        assert_eq!(newsletter_email["in_effect"], false, "opt-in, never chosen");

        let before = OffsetDateTime::now_utc() - Duration::seconds(1);
        let (status, changed, _) = send(
            &s,
            reqwest::Method::PATCH,
            "/api/v1/subjects/CUST-1",
            &k,
            Some(json!({"email": "new@example.jp", "lang": "en", "phone": null})),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{name}: {changed}");
        assert_eq!(changed["email"], "new@example.jp");
        assert_eq!(changed["lang"], "en");
        let id = app::domain::SubjectId(created["id"].as_str().unwrap().parse().unwrap());
        let changes = s
            .services
            .console
            .subject_records()
            .subject_changes(id)
            .await
            .unwrap();
        let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["email", "lang"], "{name}: only what changed");
        for c in &changes {
            assert_eq!(c.changed_by, format!("api_key:{key_id}"), "{name}: who");
            assert!(c.changed_at >= before, "{name}: when");
        }
        assert_eq!(changes[0].new_value, None, "an address is not copied");
        assert_eq!(changes[1].new_value.as_deref(), Some("en"));

        let (status, erased, _) = send(
            &s,
            reqwest::Method::DELETE,
            "/api/v1/subjects/CUST-1",
            &k,
            Some(json!({"reason": "asked by phone"})),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{name}: {erased}");
        assert_eq!(erased["id"], created["id"]);
        let gone = s.services.store.subject(id).await.unwrap().unwrap();
        assert!(gone.erased_at.is_some() && gone.email.is_none(), "{name}");
        let (status, _, _) = send(
            &s,
            reqwest::Method::GET,
            "/api/v1/subjects/CUST-1",
            &k,
            None,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{name}");
        let (status, refused, _) = send(
            &s,
            reqwest::Method::PATCH,
            "/api/v1/subjects/CUST-1",
            &k,
            Some(json!({"email": "back@example.jp"})),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{name}: {refused}");
        assert_eq!(
            s.services
                .console
                .subject_records()
                .subject_changes(id)
                .await
                .unwrap()
                .len(),
            2,
            "{name}: an erased subject is never changed"
        );
        // The erased address is not brought back by a new subject either.
        let (status, refused) = post(
            &s,
            "/api/v1/subjects",
            &k,
            json!({"external_id": "CUST-9", "email": "new@example.jp"}),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{name}: {refused}");
        assert_eq!(refused["code"], "erased_identifier");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_records_occurred_and_recorded_times_apart_and_the_chain_verifies() {
    for s in servers().await {
        let name = s.services.store.backend();
        let (k, key_id) = key(&s, &["subjects:write", "consents:write"]).await;
        subjects(&s, &k, &["A-1", "A-2"]).await;
        point(&s, "checkout").await;
        let three_days = Duration::days(3);
        let mut withdrawal = grant("A-2", Duration::days(1));
        withdrawal["state"] = json!("withdrawn");
        withdrawal["purpose"] = json!("newsletter");
        let batch = json!({"changes": [grant("A-1", three_days), grant("A-2", Duration::days(2)), withdrawal]});
        let (status, answer) = post(&s, "/api/v1/consents", &k, batch.clone()).await;
        assert_eq!(status, StatusCode::OK, "{name}: {answer}");
        let results = answer["results"].as_array().unwrap();
        assert_eq!(results.len(), 3);
        assert!(results.iter().all(|r| r["outcome"] == "recorded"));

        let events = events_of(&s, "A-1").await;
        assert_eq!(events.len(), 1);
        let e = &events[0];
        let p = &e.provenance;
        let now = OffsetDateTime::now_utc();
        let occurred_ago = now - p.occurred_at;
        assert!(
            occurred_ago > three_days - Duration::minutes(1)
                && occurred_ago < three_days + Duration::minutes(1),
            "{name}: occurred_at kept: {}",
            p.occurred_at
        );
        let recorded = e.recorded_at.expect("recorded by the database");
        assert!(
            (now - recorded).abs() < Duration::minutes(1),
            "{name}: recorded_at is now"
        );
        assert_eq!(p.source, app::domain::Source::Api);
        assert_eq!(p.actor, app::domain::Actor::ApiKey(key_id.clone()));
        assert_eq!(p.collection_point.as_deref(), Some("checkout"));
        assert_eq!(p.notice_version.as_deref(), Some("1.0"));
        assert_eq!(p.form_url.as_deref(), Some("https://shop.example/checkout"));
        assert_eq!(p.proof_ref.as_deref(), Some("crm:order-42"));
        assert_eq!(p.origin.ip.as_deref(), Some("203.0.113.0/24"), "truncated");
        assert_eq!(results[0]["occurred_at"], at(p.occurred_at));
        assert_eq!(results[0]["recorded_at"], at(recorded));
        // The later withdrawal of A-2 is in effect.
        let a2 = events_of(&s, "A-2").await;
        assert_eq!(a2.len(), 2, "{name}");
        assert_eq!(a2[0].to, app::domain::ConsentState::Withdrawn);

        // Sent again without a key: A-2's grant is now older than its withdrawal, so the batch
        // is refused (history is not rewritten) and nothing is written; A-1's grant alone is
        // unchanged.
        let (status, again) = post(&s, "/api/v1/consents", &k, batch.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {again}");
        assert_eq!(again["errors"][0]["index"], 1);
        assert_eq!(again["errors"][0]["code"], "older_than_latest_change");
        let (status, again) = post(&s, "/api/v1/consents", &k, batch["changes"][0].clone()).await;
        assert_eq!(status, StatusCode::OK, "{name}: {again}");
        assert_eq!(again["results"][0]["outcome"], "unchanged");
        assert_eq!(again["results"][0]["event_id"], Value::Null);
        assert_eq!(events_of(&s, "A-1").await.len(), 1);
        assert_eq!(events_of(&s, "A-2").await.len(), 2);

        // The server's own sealer may have sealed some already; seal what is left.
        while s.services.seal_pending().await.unwrap() > 0 {}
        let report = s.services.verify_chain().await.unwrap();
        assert_eq!(
            (report.length, report.broken, report.findings),
            (3, None, vec![]),
            "{name}: the chain verifies after"
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_batch_writes_nothing_twice_and_its_key_with_another_body_is_refused() {
    for s in servers().await {
        let name = s.services.store.backend();
        let (k, _) = key(&s, &["subjects:write", "consents:write"]).await;
        subjects(&s, &k, &["R-1", "R-2"]).await;
        point(&s, "checkout").await;
        let batch = json!({"changes": [grant("R-1", Duration::hours(5)), grant("R-2", Duration::hours(4))]});
        let consents = "/api/v1/consents";
        let (status, first, first_text) = send(
            &s,
            reqwest::Method::POST,
            consents,
            &k,
            Some(batch.clone()),
            Some("batch-0001"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{name}: {first}");
        let (status, _, again_text) = send(
            &s,
            reqwest::Method::POST,
            consents,
            &k,
            Some(batch.clone()),
            Some("batch-0001"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{name}");
        assert_eq!(again_text, first_text, "{name}: the same answer");
        assert_eq!(events_of(&s, "R-1").await.len(), 1, "{name}: written once");

        // The kept answer lost (as if the first request died before answering): the retry
        // still writes nothing twice, and answers the same events.
        s.db.raw("DELETE FROM api_idempotency").await.unwrap();
        let (status, lost, _) = send(
            &s,
            reqwest::Method::POST,
            consents,
            &k,
            Some(batch.clone()),
            Some("batch-0001"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{name}: {lost}");
        assert_eq!(
            lost["results"][0]["event_id"],
            first["results"][0]["event_id"]
        );
        assert_eq!(events_of(&s, "R-1").await.len(), 1, "{name}");
        assert_eq!(events_of(&s, "R-2").await.len(), 1, "{name}");

        // The same key with another body.
        let other = json!({"changes": [grant("R-1", Duration::hours(3))]});
        let (status, refused, _) = send(
            &s,
            reqwest::Method::POST,
            consents,
            &k,
            Some(other),
            Some("batch-0001"),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{name}: {refused}");
        assert_eq!(refused["code"], "idempotency_key_reused");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_changes_name_their_rule_and_nothing_of_the_batch_is_written() {
    for s in servers().await {
        let name = s.services.store.backend();
        let (k, _) = key(&s, &["subjects:write", "consents:write"]).await;
        subjects(&s, &k, &["E-1", "E-2"]).await;
        point(&s, "checkout").await;
        point(&s, "old-form").await;
        s.services
            .retire_collection_point("old-form", "admin:test")
            .await
            .unwrap();
        let (status, _) = post(&s, "/api/v1/consents", &k, grant("E-2", Duration::hours(1))).await;
        assert_eq!(status, StatusCode::OK, "a single change, as an object");

        let mut no_evidence = grant("E-1", Duration::hours(2));
        no_evidence
            .as_object_mut()
            .unwrap()
            .remove("collection_point");
        let mut no_notice = grant("E-1", Duration::hours(2));
        no_notice.as_object_mut().unwrap().remove("notice_version");
        let future = grant("E-1", -Duration::minutes(30));
        let backdated = grant("E-2", Duration::hours(2));
        let mut retired = grant("E-1", Duration::hours(2));
        retired["collection_point"] = json!("old-form");
        let mut unknown = grant("E-1", Duration::hours(2));
        unknown["collection_point"] = json!("nowhere");
        let batch = json!({"changes": [
            grant("E-1", Duration::hours(2)),
            no_evidence, no_notice, future, backdated, retired, unknown,
            grant("NOBODY", Duration::hours(2)),
        ]});
        let (status, refused) = post(&s, "/api/v1/consents", &k, batch).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}: {refused}"
        );
        assert_eq!(refused["code"], "batch_refused");
        let codes: Vec<(u64, &str)> = refused["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["index"].as_u64().unwrap(), e["code"].as_str().unwrap()))
            .collect();
        assert_eq!(
            codes,
            [
                (1, "evidence_required"),
                (2, "evidence_required"),
                (3, "occurred_in_future"),
                (4, "older_than_latest_change"),
                (5, "collection_point_retired"),
                (6, "unknown_collection_point"),
                (7, "unknown_subject_key"),
            ],
            "{name}"
        );
        let message = refused["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("Art. 7(1)") && message.contains("Art. 3"),
            "{message}"
        );
        assert!(
            events_of(&s, "E-1").await.is_empty(),
            "{name}: all or nothing"
        );
        assert_eq!(events_of(&s, "E-2").await.len(), 1, "{name}");

        // In Japanese, the rule is named in Japanese.
        let res = s
            .client
            .post(format!("{}/api/v1/consents", s.base))
            .bearer_auth(&k)
            .header("accept-language", "ja")
            .json(&json!({"changes": [{
                "subject": "E-1", "purpose": "newsletter", "channel": "email",
                "state": "granted", "occurred_at": at(OffsetDateTime::now_utc())
            }]}))
            .send()
            .await
            .unwrap();
        let body: Value = res.json().await.unwrap();
        let ja = body["errors"][0]["message"].as_str().unwrap();
        assert!(ja.contains("特定電子メール法第3条"), "{ja}");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scopes_and_batch_sizes_are_enforced() {
    for s in servers().await {
        let name = s.services.store.backend();
        let (reader, _) = key(&s, &["subjects:read"]).await;
        let (writer, _) = key(&s, &["subjects:write", "consents:write"]).await;
        subjects(&s, &writer, &["S-1"]).await;
        point(&s, "checkout").await;
        let (status, body) = post(
            &s,
            "/api/v1/consents",
            &reader,
            grant("S-1", Duration::hours(1)),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}: {body}");
        assert_eq!(body["code"], "forbidden_scope");
        let (status, _) = post(
            &s,
            "/api/v1/subjects",
            &reader,
            json!({"external_id": "S-2"}),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}");
        let (consents_only, _) = key(&s, &["consents:write"]).await;
        let (status, _, _) = send(
            &s,
            reqwest::Method::GET,
            "/api/v1/subjects/S-1",
            &consents_only,
            None,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}");

        let many: Vec<Value> = (0..1001)
            .map(|_| grant("S-1", Duration::hours(1)))
            .collect();
        let (status, body) = post(&s, "/api/v1/consents", &writer, json!({"changes": many})).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{name}: {body}");
        assert_eq!(body["code"], "batch_too_large");
        let (status, body) = post(&s, "/api/v1/consents", &writer, json!({"changes": []})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {body}");
        assert!(events_of(&s, "S-1").await.is_empty(), "{name}");
        let thousand: Vec<Value> = (0..1000)
            .map(|i| {
                let mut g = grant("S-1", Duration::hours(1));
                g["state"] = json!(if i % 2 == 0 { "granted" } else { "withdrawn" });
                g
            })
            .collect();
        let (status, body) = post(
            &s,
            "/api/v1/consents",
            &writer,
            json!({"changes": thousand}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{name}: 1,000 is allowed: {body}");
        assert_eq!(
            events_of(&s, "S-1").await.len(),
            100,
            "{name}: (the last 100 read)"
        );
        s.stop().await;
    }
}

/// Issue 31: concurrent batches for one consent, each checked against what it read before
/// writing, never leave history out of order: a batch that another overtook is refused with
/// `older_than_latest_change` (the writer checks again where it holds the consent).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_batches_never_write_history_out_of_order() {
    for s in servers().await {
        let name = s.services.store.backend();
        let (k, _) = key(&s, &["subjects:write", "consents:write"]).await;
        subjects(&s, &k, &["R-1"]).await;
        point(&s, "checkout").await;
        let s = std::sync::Arc::new(s);
        // 40 changes, alternating states, occurring a minute apart, sent all at once in an
        // order that is not theirs.
        let mut order: Vec<i64> = (0..40).collect();
        order.sort_by_key(|i| (i * 17) % 40);
        let sends = order.into_iter().map(|i| {
            let (s, k) = (s.clone(), k.clone());
            tokio::spawn(async move {
                let mut change = grant("R-1", Duration::minutes(100 - i));
                if i % 2 == 1 {
                    change["state"] = json!("withdrawn");
                }
                post(&s, "/api/v1/consents", &k, json!({"changes": [change]})).await
            })
        });
        let mut refused = 0;
        for send in sends.collect::<Vec<_>>() {
            let (status, answer) = send.await.unwrap();
            match status {
                StatusCode::OK => {}
                StatusCode::UNPROCESSABLE_ENTITY => {
                    assert_eq!(answer["errors"][0]["code"], "older_than_latest_change");
                    refused += 1;
                }
                other => panic!("{name}: {other} {answer}"),
            }
        }
        assert!(refused > 0, "{name}: the changes arrived out of order");
        let mut events = events_of(&s, "R-1").await;
        events.reverse();
        assert!(
            events
                .windows(2)
                .all(|w| w[0].provenance.occurred_at <= w[1].provenance.occurred_at),
            "{name}: history in the order it occurred: {:?}",
            events
                .iter()
                .map(|e| e.provenance.occurred_at)
                .collect::<Vec<_>>()
        );
        std::sync::Arc::into_inner(s).unwrap().stop().await;
    }
}
