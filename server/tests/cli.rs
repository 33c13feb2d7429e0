//! The `doui` command line, run as a user would.

mod common;

use std::process::{Command, Output};

struct Cli {
    dir: std::path::PathBuf,
    database_url: Option<String>,
}

impl Cli {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(common::unique("doui_cli"));
        std::fs::create_dir_all(&dir).unwrap();
        Self {
            dir,
            database_url: None,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_doui"));
        cmd.args(args)
            .current_dir(&self.dir)
            .env_remove("DATABASE_URL")
            .env_remove("DOUI_CONFIG")
            .env("DOUI_DATA_DIR", self.dir.join("data"))
            .env("DOUI_PUBLIC_URL", "https://prefs.example.jp")
            .env("DOUI_LOG", "warn");
        if let Some(url) = &self.database_url {
            cmd.env("DATABASE_URL", url);
        }
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs with `input` on standard input (a password, say).
    fn run_with_input(&self, args: &[&str], input: &str) -> Output {
        use std::io::Write;
        let mut cmd = self.command(args);
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "doui {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for Cli {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

fn link_in(text: &str) -> &str {
    text.lines()
        .find(|l| l.starts_with("https://"))
        .expect("a link is printed")
}

#[test]
fn migrate_then_add_a_subject_and_print_its_link_on_sqlite() {
    let cli = Cli::new();
    assert!(cli.ok(&["migrate"]).contains("database ready (sqlite)"));
    let added = cli.ok(&[
        "subject",
        "add",
        "--email",
        "Hanako@Example.JP",
        "--phone",
        "+81 90 1234 5678",
        "--lang",
        "ja",
        "--external-id",
        "C-1",
    ]);
    let link = link_in(&added);
    assert!(
        link.starts_with("https://prefs.example.jp/p/1.k1."),
        "{link}"
    );
    // The same subject by external id or by email (domain case does not matter).
    let by_id = cli.ok(&["link", "C-1"]);
    let by_email = cli.ok(&["link", "Hanako@example.jp"]);
    // The token's payload starts with the subject id (16 bytes: 21 base64 characters).
    let subject_part =
        |l: &str| l.rsplit_once("/p/").unwrap().1.split('.').nth(2).unwrap()[..21].to_owned();
    assert_eq!(subject_part(link_in(&by_id)), subject_part(link));
    assert_eq!(subject_part(link_in(&by_email)), subject_part(link));
    assert!(cli.dir.join("data/doui.db").exists());

    let key = cli.ok(&[
        "api-key",
        "create",
        "--name",
        "crm",
        "--scope",
        "links",
        "--scope",
        "suppressions",
    ]);
    assert!(key.starts_with("doui.") && key.trim().len() > 50, "{key}");
    let id = key.split('.').nth(1).unwrap();
    let listed = cli.ok(&["api-key", "list"]);
    assert!(
        listed.contains(id) && listed.contains("active") && listed.contains("links,suppressions")
    );
    assert!(
        !listed.contains(key.trim().rsplit('.').next().unwrap()),
        "secrets are never listed"
    );
    cli.ok(&["api-key", "revoke", id]);
    assert!(cli.ok(&["api-key", "list"]).contains("revoked"));
    assert!(
        !cli.run(&["api-key", "revoke", id]).status.success(),
        "already revoked"
    );
    assert!(
        !cli.run(&["api-key", "create", "--name", "x", "--scope", "everything"])
            .status
            .success()
    );
    assert!(cli.dir.join("data/token-keys.toml").exists());
}

#[tokio::test]
async fn the_same_commands_work_on_postgres() {
    let Some(db) = common::postgres().await else {
        return;
    };
    let mut cli = Cli::new();
    cli.database_url = Some(db.url.clone());
    assert!(cli.ok(&["migrate"]).contains("database ready (postgres)"));
    cli.ok(&[
        "subject",
        "add",
        "--email",
        "pg@example.com",
        "--lang",
        "en",
    ]);
    assert!(link_in(&cli.ok(&["link", "pg@example.com"])).contains("/p/1.k1."));
    db.cleanup().await;
}

#[test]
fn a_reader_that_stops_reading_ends_the_command_quietly() {
    // `doui migrate | true`: the pipe is closed before doui prints its line.
    let cli = Cli::new();
    let mut child = cli
        .command(&["migrate"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn mistakes_get_a_clear_message_and_a_failing_exit() {
    let cli = Cli::new();
    let unknown = cli.run(&["link", "nobody@example.com"]);
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("no subject with external id or email")
    );

    let bad_email = cli.run(&["subject", "add", "--email", "not-an-address"]);
    assert!(!bad_email.status.success());
    assert!(String::from_utf8_lossy(&bad_email.stderr).contains("email address is malformed"));

    cli.ok(&["subject", "add", "--email", "dup@example.com"]);
    let dup = cli.run(&["subject", "add", "--email", "dup@example.com"]);
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already registered"));

    let bad_lang = cli.run(&["subject", "add", "--email", "x@example.com", "--lang", "fr"]);
    assert!(String::from_utf8_lossy(&bad_lang.stderr).contains("--lang must be ja or en"));

    let csv = cli.ok(&[
        "suppressions",
        "--purpose",
        "newsletter",
        "--channel",
        "email",
    ]);
    assert_eq!(
        csv, "cursor,external_id,email,phone,withdrawn_at\n",
        "an empty list is just the header"
    );
    let unknown = cli.run(&[
        "suppressions",
        "--purpose",
        "astrology",
        "--channel",
        "email",
    ]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no such purpose"));

    std::fs::write(cli.dir.join("doui.toml"), "listen = \"nowhere\"\n").unwrap();
    let bad_config = cli.run(&["migrate"]);
    assert_eq!(bad_config.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_config.stderr).contains("doui.toml"));
}

#[test]
fn admins_are_created_with_a_password_from_standard_input_never_argv() {
    let cli = Cli::new();
    let out = cli.run_with_input(
        &[
            "admin",
            "create",
            "--email",
            "Owner@Example.JP",
            "--role",
            "owner",
        ],
        "correct horse battery 2026\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("admin owner@example.jp created (owner)"),
        "{stdout}"
    );
    assert!(!stdout.contains("battery"), "the password is never printed");

    let short = cli.run_with_input(
        &[
            "admin",
            "create",
            "--email",
            "v@example.jp",
            "--role",
            "viewer",
        ],
        "short\n",
    );
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12 characters"));
    let common = cli.run_with_input(
        &[
            "admin",
            "create",
            "--email",
            "v@example.jp",
            "--role",
            "viewer",
        ],
        "password1234\n",
    );
    assert!(String::from_utf8_lossy(&common.stderr).contains("too easy to guess"));
    let role = cli.run_with_input(
        &[
            "admin",
            "create",
            "--email",
            "v@example.jp",
            "--role",
            "root",
        ],
        "a-long-enough-passphrase\n",
    );
    assert!(String::from_utf8_lossy(&role.stderr).contains("viewer, operator or owner"));

    let listed = cli.ok(&["admin", "list"]);
    assert!(
        listed.contains("owner@example.jp") && listed.contains("owner"),
        "{listed}"
    );
    assert!(!listed.contains("argon2"), "hashes are never listed");

    // The last owner stays an owner.
    let demote = cli.run(&[
        "admin",
        "set-role",
        "--email",
        "owner@example.jp",
        "--role",
        "viewer",
    ]);
    assert!(String::from_utf8_lossy(&demote.stderr).contains("last owner"));

    let totp = cli.ok(&["admin", "totp", "--email", "owner@example.jp"]);
    assert!(
        totp.contains("otpauth://totp/Doui:owner@example.jp?secret="),
        "{totp}"
    );
    assert!(cli.ok(&["admin", "list"]).contains("totp"));
}

/// Hardening 17: the suppression list and the links answer are CSV a sender opens in a
/// spreadsheet, and external ids are the sender's own text: none is written as a formula.
#[tokio::test]
async fn hardening_17_csv_from_the_command_line_never_holds_a_spreadsheet_formula() {
    use app::{
        domain::{Channel, ConsentState},
        store::Store,
    };
    let cli = Cli::new();
    cli.ok(&[
        "subject",
        "add",
        "--email",
        "formula@example.jp",
        "--phone",
        "+81 90 1234 5678",
        "--external-id",
        "=1+2",
    ]);
    let url = format!("sqlite:{}", cli.dir.join("data/doui.db").display());
    let store = ::server::store::SqliteStore::open(&url).await.unwrap();
    let who = store.find_subject("=1+2").await.unwrap().unwrap().id;
    for to in [ConsentState::Granted, ConsentState::Withdrawn] {
        store
            .apply(vec![common::consents::change(
                who,
                "newsletter",
                Channel::Email,
                to,
                None,
            )])
            .await
            .unwrap();
    }
    drop(store);
    let csv = cli.ok(&[
        "suppressions",
        "--purpose",
        "newsletter",
        "--channel",
        "email",
    ]);
    let line = csv.lines().nth(1).expect("one suppressed subject");
    assert!(
        line.contains(",'=1+2,formula@example.jp,+819012345678,"),
        "{line}"
    );

    let recipients = cli.dir.join("recipients.csv");
    std::fs::write(&recipients, "=1+2\n@SUM(A1)\n").unwrap();
    let answer = cli.ok(&[
        "links",
        "--csv",
        recipients.to_str().unwrap(),
        "--purpose",
        "newsletter",
        "--channel",
        "email",
    ]);
    let lines: Vec<&str> = answer.lines().skip(1).collect();
    assert!(lines[0].starts_with("'=1+2,"), "{answer}");
    assert!(lines[1].starts_with("'@SUM(A1),"), "{answer}");
}

/// The TOTP secret as stored for owner@example.jp.
async fn totp_stored(store: &::server::store::SqliteStore) -> String {
    use app::store::IdentityStore;
    store
        .admin_by_email("owner@example.jp")
        .await
        .unwrap()
        .unwrap()
        .totp_secret
        .unwrap()
}

/// Hardening 13: what Doui keeps on disk is its user's alone (the data directory 0700, the
/// database and key files 0600, whatever the umask), a TOTP secret is stored encrypted with the
/// data key (a plain one from an earlier version is encrypted at the next start), and demo data
/// never lands in a database already in use.
#[tokio::test]
async fn hardening_13_files_are_private_totp_secrets_encrypted_and_demo_data_stays_out() {
    use app::store::IdentityStore;
    let cli = Cli::new();
    cli.ok(&["migrate"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &str| {
            std::fs::metadata(cli.dir.join(p))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode("data"), 0o700);
        for file in ["data/doui.db", "data/data-key", "data/token-keys.toml"] {
            assert_eq!(mode(file), 0o600, "{file}");
        }
    }

    let created = cli.run_with_input(
        &[
            "admin",
            "create",
            "--email",
            "owner@example.jp",
            "--role",
            "owner",
        ],
        "correct horse battery 2026\n",
    );
    assert!(created.status.success());
    let printed = cli.ok(&["admin", "totp", "--email", "owner@example.jp"]);
    let secret = printed
        .lines()
        .find_map(|l| l.strip_prefix("secret: "))
        .unwrap()
        .trim()
        .to_owned();
    let url = format!("sqlite:{}", cli.dir.join("data/doui.db").display());
    let store = ::server::store::SqliteStore::open(&url).await.unwrap();
    let kept = totp_stored(&store).await;
    assert!(kept.starts_with("v1:") && !kept.contains(&secret), "{kept}");
    // As an earlier version kept it: in plain text. The next start encrypts it.
    let mut admin = store
        .admin_by_email("owner@example.jp")
        .await
        .unwrap()
        .unwrap();
    admin.totp_secret = Some(secret.clone());
    store.update_admin(&admin).await.unwrap();
    cli.ok(&["admin", "list"]);
    let kept = totp_stored(&store).await;
    assert!(kept.starts_with("v1:") && !kept.contains(&secret), "{kept}");

    // A database with an admin in it is in use: a demo start adds no people and no owner.
    let mut demo = cli
        .command(&["serve"])
        .env("DOUI_PUBLIC_URL", "http://127.0.0.1:1")
        .env("DOUI_LISTEN", "127.0.0.1:0")
        .env("DOUI_DEMO", "true")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Everything it printed until it listened (demo data is added before that).
    let stdout = demo.stdout.take().unwrap();
    let printed = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut seen = String::new();
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            seen.push_str(&line);
            seen.push('\n');
            if line.contains("Doui is listening") {
                break;
            }
        }
        seen
    })
    .join()
    .unwrap();
    demo.kill().unwrap();
    demo.wait().unwrap();
    assert!(printed.contains("Doui is listening"), "{printed}");
    assert!(
        !printed.contains("password") && !printed.contains("Demo subjects"),
        "{printed}"
    );
    use app::store::Store;
    assert_eq!(store.count_subjects().await.unwrap(), 0);
}

#[test]
fn item09_an_operator_revokes_every_link_of_one_person_from_the_command_line() {
    let cli = Cli::new();
    cli.ok(&["subject", "add", "--email", "lost-phone@example.com"]);
    let no_reason = cli.run(&[
        "subject",
        "revoke-links",
        "lost-phone@example.com",
        "--reason",
        " ",
    ]);
    assert!(!no_reason.status.success());
    assert!(String::from_utf8_lossy(&no_reason.stderr).contains("reason"));
    let nobody = cli.run(&[
        "subject",
        "revoke-links",
        "nobody@example.com",
        "--reason",
        "lost",
    ]);
    assert!(!nobody.status.success());
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("no subject"));
    let out = cli.ok(&[
        "subject",
        "revoke-links",
        "lost-phone@example.com",
        "--reason",
        "phone lost, asked by mail",
    ]);
    assert!(
        out.contains("revoked") && out.contains("session(s) ended"),
        "{out}"
    );
}

/// Issue 31: `doui audience` prints everyone who may be contacted (CSV guarded against formulas,
/// or JSON Lines), and `doui links` refuses a person the send gate leaves out, with the reason;
/// on SQLite and PostgreSQL.
#[tokio::test]
async fn the_audience_and_the_send_gate_on_the_command_line() {
    use app::domain::{Channel, ConsentState};
    for db in common::backends().await {
        let mut cli = Cli::new();
        cli.database_url = Some(db.url.clone());
        cli.ok(&["migrate"]);
        for (id, email) in [
            ("A-1", "a1@example.jp"),
            ("A-2", "a2@example.jp"),
            ("=A3", "a3@example.jp"),
        ] {
            cli.ok(&["subject", "add", "--email", email, "--external-id", id]);
        }
        for id in ["A-1", "=A3"] {
            let who = db.store.find_subject(id).await.unwrap().unwrap().id;
            db.store
                .apply(vec![common::consents::change(
                    who,
                    "newsletter",
                    Channel::Email,
                    ConsentState::Granted,
                    None,
                )])
                .await
                .unwrap();
        }
        let args = ["audience", "--purpose", "newsletter", "--channel", "email"];
        let csv = cli.ok(&args);
        let mut lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines.remove(0),
            "external_id,email,phone,lang,jurisdiction,frequency"
        );
        lines.sort();
        assert_eq!(lines.len(), 2, "{csv}");
        assert!(lines[0].starts_with("'=A3,a3@example.jp,,"), "{csv}");
        assert!(lines[1].starts_with("A-1,a1@example.jp,,"), "{csv}");

        let jsonl = cli.ok(&[&args[..], &["--format", "jsonl"]].concat());
        let mut ids: Vec<String> = jsonl
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["external_id"].as_str().unwrap().to_owned()
            })
            .collect();
        ids.sort();
        assert_eq!(ids, ["=A3", "A-1"]);

        let send = |who: &str| {
            cli.run(&[
                "links",
                who,
                "--purpose",
                "newsletter",
                "--channel",
                "email",
            ])
        };
        assert!(
            String::from_utf8_lossy(&send("A-1").stdout).contains("List-Unsubscribe: <https://")
        );
        let refused = send("A-2");
        assert!(!refused.status.success());
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(said.contains("not_permitted: no_consent"), "{said}");
        assert!(refused.stdout.is_empty(), "no headers for a refused person");

        let wrong = cli.run(&["audience", "--purpose", "newsletter", "--channel", "web"]);
        assert!(!wrong.status.success());
        db.cleanup().await;
    }
}

/// Issue 31: `doui collection-point add|list|retire`, on SQLite and on PostgreSQL.
#[tokio::test]
async fn collection_points_are_added_listed_and_retired_from_the_command_line() {
    let pg = common::postgres().await;
    let mut urls = vec![None];
    urls.extend(pg.as_ref().map(|db| Some(db.url.clone())));
    for url in urls {
        let mut cli = Cli::new();
        cli.database_url = url.clone();
        let wording = cli.dir.join("wording.txt");
        std::fs::write(&wording, "お知らせメールを受け取る\n").unwrap();
        let out = cli.ok(&[
            "collection-point",
            "add",
            "checkout-2026",
            "--name-ja",
            "購入画面",
            "--name-en",
            "Checkout",
            "--kind",
            "checkout",
            "--location",
            "https://shop.example/checkout",
            "--wording",
            wording.to_str().unwrap(),
            "--notice-version",
            "2026-01",
        ]);
        let sha = app::domain::sha256_hex("お知らせメールを受け取る");
        assert!(out.contains(&sha), "{url:?}: {out}");
        let again = cli.run(&[
            "collection-point",
            "add",
            "checkout-2026",
            "--name-ja",
            "x",
            "--name-en",
            "x",
            "--kind",
            "checkout",
            "--location",
            "x",
            "--wording",
            wording.to_str().unwrap(),
        ]);
        assert!(!again.status.success(), "{url:?}: a key is registered once");
        assert!(String::from_utf8_lossy(&again.stderr).contains("registered already"));
        let bad_kind = cli.run(&[
            "collection-point",
            "add",
            "kiosk",
            "--name-ja",
            "x",
            "--name-en",
            "x",
            "--kind",
            "kiosk",
            "--location",
            "x",
            "--wording",
            wording.to_str().unwrap(),
        ]);
        assert!(!bad_kind.status.success());
        let list = cli.ok(&["collection-point", "list"]);
        assert_eq!(
            list.trim(),
            format!(
                "checkout-2026\tcheckout\tactive\t2026-01\t購入画面\tCheckout\thttps://shop.example/checkout\t{sha}"
            ),
            "{url:?}"
        );
        assert!(
            cli.ok(&["collection-point", "retire", "checkout-2026"])
                .contains("retired"),
            "{url:?}"
        );
        assert!(
            !cli.run(&["collection-point", "retire", "checkout-2026"])
                .status
                .success()
        );
        assert!(
            cli.ok(&["collection-point", "list"])
                .contains("\tretired\t"),
            "{url:?}"
        );
    }
    if let Some(db) = pg {
        db.cleanup().await;
    }
}

/// `doui collection-point form`: a point's embeddable signup form, set, listed, switched off.
#[tokio::test]
async fn signup_forms_are_set_listed_and_switched_off_from_the_command_line() {
    let pg = common::postgres().await;
    let mut urls = vec![None];
    urls.extend(pg.as_ref().map(|db| Some(db.url.clone())));
    for url in urls {
        let mut cli = Cli::new();
        cli.database_url = url.clone();
        let wording = cli.dir.join("wording.txt");
        std::fs::write(&wording, "Send me the newsletter\n").unwrap();
        cli.ok(&[
            "collection-point",
            "add",
            "shop-signup",
            "--name-ja",
            "登録",
            "--name-en",
            "Signup",
            "--kind",
            "web_form",
            "--location",
            "https://shop.example/",
            "--wording",
            wording.to_str().unwrap(),
        ]);
        let out = cli.ok(&[
            "collection-point",
            "form",
            "shop-signup",
            "--purpose",
            "newsletter",
            "--origin",
            "https://Shop.Example/",
            "--origin",
            "http://127.0.0.1:4000",
        ]);
        assert!(
            out.contains("version 1") && out.contains("/forms/shop-signup"),
            "{url:?}: {out}"
        );
        assert_eq!(
            cli.ok(&["collection-point", "forms"]).trim(),
            "shop-signup\t1\ton\tnewsletter\thttps://shop.example,http://127.0.0.1:4000",
            "{url:?}"
        );
        let refused = cli.run(&[
            "collection-point",
            "form",
            "shop-signup",
            "--purpose",
            "newsletter",
            "--origin",
            "http://shop.example",
        ]);
        assert!(!refused.status.success());
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("An origin must use https"),
            "{}",
            String::from_utf8_lossy(&refused.stderr)
        );
        assert!(
            cli.ok(&["collection-point", "form", "shop-signup", "--off"])
                .contains("switched off")
        );
        assert_eq!(
            cli.ok(&["collection-point", "forms"]).trim(),
            "shop-signup\t2\toff\t-\t-",
            "{url:?}"
        );
    }
    if let Some(db) = pg {
        db.cleanup().await;
    }
}

/// `doui events`: the event feed as JSON Lines from a cursor, with filters and `--follow`.
#[tokio::test]
async fn events_print_the_feed_as_json_lines_from_a_cursor_and_follow_new_ones() {
    use app::{
        domain::{Channel, ConsentState},
        store::Store,
    };
    let cli = Cli::new();
    cli.ok(&[
        "subject",
        "add",
        "--email",
        "feed@example.jp",
        "--external-id",
        "F-1",
    ]);
    let url = format!("sqlite:{}", cli.dir.join("data/doui.db").display());
    let store = ::server::store::SqliteStore::open(&url).await.unwrap();
    let who = store.find_subject("F-1").await.unwrap().unwrap().id;
    let write = |channel, to| {
        let store = &store;
        async move {
            store
                .apply(vec![common::consents::change(
                    who,
                    "newsletter",
                    channel,
                    to,
                    None,
                )])
                .await
                .unwrap();
        }
    };
    write(Channel::Email, ConsentState::Granted).await;
    write(Channel::Sms, ConsentState::Granted).await;
    write(Channel::Email, ConsentState::Withdrawn).await;

    let lines = |out: String| -> Vec<serde_json::Value> {
        out.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    // No server ran: the command seals what was committed, then prints it.
    let all = lines(cli.ok(&["events"]));
    assert_eq!(all.len(), 3);
    assert_eq!(
        all.iter()
            .map(|e| e["cursor"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(all[0]["type"], "consent.changed");
    assert_eq!(all[0]["external_id"], "F-1");
    assert_eq!(all[0]["email"], "feed@example.jp");
    assert_eq!(all[2]["to"], "withdrawn");
    assert_eq!(all[2]["from"], "granted");
    assert!(all[2]["id"].as_str().unwrap().len() == 36);

    let rest = lines(cli.ok(&["events", "--since", "1"]));
    assert_eq!(rest, all[1..].to_vec());
    assert_eq!(
        lines(cli.ok(&["events", "--limit", "1"])),
        all[..1].to_vec()
    );
    let sms = lines(cli.ok(&["events", "--channel", "sms"]));
    assert_eq!(sms, vec![all[1].clone()]);
    assert!(cli.ok(&["events", "--since", "3"]).is_empty());
    let bad = cli.run(&["events", "--channel", "pigeon"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--channel"));
    let negative = cli.run(&["events", "--since=-1"]);
    assert!(!negative.status.success());

    // --follow prints what comes next as it is sealed.
    let mut follow = cli
        .command(&["events", "--since", "3", "--follow"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = follow.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    write(Channel::Sms, ConsentState::Withdrawn).await;
    // Nothing else seals here: the follower's own store seals nothing, so seal as a server would.
    app::store::SealStore::seal_pending(&store, 100, 3600)
        .await
        .unwrap();
    let line = rx
        .recv_timeout(std::time::Duration::from_secs(5))
        .expect("the follower prints the new event");
    follow.kill().ok();
    follow.wait().ok();
    let event: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(event["cursor"], 4);
    assert_eq!(event["channel"], "sms");
    assert_eq!(event["to"], "withdrawn");
}
