use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

use super::Invalid;

/// Whether a purpose needs a yes first (`opt_in`) or applies until a no (`opt_out`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    OptIn,
    OptOut,
}

impl Mode {
    pub const fn key(self) -> &'static str {
        match self {
            Mode::OptIn => "opt_in",
            Mode::OptOut => "opt_out",
        }
    }
}

impl FromStr for Mode {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        match s {
            "opt_in" => Ok(Mode::OptIn),
            "opt_out" => Ok(Mode::OptOut),
            _ => Err(Invalid::new("mode", "unknown_mode")),
        }
    }
}

/// A choice the subject (or someone on their behalf) made. "Not chosen" is the absence of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    Granted,
    Withdrawn,
}

impl ConsentState {
    pub const fn key(self) -> &'static str {
        match self {
            ConsentState::Granted => "granted",
            ConsentState::Withdrawn => "withdrawn",
        }
    }

    pub const fn from_bool(on: bool) -> Self {
        if on {
            ConsentState::Granted
        } else {
            ConsentState::Withdrawn
        }
    }
}

impl FromStr for ConsentState {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        match s {
            "granted" => Ok(ConsentState::Granted),
            "withdrawn" => Ok(ConsentState::Withdrawn),
            _ => Err(Invalid::new("state", "unknown_state")),
        }
    }
}

impl fmt::Display for ConsentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// The value that applies: the subject's own choice if there is one, otherwise the mode's default
/// (opt-in: off until granted; opt-out: on until withdrawn).
pub const fn effective(mode: Mode, choice: Option<ConsentState>) -> bool {
    match (choice, mode) {
        (Some(ConsentState::Granted), _) => true,
        (Some(ConsentState::Withdrawn), _) => false,
        (None, Mode::OptIn) => false,
        (None, Mode::OptOut) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_chosen_follows_the_mode() {
        assert!(!effective(Mode::OptIn, None));
        assert!(effective(Mode::OptOut, None));
    }

    #[test]
    fn a_choice_wins_over_the_mode() {
        for mode in [Mode::OptIn, Mode::OptOut] {
            assert!(effective(mode, Some(ConsentState::Granted)));
            assert!(!effective(mode, Some(ConsentState::Withdrawn)));
        }
    }

    #[test]
    fn keys_round_trip() {
        for s in [ConsentState::Granted, ConsentState::Withdrawn] {
            assert_eq!(s.key().parse::<ConsentState>(), Ok(s));
        }
        for m in [Mode::OptIn, Mode::OptOut] {
            assert_eq!(m.key().parse::<Mode>(), Ok(m));
        }
        assert!("yes".parse::<ConsentState>().is_err());
    }
}
