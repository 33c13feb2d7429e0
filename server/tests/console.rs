//! The console on SQLite and PostgreSQL (R32, R36): subject search (exact and prefix, paged), a
//! subject's timeline and the global stream with filters and pages, streamed exports, the
//! charts' counts, and purposes managed by owners with audited versions.

mod common;

use app::{
    auth::Role,
    domain::{
        Actor, Change, Channel, ConsentState, Lang, Origin, Provenance, PurposeKey, Source,
        SubjectId,
    },
    services::now,
};
use common::server::{TestServer, servers};
use serde_json::Value;

fn change(
    who: SubjectId,
    purpose: &str,
    channel: Channel,
    to: ConsentState,
    source: Source,
    days_ago: i64,
    reason: Option<&str>,
) -> Change {
    Change {
        subject: who,
        purpose: PurposeKey::parse(purpose).unwrap(),
        channel,
        to,
        provenance: Provenance {
            occurred_at: now() - time::Duration::days(days_ago),
            source,
            actor: Actor::System,
            notice_version: Some("1.0".into()),
            origin: Origin::default(),
            idempotency_key: None,
            reason: reason.map(str::to_owned),
            campaign: None,
            collection_point: None,
            import_batch: None,
            form_url: None,
            proof_ref: None,
        },
        reconfirm: false,
    }
}

async fn json(res: reqwest::Response) -> Value {
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subjects_are_found_exactly_or_by_prefix_page_by_page() {
    for s in servers().await {
        for i in 0..60 {
            let email = format!("p{i:02}@search.example.jp");
            let external = format!("cust-{i:03}");
            let phone = format!("+8190{i:08}");
            s.services
                .create_subject(Some(&external), Some(&email), Some(&phone), Lang::Ja)
                .await
                .unwrap();
        }
        let b = s.signed_in(Role::Viewer).await;
        let search = |q: &'static str, page: &'static str| {
            let b = &b;
            async move {
                json(
                    b.call("admin/search", &[("query", q), ("page", page)])
                        .await,
                )
                .await
            }
        };
        let emails = |v: &Value| -> Vec<String> {
            v["subjects"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["email"].as_str().unwrap_or_default().to_owned())
                .collect()
        };
        // Prefix on email, in order.
        let found = search("p1", "0").await;
        assert_eq!(emails(&found).len(), 10, "{}", s.db.name());
        assert_eq!(emails(&found)[0], "p10@search.example.jp");
        assert_eq!(found["has_more"], false);
        // Prefix on external id, paged by 50.
        let first = search("cust-", "0").await;
        assert_eq!(emails(&first).len(), 50);
        assert_eq!(first["has_more"], true);
        let second = search("cust-", "1").await;
        assert_eq!(emails(&second).len(), 10);
        assert_eq!(second["has_more"], false);
        assert_eq!(emails(&second)[0], "p50@search.example.jp");
        // Phone prefix, with the separators people type.
        let phone = search("+81 90 0000 001", "0").await;
        assert_eq!(emails(&phone).len(), 10);
        // Exact external id; nothing for an unknown prefix.
        assert_eq!(
            emails(&search("cust-007", "0").await),
            ["p07@search.example.jp"]
        );
        assert!(emails(&search("zzz", "0").await).is_empty());
        // The page shows the results and a link to the next page.
        let page = b.get("/admin?q=cust-&lang=en").await.text().await.unwrap();
        assert!(page.contains("p00@search.example.jp") && page.contains("page=1"));
        s.stop().await;
    }
}

/// A subject with events of several purposes, channels, sources and days.
async fn history(s: &TestServer) -> SubjectId {
    let who = s.subject("timeline@example.jp", Lang::En).await.0;
    let mut changes = Vec::new();
    for i in 0..150i64 {
        let to = if i % 2 == 0 {
            ConsentState::Granted
        } else {
            ConsentState::Withdrawn
        };
        let (purpose, channel, source) = match i % 3 {
            0 => ("newsletter", Channel::Email, Source::PreferenceCenter),
            1 => ("newsletter", Channel::Sms, Source::OneClick),
            _ => ("ad_targeting", Channel::Web, Source::Api),
        };
        // Each change alternates the state, so each one is recorded.
        changes.push(change(who, purpose, channel, to, source, 150 - i, None));
    }
    for c in changes {
        s.services.store.apply(vec![c]).await.unwrap();
    }
    who
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timelines_and_the_event_stream_filter_and_page() {
    for s in servers().await {
        let who = history(&s).await;
        let total = s.event_count(who).await;
        let b = s.signed_in(Role::Viewer).await;
        let id = who.to_string();
        let all = json(b.call("admin/subject", &[("id", &id)]).await).await;
        let rows = all["events"]["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 100, "a page of 100, {}", s.db.name());
        let before = all["events"]["next_before"].as_i64().unwrap();
        let rest = json(
            b.call(
                "admin/subject",
                &[("id", &id), ("before", &before.to_string())],
            )
            .await,
        )
        .await;
        assert_eq!(
            100 + rest["events"]["rows"].as_array().unwrap().len(),
            total
        );
        assert!(rest["events"]["next_before"].is_null());
        // Filters: purpose, channel, source, dates.
        let sms = json(
            b.call(
                "admin/subject",
                &[("id", &id), ("channel", "sms"), ("source", "one_click")],
            )
            .await,
        )
        .await;
        let sms_rows = sms["events"]["rows"].as_array().unwrap();
        assert!(!sms_rows.is_empty());
        assert!(
            sms_rows
                .iter()
                .all(|r| r["channel"] == "sms" && r["source"] == "one_click")
        );
        let day = (now() - time::Duration::days(10)).date().to_string();
        let one_day = json(
            b.call(
                "admin/subject",
                &[("id", &id), ("from", &day), ("until", &day)],
            )
            .await,
        )
        .await;
        assert_eq!(one_day["events"]["rows"].as_array().unwrap().len(), 1);
        let bad = b
            .call("admin/subject", &[("id", &id), ("from", "soon")])
            .await;
        assert_eq!(bad.status(), 400);
        // The global stream: the same filters, every subject.
        let other = s.subject("other@example.jp", Lang::En).await.0;
        s.services
            .store
            .apply(vec![change(
                other,
                "newsletter",
                Channel::Email,
                ConsentState::Granted,
                Source::PreferenceCenter,
                0,
                None,
            )])
            .await
            .unwrap();
        let stream = json(
            b.call(
                "admin/events",
                &[("purpose", "newsletter"), ("channel", "email")],
            )
            .await,
        )
        .await;
        let subjects: std::collections::HashSet<&str> = stream["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["subject"].as_str().unwrap())
            .collect();
        assert!(subjects.contains(other.to_string().as_str()) && subjects.contains(id.as_str()));
        // Pages render the filters, the table and the charts.
        let page = b
            .get(&format!("/admin/subjects/{id}?channel=sms&lang=en"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("name=\"channel\"") && page.contains("data-seq="));
        let events = b.get("/admin/events?lang=ja").await.text().await.unwrap();
        assert!(events.contains("<svg") && events.contains("/admin/events.csv?"));
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn charts_count_opt_ins_and_opt_outs_per_day() {
    for s in servers().await {
        history(&s).await;
        let b = s.signed_in(Role::Viewer).await;
        let chart = json(b.call("admin/chart", &[]).await).await;
        assert_eq!(
            chart["days"].as_array().unwrap().len(),
            31,
            "30 days and today"
        );
        // The last 30 days hold 30 of the changes (one a day).
        let sum = |series: &Value| -> i64 {
            series
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|s| s["values"].as_array().unwrap().iter())
                .map(|v| v.as_i64().unwrap())
                .sum()
        };
        assert_eq!(sum(&chart["series"]), 30, "{}", s.db.name());
        assert_eq!(sum(&chart["sources"]), 30);
        let one_click = chart["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["label"] == "one_click")
            .unwrap();
        assert_eq!(sum(&Value::Array(vec![one_click.clone()])), 10);
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_stream_every_filtered_event() {
    for s in servers().await {
        let who = history(&s).await;
        s.services
            .store
            .apply(vec![change(
                who,
                "newsletter",
                Channel::Postal,
                ConsentState::Granted,
                Source::Admin,
                0,
                Some("=HYPERLINK(\"http://evil\")"),
            )])
            .await
            .unwrap();
        let b = s.signed_in(Role::Viewer).await;
        let res = b
            .get(&format!(
                "/admin/events.csv?subject={who}&purpose=newsletter"
            ))
            .await;
        assert_eq!(res.status(), 200);
        let count: usize = res.headers()["x-doui-event-count"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let csv = res.text().await.unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), count + 1, "header and every event");
        assert_eq!(count, 101, "{}", s.db.name());
        assert!(lines[0].starts_with("seq,event_id,occurred_at"));
        let seqs: Vec<i64> = lines[1..]
            .iter()
            .map(|l| l.split(',').next().unwrap().parse().unwrap())
            .collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "oldest first");
        assert!(
            csv.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""),
            "no formula: {}",
            lines.last().unwrap()
        );
        let res = b.get("/admin/events.jsonl?source=api").await;
        let jsonl = res.text().await.unwrap();
        let parsed: Vec<Value> = jsonl
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(parsed.len(), 50);
        assert!(parsed.iter().all(|e| e["source"] == "api"));
        // A day's events (its bounds are times in the query), as on the subject's page.
        let day = (now() - time::Duration::days(10)).date().to_string();
        let one_day = b
            .get(&format!(
                "/admin/events.jsonl?subject={who}&from={day}&until={day}"
            ))
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(one_day.lines().count(), 1, "{}", s.db.name());
        // No events: the CSV still has its header; a bad filter is a clear 400.
        let empty = b
            .get("/admin/events.csv?source=gpc")
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(empty.lines().count(), 1);
        let bad = b.get("/admin/events.csv?from=31-12-2026&lang=ja").await;
        assert_eq!(bad.status(), 400);
        assert!(bad.text().await.unwrap().contains("YYYY-MM-DD"));
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owners_add_and_change_purposes_and_every_save_is_a_version() {
    for s in servers().await {
        let (who, token) = s.subject("purposes@example.jp", Lang::En).await;
        let owner = s.signed_in(Role::Owner).await;
        let form = |mode: &'static str| {
            vec![
                ("key", "surveys"),
                ("name_ja", "アンケート"),
                ("name_en", "Surveys"),
                ("description_ja", "ご意見をうかがいます。"),
                ("description_en", "We ask for your opinion."),
                ("mode", mode),
                ("channel_email", "on"),
                ("channel_sms", "on"),
                ("kind", "other"),
            ]
        };
        // Saves the form and returns the purpose as the answer lists it.
        let save = |mode: &'static str| {
            let (owner, form) = (&owner, form(mode));
            async move {
                let rows = json(owner.call("admin/save_purpose", &form).await).await;
                rows.as_array()
                    .unwrap()
                    .iter()
                    .find(|r| r["form"]["key"] == "surveys")
                    .cloned()
                    .unwrap()
            }
        };
        let surveys = save("opt_in").await;
        assert_eq!(
            surveys["form"]["channels"],
            serde_json::json!(["email", "sms"])
        );
        assert_eq!(surveys["versions"].as_array().unwrap().len(), 1);
        // The person sees it at once, off until they say yes (opt-in).
        let page = s
            .get(&format!("/p/{token}"), "en")
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("Surveys"), "{}", s.db.name());
        let granted = s
            .call(
                "set_consent",
                &[
                    ("token", token.as_str()),
                    ("purpose", "surveys"),
                    ("channel", "email"),
                    ("state", "granted"),
                ],
            )
            .await;
        assert_eq!(granted.status(), 200);
        let events_before = s.event_count(who).await;
        // A mode change is a new version, attributed, and rewrites no event.
        let surveys = save("opt_out").await;
        let versions = surveys["versions"].as_array().unwrap();
        assert_eq!(versions.len(), 2);
        assert_eq!(versions[0]["mode"], "opt_out");
        assert!(
            versions[0]["changed_by"]
                .as_str()
                .unwrap()
                .starts_with("admin:")
        );
        assert_eq!(s.event_count(who).await, events_before);
        // Only owners; bad input is named.
        let operator = s.signed_in(Role::Operator).await;
        assert_eq!(
            operator
                .call("admin/save_purpose", &form("opt_in"))
                .await
                .status(),
            403
        );
        let mut no_channel = form("opt_in");
        no_channel.retain(|(k, _)| !k.starts_with("channel_"));
        let res = owner.call("admin/save_purpose", &no_channel).await;
        assert_eq!(res.status(), 400);
        assert!(res.text().await.unwrap().contains("purpose_channels"));
        let page = owner
            .get("/admin/purposes?lang=en")
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("data-purpose=\"surveys\"") && page.contains("Add a purpose"));
        s.stop().await;
    }
}
