//! Keywords in text messages sent back (R55; issue 34 item 4): `POST /inbound/sms`, signed the
//! way Twilio signs (`X-Twilio-Signature`), each test on SQLite and PostgreSQL.

mod common;

use app::{
    auth::Role,
    domain::{Channel, ConsentState, Lang, Source, SubjectId},
};
use common::server::TestServer;
use reqwest::StatusCode;

const TOKEN: &str = "twilio-auth-token-0123456789abcdef";
/// The URL Twilio is given: the configured public URL (the tests' server listens elsewhere, so
/// a signature over the Host it sees would not match).
const SIGNED_URL: &str = "https://doui.test/inbound/sms";
const JA_NUMBER: &str = "+819012345678";
const US_NUMBER: &str = "+14155550123";

async fn sms_server(db: common::TestDb) -> TestServer {
    TestServer::start_with(db, |c| c.sms_auth_token = Some(TOKEN.into())).await
}

/// Twilio's form for an inbound message.
fn form(from: &str, body: &str, sid: &str) -> Vec<(String, String)> {
    [
        ("ToCountry", "JP"),
        ("SmsMessageSid", sid),
        ("NumMedia", "0"),
        ("SmsSid", sid),
        ("SmsStatus", "received"),
        ("Body", body),
        ("To", "+815012345678"),
        ("MessageSid", sid),
        ("AccountSid", "AC00000000000000000000000000000000"),
        ("From", from),
        ("ApiVersion", "2010-04-01"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

async fn post(
    s: &TestServer,
    form: &[(String, String)],
    signature: Option<&str>,
) -> reqwest::Response {
    let mut req = s.client.post(format!("{}/inbound/sms", s.base)).form(form);
    if let Some(sig) = signature {
        req = req.header("X-Twilio-Signature", sig);
    }
    req.send().await.unwrap()
}

/// A message as Twilio posts it, signed; the TwiML answer.
async fn text(s: &TestServer, from: &str, body: &str, sid: &str) -> String {
    let form = form(from, body, sid);
    let sig = server::sms::twilio_signature(TOKEN, SIGNED_URL, &form);
    let res = post(s, &form, Some(&sig)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/xml"),
        "{res:?}"
    );
    res.text().await.unwrap()
}

fn sid(n: u32) -> String {
    format!("SM{n:032x}")
}

/// A subject with `phone` who allowed the newsletter by email and SMS and ad targeting by SMS
/// (on their page).
async fn person(s: &TestServer, phone: &str, lang: Lang) -> SubjectId {
    let email = format!("{}@example.jp", common::unique("sms"));
    let who = s
        .services
        .create_subject(None, Some(&email), Some(phone), lang)
        .await
        .unwrap()
        .id;
    let changes = [
        ("newsletter", Channel::Email),
        ("newsletter", Channel::Sms),
        ("ad_targeting", Channel::Sms),
    ]
    .into_iter()
    .map(|(p, c)| common::consents::change(who, p, c, ConsentState::Granted, None))
    .collect();
    s.services.store.apply(changes).await.unwrap();
    who
}

async fn state(
    s: &TestServer,
    who: SubjectId,
    purpose: &str,
    channel: Channel,
) -> Option<ConsentState> {
    s.services
        .store
        .consents(who)
        .await
        .unwrap()
        .iter()
        .find(|r| r.purpose.as_str() == purpose && r.channel == channel)
        .map(|r| r.state)
}

/// The text a TwiML answer sends back (XML entities read).
fn message(twiml: &str) -> Option<String> {
    twiml.split_once("<Message>").map(|(_, rest)| {
        rest.split_once("</Message>")
            .unwrap()
            .0
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&")
    })
}

#[test]
fn the_published_twilio_example_signature_is_reproduced() {
    // The example in Twilio's documentation of request validation (twilio-php's
    // docs/usage/validation.rst): auth token 12345, this URL and these parameters are signed
    // RSOYDt4T1cUTdK1PDd93/VVr8B8=.
    let params: Vec<(String, String)> = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+14158675309"),
        ("Digits", "1234"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    assert_eq!(
        server::sms::twilio_signature("12345", url, &params),
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    );
    assert!(server::sms::twilio_signature_valid(
        "12345",
        url,
        &params,
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    ));
    assert!(!server::sms::twilio_signature_valid(
        "12346",
        url,
        &params,
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r55_only_a_correctly_signed_message_changes_anything() {
    for db in common::backends().await {
        let s = sms_server(db).await;
        let who = person(&s, JA_NUMBER, Lang::Ja).await;
        let before = s.event_count(who).await;
        let stop = form(JA_NUMBER, "STOP", &sid(1));
        // Missing, wrong, signed with another token, or over another URL (the Host this server
        // sees): 403, nothing written.
        let other_token =
            server::sms::twilio_signature("another-token-0123456789", SIGNED_URL, &stop);
        let other_url =
            server::sms::twilio_signature(TOKEN, &format!("{}/inbound/sms", s.base), &stop);
        for sig in [
            None,
            Some("bm90IGEgc2lnbmF0dXJl"),
            Some(other_token.as_str()),
            Some(other_url.as_str()),
        ] {
            let res = post(&s, &stop, sig).await;
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{sig:?}");
            let body: serde_json::Value = res.json().await.unwrap();
            assert_eq!(body["code"], "bad_signature");
        }
        // A body changed after signing: the signature no longer matches.
        let signed =
            server::sms::twilio_signature(TOKEN, SIGNED_URL, &form(JA_NUMBER, "HELP", &sid(1)));
        assert_eq!(
            post(&s, &stop, Some(&signed)).await.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(s.event_count(who).await, before, "{}", s.db.name());
        assert_eq!(
            state(&s, who, "newsletter", Channel::Sms).await,
            Some(ConsentState::Granted)
        );
        // Signed over the configured public URL: accepted.
        let answer = text(&s, JA_NUMBER, "STOP", &sid(1)).await;
        assert!(message(&answer).is_some(), "{answer}");
        assert_eq!(
            state(&s, who, "newsletter", Channel::Sms).await,
            Some(ConsentState::Withdrawn)
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r55_every_stop_keyword_withdraws_sms_marketing_only_with_source_reply() {
    for db in common::backends().await {
        let s = sms_server(db).await;
        let owner = s.signed_in(Role::Viewer).await;
        let keywords = [
            "STOP",
            "stopall",
            "Unsubscribe",
            "cancel",
            "End",
            "QUIT",
            "停止",
            "配信停止",
            "ＳＴＯＰ",
            "ｓｔｏｐ",
            " Stop. ",
            "REVOKE",
            "opt out",
        ];
        for (n, keyword) in keywords.into_iter().enumerate() {
            let phone = format!("+8190{:08}", n);
            let who = person(&s, &phone, Lang::Ja).await;
            let answer = text(&s, &phone, keyword, &sid(100 + n as u32)).await;
            assert_eq!(
                message(&answer).as_deref(),
                Some(s.services.settings.sms_replies.stop_ja.as_str()),
                "{keyword}: {answer}"
            );
            for purpose in ["newsletter", "ad_targeting"] {
                assert_eq!(
                    state(&s, who, purpose, Channel::Sms).await,
                    Some(ConsentState::Withdrawn),
                    "{keyword} {purpose} ({})",
                    s.db.name()
                );
            }
            assert_eq!(
                state(&s, who, "newsletter", Channel::Email).await,
                Some(ConsentState::Granted),
                "{keyword}: email untouched"
            );
            let events = s.services.store.events_for_subject(who, 10).await.unwrap();
            let withdrawals: Vec<_> = events
                .iter()
                .filter(|e| e.to == ConsentState::Withdrawn)
                .collect();
            assert_eq!(withdrawals.len(), 2, "{keyword}");
            for e in withdrawals {
                assert_eq!(e.channel, Channel::Sms);
                assert_eq!(e.provenance.source, Source::Reply);
                assert_eq!(
                    e.provenance.proof_ref.as_deref(),
                    Some(format!("sms:twilio:{}", sid(100 + n as u32)).as_str())
                );
                assert!(e.provenance.notice_version.is_some());
            }
        }
        // The console shows the withdrawal, its source and the keyword received.
        let last = s
            .services
            .console
            .subject_records()
            .subjects_by_prefix(app::store::SubjectField::Phone, "+819000000007", 1)
            .await
            .unwrap()[0]
            .id;
        let page = owner
            .get(&format!("/admin/subjects/{last}?lang=en"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("Reply (email or SMS)"), "{page}");
        assert!(page.contains("SMS 配信停止"), "{page}");
        // And the person's own record (the receipt's history) carries the evidence.
        let who = s
            .services
            .console
            .subject_records()
            .subjects_by_prefix(app::store::SubjectField::Phone, "+819000000000", 1)
            .await
            .unwrap()[0]
            .id;
        let visitor = s
            .services
            .visitor(
                s.services
                    .preference_link(who)
                    .rsplit_once("/p/")
                    .unwrap()
                    .1,
            )
            .await
            .unwrap();
        let record = s.services.consent_record(&visitor).await.unwrap();
        let history = record["history"].as_array().unwrap();
        assert!(
            history.iter().any(|e| e["source"] == "reply"
                && e["channel"] == "sms"
                && e["to"] == "withdrawn"
                && e["proof_ref"] == format!("sms:twilio:{}", sid(100))
                && e["reason"] == "SMS STOP"),
            "{history:?}"
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r55_a_retried_message_writes_nothing_twice() {
    for db in common::backends().await {
        let s = sms_server(db).await;
        let who = person(&s, JA_NUMBER, Lang::Ja).await;
        let first = text(&s, JA_NUMBER, "STOP", &sid(1)).await;
        let after_stop = s.event_count(who).await;
        let _ = text(&s, JA_NUMBER, "START", &sid(2)).await;
        let after_start = s.event_count(who).await;
        assert_eq!(after_start, after_stop + 2, "{}", s.db.name());
        // Twilio retries the STOP (same MessageSid) after the START: it is the same message,
        // already recorded, so it writes nothing and withdraws nothing again.
        let retried = text(&s, JA_NUMBER, "STOP", &sid(1)).await;
        assert_eq!(retried, first, "the same answer");
        assert_eq!(s.event_count(who).await, after_start);
        assert_eq!(
            state(&s, who, "newsletter", Channel::Sms).await,
            Some(ConsentState::Granted)
        );
        // A new STOP is a new message.
        let _ = text(&s, JA_NUMBER, "STOP", &sid(3)).await;
        assert_eq!(s.event_count(who).await, after_start + 2);
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r55_start_grants_again_only_what_a_stop_withdrew() {
    for db in common::backends().await {
        let s = sms_server(db).await;
        let who = person(&s, US_NUMBER, Lang::En).await;
        // Before any STOP, START grants nothing (nothing was withdrawn by a keyword)…
        let answer = text(&s, US_NUMBER, "START", &sid(1)).await;
        assert_eq!(
            message(&answer).as_deref(),
            Some(s.services.settings.sms_replies.start_en.as_str())
        );
        assert_eq!(s.event_count(who).await, 3);
        // …and the ad targeting the person turned off on their page stays off after STOP and
        // START: START undoes only a keyword's withdrawal.
        let page_off = common::consents::change(
            who,
            "ad_targeting",
            Channel::Sms,
            ConsentState::Withdrawn,
            None,
        );
        s.services.store.apply(vec![page_off]).await.unwrap();
        let _ = text(&s, US_NUMBER, "STOP", &sid(2)).await;
        assert_eq!(
            state(&s, who, "newsletter", Channel::Sms).await,
            Some(ConsentState::Withdrawn)
        );
        let answer = text(&s, US_NUMBER, "unstop", &sid(3)).await;
        assert_eq!(
            message(&answer).as_deref(),
            Some(s.services.settings.sms_replies.start_en.as_str())
        );
        assert_eq!(
            state(&s, who, "newsletter", Channel::Sms).await,
            Some(ConsentState::Granted),
            "{}",
            s.db.name()
        );
        assert_eq!(
            state(&s, who, "ad_targeting", Channel::Sms).await,
            Some(ConsentState::Withdrawn),
            "never withdrawn by STOP, so not granted by START"
        );
        let grant = &s.services.store.events_for_subject(who, 1).await.unwrap()[0];
        assert_eq!(grant.to, ConsentState::Granted);
        assert_eq!(grant.provenance.source, Source::Reply);
        assert_eq!(grant.provenance.reason.as_deref(), Some("SMS UNSTOP"));
        assert_eq!(
            grant.provenance.proof_ref.as_deref(),
            Some(format!("sms:twilio:{}", sid(3)).as_str())
        );
        // A purpose the person never allowed on SMS is not granted either: STOP records their
        // refusal of it, and START does not turn that into a grant.
        let other = s
            .services
            .create_subject(
                None,
                Some("email-only@example.jp"),
                Some("+14155550199"),
                Lang::En,
            )
            .await
            .unwrap()
            .id;
        let email_only = common::consents::change(
            other,
            "newsletter",
            Channel::Email,
            ConsentState::Granted,
            None,
        );
        s.services.store.apply(vec![email_only]).await.unwrap();
        let _ = text(&s, "+14155550199", "STOP", &sid(4)).await;
        assert_eq!(
            state(&s, other, "newsletter", Channel::Sms).await,
            Some(ConsentState::Withdrawn)
        );
        let _ = text(&s, "+14155550199", "START", &sid(5)).await;
        for purpose in ["newsletter", "ad_targeting"] {
            assert_eq!(
                state(&s, other, purpose, Channel::Sms).await,
                Some(ConsentState::Withdrawn),
                "{purpose} was never allowed by SMS"
            );
        }
        // While the person's objection to direct marketing stands (R34), START grants no
        // marketing: they lift it on their page.
        let objector = person(&s, "+14155550177", Lang::En).await;
        let _ = text(&s, "+14155550177", "STOP", &sid(7)).await;
        let provenance = common::consents::change(
            objector,
            "newsletter",
            Channel::Email,
            ConsentState::Withdrawn,
            None,
        )
        .provenance;
        s.services
            .console
            .objections()
            .add_objection(&app::store::Objection {
                subject: objector,
                objecting: true,
                provenance,
            })
            .await
            .unwrap();
        let events = s.event_count(objector).await;
        let _ = text(&s, "+14155550177", "START", &sid(8)).await;
        assert_eq!(s.event_count(objector).await, events);
        assert_eq!(
            state(&s, objector, "newsletter", Channel::Sms).await,
            Some(ConsentState::Withdrawn)
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r55_help_and_unknown_numbers_are_answered_as_everyone_else_and_change_nothing() {
    for db in common::backends().await {
        let s = sms_server(db).await;
        let who = person(&s, JA_NUMBER, Lang::Ja).await;
        let events = s.event_count(who).await;
        let help = text(&s, JA_NUMBER, "help", &sid(1)).await;
        assert_eq!(
            message(&help).as_deref(),
            Some(s.services.settings.sms_replies.help_ja.as_str())
        );
        assert!(help.contains("privacy@example.jp"), "{help}");
        let info = text(&s, US_NUMBER, "ＩＮＦＯ", &sid(2)).await;
        assert_eq!(
            message(&info).as_deref(),
            Some(s.services.settings.sms_replies.help_en.as_str())
        );
        assert_eq!(s.event_count(who).await, events);
        // Other text: no change, an empty answer.
        let other = text(&s, JA_NUMBER, "please stop sending these", &sid(3)).await;
        assert_eq!(
            other,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>"
        );
        assert_eq!(s.event_count(who).await, events);
        // A number nobody has gets the very answer a subject's number gets.
        let known = text(&s, JA_NUMBER, "STOP", &sid(4)).await;
        let unknown = text(&s, "+819099999999", "STOP", &sid(5)).await;
        assert_eq!(known, unknown, "{}", s.db.name());
        assert_eq!(
            message(&known).as_deref(),
            Some(s.services.settings.sms_replies.stop_ja.as_str())
        );
        let known = text(&s, JA_NUMBER, "START", &sid(6)).await;
        let unknown = text(&s, "+819099999999", "START", &sid(7)).await;
        assert_eq!(known, unknown);
        let unparsable = text(&s, "MYSHOP", "STOP", &sid(8)).await;
        assert!(message(&unparsable).is_some());
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoint_is_off_without_an_auth_token_and_flood_limited_with_one() {
    for db in common::backends().await {
        let s = TestServer::start(db).await;
        let stop = form(JA_NUMBER, "STOP", &sid(1));
        let sig = server::sms::twilio_signature(TOKEN, SIGNED_URL, &stop);
        assert_eq!(
            post(&s, &stop, Some(&sig)).await.status(),
            StatusCode::NOT_FOUND
        );
        let db = s.db;
        std::fs::remove_dir_all(&s.data_dir).ok();
        let s = TestServer::start_with(db, |c| {
            c.sms_auth_token = Some(TOKEN.into());
            // A configured answer is the one sent, escaped for XML.
            c.sms_replies.help_ja = "ヘルプ: <0120-000-000> & 窓口".into();
            c.limits.inbound_sms_per_ip = app::rate::Limit {
                max: 3,
                window_secs: 60,
            };
        })
        .await;
        let who = person(&s, JA_NUMBER, Lang::Ja).await;
        for n in 0..2 {
            let answer = text(&s, JA_NUMBER, "HELP", &sid(n)).await;
            assert!(
                answer.contains("<Message>ヘルプ: &lt;0120-000-000&gt; &amp; 窓口</Message>"),
                "{answer}"
            );
        }
        // A STOP without the message's id cannot be recorded with its evidence: refused whole.
        let mut no_id = form(JA_NUMBER, "STOP", "");
        no_id.retain(|(k, _)| !k.ends_with("Sid") || k == "AccountSid");
        let no_id_sig = server::sms::twilio_signature(TOKEN, SIGNED_URL, &no_id);
        let res = post(&s, &no_id, Some(&no_id_sig)).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            res.json::<serde_json::Value>().await.unwrap()["code"],
            "malformed_message_id"
        );
        assert_eq!(s.event_count(who).await, 3);
        // The fourth request from this address within the minute: flood control.
        let res = post(&s, &stop, Some(&sig)).await;
        assert_eq!(
            res.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            s.db.name()
        );
        assert!(res.headers().contains_key("retry-after"));
        assert_eq!(s.event_count(who).await, 3);
        s.stop().await;
    }
}
