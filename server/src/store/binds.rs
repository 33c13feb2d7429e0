//! The values of statements built at run time (event pages, the send gate's pages, the feed),
//! bound in order on either backend.

use time::OffsetDateTime;

/// A value bound to a statement built at run time.
pub(crate) enum Bind {
    Id(uuid::Uuid),
    Text(String),
    Time(OffsetDateTime),
    Int(i64),
}

/// Binds run-time parameters in order.
pub(crate) fn bind_all<'q, DB>(
    mut q: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    binds: Vec<Bind>,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    uuid::Uuid: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    OffsetDateTime: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    for b in binds {
        q = match b {
            Bind::Id(u) => q.bind(u),
            Bind::Text(t) => q.bind(t),
            Bind::Time(t) => q.bind(t),
            Bind::Int(i) => q.bind(i),
        };
    }
    q
}
