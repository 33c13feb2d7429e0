//! The event feed (issue 32), on SQLite and PostgreSQL: sealed consent changes in chain order
//! from a cursor, its filters, an erased subject without contact details, the API's scope and
//! parameters, and the long poll.

mod common;

use std::time::{Duration, Instant};

use app::{
    api_key::ApiScope,
    domain::{Channel, ConsentState, FeedFilter, Source},
    services::Services,
};
use common::{TestDb, consents::change, server::TestServer};
use serde_json::Value;

/// Two subjects, four changes (newsletter by email and sms, ad targeting by email; one by one-click
/// with a campaign), sealed. Returns the subjects' ids and the events' ids in write order.
async fn four_changes(s: &Services) -> (Vec<app::domain::SubjectId>, Vec<uuid::Uuid>) {
    let a = common::consents::subject(s).await;
    let b = common::consents::subject(s).await;
    let mut ids = Vec::new();
    let mut one_click = change(
        a,
        "newsletter",
        Channel::Email,
        ConsentState::Withdrawn,
        None,
    );
    one_click.provenance.source = Source::OneClick;
    one_click.provenance.campaign = Some("spring".into());
    for c in [
        change(a, "newsletter", Channel::Email, ConsentState::Granted, None),
        change(b, "newsletter", Channel::Sms, ConsentState::Granted, None),
        change(
            b,
            "ad_targeting",
            Channel::Email,
            ConsentState::Granted,
            None,
        ),
        one_click,
    ] {
        // One change per transaction: the chain then follows this order.
        let applied = s.store.apply(vec![c]).await.unwrap();
        match &applied[0].outcome {
            app::domain::Outcome::Recorded(e) => ids.push(e.id),
            other => panic!("not recorded: {other:?}"),
        }
    }
    common::seal_all(s).await;
    (vec![a, b], ids)
}

async fn services(db: &TestDb) -> Services {
    let s = common::services(db);
    s.seed_purposes().await.unwrap();
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_gives_sealed_events_in_chain_order_from_a_cursor() {
    for db in common::backends().await {
        let s = services(&db).await;
        let everything = FeedFilter::default();
        let empty = s.feed(0, &everything, 100).await.unwrap();
        assert!(empty.items.is_empty(), "{}", db.name());
        assert_eq!(empty.next_cursor, 0);

        let (who, ids) = four_changes(&s).await;
        let page = s.feed(0, &everything, 100).await.unwrap();
        let got: Vec<_> = page.items.iter().map(|i| i.event.id).collect();
        assert_eq!(got, ids, "{}: every event, in chain order", db.name());
        let cursors: Vec<_> = page.items.iter().map(|i| i.cursor).collect();
        assert_eq!(cursors, vec![1, 2, 3, 4], "cursors are the chain positions");
        assert_eq!(page.next_cursor, 4);
        assert_eq!(page.items[0].subject.id, who[0]);
        assert!(page.items[0].email().is_some());
        let last = &page.items[3];
        assert_eq!(last.event.to, ConsentState::Withdrawn);
        assert_eq!(last.event.provenance.campaign.as_deref(), Some("spring"));
        assert_eq!(last.kind.key(), "consent.changed");

        // Pages of two, by cursor: the same events, none twice.
        let first = s.feed(0, &everything, 2).await.unwrap();
        assert_eq!(first.next_cursor, 2, "a full page ends at its last item");
        let second = s.feed(first.next_cursor, &everything, 2).await.unwrap();
        let paged: Vec<_> = first
            .items
            .iter()
            .chain(&second.items)
            .map(|i| i.event.id)
            .collect();
        assert_eq!(paged, ids);
        assert!(s.feed(4, &everything, 100).await.unwrap().items.is_empty());

        // An event not yet sealed is not in the feed yet.
        s.store
            .apply(vec![change(
                who[1],
                "ad_targeting",
                Channel::Email,
                ConsentState::Withdrawn,
                None,
            )])
            .await
            .unwrap();
        let before = s.feed(4, &everything, 100).await.unwrap();
        assert!(before.items.is_empty(), "{}: unsealed", db.name());
        assert_eq!(before.next_cursor, 4);
        common::seal_all(&s).await;
        let after = s.feed(4, &everything, 100).await.unwrap();
        assert_eq!(after.items.len(), 1);
        assert_eq!(after.items[0].cursor, 5);
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_pick_purposes_channels_and_sources_and_pass_over_the_rest() {
    for db in common::backends().await {
        let s = services(&db).await;
        let (_, ids) = four_changes(&s).await;
        let filter = |p: &[&str], c: &[&str], src: &[&str]| {
            FeedFilter::parse(p.iter().copied(), c.iter().copied(), src.iter().copied()).unwrap()
        };
        let ids_of = |page: &app::services::FeedPage| {
            page.items.iter().map(|i| i.event.id).collect::<Vec<_>>()
        };

        let newsletter = s
            .feed(0, &filter(&["newsletter"], &[], &[]), 100)
            .await
            .unwrap();
        assert_eq!(
            ids_of(&newsletter),
            vec![ids[0], ids[1], ids[3]],
            "{}",
            db.name()
        );
        let email = s.feed(0, &filter(&[], &["email"], &[]), 100).await.unwrap();
        assert_eq!(ids_of(&email), vec![ids[0], ids[2], ids[3]]);
        let both = s
            .feed(0, &filter(&["newsletter"], &["email"], &[]), 100)
            .await
            .unwrap();
        assert_eq!(ids_of(&both), vec![ids[0], ids[3]]);
        let one_click = s
            .feed(0, &filter(&[], &[], &["one_click"]), 100)
            .await
            .unwrap();
        assert_eq!(ids_of(&one_click), vec![ids[3]]);
        assert_eq!(
            one_click.next_cursor, 4,
            "the events left out are passed over"
        );
        let either = s
            .feed(
                0,
                &filter(&["ad_targeting,newsletter"], &["sms", "email"], &[]),
                100,
            )
            .await
            .unwrap();
        assert_eq!(ids_of(&either), ids);
        let none = s
            .feed(0, &filter(&[], &["postal"], &[]), 100)
            .await
            .unwrap();
        assert!(none.items.is_empty());
        assert_eq!(none.next_cursor, 4);

        let unknown = s
            .feed(0, &filter(&["astrology"], &[], &[]), 100)
            .await
            .unwrap_err();
        assert_eq!(unknown.code, "unknown_purpose");
        for (cursor, limit) in [(-1, 10), (0, 0), (0, 10_001)] {
            let bad = s
                .feed(cursor, &FeedFilter::default(), limit)
                .await
                .unwrap_err();
            assert_eq!(bad.code, "bad_request");
        }
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_subject_is_in_the_feed_without_email_or_phone() {
    for db in common::backends().await {
        let s = services(&db).await;
        let (who, _) = four_changes(&s).await;
        let provenance = change(
            who[0],
            "newsletter",
            Channel::Email,
            ConsentState::Withdrawn,
            None,
        )
        .provenance;
        s.erase_subject(
            &who[0].0.to_string(),
            "asked to be forgotten",
            app::services::Eraser::Cli,
            provenance,
        )
        .await
        .unwrap();
        common::seal_all(&s).await;
        let page = s.feed(0, &FeedFilter::default(), 100).await.unwrap();
        let of_a: Vec<_> = page
            .items
            .iter()
            .filter(|i| i.subject.id == who[0])
            .collect();
        assert!(!of_a.is_empty(), "{}", db.name());
        for item in of_a {
            assert_eq!((item.email(), item.phone()), (None, None), "{}", db.name());
        }
        let of_b = page.items.iter().find(|i| i.subject.id == who[1]).unwrap();
        assert!(of_b.email().is_some());
        db.cleanup().await;
    }
}

async fn key(s: &TestServer, scopes: &[ApiScope]) -> String {
    let scopes: Vec<String> = scopes.iter().map(|x| x.key().to_owned()).collect();
    s.services
        .create_api_key("feed reader", &scopes)
        .await
        .unwrap()
        .1
}

async fn get(s: &TestServer, key: &str, query: &str) -> reqwest::Response {
    s.client
        .get(format!("{}/api/v1/events?{query}", s.base))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_serves_the_feed_to_events_read_keys_and_refuses_bad_params() {
    for s in common::server::servers().await {
        let (who, ids) = four_changes(&s.services).await;
        let k = key(&s, &[ApiScope::EventsRead]).await;
        let res = get(&s, &k, "since=0&limit=3").await;
        assert_eq!(res.status(), 200, "{}", s.db.name());
        let page: Value = res.json().await.unwrap();
        let items = page["items"].as_array().unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(page["next_cursor"], 3);
        assert_eq!(items[0]["cursor"], 1);
        assert_eq!(items[0]["id"], ids[0].to_string());
        assert_eq!(items[0]["type"], "consent.changed");
        assert_eq!(items[0]["purpose"], "newsletter");
        assert_eq!(items[0]["channel"], "email");
        assert_eq!(items[0]["from"], Value::Null);
        assert_eq!(items[0]["to"], "granted");
        assert_eq!(items[0]["source"], "preference_center");
        assert_eq!(items[0]["notice_version"], "1.0");
        assert!(items[0]["email"].as_str().unwrap().ends_with("@example.jp"));
        assert!(items[0]["external_id"].is_string());
        assert!(items[0]["occurred_at"].is_string() && items[0]["recorded_at"].is_string());

        let rest: Value = get(&s, &k, "since=3&source=one_click&channel=email,sms")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(rest["items"][0]["id"], ids[3].to_string());
        assert_eq!(rest["items"][0]["from"], "granted");
        assert_eq!(rest["items"][0]["campaign"], "spring");
        assert_eq!(rest["next_cursor"], 4);
        let repeated: Value = get(
            &s,
            &k,
            "purpose=ad_targeting&purpose=newsletter&channel=sms",
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(repeated["items"].as_array().unwrap().len(), 1);
        assert_eq!(repeated["items"][0]["id"], ids[1].to_string());

        // Another scope is not enough; no key is 401.
        let other = key(&s, &[ApiScope::Suppressions, ApiScope::AudienceRead]).await;
        let refused = get(&s, &other, "").await;
        assert_eq!(refused.status(), 403);
        assert_eq!(
            refused.json::<Value>().await.unwrap()["code"],
            "forbidden_scope"
        );
        let anonymous = s
            .client
            .get(format!("{}/api/v1/events", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), 401);

        for bad in [
            "since=-1",
            "since=x",
            "since=1&since=2",
            "limit=0",
            "limit=10001",
            "wait=31",
            "wait=-1",
            "channel=pigeon",
            "source=telepathy",
            "purpose=Not%20A%20Key",
        ] {
            let res = get(&s, &k, bad).await;
            assert_eq!(res.status(), 400, "{bad}");
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["code"], "bad_request", "{bad}");
            assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
        let unknown = get(&s, &k, "purpose=astrology").await;
        assert_eq!(unknown.status(), 400);
        assert_eq!(
            unknown.json::<Value>().await.unwrap()["code"],
            "unknown_purpose"
        );

        // The subject's address is gone once they are erased.
        let provenance = change(
            who[0],
            "newsletter",
            Channel::Email,
            ConsentState::Withdrawn,
            None,
        )
        .provenance;
        s.services
            .erase_subject(
                &who[0].0.to_string(),
                "asked to be forgotten",
                app::services::Eraser::Cli,
                provenance,
            )
            .await
            .unwrap();
        let all: Value = get(&s, &k, "limit=1000").await.json().await.unwrap();
        for item in all["items"].as_array().unwrap() {
            if item["id"] == ids[0].to_string() {
                assert_eq!(
                    (&item["email"], &item["phone"]),
                    (&Value::Null, &Value::Null)
                );
                assert!(item["external_id"].as_str().unwrap().starts_with("erased-"));
            }
        }
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_answers_within_a_second_of_a_new_commit_and_empty_after_its_wait() {
    for s in common::server::servers().await {
        let (who, _) = four_changes(&s.services).await;
        let k = key(&s, &[ApiScope::EventsRead]).await;

        // Nothing comes: an empty answer after the wait, the cursor where it was.
        let started = Instant::now();
        let res = get(&s, &k, "since=4&wait=1").await;
        let waited = started.elapsed();
        assert_eq!(res.status(), 200);
        let page: Value = res.json().await.unwrap();
        assert!(
            page["items"].as_array().unwrap().is_empty(),
            "{}",
            s.db.name()
        );
        assert_eq!(page["next_cursor"], 4);
        assert!(
            waited >= Duration::from_millis(950) && waited < Duration::from_secs(3),
            "{}: waited {waited:?}",
            s.db.name()
        );

        // A change commits while a poll waits: the answer comes within a second of the commit.
        let poll = {
            let (client, base, k) = (s.client.clone(), s.base.clone(), k.clone());
            tokio::spawn(async move {
                let res = client
                    .get(format!("{base}/api/v1/events?since=4&wait=10"))
                    .bearer_auth(k)
                    .send()
                    .await
                    .unwrap();
                (Instant::now(), res.json::<Value>().await.unwrap())
            })
        };
        tokio::time::sleep(Duration::from_millis(400)).await;
        s.services
            .store
            .apply(vec![change(
                who[1],
                "ad_targeting",
                Channel::Email,
                ConsentState::Withdrawn,
                None,
            )])
            .await
            .unwrap();
        let committed = Instant::now();
        let (answered, page) = poll.await.unwrap();
        let lag = answered.duration_since(committed);
        assert_eq!(
            page["items"].as_array().unwrap().len(),
            1,
            "{}",
            s.db.name()
        );
        assert_eq!(page["items"][0]["cursor"], 5);
        assert_eq!(page["items"][0]["to"], "withdrawn");
        assert!(
            lag < Duration::from_secs(1),
            "{}: answered {lag:?} after the commit",
            s.db.name()
        );
        s.stop().await;
    }
}

/// 2,500 sealed changes: a subject's newsletter by email and by SMS, 1,250 subjects.
async fn many_changes(s: &Services) -> usize {
    let mut changes = Vec::new();
    for _ in 0..1_250 {
        let who = common::consents::subject(s).await;
        for channel in [Channel::Email, Channel::Sms] {
            changes.push(change(
                who,
                "newsletter",
                channel,
                ConsentState::Granted,
                None,
            ));
        }
    }
    for group in changes.chunks(500) {
        s.store.apply(group.to_vec()).await.unwrap();
    }
    common::seal_all(s).await;
    changes.len()
}

/// A page of the feed through the API: answered 200, its whole body parsed (a streamed page is
/// the same JSON as a short one).
async fn page(s: &TestServer, key: &str, query: String) -> Value {
    let res = get(s, key, &query).await;
    assert_eq!(res.status(), 200, "{query}");
    res.json::<Value>().await.unwrap()
}

/// One value of each item of a page, in order.
fn of_items<T>(page: &Value, value: impl Fn(&Value) -> T) -> Vec<T> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(value)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_page_is_written_out_in_pieces_and_equals_short_pages() {
    for s in common::server::servers().await {
        let total = many_changes(&s.services).await as i64;
        let k = key(&s, &[ApiScope::EventsRead]).await;
        let page = |query: String| page(&s, &k, query);
        let ids = |v: &Value| of_items(v, |i| i["id"].as_str().unwrap().to_owned());

        // Three pieces (1,000, 1,000, 200), the same events as three short pages.
        let long = page("since=0&limit=2200".into()).await;
        assert_eq!(
            long["items"].as_array().unwrap().len(),
            2200,
            "{}",
            s.db.name()
        );
        assert_eq!(long["next_cursor"], 2200);
        let mut short = Vec::new();
        let mut cursor = 0;
        while short.len() < 2200 {
            let p = page(format!("since={cursor}&limit=1000")).await;
            short.extend(ids(&p).into_iter().take(2200 - short.len()));
            cursor = p["next_cursor"].as_i64().unwrap();
        }
        assert_eq!(ids(&long), short);
        let cursors = of_items(&long, |i| i["cursor"].as_i64().unwrap());
        assert_eq!(cursors, (1..=2200).collect::<Vec<_>>());

        // The rest of the chain: a page that is not full moves the cursor to the head.
        let tail = page("since=2200&limit=10000".into()).await;
        assert_eq!(tail["items"].as_array().unwrap().len(), 300);
        assert_eq!(tail["next_cursor"], total);

        // Filtered and streamed: the first piece is full, the second short.
        let sms = page("since=0&limit=1500&channel=sms".into()).await;
        let items = sms["items"].as_array().unwrap();
        assert_eq!(items.len(), 1250);
        assert!(items.iter().all(|i| i["channel"] == "sms"));
        assert_eq!(sms["next_cursor"], total);

        let over = get(&s, &k, "limit=10001").await;
        assert_eq!(over.status(), 400);
    }
}

/// An unfiltered long page is read as ranges of positions, two at a time: one whose event
/// retention removed comes out one item short and ends where its range ended, and paging on
/// from there passes over nothing and repeats nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_page_passes_over_an_event_retention_removed() {
    use app::domain::{Jurisdiction, Lang};
    for s in common::server::servers().await {
        let before = many_changes(&s.services).await as i64;
        // A Japanese subject's grant superseded four years ago goes at the purge (特商法: 3
        // years); it sits just after the first 2,500 positions.
        let email = format!("{}@example.jp", common::unique("gap"));
        let jp = s
            .services
            .create_subject_in(None, Some(&email), None, Lang::Ja, Jurisdiction::Jp)
            .await
            .unwrap()
            .id;
        let ago = |days: i64| time::Duration::days(days);
        s.services
            .store
            .apply(vec![
                common::consents::change_ago(
                    jp,
                    "newsletter",
                    Channel::Email,
                    ConsentState::Granted,
                    ago(5 * 365),
                ),
                common::consents::change_ago(
                    jp,
                    "newsletter",
                    Channel::Email,
                    ConsentState::Withdrawn,
                    ago(4 * 365),
                ),
            ])
            .await
            .unwrap();
        common::seal_all(&s.services).await;
        let total = before + 2 + many_changes(&s.services).await as i64;
        assert_eq!(s.services.purge(false).await.unwrap().purged, 1);
        let gap = before + 1;

        let k = key(&s, &[ApiScope::EventsRead]).await;
        let page = |query: String| page(&s, &k, query);
        let cursors = |v: &Value| of_items(v, |i| i["cursor"].as_i64().unwrap());
        // The first piece (1,001–2,000) is read by count, then (2,000, 3,000] and (3,000,
        // 4,000] as ranges: 2,999 items, and the page ends at 4,000.
        let long = page("since=1000&limit=3000".into()).await;
        let expected: Vec<i64> = (1001..=4000).filter(|&c| c != gap).collect();
        assert_eq!(cursors(&long), expected, "{}", s.db.name());
        assert_eq!(long["next_cursor"], 4000, "{}", s.db.name());

        // Paging through the whole chain in long pages gives every position once, but the gap.
        let mut seen = Vec::new();
        let mut cursor = 0;
        loop {
            let p = page(format!("since={cursor}&limit=2500")).await;
            seen.extend(cursors(&p));
            let next = p["next_cursor"].as_i64().unwrap();
            if next == cursor {
                break;
            }
            cursor = next;
        }
        let all: Vec<i64> = (1..=total).filter(|&c| c != gap).collect();
        assert_eq!(seen, all, "{}", s.db.name());
    }
}
