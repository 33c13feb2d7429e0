//! The closed sets of values the API takes and gives, as OpenAPI enums (so generated clients and
//! schema-driven fuzzers send only what the API accepts). Each lists the domain's keys; the tests
//! below hold them to the domain's own lists.

use serde::Serialize;
use utoipa::ToSchema;

/// A channel.
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKey {
    Email,
    Sms,
    Push,
    Postal,
    Phone,
    Web,
}

impl From<ChannelKey> for app::domain::Channel {
    fn from(c: ChannelKey) -> Self {
        use app::domain::Channel;
        match c {
            ChannelKey::Email => Channel::Email,
            ChannelKey::Sms => Channel::Sms,
            ChannelKey::Push => Channel::Push,
            ChannelKey::Postal => Channel::Postal,
            ChannelKey::Phone => Channel::Phone,
            ChannelKey::Web => Channel::Web,
        }
    }
}

/// A consent's recorded state.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StateKey {
    Granted,
    Withdrawn,
}

/// A purpose's mode.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ModeKey {
    OptIn,
    OptOut,
}

/// Where a change came from.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceKey {
    PreferenceCenter,
    Link,
    OneClick,
    Admin,
    Api,
    Gpc,
    Import,
    Reply,
    Expiry,
    Pause,
}

/// How often a person wants a purpose's messages: every message, a weekly digest, a monthly one.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FrequencyKey {
    Every,
    Weekly,
    Monthly,
}

/// A language.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LangKey {
    Ja,
    En,
}

/// Whose rules govern a subject's consents.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JurisdictionKey {
    Jp,
    Eu,
    UsCa,
    Default,
}

/// What a change did.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKey {
    Recorded,
    Unchanged,
}

/// What kind of place a collection point is.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CollectionPointKindKey {
    WebForm,
    Checkout,
    App,
    Store,
    CallCenter,
    Paper,
    Import,
    Api,
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::{
        Channel, CollectionPointKind, ConsentState, Frequency, Jurisdiction, Lang, Mode, Source,
    };

    /// The names an enum's schema lists.
    fn names<T: ToSchema>() -> Vec<String> {
        let schema = serde_json::to_value(T::schema()).unwrap();
        schema["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{schema}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }

    fn keys<T>(all: impl IntoIterator<Item = T>, key: impl Fn(T) -> &'static str) -> Vec<String> {
        all.into_iter().map(|x| key(x).to_owned()).collect()
    }

    #[test]
    fn the_enums_list_exactly_the_domain_keys() {
        assert_eq!(names::<ChannelKey>(), keys(Channel::ALL, Channel::key));
        assert_eq!(names::<SourceKey>(), keys(Source::ALL, Source::key));
        assert_eq!(
            names::<StateKey>(),
            keys(
                [ConsentState::Granted, ConsentState::Withdrawn],
                ConsentState::key
            )
        );
        assert_eq!(
            names::<ModeKey>(),
            keys([Mode::OptIn, Mode::OptOut], Mode::key)
        );
        assert_eq!(names::<LangKey>(), keys([Lang::Ja, Lang::En], Lang::key));
        assert_eq!(
            names::<FrequencyKey>(),
            keys(Frequency::ALL, Frequency::key)
        );
        assert_eq!(
            names::<JurisdictionKey>(),
            keys(Jurisdiction::ALL, Jurisdiction::key)
        );
        assert_eq!(
            names::<CollectionPointKindKey>(),
            keys(CollectionPointKind::ALL, CollectionPointKind::key)
        );
    }
}
