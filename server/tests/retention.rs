//! Retention on SQLite and PostgreSQL (R44, R60): `purge` deletes only superseded evidence
//! whose largest applicable minimum has passed, never the evidence of a consent in force; each
//! purged event leaves a signed tombstone and the chain still verifies; deleting an event any
//! other way is refused by the database, and a forged tombstone is found.

mod common;

use app::{
    domain::{Change, Channel, ConsentState, Jurisdiction, Lang, SubjectId, seal::Break},
    services::{PurgeReport, Services, now},
};

fn change(
    who: SubjectId,
    purpose: &str,
    channel: Channel,
    to: ConsentState,
    days_ago: i64,
) -> Change {
    common::consents::change_ago(who, purpose, channel, to, time::Duration::days(days_ago))
}

async fn subject(s: &Services, j: Jurisdiction) -> SubjectId {
    let email = format!("{}@example.jp", common::unique("retention"));
    s.create_subject_in(None, Some(&email), None, Lang::Ja, j)
        .await
        .unwrap()
        .id
}

/// Seqs of a subject's events, oldest first.
async fn seqs(s: &Services, who: SubjectId) -> Vec<(ConsentState, i64)> {
    let mut all: Vec<_> = s
        .store
        .events_for_subject(who, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.to, (now() - e.provenance.occurred_at).whole_days()))
        .collect();
    all.reverse();
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r44_r60_purge_keeps_every_minimum_and_the_chain_verifies() {
    use Channel::*;
    use ConsentState::*;
    for db in common::backends().await {
        let s = common::services(&db);
        s.seed_purposes().await.unwrap();
        let jp = subject(&s, Jurisdiction::Jp).await;
        let ca = subject(&s, Jurisdiction::UsCa).await;
        s.store
            .apply(vec![
                // Japan, advertising mail (特商法 3 years): a grant superseded four years ago
                // goes; the withdrawal superseded two years ago stays; the grant in force stays.
                change(jp, "newsletter", Email, Granted, 5 * 365),
                change(jp, "newsletter", Email, Withdrawn, 4 * 365),
                change(jp, "newsletter", Email, Granted, 2 * 365),
                // California, ad targeting (CCPA 24 months, the configured 3 years longer):
                // superseded 1,200 days ago, goes.
                change(ca, "ad_targeting", Web, Granted, 4 * 365),
                change(ca, "ad_targeting", Web, Withdrawn, 1200),
                // California, SMS (TCPA 4 years): superseded 3.2 years ago, stays.
                change(ca, "newsletter", Sms, Granted, 3 * 365 + 200),
                change(ca, "newsletter", Sms, Withdrawn, 3 * 365 + 80),
            ])
            .await
            .unwrap();
        while s.seal_pending().await.unwrap() > 0 {}
        let dry = s.purge(true).await.unwrap();
        assert_eq!(dry.purged, 2, "{}: {dry:?}", db.name());
        assert_eq!(seqs(&s, jp).await.len(), 3, "a dry run deletes nothing");
        let report = s.purge(false).await.unwrap();
        assert_eq!(
            report,
            PurgeReport {
                examined: 6,
                in_force: 2,
                within_minimum: 2,
                purged: 2
            }
        );
        assert_eq!(
            seqs(&s, jp).await.iter().map(|e| e.0).collect::<Vec<_>>(),
            [Withdrawn, Granted]
        );
        assert_eq!(seqs(&s, ca).await.len(), 3);
        // The chain verifies across the tombstones; a second purge finds nothing more.
        let chain = s.verify_chain().await.unwrap();
        assert_eq!((chain.length, chain.broken), (7, None), "{}", db.name());
        assert_eq!(s.purge(false).await.unwrap().purged, 0);

        // Any other deletion is refused by the database itself.
        let kept = seq_of_oldest(&db).await;
        assert!(
            db.raw(&format!("DELETE FROM consent_events WHERE seq = {kept}"))
                .await
                .is_err()
        );
        // A forger who adds a tombstone to get past that is found: it is not signed.
        db.raw(&format!(
            "INSERT INTO event_tombstones (seq, purged_at, reason, signature) \
             VALUES ({kept}, '2030-01-01T00:00:00Z', 'retention', 'forged')"
        ))
        .await
        .unwrap();
        db.raw(&format!("DELETE FROM consent_events WHERE seq = {kept}"))
            .await
            .unwrap();
        let chain = s.verify_chain().await.unwrap();
        assert!(
            matches!(chain.broken, Some(Break::Missing { seq, .. }) if seq == kept),
            "{}: {chain:?}",
            db.name()
        );
        db.cleanup().await;
    }
}

/// The oldest event still stored.
async fn seq_of_oldest(db: &common::TestDb) -> i64 {
    let sql = "SELECT MIN(seq) FROM consent_events";
    match (&db.sqlite, &db.pg) {
        (Some(s), _) => sqlx::query_scalar(sql).fetch_one(s.pool()).await.unwrap(),
        (_, Some(p)) => sqlx::query_scalar(sql).fetch_one(p.pool()).await.unwrap(),
        _ => unreachable!(),
    }
}
