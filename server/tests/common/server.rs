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
    pub client: reqwest::Client,
    pub db: TestDb,
    pub data_dir: PathBuf,
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
        let client = reqwest::Client::builder()
            .user_agent("doui-tests/1.0")
            // A hang fails the test instead of stalling the run.
            .timeout(std::time::Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            base: format!("http://{}", running.addr),
            services: running.services,
            client,
            db,
            data_dir,
        }
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

    /// A server-function call as the hydrated page makes it.
    pub async fn call(&self, function: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}/api/{function}", self.base))
            .header(header::ACCEPT, "application/json")
            .form(form)
            .send()
            .await
            .unwrap()
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
            .form(form)
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
