//! Provisions of a person's data to third parties (APPI 第29条), reported as they happen.

use app::{api_key::ApiScope, services::Refusal};
use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ErrorJson, key_and_json, refuse};
use crate::state::AppState;

/// One provision of a person's data to a third party (APPI 第29条), reported as it happens.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvisionRequest {
    /// The subject's external id or email address.
    pub subject: String,
    /// The recipient's id (`doui recipient add`).
    pub recipient: String,
    /// The sharing purpose (default: the only purpose of kind `third_party_sharing`).
    pub purpose: Option<String>,
    /// The items that identify the person to the recipient, e.g. `["email", "name"]`.
    pub identified_by: Vec<String>,
    /// The data items provided, e.g. `["purchase history"]`.
    pub data_items: Vec<String>,
}

/// The stored record, kept at least 3 years; the person sees it in their preference center.
#[derive(Serialize, ToSchema)]
pub struct ProvisionRecord {
    pub id: i64,
    /// RFC 3339.
    pub provided_at: String,
    pub recipient: String,
    /// The recipient's name, address and representative as they were when the data was
    /// provided: kept with the record, whatever later edits of the recipient change.
    pub recipient_name: String,
    pub recipient_address: String,
    pub recipient_representative: String,
    pub purpose: String,
    pub identified_by: String,
    pub data_items: String,
}

/// Records a provision of a person's data to a recipient, only while the person's sharing
/// consent is in effect: after a stop request (the person withdrew it) the answer is 409 and
/// nothing must be provided.
#[utoipa::path(post, path = "/api/v1/provisions", request_body = ProvisionRequest,
    security(("api_key" = [])),
    responses(
        (status = 201, description = "Recorded", body = ProvisionRecord),
        (status = 400, description = "Malformed request", body = ErrorJson),
        (status = 401, description = "No valid API key", body = ErrorJson),
        (status = 403, description = "The key lacks the `provisions` scope", body = ErrorJson),
        (status = 404, description = "No such subject or recipient", body = ErrorJson),
        (status = 409, description = "The person has not agreed or asked to stop: do not provide", body = ErrorJson),
    ))]
pub(super) async fn provisions(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (key, request) =
        match key_and_json::<ProvisionRequest>(&state, &headers, ApiScope::Provisions, &body).await
        {
            Ok(x) => x,
            Err(res) => return res,
        };
    let services = &state.services;
    let subject = match services.store.find_subject(&request.subject).await {
        Ok(Some(s)) => s,
        Ok(None) => return refuse(&headers, Refusal::new("unknown_subject_key")),
        Err(e) => return refuse(&headers, e.into()),
    };
    let input = app::services::ProvisionInput {
        recipient: &request.recipient,
        purpose: request.purpose.as_deref(),
        identified_by: &request.identified_by,
        data_items: &request.data_items,
    };
    match services
        .record_provision(&subject, input, &format!("api_key:{}", key.id))
        .await
    {
        Ok(p) => {
            let who = p.recipient_as_provided.clone().unwrap_or_default();
            (
                StatusCode::CREATED,
                Json(ProvisionRecord {
                    recipient_name: who.name,
                    recipient_address: who.address,
                    recipient_representative: who.representative,
                    id: p.seq,
                    provided_at: p
                        .provided_at
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default(),
                    recipient: p.recipient,
                    purpose: p.purpose.to_string(),
                    identified_by: p.identified_by,
                    data_items: p.data_items,
                }),
            )
                .into_response()
        }
        Err(r) => refuse(&headers, r),
    }
}
