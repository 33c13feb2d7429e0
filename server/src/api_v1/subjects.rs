//! Subjects written by a sender's system: create (or find by external id), read with the
//! consents in effect, change contact details (each change recorded with who and when), erase.

use app::{
    api_key::ApiScope,
    domain::{Origin, Provenance, Source, Subject},
    services::{Eraser, Refusal, SubjectFields, SubjectPatch},
};
use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Deserializer, Serialize};
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use super::{ErrorJson, authenticate, key_and_json, refuse, schema};
use crate::state::AppState;

/// A subject as a sender's system describes it. An existing subject (the same external id) is
/// answered as it is, unchanged: change it with `PATCH`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectRequest {
    /// The id the sender's systems use (a customer number): 1–200 characters, no control
    /// characters.
    #[schema(min_length = 1, max_length = 200, pattern = "^[^\\x00-\\x1f\\x7f]+$")]
    pub external_id: String,
    #[schema(max_length = 254)]
    pub email: Option<String>,
    /// International form, e.g. `+819012345678`.
    #[schema(pattern = "^\\+[1-9][0-9]{6,14}$")]
    pub phone: Option<String>,
    #[schema(value_type = Option<schema::LangKey>)]
    pub lang: Option<String>,
    #[schema(value_type = Option<schema::JurisdictionKey>)]
    pub jurisdiction: Option<String>,
    /// The IANA time zone the person's times are shown in (e.g. `Asia/Tokyo`); absent: their
    /// jurisdiction's (Asia/Tokyo for `jp`, America/Los_Angeles for `us_ca`, otherwise UTC).
    #[schema(max_length = 64, example = "Asia/Tokyo")]
    pub time_zone: Option<String>,
}

/// A change of a subject's contact details; absent fields stay, `null` removes an email, a
/// phone number or a time zone (back to the jurisdiction's).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectPatchRequest {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 254)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, pattern = "^\\+[1-9][0-9]{6,14}$")]
    pub phone: Option<Option<String>>,
    #[schema(value_type = Option<schema::LangKey>)]
    pub lang: Option<String>,
    #[schema(value_type = Option<schema::JurisdictionKey>)]
    pub jurisdiction: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 64, example = "Asia/Tokyo")]
    pub time_zone: Option<Option<String>>,
}

/// A field that is present (its value may be `null`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Erasure on request (GDPR Art. 17): every consent is withdrawn first, the identifiers go, the
/// events stay as evidence under the random id.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    /// Why (3–500 characters), kept with the erasure.
    #[schema(min_length = 3, max_length = 500)]
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct SubjectJson {
    /// Doui's own id.
    pub id: String,
    pub external_id: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    #[schema(value_type = schema::LangKey)]
    pub lang: String,
    #[schema(value_type = schema::JurisdictionKey)]
    pub jurisdiction: String,
    /// The zone the person's times are shown in: their own (`time_zone_set`), or their
    /// jurisdiction's.
    pub time_zone: String,
    /// Whether the zone was set for the person (otherwise it follows the jurisdiction).
    pub time_zone_set: bool,
}

/// One purpose and channel: the recorded choice and whether it is in effect now.
#[derive(Serialize, ToSchema)]
pub struct ConsentJson {
    pub purpose: String,
    #[schema(value_type = schema::ChannelKey)]
    pub channel: String,
    #[schema(value_type = schema::ModeKey)]
    pub mode: String,
    /// The recorded choice (`null`: never chosen).
    #[schema(value_type = Option<schema::StateKey>)]
    pub state: Option<String>,
    /// Whether the person may be contacted for it now (the mode, a lapsed opt-in awaiting
    /// re-confirmation and an ended validity applied).
    pub in_effect: bool,
    /// RFC 3339: when the recorded choice was made.
    pub since: Option<String>,
    /// RFC 3339: the end of the pause the person chose, while it holds (the consent is
    /// withdrawn until then and granted again by itself at the end, unless changed before).
    pub paused_until: Option<String>,
    /// How often the person wants this purpose's messages (`every` unless they chose).
    #[schema(value_type = schema::FrequencyKey)]
    pub frequency: String,
}

#[derive(Serialize, ToSchema)]
pub struct SubjectWithConsents {
    pub subject: SubjectJson,
    pub consents: Vec<ConsentJson>,
}

#[derive(Serialize, ToSchema)]
pub struct ErasureJson {
    pub id: String,
    /// RFC 3339.
    pub erased_at: String,
}

fn subject_json(s: &Subject) -> SubjectJson {
    SubjectJson {
        id: s.id.to_string(),
        external_id: s.external_id.as_str().to_owned(),
        email: s.email.as_ref().map(|e| e.as_str().to_owned()),
        phone: s.phone.as_ref().map(|p| p.as_str().to_owned()),
        lang: s.lang.key().to_owned(),
        jurisdiction: s.jurisdiction.key().to_owned(),
        time_zone: s.time_zone_name().to_owned(),
        time_zone_set: s.time_zone.is_some(),
    }
}

/// `text` as one path segment: every byte but the unreserved ones (RFC 3986) percent-encoded.
fn path_segment(text: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn time(t: time::OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// Creates a subject, or answers the one with the same external id.
#[utoipa::path(post, path = "/api/v1/subjects", request_body = SubjectRequest,
    security(("api_key" = [])),
    responses(
        (status = 201, description = "Created", body = SubjectJson),
        (status = 200, description = "A subject with this external id exists: answered unchanged", body = SubjectJson),
        (status = 400, description = "Malformed request or field", body = ErrorJson),
        (status = 401, description = "No valid API key", body = ErrorJson),
        (status = 403, description = "The key lacks the `subjects:write` scope", body = ErrorJson),
        (status = 409, description = "The email belongs to another subject, or was erased before", body = ErrorJson),
    ))]
pub(super) async fn create_subject(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (key, request) = match key_and_json::<SubjectRequest>(
        &state,
        &headers,
        ApiScope::SubjectsWrite,
        &body,
    )
    .await
    {
        Ok(x) => x,
        Err(res) => return res,
    };
    let fields = SubjectFields {
        external_id: &request.external_id,
        email: request.email.as_deref(),
        phone: request.phone.as_deref(),
        lang: request.lang.as_deref(),
        jurisdiction: request.jurisdiction.as_deref(),
        time_zone: request.time_zone.as_deref(),
    };
    let by = format!("api_key:{}", key.id);
    match state.services.put_subject(fields, &by).await {
        Ok((s, created)) => {
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            let mut res = (status, Json(subject_json(&s))).into_response();
            let location = format!("/api/v1/subjects/{}", path_segment(s.external_id.as_str()));
            if let Ok(v) = HeaderValue::from_str(&location) {
                res.headers_mut().insert(header::LOCATION, v);
            }
            res
        }
        Err(r) => refuse(&headers, r),
    }
}

/// A subject and every purpose and channel with the consent in effect.
#[utoipa::path(get, path = "/api/v1/subjects/{external_id}",
    params(("external_id" = String, Path, description = "The subject's external id (percent-encoded)", min_length = 1, max_length = 200)),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The subject and its consents", body = SubjectWithConsents),
        (status = 401, description = "No valid API key", body = ErrorJson),
        (status = 403, description = "The key lacks the `subjects:read` scope", body = ErrorJson),
        (status = 404, description = "No such subject (or it was erased)", body = ErrorJson),
    ))]
pub(super) async fn get_subject(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(external_id): Path<String>,
) -> Response {
    if let Err(r) = authenticate(&state, &headers, ApiScope::SubjectsRead).await {
        return refuse(&headers, r);
    }
    let services = &state.services;
    let subject = match services.subject_by_external_id(&external_id).await {
        Ok(Some(s)) => s,
        Ok(None) => return refuse(&headers, Refusal::new("unknown_subject_key")),
        Err(r) => return refuse(&headers, r),
    };
    let extra = tokio::try_join!(
        services.frequencies(subject.id),
        services.pauses_in_force(subject.id)
    );
    let (frequencies, pauses) = match extra {
        Ok(x) => x,
        Err(r) => return refuse(&headers, r),
    };
    match services.consents_in_effect(&subject).await {
        Ok(consents) => Json(SubjectWithConsents {
            subject: subject_json(&subject),
            consents: consents
                .into_iter()
                .map(|c| ConsentJson {
                    purpose: c.purpose.to_string(),
                    channel: c.channel.key().to_owned(),
                    mode: c.mode.key().to_owned(),
                    state: c.state.map(|s| s.key().to_owned()),
                    in_effect: c.in_effect,
                    since: c.since.map(time),
                    paused_until: pauses
                        .iter()
                        .find(|p| p.purpose == c.purpose && p.channel == c.channel)
                        .map(|p| time(p.until)),
                    frequency: frequencies
                        .iter()
                        .find(|(p, _)| *p == c.purpose)
                        .map_or(app::domain::Frequency::Every, |(_, f)| *f)
                        .key()
                        .to_owned(),
                })
                .collect(),
        })
        .into_response(),
        Err(r) => refuse(&headers, r),
    }
}

/// Changes a subject's email, phone, language or jurisdiction; each change is recorded with
/// the API key and the time. An erased subject cannot be changed.
#[utoipa::path(patch, path = "/api/v1/subjects/{external_id}", request_body = SubjectPatchRequest,
    params(("external_id" = String, Path, description = "The subject's external id (percent-encoded)", min_length = 1, max_length = 200)),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The subject as changed", body = SubjectJson),
        (status = 400, description = "Malformed request or field", body = ErrorJson),
        (status = 401, description = "No valid API key", body = ErrorJson),
        (status = 403, description = "The key lacks the `subjects:write` scope", body = ErrorJson),
        (status = 404, description = "No such subject (or it was erased)", body = ErrorJson),
        (status = 409, description = "The email belongs to another subject, or was erased before", body = ErrorJson),
    ))]
pub(super) async fn patch_subject(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(external_id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let (key, request) =
        match key_and_json::<SubjectPatchRequest>(&state, &headers, ApiScope::SubjectsWrite, &body)
            .await
        {
            Ok(x) => x,
            Err(res) => return res,
        };
    // `null` removes: an empty value to the service.
    fn removable(v: &Option<Option<String>>) -> Option<&str> {
        v.as_ref().map(|v| v.as_deref().unwrap_or(""))
    }
    let patch = SubjectPatch {
        email: removable(&request.email),
        phone: removable(&request.phone),
        lang: request.lang.as_deref(),
        jurisdiction: request.jurisdiction.as_deref(),
        time_zone: removable(&request.time_zone),
    };
    match state
        .services
        .update_subject_fields(&external_id, patch, &format!("api_key:{}", key.id))
        .await
    {
        Ok(s) => Json(subject_json(&s)).into_response(),
        Err(r) => refuse(&headers, r),
    }
}

/// Erases a subject (the existing rules: consents withdrawn first, identifiers removed, events
/// kept as evidence under the random id, the address never imported again).
#[utoipa::path(delete, path = "/api/v1/subjects/{external_id}", request_body = ErasureRequest,
    params(("external_id" = String, Path, description = "The subject's external id (percent-encoded)", min_length = 1, max_length = 200)),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "Erased", body = ErasureJson),
        (status = 400, description = "Malformed request, or no reason", body = ErrorJson),
        (status = 401, description = "No valid API key", body = ErrorJson),
        (status = 403, description = "The key lacks the `subjects:write` scope", body = ErrorJson),
        (status = 404, description = "No such subject (or it was erased)", body = ErrorJson),
    ))]
pub(super) async fn delete_subject(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(external_id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let (key, request) = match key_and_json::<ErasureRequest>(
        &state,
        &headers,
        ApiScope::SubjectsWrite,
        &body,
    )
    .await
    {
        Ok(x) => x,
        Err(res) => return res,
    };
    let services = &state.services;
    // Only by external id (not an email or Doui's id), and never an erased subject.
    let subject = match services.subject_by_external_id(&external_id).await {
        Ok(Some(s)) => s,
        Ok(None) => return refuse(&headers, Refusal::new("unknown_subject_key")),
        Err(r) => return refuse(&headers, r),
    };
    let provenance = Provenance {
        occurred_at: app::services::now(),
        source: Source::Api,
        actor: app::domain::Actor::ApiKey(key.id.clone()),
        notice_version: None,
        origin: Origin::default(),
        idempotency_key: None,
        reason: None,
        campaign: None,
        collection_point: None,
        import_batch: None,
        form_url: None,
        proof_ref: None,
    };
    match services
        .erase_subject(
            &subject.id.to_string(),
            &request.reason,
            Eraser::ApiKey(&key.id),
            provenance,
        )
        .await
    {
        Ok(e) => Json(ErasureJson {
            id: e.subject.to_string(),
            erased_at: time(e.erased_at),
        })
        .into_response(),
        Err(r) => refuse(&headers, r),
    }
}
