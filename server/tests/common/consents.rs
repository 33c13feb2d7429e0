//! The writes every store test makes: a subject to change, a change, and the check that the
//! projection is the fold of the events.

use app::{
    domain::{
        Actor, Change, Channel, ConsentState, Lang, Origin, Provenance, PurposeKey, Source,
        SubjectId, fold,
    },
    services::Services,
};
use time::OffsetDateTime;

use super::TestDb;

/// A new subject (the built-in purposes in place).
pub async fn subject(s: &Services) -> SubjectId {
    s.seed_purposes().await.unwrap();
    let email = format!("{}@example.jp", super::unique("p"));
    s.create_subject(None, Some(&email), None, Lang::Ja)
        .await
        .unwrap()
        .id
}

/// A change made in the preference center, with an optional idempotency key.
pub fn change(
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
            collection_point: None,
            import_batch: None,
            form_url: None,
            proof_ref: None,
        },
        reconfirm: false,
    }
}

/// A change made in the preference center `ago` ago.
pub fn change_ago(
    subject: SubjectId,
    purpose: &str,
    channel: Channel,
    to: ConsentState,
    ago: time::Duration,
) -> Change {
    let mut change = change(subject, purpose, channel, to, None);
    change.provenance.occurred_at -= ago;
    change
}

/// The projection equals the fold of the events, and each event starts where the last ended.
pub async fn assert_projection_is_fold(db: &TestDb) {
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
