//! Collection points: where consents collected elsewhere were given, kept as evidence.

use crate::domain::CollectionPoint;
use crate::store::*;

/// The collection points, registered and retired, never edited.
#[async_trait]
pub trait CollectionPointStore: Send + Sync + 'static {
    /// Registers a collection point (`Conflict("collection_point")`: its key is taken).
    async fn add_collection_point(&self, point: &CollectionPoint) -> StoreResult<()>;
    /// Every collection point, retired ones too, by key.
    async fn collection_points(&self) -> StoreResult<Vec<CollectionPoint>>;
    async fn collection_point(&self, key: &str) -> StoreResult<Option<CollectionPoint>>;
    /// Retires a point (it stays as evidence); false when it is unknown or retired already.
    async fn retire_collection_point(
        &self,
        key: &str,
        at: OffsetDateTime,
        by: &str,
    ) -> StoreResult<bool>;
}
