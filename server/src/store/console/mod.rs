//! What the console reads and changes, for both backends, one macro per store trait (expanded in
//! sqlite/mod.rs and postgres/mod.rs next to `sql_store!`): `sql_console!` the accessors of
//! `ConsoleStore`, which hand out the same store as each of the others.

pub(crate) mod collection_points;
pub(crate) mod erasure;
pub(crate) mod event_log;
pub(crate) mod idempotency;
pub(crate) mod objections;
pub(crate) mod purpose_settings;
pub(crate) mod register;
pub(crate) mod subject_records;

macro_rules! sql_console {
    ($store:ty) => {
        impl app::store::ConsoleStore for $store {
            fn audience(&self) -> &dyn app::store::AudienceStore {
                self
            }

            fn feed(&self) -> &dyn app::store::FeedStore {
                self
            }

            fn erasures(&self) -> &dyn app::store::ErasureStore {
                self
            }

            fn event_log(&self) -> &dyn app::store::EventLogStore {
                self
            }

            fn purpose_settings(&self) -> &dyn app::store::PurposeSettingsStore {
                self
            }

            fn register(&self) -> &dyn app::store::RegisterStore {
                self
            }

            fn objections(&self) -> &dyn app::store::ObjectionStore {
                self
            }

            fn points(&self) -> &dyn app::store::CollectionPointStore {
                self
            }

            fn subject_records(&self) -> &dyn app::store::SubjectRecordStore {
                self
            }

            fn idempotency(&self) -> &dyn app::store::IdempotencyStore {
                self
            }
        }
    };
}

pub(crate) use sql_console;
