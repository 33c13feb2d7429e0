//! Why a person left (issue 34 item 1): the optional question under the page that says an
//! unsubscribe is done, and `POST /u/<token>/reason`, its answer. The signed token is the
//! authority, as for the unsubscribe itself; never required, and nothing about the unsubscribe
//! depends on it.

use app::{
    domain::{Lang, LeaveReason},
    error::ApiError,
    i18n::error_message,
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

struct Copy {
    question: &'static str,
    optional: &'static str,
    reasons: [&'static str; 4],
    text: &'static str,
    send: &'static str,
    thanks_title: &'static str,
    thanks: &'static str,
    manage: &'static str,
}

const JA: Copy = Copy {
    question: "よろしければ、配信停止の理由を教えてください。",
    optional: "回答は任意です。配信停止はすでに完了しています。",
    reasons: [
        "メールが多すぎる",
        "内容が自分に関係ない",
        "登録した覚えがない",
        "その他",
    ],
    text: "ご意見（任意・500 文字まで）",
    send: "理由を送る",
    thanks_title: "ありがとうございました",
    thanks: "いただいた理由は、配信の改善に役立てます。",
    manage: "配信設定を開く",
};

const EN: Copy = Copy {
    question: "If you like, tell us why you unsubscribed.",
    optional: "Answering is optional. You are already unsubscribed.",
    reasons: [
        "Too many messages",
        "Not relevant to me",
        "I never signed up",
        "Other",
    ],
    text: "Anything else (optional, up to 500 characters)",
    send: "Send my reason",
    thanks_title: "Thank you",
    thanks: "Your answer helps us send better messages.",
    manage: "Open my preferences",
};

const fn copy(lang: Lang) -> &'static Copy {
    match lang {
        Lang::Ja => &JA,
        Lang::En => &EN,
    }
}

/// The question, as a form under the "you are unsubscribed" page.
pub(crate) fn question(lang: Lang, token: &str) -> String {
    let c = copy(lang);
    let choices: String = LeaveReason::ALL
        .iter()
        .zip(c.reasons)
        .map(|(r, label)| {
            format!(
                "<label class=\"choice\"><input type=\"radio\" name=\"reason\" value=\"{}\" required /> {}</label>",
                r.key(),
                escape(label)
            )
        })
        .collect();
    format!(
        "<section class=\"card leave-reason\"><form method=\"post\" action=\"/u/{token}/reason\" class=\"stacked\">\
         <fieldset><legend>{question}</legend>{choices}</fieldset>\
         <label for=\"leave-text\">{text}</label>\
         <textarea id=\"leave-text\" name=\"text\" rows=\"3\" maxlength=\"500\"></textarea>\
         <input type=\"hidden\" name=\"lang\" value=\"{lang}\" />\
         <button type=\"submit\" class=\"secondary\">{send}</button>\
         <p class=\"fine\">{optional}</p></form></section>",
        token = escape(token),
        question = escape(c.question),
        text = escape(c.text),
        lang = lang.key(),
        send = escape(c.send),
        optional = escape(c.optional),
    )
}

/// `POST /u/<token>/reason`: keeps the answer beside the withdrawals it explains.
pub async fn answer(
    State(state): State<AppState>,
    Path(token): Path<String>,
    req: Request,
) -> Response {
    let accept_language = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let cross_site = is_cross_site(req.headers());
    let fields = form_fields(req, &["reason", "text", "lang"], MAX_BODY).await;
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
            .explain_leaving(
                &token,
                field("reason").unwrap_or(""),
                field("text").unwrap_or(""),
            )
            .await
            .map_err(|r| r.code),
    };
    let c = copy(lang);
    match outcome {
        Ok(_) => {
            let body = format!(
                "<section class=\"card\" role=\"status\"><h1>{}</h1><p>{}</p>\
                 <p><a href=\"/p/{}?lang={}\">{}</a></p></section>",
                escape(c.thanks_title),
                escape(c.thanks),
                escape(&token),
                lang.key(),
                escape(c.manage),
            );
            (
                StatusCode::OK,
                Html(page_document(lang, c.thanks_title, &body)),
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
