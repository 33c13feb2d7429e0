//! A real Doui server on a random port, over a test database.

use std::path::PathBuf;

use ::server::config::Config;
use app::{
    domain::{Lang, SubjectId},
    services::Services,
};
use reqwest::header;

use super::TestDb;

/// The configuration tests run the server with (port 0: a free port).
pub fn config(db_url: &str, data_dir: PathBuf) -> Config {
    Config::ephemeral(db_url, data_dir)
}

pub struct TestServer {
    pub base: String,
    pub services: Services,
    /// A browser that has opened a page (it holds the CSRF cookie).
    pub client: reqwest::Client,
    pub csrf: String,
    pub db: TestDb,
    pub data_dir: PathBuf,
    /// Where `/metrics` is served on its own (`metrics_listen`), if set.
    pub metrics_addr: Option<std::net::SocketAddr>,
}

/// One browser: its own cookie jar and the CSRF token its first page gave it.
pub struct Browser {
    pub base: String,
    pub client: reqwest::Client,
    pub csrf: String,
}

fn new_client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent("doui-tests/1.0")
        .cookie_store(true)
        // A hang fails the test instead of stalling the run.
        .timeout(std::time::Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The CSRF token in a response's `Set-Cookie`.
pub fn csrf_from(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("doui_csrf="))
        .map(|c| c.split(';').next().unwrap_or("").to_owned())
}

/// `form` plus the CSRF field, unless the caller gave one.
fn with_csrf<'a>(form: &[(&'a str, &'a str)], csrf: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut all = form.to_vec();
    if !all.iter().any(|(k, _)| *k == "csrf") {
        all.push(("csrf", csrf));
    }
    all
}

impl Browser {
    /// Opens the home page (which sets the CSRF cookie).
    pub async fn open(base: &str) -> Self {
        let client = new_client();
        let res = client.get(format!("{base}/")).send().await.unwrap();
        let csrf = csrf_from(&res).expect("the first page sets a CSRF cookie");
        Self {
            base: base.to_owned(),
            client,
            csrf,
        }
    }

    /// A form post from one of our pages (same origin, with the CSRF token).
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .header(header::ACCEPT, "text/html")
            .header("sec-fetch-site", "same-origin")
            .form(&with_csrf(form, &self.csrf))
            .send()
            .await
            .unwrap()
    }

    /// A server-function call as the hydrated page makes it.
    pub async fn call(&self, function: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}/api/{function}", self.base))
            .header(header::ACCEPT, "application/json")
            .form(&with_csrf(form, &self.csrf))
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    /// Signs in as an admin with a password (and code); panics unless it succeeds.
    pub async fn admin_sign_in(&self, email: &str, password: &str) {
        let res = self
            .post("/admin/signin", &[("email", email), ("password", password)])
            .await;
        assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    }
}

impl TestServer {
    pub async fn start(db: super::TestDb) -> Self {
        Self::start_with(db, |_| {}).await
    }

    /// Starts with a configuration changed by `adjust`.
    pub async fn start_with(db: super::TestDb, adjust: impl FnOnce(&mut Config)) -> Self {
        let data_dir = std::env::temp_dir().join(super::unique("doui_http"));
        let mut config = config(&db.url, data_dir.clone());
        adjust(&mut config);
        let services = ::server::services(&config).await.expect("services");
        let running = ::server::start(&config, services)
            .await
            .expect("server starts");
        let base = format!("http://{}", running.addr);
        let browser = Browser::open(&base).await;
        Self {
            base,
            services: running.services,
            client: browser.client,
            csrf: browser.csrf,
            db,
            data_dir,
            metrics_addr: running.metrics_addr,
        }
    }

    /// Another browser with its own cookies.
    pub async fn browser(&self) -> Browser {
        Browser::open(&self.base).await
    }

    /// A browser signed in as the subject, as the mailed sign-in link leaves it: its changes go
    /// through the session (`token` empty), never a link.
    pub async fn signed_in_as(&self, who: SubjectId) -> Browser {
        let session = self
            .services
            .start_session(app::auth::Principal::Subject(who))
            .await
            .unwrap();
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        jar.add_cookie_str(
            &format!("doui_session={}", session.cookie),
            &self.base.parse::<reqwest::Url>().unwrap(),
        );
        let client = reqwest::Client::builder()
            .user_agent("doui-tests/1.0")
            .cookie_provider(jar)
            .timeout(std::time::Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let res = client.get(format!("{}/", self.base)).send().await.unwrap();
        let csrf = csrf_from(&res).expect("the first page sets a CSRF cookie");
        Browser {
            base: self.base.clone(),
            client,
            csrf,
        }
    }

    /// A browser signed in as a new admin with `role`.
    pub async fn signed_in(&self, role: app::auth::Role) -> Browser {
        let email = format!("{}@admins.example.jp", super::unique(role.key()));
        let password = self.admin(&email, role).await;
        let b = self.browser().await;
        b.admin_sign_in(&email, &password).await;
        b
    }

    /// Creates an admin directly (as `doui admin create` does).
    pub async fn admin(&self, email: &str, role: app::auth::Role) -> String {
        let password = format!("pw-{}-long-enough", super::unique("x"));
        self.services
            .create_admin(email, role, &password)
            .await
            .unwrap();
        password
    }

    pub async fn stop(self) {
        std::fs::remove_dir_all(&self.data_dir).ok();
        self.db.cleanup().await;
    }

    pub async fn subject(&self, email: &str, lang: Lang) -> (SubjectId, String) {
        let s = self
            .services
            .create_subject(None, Some(email), None, lang)
            .await
            .unwrap();
        let link = self.services.preference_link(s.id);
        let token = link.rsplit_once("/p/").unwrap().1.to_owned();
        (s.id, token)
    }

    pub async fn event_count(&self, who: SubjectId) -> usize {
        self.services
            .store
            .events_for_subject(who, 1000)
            .await
            .unwrap()
            .len()
    }

    /// The browser that opened the server's first page (its cookies and CSRF token).
    fn first_browser(&self) -> Browser {
        Browser {
            base: self.base.clone(),
            client: self.client.clone(),
            csrf: self.csrf.clone(),
        }
    }

    /// A server-function call as the hydrated page makes it.
    pub async fn call(&self, function: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.first_browser().call(function, form).await
    }

    /// A mail provider's RFC 8058 one-click POST: no cookie, no CSRF token, no Origin.
    pub async fn one_click(&self, token: &str) -> reqwest::Response {
        self.client
            .post(format!("{}/u/{token}", self.base))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap()
    }

    /// The same call as a plain HTML form posts it (JavaScript off).
    pub async fn post_form(
        &self,
        function: &str,
        form: &[(&str, &str)],
        accept_language: &str,
    ) -> reqwest::Response {
        self.client
            .post(format!("{}/api/{function}", self.base))
            .header(header::ACCEPT, "text/html,application/xhtml+xml")
            .header(header::ACCEPT_LANGUAGE, accept_language)
            .header("sec-fetch-site", "same-origin")
            .form(&with_csrf(form, &self.csrf))
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str, accept_language: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .header(header::ACCEPT_LANGUAGE, accept_language)
            .send()
            .await
            .unwrap()
    }
}

pub async fn servers() -> Vec<TestServer> {
    let mut all = Vec::new();
    for db in super::backends().await {
        all.push(TestServer::start(db).await);
    }
    all
}

/// The `Set-Cookie` header of `name` in a response.
pub fn set_cookie<'a>(res: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
}

/// The sign-in link in a received message (the body may be quoted-printable or base64).
pub fn link_in_mail(data: &str) -> String {
    let mail = mailparse::parse_mail(data.as_bytes()).unwrap();
    let body = mail.get_body().unwrap();
    body.split_whitespace()
        .find(|w| w.contains("/signin/"))
        .expect("a sign-in link in the mail")
        .to_owned()
}

/// The path of a link made for `https://doui.test`.
pub fn path_of(link: &str) -> String {
    link.split_once("doui.test")
        .expect("public url")
        .1
        .to_owned()
}

/// A test server that sends its mail to `smtp`.
pub async fn server_with_smtp(db: super::TestDb, smtp: &super::smtp::SmtpListener) -> TestServer {
    let url = smtp.url();
    TestServer::start_with(db, move |c| c.smtp_url = Some(url)).await
}
