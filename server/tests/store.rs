//! Store tests: every body runs on SQLite and on PostgreSQL.

mod common;

use std::sync::Arc;

use app::{
    domain::{
        Actor, Change, Channel, ConsentState, Lang, Origin, Outcome, Provenance, PurposeKey,
        Source, SubjectId, fold,
    },
    services::Services,
    store::StoreError,
};
use common::TestDb;
use proptest::prelude::*;
use time::OffsetDateTime;

fn services(db: &TestDb) -> Services {
    common::services(db)
}

async fn subject(s: &Services) -> SubjectId {
    s.seed_purposes().await.unwrap();
    let email = format!("{}@example.jp", common::unique("p"));
    s.create_subject(None, Some(&email), None, Lang::Ja)
        .await
        .unwrap()
        .id
}

fn change(
    subject: SubjectId,
    purpose: &str,
    channel: Channel,
    to: ConsentState,
    key: Option<&str>,
) -> Change {
    Change {
        subject,
        purpose: PurposeKey::parse(purpose).unwrap(),
        channel,
        to,
        provenance: Provenance {
            occurred_at: OffsetDateTime::now_utc(),
            source: Source::PreferenceCenter,
            actor: Actor::Subject,
            notice_version: Some("1.0".into()),
            origin: Origin {
                ip: Some("203.0.113.0/24".into()),
                user_agent: Some("test".into()),
            },
            idempotency_key: key.map(str::to_owned),
            reason: None,
            campaign: None,
        },
        reconfirm: false,
    }
}

#[tokio::test]
async fn a_change_writes_its_event_and_the_projection_together() {
    for db in common::backends().await {
        let s = services(&db);
        let who = subject(&s).await;
        let applied = db
            .store
            .apply(vec![change(
                who,
                "newsletter",
                Channel::Email,
                ConsentState::Granted,
                None,
            )])
            .await
            .unwrap();
        let Outcome::Recorded(event) = &applied[0].outcome else {
            panic!("{}: expected an event", db.name())
        };
        assert_eq!(event.from, None);
        assert_eq!(
            event.provenance.origin.ip.as_deref(),
            Some("203.0.113.0/24")
        );
        let consents = db.store.consents(who).await.unwrap();
        assert_eq!(consents.len(), 1, "{}", db.name());
        assert_eq!(consents[0].state, ConsentState::Granted);
        let events = db.store.events_for_subject(who, 10).await.unwrap();
        assert_eq!(
            events,
            vec![event.clone()],
            "{}: the stored event reads back whole",
            db.name()
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn setting_the_value_a_consent_has_writes_nothing() {
    for db in common::backends().await {
        let s = services(&db);
        let who = subject(&s).await;
        let c = || {
            change(
                who,
                "newsletter",
                Channel::Sms,
                ConsentState::Withdrawn,
                None,
            )
        };
        db.store.apply(vec![c()]).await.unwrap();
        let again = db.store.apply(vec![c()]).await.unwrap();
        assert_eq!(
            again[0].outcome,
            Outcome::Unchanged(ConsentState::Withdrawn),
            "{}",
            db.name()
        );
        assert_eq!(
            db.store.events_for_subject(who, 10).await.unwrap().len(),
            1,
            "{}",
            db.name()
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_repeated_idempotency_key_returns_the_first_result_and_writes_nothing() {
    for db in common::backends().await {
        let s = services(&db);
        let who = subject(&s).await;
        let first = db
            .store
            .apply(vec![change(
                who,
                "ad_targeting",
                Channel::Web,
                ConsentState::Granted,
                Some("key-1"),
            )])
            .await
            .unwrap();
        // Meanwhile the subject changed their mind.
        db.store
            .apply(vec![change(
                who,
                "ad_targeting",
                Channel::Web,
                ConsentState::Withdrawn,
                None,
            )])
            .await
            .unwrap();
        let replay = db
            .store
            .apply(vec![change(
                who,
                "ad_targeting",
                Channel::Web,
                ConsentState::Granted,
                Some("key-1"),
            )])
            .await
            .unwrap();
        assert!(replay[0].replayed, "{}", db.name());
        assert_eq!(
            replay[0].outcome,
            first[0].outcome,
            "{}: the first result comes back",
            db.name()
        );
        assert_eq!(
            db.store.events_for_subject(who, 10).await.unwrap().len(),
            2,
            "{}",
            db.name()
        );
        let state = db.store.consents(who).await.unwrap()[0].state;
        assert_eq!(
            state,
            ConsentState::Withdrawn,
            "{}: a replay never undoes a newer choice",
            db.name()
        );

        let reused = db
            .store
            .apply(vec![change(
                who,
                "newsletter",
                Channel::Email,
                ConsentState::Granted,
                Some("key-1"),
            )])
            .await;
        assert!(
            matches!(reused, Err(StoreError::IdempotencyKeyReused)),
            "{}",
            db.name()
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_failing_change_rolls_back_the_whole_batch() {
    for db in common::backends().await {
        let s = services(&db);
        let who = subject(&s).await;
        let batch = vec![
            change(
                who,
                "newsletter",
                Channel::Email,
                ConsentState::Granted,
                None,
            ),
            change(
                who,
                "no_such_purpose",
                Channel::Email,
                ConsentState::Granted,
                None,
            ),
        ];
        assert!(db.store.apply(batch).await.is_err(), "{}", db.name());
        assert!(
            db.store.consents(who).await.unwrap().is_empty(),
            "{}",
            db.name()
        );
        assert!(
            db.store
                .events_for_subject(who, 10)
                .await
                .unwrap()
                .is_empty(),
            "{}",
            db.name()
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_database_refuses_update_and_delete_on_events() {
    for db in common::backends().await {
        let s = services(&db);
        let who = subject(&s).await;
        db.store
            .apply(vec![change(
                who,
                "newsletter",
                Channel::Email,
                ConsentState::Granted,
                None,
            )])
            .await
            .unwrap();
        let update = db
            .raw("UPDATE consent_events SET to_state = 'withdrawn'")
            .await;
        let delete = db.raw("DELETE FROM consent_events").await;
        for (what, result) in [("UPDATE", update), ("DELETE", delete)] {
            let err = result
                .expect_err(&format!("{}: {what} must fail", db.name()))
                .to_string();
            assert!(err.contains("append-only"), "{}: {what}: {err}", db.name());
        }
        if db.name() == "postgres" {
            let err = db
                .raw("TRUNCATE consent_events CASCADE")
                .await
                .expect_err("TRUNCATE must fail");
            assert!(err.to_string().contains("append-only"), "{err}");
        }
        assert_eq!(
            db.store.all_events().await.unwrap().len(),
            1,
            "{}",
            db.name()
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn subjects_are_unique_by_external_id_and_email() {
    for db in common::backends().await {
        let s = services(&db);
        s.create_subject(Some("c-1"), Some("a@example.com"), None, Lang::En)
            .await
            .unwrap();
        let dup_email = s
            .create_subject(Some("c-2"), Some("a@example.com"), None, Lang::En)
            .await
            .unwrap_err();
        assert_eq!(dup_email.code, "email_taken", "{}", db.name());
        let dup_id = s
            .create_subject(Some("c-1"), Some("b@example.com"), None, Lang::En)
            .await
            .unwrap_err();
        assert_eq!(dup_id.code, "external_id_taken", "{}", db.name());
        let found = db.store.find_subject("A@EXAMPLE.COM").await.unwrap();
        assert!(
            found.is_none(),
            "{}: the local part is case-sensitive",
            db.name()
        );
        assert!(
            db.store
                .find_subject("a@Example.com")
                .await
                .unwrap()
                .is_some(),
            "{}",
            db.name()
        );
        assert!(
            db.store.find_subject("c-1").await.unwrap().is_some(),
            "{}",
            db.name()
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn many_subjects_are_found_at_once_by_external_id_or_email_with_every_field() {
    use app::domain::Jurisdiction;
    for db in common::backends().await {
        let s = services(&db);
        let jp = s
            .create_subject_in(
                Some("m-1"),
                Some("m1@Example.JP"),
                Some("+81 90-1234-5678"),
                Lang::Ja,
                Jurisdiction::Jp,
            )
            .await
            .unwrap();
        let en = s
            .create_subject(Some("m-2"), None, None, Lang::En)
            .await
            .unwrap();
        let gone = s
            .create_subject(Some("m-3"), Some("m3@example.jp"), None, Lang::En)
            .await
            .unwrap();
        let erased_at = OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap();
        db.console()
            .erase_subject(&app::store::Erasure {
                subject: gone.id,
                erased_at,
                erased_by: "cli".into(),
                reason: "test".into(),
                placeholder: "erased-m-3".into(),
                digests: Vec::new(),
                email: Some("m3@example.jp".into()),
            })
            .await
            .unwrap();
        // By email (domain in any case), by external id, unknown keys, one subject twice.
        let keys: Vec<String> = [
            "m1@example.jp",
            "m-2",
            "nobody@example.jp",
            "m-1",
            "erased-m-3",
        ]
        .map(String::from)
        .to_vec();
        let mut found = db.store.find_subjects(&keys).await.unwrap();
        found.sort_by(|a, b| a.external_id.as_str().cmp(b.external_id.as_str()));
        assert_eq!(found.len(), 3, "{}", db.name());
        assert_eq!(found[0].external_id.as_str(), "erased-m-3", "{}", db.name());
        assert_eq!(found[0].id, gone.id);
        assert_eq!(found[0].email, None, "{}", db.name());
        assert_eq!(found[0].erased_at, Some(erased_at), "{}", db.name());
        assert_eq!(found[1], jp, "{}", db.name());
        assert_eq!(found[1].jurisdiction, Jurisdiction::Jp);
        assert!(found[1].phone.is_some());
        assert_eq!(found[2], en, "{}", db.name());
        // A thousand and more keys take several queries.
        let many: Vec<String> = (0..2_500)
            .map(|i| format!("x-{i}"))
            .chain(["m-2".to_string()])
            .collect();
        let found = db.store.find_subjects(&many).await.unwrap();
        assert_eq!(found.len(), 1, "{}", db.name());
        assert!(db.store.find_subjects(&[]).await.unwrap().is_empty());
        db.cleanup().await;
    }
}

#[tokio::test]
async fn concurrent_changes_to_one_subject_stay_consistent() {
    for db in common::backends().await {
        let s = services(&db);
        let who = subject(&s).await;
        let mut tasks = Vec::new();
        for i in 0..40 {
            let store = db.store.clone();
            let to = ConsentState::from_bool(i % 2 == 0);
            let channel = Channel::ALL[i % 5];
            tasks.push(tokio::spawn(async move {
                store
                    .apply(vec![change(
                        who,
                        "newsletter",
                        channel,
                        to,
                        Some(&format!("k{i}")),
                    )])
                    .await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_projection_is_fold(&db).await;
        db.cleanup().await;
    }
}

async fn assert_projection_is_fold(db: &TestDb) {
    let events = db.store.all_events().await.unwrap();
    let mut projection: Vec<_> = db.store.all_consents().await.unwrap();
    projection.sort();
    let folded: Vec<_> = fold(&events)
        .into_iter()
        .map(|((s, p, c), v)| (s, p, c, v))
        .collect();
    assert_eq!(
        projection,
        folded,
        "{}: projection == fold(events)",
        db.name()
    );
    let mut previous = std::collections::HashMap::new();
    for e in &events {
        assert_ne!(
            e.from,
            Some(e.to),
            "{}: no event without a change",
            db.name()
        );
        let key = (e.subject, e.purpose.clone(), e.channel);
        let before = previous.get(&key).copied();
        assert_eq!(
            before,
            e.from,
            "{}: each event starts where the last one ended",
            db.name()
        );
        previous.insert(key, e.to);
    }
}

fn operation() -> impl Strategy<Value = (usize, usize, usize, bool, Option<u8>)> {
    (
        0usize..2,
        0usize..3,
        0usize..5,
        any::<bool>(),
        proptest::option::of(0u8..6),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    /// Random groups of requests (the group-commit path, repeated consents within a group
    /// included) on both backends: projection == fold(events), and every event starts where the
    /// previous one of its consent ended.
    #[test]
    fn group_commit_keeps_projection_equal_to_fold(groups in proptest::collection::vec(
        proptest::collection::vec(proptest::collection::vec((0usize..2, 0usize..2, 0usize..3, any::<bool>()), 1..4), 1..12), 1..5)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            for db in common::backends().await {
                let s = services(&db);
                let subjects = [subject(&s).await, subject(&s).await];
                for group in &groups {
                    let requests = group.iter().map(|request| {
                        request.iter().map(|(who, p, c, on)| {
                            let channel = [Channel::Email, Channel::Sms, Channel::Phone][*c];
                            change(subjects[*who], ["newsletter", "third_party_sharing"][*p], channel, ConsentState::from_bool(*on), None)
                        }).collect()
                    }).collect();
                    for result in db.store.apply_group(requests).await {
                        result.unwrap();
                    }
                }
                assert_projection_is_fold(&db).await;
                db.cleanup().await;
            }
        });
    }

    /// Random sequences of changes (with repeated values and repeated idempotency keys) on both
    /// backends leave the projection equal to the fold of the events.
    #[test]
    fn projection_equals_fold_of_events(ops in proptest::collection::vec(operation(), 1..40)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            for db in common::backends().await {
                let s = services(&db);
                let subjects = [subject(&s).await, subject(&s).await];
                let purposes = ["newsletter", "ad_targeting", "third_party_sharing"];
                for (who, p, c, on, key) in &ops {
                    let key = key.map(|k| format!("key-{k}-{p}-{c}-{on}"));
                    let purpose = purposes[*p];
                    let channel = [Channel::Email, Channel::Sms, Channel::Web, Channel::Phone, Channel::Postal][*c];
                    let result = db.store.apply(vec![change(subjects[*who], purpose, channel, ConsentState::from_bool(*on), key.as_deref())]).await;
                    // A purpose is stored for any channel; the channel rule lives in the services.
                    result.unwrap();
                }
                assert_projection_is_fold(&db).await;
                db.cleanup().await;
            }
        });
    }
}

#[tokio::test]
async fn sqlite_runs_durable_wal_with_foreign_keys() {
    let db = common::sqlite().await;
    let pool = db.sqlite.as_ref().unwrap().pool();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(pool)
        .await
        .unwrap();
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(pool)
        .await
        .unwrap();
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(
        sync, 2,
        "synchronous=FULL: an answered change survives a crash"
    );
    assert_eq!(fk, 1);
    db.cleanup().await;
}

#[tokio::test]
async fn a_group_commit_keeps_each_request_whole_and_separate() {
    for db in common::backends().await {
        let s = services(&db);
        let who = subject(&s).await;
        let results = db
            .store
            .apply_group(vec![
                vec![change(
                    who,
                    "newsletter",
                    Channel::Email,
                    ConsentState::Granted,
                    None,
                )],
                vec![
                    change(who, "newsletter", Channel::Sms, ConsentState::Granted, None),
                    change(
                        who,
                        "no_such_purpose",
                        Channel::Sms,
                        ConsentState::Granted,
                        None,
                    ),
                ],
                vec![change(
                    who,
                    "ad_targeting",
                    Channel::Web,
                    ConsentState::Granted,
                    None,
                )],
            ])
            .await;
        assert!(
            results[0].is_ok() && results[1].is_err() && results[2].is_ok(),
            "{}: {results:?}",
            db.name()
        );
        let events = db.store.events_for_subject(who, 10).await.unwrap();
        assert_eq!(
            events.len(),
            2,
            "{}: the refused request left nothing, not even its first change",
            db.name()
        );
        assert_projection_is_fold(&db).await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn concurrent_changes_through_group_commit_are_each_answered_after_commit() {
    for db in common::backends().await {
        let s = services(&db);
        let people = [subject(&s).await, subject(&s).await, subject(&s).await];
        let group: Arc<dyn app::store::Store> = Arc::new(server::store::GroupCommit::new(
            db.store.clone(),
            server::store::Writers::Tasks(3),
        ));
        let mut tasks = Vec::new();
        for i in 0..120usize {
            let store = group.clone();
            let who = people[i % 3];
            // Every tenth request reuses an idempotency key for another change: refused alone.
            let key = if i % 10 == 9 {
                "shared".to_owned()
            } else {
                format!("k{i}")
            };
            let purpose = if i % 10 == 9 {
                "ad_targeting"
            } else {
                "newsletter"
            };
            let c = change(
                who,
                purpose,
                Channel::ALL[i % 5],
                // Reused keys alternate between two different changes: every other one is refused.
                ConsentState::from_bool(if i % 10 == 9 { i % 20 == 9 } else { i % 2 == 0 }),
                Some(&key),
            );
            tasks.push(tokio::spawn(async move { store.apply(vec![c]).await }));
        }
        let (mut ok, mut refused) = (0, 0);
        for t in tasks {
            match t.await.unwrap() {
                Ok(applied) => {
                    ok += 1;
                    // Answered only after its commit: what it reports is already stored.
                    if let Outcome::Recorded(e) = &applied[0].outcome {
                        let stored = db.store.events_for_subject(e.subject, 1000).await.unwrap();
                        assert!(stored.iter().any(|x| x.id == e.id), "{}", db.name());
                    }
                }
                Err(StoreError::IdempotencyKeyReused) => refused += 1,
                Err(e) => panic!("{}: unexpected {e}", db.name()),
            }
        }
        assert!(
            refused > 0,
            "{}: some requests reused a key for another change",
            db.name()
        );
        assert_eq!(ok + refused, 120, "{}", db.name());
        assert_projection_is_fold(&db).await;
        db.cleanup().await;
    }
}

/// Several instances may share one PostgreSQL: a group that waits for a subject another writer
/// holds must decide from what that writer committed, not from what was there when it began
/// waiting (its choices are read after the lock is held).
#[tokio::test]
async fn a_group_waiting_for_a_subjects_lock_decides_from_what_the_holder_committed() {
    let Some(db) = common::postgres().await else {
        return;
    };
    let s = services(&db);
    let subject = subject(&s).await;
    let pool = db.pg.as_ref().unwrap().pool().clone();
    // The other writer locks the subject and grants the newsletter by email.
    let mut other = pool.begin().await.unwrap();
    sqlx::query("SELECT id FROM subjects WHERE id = $1 FOR UPDATE")
        .bind(subject.0)
        .execute(&mut *other)
        .await
        .unwrap();
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO consent_events (id, subject_id, purpose, channel, to_state, occurred_at, \
         source, actor) VALUES ($1, $2, 'newsletter', 'email', 'granted', now(), \
         'preference_center', 'subject') RETURNING seq",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(subject.0)
    .fetch_one(&mut *other)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO consents (subject_id, purpose, channel, state, updated_at, source, \
         last_event_seq) VALUES ($1, 'newsletter', 'email', 'granted', now(), \
         'preference_center', $2)",
    )
    .bind(subject.0)
    .bind(seq)
    .execute(&mut *other)
    .await
    .unwrap();
    // This instance's group withdraws it meanwhile: it waits for the lock.
    let store = db.store.clone();
    let group = tokio::spawn(async move {
        let withdraw = change(
            subject,
            "newsletter",
            Channel::Email,
            ConsentState::Withdrawn,
            None,
        );
        store.apply_group(vec![vec![withdraw]]).await
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !group.is_finished(),
        "the group waits for the subject's lock"
    );
    other.commit().await.unwrap();
    let mut results = group.await.unwrap();
    let applied = results.pop().unwrap().unwrap().pop().unwrap();
    match applied.outcome {
        Outcome::Recorded(e) => assert_eq!(
            e.from,
            Some(ConsentState::Granted),
            "the withdrawal follows the grant the other writer committed"
        ),
        other => panic!("expected a recorded withdrawal, got {other:?}"),
    }
    db.cleanup().await;
}
