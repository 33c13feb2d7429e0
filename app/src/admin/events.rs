//! The console's server functions for the event log: filtered pages and the charts' counts.

use leptos::prelude::*;

use crate::error::ApiError;
#[cfg(feature = "ssr")]
use crate::view::EventFilterForm;
use crate::view::{ChartView, EventPageView};
#[cfg(feature = "ssr")]
use crate::{
    api::{admin, refuse, services},
    auth::Role,
};

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

/// The event filters every console view takes (all optional; dates `YYYY-MM-DD`).
#[cfg(feature = "ssr")]
pub(super) fn filter_form(
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
