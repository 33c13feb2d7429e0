//! What every handler of the senders' API shares: the JSON error, the caller's language, and
//! the API key a request carries. Below `api_v1` and `api_v1_audience`, which both use it.

use app::{
    api_key::ApiScope,
    domain::Lang,
    error::ApiError,
    services::{Refusal, Services},
};
use axum::{
    Json,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

/// An error: a stable code and a message in the caller's language (`Accept-Language`).
#[derive(Serialize, ToSchema)]
pub struct ErrorJson {
    /// Stable, for programs: `unauthorized`, `forbidden_scope`, `unknown_purpose`, …
    pub code: String,
    /// For people.
    pub message: String,
}

pub(crate) fn lang(headers: &HeaderMap) -> Lang {
    Services::page_lang(
        None,
        None,
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

pub(crate) fn refuse(headers: &HeaderMap, r: Refusal) -> Response {
    let status = StatusCode::from_u16(ApiError::status(r.code)).unwrap_or(StatusCode::BAD_REQUEST);
    let e = ApiError::new(lang(headers), r.code);
    let mut res = (
        status,
        Json(ErrorJson {
            code: e.code,
            message: e.message,
        }),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            "Bearer".parse().expect("static header"),
        );
    }
    res
}

/// The API key the request's `Authorization: Bearer` header carries, if it holds `scope`.
pub(crate) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    scope: ApiScope,
) -> Result<app::api_key::ApiKeyRecord, Refusal> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    state
        .services
        .authenticate_api_key(authorization, scope)
        .await
}
