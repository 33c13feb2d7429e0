//! Issue 30, items 9, 10, 11 and 20, on SQLite and PostgreSQL: what a link lets its holder see
//! and do (expiry, revocation, confirmation by mail), narrow links, Global Privacy Control within
//! a link's scope, and the lasting objection to direct marketing.

mod common;

use app::{
    domain::{Channel, ConsentState, Lang, PurposeKey, Source, SubjectId},
    store::{Provision, Recipient},
    token::{Claims, Scope},
};
use common::{
    consents::change,
    server::{TestServer, path_of, server_with_smtp, servers, set_cookie},
    smtp::SmtpListener,
};
use reqwest::header;

/// Writes `to` for `purpose` on `channel` as the person's own choice (straight to the store).
async fn choose(s: &TestServer, who: SubjectId, purpose: &str, channel: Channel, to: ConsentState) {
    s.services
        .store
        .apply(vec![change(who, purpose, channel, to, None)])
        .await
        .unwrap();
}

/// The current state of one consent (`None`: never chosen).
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
        .into_iter()
        .find(|r| r.purpose.as_str() == purpose && r.channel == channel)
        .map(|r| r.state)
}

fn newsletter_email() -> Scope {
    Scope::PurposeChannel(PurposeKey::parse("newsletter").unwrap(), Channel::Email)
}

async fn page(s: &TestServer, token: &str, gpc: bool) -> String {
    let mut req = s
        .client
        .get(format!("{}/p/{token}", s.base))
        .header(header::ACCEPT_LANGUAGE, "en");
    if gpc {
        req = req.header("sec-gpc", "1");
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item10_a_narrow_link_shows_only_the_history_and_records_its_scope_covers() {
    for s in servers().await {
        let (who, whole) = s.subject("narrow@example.com", Lang::En).await;
        choose(&s, who, "newsletter", Channel::Email, ConsentState::Granted).await;
        choose(&s, who, "ad_targeting", Channel::Web, ConsentState::Granted).await;
        choose(
            &s,
            who,
            "third_party_sharing",
            Channel::Email,
            ConsentState::Granted,
        )
        .await;
        s.services
            .save_recipient(Recipient {
                id: "partner-a".into(),
                name: "Partner A Holdings".into(),
                address: "9-9 Minato, Tokyo".into(),
                representative: "CEO".into(),
            })
            .await
            .unwrap();
        s.db.console()
            .register()
            .add_provision(&Provision {
                seq: 0,
                subject: who,
                recipient: "partner-a".into(),
                purpose: PurposeKey::parse("third_party_sharing").unwrap(),
                provided_at: time::OffsetDateTime::now_utc(),
                identified_by: "email".into(),
                data_items: "purchase history".into(),
                recorded_by: "test".into(),
                recipient_as_provided: None,
            })
            .await
            .unwrap();
        // The whole center shows everything.
        let full = page(&s, &whole, false).await;
        assert!(full.contains("Personalised advertising"), "{}", s.db.name());
        assert!(full.contains("Partner A Holdings") && full.contains("9-9 Minato, Tokyo"));
        // A newsletter's unsubscribe link opens a page about the newsletter only.
        let narrow = s.services.unsubscribe_token(who, newsletter_email(), None);
        let shown = page(&s, &narrow, false).await;
        assert!(
            shown.contains("Newsletter and marketing messages"),
            "{shown}"
        );
        assert!(!shown.contains("Personalised advertising"), "{shown}");
        assert!(!shown.contains("Sharing with third parties"), "{shown}");
        assert!(!shown.contains("Partner A Holdings") && !shown.contains("9-9 Minato"));
        assert!(!shown.contains("purchase history"));
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item11_gpc_on_a_narrow_link_acts_only_within_its_scope() {
    for s in servers().await {
        let (who, whole) = s.subject("gpc-narrow@example.com", Lang::En).await;
        choose(&s, who, "ad_targeting", Channel::Web, ConsentState::Granted).await;
        choose(
            &s,
            who,
            "third_party_sharing",
            Channel::Email,
            ConsentState::Granted,
        )
        .await;
        // A newsletter's link opened with the signal: the signal is noted on the page, but the
        // link does not reach ad targeting or sharing, so nothing of theirs changes.
        let narrow = s.services.unsubscribe_token(who, newsletter_email(), None);
        page(&s, &narrow, true).await;
        assert_eq!(
            state(&s, who, "ad_targeting", Channel::Web).await,
            Some(ConsentState::Granted),
            "{}",
            s.db.name()
        );
        assert_eq!(
            state(&s, who, "third_party_sharing", Channel::Email).await,
            Some(ConsentState::Granted)
        );
        // A link to ad targeting honours it there, and only there.
        let ads = s.services.unsubscribe_token(
            who,
            Scope::Purpose(PurposeKey::parse("ad_targeting").unwrap()),
            None,
        );
        page(&s, &ads, true).await;
        assert_eq!(
            state(&s, who, "ad_targeting", Channel::Web).await,
            Some(ConsentState::Withdrawn)
        );
        assert_eq!(
            state(&s, who, "third_party_sharing", Channel::Email).await,
            Some(ConsentState::Granted)
        );
        // The whole center covers everything: the page view with the signal records it.
        page(&s, &whole, true).await;
        assert_eq!(
            state(&s, who, "third_party_sharing", Channel::Email).await,
            Some(ConsentState::Withdrawn)
        );
        let sources: Vec<Source> = s
            .services
            .store
            .events_for_subject(who, 100)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.to == ConsentState::Withdrawn)
            .map(|e| e.provenance.source)
            .collect();
        assert_eq!(sources, [Source::Gpc, Source::Gpc]);
        s.stop().await;
    }
}

/// The person grants `purpose` by email through the page of `token`.
async fn grant(s: &TestServer, token: &str, purpose: &str) -> reqwest::Response {
    s.call(
        "set_consent",
        &[
            ("token", token),
            ("purpose", purpose),
            ("channel", "email"),
            ("state", "granted"),
        ],
    )
    .await
}

/// The status of opening `/p/<token>`.
async fn opens(s: &TestServer, token: &str) -> u16 {
    s.get(&format!("/p/{token}"), "en").await.status().as_u16()
}

/// A whole-center token as versions before issue 30 made them: no expiry, issued `days_ago`.
fn old_whole_center_token(s: &TestServer, who: SubjectId, days_ago: i64) -> String {
    s.services.keyring.sign(&Claims {
        subject: who,
        scope: Scope::Everything,
        issued_at: time::OffsetDateTime::now_utc().unix_timestamp() - days_ago * 86_400,
        expires_at: None,
        campaign: None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item09_whole_center_links_expire_and_links_already_mailed_count_from_their_issue_time() {
    for db in common::backends().await {
        let s = TestServer::start_with(db, |c| c.preference_link_validity_days = 30).await;
        let (who, token) = s.subject("expiry@example.com", Lang::En).await;
        let claims = s.services.claims(&token).unwrap();
        assert_eq!(
            claims.expires_at,
            Some(claims.issued_at + 30 * 86_400),
            "{}",
            s.db.name()
        );
        assert_eq!(opens(&s, &token).await, 200);
        // Mailed before links had an expiry: they work for the same time from their issue.
        assert_eq!(opens(&s, &old_whole_center_token(&s, who, 29)).await, 200);
        let res = s
            .get(&format!("/p/{}", old_whole_center_token(&s, who, 31)), "en")
            .await;
        assert_eq!(res.status(), 403);
        let page = res.text().await.unwrap();
        assert!(page.contains("This link has expired."), "{page}");
        assert!(
            page.contains("href=\"/signin?lang=en\""),
            "a fresh link by email"
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item09_an_operator_revokes_every_link_of_one_person_and_it_is_recorded() {
    for s in servers().await {
        let (who, whole) = s.subject("revoked@example.com", Lang::En).await;
        let (_, other) = s.subject("kept@example.com", Lang::En).await;
        let narrow = s.services.unsubscribe_token(who, newsletter_email(), None);
        assert_eq!(opens(&s, &whole).await, 200);
        assert_eq!(opens(&s, &narrow).await, 200);
        assert_eq!(
            s.services
                .revoke_links("revoked@example.com", "cli", "")
                .await
                .unwrap_err()
                .code,
            "reason_required"
        );
        let done = s
            .services
            .revoke_links("revoked@example.com", "cli", "forwarded mail")
            .await
            .unwrap();
        assert_eq!(done.subject.id, who);
        assert_eq!(
            s.db.identity().links_revoked_upto(who).await.unwrap(),
            Some(done.issued_upto),
            "{}",
            s.db.name()
        );
        let res = s.get(&format!("/p/{whole}"), "en").await;
        assert_eq!(res.status(), 403);
        assert!(res.text().await.unwrap().contains("were revoked"));
        assert_eq!(opens(&s, &narrow).await, 403);
        // Nobody else's links, and not the keys: another person's link still opens.
        assert_eq!(opens(&s, &other).await, 200);
        // The record is evidence: the database refuses to change it.
        assert!(s.db.raw("DELETE FROM link_revocations").await.is_err());
        // Links made after the revocation work.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let fresh = s.services.preference_link(who);
        let fresh = fresh.rsplit_once("/p/").unwrap().1;
        assert_eq!(opens(&s, fresh).await, 200);
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item09_a_grant_of_sharing_through_a_link_waits_for_the_mailed_confirmation() {
    for db in common::backends().await {
        let smtp = SmtpListener::start().await;
        let s = server_with_smtp(db, &smtp).await;
        let (who, token) = s.subject("confirm@example.com", Lang::En).await;
        // The newsletter is granted at once, as before.
        assert_eq!(
            grant(&s, &token, "newsletter").await.status(),
            200,
            "{}",
            s.db.name()
        );
        // Sharing with third parties through a link: nothing yet, a mail to the person.
        let res = grant(&s, &token, "third_party_sharing").await;
        assert_eq!(res.status(), 403);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["code"], "grant_confirmation_mailed");
        assert_eq!(
            state(&s, who, "third_party_sharing", Channel::Email).await,
            None
        );
        let mail = smtp.wait_for(1).await.remove(0);
        assert!(mail.to[0].contains("confirm@example.com"), "{:?}", mail.to);
        let parsed = mailparse::parse_mail(mail.data.as_bytes()).unwrap();
        let text = parsed.get_body().unwrap();
        let link = text
            .split_whitespace()
            .find(|w| w.contains("/grant/"))
            .expect("a confirmation link")
            .to_owned();
        let path = path_of(&link);
        // Opening it (a mail scanner) changes nothing.
        let b = s.browser().await;
        for _ in 0..2 {
            let page = b.get(&path).await;
            assert_eq!(page.status(), 200);
            let html = page.text().await.unwrap();
            assert!(html.contains(&format!("action=\"{path}\"")), "{html}");
            assert!(html.contains("Sharing with third parties"), "{html}");
        }
        assert_eq!(
            state(&s, who, "third_party_sharing", Channel::Email).await,
            None
        );
        // Pressing its button grants it, recorded as confirmed by mail.
        let res = b.post(&path, &[("lang", "en")]).await;
        assert_eq!(res.status(), 200);
        assert_eq!(
            state(&s, who, "third_party_sharing", Channel::Email).await,
            Some(ConsentState::Granted)
        );
        let last = s
            .services
            .store
            .events_for_subject(who, 1)
            .await
            .unwrap()
            .remove(0);
        assert!(
            last.provenance
                .reason
                .as_deref()
                .unwrap_or("")
                .contains("confirmed from the mail"),
            "{last:?}"
        );
        // Once only.
        assert_eq!(b.post(&path, &[("lang", "en")]).await.status(), 409);
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item09_a_link_becomes_a_session_only_through_a_mailed_sign_in_link() {
    for db in common::backends().await {
        let smtp = SmtpListener::start().await;
        let s = server_with_smtp(db, &smtp).await;
        let (_, token) = s.subject("session@example.com", Lang::En).await;
        let b = s.browser().await;
        let res = b
            .post("/signin/link", &[("token", &token), ("lang", "en")])
            .await;
        assert_eq!(res.status(), 303, "{}", s.db.name());
        assert_eq!(res.headers()[header::LOCATION], "/signin?sent=1&lang=en");
        assert!(
            set_cookie(&res, "doui_session").is_none(),
            "no session from the link itself"
        );
        assert_eq!(b.get("/me").await.status(), 401);
        let mail = smtp.wait_for(1).await.remove(0);
        assert!(mail.to[0].contains("session@example.com"));
        let path = path_of(&common::server::link_in_mail(&mail.data));
        let res = b.post(&path, &[("lang", "en")]).await;
        assert_eq!(res.status(), 303);
        assert!(set_cookie(&res, "doui_session").is_some());
        assert_eq!(b.get("/me").await.status(), 200);
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item20_stop_all_marketing_is_a_lasting_objection_that_covers_purposes_added_later() {
    for s in servers().await {
        let (who, token) = s.subject("objects@example.com", Lang::En).await;
        let (other, _) = s.subject("does-not@example.com", Lang::En).await;
        let person = s.signed_in_as(who).await;
        let set = |purpose: &'static str, state: &'static str| {
            let person = &person;
            async move {
                person
                    .call(
                        "set_consent",
                        &[
                            ("token", ""),
                            ("purpose", purpose),
                            ("channel", "email"),
                            ("state", state),
                        ],
                    )
                    .await
            }
        };
        assert_eq!(
            set("newsletter", "granted").await.status(),
            200,
            "{}",
            s.db.name()
        );
        // The person stops all marketing from their page.
        let res = s
            .post_form("stop_all_marketing", &[("token", token.as_str())], "en")
            .await;
        assert_eq!(res.status(), 303);
        let objection = s
            .services
            .objection_in_force(who)
            .await
            .unwrap()
            .expect("recorded");
        assert_eq!(objection.provenance.source, Source::PreferenceCenter);
        assert_eq!(objection.provenance.actor, app::domain::Actor::Subject);
        assert!(objection.provenance.notice_version.is_some());
        let page = page(&s, &token, false).await;
        assert!(page.contains("data-objection=\"in-force\""), "{page}");
        assert!(page.contains("Lift my objection"));
        // While it stands, no marketing may be granted, by the person or an operator.
        let refused = set("newsletter", "granted").await;
        assert_eq!(refused.status(), 409);
        let body: serde_json::Value = refused.json().await.unwrap();
        assert_eq!(body["code"], "marketing_objection");
        let operator_email = format!("{}@admins.example.jp", common::unique("op"));
        s.admin(&operator_email, app::auth::Role::Operator).await;
        let operator = s.services.admin_named(&operator_email).await.unwrap();
        let behalf = s
            .services
            .admin_set_consent(
                &operator,
                app::services::BehalfChange {
                    subject: &who.0.to_string(),
                    purpose: "newsletter",
                    channel: "sms",
                    state: "granted",
                    reason: "asked by phone",
                },
                change(who, "newsletter", Channel::Sms, ConsentState::Granted, None).provenance,
            )
            .await;
        assert_eq!(behalf.unwrap_err().code, "marketing_objection");
        // A marketing purpose added later, on by default (opt-out): withdrawn for the person at
        // once, so the suppression list carries it; not for anyone else.
        let owner_email = format!("{}@admins.example.jp", common::unique("owner"));
        s.admin(&owner_email, app::auth::Role::Owner).await;
        let owner = s.services.admin_named(&owner_email).await.unwrap();
        s.services
            .save_purpose(
                &owner,
                &app::view::PurposeForm {
                    key: "app_offers".into(),
                    name_ja: "アプリのお得情報".into(),
                    name_en: "Offers in the app".into(),
                    description_ja: "アプリでお得な情報をお知らせします。".into(),
                    description_en: "Offers shown in the app.".into(),
                    mode: "opt_out".into(),
                    channels: vec!["push".into()],
                    marketing: true,
                    kind: "other".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            state(&s, who, "app_offers", Channel::Push).await,
            Some(ConsentState::Withdrawn)
        );
        let last = s
            .services
            .store
            .events_for_subject(who, 1)
            .await
            .unwrap()
            .remove(0);
        assert_eq!(
            last.provenance.reason.as_deref(),
            Some(app::services::OBJECTION_REASON)
        );
        assert_eq!(state(&s, other, "app_offers", Channel::Push).await, None);
        common::seal_all(&s.services).await;
        let suppressed = s
            .services
            .suppressions("app_offers", "push", 0, 100)
            .await
            .unwrap();
        assert_eq!(suppressed.len(), 1);
        assert_eq!(suppressed[0].subject.id, who);
        // A newsletter's narrow link cannot lift it; the person's page can.
        let narrow = s.services.unsubscribe_token(who, newsletter_email(), None);
        let res = s
            .post_form("lift_objection", &[("token", narrow.as_str())], "en")
            .await;
        assert_eq!(res.status(), 403);
        assert!(s.services.objection_in_force(who).await.unwrap().is_some());
        let res = s
            .post_form("lift_objection", &[("token", token.as_str())], "en")
            .await;
        assert_eq!(res.status(), 303);
        assert!(s.services.objection_in_force(who).await.unwrap().is_none());
        let lifted =
            s.db.console()
                .objections()
                .objection(who)
                .await
                .unwrap()
                .unwrap();
        assert!(!lifted.objecting && lifted.provenance.source == Source::PreferenceCenter);
        assert!(!page_has_objection(&s, &token).await);
        // Lifting grants nothing; the person may now choose marketing again.
        assert_eq!(
            state(&s, who, "newsletter", Channel::Email).await,
            Some(ConsentState::Withdrawn)
        );
        assert_eq!(set("newsletter", "granted").await.status(), 200);
        s.stop().await;
    }
}

async fn page_has_objection(s: &TestServer, token: &str) -> bool {
    page(s, token, false).await.contains("data-objection")
}

/// Issue 30, item 9: re-confirming ad targeting after a material notice change is granting it
/// again, so a link (which a forwarded mail hands to anyone) cannot do it: the person signs in
/// from their mailbox first. Withdrawing through the link still works at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item09_a_reconfirmation_of_ad_targeting_through_a_link_needs_the_mailbox() {
    for s in servers().await {
        let db = s.db.name();
        let owner = s.signed_in(app::auth::Role::Owner).await;
        let publish = |fields: Vec<(&'static str, &'static str)>| {
            let owner = &owner;
            async move { owner.call("admin/publish_notice", &fields).await.status() }
        };
        let v1 = vec![("version", "v1"), ("text_ja", "一"), ("text_en", "One.")];
        assert_eq!(publish(v1).await, 200, "{db}");
        let (who, token) = s.subject("reconfirm-link@example.com", Lang::En).await;
        choose(&s, who, "ad_targeting", Channel::Web, ConsentState::Granted).await;
        let v2 = vec![
            ("version", "v2"),
            ("material", "on"),
            ("purposes", "ad_targeting"),
            ("summary_ja", "変更"),
            ("summary_en", "Changed."),
            ("text_ja", "二"),
            ("text_en", "Two."),
        ];
        assert_eq!(publish(v2).await, 200, "{db}");
        let reconfirm = |token: String, decision: &'static str| {
            let s = &s;
            async move {
                s.call(
                    "reconfirm",
                    &[
                        ("token", token.as_str()),
                        ("purpose", "ad_targeting"),
                        ("decision", decision),
                    ],
                )
                .await
            }
        };
        let before = s.event_count(who).await;
        let res = reconfirm(token.clone(), "confirm").await;
        assert_eq!(res.status(), 403, "{db}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["code"], "sign_in_to_confirm", "{db}");
        assert_eq!(s.event_count(who).await, before, "{db}: nothing granted");

        // Signed in (the session began from the mailbox), it is confirmed at once.
        let res = s
            .signed_in_as(who)
            .await
            .call(
                "reconfirm",
                &[
                    ("token", ""),
                    ("purpose", "ad_targeting"),
                    ("decision", "confirm"),
                ],
            )
            .await;
        assert_eq!(res.status(), 200, "{db}: {}", res.text().await.unwrap());
        assert_eq!(s.event_count(who).await, before + 1, "{db}");
        s.stop().await;
    }
}
