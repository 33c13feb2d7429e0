//! The send gate on SQLite and PostgreSQL (issue 31): the permissions check, the audience (JSON
//! pages and CSV), the links refused for those the gate does not let in, and the lapsed opt-ins
//! and all-purposes form of the suppression list. Every answer names the same reason.

mod common;

use std::collections::BTreeSet;

use futures_util::StreamExt;

use app::{
    domain::{
        Channel, ConsentState, JurisdictionModes, Lang, LegalBasis, Mode, Purpose, PurposeKey,
        PurposeKind,
    },
    services::{Eraser, NoticeInput},
    store::Objection,
};
use common::{
    consents::{change, change_ago},
    server::{TestServer, servers},
};
use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use time::Duration;

async fn key(s: &TestServer, scopes: &[&str]) -> String {
    let scopes: Vec<String> = scopes.iter().map(|x| x.to_string()).collect();
    s.services
        .create_api_key("gate test", &scopes)
        .await
        .unwrap()
        .1
}

/// A subject with this external id (and an email made from it).
async fn subject(s: &TestServer, external_id: &str) -> app::domain::SubjectId {
    s.services.seed_purposes().await.unwrap();
    s.services
        .create_subject(
            Some(external_id),
            Some(&format!(
                "{}@example.jp",
                external_id
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .collect::<String>()
            )),
            None,
            Lang::Ja,
        )
        .await
        .unwrap()
        .id
}

async fn set(
    s: &TestServer,
    who: app::domain::SubjectId,
    purpose: &str,
    channel: Channel,
    to: ConsentState,
    notice: &str,
    ago: Duration,
) {
    let mut c = change_ago(who, purpose, channel, to, ago);
    c.provenance.notice_version = Some(notice.into());
    s.services.store.apply(vec![c]).await.unwrap();
}

/// An opt-out marketing purpose on email (a soft opt-in, say).
async fn add_opt_out_purpose(s: &TestServer) {
    let p = Purpose {
        key: PurposeKey::parse("member_news").unwrap(),
        name_ja: "会員向けのお知らせ".into(),
        name_en: "Member news".into(),
        description_ja: "ご購入の商品に関するお知らせ".into(),
        description_en: "News about what you bought".into(),
        mode: Mode::OptOut,
        modes: JurisdictionModes::default(),
        channels: vec![Channel::Email],
        marketing: true,
        kind: PurposeKind::Advertising,
        legal: LegalBasis::default(),
    };
    s.services
        .console
        .purpose_settings()
        .save_purpose(&p, "test")
        .await
        .unwrap();
    s.services.store.purposes_changed();
}

/// The newsletter lasts 10 days (R59).
async fn set_validity(s: &TestServer, days: u32) {
    let mut newsletter = s
        .services
        .store
        .purposes()
        .await
        .unwrap()
        .iter()
        .find(|p| p.key.as_str() == "newsletter")
        .cloned()
        .unwrap();
    newsletter.legal.validity_days = Some(days);
    s.services
        .console
        .purpose_settings()
        .save_purpose(&newsletter, "test")
        .await
        .unwrap();
    s.services.store.purposes_changed();
}

async fn publish(s: &TestServer, version: &str, material: bool) {
    s.services
        .publish_notice(
            NoticeInput {
                version: version.into(),
                effective_at: None,
                material,
                purposes: Vec::new(),
                summary_ja: "広告の配信先を追加しました".into(),
                summary_en: "We added where ads go".into(),
                text_ja: format!("プライバシーポリシー {version}"),
                text_en: format!("Privacy notice {version}"),
            },
            "owner",
        )
        .await
        .unwrap();
}

/// Everyone the gate test needs, each in one state; returns a key with every scope the gate
/// uses and the external id the erased person's record was given.
/// - `ok`: granted under the notice in force; `never`: never chose; `gone`: withdrew;
/// - `stale`: granted under 1.0, before the material change 2;
/// - `old`: granted 20 days ago (the newsletter lasts 10);
/// - `objector`: granted, then objected to all marketing; `erased`: granted, then erased.
async fn population(s: &TestServer) -> (String, String) {
    let day = Duration::days(1);
    let zero = Duration::ZERO;
    let names = ["ok", "never", "gone", "stale", "old", "objector", "erased"];
    let mut ids = Vec::new();
    for n in names {
        ids.push(subject(s, n).await);
    }
    add_opt_out_purpose(s).await;
    set_validity(s, 10).await;
    publish(s, "1.0", false).await;
    let [ok, _never, gone, stale, old, objector, erased] = ids[..] else {
        unreachable!()
    };
    set(
        s,
        stale,
        "newsletter",
        Channel::Email,
        ConsentState::Granted,
        "1.0",
        day,
    )
    .await;
    publish(s, "2", true).await;
    for who in [ok, gone, objector, erased] {
        set(
            s,
            who,
            "newsletter",
            Channel::Email,
            ConsentState::Granted,
            "2",
            zero,
        )
        .await;
    }
    set(
        s,
        old,
        "newsletter",
        Channel::Email,
        ConsentState::Granted,
        "2",
        20 * day,
    )
    .await;
    set(
        s,
        gone,
        "newsletter",
        Channel::Email,
        ConsentState::Withdrawn,
        "2",
        zero,
    )
    .await;
    set(
        s,
        gone,
        "member_news",
        Channel::Email,
        ConsentState::Withdrawn,
        "2",
        zero,
    )
    .await;
    s.services
        .console
        .objections()
        .add_objection(&Objection {
            subject: objector,
            objecting: true,
            provenance: change(
                objector,
                "newsletter",
                Channel::Email,
                ConsentState::Withdrawn,
                None,
            )
            .provenance,
        })
        .await
        .unwrap();
    let erasure = s
        .services
        .erase_subject(
            "erased",
            "asked to be forgotten",
            Eraser::Cli,
            change(
                erased,
                "newsletter",
                Channel::Email,
                ConsentState::Withdrawn,
                None,
            )
            .provenance,
        )
        .await
        .unwrap();
    // Cursor readers (the suppression list) see the changes once sealed.
    common::seal_all(&s.services).await;
    let k = key(s, &["audience:read", "links", "suppressions"]).await;
    (k, erasure.placeholder)
}

async fn permissions(s: &TestServer, key: &str, checks: Value) -> reqwest::Response {
    s.client
        .post(format!("{}/api/v1/permissions", s.base))
        .bearer_auth(key)
        .json(&json!({ "checks": checks }))
        .send()
        .await
        .unwrap()
}

async fn audience(s: &TestServer, key: &str, query: &str) -> reqwest::Response {
    s.client
        .get(format!("{}/api/v1/audience?{query}", s.base))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
}

/// Every external id of the audience, read page by page (`limit` per page).
async fn audience_ids(s: &TestServer, key: &str, query: &str, limit: u32) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("{query}&limit={limit}&cursor={c}"),
            None => format!("{query}&limit={limit}"),
        };
        let res = audience(s, key, &q).await;
        assert_eq!(res.status(), StatusCode::OK, "{q}");
        let page: Value = res.json().await.unwrap();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= limit as usize);
        for i in items {
            assert!(
                ids.insert(i["external_id"].as_str().unwrap().to_owned()),
                "no one twice: {page}"
            );
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return ids,
        }
    }
}

/// The whole audience as `Services::audience_pages` reads it in ranges of `range`: each
/// subject's id and external id, in the order read.
async fn whole_audience(
    s: &TestServer,
    purpose: &Purpose,
    channel: Channel,
    after: Option<app::domain::SubjectId>,
    range: u32,
) -> Vec<(app::domain::SubjectId, String)> {
    let pages: Vec<_> = s
        .services
        .audience_pages(purpose, channel, after, range)
        .await
        .unwrap()
        .collect()
        .await;
    pages
        .into_iter()
        .flat_map(|p| p.unwrap().subjects)
        .map(|s| (s.id, s.external_id.as_str().to_owned()))
        .collect()
}

fn set_of(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permissions_answer_each_triple_in_order_with_the_reason() {
    for s in servers().await {
        let db = s.db.name();
        let (k, erased) = population(&s).await;
        let ask = |subject: &str, purpose: &str| json!({"subject": subject, "purpose": purpose, "channel": "email"});
        let checks = json!([
            ask("ok", "newsletter"),
            ask("never", "newsletter"),
            ask("gone", "newsletter"),
            ask("stale", "newsletter"),
            ask("old", "newsletter"),
            ask("objector", "newsletter"),
            ask(erased.as_str(), "newsletter"),
            // Erasure cleared the identifiers the sender knew.
            ask("erased", "newsletter"),
            ask("nobody", "newsletter"),
            // By email too.
            ask("ok@example.jp", "newsletter"),
            // The opt-out purpose: on until withdrawn or objected.
            ask("never", "member_news"),
            ask("stale", "member_news"),
            ask("gone", "member_news"),
            ask("objector", "member_news"),
            ask(erased.as_str(), "member_news"),
        ]);
        let res = permissions(&s, &k, checks.clone()).await;
        assert_eq!(res.status(), StatusCode::OK, "{db}");
        let body: Value = res.json().await.unwrap();
        let results = body["results"].as_array().unwrap();
        let got: Vec<(String, Option<String>)> = results
            .iter()
            .map(|r| {
                assert_eq!(
                    r["allowed"].as_bool().unwrap(),
                    r["reason"].is_null(),
                    "{r}"
                );
                (
                    r["subject"].as_str().unwrap().to_owned(),
                    r["reason"].as_str().map(str::to_owned),
                )
            })
            .collect();
        let want = [
            ("ok", None),
            ("never", Some("no_consent")),
            ("gone", Some("withdrawn")),
            ("stale", Some("awaiting_reconfirmation")),
            ("old", Some("expired")),
            ("objector", Some("objected")),
            (erased.as_str(), Some("erased")),
            ("erased", Some("unknown_subject")),
            ("nobody", Some("unknown_subject")),
            ("ok@example.jp", None),
            ("never", None),
            ("stale", None),
            ("gone", Some("withdrawn")),
            ("objector", Some("objected")),
            (erased.as_str(), Some("erased")),
        ];
        let want: Vec<(String, Option<String>)> = want
            .iter()
            .map(|(s, r)| (s.to_string(), r.map(str::to_owned)))
            .collect();
        assert_eq!(got, want, "{db}");

        // Bad input: a clear error, never a 500.
        let res = permissions(&s, &k, json!([ask("ok", "surveys")])).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{db}");
        let e: Value = res.json().await.unwrap();
        assert_eq!(e["code"], "unknown_purpose");
        let wrong = json!([{"subject": "ok", "purpose": "newsletter", "channel": "web"}]);
        let res = permissions(&s, &k, wrong).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{db}");
        let fax = json!([{"subject": "ok", "purpose": "newsletter", "channel": "fax"}]);
        assert_eq!(
            permissions(&s, &k, fax).await.status(),
            StatusCode::BAD_REQUEST
        );
        // A key without `audience:read` is refused.
        let links_only = key(&s, &["links"]).await;
        let res = permissions(&s, &links_only, json!([ask("ok", "newsletter")])).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{db}");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_triples_are_answered_and_one_more_is_refused() {
    for s in servers().await {
        let db = s.db.name();
        let (k, _) = population(&s).await;
        let many = |n: usize| {
            let one = json!({"subject": "ok", "purpose": "newsletter", "channel": "email"});
            Value::Array(vec![one; n])
        };
        let res = permissions(&s, &k, many(10_000)).await;
        assert_eq!(res.status(), StatusCode::OK, "{db}");
        let body: Value = res.json().await.unwrap();
        let results = body["results"].as_array().unwrap();
        assert_eq!(results.len(), 10_000);
        assert!(results.iter().all(|r| r["allowed"] == true));
        let res = permissions(&s, &k, many(10_001)).await;
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE, "{db}");
        let e: Value = res.json().await.unwrap();
        assert_eq!(e["code"], "too_many_permissions", "{db}");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audience_is_exactly_who_may_be_contacted_now_in_every_page_size_and_format() {
    for s in servers().await {
        let db = s.db.name();
        let (k, erased) = population(&s).await;
        // Opt-in: only a grant in effect. Lapsed, expired, withdrawn, objecting and erased
        // people are left out.
        let newsletter = "purpose=newsletter&channel=email";
        for limit in [1, 2, 1000] {
            assert_eq!(
                audience_ids(&s, &k, newsletter, limit).await,
                set_of(&["ok"]),
                "{db}: limit {limit}"
            );
        }
        // Opt-out: everyone with no withdrawal and no objection, never the erased.
        let member_news = "purpose=member_news&channel=email";
        let want = set_of(&["ok", "never", "stale", "old"]);
        for limit in [1, 3, 1000] {
            assert_eq!(
                audience_ids(&s, &k, member_news, limit).await,
                want,
                "{db}: limit {limit}"
            );
        }
        // The permissions check agrees with the audience for every subject.
        let everyone = [
            "ok",
            "never",
            "gone",
            "stale",
            "old",
            "objector",
            erased.as_str(),
        ];
        let checks: Vec<Value> = everyone
            .iter()
            .map(|n| json!({"subject": n, "purpose": "member_news", "channel": "email"}))
            .collect();
        let body: Value = permissions(&s, &k, Value::Array(checks))
            .await
            .json()
            .await
            .unwrap();
        let allowed: BTreeSet<String> = body["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["allowed"] == true)
            .map(|r| r["subject"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(allowed, want, "{db}");

        // CSV, by Accept or by format=csv: the same people, streamed.
        for (query, accept) in [
            (format!("{member_news}&limit=1"), "text/csv"),
            (format!("{member_news}&format=csv"), "application/json"),
        ] {
            let res = s
                .client
                .get(format!("{}/api/v1/audience?{query}", s.base))
                .bearer_auth(&k)
                .header(header::ACCEPT, accept)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{db}");
            assert!(
                res.headers()[header::CONTENT_TYPE]
                    .to_str()
                    .unwrap()
                    .starts_with("text/csv")
            );
            let text = res.text().await.unwrap();
            let mut lines = text.lines();
            assert_eq!(
                lines.next(),
                Some("external_id,email,phone,lang,jurisdiction,frequency")
            );
            let ids: BTreeSet<String> = lines
                .map(|l| l.split(',').next().unwrap().to_owned())
                .collect();
            assert_eq!(ids, want, "{db}: {text}");
        }

        // The whole audience read in ranges, two at once, each range's end found first: the
        // same people in id order whatever the range's size, from the start or after a cursor.
        for (purpose, want) in [
            ("newsletter", set_of(&["ok"])),
            ("member_news", want.clone()),
        ] {
            let (purpose, channel) = s.services.audience_of(purpose, "email").await.unwrap();
            for range in [1, 2, 3, 1000] {
                let ids = whole_audience(&s, &purpose, channel, None, range).await;
                assert!(ids.is_sorted(), "{db}: {purpose:?} range {range}: {ids:?}");
                let names: BTreeSet<String> = ids.iter().map(|(_, n)| n.clone()).collect();
                assert_eq!(names, want, "{db}: {} range {range}", purpose.key);
                // After the first one listed: everyone else.
                let rest = whole_audience(&s, &purpose, channel, Some(ids[0].0), range).await;
                assert_eq!(rest, ids[1..], "{db}: {} range {range}", purpose.key);
            }
        }

        // Bad input: clear errors.
        for (query, status, code) in [
            ("purpose=newsletter&channel=fax", 400, "bad_request"),
            ("purpose=surveys&channel=email", 400, "unknown_purpose"),
            (
                "purpose=newsletter&channel=web",
                422,
                "channel_not_applicable",
            ),
            (
                "purpose=newsletter&channel=email&limit=0",
                400,
                "bad_request",
            ),
            (
                "purpose=newsletter&channel=email&limit=10001",
                400,
                "bad_request",
            ),
            (
                "purpose=newsletter&channel=email&cursor=abc",
                400,
                "malformed_cursor",
            ),
        ] {
            let res = audience(&s, &k, query).await;
            assert_eq!(res.status().as_u16(), status, "{db}: {query}");
            let e: Value = res.json().await.unwrap();
            assert_eq!(e["code"], code, "{db}: {query}");
        }
        let links_only = key(&s, &["links"]).await;
        assert_eq!(
            audience(&s, &links_only, newsletter).await.status(),
            StatusCode::FORBIDDEN
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_are_refused_for_everyone_the_gate_leaves_out() {
    for s in servers().await {
        let db = s.db.name();
        let (k, erased) = population(&s).await;
        let link = |subject: &str| {
            s.client
                .post(format!("{}/api/v1/links", s.base))
                .bearer_auth(&k)
                .header(header::ACCEPT_LANGUAGE, "en")
                .json(&json!({"subject": subject, "purpose": "newsletter", "channel": "email"}))
                .send()
        };
        assert_eq!(link("ok").await.unwrap().status(), StatusCode::OK, "{db}");
        for (who, reason) in [
            ("never", "no_consent"),
            ("gone", "withdrawn"),
            ("stale", "awaiting_reconfirmation"),
            ("old", "expired"),
            ("objector", "objected"),
            (erased.as_str(), "erased"),
        ] {
            let res = link(who).await.unwrap();
            assert_eq!(res.status(), StatusCode::CONFLICT, "{db}: {who}");
            let e: Value = res.json().await.unwrap();
            assert_eq!(e["code"], "not_permitted", "{db}: {who}");
            assert_eq!(e["reason"], reason, "{db}: {who}");
            assert!(
                e["message"]
                    .as_str()
                    .unwrap()
                    .contains("may not be contacted")
            );
        }
        // The erased person's external id is gone: no such subject.
        assert_eq!(
            link("erased").await.unwrap().status(),
            StatusCode::NOT_FOUND
        );

        let res = s
            .client
            .post(format!(
                "{}/api/v1/links.csv?purpose=newsletter&channel=email",
                s.base
            ))
            .bearer_auth(&k)
            .header(header::CONTENT_TYPE, "text/csv")
            .body("subject\nok\nnever\ngone\nstale\nold\nobjector\nnobody\n")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{db}");
        let text = res.text().await.unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "subject,unsubscribe_url,preference_url,list_unsubscribe,list_unsubscribe_post,list_id,error,reason"
        );
        assert!(
            lines[1].starts_with("ok,http") && lines[1].ends_with(",,"),
            "{db}: {text}"
        );
        assert_eq!(lines[2], "never,,,,,,not_permitted,no_consent");
        assert_eq!(lines[3], "gone,,,,,,not_permitted,withdrawn");
        assert_eq!(lines[4], "stale,,,,,,not_permitted,awaiting_reconfirmation");
        assert_eq!(lines[5], "old,,,,,,not_permitted,expired");
        assert_eq!(lines[6], "objector,,,,,,not_permitted,objected");
        assert_eq!(lines[7], "nobody,,,,,,unknown_subject_key,");
        assert_eq!(lines.len(), 8, "{db}");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suppressions_carry_lapsed_opt_ins_and_every_purpose_of_a_channel() {
    for s in servers().await {
        let db = s.db.name();
        let (k, _) = population(&s).await;
        let get = |query: String| {
            s.client
                .get(format!("{}/api/v1/suppressions?{query}", s.base))
                .bearer_auth(&k)
                .send()
        };
        let list: Value = get("purpose=newsletter&channel=email".into())
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let withdrawn: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                assert_eq!(i["reason"], "withdrawn");
                assert_eq!(i["purpose"], "newsletter");
                i["external_id"].as_str().unwrap()
            })
            .collect();
        // The erasure withdrew the erased person's consents (under a placeholder id).
        assert!(withdrawn.contains(&"gone"), "{db}: {list}");
        assert_eq!(withdrawn.len(), 2, "{db}: {list}");
        let lapsed: BTreeSet<(String, String)> = list["lapsed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["external_id"].as_str().unwrap().to_owned(),
                    i["reason"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            lapsed,
            [
                ("old".to_string(), "expired".to_string()),
                ("stale".to_string(), "awaiting_reconfirmation".to_string()),
            ]
            .into_iter()
            .collect(),
            "{db}: {list}"
        );
        assert!(list["next_lapsed_cursor"].is_null(), "{db}: {list}");

        // Lapsed entries page by their own cursor, one at a time.
        let mut seen = BTreeSet::new();
        let mut after: Option<String> = None;
        loop {
            let q = match &after {
                Some(a) => format!("purpose=newsletter&channel=email&limit=1&lapsed_after={a}"),
                None => "purpose=newsletter&channel=email&limit=1".into(),
            };
            let page: Value = get(q).await.unwrap().json().await.unwrap();
            for i in page["lapsed"].as_array().unwrap() {
                assert!(seen.insert(i["external_id"].as_str().unwrap().to_owned()));
            }
            match page["next_lapsed_cursor"].as_str() {
                Some(c) => after = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen, set_of(&["old", "stale"]), "{db}");

        // Every purpose on the channel: the newsletter's and member news' withdrawals, with
        // one cursor, in the order they were recorded.
        let all: Value = get("purpose=*&channel=email".into())
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let items = all["items"].as_array().unwrap();
        let pairs: BTreeSet<(String, String)> = items
            .iter()
            .map(|i| {
                (
                    i["purpose"].as_str().unwrap().to_owned(),
                    i["external_id"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert!(
            pairs.contains(&("newsletter".into(), "gone".into())),
            "{db}: {all}"
        );
        assert!(
            pairs.contains(&("member_news".into(), "gone".into())),
            "{db}: {all}"
        );
        let cursors: Vec<i64> = items
            .iter()
            .map(|i| i["cursor"].as_i64().unwrap())
            .collect();
        assert!(cursors.windows(2).all(|w| w[0] < w[1]), "{db}: {cursors:?}");
        assert_eq!(all["next_cursor"], *cursors.last().unwrap());
        let after_all: Value = get(format!(
            "purpose=*&channel=email&since={}",
            cursors.last().unwrap()
        ))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        assert!(after_all["items"].as_array().unwrap().is_empty(), "{db}");
        assert_eq!(after_all["lapsed"].as_array().unwrap().len(), 2, "{db}");

        for (query, status, code) in [
            (
                "purpose=newsletter&channel=email&lapsed_after=x",
                400,
                "malformed_cursor",
            ),
            (
                "purpose=newsletter&channel=email&limit=0",
                400,
                "bad_request",
            ),
            (
                "purpose=newsletter&channel=web",
                422,
                "channel_not_applicable",
            ),
        ] {
            let res = get(query.into()).await.unwrap();
            assert_eq!(res.status().as_u16(), status, "{db}: {query}");
            let e: Value = res.json().await.unwrap();
            assert_eq!(e["code"], code, "{db}: {query}");
        }
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_csv_audience_never_answers_a_spreadsheet_formula() {
    for s in servers().await {
        let db = s.db.name();
        let who = subject(&s, "=HYPERLINK(\"http://evil\",\"x\")").await;
        set(
            &s,
            who,
            "newsletter",
            Channel::Email,
            ConsentState::Granted,
            "1.0",
            Duration::ZERO,
        )
        .await;
        let k = key(&s, &["audience:read"]).await;
        let text = s
            .client
            .get(format!(
                "{}/api/v1/audience?purpose=newsletter&channel=email&format=csv",
                s.base
            ))
            .bearer_auth(&k)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let line = text.lines().nth(1).unwrap();
        assert!(
            line.starts_with("\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\","),
            "{db}: {line}"
        );
        assert_eq!(text.lines().count(), 2, "{db}: {text}");
        s.stop().await;
    }
}
