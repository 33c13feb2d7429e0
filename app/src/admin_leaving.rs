//! The console's server function for why people leave (issue 34 item 1): the reasons given after
//! unsubscribing in the last 90 days, per purpose and per campaign (viewer).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
#[cfg(feature = "ssr")]
use crate::{
    api::{admin, refuse, services},
    auth::Role,
};

/// The period the console counts.
pub const REPORT_DAYS: i64 = 90;

/// One row of a table: what it counts (a purpose's name, or a campaign), and the answers per
/// reason in `LeaveReason::ALL`'s order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaveRow {
    pub label: String,
    pub counts: [i64; 4],
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaveReportView {
    pub by_purpose: Vec<LeaveRow>,
    pub by_campaign: Vec<LeaveRow>,
}

/// The reasons given in the last [`REPORT_DAYS`] days (viewer).
#[server(endpoint = "admin/leave_reasons")]
pub async fn admin_leave_reasons() -> Result<LeaveReportView, ApiError> {
    let services = services()?;
    let (_, lang) = admin(&services, Role::Viewer).await?;
    let report = services
        .leave_report(REPORT_DAYS)
        .await
        .map_err(|r| refuse(lang, r))?;
    let purposes = services
        .store
        .purposes()
        .await
        .map_err(|e| refuse(lang, e.into()))?;
    let name = |key: &str| {
        purposes
            .iter()
            .find(|p| p.key.as_str() == key)
            .map_or_else(|| key.to_owned(), |p| p.name(lang).to_owned())
    };
    Ok(LeaveReportView {
        by_purpose: report
            .by_purpose
            .into_iter()
            .map(|(key, counts)| LeaveRow {
                label: name(&key),
                counts,
            })
            .collect(),
        by_campaign: report
            .by_campaign
            .into_iter()
            .map(|(campaign, counts)| LeaveRow {
                label: campaign.unwrap_or_else(|| "—".into()),
                counts,
            })
            .collect(),
    })
}
