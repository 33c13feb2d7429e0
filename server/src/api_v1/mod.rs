//! The senders' API, `/api/v1`: links and headers for a message, suppression lists, the event
//! feed, provisions, and writing from other systems (subjects, consents collected elsewhere). Keys are presented
//! as `Authorization: Bearer doui.<id>.<secret>`; errors are JSON `{code, message}` with a stable
//! code. The OpenAPI 3.1 document at `/api/v1/openapi.json` is generated from these types. One
//! file per resource.

use app::{
    api_key::ApiScope,
    domain::Lang,
    error::ApiError,
    services::{Refusal, Services},
};
use axum::{
    Json, Router,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::state::AppState;

pub mod audience;
mod consents;
pub mod events;
pub mod imports;
mod links;
mod provisions;
pub mod schema;
mod subjects;
pub mod webhooks;

pub use consents::{
    BatchErrorJson, ConsentBatchJson, ConsentChangeJson, ConsentResultJson, ConsentsRequest,
    ConsentsResponse, EvidenceJson, ItemErrorJson,
};
pub use subjects::{
    ConsentJson, ErasureJson, ErasureRequest, SubjectJson, SubjectPatchRequest, SubjectRequest,
    SubjectWithConsents,
};

pub use links::{
    Footer, LINKS_CSV_HEADER, LinksCsvQuery, LinksRequest, LinksResponse, MAX_LINE, MailHeadersJson,
};
pub(crate) use links::{csv_rows, recipient};
pub use provisions::{ProvisionRecord, ProvisionRequest};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/links", post(links::links))
        .route("/api/v1/links.csv", post(links::links_csv))
        .route("/api/v1/provisions", post(provisions::provisions))
        .route("/api/v1/subjects", post(subjects::create_subject))
        .route(
            "/api/v1/subjects/{external_id}",
            get(subjects::get_subject)
                .patch(subjects::patch_subject)
                .delete(subjects::delete_subject),
        )
        .route("/api/v1/consents", post(consents::record_consents))
        .route("/api/v1/openapi.json", get(openapi))
        .merge(audience::routes())
        .merge(events::routes())
        .merge(imports::routes())
        .merge(webhooks::routes())
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Doui senders' API", description = "Links, one-click unsubscribe headers, suppression lists, the event feed, the audience and permission checks, provisions, and writing subjects and consents collected elsewhere."),
    paths(links::links, links::links_csv, provisions::provisions,
        subjects::create_subject, subjects::get_subject, subjects::patch_subject, subjects::delete_subject,
        consents::record_consents),
    components(schemas(LinksRequest, LinksResponse, MailHeadersJson, Footer,
        ProvisionRequest, ProvisionRecord, ErrorJson,
        SubjectRequest, SubjectPatchRequest, SubjectJson, SubjectWithConsents, ConsentJson, ErasureRequest, ErasureJson,
        ConsentsRequest, ConsentBatchJson, ConsentChangeJson, EvidenceJson, ConsentsResponse, ConsentResultJson,
        BatchErrorJson, ItemErrorJson,
        schema::ChannelKey, schema::StateKey, schema::ModeKey, schema::SourceKey, schema::LangKey,
        schema::JurisdictionKey, schema::OutcomeKey, schema::CollectionPointKindKey, schema::FrequencyKey)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("doui.<id>.<secret>")
                    .build(),
            ),
        );
    }
}

/// The document, as served.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(audience::AudienceDoc::openapi());
    doc.merge(events::EventsDoc::openapi());
    doc.merge(imports::ImportsDoc::openapi());
    doc.merge_from(webhooks::WebhooksDoc::openapi())
}

async fn openapi() -> Response {
    Json(openapi_document()).into_response()
}

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

/// The API key (holding `scope`) and the request's JSON body, or the answer that refuses the
/// request: 401/403 for the key, checked first, then 400 `bad_request` for a body that is not
/// the JSON `T` describes.
pub(crate) async fn key_and_json<T: serde::de::DeserializeOwned>(
    state: &AppState,
    headers: &HeaderMap,
    scope: ApiScope,
    body: &[u8],
) -> Result<(app::api_key::ApiKeyRecord, T), Response> {
    let key = authenticate(state, headers, scope)
        .await
        .map_err(|r| refuse(headers, r))?;
    let request = serde_json::from_slice::<T>(body)
        .map_err(|_| refuse(headers, Refusal::new("bad_request")))?;
    Ok((key, request))
}
