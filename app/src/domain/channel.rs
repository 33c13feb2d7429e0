use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

use super::Invalid;

/// How a subject is contacted or where their data is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Sms,
    Push,
    Postal,
    Phone,
    Web,
}

impl Channel {
    /// Every channel, in the order the preference center shows them.
    pub const ALL: [Channel; 6] = [
        Channel::Email,
        Channel::Sms,
        Channel::Push,
        Channel::Postal,
        Channel::Phone,
        Channel::Web,
    ];

    pub const fn key(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Push => "push",
            Channel::Postal => "postal",
            Channel::Phone => "phone",
            Channel::Web => "web",
        }
    }
}

impl FromStr for Channel {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        Channel::ALL
            .into_iter()
            .find(|c| c.key() == s)
            .ok_or(Invalid::new("channel", "unknown_channel"))
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_channel_parses_from_its_key() {
        for c in Channel::ALL {
            assert_eq!(c.key().parse::<Channel>(), Ok(c));
        }
    }

    #[test]
    fn unknown_channel_is_rejected() {
        assert!("fax".parse::<Channel>().is_err());
        assert!("Email".parse::<Channel>().is_err());
        assert!("".parse::<Channel>().is_err());
    }
}
