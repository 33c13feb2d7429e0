//! Suppression lists: who must not be contacted for a purpose on a channel.

use app::{api_key::ApiScope, services::Refusal};
use axum::{
    Json,
    extract::{Query, State},
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ErrorJson, authenticate, refuse};
use crate::http::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuppressionQuery {
    /// The purpose, e.g. `newsletter`.
    #[param(pattern = "^[a-z][a-z0-9_]{1,47}$")]
    pub purpose: String,
    /// The channel, e.g. `email`.
    #[param(value_type = super::schema::ChannelKey)]
    pub channel: String,
    /// Only what changed after this cursor (the last `next_cursor` seen; default 0).
    pub since: Option<i64>,
    /// At most this many items (1–10000, default 1000).
    #[param(minimum = 1, maximum = 10000)]
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct SuppressionItem {
    pub cursor: i64,
    pub external_id: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// RFC 3339.
    pub withdrawn_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct SuppressionList {
    pub items: Vec<SuppressionItem>,
    /// Pass as `since` next time (equal to `since` when nothing changed).
    pub next_cursor: i64,
}

/// Who must not be contacted for a purpose on a channel, in the order they withdrew.
#[utoipa::path(get, path = "/api/v1/suppressions", params(SuppressionQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "A page of the suppression list", body = SuppressionList),
        (status = 400, description = "Unknown purpose or channel", body = ErrorJson),
        (status = 401, description = "No valid API key", body = ErrorJson),
        (status = 403, description = "The key lacks the `suppressions` scope", body = ErrorJson),
        (status = 422, description = "The purpose is not used on that channel", body = ErrorJson),
    ))]
pub(super) async fn suppressions(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<SuppressionQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Err(r) = authenticate(&state, &headers, ApiScope::Suppressions).await {
        return refuse(&headers, r);
    }
    let Ok(Query(q)) = query else {
        return refuse(&headers, Refusal::new("bad_request"));
    };
    let since = q.since.unwrap_or(0);
    match state
        .services
        .suppressions(&q.purpose, &q.channel, since, q.limit.unwrap_or(1000))
        .await
    {
        Ok(rows) => {
            let next_cursor = rows.last().map_or(since, |r| r.cursor);
            let items = rows
                .into_iter()
                .map(|r| SuppressionItem {
                    cursor: r.cursor,
                    external_id: r.subject.external_id.as_str().to_owned(),
                    email: r.subject.email.map(|e| e.as_str().to_owned()),
                    phone: r.subject.phone.map(|p| p.as_str().to_owned()),
                    withdrawn_at: r
                        .since
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default(),
                })
                .collect();
            Json(SuppressionList { items, next_cursor }).into_response()
        }
        Err(r) => refuse(&headers, r),
    }
}
