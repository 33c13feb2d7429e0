//! Webhook endpoints (issue 32): adding, changing, rotating secrets, disabling and enabling with
//! a replay choice, the delivery log; and the check every URL passes, when added and before each
//! delivery (its host's addresses, resolved now).

use std::net::IpAddr;

use time::OffsetDateTime;

use super::{Refusal, Services};
use crate::{
    auth::random_bytes,
    domain::webhook::{
        MAX_DESCRIPTION, ROTATION_OVERLAP_MS, WebhookDelivery, WebhookEndpoint, WebhookFilter,
        WebhookState, check_url, forbidden_ip, new_secret,
    },
};

/// What an owner gives for an endpoint.
#[derive(Debug, Clone, Default)]
pub struct WebhookInput {
    pub url: String,
    pub description: String,
    pub filter: WebhookFilter,
    /// The third-party recipient the endpoint speaks to (its id in the APPI register), given
    /// when it is added; it cannot change afterwards (an update keeps the endpoint's).
    pub recipient: Option<String>,
}

/// Where deliveries start again when an endpoint is enabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayFrom {
    /// From the last item the endpoint answered 2xx to.
    Stopped,
    /// After this cursor (a chain position).
    Cursor(i64),
    /// From the first event recorded at or after this time.
    Time(OffsetDateTime),
}

/// Delivery log rows shown per page.
pub const DELIVERY_PAGE: u32 = 100;

/// The data key's label for an endpoint's secret (a secret opens only for its endpoint).
fn secret_label(id: &str) -> String {
    format!("webhook secret {id}")
}

fn unix_ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

impl Services {
    /// Refuses a URL an endpoint may not have: not `https` (unless its host is allowed), or a host
    /// whose addresses include a forbidden one (loopback, private, link-local, metadata…).
    pub async fn check_webhook_url(&self, url: &str) -> Result<(), Refusal> {
        let (host, allowed) = check_url(url, &self.settings.webhook_allow_hosts)?;
        if allowed || host.parse::<IpAddr>().is_ok() {
            return Ok(());
        }
        let addrs = tokio::net::lookup_host((host.as_str(), 443))
            .await
            .map_err(|_| Refusal::new("webhook_host_unknown"))?;
        let mut any = false;
        for a in addrs {
            any = true;
            if forbidden_ip(a.ip()) {
                return Err(Refusal::new("webhook_address_forbidden"));
            }
        }
        if any {
            Ok(())
        } else {
            Err(Refusal::new("webhook_host_unknown"))
        }
    }

    async fn check_webhook_input(&self, input: &WebhookInput) -> Result<(), Refusal> {
        if input.description.chars().count() > MAX_DESCRIPTION {
            return Err(Refusal::new("webhook_description_too_long"));
        }
        input.filter.check()?;
        if !input.filter.purposes.is_empty() {
            let known = self.store.purposes().await?;
            if input
                .filter
                .purposes
                .iter()
                .any(|p| !known.iter().any(|k| k.key.as_str() == p))
            {
                return Err(Refusal::new("unknown_purpose"));
            }
        }
        self.check_webhook_url(&input.url).await
    }

    /// Adds an endpoint that receives what is recorded from now on; returns it and its secret,
    /// which is shown this once (only its encryption is stored).
    pub async fn add_webhook(
        &self,
        input: WebhookInput,
        now: OffsetDateTime,
    ) -> Result<(WebhookEndpoint, String), Refusal> {
        self.check_webhook_input(&input).await?;
        let recipient = match input.recipient.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(r) => {
                if !self
                    .console
                    .register()
                    .recipients()
                    .await?
                    .iter()
                    .any(|k| k.id == r)
                {
                    return Err(Refusal::new("unknown_recipient"));
                }
                Some(r.to_owned())
            }
        };
        let id = format!(
            "wh_{}",
            random_bytes::<8>()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        let secret = new_secret(random_bytes::<32>());
        let (head, _) = self.seals.chain_extent().await?;
        let endpoint = WebhookEndpoint {
            secret: self.data_key.seal(&secret_label(&id), &secret),
            id,
            url: input.url,
            description: input.description,
            filter: input.filter,
            previous_secret: None,
            previous_until: None,
            state: WebhookState::Active,
            position: head,
            failures: 0,
            next_attempt_at: 0,
            failing_since: None,
            disabled_reason: None,
            last_success_at: None,
            created_at: unix_ms(now),
            recipient,
        };
        // A recipient removed meanwhile is unknown too.
        match self.console.add_webhook(&endpoint).await {
            Err(crate::store::StoreError::MissingReference(_)) => {
                return Err(Refusal::new("unknown_recipient"));
            }
            done => done?,
        }
        Ok((endpoint, secret))
    }

    pub async fn webhooks(&self) -> Result<Vec<WebhookEndpoint>, Refusal> {
        Ok(self.console.webhooks().await?)
    }

    pub async fn webhook(&self, id: &str) -> Result<WebhookEndpoint, Refusal> {
        self.console
            .webhook(id)
            .await?
            .ok_or(Refusal::new("unknown_webhook"))
    }

    /// Changes an endpoint's URL, description and filter (its cursor, secret and recipient stay;
    /// `input.recipient` is not read).
    pub async fn update_webhook(
        &self,
        id: &str,
        input: WebhookInput,
    ) -> Result<WebhookEndpoint, Refusal> {
        self.webhook(id).await?;
        self.check_webhook_input(&input).await?;
        self.console
            .update_webhook(id, &input.url, &input.description, &input.filter)
            .await?;
        self.webhook(id).await
    }

    /// A new secret, returned this once; the old one still signs for [`ROTATION_OVERLAP_MS`].
    pub async fn rotate_webhook(&self, id: &str, now: OffsetDateTime) -> Result<String, Refusal> {
        let e = self.webhook(id).await?;
        let secret = new_secret(random_bytes::<32>());
        self.console
            .rotate_webhook_secret(
                id,
                &self.data_key.seal(&secret_label(id), &secret),
                &e.secret,
                unix_ms(now) + ROTATION_OVERLAP_MS,
            )
            .await?;
        Ok(secret)
    }

    pub async fn disable_webhook(&self, id: &str) -> Result<(), Refusal> {
        if self.console.disable_webhook(id, "by_owner").await? {
            Ok(())
        } else {
            Err(Refusal::new("unknown_webhook"))
        }
    }

    /// Enables an endpoint again, replaying from where it stopped, after a cursor, or from a time.
    pub async fn enable_webhook(
        &self,
        id: &str,
        from: ReplayFrom,
    ) -> Result<WebhookEndpoint, Refusal> {
        self.webhook(id).await?;
        let position = match from {
            ReplayFrom::Stopped => None,
            ReplayFrom::Cursor(c) if c < 0 => return Err(Refusal::new("bad_cursor")),
            ReplayFrom::Cursor(c) => Some(c),
            ReplayFrom::Time(t) => Some(self.console.position_before(t).await?),
        };
        self.console.enable_webhook(id, position).await?;
        self.webhook(id).await
    }

    pub async fn delete_webhook(&self, id: &str) -> Result<(), Refusal> {
        if self.console.delete_webhook(id).await? {
            Ok(())
        } else {
            Err(Refusal::new("unknown_webhook"))
        }
    }

    pub async fn webhook_deliveries(
        &self,
        id: &str,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>, Refusal> {
        self.webhook(id).await?;
        Ok(self.console.webhook_deliveries(id, limit).await?)
    }

    /// The secrets that sign a delivery at `now` (ms): the current one, and the previous one
    /// during a rotation's overlap. Refused when a stored secret does not open (another data key).
    pub fn webhook_secrets(&self, e: &WebhookEndpoint, now: i64) -> Result<Vec<String>, Refusal> {
        let label = secret_label(&e.id);
        let open = |s: &str| {
            self.data_key
                .open(&label, s)
                .ok_or(Refusal::new("webhook_secret_unreadable"))
        };
        let mut out = vec![open(&e.secret)?];
        if let (Some(prev), Some(until)) = (&e.previous_secret, e.previous_until)
            && now < until
        {
            out.push(open(prev)?);
        }
        Ok(out)
    }
}
