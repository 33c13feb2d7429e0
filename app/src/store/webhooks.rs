//! Webhook endpoints, their cursors and leases, and the delivery log.

use super::*;

/// Webhook endpoints, their cursors and leases, and the delivery log (issue 32). Times are unix
/// milliseconds. The dispatcher's writes hold the endpoint's lease: they change nothing when
/// another instance has taken it.
#[async_trait]
pub trait WebhookStore: Send + Sync + 'static {
    async fn add_webhook(
        &self,
        endpoint: &crate::domain::webhook::WebhookEndpoint,
    ) -> StoreResult<()>;
    /// Every endpoint, oldest first.
    async fn webhooks(&self) -> StoreResult<Vec<crate::domain::webhook::WebhookEndpoint>>;
    async fn webhook(
        &self,
        id: &str,
    ) -> StoreResult<Option<crate::domain::webhook::WebhookEndpoint>>;
    /// Replaces an endpoint's URL, description and filter; false when there is none.
    async fn update_webhook(
        &self,
        id: &str,
        url: &str,
        description: &str,
        filter: &crate::domain::webhook::WebhookFilter,
    ) -> StoreResult<bool>;
    /// Stores a new secret, the old one signing too until `previous_until`.
    async fn rotate_webhook_secret(
        &self,
        id: &str,
        secret: &str,
        previous_secret: &str,
        previous_until: i64,
    ) -> StoreResult<bool>;
    /// Disables an endpoint with a reason.
    async fn disable_webhook(&self, id: &str, reason: &str) -> StoreResult<bool>;
    /// Makes an endpoint active again, its failures forgotten, from `position` when given.
    async fn enable_webhook(&self, id: &str, position: Option<i64>) -> StoreResult<bool>;
    async fn delete_webhook(&self, id: &str) -> StoreResult<bool>;
    /// The last chain position before the first event recorded at or after `at` (a cursor that
    /// replays from that time).
    async fn position_before(&self, at: OffsetDateTime) -> StoreResult<i64>;
    /// The endpoint's latest delivery attempts, newest first.
    async fn webhook_deliveries(
        &self,
        id: &str,
        limit: u32,
    ) -> StoreResult<Vec<crate::domain::webhook::WebhookDelivery>>;
    /// Takes (or renews) the endpoint's lease for `owner` until `now + lease_ms`, when it is free,
    /// lapsed or already `owner`'s. False: another instance delivers to it.
    async fn lease_webhook(
        &self,
        id: &str,
        owner: &str,
        now: i64,
        lease_ms: i64,
    ) -> StoreResult<bool>;
    async fn release_webhook(&self, id: &str, owner: &str) -> StoreResult<()>;
    /// In one transaction: logs the round's attempts, moves the cursor to its `position` (the
    /// last item answered 2xx) and, with a failure, records it (else the endpoint is healthy
    /// again); for a recipient's endpoint, appends the notifications of the items answered 2xx.
    /// False when `owner` no longer holds the lease (nothing is written).
    async fn record_webhook_round(
        &self,
        id: &str,
        owner: &str,
        round: &crate::domain::webhook::WebhookRound<'_>,
        now: i64,
    ) -> StoreResult<bool>;
    /// The (subject, purpose) pairs of `recipient`'s provision records about any of `subjects`
    /// (one query, whatever their number: the dispatcher asks once per round).
    async fn provided_to(
        &self,
        recipient: &str,
        subjects: &[SubjectId],
    ) -> StoreResult<Vec<(SubjectId, PurposeKey)>>;
    /// What recipients' endpoints were told about `subject`, oldest first.
    async fn recipient_notifications(
        &self,
        subject: SubjectId,
    ) -> StoreResult<Vec<crate::domain::webhook::RecipientNotification>>;
    /// Deletes log rows older than `before`; how many.
    async fn prune_webhook_deliveries(&self, before: i64) -> StoreResult<u64>;
}
