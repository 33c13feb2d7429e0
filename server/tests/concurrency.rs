//! Concurrent writers on both backends: many requests to one subject, the group commit (each
//! request whole and separate, each answered after its commit), and a writer waiting for another's
//! lock.

mod common;

use std::sync::Arc;

use app::{
    domain::{Channel, ConsentState, Outcome},
    store::StoreError,
};
use common::{
    consents::{assert_projection_is_fold, change, subject},
    services,
};

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
