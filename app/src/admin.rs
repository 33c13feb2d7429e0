//! The admin console's server functions. Each checks the signed-in admin's role first: 401 when
//! nobody is signed in, 403 when the role is too low. State-changing ones also check the form's
//! CSRF token.

// A server function's arguments are its form's fields (so forms work without JavaScript).
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::{
    error::ApiError,
    view::{
        AdminRow, AdminSubjectView, ApiKeyRow, ChainView, ChartView, CreatedApiKey, EventPageView,
        PurposeAdminRow, SignedInAdmin, SubjectSearchView,
    },
};

#[cfg(feature = "ssr")]
use crate::view::{EventFilterForm, PurposeForm};
#[cfg(feature = "ssr")]
use crate::{
    api::{admin, csrf_token, refuse, require_csrf, services},
    auth::Role,
};

/// Who is signed in (any role).
#[server(endpoint = "admin/me")]
pub async fn admin_me() -> Result<SignedInAdmin, ApiError> {
    let services = services()?;
    let (admin, _) = admin(&services, Role::Viewer).await?;
    Ok(SignedInAdmin {
        email: admin.email,
        role: admin.role.key().to_owned(),
        csrf: csrf_token(),
    })
}

/// Subjects whose external id, email or phone is `query` or starts with it, paged (viewer).
#[server(endpoint = "admin/search")]
pub async fn admin_search(query: String, page: Option<u32>) -> Result<SubjectSearchView, ApiError> {
    let services = services()?;
    let (_, lang) = admin(&services, Role::Viewer).await?;
    services
        .search_subjects(&query, page.unwrap_or(0))
        .await
        .map_err(|r| refuse(lang, r))
}

/// The event filters every console view takes (all optional; dates `YYYY-MM-DD`).
#[cfg(feature = "ssr")]
fn filter_form(
    purpose: Option<String>,
    channel: Option<String>,
    source: Option<String>,
    from: Option<String>,
    until: Option<String>,
) -> EventFilterForm {
    EventFilterForm {
        purpose,
        channel,
        source,
        from,
        until,
    }
}

/// One subject's matrix and its timeline, filtered and paged (viewer).
#[server(endpoint = "admin/subject")]
pub async fn admin_subject(
    id: String,
    purpose: Option<String>,
    channel: Option<String>,
    source: Option<String>,
    from: Option<String>,
    until: Option<String>,
    before: Option<i64>,
) -> Result<AdminSubjectView, ApiError> {
    let services = services()?;
    let (_, lang) = admin(&services, Role::Viewer).await?;
    let filter = filter_form(purpose, channel, source, from, until);
    services
        .admin_subject_view(&id, lang, filter, before)
        .await
        .map_err(|r| refuse(lang, r))
}

/// Every subject's events, newest first, filtered and paged (viewer).
#[server(endpoint = "admin/events")]
pub async fn admin_events(
    purpose: Option<String>,
    channel: Option<String>,
    source: Option<String>,
    from: Option<String>,
    until: Option<String>,
    before: Option<i64>,
) -> Result<EventPageView, ApiError> {
    let services = services()?;
    let (_, lang) = admin(&services, Role::Viewer).await?;
    let filter = filter_form(purpose, channel, source, from, until);
    services
        .event_page(filter, None, before, lang)
        .await
        .map_err(|r| refuse(lang, r))
}

/// Opt-ins and opt-outs per day for the charts, with the same filters (viewer).
#[server(endpoint = "admin/chart")]
pub async fn admin_chart(
    purpose: Option<String>,
    channel: Option<String>,
    source: Option<String>,
    from: Option<String>,
    until: Option<String>,
) -> Result<ChartView, ApiError> {
    let services = services()?;
    let (_, lang) = admin(&services, Role::Viewer).await?;
    let filter = filter_form(purpose, channel, source, from, until);
    services
        .event_chart(&filter, None)
        .await
        .map_err(|r| refuse(lang, r))
}

/// Every purpose with its settings and versions (viewer).
#[server(endpoint = "admin/purposes")]
pub async fn admin_purposes() -> Result<Vec<PurposeAdminRow>, ApiError> {
    let services = services()?;
    let (_, lang) = admin(&services, Role::Viewer).await?;
    services.purpose_rows().await.map_err(|r| refuse(lang, r))
}

/// Adds or changes a purpose; each save is a new, attributed version (owner). Channels come as
/// one checkbox each, so the form works without JavaScript.
#[server(endpoint = "admin/save_purpose")]
pub async fn admin_save_purpose(
    key: String,
    name_ja: String,
    name_en: String,
    description_ja: String,
    description_en: String,
    mode: String,
    marketing: Option<String>,
    channel_email: Option<String>,
    channel_sms: Option<String>,
    channel_push: Option<String>,
    channel_postal: Option<String>,
    channel_phone: Option<String>,
    channel_web: Option<String>,
    kind: Option<String>,
    mode_jp: Option<String>,
    mode_eu: Option<String>,
    mode_us_ca: Option<String>,
    soft_opt_in: Option<String>,
    ppc_filed_on: Option<String>,
    ppc_number: Option<String>,
    sensitive: Option<String>,
    improperly_acquired: Option<String>,
    received_by_opt_out: Option<String>,
    data_items: Option<String>,
    acquired_by: Option<String>,
    provided_by: Option<String>,
    validity_days: Option<String>,
    csrf: String,
) -> Result<Vec<PurposeAdminRow>, ApiError> {
    let services = services()?;
    let (owner, lang) = admin(&services, Role::Owner).await?;
    require_csrf(&services, &csrf, lang)?;
    let channels = [
        ("email", channel_email),
        ("sms", channel_sms),
        ("push", channel_push),
        ("postal", channel_postal),
        ("phone", channel_phone),
        ("web", channel_web),
    ]
    .into_iter()
    .filter(|(_, on)| on.is_some())
    .map(|(c, _)| c.to_owned())
    .collect();
    let form = PurposeForm {
        key,
        name_ja,
        name_en,
        description_ja,
        description_en,
        mode,
        jurisdiction_modes: [("jp", mode_jp), ("eu", mode_eu), ("us_ca", mode_us_ca)]
            .into_iter()
            .map(|(j, m)| (j.to_owned(), m.unwrap_or_default()))
            .collect(),
        channels,
        marketing: marketing.is_some(),
        kind: kind.unwrap_or_default(),
        soft_opt_in: soft_opt_in.unwrap_or_default(),
        ppc_filed_on: ppc_filed_on.unwrap_or_default(),
        ppc_number: ppc_number.unwrap_or_default(),
        sensitive: sensitive.is_some(),
        improperly_acquired: improperly_acquired.is_some(),
        received_by_opt_out: received_by_opt_out.is_some(),
        data_items: data_items.unwrap_or_default(),
        acquired_by: acquired_by.unwrap_or_default(),
        provided_by: provided_by.unwrap_or_default(),
        validity_days: validity_days.unwrap_or_default(),
    };
    services
        .save_purpose(&owner, &form)
        .await
        .map_err(|r| refuse(lang, r))?;
    services.purpose_rows().await.map_err(|r| refuse(lang, r))
}

/// The third-party recipients (viewer).
#[server(endpoint = "admin/recipients")]
pub async fn admin_recipients() -> Result<Vec<crate::view::RecipientRow>, ApiError> {
    let services = services()?;
    let (_, lang) = admin(&services, Role::Viewer).await?;
    recipient_rows(&services, lang).await
}

#[cfg(feature = "ssr")]
async fn recipient_rows(
    services: &crate::services::Services,
    lang: crate::domain::Lang,
) -> Result<Vec<crate::view::RecipientRow>, ApiError> {
    Ok(services
        .recipients()
        .await
        .map_err(|r| refuse(lang, r))?
        .into_iter()
        .map(|r| crate::view::RecipientRow {
            id: r.id,
            name: r.name,
            address: r.address,
            representative: r.representative,
        })
        .collect())
}

/// Adds a recipient or changes one (owner); the id names it in the API and in the records.
#[server(endpoint = "admin/save_recipient")]
pub async fn admin_save_recipient(
    id: String,
    name: String,
    address: String,
    representative: String,
    csrf: String,
) -> Result<Vec<crate::view::RecipientRow>, ApiError> {
    let services = services()?;
    let (owner, lang) = admin(&services, Role::Owner).await?;
    require_csrf(&services, &csrf, lang)?;
    let saved = services
        .save_recipient(crate::store::Recipient {
            id: id.trim().to_owned(),
            name,
            address,
            representative,
        })
        .await
        .map_err(|r| refuse(lang, r))?;
    tracing::info!(admin = %owner.id, recipient = %saved.id, "recipient saved");
    recipient_rows(&services, lang).await
}

/// The collection points, retired ones too (viewer).
#[server(endpoint = "admin/collection_points")]
pub async fn admin_collection_points() -> Result<Vec<crate::view::CollectionPointRow>, ApiError> {
    let services = services()?;
    let (_, lang) = admin(&services, Role::Viewer).await?;
    collection_point_rows(&services, lang).await
}

#[cfg(feature = "ssr")]
async fn collection_point_rows(
    services: &crate::services::Services,
    lang: crate::domain::Lang,
) -> Result<Vec<crate::view::CollectionPointRow>, ApiError> {
    let when = |t: time::OffsetDateTime| {
        t.format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute] UTC"
        ))
        .unwrap_or_default()
    };
    let forms = services.signup_forms().await.map_err(|r| refuse(lang, r))?;
    Ok(services
        .collection_points()
        .await
        .map_err(|r| refuse(lang, r))?
        .into_iter()
        .map(|p| crate::view::CollectionPointRow {
            form: forms
                .iter()
                .find(|f| f.point == p.key)
                .map(|f| crate::view::SignupFormRow {
                    version: f.version,
                    on: f.is_on(),
                    purposes: f
                        .purposes
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    origins: f.origins.clone(),
                    url: format!("{}/forms/{}", services.settings.public_url, p.key),
                }),
            kind_name: p.kind.name(lang).to_owned(),
            kind: p.kind.key().to_owned(),
            created: when(p.created_at),
            retired: p
                .retired_at
                .map(|at| format!("{} ({})", when(at), p.retired_by.unwrap_or_default())),
            key: p.key,
            name_ja: p.name_ja,
            name_en: p.name_en,
            location: p.location,
            wording: p.wording,
            wording_sha256: p.wording_sha256,
            notice_version: p.notice_version,
            created_by: p.created_by,
        })
        .collect())
}

/// Registers a collection point (owner); it is never changed afterwards, only retired.
#[server(endpoint = "admin/add_collection_point")]
pub async fn admin_add_collection_point(
    key: String,
    name_ja: String,
    name_en: String,
    kind: String,
    location: String,
    wording: String,
    notice_version: Option<String>,
    csrf: String,
) -> Result<Vec<crate::view::CollectionPointRow>, ApiError> {
    let services = services()?;
    let (owner, lang) = admin(&services, Role::Owner).await?;
    require_csrf(&services, &csrf, lang)?;
    let kind = kind.parse().map_err(|_| {
        refuse(
            lang,
            crate::services::Refusal::new("unknown_collection_point_kind"),
        )
    })?;
    services
        .add_collection_point(
            crate::domain::NewCollectionPoint {
                key: key.trim().to_owned(),
                name_ja,
                name_en,
                kind,
                location,
                wording,
                notice_version,
            },
            &format!("admin:{}", owner.id),
        )
        .await
        .map_err(|r| refuse(lang, r))?;
    collection_point_rows(&services, lang).await
}

/// Retires a collection point (owner): it stays as evidence and names no new consent.
#[server(endpoint = "admin/retire_collection_point")]
pub async fn admin_retire_collection_point(
    key: String,
    csrf: String,
) -> Result<Vec<crate::view::CollectionPointRow>, ApiError> {
    let services = services()?;
    let (owner, lang) = admin(&services, Role::Owner).await?;
    require_csrf(&services, &csrf, lang)?;
    services
        .retire_collection_point(key.trim(), &format!("admin:{}", owner.id))
        .await
        .map_err(|r| refuse(lang, r))?;
    collection_point_rows(&services, lang).await
}

/// Sets a collection point's signup form (owner): a new version offering `purposes` (keys
/// separated by commas; empty switches the form off) to `origins` (one per line).
#[server(endpoint = "admin/set_signup_form")]
pub async fn admin_set_signup_form(
    key: String,
    purposes: String,
    origins: String,
    csrf: String,
) -> Result<Vec<crate::view::CollectionPointRow>, ApiError> {
    let services = services()?;
    let (owner, lang) = admin(&services, Role::Owner).await?;
    require_csrf(&services, &csrf, lang)?;
    services
        .set_signup_form(
            key.trim(),
            &[purposes],
            &[origins],
            &format!("admin:{}", owner.id),
        )
        .await
        .map_err(|r| refuse(lang, r))?;
    collection_point_rows(&services, lang).await
}

/// The published notice versions, newest first, each with its diff from the one before (viewer).
#[server(endpoint = "admin/notices")]
pub async fn admin_notices() -> Result<Vec<crate::view::NoticeSummary>, ApiError> {
    let services = services()?;
    let (_, lang) = admin(&services, Role::Viewer).await?;
    services
        .notice_summaries(lang)
        .await
        .map_err(|r| refuse(lang, r))
}

/// Publishes a notice version (owner). `effective_at` is a `datetime-local` value (UTC) or
/// RFC 3339; empty means now. `purposes`: keys separated by commas, empty for all.
#[server(endpoint = "admin/publish_notice")]
pub async fn admin_publish_notice(
    version: String,
    effective_at: Option<String>,
    material: Option<String>,
    purposes: Option<String>,
    summary_ja: Option<String>,
    summary_en: Option<String>,
    text_ja: String,
    text_en: String,
    csrf: String,
) -> Result<Vec<crate::view::NoticeSummary>, ApiError> {
    let services = services()?;
    let (owner, lang) = admin(&services, Role::Owner).await?;
    require_csrf(&services, &csrf, lang)?;
    let effective_at = crate::services::parse_effective_at(effective_at.as_deref().unwrap_or(""))
        .map_err(|r| refuse(lang, r))?;
    let input = crate::services::NoticeInput {
        version,
        effective_at,
        material: material.is_some(),
        purposes: purposes
            .unwrap_or_default()
            .split(',')
            .map(str::to_owned)
            .collect(),
        summary_ja: summary_ja.unwrap_or_default(),
        summary_en: summary_en.unwrap_or_default(),
        text_ja,
        text_en,
    };
    services
        .publish_notice(input, &owner.email)
        .await
        .map_err(|r| refuse(lang, r))?;
    services
        .notice_summaries(lang)
        .await
        .map_err(|r| refuse(lang, r))
}

/// Erases a person on their request (GDPR Art. 17), with a mandatory reason (operator): their
/// identifiers go, every consent is withdrawn, the events stay as evidence.
#[server(endpoint = "admin/erase_subject")]
pub async fn admin_erase_subject(
    subject: String,
    reason: String,
    confirm: Option<String>,
    csrf: String,
) -> Result<AdminSubjectView, ApiError> {
    let services = services()?;
    let (admin, lang) = admin(&services, Role::Operator).await?;
    require_csrf(&services, &csrf, lang)?;
    if confirm.is_none() {
        return Err(ApiError::new(lang, "erase_unconfirmed"));
    }
    services
        .erase_subject(
            &subject,
            &reason,
            crate::services::Eraser::Admin(&admin),
            crate::api::provenance(None),
        )
        .await
        .map_err(|r| refuse(lang, r))?;
    services
        .admin_subject_view(&subject, lang, EventFilterForm::default(), None)
        .await
        .map_err(|r| refuse(lang, r))
}

/// Changes a consent on the person's behalf, with a mandatory reason (operator).
#[server(endpoint = "admin/set_consent")]
pub async fn admin_set_consent(
    subject: String,
    purpose: String,
    channel: String,
    state: String,
    reason: String,
    csrf: String,
) -> Result<AdminSubjectView, ApiError> {
    let services = services()?;
    let (admin, lang) = admin(&services, Role::Operator).await?;
    require_csrf(&services, &csrf, lang)?;
    let provenance = crate::api::provenance(None);
    let applied = services
        .admin_set_consent(
            &admin,
            crate::services::BehalfChange {
                subject: &subject,
                purpose: &purpose,
                channel: &channel,
                state: &state,
                reason: &reason,
            },
            provenance,
        )
        .await
        .map_err(|r| refuse(lang, r))?;
    tracing::info!(admin = %admin.id, %subject, %purpose, %channel, %state,
        outcome = crate::services::outcome_word(&applied), "consent set by admin");
    services
        .admin_subject_view(&subject, lang, EventFilterForm::default(), None)
        .await
        .map_err(|r| refuse(lang, r))
}

/// Every admin account (owner).
#[server(endpoint = "admin/admins")]
pub async fn admin_list_admins() -> Result<Vec<AdminRow>, ApiError> {
    let services = services()?;
    let (_, lang) = admin(&services, Role::Owner).await?;
    services.admin_rows().await.map_err(|r| refuse(lang, r))
}

/// Changes an admin's role, or disables / enables the account (owner).
#[server(endpoint = "admin/set_role")]
pub async fn admin_set_role(
    email: String,
    role: String,
    disabled: Option<String>,
    csrf: String,
) -> Result<Vec<AdminRow>, ApiError> {
    let services = services()?;
    let (owner, lang) = admin(&services, Role::Owner).await?;
    require_csrf(&services, &csrf, lang)?;
    let role: Role = role
        .parse()
        .map_err(|e: crate::domain::Invalid| refuse(lang, e.into()))?;
    let disabled = disabled.is_some_and(|d| d == "true" || d == "on");
    let changed = services
        .set_admin_role(&email, role, disabled)
        .await
        .map_err(|r| refuse(lang, r))?;
    tracing::info!(by = %owner.id, admin = %changed.id, role = %changed.role, disabled, "admin changed");
    services.admin_rows().await.map_err(|r| refuse(lang, r))
}

/// Every API key (owner).
#[server(endpoint = "admin/api_keys")]
pub async fn admin_list_api_keys() -> Result<Vec<ApiKeyRow>, ApiError> {
    let services = services()?;
    let (_, lang) = admin(&services, Role::Owner).await?;
    services.api_key_rows().await.map_err(|r| refuse(lang, r))
}

/// Creates an API key; the answer shows its secret once (owner).
#[server(endpoint = "admin/create_api_key")]
pub async fn admin_create_api_key(
    name: String,
    scopes: String,
    csrf: String,
) -> Result<CreatedApiKey, ApiError> {
    let services = services()?;
    let (owner, lang) = admin(&services, Role::Owner).await?;
    require_csrf(&services, &csrf, lang)?;
    let scopes: Vec<String> = scopes
        .split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let (record, key) = services
        .create_api_key(&name, &scopes)
        .await
        .map_err(|r| refuse(lang, r))?;
    tracing::info!(by = %owner.id, key = %record.id, "API key created");
    let keys = services.api_key_rows().await.map_err(|r| refuse(lang, r))?;
    Ok(CreatedApiKey { key, keys })
}

/// Revokes an API key (owner).
#[server(endpoint = "admin/revoke_api_key")]
pub async fn admin_revoke_api_key(id: String, csrf: String) -> Result<Vec<ApiKeyRow>, ApiError> {
    let services = services()?;
    let (owner, lang) = admin(&services, Role::Owner).await?;
    require_csrf(&services, &csrf, lang)?;
    let revoked = services
        .store
        .revoke_api_key(&id, crate::services::now())
        .await
        .map_err(|e| refuse(lang, e.into()))?;
    if !revoked {
        return Err(refuse(lang, crate::services::Refusal::new("not_found")));
    }
    tracing::info!(by = %owner.id, key = %id, "API key revoked");
    services.api_key_rows().await.map_err(|r| refuse(lang, r))
}

/// The hash chain: its length and head, and with `verify` the result of walking all of it
/// (viewer; reads only).
#[server(endpoint = "admin/chain")]
pub async fn admin_chain(verify: bool) -> Result<ChainView, ApiError> {
    let services = services()?;
    let (_, lang) = admin(&services, Role::Viewer).await?;
    services
        .chain_view(verify)
        .await
        .map_err(|r| refuse(lang, r))
}
