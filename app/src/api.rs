//! Server functions: thin. Each authorises the visitor by token, calls one service, and maps the
//! result to what the page shows.

use leptos::prelude::*;

use crate::{
    error::ApiError,
    view::{PreferenceView, UnsubscribeView},
};

#[cfg(feature = "ssr")]
mod ssr {
    use std::net::IpAddr;

    use http::{HeaderMap, StatusCode, request::Parts};
    use leptos::prelude::*;

    use crate::{
        auth::{Admin, Role},
        domain::{Actor, Lang, Origin, Provenance, Source},
        error::ApiError,
        services::{Refusal, Services, Visitor, now},
    };

    /// The client's address, as the server's middleware determined it (peer or trusted proxy).
    #[derive(Debug, Clone, Copy)]
    pub struct ClientIp(pub IpAddr);

    /// This request's CSRF token (the cookie's value, or a new one the response sets).
    #[derive(Debug, Clone)]
    pub struct CsrfToken(pub String);

    pub fn services() -> Result<Services, ApiError> {
        use_context::<Services>().ok_or_else(|| ApiError::new(Lang::En, "unavailable"))
    }

    fn parts() -> Option<Parts> {
        use_context::<Parts>()
    }

    fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
        headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The language for messages when the visitor is not known yet.
    pub fn request_lang(explicit: Option<&str>) -> Lang {
        let parts = parts();
        let accept = parts
            .as_ref()
            .and_then(|p| header(&p.headers, "accept-language"));
        Services::page_lang(explicit, None, accept)
    }

    /// Sets the response status for a refusal and turns it into the error the client receives.
    pub fn refuse(lang: Lang, refusal: Refusal) -> ApiError {
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            res.set_status(
                StatusCode::from_u16(ApiError::status(refusal.code))
                    .unwrap_or(StatusCode::BAD_REQUEST),
            );
            if let Some(secs) = refusal.retry_after {
                res.insert_header(
                    http::header::RETRY_AFTER,
                    http::HeaderValue::from(secs.max(1)),
                );
            }
        }
        ApiError::new(lang, refusal.code)
    }

    pub fn client_ip() -> Option<IpAddr> {
        parts().and_then(|p| p.extensions.get::<ClientIp>().map(|c| c.0))
    }

    /// The value of a request cookie.
    pub fn cookie(name: &str) -> Option<String> {
        let parts = parts()?;
        crate::auth::cookie_value(&parts.headers, name).map(str::to_owned)
    }

    /// The CSRF token of this request (made by the server's middleware for every page).
    pub fn csrf_token() -> String {
        parts()
            .and_then(|p| p.extensions.get::<CsrfToken>().map(|t| t.0.clone()))
            .unwrap_or_default()
    }

    /// A form's CSRF token must match the request's cookie (the middleware checked it too).
    pub fn require_csrf(services: &Services, field: &str, lang: Lang) -> Result<(), ApiError> {
        let cookie = cookie(crate::auth::CSRF_COOKIE).unwrap_or_default();
        if services.csrf.matches(&cookie, field) {
            Ok(())
        } else {
            Err(refuse(lang, Refusal::new("csrf")))
        }
    }

    /// Who is asking: the token's subject, or with no token the signed-in customer. Refused
    /// tokens count against the client's address (and too many are refused outright).
    pub async fn visitor(
        services: &Services,
        token: &str,
        lang: Option<&str>,
    ) -> Result<(Visitor, Lang), ApiError> {
        let fallback = request_lang(lang);
        let ip = client_ip();
        let visitor = if token.is_empty() {
            let session = cookie(crate::auth::SessionKind::Customer.cookie()).unwrap_or_default();
            services.customer(&session).await
        } else {
            services.visitor_from_token(token, ip).await
        }
        .map_err(|r| refuse(fallback, r))?;
        let parts = parts();
        let accept = parts
            .as_ref()
            .and_then(|p| header(&p.headers, "accept-language"));
        let lang = Services::page_lang(lang, Some(&visitor.subject), accept);
        Ok((visitor, lang))
    }

    /// Honours a Global Privacy Control signal (`Sec-GPC: 1`) for the visitor; true when the
    /// request carried it.
    pub async fn honour_gpc(
        services: &Services,
        visitor: &Visitor,
        lang: Lang,
    ) -> Result<bool, ApiError> {
        let signal =
            parts().is_some_and(|p| crate::services::gpc_signal(header(&p.headers, "sec-gpc")));
        if signal {
            services
                .honour_gpc(visitor, provenance(None))
                .await
                .map_err(|r| refuse(lang, r))?;
        }
        Ok(signal)
    }

    /// The signed-in admin whose role allows `needed` (401 / 403 otherwise).
    pub async fn admin(services: &Services, needed: Role) -> Result<(Admin, Lang), ApiError> {
        let lang = request_lang(None);
        let session = cookie(crate::auth::SessionKind::Admin.cookie()).unwrap_or_default();
        let admin = services
            .admin(&session, needed)
            .await
            .map_err(|r| refuse(lang, r))?;
        Ok((admin, lang))
    }

    /// Provenance of a change the subject makes in the preference center.
    pub fn provenance(idempotency_key: Option<String>) -> Provenance {
        let parts = parts();
        let ip = parts
            .as_ref()
            .and_then(|p| p.extensions.get::<ClientIp>())
            .map(|c| c.0);
        let ua = parts
            .as_ref()
            .and_then(|p| header(&p.headers, "user-agent"));
        Provenance {
            occurred_at: now(),
            source: Source::PreferenceCenter,
            actor: Actor::Subject,
            notice_version: None, // the version in force, set by the services
            origin: Origin::new(ip, ua),
            idempotency_key: idempotency_key.filter(|k| !k.is_empty()),
            reason: None,
            campaign: None,
            collection_point: None,
            import_batch: None,
            form_url: None,
            proof_ref: None,
        }
    }
}

#[cfg(feature = "ssr")]
pub use ssr::{ClientIp, CsrfToken, request_lang};
#[cfg(feature = "ssr")]
pub(crate) use ssr::{admin, csrf_token, provenance, refuse, require_csrf, services, visitor};

/// The preference center of the token's subject.
#[server(endpoint = "preferences")]
pub async fn load_preferences(
    token: String,
    lang: Option<String>,
) -> Result<PreferenceView, ApiError> {
    let services = ssr::services()?;
    let (visitor, lang) = ssr::visitor(&services, &token, lang.as_deref()).await?;
    let gpc = ssr::honour_gpc(&services, &visitor, lang).await?;
    let mut view = services
        .preference_view(&visitor, &token, lang)
        .await
        .map_err(|r| ssr::refuse(lang, r))?;
    view.csrf = ssr::csrf_token();
    view.gpc = gpc;
    Ok(view)
}

/// Sets one consent (`state` is `granted` or `withdrawn`) and returns the updated page.
#[server(endpoint = "set_consent")]
pub async fn set_consent(
    token: String,
    purpose: String,
    channel: String,
    state: String,
    lang: Option<String>,
    idempotency_key: Option<String>,
    csrf: String,
) -> Result<PreferenceView, ApiError> {
    let services = ssr::services()?;
    ssr::require_csrf(&services, &csrf, ssr::request_lang(lang.as_deref()))?;
    let (visitor, lang) = ssr::visitor(&services, &token, lang.as_deref()).await?;
    let gpc = ssr::honour_gpc(&services, &visitor, lang).await?;
    let mut provenance = ssr::provenance(idempotency_key);
    if gpc && state == "granted" {
        // The person's own choice while their browser sends the signal: later signals keep it.
        provenance.reason = Some(crate::services::GRANTED_WITH_GPC.to_owned());
    }
    let applied = services
        .set_consent(&visitor, &purpose, &channel, &state, provenance)
        .await
        .map_err(|r| ssr::refuse(lang, r))?;
    tracing::info!(subject = %visitor.subject.id, %purpose, %channel, %state,
        outcome = crate::services::outcome_word(&applied), "consent set");
    let mut view = services
        .preference_view(&visitor, &token, lang)
        .await
        .map_err(|r| ssr::refuse(lang, r))?;
    view.csrf = ssr::csrf_token();
    view.gpc = gpc;
    Ok(view)
}

/// Withdraws every marketing purpose on every channel and returns the updated page.
#[server(endpoint = "stop_all_marketing")]
pub async fn stop_all_marketing(
    token: String,
    lang: Option<String>,
    idempotency_key: Option<String>,
    csrf: String,
) -> Result<PreferenceView, ApiError> {
    let services = ssr::services()?;
    ssr::require_csrf(&services, &csrf, ssr::request_lang(lang.as_deref()))?;
    let (visitor, lang) = ssr::visitor(&services, &token, lang.as_deref()).await?;
    let gpc = ssr::honour_gpc(&services, &visitor, lang).await?;
    let provenance = ssr::provenance(idempotency_key);
    let applied = services
        .stop_all_marketing(&visitor, provenance)
        .await
        .map_err(|r| ssr::refuse(lang, r))?;
    tracing::info!(subject = %visitor.subject.id, changes = applied.len(), "all marketing stopped");
    let mut view = services
        .preference_view(&visitor, &token, lang)
        .await
        .map_err(|r| ssr::refuse(lang, r))?;
    view.csrf = ssr::csrf_token();
    view.gpc = gpc;
    Ok(view)
}

/// Answers a re-confirmation after a material change of the privacy notice: `decision` is
/// `confirm` (grant again under the notice in force) or `withdraw`, for one purpose.
#[server(endpoint = "reconfirm")]
pub async fn reconfirm(
    token: String,
    purpose: String,
    decision: String,
    lang: Option<String>,
    idempotency_key: Option<String>,
    csrf: String,
) -> Result<(), ApiError> {
    let services = ssr::services()?;
    ssr::require_csrf(&services, &csrf, ssr::request_lang(lang.as_deref()))?;
    let (visitor, lang) = ssr::visitor(&services, &token, lang.as_deref()).await?;
    let confirm = match decision.as_str() {
        "confirm" => true,
        "withdraw" => false,
        _ => return Err(ApiError::new(lang, "bad_request")),
    };
    let applied = services
        .reconfirm(
            &visitor,
            &purpose,
            confirm,
            ssr::provenance(idempotency_key),
        )
        .await
        .map_err(|r| ssr::refuse(lang, r))?;
    tracing::info!(subject = %visitor.subject.id, %purpose, %decision, changes = applied.len(), "notice change answered");
    Ok(())
}

/// The double opt-in form (no sign-in).
#[server(endpoint = "subscribe_form")]
pub async fn subscribe_form(lang: Option<String>) -> Result<crate::view::SubscribeView, ApiError> {
    let services = ssr::services()?;
    let lang = ssr::request_lang(lang.as_deref());
    let purposes = services
        .store
        .purposes()
        .await
        .map_err(|e| ssr::refuse(lang, e.into()))?
        .iter()
        .filter(|p| p.applies_to(crate::domain::Channel::Email))
        .map(|p| (p.key.to_string(), p.name(lang).to_owned()))
        .collect();
    Ok(crate::view::SubscribeView {
        lang,
        csrf: ssr::csrf_token(),
        purposes,
    })
}

/// What a double opt-in link would confirm. Reads only: opening the link confirms nothing.
#[server(endpoint = "opt_in_preview")]
pub async fn opt_in_preview(token: String) -> Result<crate::view::OptInView, ApiError> {
    let services = ssr::services()?;
    let fallback = ssr::request_lang(None);
    let p = services
        .opt_in_preview(&token)
        .await
        .map_err(|r| ssr::refuse(fallback, r))?;
    Ok(crate::view::OptInView {
        lang: p.lang,
        csrf: ssr::csrf_token(),
        purpose_name: p.purpose_name,
        email: p.email,
    })
}

/// The public privacy policy (no sign-in).
#[server(endpoint = "privacy")]
pub async fn privacy_policy(lang: Option<String>) -> Result<crate::view::PrivacyView, ApiError> {
    let services = ssr::services()?;
    let lang = ssr::request_lang(lang.as_deref());
    services
        .privacy_view(lang)
        .await
        .map_err(|r| ssr::refuse(lang, r))
}

/// What an unsubscribe link would do; changes nothing (mail scanners open links with GET).
#[server(endpoint = "unsubscribe_preview")]
pub async fn unsubscribe_preview(
    token: String,
    lang: Option<String>,
) -> Result<UnsubscribeView, ApiError> {
    let services = ssr::services()?;
    let (visitor, lang) = ssr::visitor(&services, &token, lang.as_deref()).await?;
    let targets = services
        .unsubscribe_targets(&visitor.scope)
        .await
        .map_err(|r| ssr::refuse(lang, r))?;
    let already = services
        .already_unsubscribed(&visitor)
        .await
        .map_err(|r| ssr::refuse(lang, r))?;
    Ok(UnsubscribeView {
        lang,
        token,
        items: targets.iter().map(|t| t.describe(lang)).collect(),
        already,
    })
}

/// Whether a sign-in link still works. Reads only: opening the link uses nothing.
#[server(endpoint = "check_sign_in_link")]
pub async fn check_sign_in_link(token: String) -> Result<(), ApiError> {
    let services = ssr::services()?;
    let lang = ssr::request_lang(None);
    services
        .check_sign_in_link(&token, ssr::client_ip())
        .await
        .map_err(|r| ssr::refuse(lang, r))
}
