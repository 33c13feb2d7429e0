//! Webhooks (issue 32), on both databases, against a real HTTP receiver started by the test:
//! Standard Webhooks signatures (and the reference example), every event in order with no gap
//! across a receiver outage, filters, secret rotation (both signatures), refused private
//! addresses (when added and when delivering), failing → disabled → enabled with replay.

mod common;

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use app::domain::{Channel, ConsentState, Lang};
use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
};
use common::{backends, consents::grant, server::TestServer};
use serde_json::{Value, json};

/// The example the Standard Webhooks reference libraries publish (their signing test):
/// secret, message id, timestamp and payload, and the signature they must give.
const EXAMPLE_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const EXAMPLE_ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
const EXAMPLE_TIMESTAMP: i64 = 1649367553;
const EXAMPLE_PAYLOAD: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
const EXAMPLE_SIGNATURE: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

#[test]
fn signatures_match_the_published_example() {
    let sig = server::webhooks::send::signature(
        &[EXAMPLE_SECRET.to_owned()],
        EXAMPLE_ID,
        EXAMPLE_TIMESTAMP,
        EXAMPLE_PAYLOAD,
    )
    .unwrap();
    assert_eq!(sig, EXAMPLE_SIGNATURE);
    // Two secrets (a rotation): two space-separated entries, each verifying on its own.
    let other = app::domain::webhook::new_secret([7; 32]);
    let both = server::webhooks::send::signature(
        &[other.clone(), EXAMPLE_SECRET.to_owned()],
        EXAMPLE_ID,
        EXAMPLE_TIMESTAMP,
        EXAMPLE_PAYLOAD,
    )
    .unwrap();
    let entries: Vec<&str> = both.split(' ').collect();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1], EXAMPLE_SIGNATURE);
    assert!(entries[0].starts_with("v1,") && entries[0] != EXAMPLE_SIGNATURE);
}

/// One request the receiver got.
#[derive(Clone)]
struct Got {
    headers: HeaderMap,
    body: Bytes,
    accepted: bool,
}

/// A receiver: records every request; answers 503 while `down`, else 200 after `delay_ms`.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Got>>>,
    down: Arc<AtomicBool>,
    delay_ms: Arc<AtomicU64>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let delay = r.delay_ms.load(Ordering::Relaxed);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let accepted = !r.down.load(Ordering::Relaxed);
    r.got.lock().unwrap().push(Got {
        headers,
        body,
        accepted,
    });
    if accepted {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

impl Receiver {
    /// Serves on 127.0.0.1 (a free port); returns the URL to post to.
    async fn start(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(self.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/hook")
    }

    fn accepted(&self) -> Vec<Got> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|g| g.accepted)
            .cloned()
            .collect()
    }

    /// Waits until `n` requests were accepted (or fails after `secs`).
    async fn wait_for(&self, n: usize, secs: u64) -> Vec<Got> {
        for _ in 0..secs * 20 {
            if self.accepted().len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let got = self.accepted();
        assert!(got.len() >= n, "{} of {n} delivered", got.len());
        got
    }
}

fn body(g: &Got) -> Value {
    serde_json::from_slice(&g.body).unwrap()
}

/// Checks a request by the Standard Webhooks rules with `secret`.
fn verifies(g: &Got, secret: &str) -> bool {
    standardwebhooks::Webhook::new(secret)
        .unwrap()
        .verify(&g.body, &g.headers)
        .is_ok()
}

/// A server whose dispatcher may call 127.0.0.1 and retries quickly.
async fn server(db: common::TestDb, schedule_ms: &str, disable_after_secs: u64) -> TestServer {
    let schedule: Vec<u64> = schedule_ms.split(',').map(|x| x.parse().unwrap()).collect();
    TestServer::start_with(db, |c| {
        c.webhook_allow_hosts = vec!["127.0.0.1".into()];
        c.webhook_retry_schedule_ms = schedule;
        c.webhook_disable_after_secs = disable_after_secs;
    })
    .await
}

async fn api_key(s: &TestServer) -> String {
    s.services
        .create_api_key("hooks", &["webhooks:write".to_string()])
        .await
        .unwrap()
        .1
}

async fn api(
    s: &TestServer,
    key: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = s
        .client
        .request(method, format!("{}{path}", s.base))
        .bearer_auth(key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = StatusCode::from_u16(res.status().as_u16()).unwrap();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// `n` consent changes by new subjects: `purpose` granted (`ad_targeting` on the web, others by
/// email).
/// Adds an endpoint through the API delivering to `rx` (started here), with `fields` beside its
/// URL; answers the status and the JSON answer (the endpoint and its secret).
async fn add_endpoint(
    s: &TestServer,
    key: &str,
    rx: &Receiver,
    fields: Value,
) -> (StatusCode, Value) {
    let mut body = fields;
    body["url"] = json!(rx.start().await);
    api(
        s,
        key,
        reqwest::Method::POST,
        "/api/v1/webhooks",
        Some(body),
    )
    .await
}

async fn changes(s: &TestServer, tag: &str, n: usize, purpose: &str) {
    let channel = if purpose == "ad_targeting" {
        Channel::Web
    } else {
        Channel::Email
    };
    for i in 0..n {
        let email = format!("{tag}{i}@example.jp");
        s.services
            .create_subject(None, Some(&email), None, app::domain::Lang::Ja)
            .await
            .unwrap();
        grant(&s.services, &email, purpose, channel).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_arrives_signed_in_order_across_an_outage_and_filters_hold() {
    for db in backends().await {
        let s = server(db, "30,60,120", 3600).await;
        let key = api_key(&s).await;
        let rx = Receiver::default();
        let (status, made) = add_endpoint(&s, &key, &rx, json!({"description": "all"})).await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        let secret = made["secret"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("whsec_"));
        let id = made["webhook"]["id"].as_str().unwrap().to_owned();
        // A second endpoint wants `ad_targeting` only.
        let rx_offers = Receiver::default();
        let only = json!({"purposes": ["ad_targeting"], "kinds": ["consent.changed"]});
        let (status, offers) = add_endpoint(&s, &key, &rx_offers, only).await;
        assert_eq!(status, StatusCode::CREATED, "{offers}");

        changes(&s, "a", 10, "newsletter").await;
        rx.wait_for(5, 20).await;
        // The receiver goes down while more is recorded, then comes back.
        rx.down.store(true, Ordering::Relaxed);
        changes(&s, "b", 10, "newsletter").await;
        changes(&s, "c", 5, "ad_targeting").await;
        tokio::time::sleep(Duration::from_millis(600)).await;
        let refused = rx
            .got
            .lock()
            .unwrap()
            .iter()
            .filter(|g| !g.accepted)
            .count();
        assert!(
            refused >= 2,
            "{}: retried while down ({refused})",
            s.db.name()
        );
        rx.down.store(false, Ordering::Relaxed);
        let got = rx.wait_for(25, 30).await;

        // Exactly the 25 events, each once, in chain order with no gap; signed; the id is the
        // event's; the body is {type, timestamp, data}.
        let cursors: Vec<i64> = got
            .iter()
            .map(|g| body(g)["data"]["cursor"].as_i64().unwrap())
            .collect();
        assert_eq!(cursors.len(), 25, "{}: {cursors:?}", s.db.name());
        let first = cursors[0];
        assert_eq!(
            cursors,
            (first..first + 25).collect::<Vec<_>>(),
            "{}: in order, none missing, none twice",
            s.db.name()
        );
        for g in &got {
            assert!(verifies(g, &secret), "{}: signature", s.db.name());
            let b = body(g);
            assert_eq!(b["type"], "consent.changed");
            assert!(b["timestamp"].as_str().unwrap().contains('T'));
            assert_eq!(
                g.headers["webhook-id"].to_str().unwrap(),
                b["data"]["id"].as_str().unwrap()
            );
            assert!(!verifies(g, &app::domain::webhook::new_secret([1; 32])));
        }
        // Retries carry the same id; the cursor moved past all (recorded when the round that
        // sent the last one ends, a moment after the receiver has it).
        let mut e = Value::Null;
        for _ in 0..100 {
            (_, e) = api(
                &s,
                &key,
                reqwest::Method::GET,
                &format!("/api/v1/webhooks/{id}"),
                None,
            )
            .await;
            if e["cursor"].as_i64() == Some(first + 24) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(e["cursor"].as_i64().unwrap(), first + 24);
        assert_eq!(e["state"], "active");
        let (status, log) = api(
            &s,
            &key,
            reqwest::Method::GET,
            &format!("/api/v1/webhooks/{id}/deliveries?limit=1000"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let log = log.as_array().unwrap();
        assert!(
            log.iter()
                .any(|d| d["status"] == 503 && d["attempt"].as_i64().unwrap() >= 2)
        );
        assert_eq!(log.iter().filter(|d| d["status"] == 200).count(), 25);

        // The filtered endpoint got the five `ad_targeting` changes only.
        let got = rx_offers.wait_for(5, 20).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(rx_offers.accepted().len(), 5, "{}", s.db.name());
        assert!(
            got.iter()
                .all(|g| body(g)["data"]["purpose"] == "ad_targeting")
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_sends_both_signatures() {
    for db in backends().await {
        let s = server(db, "30", 3600).await;
        let key = api_key(&s).await;
        let rx = Receiver::default();
        let (_, made) = add_endpoint(&s, &key, &rx, json!({})).await;
        let old = made["secret"].as_str().unwrap().to_owned();
        let id = made["webhook"]["id"].as_str().unwrap().to_owned();
        let (status, rotated) = api(
            &s,
            &key,
            reqwest::Method::POST,
            &format!("/api/v1/webhooks/{id}/rotate"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{rotated}");
        let new = rotated["secret"].as_str().unwrap().to_owned();
        assert_ne!(new, old);
        assert!(rotated["previous_secret_until"].is_string());
        changes(&s, "r", 2, "newsletter").await;
        let got = rx.wait_for(2, 20).await;
        for g in &got {
            let sig = g.headers["webhook-signature"].to_str().unwrap();
            assert_eq!(sig.split(' ').count(), 2, "{}: {sig}", s.db.name());
            assert!(verifies(g, &new) && verifies(g, &old));
        }
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_addresses_are_refused_when_added_and_when_delivering() {
    for db in backends().await {
        // No allow-list: the operator allowed nothing.
        let s = TestServer::start_with(db, |c| c.webhook_retry_schedule_ms = vec![50]).await;
        let key = api_key(&s).await;
        for (url, code) in [
            ("https://127.0.0.1/x", "webhook_address_forbidden"),
            ("https://10.0.0.8/x", "webhook_address_forbidden"),
            (
                "https://169.254.169.254/latest",
                "webhook_address_forbidden",
            ),
            ("https://[fd00:ec2::254]/", "webhook_address_forbidden"),
            ("https://[::1]/", "webhook_address_forbidden"),
            ("https://localhost/", "webhook_address_forbidden"),
            ("http://hooks.example.com/", "webhook_https_required"),
            ("ftp://hooks.example.com/", "webhook_url_invalid"),
        ] {
            let (status, e) = api(
                &s,
                &key,
                reqwest::Method::POST,
                "/api/v1/webhooks",
                Some(json!({"url": url})),
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{url}");
            assert_eq!(e["code"], code, "{url}");
            assert!(!e["message"].as_str().unwrap().is_empty());
        }
        // A name that resolves to loopback, as a public name could after DNS rebinding: the
        // endpoint was added with a public address, then its URL changed underneath; the
        // delivery resolves it again and refuses it; nothing reaches the receiver.
        let rx = Receiver::default();
        let url = rx
            .start()
            .await
            .replace("http://127.0.0.1", "https://localhost");
        let (e, _) = s
            .services
            .add_webhook(
                app::services::WebhookInput {
                    url: "https://93.184.216.34/x".into(),
                    ..Default::default()
                },
                app::services::now(),
            )
            .await
            .map_err(|r| r.code)
            .unwrap_or_else(|code| panic!("{code}"));
        s.db.raw(&format!(
            "UPDATE webhook_endpoints SET url = '{url}' WHERE id = '{}'",
            e.id
        ))
        .await
        .unwrap();
        changes(&s, "p", 1, "newsletter").await;
        let mut log = Vec::new();
        for _ in 0..100 {
            log = s.services.webhook_deliveries(&e.id, 10).await.unwrap();
            if !log.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(!log.is_empty(), "{}: an attempt was logged", s.db.name());
        assert_eq!(log[0].status, None);
        assert!(
            log[0]
                .error
                .as_deref()
                .unwrap()
                .contains("webhook_address_forbidden"),
            "{:?}",
            log[0].error
        );
        assert!(rx.got.lock().unwrap().is_empty());
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_failing_too_long_is_disabled_then_replays_from_a_cursor() {
    for db in backends().await {
        let s = server(db, "20,40", 1).await;
        let key = api_key(&s).await;
        let rx = Receiver::default();
        rx.down.store(true, Ordering::Relaxed);
        let (_, made) = add_endpoint(&s, &key, &rx, json!({})).await;
        let id = made["webhook"]["id"].as_str().unwrap().to_owned();
        let start = made["webhook"]["cursor"].as_i64().unwrap();
        changes(&s, "d", 3, "newsletter").await;
        let mut e = Value::Null;
        for _ in 0..100 {
            e = api(
                &s,
                &key,
                reqwest::Method::GET,
                &format!("/api/v1/webhooks/{id}"),
                None,
            )
            .await
            .1;
            if e["state"] == "disabled" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(e["state"], "disabled", "{}: {e}", s.db.name());
        assert_eq!(e["disabled_reason"], "failing_too_long");
        assert!(e["failures"].as_i64().unwrap() >= 3);
        assert_eq!(
            e["cursor"].as_i64().unwrap(),
            start,
            "nothing was answered 2xx"
        );
        // Enabled again from its start cursor: all three arrive, in order.
        rx.down.store(false, Ordering::Relaxed);
        let (status, e) = api(
            &s,
            &key,
            reqwest::Method::PATCH,
            &format!("/api/v1/webhooks/{id}"),
            Some(json!({"state": "active", "from_cursor": start})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{e}");
        assert_eq!(e["state"], "active");
        let got = rx.wait_for(3, 20).await;
        let cursors: Vec<i64> = got
            .iter()
            .map(|g| body(g)["data"]["cursor"].as_i64().unwrap())
            .collect();
        assert_eq!(cursors, vec![start + 1, start + 2, start + 3]);
        // Refusals: an unknown endpoint, a bad state, a key without the scope.
        let (status, e) = api(
            &s,
            &key,
            reqwest::Method::GET,
            "/api/v1/webhooks/wh_nope",
            None,
        )
        .await;
        assert_eq!(
            (status, e["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("unknown_webhook"))
        );
        let (status, _) = api(
            &s,
            &key,
            reqwest::Method::PATCH,
            &format!("/api/v1/webhooks/{id}"),
            Some(json!({"state": "paused"})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let other = s
            .services
            .create_api_key("x", &["links".to_string()])
            .await
            .unwrap()
            .1;
        let (status, e) = api(&s, &other, reqwest::Method::GET, "/api/v1/webhooks", None).await;
        assert_eq!(
            (status, e["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden_scope"))
        );
        let (status, _) = api(
            &s,
            &key,
            reqwest::Method::DELETE,
            &format!("/api/v1/webhooks/{id}"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        s.stop().await;
    }
}

fn doui(dir: &std::path::Path, db_url: &str, port: u16) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_doui"));
    cmd.current_dir(dir)
        .env_remove("DOUI_CONFIG")
        .env("DATABASE_URL", db_url)
        .env("DOUI_DATA_DIR", dir.join("data"))
        .env("DOUI_DEMO", "false")
        .env("DOUI_LOG", "warn")
        .env("DOUI_LISTEN", format!("127.0.0.1:{port}"))
        .env("DOUI_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .env("DOUI_WEBHOOK_ALLOW_HOSTS", "127.0.0.1")
        .env("DOUI_WEBHOOK_RETRY_SCHEDULE_MS", "50");
    cmd
}

async fn wait_until_up(port: u16) {
    for _ in 0..200 {
        if reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("doui did not start");
}

/// `kill -9` of the server while it delivers: after a restart the receiver has every event, the
/// first arrivals in chain order with no gap; only what was in flight came twice.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_delivery_loses_nothing() {
    const N: usize = 300;
    for db in backends().await {
        let dir = std::env::temp_dir().join(common::unique("doui_hook_kill"));
        std::fs::create_dir_all(&dir).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let rx = Receiver::default();
        rx.delay_ms.store(2, Ordering::Relaxed);
        let url = rx.start().await;
        let mut server = doui(&dir, &db.url, port)
            .arg("serve")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        wait_until_up(port).await;
        let out = doui(&dir, &db.url, port)
            .args(["webhook", "add", &url, "--description", "kill test"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        let secret = stdout.lines().nth(1).unwrap().to_owned();
        assert!(secret.starts_with("whsec_"), "{stdout}");

        let services = common::services(&db);
        for i in 0..N {
            let email = format!("k{i}@example.jp");
            services
                .create_subject(None, Some(&email), None, app::domain::Lang::Ja)
                .await
                .unwrap();
            grant(&services, &email, "newsletter", Channel::Email).await;
        }
        rx.wait_for(40, 30).await;
        server.kill().unwrap(); // SIGKILL
        server.wait().unwrap();
        let before = rx.accepted().len();
        assert!(
            before < N,
            "{}: the kill came mid-delivery ({before})",
            db.name()
        );

        let mut server = doui(&dir, &db.url, port)
            .arg("serve")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // The crashed instance's lease lapses (15 s), then the new one goes on.
        for _ in 0..1200 {
            let distinct: std::collections::BTreeSet<i64> = rx
                .accepted()
                .iter()
                .map(|g| body(g)["data"]["cursor"].as_i64().unwrap())
                .collect();
            if distinct.len() >= N {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server.kill().unwrap();
        server.wait().unwrap();
        let got = rx.accepted();
        let mut first_seen = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for g in &got {
            assert!(verifies(g, &secret), "{}: signature", db.name());
            let c = body(g)["data"]["cursor"].as_i64().unwrap();
            if seen.insert(c) {
                first_seen.push(c);
            }
        }
        assert_eq!(first_seen.len(), N, "{}: every event arrived", db.name());
        let start = first_seen[0];
        assert_eq!(
            first_seen,
            (start..start + N as i64).collect::<Vec<_>>(),
            "{}: in chain order, no gap",
            db.name()
        );
        let repeated = got.len() - N;
        assert!(
            repeated <= ::server::webhooks::ROUND_ITEMS as usize,
            "{}: only the round in flight repeats ({repeated})",
            db.name()
        );
        println!("{}: {repeated} delivered twice after the kill", db.name());
        std::fs::remove_dir_all(&dir).ok();
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_adds_shows_rotates_disables_and_enables_an_endpoint() {
    for db in backends().await {
        let s = server(db, "30", 3600).await;
        let rx = Receiver::default();
        let url = rx.start().await;
        let owner = s.signed_in(app::auth::Role::Owner).await;
        // Added by the form: the secret is shown once, never cached.
        let res = owner
            .post(
                "/admin/webhooks",
                &[
                    ("url", url.as_str()),
                    ("description", "CRM"),
                    ("purposes", "newsletter"),
                    ("lang", "en"),
                ],
            )
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["cache-control"], "no-store");
        let page = res.text().await.unwrap();
        let secret = page
            .split("id=\"webhook-secret\">")
            .nth(1)
            .and_then(|r| r.split('<').next())
            .unwrap()
            .to_owned();
        assert!(secret.starts_with("whsec_"), "{page}");
        let id = s.services.webhooks().await.unwrap()[0].id.clone();
        changes(&s, "w", 2, "newsletter").await;
        let got = rx.wait_for(2, 20).await;
        assert!(got.iter().all(|g| verifies(g, &secret)));
        // The page lists it, its state and its deliveries; the secret is not on it.
        let page = owner
            .get("/admin/webhooks?lang=en")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains(&id) && page.contains("CRM") && page.contains("Active"),
            "{page}"
        );
        assert!(page.contains("<td class=\"status\">200</td>"), "{page}");
        assert!(!page.contains(&secret));
        // Disabled, then enabled again from a cursor (replay).
        let res = owner
            .post(
                "/api/admin/disable_webhook",
                &[("id", id.as_str()), ("return_to", "/admin/webhooks")],
            )
            .await;
        assert_eq!(res.status(), 303);
        let page = owner
            .get("/admin/webhooks?lang=ja")
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("管理者が停止しました。"), "{page}");
        let start = got
            .iter()
            .map(|g| body(g)["data"]["cursor"].as_i64().unwrap())
            .min()
            .unwrap()
            - 1;
        let res = owner
            .post(
                "/api/admin/enable_webhook",
                &[
                    ("id", id.as_str()),
                    ("from", "cursor"),
                    ("cursor", &start.to_string()),
                    ("time", ""),
                    ("return_to", "/admin/webhooks"),
                ],
            )
            .await;
        assert_eq!(res.status(), 303);
        let again = rx.wait_for(4, 20).await;
        assert_eq!(
            body(&again[2])["data"]["cursor"].as_i64().unwrap(),
            start + 1,
            "replayed"
        );
        // Rotation shows a new secret; both sign for now.
        let res = owner
            .post("/admin/webhooks/rotate", &[("id", id.as_str())])
            .await;
        assert_eq!(res.status(), 200);
        let page = res.text().await.unwrap();
        assert!(page.contains("whsec_") && !page.contains(&secret));
        // A viewer sees the page but may not add.
        let viewer = s.signed_in(app::auth::Role::Viewer).await;
        assert_eq!(viewer.get("/admin/webhooks").await.status(), 200);
        let res = viewer
            .post("/admin/webhooks", &[("url", url.as_str())])
            .await;
        assert_eq!(res.status(), 403);
        assert_eq!(s.services.webhooks().await.unwrap().len(), 1);
        s.stop().await;
    }
}

/// A registered third-party recipient (APPI 第27条).
async fn recipient(s: &TestServer, id: &str, name: &str) {
    s.services
        .save_recipient(app::store::Recipient {
            id: id.into(),
            name: name.into(),
            address: "東京都港区1-2-3".into(),
            representative: "代表取締役 山田太郎".into(),
        })
        .await
        .unwrap();
}

/// `purpose` set to `to` for `who`, as the person's own change.
async fn set(s: &TestServer, who: app::domain::SubjectId, purpose: &str, to: ConsentState) {
    s.services
        .store
        .apply(vec![common::consents::change(
            who,
            purpose,
            Channel::Email,
            to,
            None,
        )])
        .await
        .unwrap();
}

/// `who` agrees to sharing and their data is provided to `to`.
async fn provided(s: &TestServer, who: app::domain::SubjectId, to: &str) {
    set(s, who, "third_party_sharing", ConsentState::Granted).await;
    let subject = s.services.store.subject(who).await.unwrap().unwrap();
    s.services
        .record_provision(
            &subject,
            app::services::ProvisionInput {
                recipient: to,
                purpose: None,
                identified_by: &["email".to_owned()],
                data_items: &["purchase history".to_owned()],
            },
            "test",
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r22_a_recipient_hears_the_withdrawals_of_people_provided_to_it_and_the_record_shows_when()
{
    for db in backends().await {
        let s = server(db, "30", 3600).await;
        let name = s.db.name();
        let key = api_key(&s).await;
        recipient(&s, "partner-a", "提携先A株式会社").await;
        recipient(&s, "partner-b", "提携先B株式会社").await;
        // A's and C's data went to partner-a, D's to partner-b (which has no endpoint); B agreed
        // to sharing but nothing of B's was provided to anyone.
        let (a, token_a) = s.subject("r22-a@example.jp", Lang::Ja).await;
        let (b, _) = s.subject("r22-b@example.jp", Lang::Ja).await;
        let (c, _) = s.subject("r22-c@example.jp", Lang::Ja).await;
        let (d, token_d) = s.subject("r22-d@example.jp", Lang::En).await;
        provided(&s, a, "partner-a").await;
        provided(&s, c, "partner-a").await;
        provided(&s, d, "partner-b").await;
        set(&s, b, "third_party_sharing", ConsentState::Granted).await;

        // An unknown recipient is refused (API, in both languages; console form; service).
        for (lang, words) in [
            ("en", "no such recipient"),
            ("ja", "提供先は登録されていません"),
        ] {
            let res = s
                .client
                .post(format!("{}/api/v1/webhooks", s.base))
                .bearer_auth(&key)
                .header("accept-language", lang)
                .json(&json!({"url": "https://93.184.216.34/x", "recipient": "nobody"}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status().as_u16(), 404, "{name}");
            let e: Value = res.json().await.unwrap();
            assert_eq!(e["code"], "unknown_recipient", "{name}");
            assert!(
                e["message"].as_str().unwrap().contains(words),
                "{name}: {e}"
            );
        }
        let owner = s.signed_in(app::auth::Role::Owner).await;
        let res = owner
            .post(
                "/admin/webhooks",
                &[
                    ("url", "https://93.184.216.34/x"),
                    ("recipient", "nobody"),
                    ("lang", "ja"),
                ],
            )
            .await;
        let page = res.text().await.unwrap();
        assert!(
            page.contains("その提供先は登録されていません。"),
            "{name}: {page}"
        );
        assert!(s.services.webhooks().await.unwrap().is_empty(), "{name}");

        // partner-a's endpoint.
        let rx = Receiver::default();
        let (status, made) = add_endpoint(&s, &key, &rx, json!({"recipient": "partner-a"})).await;
        assert_eq!(status, StatusCode::CREATED, "{name}: {made}");
        assert_eq!(made["webhook"]["recipient"], "partner-a");
        let secret = made["secret"].as_str().unwrap().to_owned();

        // Not for partner-a: B (never provided) withdraws sharing; C withdraws another purpose;
        // A grants another purpose; D (provided to partner-b) withdraws sharing.
        set(&s, b, "third_party_sharing", ConsentState::Withdrawn).await;
        set(&s, c, "newsletter", ConsentState::Withdrawn).await;
        set(&s, a, "newsletter", ConsentState::Granted).await;
        set(&s, d, "third_party_sharing", ConsentState::Withdrawn).await;
        // For partner-a: A withdraws the sharing it was given A's data under.
        set(&s, a, "third_party_sharing", ConsentState::Withdrawn).await;
        let got = rx.wait_for(1, 20).await;
        // Delivered in order: what came before it was passed over for good.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(rx.accepted().len(), 1, "{name}: only A's withdrawal");
        let b0 = body(&got[0]);
        assert!(verifies(&got[0], &secret), "{name}");
        assert_eq!(b0["data"]["email"], "r22-a@example.jp", "{name}: {b0}");
        assert_eq!(b0["data"]["purpose"], "third_party_sharing");
        assert_eq!(b0["data"]["to"], "withdrawn");
        assert_eq!(b0["recipient"]["id"], "partner-a");
        assert_eq!(b0["recipient"]["erasure"], false);
        assert_eq!(b0["recipient"]["subject_id"], a.to_string());

        // The provision record shows when the withdrawal was delivered (recorded with the
        // cursor, just after the 2xx).
        let mut delivered = None;
        for _ in 0..100 {
            let (rows, _) = s.services.provisions_with_withdrawals(a).await.unwrap();
            if let Some(app::domain::webhook::WithdrawalDelivery::Delivered(at)) = rows[0].1 {
                delivered = Some(at);
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let at = delivered.unwrap_or_else(|| panic!("{name}: no delivery recorded"));
        let (_, told) = s.services.provisions_with_withdrawals(a).await.unwrap();
        assert_eq!(told.len(), 1, "{name}");
        assert_eq!(told[0].event_id, b0["data"]["id"].as_str().unwrap());
        assert_eq!(told[0].recipient, "partner-a");
        // C's provision: nothing withdrawn since. D's: withdrawn, partner-b not told.
        let (rows_c, told_c) = s.services.provisions_with_withdrawals(c).await.unwrap();
        assert_eq!(rows_c[0].1, None, "{name}");
        assert!(told_c.is_empty());
        let (rows_d, _) = s.services.provisions_with_withdrawals(d).await.unwrap();
        assert_eq!(
            rows_d[0].1,
            Some(app::domain::webhook::WithdrawalDelivery::NotYet),
            "{name}"
        );
        let when = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at) * 1_000_000)
            .unwrap()
            .format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .unwrap();
        // The console's subject page, the person's own page and their record say so.
        let viewer = s.signed_in(app::auth::Role::Viewer).await;
        let page = viewer
            .get(&format!("/admin/subjects/{a}?lang=en"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains(&format!(
                "Withdrawal delivered to 提携先A株式会社 at {when}"
            )),
            "{name}: {page}"
        );
        let page = viewer
            .get(&format!("/admin/subjects/{d}?lang=ja"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("撤回はまだ提携先B株式会社に通知されていません"),
            "{name}: {page}"
        );
        let page = s
            .get(&format!("/p/{token_a}"), "ja")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains(&format!("撤回を提携先A株式会社に通知しました（{when}）")),
            "{name}: {page}"
        );
        let page = s
            .get(&format!("/p/{token_d}"), "en")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("Withdrawal not yet delivered to 提携先B株式会社"),
            "{name}: {page}"
        );
        let file: Value = s
            .get(&format!("/p/{token_a}/record.json"), "ja")
            .await
            .json()
            .await
            .unwrap();
        let p = &file["provisions"][0];
        assert_eq!(p["withdrawal"]["delivered"], true, "{name}: {p}");
        assert_eq!(p["notifications"][0]["state"], "withdrawn");
        assert_eq!(p["notifications"][0]["endpoint_id"], made["webhook"]["id"]);
        // The signed receipt carries it too.
        let r = &file["receipt_content"]["record"]["provisions"][0];
        assert!(
            r["withdrawal_notice"]["delivered_at"]
                .as_str()
                .is_some_and(|t| t.contains('T')),
            "{name}: {r}"
        );
        // Recipient notifications are append-only.
        assert!(
            s.db.raw("DELETE FROM recipient_notifications")
                .await
                .is_err(),
            "{name}"
        );

        // Erasures: B's (never provided) is not sent; A's is, marked as one: its withdrawals of
        // the sharing purpose (on the channels A had not withdrawn yet: phone, postal), not of
        // A's other purposes.
        let provenance = common::consents::change(
            a,
            "newsletter",
            Channel::Email,
            ConsentState::Withdrawn,
            None,
        )
        .provenance;
        for who in ["r22-b@example.jp", "r22-a@example.jp"] {
            s.services
                .erase_subject(
                    who,
                    "asked by phone",
                    app::services::Eraser::Cli,
                    provenance.clone(),
                )
                .await
                .unwrap();
        }
        rx.wait_for(3, 20).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let got = rx.accepted();
        assert_eq!(got.len(), 3, "{name}: A's erasure only");
        for g in &got[1..] {
            let b = body(g);
            assert_eq!(b["recipient"]["erasure"], true, "{name}: {b}");
            assert_eq!(b["recipient"]["subject_id"], a.to_string());
            assert_eq!(b["data"]["purpose"], "third_party_sharing");
            assert_eq!(b["data"]["email"], Value::Null, "erased: no email");
        }
        s.stop().await;
    }
}
