//! The person's own consent record (GDPR Art. 20) as a download: signed in at `/me`, or through a
//! whole-preference-center link. Current choices, history and the signed receipt.

use axum::{
    Router,
    extract::{Request, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};

use app::{
    api::ClientIp,
    auth::{SessionKind, cookie_value},
    domain::Lang,
    services::{Refusal, Services},
};

use crate::{answers::request_lang, state::AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me/record.json", get(own_record))
        .route("/p/{token}/record.json", get(record_by_link))
}

/// The signed-in person's consent record (GDPR Art. 20): current choices, history, receipt.
async fn own_record(State(state): State<AppState>, req: Request) -> Response {
    let lang = request_lang(&req);
    let cookie = cookie_value(req.headers(), SessionKind::Customer.cookie()).unwrap_or_default();
    let visitor = state.services.customer(cookie).await;
    record(&state.services, visitor, lang, "/signin").await
}

/// The consent record of the person a whole-preference-center link is for.
async fn record_by_link(
    State(state): State<AppState>,
    axum::extract::Path(token): axum::extract::Path<String>,
    req: Request,
) -> Response {
    let lang = request_lang(&req);
    let ip = req.extensions().get::<ClientIp>().map(|c| c.0);
    let visitor = state.services.visitor_from_token(&token, ip).await;
    record(&state.services, visitor, lang, &format!("/p/{token}")).await
}

async fn record(
    services: &Services,
    visitor: Result<app::services::Visitor, Refusal>,
    lang: Lang,
    back: &str,
) -> Response {
    let record = match visitor {
        Ok(v) => services.consent_record(&v).await,
        Err(r) => Err(r),
    };
    match record {
        Ok(json) => {
            let mut res = axum::Json(json).into_response();
            let headers = res.headers_mut();
            headers.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"consent-record.json\""),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(r) => crate::answers::page_error(lang, r, back),
    }
}
