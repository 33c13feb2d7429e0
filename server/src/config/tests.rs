use super::*;
use checks::brand;
use std::collections::HashMap;

#[test]
fn a_brand_is_checked_when_it_is_configured() {
    let dir = std::env::temp_dir().join(format!("doui-brand-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let logo = dir.join("logo.png");
    std::fs::write(&logo, b"\x89PNG\r\n\x1a\n0000").unwrap();
    let b = brand(Some("#0b5394".into()), Some(logo)).unwrap();
    assert_eq!(b.accent.map(|a| a.hex()).as_deref(), Some("#0b5394"));
    assert!(b.logo.is_some());
    let light = brand(Some("#ffdd00".into()), None).unwrap_err().to_string();
    assert!(
        light.contains("too light") && light.contains("4.5:1"),
        "{light}"
    );
    let not_colour = brand(Some("red".into()), None).unwrap_err().to_string();
    assert!(not_colour.contains("#rrggbb"), "{not_colour}");
    let gif = dir.join("logo.gif");
    std::fs::write(&gif, b"GIF89a").unwrap();
    let format = brand(None, Some(gif)).unwrap_err().to_string();
    assert!(format.contains("PNG, JPEG, WebP or SVG"), "{format}");
    let missing = brand(None, Some(dir.join("none.png")))
        .unwrap_err()
        .to_string();
    assert!(missing.contains("could not be read"), "{missing}");
    assert_eq!(
        brand(None, None).unwrap(),
        app::domain::brand::Brand::default()
    );
    std::fs::remove_dir_all(dir).ok();
}

fn load(toml_text: &str, env: &[(&str, &str)]) -> anyhow::Result<Config> {
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_parts(toml::from_str(toml_text)?, |k| env.get(k).cloned())
}

#[test]
fn defaults_give_an_embedded_sqlite_database() {
    let c = load("", &[]).unwrap();
    assert_eq!(c.database_url, "sqlite:data/doui.db");
    assert_eq!(c.public_url, "http://127.0.0.1:3000");
    assert!(c.demo);
}

#[test]
fn environment_wins_over_the_file() {
    let c = load(
        "listen = \"0.0.0.0:8080\"\ndemo = false\n",
        &[("DOUI_LISTEN", "127.0.0.1:9000")],
    )
    .unwrap();
    assert_eq!(c.listen.port(), 9000);
    assert!(!c.demo);
}

#[test]
fn bad_values_are_refused_with_their_name() {
    assert!(load("nonsense = 1", &[]).is_err());
    let e = load("", &[("DOUI_DEMO", "maybe")]).unwrap_err().to_string();
    assert!(e.contains("DOUI_DEMO"), "{e}");
    assert!(load("", &[("DOUI_TOKEN_SECRET", "short")]).is_err());
    assert!(load("public_url = \"ftp://x\"", &[]).is_err());
    assert!(load("public_url = \"https://x.example\\r\\nBcc: y\"", &[]).is_err());
    let e = load("link_validity_days = 30", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("at least 60"), "{e}");
    let e = load("preference_link_validity_days = 0", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("preference_link_validity_days"), "{e}");
}

#[test]
fn a_read_replica_needs_postgresql() {
    let e = load("database_read_url = \"postgres://r/db\"", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("database_read_url needs PostgreSQL"), "{e}");
    let c = load(
        "database_url = \"postgres://p/db\"\ndatabase_read_url = \"postgres://r/db\"",
        &[],
    )
    .unwrap();
    let replica = c.read_replica.unwrap();
    assert_eq!(replica.url, "postgres://r/db");
    assert_eq!(replica.max_lag, crate::store::DEFAULT_MAX_LAG);
    let c = load(
        "database_url = \"postgres://p/db\"",
        &[
            ("DOUI_DATABASE_READ_URL", "postgres://u:pw@r/db"),
            ("DOUI_REPLICA_MAX_LAG_MS", "250"),
        ],
    )
    .unwrap();
    assert_eq!(
        c.read_replica.as_ref().unwrap().max_lag,
        std::time::Duration::from_millis(250)
    );
    assert!(!format!("{c:?}").contains("pw"));
    assert!(load("", &[("DOUI_REPLICA_MAX_LAG_MS", "soon")]).is_err());
    assert!(c.read_replica.is_some());
    assert!(
        load("database_url = \"postgres://p/db\"", &[])
            .unwrap()
            .read_replica
            .is_none()
    );
}

#[test]
fn sms_answers_default_to_the_sender_and_can_be_set_per_language() {
    let c = load("sender_name = \"Shop K.K.\"", &[]).unwrap();
    assert!(c.sms_auth_token.is_none());
    assert!(
        c.sms_replies.stop_en.starts_with("Shop K.K.:"),
        "{:?}",
        c.sms_replies
    );
    assert!(c.sms_replies.help_ja.starts_with("Shop K.K.:"));
    let c = load(
        "sms_reply_stop_ja = \"停止しました\"\nsms_auth_token = \"0123456789abcdef0123\"",
        &[("DOUI_SMS_HELP_EN", "Call 0120-000-000")],
    )
    .unwrap();
    assert_eq!(c.sms_replies.stop_ja, "停止しました");
    assert_eq!(c.sms_replies.help_en, "Call 0120-000-000");
    assert!(c.sms_replies.stop_en.contains("No further"));
    assert!(!format!("{c:?}").contains("0123456789abcdef0123"));
    let e = load("sms_help_ja = \"\"", &[]).unwrap_err().to_string();
    assert!(e.contains("sms_help_ja"), "{e}");
    let e = load("", &[("DOUI_SMS_AUTH_TOKEN", "short")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("sms_auth_token"), "{e}");
}

#[test]
fn item02_trusted_proxies_come_from_the_file_or_the_environment() {
    let c = load("trusted_proxies = [\"10.0.0.0/8\", \"2001:db8::1\"]", &[]).unwrap();
    assert_eq!(c.trusted_proxies.len(), 2);
    assert!(c.trusted_proxies[0].contains("10.2.3.4".parse().unwrap()));
    let c = load(
        "trusted_proxies = [\"10.0.0.0/8\"]",
        &[("DOUI_TRUSTED_PROXIES", "192.0.2.1, 198.51.100.0/24")],
    )
    .unwrap();
    assert_eq!(c.trusted_proxies.len(), 2);
    assert!(!c.trusted_proxies[0].contains("10.2.3.4".parse().unwrap()));
    let e = load("", &[("DOUI_TRUSTED_PROXIES", "10.0.0.0/40")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("trusted_proxies"), "{e}");
    assert!(load("", &[]).unwrap().trusted_proxies.is_empty());
}

#[test]
fn secrets_are_not_printed() {
    let c = load(
        "",
        &[
            ("DOUI_TOKEN_SECRET", &"s".repeat(40)),
            ("DOUI_SESSION_SECRET", &"q".repeat(40)),
            ("DATABASE_URL", "postgres://u:pw@h/db"),
            (
                "DOUI_SMTP_URL",
                "smtps://mailer:smtp-pass@smtp.example.jp:465",
            ),
        ],
    )
    .unwrap();
    let shown = format!("{c:?}");
    assert!(
        !shown.contains("ssss") && !shown.contains(":pw@") && !shown.contains("qqqq"),
        "{shown}"
    );
    assert!(
        !shown.contains("smtp-pass") && shown.contains("smtp.example.jp"),
        "{shown}"
    );
    let e = load("", &[("DOUI_SMTP_URL", "http://x")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("smtp_url"), "{e}");
    assert!(load("", &[("DOUI_SESSION_SECRET", "short")]).is_err());
    assert!(
        load("public_url = \"https://prefs.example.jp\"", &[])
            .unwrap()
            .cookie_secure
    );
}

#[test]
fn hardening_19_an_http_public_url_is_refused_outside_a_loopback_demo() {
    for url in [
        "http://prefs.example.jp",
        "http://192.0.2.10:3000",
        "http://0.0.0.0:3000",
        "http://localhost.example.jp",
    ] {
        let e = load(&format!("public_url = \"{url}\""), &[])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("must be https://") && e.contains("RFC 8058"),
            "{url}: {e}"
        );
    }
    for url in [
        "http://127.0.0.1:3000",
        "http://localhost:3000/",
        "http://[::1]:3000",
        "https://prefs.example.jp",
    ] {
        assert!(
            load(&format!("public_url = \"{url}\""), &[]).is_ok(),
            "{url}"
        );
    }
    // The default follows `listen`: a server listening on every address must say its URL.
    assert!(load("listen = \"0.0.0.0:3000\"", &[]).is_err());
}

#[test]
fn hardening_13_a_real_server_never_starts_with_demo_data() {
    let https = "public_url = \"https://prefs.example.jp\"";
    assert!(!load(https, &[]).unwrap().demo, "off by default at https");
    let e = load(https, &[("DOUI_DEMO", "true")])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("demo = true") && e.contains("DOUI_DEMO=false"),
        "{e}"
    );
    assert!(load(&format!("{https}\ndemo = true"), &[]).is_err());
    assert!(
        load("", &[]).unwrap().demo,
        "on by default for a loopback trial"
    );
}
