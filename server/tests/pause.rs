//! Issue 34 items 2 and 3: pause instead of leave, and how often. A pause withdraws now (the
//! person's own source, the end in the sealed reason) and ends by itself with a grant (source
//! `pause`) — unless something changed that consent in between; the send gate and the
//! suppression list treat a paused consent as withdrawn. A frequency is recorded with who and
//! when, and returned by the audience API and the subject API. On SQLite and PostgreSQL.

mod common;

use app::{
    domain::{Actor, ConsentState, Lang, PauseOutcome, PurposeKey, Source, SubjectId},
    services::Ask,
    token::Scope,
};
use common::server::{TestServer, servers};
use serde_json::Value;
use time::Duration;

async fn set(s: &TestServer, token: &str, state: &str) {
    let res = s
        .call(
            "set_consent",
            &[
                ("token", token),
                ("purpose", "newsletter"),
                ("channel", "email"),
                ("state", state),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

async fn latest(s: &TestServer, who: SubjectId) -> app::domain::ConsentEvent {
    s.services
        .store
        .events_for_subject(who, 1)
        .await
        .unwrap()
        .remove(0)
}

/// May the person be sent the newsletter by email now (the send gate)?
async fn sendable(s: &TestServer, email: &str) -> Result<(), app::domain::Refused> {
    s.services
        .permissions(&[Ask {
            subject: email.into(),
            purpose: "newsletter".into(),
            channel: "email".into(),
        }])
        .await
        .unwrap()
        .remove(0)
}

/// Pauses the newsletter by email for 30 days through the plain form, as the page posts it.
async fn pause_newsletter_email(s: &TestServer, token: &str) -> reqwest::Response {
    s.post_form(
        "pause_consent",
        &[
            ("token", token),
            ("target", "newsletter/email"),
            ("days", "30"),
            ("lang", "en"),
        ],
        "en",
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_withdraws_now_with_its_end_and_is_granted_again_at_the_end() {
    for s in servers().await {
        let db = s.db.name();
        let email = "pauser@example.com";
        let (who, token) = s.subject(email, Lang::En).await;
        set(&s, &token, "granted").await;
        assert_eq!(sendable(&s, email).await, Ok(()), "{db}");

        // Without JavaScript: a plain form, answered with a redirect back to the page.
        let res = pause_newsletter_email(&s, &token).await;
        assert_eq!(res.status(), 303, "{db}: {}", res.text().await.unwrap());
        let asked = app::services::now();

        // The withdrawal is written now, by the person, its reason naming the end.
        let paused = latest(&s, who).await;
        assert_eq!(paused.to, ConsentState::Withdrawn, "{db}");
        assert_eq!(paused.provenance.source, Source::PreferenceCenter, "{db}");
        assert_eq!(paused.provenance.actor, Actor::Subject, "{db}");
        let reason = paused.provenance.reason.clone().unwrap();
        let until = s.services.pauses_in_force(who).await.unwrap();
        assert_eq!(until.len(), 1, "{db}");
        let end = until[0].until;
        assert_eq!(
            reason,
            app::domain::pause::pause_reason(end),
            "{db}: the sealed reason names the end"
        );
        assert!(
            (end - asked - Duration::days(30)).abs() < Duration::minutes(1),
            "{db}: {end}"
        );

        // The page shows it with its end and a way to resume early.
        let html = s
            .get(&format!("/p/{token}"), "en")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("data-paused=\"newsletter/email\""),
            "{db}: {html}"
        );
        assert!(html.contains("Resume now"), "{db}");
        let ja = s
            .get(&format!("/p/{token}?lang=ja"), "ja")
            .await
            .text()
            .await
            .unwrap();
        assert!(ja.contains("一時停止中"), "{db}");

        // The send gate and the suppression list treat it as withdrawn.
        assert!(sendable(&s, email).await.is_err(), "{db}");
        common::seal_all(&s.services).await;
        let key = PurposeKey::parse("newsletter").unwrap();
        let suppressed = s
            .services
            .store
            .suppressions(&key, app::domain::Channel::Email, 0, 100)
            .await
            .unwrap();
        assert!(suppressed.iter().any(|x| x.subject.id == who), "{db}");

        // Nothing before the end; at the end, the grant (source `pause`, by Doui itself).
        let now = app::services::now();
        let early = s
            .services
            .resume_pauses_due_at(now + Duration::days(29), "a")
            .await
            .unwrap();
        assert_eq!(early, 0, "{db}");
        let resumed = s
            .services
            .resume_pauses_due_at(now + Duration::days(31), "a")
            .await
            .unwrap();
        assert_eq!(resumed, 1, "{db}");
        let e = latest(&s, who).await;
        assert_eq!(
            (e.from, e.to),
            (Some(ConsentState::Withdrawn), ConsentState::Granted),
            "{db}"
        );
        assert_eq!(e.provenance.source, Source::Pause, "{db}");
        assert_eq!(e.provenance.actor, Actor::System, "{db}");
        assert!(
            e.provenance
                .reason
                .as_deref()
                .unwrap()
                .starts_with("end of a pause of 30 days"),
            "{db}"
        );
        assert_eq!(sendable(&s, email).await, Ok(()), "{db}");
        let history = s.services.console.pauses_of(who, 10).await.unwrap();
        assert_eq!(
            history[0].ended.map(|(_, o)| o),
            Some(PauseOutcome::Resumed),
            "{db}"
        );
        // Once.
        assert_eq!(
            s.services
                .resume_pauses_due_at(now + Duration::days(40), "a")
                .await
                .unwrap(),
            0,
            "{db}"
        );
        assert!(s.services.pauses_in_force(who).await.unwrap().is_empty());
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_later_choice_during_a_pause_cancels_its_end() {
    for s in servers().await {
        let db = s.db.name();
        let (who, token) = s.subject("changer@example.com", Lang::En).await;
        set(&s, &token, "granted").await;
        let pause = [
            ("token", token.as_str()),
            ("target", "all_marketing"),
            ("days", "60"),
        ];
        let res = s.call("pause_consent", &pause).await;
        assert_eq!(res.status(), 200, "{db}: {}", res.text().await.unwrap());
        assert_eq!(s.services.pauses_in_force(who).await.unwrap().len(), 1);

        // The person turns it on and off again: their own withdrawal, not the pause's.
        set(&s, &token, "granted").await;
        set(&s, &token, "withdrawn").await;
        assert!(
            s.services.pauses_in_force(who).await.unwrap().is_empty(),
            "{db}"
        );
        let before = s.event_count(who).await;
        let at = app::services::now() + Duration::days(61);
        assert_eq!(
            s.services.resume_pauses_due_at(at, "a").await.unwrap(),
            0,
            "{db}"
        );
        assert_eq!(
            s.event_count(who).await,
            before,
            "{db}: the later choice wins"
        );
        let history = s.services.console.pauses_of(who, 10).await.unwrap();
        assert_eq!(
            history[0].ended.map(|(_, o)| o),
            Some(PauseOutcome::Superseded),
            "{db}"
        );

        // Resuming early: granted now by the person, and nothing more at the end.
        set(&s, &token, "granted").await;
        let res = s.call("pause_consent", &pause).await;
        assert_eq!(res.status(), 200, "{db}");
        let res = s
            .call(
                "resume_consent",
                &[
                    ("token", token.as_str()),
                    ("purpose", "newsletter"),
                    ("channel", "email"),
                ],
            )
            .await;
        assert_eq!(res.status(), 200, "{db}: {}", res.text().await.unwrap());
        let e = latest(&s, who).await;
        assert_eq!(e.to, ConsentState::Granted, "{db}");
        assert_eq!(e.provenance.source, Source::PreferenceCenter, "{db}");
        let history = s.services.console.pauses_of(who, 10).await.unwrap();
        assert_eq!(
            history[0].ended.map(|(_, o)| o),
            Some(PauseOutcome::ResumedEarly),
            "{db}"
        );
        let before = s.event_count(who).await;
        s.services.resume_pauses_due_at(at, "a").await.unwrap();
        assert_eq!(s.event_count(who).await, before, "{db}");

        // Bad input: clear errors in the person's language; nothing to pause is said so.
        for (days, status, code) in [("45", 400, "unknown_pause_length"), ("30", 200, "")] {
            let res = s
                .call(
                    "pause_consent",
                    &[
                        ("token", token.as_str()),
                        ("target", "newsletter/email"),
                        ("days", days),
                        ("lang", "ja"),
                    ],
                )
                .await;
            assert_eq!(res.status(), status, "{db}");
            if !code.is_empty() {
                let body: Value = res.json().await.unwrap();
                assert_eq!(body["code"], code, "{db}");
                assert!(body["message"].as_str().unwrap().contains("30 日"), "{db}");
            }
        }
        let res = pause_newsletter_email(&s, &token).await;
        assert_eq!(res.status(), 409, "{db}: already paused, nothing on");
        assert!(
            res.text().await.unwrap().contains("nothing to pause"),
            "{db}"
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_end_a_pause_once() {
    for s in servers().await {
        let db = s.db.name();
        let (who, token) = s.subject("twice@example.com", Lang::En).await;
        set(&s, &token, "granted").await;
        let res = s
            .call(
                "pause_consent",
                &[
                    ("token", token.as_str()),
                    ("target", "newsletter/email"),
                    ("days", "90"),
                ],
            )
            .await;
        assert_eq!(res.status(), 200, "{db}");
        // A second instance: its own services and connections over the same database.
        let other = common::services(&s.db);
        let at = app::services::now() + Duration::days(91);
        let (a, b) = tokio::join!(
            s.services.resume_pauses_due_at(at, "instance-a"),
            other.resume_pauses_due_at(at, "instance-b"),
        );
        assert_eq!(a.unwrap() + b.unwrap(), 1, "{db}");
        let events = s.services.store.events_for_subject(who, 10).await.unwrap();
        let grants = events
            .iter()
            .filter(|e| e.provenance.source == Source::Pause)
            .count();
        assert_eq!(grants, 1, "{db}");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_unsubscribe_the_page_offers_a_pause_instead() {
    for s in servers().await {
        let db = s.db.name();
        let (who, token) = s.subject("breaker@example.com", Lang::En).await;
        set(&s, &token, "granted").await;
        let link = s.services.unsubscribe_token(
            who,
            Scope::PurposeChannel(
                PurposeKey::parse("newsletter").unwrap(),
                app::domain::Channel::Email,
            ),
            Some("autumn"),
        );
        let post = |path: String, form: Vec<(&'static str, &'static str)>| {
            let client = s.client.clone();
            let url = format!("{}{path}", s.base);
            async move {
                let res = client
                    .post(url)
                    .header("accept-language", "en")
                    .form(&form)
                    .send()
                    .await
                    .unwrap();
                (res.status().as_u16(), res.text().await.unwrap())
            }
        };
        let pause_path = format!("/u/{link}/pause");
        // Nothing to pause before the unsubscribe.
        let (status, page) = post(pause_path.clone(), vec![("days", "30")]).await;
        assert_eq!(status, 409, "{db}: {page}");

        let (status, page) = post(
            format!("/u/{link}"),
            vec![
                ("List-Unsubscribe", "One-Click"),
                ("confirm", "page"),
                ("lang", "en"),
            ],
        )
        .await;
        assert_eq!(status, 200, "{db}: {page}");
        let done = page.find("You are unsubscribed").unwrap();
        let offered = page
            .find(&format!("action=\"{pause_path}\""))
            .expect("the offer");
        assert!(done < offered, "{db}");
        let unsubscribed = latest(&s, who).await;
        assert_eq!(unsubscribed.provenance.source, Source::Link, "{db}");

        // A length not offered: refused, said plainly; from another site: refused.
        let (status, page) = post(pause_path.clone(), vec![("days", "7")]).await;
        assert_eq!(status, 400, "{db}");
        assert!(page.contains("A pause lasts 30, 60 or 90 days."), "{db}");
        let res = s
            .client
            .post(format!("{}{pause_path}", s.base))
            .header("sec-fetch-site", "cross-site")
            .form(&[("days", "30")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{db}");

        let (status, page) = post(pause_path.clone(), vec![("days", "90"), ("lang", "ja")]).await;
        assert_eq!(status, 200, "{db}: {page}");
        assert!(page.contains("一時停止にしました"), "{db}");
        // Still unsubscribed now (the unsubscribe's own withdrawal is the pause's); granted
        // again at the end.
        let paused = s.services.pauses_in_force(who).await.unwrap();
        assert_eq!(paused.len(), 1, "{db}");
        assert_eq!(paused[0].event_id, unsubscribed.id, "{db}");
        assert_eq!(paused[0].source, Source::Link, "{db}");
        assert_eq!(latest(&s, who).await.id, unsubscribed.id, "{db}");
        let at = app::services::now() + Duration::days(91);
        assert_eq!(
            s.services.resume_pauses_due_at(at, "a").await.unwrap(),
            1,
            "{db}"
        );
        let e = latest(&s, who).await;
        assert_eq!(
            (e.to, e.provenance.source),
            (ConsentState::Granted, Source::Pause)
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frequency_is_recorded_and_returned_by_the_audience_and_subject_apis() {
    for s in servers().await {
        let db = s.db.name();
        let (who, token) = s.subject("digest@example.com", Lang::En).await;
        let (_, other) = s.subject("every@example.com", Lang::En).await;
        set(&s, &token, "granted").await;
        set(&s, &other, "granted").await;

        // The page offers it; a plain form records it.
        let html = s
            .get(&format!("/p/{token}"), "en")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("data-frequency=\"newsletter\""),
            "{db}: {html}"
        );
        assert!(html.contains("Weekly digest"), "{db}");
        let res = s
            .post_form(
                "choose_frequency",
                &[
                    ("token", token.as_str()),
                    ("purpose", "newsletter"),
                    ("frequency", "weekly"),
                    ("lang", "en"),
                ],
                "en",
            )
            .await;
        assert_eq!(res.status(), 303, "{db}: {}", res.text().await.unwrap());
        let res = s
            .post_form(
                "choose_frequency",
                &[
                    ("token", token.as_str()),
                    ("purpose", "newsletter"),
                    ("frequency", "daily"),
                    ("lang", "en"),
                ],
                "en",
            )
            .await;
        assert_eq!(res.status(), 400, "{db}");
        assert!(
            res.text().await.unwrap().contains("A frequency is every"),
            "{db}"
        );
        // Recorded with who, how and when.
        let history = s.services.console.frequency_history(who, 10).await.unwrap();
        assert_eq!(history.len(), 1, "{db}");
        assert_eq!(history[0].frequency, app::domain::Frequency::Weekly);
        assert_eq!(history[0].source, Source::PreferenceCenter);
        assert_eq!(history[0].actor, "subject");
        let html = s
            .get(&format!("/p/{token}"), "en")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("<option value=\"weekly\" selected"),
            "{db}: the page shows the choice"
        );

        // The audience API returns it per person (and every message for who did not choose).
        let key = s
            .services
            .create_api_key(
                "frequency test",
                &["audience:read".into(), "subjects:read".into()],
            )
            .await
            .unwrap()
            .1;
        let page: Value = s
            .client
            .get(format!(
                "{}/api/v1/audience?purpose=newsletter&channel=email",
                s.base
            ))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let frequency_of = |email: &str| {
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["email"] == email)
                .map(|m| m["frequency"].as_str().unwrap().to_owned())
        };
        assert_eq!(
            frequency_of("digest@example.com").as_deref(),
            Some("weekly"),
            "{db}: {page}"
        );
        assert_eq!(
            frequency_of("every@example.com").as_deref(),
            Some("every"),
            "{db}"
        );
        let csv = s
            .client
            .get(format!(
                "{}/api/v1/audience?purpose=newsletter&channel=email&format=csv",
                s.base
            ))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            csv.lines()
                .any(|l| l.contains("digest@example.com") && l.ends_with(",weekly")),
            "{db}: {csv}"
        );

        // The subject API too, with a pause's end once paused.
        let res = s
            .call(
                "pause_consent",
                &[
                    ("token", token.as_str()),
                    ("target", "newsletter/email"),
                    ("days", "30"),
                ],
            )
            .await;
        assert_eq!(res.status(), 200, "{db}");
        let subject = s.services.store.subject(who).await.unwrap().unwrap();
        let body: Value = s
            .client
            .get(format!(
                "{}/api/v1/subjects/{}",
                s.base,
                subject.external_id.as_str()
            ))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let newsletter = body["consents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["purpose"] == "newsletter" && c["channel"] == "email")
            .unwrap();
        assert_eq!(newsletter["frequency"], "weekly", "{db}: {body}");
        assert!(newsletter["paused_until"].is_string(), "{db}: {body}");
        assert_eq!(newsletter["in_effect"], false, "{db}");
        s.stop().await;
    }
}
