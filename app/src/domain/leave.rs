//! Why a person left (issue 34 item 1): after an unsubscribe is done, one optional question —
//! never required, never before. The answer is kept beside the withdrawal events it explains.

use serde::{Deserialize, Serialize};

use super::Invalid;

/// The fixed answers (a short text may go with any of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaveReason {
    TooMany,
    NotRelevant,
    NeverSignedUp,
    Other,
}

/// The longest text kept with an answer.
pub const MAX_LEAVE_TEXT: usize = 500;

impl LeaveReason {
    pub const ALL: [LeaveReason; 4] = [
        LeaveReason::TooMany,
        LeaveReason::NotRelevant,
        LeaveReason::NeverSignedUp,
        LeaveReason::Other,
    ];

    pub const fn key(self) -> &'static str {
        match self {
            LeaveReason::TooMany => "too_many",
            LeaveReason::NotRelevant => "not_relevant",
            LeaveReason::NeverSignedUp => "never_signed_up",
            LeaveReason::Other => "other",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        LeaveReason::ALL
            .into_iter()
            .find(|r| r.key() == raw.trim())
            .ok_or(Invalid::new("reason", "unknown_leave_reason"))
    }
}

/// The optional text: trimmed, control characters refused, at most [`MAX_LEAVE_TEXT`]
/// characters; empty is none.
pub fn leave_text(raw: &str) -> Result<Option<String>, Invalid> {
    let text = raw.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().count() > MAX_LEAVE_TEXT
        || text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        return Err(Invalid::new("text", "leave_text_invalid"));
    }
    Ok(Some(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_the_fixed_four_and_text_is_optional_and_bounded() {
        for r in LeaveReason::ALL {
            assert_eq!(LeaveReason::parse(r.key()).unwrap(), r);
        }
        assert_eq!(
            LeaveReason::parse("spam").unwrap_err().problem,
            "unknown_leave_reason"
        );
        assert_eq!(leave_text("  ").unwrap(), None);
        assert_eq!(
            leave_text(" 多すぎます\n").unwrap().as_deref(),
            Some("多すぎます")
        );
        assert!(leave_text(&"あ".repeat(MAX_LEAVE_TEXT)).is_ok());
        assert!(leave_text(&"あ".repeat(MAX_LEAVE_TEXT + 1)).is_err());
        assert!(leave_text("a\u{7}b").is_err());
    }
}
