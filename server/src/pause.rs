//! Pause instead of leave, after an unsubscribe (issue 34 item 2): the offer under the page that
//! says an unsubscribe is done, and `POST /u/<token>/pause`, its answer. The signed token is the
//! authority, as for the unsubscribe itself; choosing nothing leaves the person unsubscribed.

use app::{
    api::ClientIp,
    domain::{Lang, Origin},
    error::ApiError,
    i18n::{error_message, pause_texts},
    services::Services,
};
use axum::{
    extract::{Path, Request, State},
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
};

use crate::{
    answers::{escape, form_fields, is_cross_site, page_document},
    state::{AppState, MAX_BODY},
};

/// The offer, as a form under the "you are unsubscribed" page.
pub(crate) fn offer(lang: Lang, token: &str) -> String {
    let t = pause_texts(lang);
    let options: String = ["30", "60", "90"]
        .iter()
        .zip(t.days)
        .map(|(value, label)| format!("<option value=\"{value}\">{}</option>", escape(label)))
        .collect();
    format!(
        "<section class=\"card pause-offer\"><h2>{title}</h2><p>{intro}</p>\
         <form method=\"post\" action=\"/u/{token}/pause\" class=\"stacked\">\
         <label>{length} <select name=\"days\">{options}</select></label>\
         <input type=\"hidden\" name=\"lang\" value=\"{lang}\" />\
         <button type=\"submit\" class=\"secondary\">{button}</button></form></section>",
        title = escape(t.offer_title),
        intro = escape(t.offer_intro),
        token = escape(token),
        length = escape(t.pause_length),
        lang = lang.key(),
        button = escape(t.offer_button),
    )
}

/// `POST /u/<token>/pause`: turns the unsubscribe just done into a pause of the chosen length.
pub async fn answer(
    State(state): State<AppState>,
    Path(token): Path<String>,
    req: Request,
) -> Response {
    let (accept_language, user_agent) = {
        let text_of = |name| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        (
            text_of(header::ACCEPT_LANGUAGE),
            text_of(header::USER_AGENT),
        )
    };
    let ip = req.extensions().get::<ClientIp>().map(|c| c.0);
    let cross_site = is_cross_site(req.headers());
    let fields = form_fields(req, &["days", "lang"], MAX_BODY).await;
    let field = |name: &str| {
        fields
            .as_ref()
            .ok()
            .and_then(|f| f.iter().find(|(n, _)| n == name))
            .map(|(_, v)| v.as_str())
    };
    let lang = Services::page_lang(field("lang"), None, accept_language.as_deref());
    let outcome = match (&fields, cross_site) {
        (Err(code), _) => Err(*code),
        (_, true) => Err("cross_site"),
        (Ok(_), false) => state
            .services
            .pause_after_unsubscribe(
                &token,
                field("days").unwrap_or(""),
                Origin::new(ip, user_agent.as_deref()),
            )
            .await
            .map_err(|r| r.code),
    };
    let t = pause_texts(lang);
    match outcome {
        Ok((until, _)) => {
            let at = app::domain::rfc3339::Rfc3339Text::new(until);
            let body = format!(
                "<section class=\"card\" role=\"status\"><h1>{}</h1><p>{} \
                 <time datetime=\"{at}\">{at}</time></p>\
                 <p><a href=\"/p/{}?lang={}\">{}</a></p></section>",
                escape(t.offer_done_title),
                escape(t.offer_done),
                escape(&token),
                lang.key(),
                escape(t.open_preferences),
                at = at.as_str(),
            );
            (
                StatusCode::OK,
                Html(page_document(lang, t.offer_done_title, &body)),
            )
                .into_response()
        }
        Err(code) => {
            let status =
                StatusCode::from_u16(ApiError::status(code)).unwrap_or(StatusCode::BAD_REQUEST);
            let title = app::i18n::texts(lang).error_title;
            let body = format!(
                "<section class=\"card error\" role=\"alert\"><h1>{}</h1><p>{}</p></section>",
                escape(title),
                escape(error_message(lang, code)),
            );
            (status, Html(page_document(lang, title, &body))).into_response()
        }
    }
}
