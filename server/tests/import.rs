//! Bulk import (issue 31): `doui import` (driven as a function) and `POST /api/v1/imports`, on
//! SQLite and PostgreSQL.

mod common;

use std::path::{Path, PathBuf};

use app::{
    domain::{Channel, ConsentState, Lang, Source, import::Mapping},
    store::ImportState,
};
use common::server::TestServer;
use reqwest::{StatusCode, header};
use serde_json::Value;
use server::{
    cli::import::ImportArgs,
    import::{Format, ImportOptions, Progress},
};

/// A file another tool exported: its own column names, its own spellings of yes and no.
const CRM_EXPORT: &str = "\
CustomerNo,Mail,Language,NL_Optin,SMS_Optin,SignupDate
C-1,hanako@example.jp,ja,yes,,2024-04-01
C-2,taro@example.jp,EN,opt-out,1,2024-05-02T10:00:00+09:00
C-3,,ja,0,no,
";

/// Both servers, each with the collection point `checkout` registered.
async fn servers() -> Vec<TestServer> {
    let all = common::server::servers().await;
    for s in &all {
        register_checkout(s).await;
    }
    all
}

async fn register_checkout(s: &TestServer) {
    s.services
        .add_collection_point(
            app::domain::NewCollectionPoint {
                key: "checkout".into(),
                name_ja: "購入画面".into(),
                name_en: "Checkout".into(),
                kind: app::domain::CollectionPointKind::Checkout,
                location: "https://shop.example/checkout".into(),
                wording: "お知らせをメールで受け取る".into(),
                notice_version: Some("2024-04".into()),
            },
            "cli",
        )
        .await
        .unwrap();
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn args(file: &Path) -> ImportArgs {
    ImportArgs {
        file: file.to_owned(),
        format: None,
        maps: vec![
            "external_id=CustomerNo".into(),
            "email=Mail".into(),
            "lang=Language".into(),
        ],
        consents: vec![
            "newsletter:email=NL_Optin".into(),
            "newsletter:sms=SMS_Optin".into(),
        ],
        time_column: Some("SignupDate".into()),
        collection_point: Some("checkout".into()),
        notice_version: Some("2024-04".into()),
        dry_run: false,
        strict: false,
        errors: None,
    }
}

fn config(s: &TestServer) -> server::config::Config {
    server::config::Config::ephemeral(&s.db.url, s.data_dir.clone())
}

async fn import(s: &TestServer, args: ImportArgs) -> server::import::ImportSummary {
    server::cli::import::run(&s.services, &config(s), args, Progress::Quiet)
        .await
        .unwrap()
}

async fn events_of(s: &TestServer, external_id: &str) -> Vec<app::domain::ConsentEvent> {
    let subject = s
        .services
        .store
        .find_subject(external_id)
        .await
        .unwrap()
        .unwrap();
    s.services
        .store
        .events_for_subject(subject.id, 100)
        .await
        .unwrap()
}

async fn all_events(s: &TestServer) -> usize {
    s.services.store.all_events().await.unwrap().len()
}

async fn chain_verifies(s: &TestServer) {
    let db = s.db.name();
    // The server's own sealer may hold the sealing turn: wait until every event is sealed.
    let events = all_events(s).await as i64;
    for _ in 0..100 {
        s.services.seal_pending().await.unwrap();
        if s.db.seals().chain_extent().await.unwrap().0 == events {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let report = s.services.verify_chain().await.unwrap();
    assert!(report.broken.is_none(), "{db}: {report:?}");
    assert!(report.findings.is_empty(), "{db}: {report:?}");
    assert_eq!(
        report.length as usize,
        all_events(s).await,
        "{db}: every event sealed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_from_another_tool_imports_by_its_mapping_and_the_chain_verifies() {
    for s in servers().await {
        let db = s.db.name();
        // C-1 exists already (under another address): updated, not created again.
        s.services
            .create_subject(Some("C-1"), Some("old@example.jp"), None, Lang::En)
            .await
            .unwrap();
        let file = write(&s.data_dir.join("in"), "crm.csv", CRM_EXPORT);
        let summary = import(&s, args(&file)).await;
        assert_eq!((summary.rows_read, summary.rows_refused), (3, 0), "{db}");
        assert!(
            !s.data_dir.join("in/crm.csv.errors.csv").exists(),
            "{db}: no empty report left"
        );
        // C-1 yes; C-2 opt-out and 1; C-3 0 and no.
        assert_eq!(summary.events_written, 5, "{db}");

        let c1 = s.services.store.find_subject("C-1").await.unwrap().unwrap();
        assert_eq!(c1.email.unwrap().as_str(), "hanako@example.jp", "{db}");
        assert_eq!(c1.lang, Lang::Ja, "{db}");
        let c2 = s.services.store.find_subject("C-2").await.unwrap().unwrap();
        assert_eq!(c2.lang, Lang::En, "{db}");
        let c2_consents = s.services.store.consents(c2.id).await.unwrap();
        let state = |ch: Channel| {
            c2_consents
                .iter()
                .find(|c| c.channel == ch)
                .map(|c| c.state)
        };
        assert_eq!(state(Channel::Email), Some(ConsentState::Withdrawn), "{db}");
        assert_eq!(state(Channel::Sms), Some(ConsentState::Granted), "{db}");

        // Source import, the original time kept, the batch and line named on each event.
        let job = summary.job.clone().unwrap();
        assert_eq!(job.state, ImportState::Done, "{db}");
        assert_eq!(
            (job.rows_read, job.events_written, job.rows_refused),
            (3, 5, 0),
            "{db}"
        );
        assert_eq!(job.file_name, "crm.csv", "{db}");
        assert_eq!(job.created_by, "cli", "{db}");
        assert_eq!(
            job.file_sha256,
            server::import::file_sha256(&file).unwrap(),
            "{db}"
        );
        let events = events_of(&s, "C-1").await;
        assert_eq!(events.len(), 1, "{db}");
        let p = &events[0].provenance;
        assert_eq!(p.source, Source::Import, "{db}");
        assert_eq!(
            p.occurred_at,
            time::macros::datetime!(2024-04-01 0:00 UTC),
            "{db}"
        );
        assert_eq!(p.notice_version.as_deref(), Some("2024-04"), "{db}");
        assert_eq!(p.collection_point.as_deref(), Some("checkout"), "{db}");
        assert_eq!(
            p.import_batch.as_deref(),
            Some(job.id.to_string().as_str()),
            "{db}"
        );
        // C-1's address and language changed: each field recorded with who and when.
        let changes =
            s.db.console()
                .subject_records()
                .subject_changes(c1.id)
                .await
                .unwrap();
        let fields: Vec<(&str, &str)> = changes
            .iter()
            .map(|c| (c.field.as_str(), c.changed_by.as_str()))
            .collect();
        assert_eq!(fields, [("email", "cli"), ("lang", "cli")], "{db}");
        assert_eq!(
            p.idempotency_key.as_deref(),
            Some(format!("import:{}:2:newsletter:email", job.id.simple()).as_str()),
            "{db}"
        );
        assert!(events[0].recorded_at.is_some(), "{db}");
        let events = events_of(&s, "C-2").await;
        assert!(
            events
                .iter()
                .all(|e| e.provenance.occurred_at == time::macros::datetime!(2024-05-02 1:00 UTC)),
            "{db}"
        );

        // The console's list shows it; `doui import` sealed what it wrote.
        let listed = s.db.console().imports(10).await.unwrap();
        assert_eq!(listed.len(), 1, "{db}");
        assert_eq!(listed[0].id, job.id, "{db}");
        chain_verifies(&s).await;
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_rows_are_reported_by_line_column_and_code_and_the_rest_is_imported() {
    for s in servers().await {
        let db = s.db.name();
        let taken = s
            .services
            .create_subject(Some("OTHER"), Some("taken@example.jp"), None, Lang::Ja)
            .await
            .unwrap();
        let text = "\
CustomerNo,Mail,Language,NL_Optin,SMS_Optin,SignupDate
C-1,hanako@example.jp,ja,yes,,2024-04-01
C-2,not-an-address,ja,yes,,2024-04-01
,nobody@example.jp,ja,yes,,2024-04-01
C-4,four@example.jp,fr,yes,,2024-04-01
C-5,five@example.jp,ja,perhaps,,2024-04-01
C-6,six@example.jp,ja,yes,,2999-01-01
C-7,taken@example.jp,ja,yes,,2024-04-01
C-8,eight@example.jp,ja,no,,2024-04-01
";
        let file = write(&s.data_dir.join("in"), "bad.csv", text);
        let summary = import(&s, args(&file)).await;
        assert_eq!((summary.rows_read, summary.rows_refused), (8, 6), "{db}");
        assert_eq!(summary.events_written, 2, "{db}");
        let report = std::fs::read_to_string(s.data_dir.join("in/bad.csv.errors.csv")).unwrap();
        let lines: Vec<&str> = report.lines().collect();
        assert_eq!(lines[0], "line,column,code,message", "{db}");
        let rows: Vec<Vec<&str>> = lines[1..]
            .iter()
            .map(|l| l.splitn(4, ',').take(3).collect())
            .collect();
        assert_eq!(
            rows,
            vec![
                vec!["3", "Mail", "malformed_email"],
                vec!["4", "CustomerNo", "external_id_missing"],
                vec!["5", "Language", "unknown_lang"],
                vec!["6", "NL_Optin", "unknown_consent_value"],
                vec!["7", "SignupDate", "occurred_in_future"],
                vec!["8", "Mail", "email_taken"],
            ],
            "{db}"
        );
        assert!(
            lines[1].ends_with("The email address is malformed."),
            "{db}: {}",
            lines[1]
        );
        // The good rows are in; the refused ones left nothing.
        assert_eq!(events_of(&s, "C-1").await.len(), 1, "{db}");
        assert_eq!(events_of(&s, "C-8").await.len(), 1, "{db}");
        for refused in ["C-2", "C-4", "C-5", "C-6", "C-7"] {
            assert!(
                s.services
                    .store
                    .find_subject(refused)
                    .await
                    .unwrap()
                    .is_none(),
                "{db}: {refused}"
            );
        }
        assert!(
            s.services
                .store
                .consents(taken.id)
                .await
                .unwrap()
                .is_empty(),
            "{db}"
        );
        // The job keeps the report.
        let job = summary.job.unwrap();
        assert_eq!(job.rows_refused, 6, "{db}");
        assert_eq!(job.error_report.lines().count(), 6, "{db}");
        assert!(
            job.error_report.starts_with("3,Mail,malformed_email,"),
            "{db}"
        );
        chain_verifies(&s).await;
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_stops_at_a_bad_row_before_writing_anything() {
    for s in servers().await {
        let db = s.db.name();
        let text = "\
CustomerNo,Mail,Language,NL_Optin,SMS_Optin,SignupDate
C-1,hanako@example.jp,ja,yes,,2024-04-01
C-2,not-an-address,ja,yes,,2024-04-01
C-3,three@example.jp,ja,yes,,2024-04-01
";
        let file = write(&s.data_dir.join("in"), "strict.csv", text);
        let mut a = args(&file);
        a.strict = true;
        let summary = import(&s, a).await;
        assert!(summary.stopped, "{db}");
        assert_eq!(summary.rows_refused, 1, "{db}");
        assert_eq!(all_events(&s).await, 0, "{db}");
        assert_eq!(s.services.store.count_subjects().await.unwrap(), 0, "{db}");
        assert!(
            s.db.console().imports(10).await.unwrap().is_empty(),
            "{db}: no job either"
        );
        let report = std::fs::read_to_string(s.data_dir.join("in/strict.csv.errors.csv")).unwrap();
        assert!(
            report.contains("\n3,Mail,malformed_email,"),
            "{db}: {report}"
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_checks_everything_and_writes_nothing() {
    for s in servers().await {
        let db = s.db.name();
        s.services
            .create_subject(Some("OTHER"), Some("taro@example.jp"), None, Lang::Ja)
            .await
            .unwrap();
        let file = write(&s.data_dir.join("in"), "crm.csv", CRM_EXPORT);
        let mut a = args(&file);
        a.dry_run = true;
        let summary = import(&s, a).await;
        // Checked against the database too: C-2's address belongs to another subject.
        assert_eq!((summary.rows_read, summary.rows_refused), (3, 1), "{db}");
        assert_eq!(summary.events_written, 3, "{db}: what it would write");
        assert!(summary.job.is_none(), "{db}");
        assert_eq!(all_events(&s).await, 0, "{db}");
        assert_eq!(s.services.store.count_subjects().await.unwrap(), 1, "{db}");
        assert!(s.db.console().imports(10).await.unwrap().is_empty(), "{db}");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_file_imported_twice_writes_nothing_the_second_time() {
    for s in servers().await {
        let db = s.db.name();
        let file = write(&s.data_dir.join("in"), "crm.csv", CRM_EXPORT);
        let first = import(&s, args(&file)).await;
        assert_eq!(first.events_written, 5, "{db}");
        // Meanwhile C-1 withdrew: the old file must not grant it again.
        let c1 = s.services.store.find_subject("C-1").await.unwrap().unwrap();
        withdraw_newsletter_now(&s, c1.id).await;
        let before = all_events(&s).await;
        let second = import(&s, args(&file)).await;
        assert!(second.already_done, "{db}");
        assert_eq!((second.rows_read, second.events_written), (0, 0), "{db}");
        assert_eq!(all_events(&s).await, before, "{db}");
        assert_eq!(second.job.unwrap().id, first.job.unwrap().id, "{db}");
        assert_eq!(s.db.console().imports(10).await.unwrap().len(), 1, "{db}");
        s.stop().await;
    }
}

/// A file of `n` rows, each granting two consents.
fn big_file(n: usize) -> String {
    let mut text = String::from("CustomerNo,Mail,Language,NL_Optin,SMS_Optin,SignupDate\n");
    for i in 0..n {
        text.push_str(&format!("K-{i},k{i}@example.jp,ja,yes,yes,2024-04-01\n"));
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_stopped_halfway_resumes_after_its_last_line_without_duplicates() {
    for s in servers().await {
        let db = s.db.name();
        let file = write(&s.data_dir.join("in"), "big.csv", &big_file(25));
        let a = args(&file);
        let mapping = Mapping::parse(
            &a.maps,
            &a.consents,
            a.time_column.as_deref(),
            a.collection_point.as_deref(),
            a.notice_version.as_deref(),
        )
        .unwrap();
        // Batches of 4 rows, stopped (as if killed) after 3 batches: 12 rows committed.
        let mut options =
            ImportOptions::new(mapping, Format::Csv, "big.csv", app::domain::Actor::System);
        options.batch_rows = 4;
        options.stop_after_batches = Some(3);
        let mut sink = std::io::sink();
        let stopped = server::import::run(&s.services, &file, options, &mut sink)
            .await
            .unwrap();
        assert!(stopped.stopped, "{db}");
        let job = stopped.job.unwrap();
        assert_eq!(job.state, ImportState::Running, "{db}");
        assert_eq!(
            (job.rows_read, job.events_written, job.last_line),
            (12, 24, 13),
            "{db}"
        );
        assert_eq!(all_events(&s).await, 24, "{db}");

        // Run again: it resumes after line 13 and completes.
        let resumed = import(&s, args(&file)).await;
        assert_eq!(resumed.resumed_after, 13, "{db}");
        assert_eq!(resumed.rows_read, 13, "{db}");
        let job = resumed.job.unwrap();
        assert_eq!(job.state, ImportState::Done, "{db}");
        assert_eq!((job.rows_read, job.events_written), (25, 50), "{db}");
        let events = s.services.store.all_events().await.unwrap();
        assert_eq!(events.len(), 50, "{db}");
        let mut consents: Vec<_> = events
            .iter()
            .map(|e| (e.subject, e.purpose.clone(), e.channel))
            .collect();
        consents.sort();
        consents.dedup();
        assert_eq!(
            consents.len(),
            50,
            "{db}: one event per consent, none twice"
        );
        assert_eq!(s.services.store.count_subjects().await.unwrap(), 25, "{db}");
        chain_verifies(&s).await;
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_named_in_two_batches_in_a_row_is_written_once_and_in_order() {
    // Batches of two rows: the next batch is planned while the one before it is written, except
    // when they name the same person (C-1 here: a new subject, then a change of its choice).
    let file_text = "\
CustomerNo,Mail,Language,NL_Optin,SMS_Optin,SignupDate
C-0,c0@example.jp,ja,yes,,2024-04-01
C-1,c1@example.jp,ja,yes,,2024-04-01
C-1,c1@example.jp,ja,no,,2024-04-03
C-2,c2@example.jp,ja,yes,,2024-04-01
C-3,c3@example.jp,ja,yes,,2024-04-01
C-4,c4@example.jp,ja,yes,,2024-04-01
";
    for s in servers().await {
        let db = s.db.name();
        let file = write(&s.data_dir.join("in"), "twice.csv", file_text);
        let a = args(&file);
        let mapping = mapping_of(&a);
        let mut options = ImportOptions::new(
            mapping,
            Format::Csv,
            "twice.csv",
            app::domain::Actor::System,
        );
        options.batch_rows = 2;
        let mut sink = std::io::sink();
        let summary = server::import::run(&s.services, &file, options, &mut sink)
            .await
            .unwrap();
        assert_eq!((summary.rows_read, summary.rows_refused), (6, 0), "{db}");
        assert_eq!(summary.events_written, 6, "{db}");
        let job = summary.job.unwrap();
        assert_eq!((job.state, job.last_line), (ImportState::Done, 7), "{db}");
        let events = events_of(&s, "C-1").await;
        // Newest first.
        let states: Vec<_> = events.iter().map(|e| (e.from, e.to)).collect();
        assert_eq!(
            states,
            vec![
                (Some(ConsentState::Granted), ConsentState::Withdrawn),
                (None, ConsentState::Granted)
            ],
            "{db}: the second batch saw what the first wrote"
        );
        assert_eq!(s.services.store.count_subjects().await.unwrap(), 5, "{db}");
        chain_verifies(&s).await;
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_commits_only_where_the_batch_before_it_left_the_import() {
    for s in servers().await {
        let db = s.db.name();
        let now = app::services::now();
        let job = s
            .services
            .console
            .start_import(&app::store::ImportJob::starting(
                "out-of-order".into(),
                "cli".into(),
                "f.csv".into(),
                "0".repeat(64),
                "m".into(),
                now,
            ))
            .await
            .unwrap();
        let batch = |after_line: i64, through_line: i64, who: &str| {
            std::sync::Arc::new(app::store::ImportWrite {
                new_subjects: vec![(
                    app::domain::SubjectId(uuid::Uuid::now_v7()),
                    app::domain::NewSubject {
                        external_id: app::domain::ExternalId::parse(who).unwrap(),
                        email: None,
                        phone: None,
                        lang: Lang::Ja,
                        jurisdiction: app::domain::Jurisdiction::Default,
                    },
                )],
                changed_by: "cli".into(),
                after_line,
                through_line,
                rows_read: 1,
                ..Default::default()
            })
        };
        // The batch after line 2, while the job's progress is at line 0 (the batch of line 2
        // failed, or another run is ahead): refused, nothing of it written.
        let refused = s
            .services
            .console
            .write_import(Some(job.id), batch(2, 3, "Late-1"), true)
            .await;
        assert!(
            matches!(refused, Err(app::store::StoreError::ImportProgressMoved)),
            "{db}: {refused:?}"
        );
        assert!(
            s.services
                .store
                .find_subject("Late-1")
                .await
                .unwrap()
                .is_none(),
            "{db}"
        );
        // In order, each commits.
        for (after, through, who) in [(0, 2, "First-1"), (2, 3, "Late-1")] {
            s.services
                .console
                .write_import(Some(job.id), batch(after, through, who), true)
                .await
                .unwrap();
        }
        let job = s
            .services
            .console
            .import_job(job.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((job.rows_read, job.last_line), (2, 3), "{db}");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opt_in_grant_without_its_evidence_is_refused_row_by_row() {
    for s in servers().await {
        let db = s.db.name();
        let file = write(&s.data_dir.join("in"), "crm.csv", CRM_EXPORT);
        let mut a = args(&file);
        a.collection_point = None;
        let summary = import(&s, a).await;
        // C-1 and C-2 grant newsletter (opt-in): refused; C-3 only withdraws: imported.
        assert_eq!((summary.rows_read, summary.rows_refused), (3, 2), "{db}");
        assert_eq!(summary.events_written, 2, "{db}");
        let report = std::fs::read_to_string(s.data_dir.join("in/crm.csv.errors.csv")).unwrap();
        assert!(
            report.contains("\n2,NL_Optin,evidence_required,"),
            "{db}: {report}"
        );
        assert!(
            report.contains("\n3,SMS_Optin,evidence_required,"),
            "{db}: {report}"
        );
        assert!(
            s.services
                .store
                .find_subject("C-1")
                .await
                .unwrap()
                .is_none(),
            "{db}"
        );
        assert_eq!(events_of(&s, "C-3").await.len(), 2, "{db}");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_lines_and_standard_input_spellings_import_too() {
    for s in servers().await {
        let db = s.db.name();
        let text = "{\"CustomerNo\":\"J-1\",\"Mail\":\"j1@example.jp\",\"NL_Optin\":true,\"SignupDate\":\"2024-04-01\"}\n\
                    \n\
                    {\"CustomerNo\":\"J-2\",\"NL_Optin\":\"no\",\"SMS_Optin\":null}\n\
                    not json\n";
        let file = write(&s.data_dir.join("in"), "crm.jsonl", text);
        let summary = import(&s, args(&file)).await;
        assert_eq!((summary.rows_read, summary.rows_refused), (3, 1), "{db}");
        assert_eq!(summary.events_written, 2, "{db}");
        let report = std::fs::read_to_string(s.data_dir.join("in/crm.jsonl.errors.csv")).unwrap();
        assert!(report.contains("\n4,,malformed_row,"), "{db}: {report}");
        assert_eq!(
            events_of(&s, "J-1").await[0].provenance.occurred_at,
            time::macros::datetime!(2024-04-01 0:00 UTC),
            "{db}"
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapping_that_does_not_fit_the_file_imports_nothing() {
    for s in servers().await {
        let db = s.db.name();
        let file = write(&s.data_dir.join("in"), "crm.csv", CRM_EXPORT);
        let mut a = args(&file);
        a.consents.push("newsletter:email=Missing".into());
        let e = server::cli::import::run(&s.services, &config(&s), a, Progress::Quiet).await;
        assert!(
            format!("{:#}", e.unwrap_err()).contains("mapped twice"),
            "{db}"
        );
        let mut a = args(&file);
        a.consents = vec!["newsletter:email=Missing".into()];
        let e = server::cli::import::run(&s.services, &config(&s), a, Progress::Quiet)
            .await
            .unwrap_err();
        assert!(format!("{e:#}").contains("Missing"), "{db}: {e:#}");
        let mut a = args(&file);
        a.consents = vec!["no_such_purpose:email=NL_Optin".into()];
        let e = server::cli::import::run(&s.services, &config(&s), a, Progress::Quiet)
            .await
            .unwrap_err();
        assert!(format!("{e:#}").contains("no_such_purpose"), "{db}: {e:#}");
        assert!(s.db.console().imports(10).await.unwrap().is_empty(), "{db}");
        assert_eq!(all_events(&s).await, 0, "{db}");
        s.stop().await;
    }
}

async fn key(s: &TestServer, scopes: &[&str]) -> String {
    let scopes: Vec<String> = scopes.iter().map(|x| x.to_string()).collect();
    s.services.create_api_key("crm", &scopes).await.unwrap().1
}

const MAPPING_QUERY: &str = "map=external_id%3DCustomerNo&map=email%3DMail&map=lang%3DLanguage\
    &consent=newsletter%3Aemail%3DNL_Optin&consent=newsletter%3Asms%3DSMS_Optin\
    &time_column=SignupDate&collection_point=checkout&notice_version=2024-04&file_name=crm.csv";

async fn post_import(
    s: &TestServer,
    key: &str,
    query: &str,
    content_type: &str,
    body: &str,
) -> reqwest::Response {
    s.client
        .post(format!("{}/api/v1/imports?{query}", s.base))
        .bearer_auth(key)
        .header(header::CONTENT_TYPE, content_type)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

async fn status(s: &TestServer, key: &str, id: &str) -> reqwest::Response {
    s.client
        .get(format!("{}/api/v1/imports/{id}", s.base))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
}

/// Polls a job until it is no longer running.
async fn finished(s: &TestServer, key: &str, id: &str) -> Value {
    for _ in 0..200 {
        let job: Value = status(s, key, id).await.json().await.unwrap();
        if job["state"] != "running" {
            return job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the import {id} did not finish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_imports_a_posted_file_in_the_background_and_reports_on_it() {
    for s in servers().await {
        let db = s.db.name();
        let k = key(&s, &["consents:write"]).await;
        let body = format!("{CRM_EXPORT}C-4,bad-address,ja,yes,,2024-04-01\n");
        let res = post_import(&s, &k, MAPPING_QUERY, "text/csv; charset=utf-8", &body).await;
        assert_eq!(res.status(), StatusCode::ACCEPTED, "{db}");
        let accepted: Value = res.json().await.unwrap();
        let id = accepted["id"].as_str().unwrap().to_owned();
        let job = finished(&s, &k, &id).await;
        assert_eq!(job["state"], "done", "{db}: {job}");
        assert_eq!(
            (
                job["rows_read"].as_i64(),
                job["events_written"].as_i64(),
                job["rows_refused"].as_i64()
            ),
            (Some(4), Some(5), Some(1)),
            "{db}"
        );
        assert_eq!(job["file_name"], "crm.csv", "{db}");
        assert!(
            job["created_by"].as_str().unwrap().starts_with("api_key:"),
            "{db}"
        );
        let report = job["error_report"].as_str().unwrap();
        assert!(
            report.starts_with("line,column,code,message\n5,Mail,malformed_email,"),
            "{db}: {report}"
        );
        let events = events_of(&s, "C-1").await;
        assert_eq!(
            events[0].provenance.actor.to_string(),
            job["created_by"].as_str().unwrap(),
            "{db}"
        );
        assert_eq!(events[0].provenance.source, Source::Import, "{db}");

        // The same file again: the same job, nothing new.
        let before = all_events(&s).await;
        let again: Value = post_import(&s, &k, MAPPING_QUERY, "text/csv", &body)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(again["id"].as_str(), Some(id.as_str()), "{db}");
        assert_eq!(again["state"], "done", "{db}");
        assert_eq!(all_events(&s).await, before, "{db}");
        // The kept copy of the body is gone once the import is done (just after its state).
        let mut kept = Vec::new();
        for _ in 0..100 {
            kept = std::fs::read_dir(s.data_dir.join("imports"))
                .unwrap()
                .collect::<Vec<_>>();
            if kept.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(kept.is_empty(), "{db}: {kept:?}");

        // Refusals: scope, format, mapping, columns, unknown job.
        let other = key(&s, &["links"]).await;
        assert_eq!(
            post_import(&s, &other, MAPPING_QUERY, "text/csv", &body)
                .await
                .status(),
            StatusCode::FORBIDDEN,
            "{db}"
        );
        assert_eq!(
            status(&s, &other, &id).await.status(),
            StatusCode::FORBIDDEN,
            "{db}"
        );
        let res = post_import(&s, &k, MAPPING_QUERY, "application/pdf", &body).await;
        assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{db}");
        let res = post_import(&s, &k, "map=email%3DMail", "text/csv", &body).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{db}");
        let error: Value = res.json().await.unwrap();
        assert_eq!(error["code"], "external_id_unmapped", "{db}");
        let res = post_import(&s, &k, "map=external_id%3DNumber", "text/csv", &body).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{db}");
        assert_eq!(
            res.json::<Value>().await.unwrap()["code"],
            "missing_column",
            "{db}"
        );
        let res = s
            .client
            .post(format!("{}/api/v1/imports?{MAPPING_QUERY}", s.base))
            .bearer_auth(&k)
            .header(header::CONTENT_TYPE, "text/csv")
            .header(header::ACCEPT_LANGUAGE, "ja")
            .body("x")
            .send()
            .await
            .unwrap();
        let error: Value = res.json().await.unwrap();
        assert_eq!(error["code"], "missing_column", "{db}");
        assert_eq!(
            error["message"], "対応付けた列がファイルにありません。",
            "{db}"
        );
        let res = status(&s, &k, &uuid::Uuid::now_v7().to_string()).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{db}");
        assert_eq!(
            res.json::<Value>().await.unwrap()["code"],
            "unknown_import",
            "{db}"
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_the_import_paths() {
    let s = TestServer::start(common::sqlite().await).await;
    register_checkout(&s).await;
    let doc: Value = s
        .client
        .get(format!("{}/api/v1/openapi.json", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/api/v1/imports"]["post"].is_object());
    assert!(doc["paths"]["/api/v1/imports/{id}"]["get"].is_object());
    let k = key(&s, &["consents:write"]).await;
    let answer: Value = post_import(&s, &k, MAPPING_QUERY, "text/csv", CRM_EXPORT)
        .await
        .json()
        .await
        .unwrap();
    let mut fields: Vec<String> = answer.as_object().unwrap().keys().cloned().collect();
    fields.sort();
    let mut documented: Vec<String> = doc["components"]["schemas"]["ImportStatus"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    documented.sort();
    assert_eq!(fields, documented);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_older_than_the_consents_latest_change_does_not_rewrite_history() {
    for s in servers().await {
        let db = s.db.name();
        let c1 = s
            .services
            .create_subject(Some("C-1"), Some("hanako@example.jp"), None, Lang::Ja)
            .await
            .unwrap();
        // The person withdrew today, through the preference center.
        withdraw_newsletter_now(&s, c1.id).await;
        // A file from before says yes (2024-04-01): refused; C-2 is new: imported.
        let file = write(&s.data_dir.join("in"), "crm.csv", CRM_EXPORT);
        let summary = import(&s, args(&file)).await;
        assert_eq!(summary.rows_refused, 1, "{db}");
        let report = std::fs::read_to_string(s.data_dir.join("in/crm.csv.errors.csv")).unwrap();
        assert!(
            report.contains("\n2,NL_Optin,older_than_latest_change,"),
            "{db}: {report}"
        );
        let consents = s.services.store.consents(c1.id).await.unwrap();
        assert_eq!(consents[0].state, ConsentState::Withdrawn, "{db}");
        assert_eq!(events_of(&s, "C-2").await.len(), 2, "{db}");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_or_retired_collection_point_imports_nothing() {
    for s in servers().await {
        let db = s.db.name();
        let file = write(&s.data_dir.join("in"), "crm.csv", CRM_EXPORT);
        let mut a = args(&file);
        a.collection_point = Some("kiosk".into());
        let e = server::cli::import::run(&s.services, &config(&s), a, Progress::Quiet)
            .await
            .unwrap_err();
        assert!(format!("{e:#}").contains("kiosk"), "{db}: {e:#}");
        s.services
            .retire_collection_point("checkout", "cli")
            .await
            .unwrap();
        let e = server::cli::import::run(&s.services, &config(&s), args(&file), Progress::Quiet)
            .await
            .unwrap_err();
        assert!(format!("{e:#}").contains("retired"), "{db}: {e:#}");
        assert!(s.db.console().imports(10).await.unwrap().is_empty(), "{db}");
        assert_eq!(all_events(&s).await, 0, "{db}");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_lists_imports_with_their_error_reports() {
    for s in servers().await {
        let db = s.db.name();
        let text = format!("{CRM_EXPORT}C-4,bad-address,ja,yes,,2024-04-01\n");
        let file = write(&s.data_dir.join("in"), "crm.csv", &text);
        let summary = import(&s, args(&file)).await;
        let job = summary.job.unwrap();

        // No session: no list, no report.
        let anonymous = s.browser().await;
        let res = anonymous
            .get(&format!("/admin/imports/{}/errors.csv", job.id))
            .await;
        assert!(!res.status().is_success(), "{db}: {}", res.status());

        // A viewer reads the list (English and Japanese) and downloads the report.
        let viewer = s.signed_in(app::auth::Role::Viewer).await;
        let page = viewer
            .get("/admin/imports?lang=en")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("href=\"/admin/imports?lang=en\""),
            "{db}: linked from the nav"
        );
        assert!(page.contains(&job.file_sha256), "{db}");
        assert!(page.contains("crm.csv"), "{db}");
        assert!(
            page.contains(&format!("/admin/imports/{}/errors.csv", job.id)),
            "{db}"
        );
        let page = viewer
            .get("/admin/imports?lang=ja")
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("取り込み"), "{db}");
        let res = viewer
            .get(&format!("/admin/imports/{}/errors.csv", job.id))
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{db}");
        assert!(
            res.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/csv"),
            "{db}"
        );
        let report = res.text().await.unwrap();
        assert!(
            report.starts_with("line,column,code,message\n5,Mail,malformed_email,"),
            "{db}: {report}"
        );
        let res = viewer
            .get(&format!(
                "/admin/imports/{}/errors.csv",
                uuid::Uuid::now_v7()
            ))
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{db}");
        s.stop().await;
    }
}

fn mapping_of(a: &ImportArgs) -> Mapping {
    Mapping::parse(
        &a.maps,
        &a.consents,
        a.time_column.as_deref(),
        a.collection_point.as_deref(),
        a.notice_version.as_deref(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_import_left_running_is_resumed_at_start_or_marked_failed_without_its_file() {
    for s in servers().await {
        let db = s.db.name();
        // An API import stopped (as by a crash) after its first row, its body kept by batch.
        let mapping = mapping_of(&args(Path::new("x.csv")));
        let dir = server::import::spool_dir(&s.data_dir);
        let staged = write(&dir, "staged.csv", CRM_EXPORT);
        let batch =
            server::import::batch_of(&server::import::file_sha256(&staged).unwrap(), &mapping);
        let kept = dir.join(format!("{batch}.csv"));
        std::fs::rename(&staged, &kept).unwrap();
        let actor = app::domain::Actor::ApiKey("k1".into());
        let mut options = ImportOptions::new(mapping.clone(), Format::Csv, "crm.csv", actor);
        options.batch_rows = 1;
        options.stop_after_batches = Some(1);
        let stopped = server::import::run(&s.services, &kept, options, &mut std::io::sink())
            .await
            .unwrap();
        let job = stopped.job.unwrap();
        assert_eq!(
            (job.state, job.last_line),
            (ImportState::Running, 2),
            "{db}"
        );
        assert_eq!(job.created_by, "api_key:k1", "{db}");
        // Another, whose kept file is gone.
        let now = app::services::now();
        let lost =
            s.db.console()
                .start_import(&app::store::ImportJob::starting(
                    "0".repeat(64),
                    "api_key:k1".into(),
                    "lost.csv".into(),
                    "0".repeat(64),
                    mapping.fingerprint(),
                    now,
                ))
                .await
                .unwrap();

        server::api_v1::imports::resume_on_start(&s.services, &s.data_dir).await;
        let mut resumed = job.clone();
        for _ in 0..200 {
            resumed = s.db.console().import_job(job.id).await.unwrap().unwrap();
            // Done, and its kept file removed (just after).
            if resumed.state != ImportState::Running && !kept.exists() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(resumed.state, ImportState::Done, "{db}: {resumed:?}");
        assert_eq!((resumed.rows_read, resumed.events_written), (3, 5), "{db}");
        assert!(!kept.exists(), "{db}: the kept file is removed once done");
        let lost = s.db.console().import_job(lost.id).await.unwrap().unwrap();
        assert_eq!(lost.state, ImportState::Failed, "{db}");
        assert!(lost.failure.unwrap().contains("post it again"), "{db}");
        s.stop().await;
    }
}

/// The person withdraws the newsletter by email today, through the preference center.
async fn withdraw_newsletter_now(s: &TestServer, subject: app::domain::SubjectId) {
    let mut withdrawal = common::consents::change(
        subject,
        "newsletter",
        Channel::Email,
        ConsentState::Withdrawn,
        None,
    );
    withdrawal.provenance.notice_version = Some("2024-04".into());
    s.services.store.apply(vec![withdrawal]).await.unwrap();
}
