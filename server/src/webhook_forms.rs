//! The console's webhook forms whose answer shows a secret this once (outside Leptos, like the
//! API key form): adding an endpoint and rotating its secret. Owner only; cross-site posts and a
//! CSRF token that does not match the cookie are refused; answers are never cached.

use app::{
    auth::{CSRF_COOKIE, Role, SessionKind, cookie_value},
    domain::{
        Lang,
        webhook::{WebhookFilter, split_list},
    },
    services::{Refusal, Services, WebhookInput},
};
use axum::{
    Router,
    extract::{Request, State},
    http::{HeaderValue, header},
    response::{Html, IntoResponse, Response},
    routing::post,
};

use crate::{
    answers::{escape, form_fields, is_cross_site, page_document, page_error},
    state::{AppState, MAX_BODY},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/webhooks", post(add))
        .route("/admin/webhooks/rotate", post(rotate))
}

const FIELDS: &[&str] = &[
    "csrf",
    "lang",
    "id",
    "url",
    "description",
    "kinds",
    "purposes",
    "channels",
    "sources",
    "recipient",
];

struct Form {
    fields: Vec<(String, String)>,
    lang: Lang,
}

impl Form {
    fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

fn back(lang: Lang) -> String {
    format!("/admin/webhooks?lang={}", lang.key())
}

/// The form, checked (same site, CSRF), posted by a signed-in owner.
async fn owner_form(services: &Services, req: Request) -> Result<Form, Response> {
    let headers = req.headers().clone();
    let browser = Services::page_lang(
        None,
        None,
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    if is_cross_site(&headers) {
        return Err(page_error(
            browser,
            Refusal::new("cross_site"),
            &back(browser),
        ));
    }
    let fields = form_fields(req, FIELDS, MAX_BODY)
        .await
        .map_err(|code| page_error(browser, Refusal::new(code), &back(browser)))?;
    let lang = fields
        .iter()
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(browser);
    let form = Form { fields, lang };
    let csrf = cookie_value(&headers, CSRF_COOKIE).unwrap_or_default();
    if !services.csrf.matches(csrf, form.get("csrf")) {
        return Err(page_error(lang, Refusal::new("csrf"), &back(lang)));
    }
    let session = cookie_value(&headers, SessionKind::Admin.cookie()).unwrap_or_default();
    let owner = services
        .admin(session, Role::Owner)
        .await
        .map_err(|r| page_error(lang, r, &back(lang)))?;
    tracing::info!(admin = %owner.id, "webhook form");
    Ok(form)
}

/// The page that shows a secret this once.
fn secret_page(lang: Lang, id: &str, secret: &str) -> Response {
    let (title, once) = match lang {
        Lang::Ja => (
            "Webhook の秘密鍵",
            "この秘密鍵は今だけ表示されます。受信側に保存し、Standard Webhooks のライブラリで署名を検証してください。",
        ),
        Lang::En => (
            "Webhook secret",
            "This secret is shown only now. Store it with the receiver and verify signatures with a Standard Webhooks library.",
        ),
    };
    let back = back(lang);
    let body = format!(
        "<section class=\"card\"><h1>{title}</h1><p>{once}</p>\
         <p><code id=\"webhook-id\">{id}</code></p>\
         <p><code class=\"secret\" id=\"webhook-secret\">{secret}</code></p>\
         <p><a href=\"{back}\">{title}</a></p></section>",
        title = escape(title),
        once = escape(once),
        id = escape(id),
        secret = escape(secret),
        back = escape(&back),
    );
    let mut res = Html(page_document(lang, title, &body)).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `POST /admin/webhooks`: adds an endpoint and shows its secret.
async fn add(State(state): State<AppState>, req: Request) -> Response {
    let services = &state.services;
    let form = match owner_form(services, req).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let input = WebhookInput {
        url: form.get("url").trim().to_owned(),
        description: form.get("description").trim().to_owned(),
        filter: WebhookFilter {
            kinds: split_list(form.get("kinds")),
            purposes: split_list(form.get("purposes")),
            channels: split_list(form.get("channels")),
            sources: split_list(form.get("sources")),
        },
        recipient: Some(form.get("recipient").trim().to_owned()).filter(|r| !r.is_empty()),
    };
    match services.add_webhook(input, app::services::now()).await {
        Ok((e, secret)) => secret_page(form.lang, &e.id, &secret),
        Err(r) => page_error(form.lang, r, &back(form.lang)),
    }
}

/// `POST /admin/webhooks/rotate`: a new secret, shown; the previous one signs for 24 hours.
async fn rotate(State(state): State<AppState>, req: Request) -> Response {
    let services = &state.services;
    let form = match owner_form(services, req).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let id = form.get("id").to_owned();
    match services.rotate_webhook(&id, app::services::now()).await {
        Ok(secret) => secret_page(form.lang, &id, &secret),
        Err(r) => page_error(form.lang, r, &back(form.lang)),
    }
}
