//! The hash chain on SQLite and PostgreSQL: editing, deleting, inserting or reordering any event
//! row directly in the database (with the append-only triggers out of the way) is found by
//! `verify_chain`, at the right place.

mod common;

use app::{
    domain::{Change, Channel, ConsentState, Lang, seal::Break},
    services::Services,
};
use common::TestDb;

/// Five events for three subjects, sealed.
async fn sealed(db: &TestDb) -> Services {
    let s = common::services(db);
    s.seed_purposes().await.unwrap();
    let mut changes = Vec::new();
    for i in 0..3 {
        let email = format!("{}@example.jp", common::unique("chain"));
        let who = s
            .create_subject(None, Some(&email), None, Lang::Ja)
            .await
            .unwrap()
            .id;
        for (channel, to) in [
            (Channel::Email, ConsentState::Granted),
            (Channel::Sms, ConsentState::Granted),
        ]
        .into_iter()
        .take(if i == 0 { 1 } else { 2 })
        {
            changes.push(change(who, channel, to));
        }
    }
    s.store.apply(changes).await.unwrap();
    assert_eq!(s.seal_pending().await.unwrap(), 5);
    assert_eq!(s.seal_pending().await.unwrap(), 0, "sealed once");
    let report = s.verify_chain().await.unwrap();
    assert_eq!((report.length, report.broken), (5, None), "{}", db.name());
    s
}

/// `who`'s newsletter on `channel` set to `to` from the preference center, two hours ago.
fn change(who: app::domain::SubjectId, channel: Channel, to: ConsentState) -> Change {
    common::consents::change_ago(who, "newsletter", channel, to, time::Duration::hours(2))
}

/// Takes the append-only triggers away, as someone with direct database access could.
async fn bypass_triggers(db: &TestDb) {
    if db.sqlite.is_some() {
        db.raw("DROP TRIGGER consent_events_no_update")
            .await
            .unwrap();
        db.raw("DROP TRIGGER consent_events_no_delete")
            .await
            .unwrap();
        db.raw("DROP TRIGGER consent_events_recorded_now")
            .await
            .unwrap();
    } else {
        db.raw("ALTER TABLE consent_events DISABLE TRIGGER ALL")
            .await
            .unwrap();
    }
}

async fn seq_at(db: &TestDb, n: i64) -> i64 {
    // The n-th event in sequence order (sequences need not start at 1).
    let sql = format!(
        "SELECT seq FROM consent_events ORDER BY seq LIMIT 1 OFFSET {}",
        n - 1
    );
    match (&db.sqlite, &db.pg) {
        (Some(s), _) => sqlx::query_scalar(&sql).fetch_one(s.pool()).await.unwrap(),
        (_, Some(p)) => sqlx::query_scalar(&sql).fetch_one(p.pool()).await.unwrap(),
        _ => unreachable!(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_event_is_found_at_its_position() {
    for db in common::backends().await {
        let s = sealed(&db).await;
        bypass_triggers(&db).await;
        let third = seq_at(&db, 3).await;
        db.raw(&format!(
            "UPDATE consent_events SET to_state = 'withdrawn' WHERE seq = {third}"
        ))
        .await
        .unwrap();
        let report = s.verify_chain().await.unwrap();
        assert_eq!(report.length, 2, "{}", db.name());
        assert_eq!(
            report.broken,
            Some(Break::Altered {
                position: 3,
                seq: third
            })
        );
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_event_is_found() {
    for db in common::backends().await {
        let s = sealed(&db).await;
        bypass_triggers(&db).await;
        let second = seq_at(&db, 2).await;
        // Foreign keys point at it: a forger switches them off too.
        let off = if db.sqlite.is_some() {
            "PRAGMA foreign_keys = OFF;"
        } else {
            ""
        };
        db.raw_script(&format!(
            "{off} DELETE FROM consent_events WHERE seq = {second};"
        ))
        .await
        .unwrap();
        let report = s.verify_chain().await.unwrap();
        assert_eq!(
            report.broken,
            Some(Break::Missing {
                position: 2,
                seq: second
            }),
            "{}",
            db.name()
        );
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reordered_events_are_found() {
    for db in common::backends().await {
        let s = sealed(&db).await;
        bypass_triggers(&db).await;
        let (a, b) = (seq_at(&db, 4).await, seq_at(&db, 5).await);
        // Swap which event sits at the two places in the log.
        let zero = if db.sqlite.is_some() {
            "X'00000000000000000000000000000000'"
        } else {
            "'00000000-0000-0000-0000-000000000000'"
        };
        db.raw_script(&format!(
            "CREATE TEMP TABLE swap_a AS SELECT id FROM consent_events WHERE seq = {a}; \
             CREATE TEMP TABLE swap_b AS SELECT id FROM consent_events WHERE seq = {b}; \
             UPDATE consent_events SET id = {zero} WHERE seq = {a}; \
             UPDATE consent_events SET id = (SELECT id FROM swap_a) WHERE seq = {b}; \
             UPDATE consent_events SET id = (SELECT id FROM swap_b) WHERE seq = {a}; \
             DROP TABLE swap_a; DROP TABLE swap_b;"
        ))
        .await
        .unwrap();
        let report = s.verify_chain().await.unwrap();
        assert_eq!(
            report.broken,
            Some(Break::Altered {
                position: 4,
                seq: a
            }),
            "{}",
            db.name()
        );
        db.cleanup().await;
    }
}

/// Inserts an old opt-in at `seq` directly, for the subject of the first event.
async fn insert_forged(db: &TestDb, seq: i64) {
    let subject: uuid::Uuid = match (&db.sqlite, &db.pg) {
        (Some(x), _) => sqlx::query_scalar("SELECT subject_id FROM consent_events LIMIT 1")
            .fetch_one(x.pool())
            .await
            .unwrap(),
        (_, Some(p)) => sqlx::query_scalar("SELECT subject_id FROM consent_events LIMIT 1")
            .fetch_one(p.pool())
            .await
            .unwrap(),
        _ => unreachable!(),
    };
    let insert = "INSERT INTO consent_events (seq, id, subject_id, purpose, channel, from_state, to_state, \
         occurred_at, source, actor) {overriding} VALUES ($1, $2, $3, 'newsletter', 'postal', NULL, 'granted', $4, \
         'preference_center', 'subject')";
    let at = time::OffsetDateTime::now_utc() - time::Duration::days(30);
    let id = uuid::Uuid::now_v7();
    match (&db.sqlite, &db.pg) {
        (Some(x), _) => {
            sqlx::query(&insert.replace("{overriding}", ""))
                .bind(seq)
                .bind(id)
                .bind(subject)
                .bind(at)
                .execute(x.pool())
                .await
                .unwrap();
        }
        (_, Some(p)) => {
            sqlx::query(&insert.replace("{overriding}", "OVERRIDING SYSTEM VALUE"))
                .bind(seq)
                .bind(id)
                .bind(subject)
                .bind(at)
                .execute(p.pool())
                .await
                .unwrap();
        }
        _ => unreachable!(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_inserted_between_two_pages_of_the_walk_is_found() {
    for db in common::backends().await {
        let s = sealed(&db).await;
        // Two more links, with two seqs left unused between them (a rolled back write leaves
        // such gaps): the walk reads pages of two, so the gap lies between pages 3 and 4.
        let who = s
            .create_subject(Some(&common::unique("gap")), None, None, Lang::En)
            .await
            .unwrap()
            .id;
        s.store
            .apply(vec![change(who, Channel::Email, ConsentState::Granted)])
            .await
            .unwrap();
        match &db.pg {
            Some(p) => {
                for _ in 0..2 {
                    sqlx::query("SELECT nextval(pg_get_serial_sequence('consent_events', 'seq'))")
                        .execute(p.pool())
                        .await
                        .unwrap();
                }
            }
            None => {
                db.raw("UPDATE sqlite_sequence SET seq = seq + 2 WHERE name = 'consent_events'")
                    .await
                    .unwrap();
            }
        }
        s.store
            .apply(vec![change(who, Channel::Sms, ConsentState::Granted)])
            .await
            .unwrap();
        assert_eq!(s.seal_pending().await.unwrap(), 2);
        let (sixth, seventh) = (seq_at(&db, 6).await, seq_at(&db, 7).await);
        assert_eq!(seventh, sixth + 3, "{}", db.name());
        let report = s.verify_chain().await.unwrap();
        assert_eq!((report.length, report.broken), (7, None), "{}", db.name());
        bypass_triggers(&db).await;
        insert_forged(&db, sixth + 1).await;
        assert_eq!(s.seal_pending().await.unwrap(), 0);
        let report = s.verify_chain().await.unwrap();
        assert_eq!(
            (report.length, report.broken),
            (7, Some(Break::Unsealed { seq: sixth + 1 })),
            "{}",
            db.name()
        );
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_inserted_after_the_fact_is_found_and_never_sealed() {
    for db in common::backends().await {
        let s = sealed(&db).await;
        bypass_triggers(&db).await;
        let first = seq_at(&db, 1).await;
        // An old opt-in, slipped in before the first event.
        let forged = first - 1;
        insert_forged(&db, forged).await;
        assert_eq!(
            s.seal_pending().await.unwrap(),
            0,
            "the sealer does not cover it"
        );
        let report = s.verify_chain().await.unwrap();
        assert_eq!(report.length, 5);
        assert_eq!(
            report.broken,
            Some(Break::Unsealed { seq: forged }),
            "{}",
            db.name()
        );
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_running_server_seals_changes_and_the_cli_verifies() {
    let db = common::sqlite().await;
    let url = db.url.clone();
    let s = common::server::TestServer::start(db).await;
    let (who, token) = s.subject("sealed@example.jp", Lang::En).await;
    let res = s
        .call(
            "set_consent",
            &[
                ("token", token.as_str()),
                ("purpose", "newsletter"),
                ("channel", "email"),
                ("state", "granted"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(s.event_count(who).await, 1);
    let mut length = 0;
    for _ in 0..40 {
        length = s.services.seals.chain_extent().await.unwrap().0;
        if length == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(length, 1, "sealed just after commit");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_doui"))
        .arg("verify")
        .env("DATABASE_URL", &url)
        .env("DOUI_DATA_DIR", &s.data_dir)
        .env("DOUI_LOG", "warn")
        .env_remove("DOUI_CONFIG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("chain verified: 1 events sealed"),
        "{stdout}"
    );
    // The server signs a checkpoint soon after; the CLI exports it and verifies against it.
    let mut latest = None;
    for _ in 0..50 {
        latest = s.services.seals.latest_checkpoint().await.unwrap();
        if latest.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(latest.map(|c| c.length), Some(1), "checkpoint signed");
    let doui = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_doui"))
            .args(args)
            .env("DATABASE_URL", &url)
            .env("DOUI_DATA_DIR", &s.data_dir)
            .env("DOUI_LOG", "warn")
            .env_remove("DOUI_CONFIG")
            .output()
            .unwrap()
    };
    let exported = doui(&["checkpoints"]);
    let lines = String::from_utf8(exported.stdout).unwrap();
    assert_eq!(
        lines.lines().count(),
        1,
        "{lines}{} ({:?})",
        String::from_utf8_lossy(&exported.stderr),
        exported.status
    );
    let file = s.data_dir.join("kept-checkpoints.jsonl");
    std::fs::write(&file, &lines).unwrap();
    let public = doui(&["keys", "public"]);
    let public = String::from_utf8(public.stdout).unwrap();
    assert_eq!(public.trim(), s.services.signer.verifier().to_text());
    let file_arg = file.to_str().unwrap();
    let out = doui(&[
        "verify",
        "--checkpoints",
        file_arg,
        "--public-key",
        public.trim(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 signed checkpoints match"), "{stdout}");
    let other = app::signing::Signer::from_seed([3; 32])
        .verifier()
        .to_text();
    let out = doui(&["verify", "--checkpoints", file_arg, "--public-key", &other]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("not signed by this key"), "{stdout}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgres_seal_one_chain() {
    let Some(db) = common::postgres().await else {
        return;
    };
    let a = common::services(&db);
    a.seed_purposes().await.unwrap();
    // A second instance: its own connections to the same database.
    let other: std::sync::Arc<dyn app::store::SealStore> =
        std::sync::Arc::new(::server::store::PgStore::open(&db.url).await.unwrap());
    let mut total = 0;
    for round in 0..10 {
        let mut changes = Vec::new();
        for _ in 0..20 {
            let email = format!("{}@example.jp", common::unique("two"));
            let who = a
                .create_subject(None, Some(&email), None, Lang::En)
                .await
                .unwrap()
                .id;
            let mut change = common::consents::change(
                who,
                "newsletter",
                Channel::Email,
                ConsentState::Granted,
                None,
            );
            change.provenance.reason = Some(format!("round {round}"));
            changes.push(change);
        }
        a.store.apply(changes).await.unwrap();
        total += 20;
        let (x, y) = tokio::join!(a.seals.seal_pending(7, 60), other.seal_pending(7, 60));
        x.unwrap();
        y.unwrap();
    }
    while a.seal_pending().await.unwrap() > 0 {}
    let report = a.verify_chain().await.unwrap();
    assert_eq!((report.length, report.broken), (total, None));
    db.cleanup().await;
}

/// Takes the append-only triggers off the seals and checkpoints too: a forger who rewrites
/// history recomputes every seal.
async fn bypass_chain_triggers(db: &TestDb) {
    bypass_triggers(db).await;
    if db.sqlite.is_some() {
        db.raw_script(
            "DROP TRIGGER event_seals_no_delete; DROP TRIGGER chain_checkpoints_no_delete;",
        )
        .await
        .unwrap();
    } else {
        db.raw_script(
            "ALTER TABLE event_seals DISABLE TRIGGER ALL; \
             ALTER TABLE chain_checkpoints DISABLE TRIGGER ALL;",
        )
        .await
        .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_rewritten_with_recomputed_seals_is_found_by_signed_checkpoints() {
    for db in common::backends().await {
        let s = sealed(&db).await;
        let cp = s
            .checkpoint_if_due()
            .await
            .unwrap()
            .expect("first checkpoint");
        assert_eq!(cp.length, 5, "{}", db.name());
        assert!(cp.is_signed_by(&s.signer.verifier()));
        assert_eq!(s.checkpoint_if_due().await.unwrap(), None, "not due again");
        let kept = s.checkpoints(0, 100).await.unwrap();
        assert_eq!(kept, vec![cp.clone()], "stored as signed");
        let report = s.verify_chain().await.unwrap();
        assert_eq!((report.broken, report.checkpoints), (None, 1));

        // The forger edits an event and recomputes the whole chain: every link verifies again.
        bypass_chain_triggers(&db).await;
        let third = seq_at(&db, 3).await;
        db.raw(&format!(
            "UPDATE consent_events SET to_state = 'withdrawn' WHERE seq = {third}"
        ))
        .await
        .unwrap();
        db.raw("DELETE FROM event_seals").await.unwrap();
        assert_eq!(s.seal_pending().await.unwrap(), 5, "re-sealed from scratch");
        let report = s.verify_chain().await.unwrap();
        assert_eq!(
            report.broken,
            Some(Break::Rewritten { length: 5 }),
            "{}",
            db.name()
        );
        // They delete the stored checkpoints as well: the one kept outside still tells.
        db.raw("DELETE FROM chain_checkpoints").await.unwrap();
        assert_eq!(s.verify_chain().await.unwrap().broken, None);
        let report = s
            .verify_chain_against(Some(&kept), &s.signer.verifier())
            .await
            .unwrap();
        assert_eq!(report.broken, Some(Break::Rewritten { length: 5 }));
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shortened_chain_or_a_forged_checkpoint_is_found() {
    for db in common::backends().await {
        let s = sealed(&db).await;
        let kept = s.checkpoint_if_due().await.unwrap().unwrap();
        bypass_chain_triggers(&db).await;
        // The last event and its seal disappear together.
        let fifth = seq_at(&db, 5).await;
        let off = if db.sqlite.is_some() {
            "PRAGMA foreign_keys = OFF;"
        } else {
            ""
        };
        db.raw_script(&format!(
            "{off} DELETE FROM event_seals WHERE event_seq = {fifth}; \
             DELETE FROM consent_events WHERE seq = {fifth};"
        ))
        .await
        .unwrap();
        let report = s.verify_chain().await.unwrap();
        assert_eq!(
            (report.broken, report.length),
            (Some(Break::Truncated { length: 5 }), 4),
            "{}",
            db.name()
        );
        // A checkpoint signed by another key is not one of ours.
        db.raw("DELETE FROM chain_checkpoints").await.unwrap();
        let forged = app::signing::Checkpoint::sign(
            &app::signing::Signer::from_seed([1; 32]),
            &kept.origin,
            4,
            &s.chain_view(false).await.unwrap().head,
            kept.at,
        );
        s.seals.add_checkpoint(&forged).await.unwrap();
        assert_eq!(
            s.verify_chain().await.unwrap().broken,
            Some(Break::CheckpointSignature { length: 4 }),
            "{}",
            db.name()
        );
        db.cleanup().await;
    }
}

/// Issue 30, item 14: the sealer builds the next checkpoint only on a stored checkpoint that the
/// instance's key signed. A forger who rewrote the chain below a genuine checkpoint and stored a
/// checkpoint of the rewritten head (signed with a key of their own) must not get a genuine
/// checkpoint signed over the rewritten chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h14_the_sealer_never_builds_on_a_checkpoint_it_did_not_sign() {
    for db in common::backends().await {
        let s = sealed(&db).await;
        let hour_ago = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
        let origin = s.settings.public_url.clone();
        let head = s.chain_view(false).await.unwrap().head;
        let genuine = app::signing::Checkpoint::sign(&s.signer, &origin, 5, &head, hour_ago);
        assert!(s.seals.add_checkpoint(&genuine).await.unwrap());
        let who = s
            .create_subject(Some(&common::unique("h14")), None, None, Lang::En)
            .await
            .unwrap()
            .id;
        s.store
            .apply(vec![
                change(who, Channel::Email, ConsentState::Granted),
                change(who, Channel::Sms, ConsentState::Granted),
            ])
            .await
            .unwrap();
        assert_eq!(s.seal_pending().await.unwrap(), 2);

        // The forger edits the third event, recomputes every seal, and stores a checkpoint of
        // the rewritten chain at length 6, signed with another key.
        bypass_chain_triggers(&db).await;
        let third = seq_at(&db, 3).await;
        db.raw(&format!(
            "UPDATE consent_events SET to_state = 'withdrawn' WHERE seq = {third}"
        ))
        .await
        .unwrap();
        db.raw("DELETE FROM event_seals").await.unwrap();
        assert_eq!(s.seal_pending().await.unwrap(), 7, "{}", db.name());
        let sixth = s.seals.chain_links(5, 1).await.unwrap().links[0]
            .seal
            .unwrap();
        let forged = app::signing::Checkpoint::sign(
            &app::signing::Signer::from_seed([1; 32]),
            &origin,
            6,
            &app::domain::seal::to_hex(&sixth),
            hour_ago + time::Duration::minutes(30),
        );
        assert!(s.seals.add_checkpoint(&forged).await.unwrap());

        // Due (the genuine checkpoint is an hour old), but the chain after it does not hold:
        // nothing is signed.
        assert_eq!(s.checkpoint_if_due().await.unwrap(), None, "{}", db.name());
        let stored: Vec<i64> = s
            .checkpoints(0, 100)
            .await
            .unwrap()
            .iter()
            .map(|c| c.length)
            .collect();
        assert_eq!(stored, vec![5, 6], "{}", db.name());
        assert_eq!(
            s.verify_chain().await.unwrap().broken,
            Some(Break::Rewritten { length: 5 }),
            "{}",
            db.name()
        );
        db.cleanup().await;
    }
}

/// Inserts an event for the first event's subject straight into the database, dated `occurred`
/// and recorded at `recorded` (SQL: a literal, `NULL`, or `now` for the database's clock); its
/// seq, or the database's refusal.
async fn insert_dated(
    db: &TestDb,
    channel: &str,
    occurred: &str,
    recorded: &str,
) -> Result<i64, sqlx::Error> {
    let (id, recorded) = match (db.sqlite.is_some(), recorded) {
        (true, "now") => ("randomblob(16)", "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"),
        (true, r) => ("randomblob(16)", r),
        (false, "now") => ("gen_random_uuid()", "DEFAULT"),
        (false, r) => ("gen_random_uuid()", r),
    };
    let sql = format!(
        "INSERT INTO consent_events (id, subject_id, purpose, channel, from_state, to_state, \
         occurred_at, source, actor, recorded_at) VALUES ({id}, \
         (SELECT subject_id FROM consent_events ORDER BY seq LIMIT 1), 'newsletter', '{channel}', \
         NULL, 'granted', '{occurred}', 'preference_center', 'subject', {recorded}) RETURNING seq"
    );
    match (&db.sqlite, &db.pg) {
        (Some(s), _) => sqlx::query_scalar(&sql).fetch_one(s.pool()).await,
        (_, Some(p)) => sqlx::query_scalar(&sql).fetch_one(p.pool()).await,
        _ => unreachable!(),
    }
}

/// `doui verify` on `db`: its exit status and what it printed.
fn cli_verify(db: &TestDb) -> (Option<i32>, String) {
    let data_dir = std::env::temp_dir().join(common::unique("doui_verify"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_doui"))
        .arg("verify")
        .env("DATABASE_URL", &db.url)
        .env("DOUI_DATA_DIR", &data_dir)
        .env("DOUI_LOG", "warn")
        .env("DOUI_DEMO", "false")
        .env_remove("DOUI_CONFIG")
        .output()
        .unwrap();
    std::fs::remove_dir_all(data_dir).ok();
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    (
        out.status.code(),
        printed + &String::from_utf8_lossy(&out.stderr),
    )
}

/// Issue 30, item 8: every event carries the database's clock at its insert (`recorded_at`),
/// sealed with it. An event dated in the past and appended at the head is recorded as written
/// now (a backdated recorded time is refused by the database); one slipped in behind the
/// database's back with a backdated recorded time, without one, or dated after it, is named by
/// `verify` (and `doui verify`, which fails), as is a current choice that is not what the log
/// says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h08_backdated_events_at_the_head_and_a_forged_projection_are_named() {
    for db in common::backends().await {
        let name = db.name();
        let s = sealed(&db).await;
        let now = time::OffsetDateTime::now_utc();
        let events = s.store.all_events().await.unwrap();
        for e in &events {
            let recorded = e.recorded_at.expect("recorded");
            assert!(recorded > e.provenance.occurred_at, "{name}");
            assert!(
                (now - recorded).abs() < time::Duration::minutes(1),
                "{name}"
            );
        }

        // With INSERT rights only, a recorded time other than the database's clock is refused…
        let refused = insert_dated(
            &db,
            "postal",
            "2024-06-01T00:00:00Z",
            "'2024-06-01T00:00:01Z'",
        )
        .await;
        assert!(refused.is_err(), "{name}: {refused:?}");
        assert!(
            insert_dated(&db, "postal", "2024-06-01T00:00:00Z", "NULL")
                .await
                .is_err()
        );
        // …and an event dated 2024 written now says so: it verifies as what it is.
        let honest = insert_dated(&db, "postal", "2024-06-01T00:00:00Z", "now")
            .await
            .unwrap();
        assert_eq!(s.seal_pending().await.unwrap(), 1);
        let written = s.store.all_events().await.unwrap();
        let e = written.last().unwrap();
        assert_eq!(e.provenance.occurred_at.year(), 2024, "{name}");
        assert_eq!(
            e.recorded_at.unwrap().date(),
            now.date(),
            "{name}: seq {honest}"
        );
        let report = s.verify_chain().await.unwrap();
        assert_eq!(report.broken, None, "{name}");
        let honest_findings: Vec<_> = report
            .findings
            .iter()
            .filter(|f| !matches!(f, Break::Projection { .. }))
            .collect();
        assert!(honest_findings.is_empty(), "{name}: {honest_findings:?}");

        // Someone who also gets past the triggers: a 2024 recorded time at the head, none at
        // all, and a change dated a day after it was written. The seals hold; the times do not.
        bypass_triggers(&db).await;
        let backdated = insert_dated(
            &db,
            "push",
            "2024-06-01T00:00:00Z",
            "'2024-06-01T00:00:01Z'",
        )
        .await
        .unwrap();
        let unrecorded = insert_dated(&db, "web", "2024-06-02T00:00:00Z", "NULL")
            .await
            .unwrap();
        let tomorrow = (now + time::Duration::days(1))
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        let future = insert_dated(&db, "phone", &tomorrow, "now").await.unwrap();
        assert_eq!(s.seal_pending().await.unwrap(), 3, "{name}");
        // And the projection: one person's choice is flipped, another's removed, a third's
        // notice version (which the send gate reads from the consent's row) changed.
        let first = &events[0];
        let second = &events[1];
        let third = &events[2];
        let id = |u: uuid::Uuid| match db.sqlite {
            Some(_) => format!("X'{}'", u.simple()),
            None => format!("'{u}'"),
        };
        db.raw(&format!(
            "UPDATE consents SET state = 'withdrawn' WHERE subject_id = {} AND channel = '{}'",
            id(first.subject.0),
            first.channel.key()
        ))
        .await
        .unwrap();
        db.raw(&format!(
            "DELETE FROM consents WHERE subject_id = {} AND channel = '{}'",
            id(second.subject.0),
            second.channel.key()
        ))
        .await
        .unwrap();
        db.raw(&format!(
            "UPDATE consents SET notice_version = 'forged' WHERE subject_id = {} AND channel = '{}'",
            id(third.subject.0),
            third.channel.key()
        ))
        .await
        .unwrap();

        let report = s.verify_chain().await.unwrap();
        assert_eq!((report.length, report.broken.clone()), (9, None), "{name}");
        // Each named at its place in the chain (after the five sealed first and the honest one).
        let at = |seq: i64| {
            6 + [honest, backdated, unrecorded, future]
                .iter()
                .position(|&s| s == seq)
                .unwrap() as i64
        };
        let found = |wanted: &dyn Fn(&Break) -> bool| report.findings.iter().any(wanted);
        assert!(
            found(
                &|f| matches!(f, Break::RecordedBackwards { position, seq, .. }
                if *seq == backdated && *position == at(backdated))
            ),
            "{name}: {:?}",
            report.findings
        );
        assert!(found(&|f| *f
            == Break::NotRecorded {
                position: at(unrecorded),
                seq: unrecorded
            }));
        assert!(found(&|f| *f
            == Break::OccurredAfterRecorded {
                position: at(future),
                seq: future
            }));
        let projection: Vec<_> = report
            .findings
            .iter()
            .filter_map(|f| match f {
                Break::Projection {
                    subject, channel, ..
                } => Some((*subject, channel.clone())),
                _ => None,
            })
            .collect();
        for e in [first, second, third] {
            assert!(
                projection.contains(&(e.subject.0, e.channel.key().to_owned())),
                "{name}: {:?} in {projection:?}",
                (e.subject, e.channel)
            );
        }

        // `doui verify` fails and names each one.
        let (code, printed) = cli_verify(&db);
        assert_eq!(code, Some(1), "{name}: {printed}");
        for seq in [backdated, unrecorded, future] {
            assert!(
                printed.contains(&format!("event seq {seq} ")),
                "{name}: {printed}"
            );
        }
        assert!(
            printed.contains(&first.subject.0.to_string()),
            "{name}: {printed}"
        );
        db.cleanup().await;
    }
}

/// Issue 30, item 8, on upgrade: events an earlier Doui wrote and sealed (no recorded time, v1
/// seals) still verify once the database is migrated, and so does the chain the upgraded Doui
/// goes on sealing (recorded times, v2 seals) after them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h08_an_upgraded_database_keeps_verifying_its_older_events() {
    use app::domain::{
        Actor, ConsentEvent, Origin, Provenance, PurposeKey, Source,
        seal::{GENESIS, seal, to_hex},
    };
    for db in common::backends_before(16).await {
        let name = db.name();
        let s = common::services(&db);
        s.seed_purposes().await.unwrap();
        let who = s
            .create_subject(Some(&common::unique("old")), None, None, Lang::Ja)
            .await
            .unwrap()
            .id;
        // Two changes as the earlier version wrote them: the event, its current choice, its
        // seal.
        let mut prev = GENESIS;
        for (position, channel) in [(1i64, Channel::Email), (2, Channel::Sms)] {
            let event = ConsentEvent {
                id: uuid::Uuid::now_v7(),
                subject: who,
                purpose: PurposeKey::parse("newsletter").unwrap(),
                channel,
                from: None,
                to: ConsentState::Granted,
                provenance: Provenance {
                    occurred_at: app::services::now() - time::Duration::days(position),
                    source: Source::PreferenceCenter,
                    actor: Actor::Subject,
                    notice_version: Some("1.0".into()),
                    origin: Origin::default(),
                    idempotency_key: None,
                    reason: None,
                    campaign: None,
                    collection_point: None,
                    import_batch: None,
                    form_url: None,
                    proof_ref: None,
                },
                recorded_at: None,
            };
            let insert = "INSERT INTO consent_events (id, subject_id, purpose, channel, to_state, \
                 occurred_at, source, actor, notice_version) VALUES ($1, $2, 'newsletter', $3, \
                 'granted', $4, 'preference_center', 'subject', '1.0') RETURNING seq";
            let project = "INSERT INTO consents (subject_id, purpose, channel, state, updated_at, \
                 source, last_event_seq) VALUES ($1, 'newsletter', $2, 'granted', $3, \
                 'preference_center', $4)";
            let link = "INSERT INTO event_seals (position, event_seq, seal, sealed_at) \
                 VALUES ($1, $2, $3, $4)";
            let at = event.provenance.occurred_at;
            let seq: i64 = match (&db.sqlite, &db.pg) {
                (Some(x), _) => {
                    let p = x.pool();
                    let seq = sqlx::query_scalar(insert)
                        .bind(event.id)
                        .bind(who.0)
                        .bind(channel.key())
                        .bind(at)
                        .fetch_one(p)
                        .await
                        .unwrap();
                    let q = sqlx::query(project).bind(who.0).bind(channel.key());
                    q.bind(at).bind(seq).execute(p).await.unwrap();
                    prev = seal(&prev, seq, &event);
                    let q = sqlx::query(link).bind(position).bind(seq);
                    q.bind(to_hex(&prev)).bind(at).execute(p).await.unwrap();
                    seq
                }
                (_, Some(x)) => {
                    let p = x.pool();
                    let seq = sqlx::query_scalar(insert)
                        .bind(event.id)
                        .bind(who.0)
                        .bind(channel.key())
                        .bind(at)
                        .fetch_one(p)
                        .await
                        .unwrap();
                    let q = sqlx::query(project).bind(who.0).bind(channel.key());
                    q.bind(at).bind(seq).execute(p).await.unwrap();
                    prev = seal(&prev, seq, &event);
                    let q = sqlx::query(link).bind(position).bind(seq);
                    q.bind(to_hex(&prev)).bind(at).execute(p).await.unwrap();
                    seq
                }
                _ => unreachable!(),
            };
            assert!(seq > 0);
        }

        // The upgrade.
        db.store.migrate().await.unwrap();
        let report = s.verify_chain().await.unwrap();
        assert_eq!(
            (report.length, report.broken, report.findings),
            (2, None, vec![]),
            "{name}: the older chain verifies as it did"
        );
        // Each consent's row now keeps its last event's notice version (the send gate reads it
        // there; the projection check above compares it with the event's).
        let versions: Vec<Option<String>> = s
            .store
            .consents(who)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.notice_version)
            .collect();
        assert_eq!(
            versions,
            [Some("1.0".to_owned()), Some("1.0".to_owned())],
            "{name}"
        );
        // The upgraded Doui records and seals the time of what it writes after them.
        s.store
            .apply(vec![change(who, Channel::Postal, ConsentState::Granted)])
            .await
            .unwrap();
        assert_eq!(s.seal_pending().await.unwrap(), 1);
        let events = s.store.all_events().await.unwrap();
        let recorded: Vec<bool> = events.iter().map(|e| e.recorded_at.is_some()).collect();
        assert_eq!(recorded, [false, false, true], "{name}");
        let report = s.verify_chain().await.unwrap();
        assert_eq!(
            (report.length, report.broken, report.findings),
            (3, None, vec![]),
            "{name}"
        );
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item07_chain_walks_on_request_run_one_at_a_time() {
    for db in common::backends().await {
        let s = common::server::TestServer::start(db).await;
        let (_, token) = s.subject("walked@example.jp", Lang::En).await;
        let consent = [
            ("token", token.as_str()),
            ("purpose", "newsletter"),
            ("channel", "email"),
            ("state", "granted"),
        ];
        assert_eq!(s.call("set_consent", &consent).await.status(), 200);
        let admin = s.signed_in(app::auth::Role::Viewer).await;
        // While a walk runs, another asked for is told so at once, in the admin's language.
        let walk = s.services.limiter.walks.try_enter().expect("no walk yet");
        let res = admin.call("admin/chain", &[("verify", "true")]).await;
        assert_eq!(res.status(), 409);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["code"], "chain_walk_running");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("already running"),
            "{body}"
        );
        // The chain's summary (no walk) is still there.
        assert_eq!(
            admin
                .call("admin/chain", &[("verify", "false")])
                .await
                .status(),
            200
        );
        drop(walk);
        let res = admin.call("admin/chain", &[("verify", "true")]).await;
        assert_eq!(res.status(), 200);
        let view: serde_json::Value = res.json().await.unwrap();
        assert_eq!(view["checked"], true, "{view}");
        // Many at once: each walks or is told one is running, nothing else.
        let calls = (0..8).map(|_| admin.call("admin/chain", &[("verify", "true")]));
        let statuses: Vec<u16> = futures_util::future::join_all(calls)
            .await
            .iter()
            .map(|r| r.status().as_u16())
            .collect();
        assert!(
            statuses.iter().all(|c| [200, 409].contains(c)),
            "{statuses:?}"
        );
        assert!(statuses.contains(&200), "{statuses:?}");
        assert!(
            s.services.limiter.walks.try_enter().is_some(),
            "the turn is given back"
        );
        s.stop().await;
    }
}

/// Issue 31: a change collected elsewhere seals its collection point, import batch, form URL and
/// proof reference (`doui-event-v3`). A database from before them keeps verifying once
/// migrated, the new events verify after the old ones, and a collection point changed on a
/// sealed event is found at its position.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i31_a_collection_point_is_sealed_and_a_changed_one_is_found() {
    use app::domain::{CollectionPoint, CollectionPointKind, NewCollectionPoint};
    for db in common::backends_before(20).await {
        let name = db.name();
        let s = common::services(&db);
        s.seed_purposes().await.unwrap();
        let who = s
            .create_subject(Some(&common::unique("cp")), None, None, Lang::Ja)
            .await
            .unwrap()
            .id;
        // Written and sealed as the previous version did (a v2 event: a recorded time, none
        // of the new columns), by statements, since the current writer writes the new columns.
        {
            use app::domain::{
                Actor, ConsentEvent, Origin, Provenance, PurposeKey, Source,
                seal::{GENESIS, seal, to_hex},
            };
            let id = uuid::Uuid::now_v7();
            let at = app::services::now() - time::Duration::hours(1);
            let insert = if db.sqlite.is_some() {
                "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
            } else {
                "clock_timestamp()"
            };
            let sql = format!(
                "INSERT INTO consent_events (id, subject_id, purpose, channel, to_state, occurred_at, \
                 source, actor, notice_version, recorded_at) VALUES ($1, $2, 'newsletter', 'email', \
                 'granted', $3, 'preference_center', 'subject', '1.0', {insert}) RETURNING seq, recorded_at"
            );
            let project = "INSERT INTO consents (subject_id, purpose, channel, state, updated_at, \
                 source, last_event_seq) VALUES ($1, 'newsletter', 'email', 'granted', $2, \
                 'preference_center', $3)";
            let link = "INSERT INTO event_seals (position, event_seq, seal, sealed_at) \
                 VALUES (1, $1, $2, $3)";
            let mut event = ConsentEvent {
                id,
                subject: who,
                purpose: PurposeKey::parse("newsletter").unwrap(),
                channel: Channel::Email,
                from: None,
                to: ConsentState::Granted,
                provenance: Provenance {
                    occurred_at: at,
                    source: Source::PreferenceCenter,
                    actor: Actor::Subject,
                    notice_version: Some("1.0".into()),
                    origin: Origin::default(),
                    idempotency_key: None,
                    reason: None,
                    campaign: None,
                    collection_point: None,
                    import_batch: None,
                    form_url: None,
                    proof_ref: None,
                },
                recorded_at: None,
            };
            match (&db.sqlite, &db.pg) {
                (Some(x), _) => {
                    let p = x.pool();
                    let (seq, recorded): (i64, time::OffsetDateTime) = sqlx::query_as(&sql)
                        .bind(id)
                        .bind(who.0)
                        .bind(at)
                        .fetch_one(p)
                        .await
                        .unwrap();
                    event.recorded_at = Some(recorded);
                    let q = sqlx::query(project).bind(who.0).bind(at).bind(seq);
                    q.execute(p).await.unwrap();
                    let sealed = to_hex(&seal(&GENESIS, seq, &event));
                    let q = sqlx::query(link).bind(seq).bind(sealed).bind(at);
                    q.execute(p).await.unwrap();
                }
                (_, Some(x)) => {
                    let p = x.pool();
                    let (seq, recorded): (i64, time::OffsetDateTime) = sqlx::query_as(&sql)
                        .bind(id)
                        .bind(who.0)
                        .bind(at)
                        .fetch_one(p)
                        .await
                        .unwrap();
                    event.recorded_at = Some(recorded);
                    let q = sqlx::query(project).bind(who.0).bind(at).bind(seq);
                    q.execute(p).await.unwrap();
                    let sealed = to_hex(&seal(&GENESIS, seq, &event));
                    let q = sqlx::query(link).bind(seq).bind(sealed).bind(at);
                    q.execute(p).await.unwrap();
                }
                _ => unreachable!(),
            }
        }

        db.store.migrate().await.unwrap();
        let report = s.verify_chain().await.unwrap();
        assert_eq!((report.length, report.broken), (1, None), "{name}");

        let point = |key: &str| {
            CollectionPoint::new(
                NewCollectionPoint {
                    key: key.into(),
                    name_ja: "購入画面".into(),
                    name_en: "Checkout".into(),
                    kind: CollectionPointKind::Checkout,
                    location: "https://shop.example/checkout".into(),
                    wording: "お知らせメールを受け取る".into(),
                    notice_version: Some("1.0".into()),
                },
                app::services::now(),
                "admin:test",
            )
            .unwrap()
        };
        let console = db.console();
        console
            .points()
            .add_collection_point(&point("checkout"))
            .await
            .unwrap();
        console
            .points()
            .add_collection_point(&point("store-1"))
            .await
            .unwrap();
        let mut collected = change(who, Channel::Sms, ConsentState::Granted);
        let p = &mut collected.provenance;
        p.source = app::domain::Source::Api;
        p.collection_point = Some("checkout".into());
        p.import_batch = Some("batch-1".into());
        p.form_url = Some("https://shop.example/checkout".into());
        p.proof_ref = Some("crm:42".into());
        let expected = collected.provenance.clone();
        s.store.apply(vec![collected]).await.unwrap();
        let events = s.store.events_for_subject(who, 10).await.unwrap();
        let newest = &events[0];
        assert_eq!(
            (
                &newest.provenance.collection_point,
                &newest.provenance.import_batch,
                &newest.provenance.form_url,
                &newest.provenance.proof_ref,
            ),
            (
                &expected.collection_point,
                &expected.import_batch,
                &expected.form_url,
                &expected.proof_ref,
            ),
            "{name}: the new fields read back"
        );
        assert_eq!(events[1].provenance.collection_point, None, "{name}");
        assert_eq!(s.seal_pending().await.unwrap(), 1);
        let report = s.verify_chain().await.unwrap();
        assert_eq!(
            (report.length, report.broken, report.findings),
            (2, None, vec![]),
            "{name}: old and new events verify"
        );

        bypass_triggers(&db).await;
        let second = seq_at(&db, 2).await;
        db.raw(&format!(
            "UPDATE consent_events SET collection_point = 'store-1' WHERE seq = {second}"
        ))
        .await
        .unwrap();
        let report = s.verify_chain().await.unwrap();
        assert_eq!(
            report.broken,
            Some(Break::Altered {
                position: 2,
                seq: second
            }),
            "{name}: the changed collection point is found"
        );
        db.raw(&format!(
            "UPDATE consent_events SET collection_point = 'checkout', proof_ref = NULL WHERE seq = {second}"
        ))
        .await
        .unwrap();
        let report = s.verify_chain().await.unwrap();
        assert_eq!(
            report.broken,
            Some(Break::Altered {
                position: 2,
                seq: second
            }),
            "{name}: a removed proof reference is found"
        );
        db.cleanup().await;
    }
}
