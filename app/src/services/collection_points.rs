//! Collection points: where consents collected elsewhere were given. Owners register and retire
//! them (console and `doui collection-point`); everyone in the console reads them; the API and
//! imports name them on each change (`domain::collected`).

use super::{Refusal, Services, now};
use crate::domain::{CollectionPoint, NewCollectionPoint, check_collection_point_key};

impl Services {
    /// Every collection point, retired ones too, by key.
    pub async fn collection_points(&self) -> Result<Vec<CollectionPoint>, Refusal> {
        Ok(self.console.points().collection_points().await?)
    }

    /// Registers a collection point on behalf of `by` (`admin:<id>` or `cli`); its key is
    /// registered once, and a point is never changed afterwards (retire it and add another).
    pub async fn add_collection_point(
        &self,
        input: NewCollectionPoint,
        by: &str,
    ) -> Result<CollectionPoint, Refusal> {
        let point = CollectionPoint::new(input, now(), by).map_err(|e| {
            Refusal::new(match e.problem {
                "malformed_collection_point" => "malformed_collection_point",
                _ => "collection_point_invalid",
            })
        })?;
        self.console.points().add_collection_point(&point).await?;
        tracing::info!(collection_point = %point.key, kind = point.kind.key(), by, "collection point added");
        Ok(point)
    }

    /// Retires a collection point: it stays as evidence for the events that name it, and names
    /// no new one. Refused when it is unknown or retired already.
    pub async fn retire_collection_point(
        &self,
        key: &str,
        by: &str,
    ) -> Result<CollectionPoint, Refusal> {
        check_collection_point_key(key).map_err(|_| Refusal::new("unknown_collection_point"))?;
        let point = self
            .console
            .points()
            .collection_point(key)
            .await?
            .ok_or(Refusal::new("unknown_collection_point"))?;
        if point.is_retired() {
            return Err(Refusal::new("collection_point_retired"));
        }
        if !self
            .console
            .points()
            .retire_collection_point(key, now(), by)
            .await?
        {
            // Retired meanwhile by someone else.
            return Err(Refusal::new("collection_point_retired"));
        }
        tracing::info!(collection_point = %key, by, "collection point retired");
        self.console
            .points()
            .collection_point(key)
            .await?
            .ok_or(Refusal::new("unknown_collection_point"))
    }
}
