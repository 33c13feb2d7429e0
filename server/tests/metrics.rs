//! `/metrics` in the Prometheus text format, scraped from a running server on SQLite and
//! PostgreSQL and read with a Prometheus text parser: the families are there, the counters move
//! with the requests, changes, mail and refusals made, and the token is asked for.

mod common;

use std::collections::HashMap;

use app::domain::Lang;
use common::server::TestServer;
use prometheus_parse::{Scrape, Value};

const TOKEN: &str = "metrics-token-0123456789abcdef";

async fn scrape(client: &reqwest::Client, url: &str) -> Scrape {
    let res = client.get(url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = res.text().await.unwrap();
    Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("Prometheus text format")
}

/// The sum of a counter's samples whose labels include `labels`.
fn counter(s: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    s.samples
        .iter()
        .filter(|x| x.metric == name)
        .filter(|x| labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v)))
        .map(|x| match x.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum()
}

/// A histogram's count of observations whose labels include `labels`.
fn observations(s: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    s.samples
        .iter()
        .filter(|x| x.metric == name)
        .filter(|x| labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v)))
        .map(|x| match &x.value {
            Value::Histogram(buckets) => buckets.last().map(|b| b.count).unwrap_or(0.0),
            _ => 0.0,
        })
        .sum()
}

fn families(s: &Scrape) -> HashMap<&str, &Value> {
    s.samples
        .iter()
        .map(|x| (x.metric.as_str(), &x.value))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_scraped_and_move_with_what_the_server_does() {
    for db in common::backends().await {
        let name = db.name();
        let s = TestServer::start_with(db, |c| {
            c.ops.metrics_token = Some(TOKEN.into());
            c.ops.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
            // Two sign-in mails for one address in the window: the second is refused.
            c.limits.sign_in_per_address.max = 1;
        })
        .await;
        let client = reqwest::Client::new();
        let main = format!("{}/metrics", s.base);

        // The token is asked for on the main address, with a stable code.
        let res = client.get(&main).send().await.unwrap();
        assert_eq!(res.status(), 401, "{name}");
        assert_eq!(res.headers()["www-authenticate"], "Bearer");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["code"], "metrics_token_required", "{name}");
        let res = client
            .get(&main)
            .bearer_auth("metrics-token-0123456789abcdeX")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{name}: a wrong token");

        let before = scrape(&client, &main).await;

        // Pages, changes (one-click), a mail and a refusal.
        let (_, token) = s.subject(&format!("m-{name}@example.jp"), Lang::En).await;
        assert_eq!(
            s.client
                .get(format!("{}/p/{token}", s.base))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        assert_eq!(s.one_click(&token).await.status(), 200, "{name}");
        let browser = s.browser().await;
        let email = format!("m-{name}@example.jp");
        assert_eq!(
            browser.post("/signin", &[("email", &email)]).await.status(),
            303
        );
        let refused = browser.post("/signin", &[("email", &email)]).await;
        assert_eq!(
            refused.status(),
            429,
            "{name}: the second sign-in mail is refused"
        );

        // The separate listener serves the same text (and asks for the token too).
        let listener = format!(
            "http://{}/metrics",
            s.metrics_addr.expect("metrics_listen was set")
        );
        assert_eq!(
            client.get(&listener).send().await.unwrap().status(),
            401,
            "{name}"
        );
        // The sign-in mail goes out after the answer: wait for it.
        let mut after = scrape(&client, &listener).await;
        for _ in 0..50 {
            if counter(&after, "doui_mail_sent_total", &[])
                > counter(&before, "doui_mail_sent_total", &[])
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            after = scrape(&client, &listener).await;
        }

        let all = families(&after);
        for family in [
            "doui_http_requests_total",
            "doui_http_request_duration_seconds",
            "doui_group_commit_size",
            "doui_group_commit_duration_seconds",
            "doui_events_written_total",
            "doui_chain_unsealed_events",
            "doui_chain_length",
            "doui_db_pool_connections",
            "doui_rate_limit_refusals_total",
            "doui_mail_sent_total",
            "doui_build_info",
        ] {
            assert!(all.contains_key(family), "{name}: {family} missing");
        }
        assert!(matches!(
            all["doui_http_request_duration_seconds"],
            Value::Histogram(_)
        ));
        assert!(matches!(all["doui_group_commit_size"], Value::Histogram(_)));

        let moved = |metric: &str, labels: &[(&str, &str)]| {
            counter(&after, metric, labels) - counter(&before, metric, labels)
        };
        // Routes by template, never by the token in the path.
        assert!(
            moved(
                "doui_http_requests_total",
                &[
                    ("route", "/u/:token"),
                    ("method", "POST"),
                    ("status", "200")
                ]
            ) >= 1.0,
            "{name}: {:?}",
            after
                .samples
                .iter()
                .filter(|x| x.metric == "doui_http_requests_total")
                .map(|x| x.labels.to_string())
                .collect::<Vec<_>>()
        );
        assert!(
            moved(
                "doui_http_requests_total",
                &[("route", "/p/:token"), ("status", "200")]
            ) >= 1.0,
            "{name}"
        );
        assert!(
            !after
                .samples
                .iter()
                .any(|x| x.labels.get("route").is_some_and(|r| r.contains(&token))),
            "{name}: a token reached a label"
        );
        assert!(
            observations(
                &after,
                "doui_http_request_duration_seconds",
                &[("route", "/u/:token")]
            ) > observations(
                &before,
                "doui_http_request_duration_seconds",
                &[("route", "/u/:token")]
            ),
            "{name}"
        );
        assert!(moved("doui_events_written_total", &[]) >= 1.0, "{name}");
        assert!(
            observations(&after, "doui_group_commit_size", &[])
                > observations(&before, "doui_group_commit_size", &[]),
            "{name}"
        );
        assert!(moved("doui_mail_sent_total", &[]) >= 1.0, "{name}");
        assert!(
            moved(
                "doui_rate_limit_refusals_total",
                &[("limit", "signin-addr")]
            ) >= 1.0,
            "{name}"
        );
        assert_eq!(
            counter(
                &after,
                "doui_build_info",
                &[("version", env!("CARGO_PKG_VERSION"))]
            ),
            1.0
        );
        assert!(counter(&after, "doui_db_pool_connections", &[("state", "max")]) >= 1.0);
        // The sealer's lag and the chain: the one-click's events get sealed within a moment.
        let mut sealed = false;
        for _ in 0..50 {
            let now = scrape(&client, &listener).await;
            if counter(&now, "doui_chain_unsealed_events", &[]) == 0.0
                && counter(&now, "doui_chain_length", &[]) >= 1.0
            {
                sealed = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(sealed, "{name}: the sealer's lag went back to 0");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_or_address_metrics_are_not_served() {
    let s = TestServer::start(common::sqlite().await).await;
    let res = reqwest::get(format!("{}/metrics", s.base)).await.unwrap();
    assert_eq!(res.status(), 404);
    s.stop().await;
}
