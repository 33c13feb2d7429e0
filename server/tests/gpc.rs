//! Global Privacy Control on SQLite and PostgreSQL (R13–R21): `Sec-GPC: 1`, exactly, opts the
//! known subject out of ad targeting and third-party sharing with source `gpc`; the page says so
//! without a pop-up; a later request without the signal opts nobody back in; the site serves
//! `/.well-known/gpc.json`.

mod common;

use app::domain::{Lang, Source};
use common::server::{TestServer, servers};
use reqwest::header;

/// Opens the preference center with `gpc` as the Sec-GPC header (none when `None`).
async fn open(s: &TestServer, token: &str, gpc: Option<&str>) -> String {
    let mut req = s
        .client
        .get(format!("{}/p/{token}", s.base))
        .header(header::ACCEPT_LANGUAGE, "en");
    if let Some(v) = gpc {
        req = req.header("sec-gpc", v);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

/// The person's own change through their page, signed in (through a link, sharing and ad
/// targeting wait for a mailed confirmation), with the signal on.
async fn set_with_gpc(
    s: &TestServer,
    who: app::domain::SubjectId,
    purpose: &str,
    channel: &str,
    state: &str,
) {
    let person = s.signed_in_as(who).await;
    let res = person
        .client
        .post(format!("{}/api/set_consent", s.base))
        .header(header::ACCEPT, "application/json")
        .header("sec-gpc", "1")
        .form(&[
            ("token", ""),
            ("purpose", purpose),
            ("channel", channel),
            ("state", state),
            ("csrf", person.csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

/// (purpose, channel, to, source) of each event, oldest first.
async fn events(
    s: &TestServer,
    who: app::domain::SubjectId,
) -> Vec<(String, String, String, Source)> {
    let mut all: Vec<_> = s
        .services
        .store
        .events_for_subject(who, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            (
                e.purpose.to_string(),
                e.channel.key().to_owned(),
                e.to.key().to_owned(),
                e.provenance.source,
            )
        })
        .collect();
    all.reverse();
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r13_r16_r18_r19_r20_gpc_opts_the_known_subject_out_and_later_requests_do_not_opt_in() {
    for s in servers().await {
        let (who, token) = s.subject("gpc@example.com", Lang::En).await;
        let person = s.signed_in_as(who).await;
        // Earlier opt-ins: ad targeting on the web, sharing by email, and the newsletter.
        for (purpose, channel) in [
            ("ad_targeting", "web"),
            ("third_party_sharing", "email"),
            ("newsletter", "email"),
        ] {
            let res = person
                .call(
                    "set_consent",
                    &[
                        ("token", ""),
                        ("purpose", purpose),
                        ("channel", channel),
                        ("state", "granted"),
                    ],
                )
                .await;
            assert_eq!(res.status(), 200);
        }
        // R13: only exactly "1" is the signal.
        for not_the_signal in ["0", "true", "yes"] {
            let page = open(&s, &token, Some(not_the_signal)).await;
            assert!(!page.contains("data-gpc=\"honoured\""));
        }
        assert_eq!(events(&s, who).await.len(), 3, "{}", s.db.name());
        // R16, R18, R20: the signal wins over the earlier opt-ins it covers, and the page says so.
        let page = open(&s, &token, Some("1")).await;
        assert!(page.contains("data-gpc=\"honoured\""), "{page}");
        assert!(page.contains("Opt-Out Request Honored"));
        // R17: no pop-up, no dialog, nothing asked.
        assert!(!page.contains("<dialog") && !page.contains("role=\"dialog\""));
        let after = events(&s, who).await;
        let gpc: Vec<_> = after.iter().filter(|e| e.3 == Source::Gpc).collect();
        assert_eq!(gpc.len(), 2, "{after:?}");
        assert!(gpc.iter().all(|e| e.2 == "withdrawn"));
        assert!(gpc.iter().any(|e| e.0 == "ad_targeting" && e.1 == "web"));
        assert!(
            gpc.iter()
                .any(|e| e.0 == "third_party_sharing" && e.1 == "email")
        );
        // The newsletter is not sale or sharing: untouched.
        assert!(!gpc.iter().any(|e| e.0 == "newsletter"));
        // Again with the signal: nothing new. R19: without it, nothing is opted back in.
        open(&s, &token, Some("1")).await;
        let page = open(&s, &token, None).await;
        assert!(!page.contains("data-gpc=\"honoured\""));
        assert!(
            page.contains("data-gpc-browser"),
            "the page checks the browser's own flag"
        );
        assert_eq!(events(&s, who).await.len(), 5);
        // The person may still choose, knowingly, to allow ad targeting (7025(c)(3)): their
        // grant made with the signal on stays on later visits with the signal.
        set_with_gpc(&s, who, "ad_targeting", "web", "granted").await;
        open(&s, &token, Some("1")).await;
        let last = events(&s, who).await;
        assert_eq!(last.len(), 6, "{last:?}");
        assert_eq!(
            last.last().unwrap(),
            &(
                "ad_targeting".to_owned(),
                "web".to_owned(),
                "granted".to_owned(),
                Source::PreferenceCenter
            )
        );
        // A first grant made with the signal on (no earlier GPC opt-out of it) stays too.
        set_with_gpc(&s, who, "third_party_sharing", "phone", "granted").await;
        open(&s, &token, Some("1")).await;
        let last = events(&s, who).await;
        assert_eq!(last.len(), 7, "{last:?}");
        assert_eq!(last.last().unwrap().2, "granted");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r15_the_site_serves_gpc_json() {
    for s in servers().await {
        let res = s.get("/.well-known/gpc.json", "en").await;
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.headers()[header::CONTENT_TYPE].to_str().unwrap(),
            "application/json"
        );
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["gpc"], true);
        let date = body["lastUpdate"].as_str().unwrap();
        assert!(
            time::Date::parse(
                date,
                time::macros::format_description!("[year]-[month]-[day]")
            )
            .is_ok(),
            "{date}"
        );
        s.stop().await;
    }
}
