//! Store tests: every body runs on SQLite and on PostgreSQL.

mod common;

use app::{
    domain::{Channel, ConsentState, Lang, Outcome},
    store::StoreError,
};
use common::{
    consents::{assert_projection_is_fold, change, subject},
    services,
};
use proptest::prelude::*;
use time::OffsetDateTime;

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
        // Retention may delete an event only after its tombstone, and never one that is still
        // its consent's current choice (the projection would point at nothing).
        db.raw(
            "INSERT INTO event_tombstones (seq, purged_at, reason, signature) \
             SELECT seq, '2026-01-01T00:00:00Z', 'test', 'x' FROM consent_events",
        )
        .await
        .unwrap();
        db.raw("DELETE FROM consent_events")
            .await
            .expect_err(&format!(
                "{}: the current choice's event must not be deleted",
                db.name()
            ));
        assert_eq!(
            db.store.all_events().await.unwrap().len(),
            1,
            "{}",
            db.name()
        );
        assert_projection_is_fold(&db).await;
        db.cleanup().await;
    }
}

/// Texts of every kind (quotes, backslashes, Japanese, emoji, SQL) reach the events exactly as
/// given through the group commit; a text the database cannot store (NUL, on PostgreSQL) refuses
/// only its own request.
#[tokio::test]
async fn a_group_stores_every_text_exactly_as_given() {
    let texts = [
        "it's \"quoted\"",
        "back\\slash \\' and $1 and $$ dollar $$",
        "配信停止の理由：多すぎる 🙇",
        "'); DROP TABLE consent_events; --",
        "{\"a\",\"b\"} (NULL) ,",
        "",
    ];
    for db in common::backends().await {
        let s = services(&db);
        let who = subject(&s).await;
        let request = |i: usize, text: &str| {
            let mut c = change(
                who,
                "newsletter",
                Channel::ALL[i % Channel::ALL.len()],
                ConsentState::Granted,
                None,
            );
            c.provenance.reason = Some(text.to_owned());
            c.provenance.origin.user_agent = Some(text.to_owned());
            c.provenance.campaign = Some(text.to_owned());
            // Issue 31: the evidence of a change collected elsewhere, written the group's way.
            c.provenance.import_batch = Some(text.to_owned());
            c.provenance.form_url = Some(text.to_owned());
            c.provenance.proof_ref = Some(text.to_owned());
            vec![c]
        };
        let requests: Vec<_> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| request(i, t))
            .collect();
        for result in db.store.apply_group(requests).await {
            result.unwrap();
        }
        let events = db.store.all_events().await.unwrap();
        assert_eq!(events.len(), texts.len(), "{}", db.name());
        for (e, text) in events.iter().zip(texts) {
            let p = &e.provenance;
            assert_eq!(p.reason.as_deref(), Some(text), "{}", db.name());
            assert_eq!(p.campaign.as_deref(), Some(text), "{}", db.name());
            assert_eq!(p.origin.user_agent.as_deref(), Some(text), "{}", db.name());
            assert_eq!(p.import_batch.as_deref(), Some(text), "{}", db.name());
            assert_eq!(p.form_url.as_deref(), Some(text), "{}", db.name());
            assert_eq!(p.proof_ref.as_deref(), Some(text), "{}", db.name());
        }
        // Read back the bulk way too (a chain walk's reader): every event still verifies.
        assert_eq!(s.seal_pending().await.unwrap(), texts.len() as u64);
        let report = s.verify_chain().await.unwrap();
        assert_eq!(
            (report.broken, report.findings),
            (None, vec![]),
            "{}",
            db.name()
        );
        if db.name() == "postgres" {
            let other = subject(&s).await;
            let mut nul = change(
                other,
                "newsletter",
                Channel::Email,
                ConsentState::Granted,
                None,
            );
            nul.provenance.reason = Some("a\0b".into());
            let fine = change(
                other,
                "newsletter",
                Channel::Sms,
                ConsentState::Granted,
                None,
            );
            let results = db.store.apply_group(vec![vec![nul], vec![fine]]).await;
            assert!(results[0].is_err(), "a NUL in a text is refused");
            assert!(results[1].is_ok(), "the request beside it is applied");
        }
        assert_projection_is_fold(&db).await;
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
            .erasures()
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
async fn a_group_of_many_changes_is_written_whole_each_consent_at_its_last_event() {
    // More changes than one statement of the group's writes holds (SQLite writes 32 rows a
    // statement, the rest one by one), several of one consent in the group.
    for db in common::backends().await {
        let s = services(&db);
        let mut subjects = Vec::new();
        for _ in 0..12 {
            subjects.push(subject(&s).await);
        }
        let channels = [Channel::Email, Channel::Sms, Channel::Phone];
        for (round, size) in [(0, 100), (1, 71)] {
            let changes: Vec<_> = (0..size)
                .map(|i| {
                    let on = (i / 36 + round) % 2 == 0;
                    change(
                        subjects[i % 12],
                        "newsletter",
                        channels[(i / 12) % 3],
                        ConsentState::from_bool(on),
                        None,
                    )
                })
                .collect();
            for result in db.store.apply_group(vec![changes]).await {
                let applied = result.unwrap();
                assert_eq!(applied.len(), size, "{}", db.name());
                for a in &applied {
                    if let Outcome::Recorded(e) = &a.outcome {
                        assert!(e.recorded_at.is_some(), "{}", db.name());
                    }
                }
            }
        }
        assert_projection_is_fold(&db).await;
        let events = db.store.all_events().await.unwrap();
        assert!(events.len() > 100, "{}: {}", db.name(), events.len());
        db.cleanup().await;
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

/// PostgreSQL restarted (or the link dropped) while the pool's connections sat idle: the store
/// takes fresh ones instead of failing the next requests. (A connection used a moment ago is
/// not pinged before use; one idle longer is.)
#[tokio::test]
async fn connections_the_server_closed_while_idle_are_replaced() {
    let Some(db) = common::postgres().await else {
        return;
    };
    let pool = db.pg.as_ref().unwrap().pool().clone();
    // Several connections open at once, and the server process behind each.
    let mut held = Vec::new();
    let mut pids = Vec::new();
    for _ in 0..4 {
        let mut conn = pool.acquire().await.unwrap();
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        pids.push(pid);
        held.push(conn);
    }
    drop(held);
    let killed: Vec<bool> =
        sqlx::query_scalar("SELECT pg_terminate_backend(p) FROM UNNEST($1::int[]) p")
            .bind(&pids)
            .fetch_all(&sqlx::PgPool::connect(&common::pg_url()).await.unwrap())
            .await
            .unwrap();
    assert_eq!(killed, vec![true; 4]);
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    // Every pooled connection is dead now: each read must still be answered.
    let reads = (0..4).map(|_| db.store.purposes());
    for read in futures_util::future::join_all(reads).await {
        read.expect("a read after the server closed the idle connections");
    }
    db.cleanup().await;
}

/// Issue 31: collection points are saved, listed, read and retired on both databases; a key is
/// registered once, a point is retired once, and nothing else of a point can be changed or
/// deleted, even by a direct statement.
#[tokio::test]
async fn collection_points_are_kept_and_retired_once() {
    use app::domain::{CollectionPoint, CollectionPointKind, NewCollectionPoint};
    for db in common::backends().await {
        let name = db.name();
        let console = db.console();
        let at = app::services::now();
        let point = |key: &str, notice: Option<&str>| {
            CollectionPoint::new(
                NewCollectionPoint {
                    key: key.into(),
                    name_ja: "コールセンター".into(),
                    name_en: "Call center".into(),
                    kind: CollectionPointKind::CallCenter,
                    location: "東京コールセンター".into(),
                    wording: "お電話でメール配信の同意を確認します。\n次回から…".into(),
                    notice_version: notice.map(str::to_owned),
                },
                at,
                "admin:owner",
            )
            .unwrap()
        };
        let a = point("call-center", Some("2026-01"));
        console.points().add_collection_point(&a).await.unwrap();
        console
            .points()
            .add_collection_point(&point("b-paper", None))
            .await
            .unwrap();
        assert!(
            matches!(
                console.points().add_collection_point(&a).await,
                Err(StoreError::Conflict("collection_point"))
            ),
            "{name}: a key is registered once"
        );
        let all = console.points().collection_points().await.unwrap();
        let keys: Vec<&str> = all.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["b-paper", "call-center"], "{name}");
        assert_eq!(
            console
                .points()
                .collection_point("call-center")
                .await
                .unwrap(),
            Some(a.clone()),
            "{name}: read back whole"
        );
        assert_eq!(
            console.points().collection_point("nowhere").await.unwrap(),
            None
        );

        let later = at + time::Duration::minutes(1);
        assert!(
            console
                .points()
                .retire_collection_point("call-center", later, "admin:owner")
                .await
                .unwrap()
        );
        assert!(
            !console
                .points()
                .retire_collection_point("call-center", later, "admin:owner")
                .await
                .unwrap(),
            "{name}: retired once"
        );
        assert!(
            !console
                .points()
                .retire_collection_point("nowhere", later, "admin:owner")
                .await
                .unwrap()
        );
        let retired = console
            .points()
            .collection_point("call-center")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(retired.retired_at, Some(later), "{name}");
        assert_eq!(retired.retired_by.as_deref(), Some("admin:owner"));
        assert_eq!(retired.wording_sha256, a.wording_sha256, "kept as evidence");

        for forbidden in [
            "UPDATE collection_points SET wording = 'edited' WHERE key = 'b-paper'",
            "UPDATE collection_points SET retired_at = NULL, retired_by = NULL WHERE key = 'call-center'",
            "DELETE FROM collection_points WHERE key = 'b-paper'",
        ] {
            assert!(db.raw(forbidden).await.is_err(), "{name}: {forbidden}");
        }
        db.cleanup().await;
    }
}

/// Issue 31: a change reported by another system that occurred before its consent's latest
/// change is refused where the write holds the consent, on every path a group takes (without
/// keys, in bulk; with a key, request by request), and the other requests of the group are
/// written. A person's own change is never refused for its time.
#[tokio::test]
async fn a_late_arrival_is_refused_where_the_write_holds_the_consent() {
    use app::domain::Source;
    for db in common::backends().await {
        let s = services(&db);
        let who = subject(&s).await;
        let other = subject(&s).await;
        let withdrawn_now = change(
            who,
            "newsletter",
            Channel::Email,
            ConsentState::Withdrawn,
            None,
        );
        db.store.apply(vec![withdrawn_now]).await.unwrap();
        for key in [None, Some("late-1")] {
            let mut late = change(
                who,
                "newsletter",
                Channel::Email,
                ConsentState::Granted,
                key,
            );
            late.provenance.source = Source::Api;
            late.provenance.occurred_at -= time::Duration::hours(1);
            let fine = change(
                other,
                "newsletter",
                Channel::Email,
                ConsentState::Granted,
                None,
            );
            let results = db
                .store
                .apply_group(vec![vec![fine.clone(), late.clone()], vec![fine]])
                .await;
            assert!(
                matches!(results[0], Err(StoreError::OlderThanLatestChange(1))),
                "{} {key:?}: {:?}",
                db.name(),
                results[0]
            );
            assert!(
                results[1].is_ok(),
                "{}: the other request is written",
                db.name()
            );
            // The same change made by the person (not collected elsewhere) is taken.
            let mut own = late.clone();
            own.provenance.source = Source::PreferenceCenter;
            own.provenance.idempotency_key = key.map(|k| format!("{k}-own"));
            let results = db.store.apply_group(vec![vec![own]]).await;
            assert!(results[0].is_ok(), "{}: {:?}", db.name(), results[0]);
            let revert = change(
                who,
                "newsletter",
                Channel::Email,
                ConsentState::Withdrawn,
                None,
            );
            db.store.apply(vec![revert]).await.unwrap();
        }
        assert_projection_is_fold(&db).await;
        db.cleanup().await;
    }
}
