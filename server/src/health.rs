//! What operators' tools ask: `/healthz` (the process answers), `/readyz` (it may be sent
//! traffic: the database answers and no shutdown is draining it) and `/metrics` (Prometheus).

use axum::{
    Json, Router,
    extract::{Request, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use subtle::ConstantTimeEq;

use crate::{answers::request_lang, ops, state::AppState};

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    // First thing a shutdown does: the load balancer sees 503 and sends no more.
    if state.shutdown.draining() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    match state.services.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "database not reachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database not reachable").into_response()
        }
    }
}

/// `/metrics` on the main address: only with `metrics_token` set, and only to a request that
/// presents it.
pub async fn metrics(State(state): State<AppState>, req: Request) -> Response {
    let Some(token) = state.metrics_token.as_deref() else {
        let lang = request_lang(&req);
        return (
            StatusCode::NOT_FOUND,
            Json(app::error::ApiError::new(lang, "not_found")),
        )
            .into_response();
    };
    guarded(&state, token, req).await
}

/// The router of `metrics_listen`: `/metrics` alone (asking for the token when one is set).
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(state): State<AppState>, req: Request| async move {
                match state.metrics_token.clone() {
                    Some(token) => guarded(&state, &token, req).await,
                    None => render(&state).await,
                }
            }),
        )
        .with_state(state)
}

async fn guarded(state: &AppState, token: &str, req: Request) -> Response {
    if !presents(token, req.headers().get(header::AUTHORIZATION)) {
        let lang = request_lang(&req);
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            Json(app::error::ApiError::new(lang, "metrics_token_required")),
        )
            .into_response();
    }
    render(state).await
}

fn presents(token: &str, authorization: Option<&header::HeaderValue>) -> bool {
    let presented = authorization
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .trim();
    presented.len() == token.len() && bool::from(presented.as_bytes().ct_eq(token.as_bytes()))
}

async fn render(state: &AppState) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        ops::prometheus::render(&state.services).await,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_token_is_let_in() {
        let t = "0123456789abcdef01234567";
        let h = |v: &str| header::HeaderValue::from_str(v).unwrap();
        assert!(presents(t, Some(&h(&format!("Bearer {t}")))));
        assert!(!presents(t, Some(&h(&format!("Bearer {t}x")))));
        assert!(!presents(t, Some(&h(t))));
        assert!(!presents(t, None));
    }
}
