//! The pure domain: what a subject, a purpose, a channel, a consent and an event are, and the rules
//! that decide what a change does. No I/O, no clock, no randomness: callers pass those in.

#[cfg(feature = "ssr")]
pub mod brand;
mod channel;
#[cfg(feature = "ssr")]
pub mod collected;
#[cfg(feature = "ssr")]
mod collection_point;
mod consent;
#[cfg(feature = "ssr")]
pub mod do_not_sell;
#[cfg(feature = "ssr")]
mod event;
#[cfg(feature = "ssr")]
pub mod feed;
#[cfg(feature = "ssr")]
pub mod header;
#[cfg(feature = "ssr")]
pub mod import;
mod lang;
pub mod law;
#[cfg(feature = "ssr")]
mod leave;
#[cfg(feature = "ssr")]
pub mod notice;
#[cfg(feature = "ssr")]
pub mod pause;
#[cfg(feature = "ssr")]
pub mod permission;
mod purpose;
#[cfg(feature = "ssr")]
pub mod receipt;
#[cfg(feature = "ssr")]
pub mod retention;
#[cfg(feature = "ssr")]
pub mod rfc3339;
#[cfg(feature = "ssr")]
pub mod seal;
#[cfg(feature = "ssr")]
mod signup_form;
#[cfg(feature = "ssr")]
pub mod sms;
#[cfg(feature = "ssr")]
mod subject;
#[cfg(feature = "ssr")]
pub mod validity;
#[cfg(feature = "ssr")]
pub mod webhook;

pub use channel::Channel;
#[cfg(feature = "ssr")]
pub use collected::{CLOCK_SKEW, Collected, NotCollected, check_collected};
#[cfg(feature = "ssr")]
pub use collection_point::{
    CollectionPoint, CollectionPointKind, NewCollectionPoint, check_collection_point_key,
    sha256_hex,
};
pub use consent::{ConsentState, Mode, effective};
#[cfg(feature = "ssr")]
pub use do_not_sell::{DO_NOT_SELL_REASON, DoNotSellRequest, DoNotSellVia};
#[cfg(feature = "ssr")]
pub use event::{
    Actor, Change, ConsentEvent, Decision, ERASURE_REASON, Origin, Outcome, Provenance, Source,
    check_idempotency_key, consent_idempotency_key, decide, fold, to_micros, truncate_ip,
};
#[cfg(feature = "ssr")]
pub use feed::{FeedFilter, FeedItem, FeedKind};
pub use lang::Lang;
pub use law::{
    Configured, Jurisdiction, JurisdictionModes, LegalBasis, PpcFiling, PurposeKind, Rule,
    check_purpose,
};
#[cfg(feature = "ssr")]
pub use leave::{LeaveReason, MAX_LEAVE_TEXT, leave_text};
#[cfg(feature = "ssr")]
pub use notice::{DiffLine, Notice};
#[cfg(feature = "ssr")]
pub use pause::{Frequency, PauseLength, PauseOutcome};
#[cfg(feature = "ssr")]
pub use permission::{Choice, Refused, Standing, permission};
pub use purpose::{Purpose, PurposeKey};
#[cfg(feature = "ssr")]
pub use signup_form::{MAX_FORM_ORIGINS, MAX_FORM_PURPOSES, SignupForm, check_form_origin};
#[cfg(feature = "ssr")]
pub use subject::{
    Email, ExternalId, NewSubject, Phone, Subject, SubjectId, TimeZoneName, erased_identifier,
    legacy_erased_digest,
};

/// A value that failed validation, with a stable code (used for messages in each language).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct Invalid {
    pub field: &'static str,
    pub problem: &'static str,
}

impl Invalid {
    pub const fn new(field: &'static str, problem: &'static str) -> Self {
        Self { field, problem }
    }
}
