//! Commit-ordered cursors (issues 32 and 33). Three instances share one PostgreSQL and answer
//! one-click unsubscribes side by side while consumers pull the suppression list by cursor
//! (`purpose=newsletter` and `purpose=*`): each must see every withdrawal exactly once, with no
//! gap, although sequence numbers taken first committed last (the test checks that they did: a
//! consumer paging by seq would have skipped those for good). On SQLite, whose writers take
//! turns, one instance runs the same scenario: the cursors still page correctly.

mod common;

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use app::{
    domain::{Channel, ConsentState, Lang, SubjectId},
    services::Services,
    token::Scope,
};
use common::TestDb;
use serde_json::Value;

/// Subjects per round, rounds, and concurrent one-click senders.
const SUBJECTS: usize = 240;
const ROUNDS: usize = 4;
const SENDERS: usize = 24;

/// Starts an instance over `db_url` with the keys in `data_dir` (shared: links made by one
/// instance open on every other); returns its base URL and services.
async fn instance(db_url: &str, data_dir: &std::path::Path) -> (String, Services) {
    let config = common::server::config(db_url, data_dir.to_path_buf());
    let services = ::server::services(&config).await.unwrap();
    let running = ::server::start(&config, services).await.unwrap();
    (format!("http://{}", running.addr), running.services)
}

/// Pulls `/api/v1/suppressions?purpose=…&channel=email` by cursor from `cursor` until `done` is
/// set and it has seen `expected` more withdrawals (or 20 s pass): each external id it saw, with
/// how many times.
async fn consume(
    client: reqwest::Client,
    bases: Vec<String>,
    key: String,
    purpose: &'static str,
    mut cursor: i64,
    expected: usize,
    done: Arc<AtomicBool>,
) -> (BTreeMap<String, usize>, i64) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut total = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut turn = 0;
    let mut finished_at: Option<Instant> = None;
    loop {
        // Any instance answers: they share the database.
        let base = &bases[turn % bases.len()];
        turn += 1;
        let page: Value = client
            .get(format!(
                "{base}/api/v1/suppressions?purpose={purpose}&channel=email&since={cursor}&limit=50"
            ))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let items = page["items"].as_array().unwrap();
        for item in items {
            let id = item["external_id"].as_str().unwrap().to_owned();
            let at = item["cursor"].as_i64().unwrap();
            assert!(at > cursor, "{purpose}: cursor {at} after {cursor}");
            *seen.entry(id).or_default() += 1;
            total += 1;
        }
        let next = page["next_cursor"].as_i64().unwrap();
        assert!(next >= cursor, "{purpose}: the cursor never goes back");
        cursor = next;
        if done.load(Ordering::SeqCst) {
            let since = *finished_at.get_or_insert_with(Instant::now);
            if total >= expected && items.is_empty() {
                break;
            }
            if since.elapsed() > Duration::from_secs(20) || Instant::now() > deadline {
                break;
            }
        }
        if items.is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    (seen, cursor)
}

/// Sealed events with a higher seq than an event sealed after them: each is a commit that came
/// after a higher seq was already visible (the sealer reads every committed event in seq order),
/// so a consumer paging by seq would have passed it for good.
async fn out_of_order(db: &TestDb) -> i64 {
    let sql = "SELECT COUNT(*) FROM event_seals a JOIN event_seals b \
               ON b.position > a.position AND b.event_seq < a.event_seq";
    match (&db.sqlite, &db.pg) {
        (Some(s), _) => sqlx::query_scalar(sql).fetch_one(s.pool()).await.unwrap(),
        (_, Some(p)) => sqlx::query_scalar(sql).fetch_one(p.pool()).await.unwrap(),
        _ => unreachable!(),
    }
}

/// One round: `SUBJECTS` new subjects grant the newsletter by email, then withdraw it by
/// one-click across the instances while both consumers pull; each must see every one once.
async fn round(
    round: usize,
    bases: &[String],
    services: &Services,
    key: &str,
    cursors: &mut [i64; 2],
) {
    let mut subjects: Vec<(SubjectId, String)> = Vec::with_capacity(SUBJECTS);
    for i in 0..SUBJECTS {
        let external = format!("r{round}-{i}");
        let email = format!("{external}@example.jp");
        let s = services
            .create_subject(Some(&external), Some(&email), None, Lang::Ja)
            .await
            .unwrap();
        subjects.push((s.id, external));
    }
    let grants = subjects
        .iter()
        .map(|(id, _)| {
            common::consents::change(
                *id,
                "newsletter",
                Channel::Email,
                ConsentState::Granted,
                None,
            )
        })
        .collect();
    services.store.apply(grants).await.unwrap();
    let scope = Scope::PurposeChannel("newsletter".parse().unwrap(), Channel::Email);
    let tokens: Vec<String> = subjects
        .iter()
        .map(|(id, _)| services.unsubscribe_token(*id, scope.clone(), None))
        .collect();

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let consumers: Vec<_> = ["newsletter", "*"]
        .into_iter()
        .zip(cursors.iter())
        .map(|(purpose, cursor)| {
            tokio::spawn(consume(
                client.clone(),
                bases.to_vec(),
                key.to_owned(),
                purpose,
                *cursor,
                SUBJECTS,
                done.clone(),
            ))
        })
        .collect();
    let tokens = Arc::new(tokens);
    let senders: Vec<_> = (0..SENDERS)
        .map(|w| {
            let (client, bases, tokens) = (client.clone(), bases.to_vec(), tokens.clone());
            tokio::spawn(async move {
                for (i, token) in tokens.iter().enumerate().skip(w).step_by(SENDERS) {
                    let base = &bases[(i + w) % bases.len()];
                    let res = client
                        .post(format!("{base}/u/{token}"))
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body("List-Unsubscribe=One-Click")
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(res.status(), 200);
                }
            })
        })
        .collect();
    for s in senders {
        s.await.unwrap();
    }
    done.store(true, Ordering::SeqCst);
    for (n, consumer) in consumers.into_iter().enumerate() {
        let (seen, cursor) = consumer.await.unwrap();
        cursors[n] = cursor;
        let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "round {round}: seen twice: {twice:?}");
        let missing: Vec<_> = subjects
            .iter()
            .filter(|(_, e)| !seen.contains_key(e))
            .map(|(_, e)| e)
            .collect();
        assert!(
            missing.is_empty(),
            "round {round}, consumer {n}: {} withdrawals never seen: {missing:?}",
            missing.len()
        );
        assert_eq!(seen.len(), SUBJECTS, "round {round}: nothing else");
    }
}

async fn scenario(db: &TestDb, instances: usize) {
    let data_dir = std::env::temp_dir().join(common::unique("doui_cursors"));
    let mut bases = Vec::new();
    let mut services = Vec::new();
    for _ in 0..instances {
        let (base, s) = instance(&db.url, &data_dir).await;
        bases.push(base);
        services.push(s);
    }
    let key = services[0]
        .create_api_key("consumer", &["suppressions".to_owned()])
        .await
        .unwrap()
        .1;
    let mut cursors = [0, 0];
    for r in 0..ROUNDS {
        round(r, &bases, &services[r % instances], &key, &mut cursors).await;
    }
    std::fs::remove_dir_all(&data_dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_under_one_click_load_hand_out_every_withdrawal_once_by_cursor() {
    let Some(db) = common::postgres().await else {
        return;
    };
    let started = Instant::now();
    scenario(&db, 3).await;
    let inversions = out_of_order(&db).await;
    println!(
        "PostgreSQL, 3 instances, {ROUNDS} rounds of {SUBJECTS}: {inversions} sealed pairs out of seq order, {:?}",
        started.elapsed()
    );
    assert!(
        inversions > 0,
        "commits out of seq order must have happened for this test to prove anything"
    );
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_one_instance_under_one_click_load_hands_out_every_withdrawal_once() {
    let db = common::sqlite().await;
    scenario(&db, 1).await;
    // Its writers take turns: the chain follows the seq, and (numbers never lost) a position
    // is its event's seq, so a cursor kept from before positions names the same place.
    assert_eq!(out_of_order(&db).await, 0);
    let store = db.sqlite.as_ref().unwrap();
    let (lo, hi): (i64, i64) = sqlx::query_as(
        "SELECT MIN(event_seq - position), MAX(event_seq - position) FROM event_seals",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!((lo, hi), (0, 0));
    db.cleanup().await;
}
