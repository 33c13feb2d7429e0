//! Text messages the person sends back (R55; CTIA's Messaging Principles and the TCPA practice):
//! which keyword a message is, what the answer says, and which earlier withdrawal a START may
//! undo. Pure: the service reads and writes, the handler checks the provider's signature.
//!
//! # Why START re-grants, and only what STOP withdrew
//!
//! A START (or UNSTOP, YES) is an opt-in the person sends themselves, from the number the
//! messages go to; it is recorded like any grant, with source `reply`, the message's id at the
//! provider as its evidence (`proof_ref`) and the notice in force. Our reading of each law:
//!
//! - **US (TCPA, CTIA)**: STOP revokes consent to marketing texts; the FCC's 2024 revocation
//!   rules and CTIA's principles treat a later START/UNSTOP from the same number as the person's
//!   own request to receive them again, after which one confirmation is sent.
//! - **Japan**: 特定電子メール法 covers SMS as well as email (第2条第1号 and the
//!   総務省令 naming its 通信方式: the one that uses telephone numbers).
//!   第3条第1項 allows advertising messages to whoever notified the sender that they want them
//!   or agree to them; a START is such a notice, and after a refusal (第3条第3項) a new notice
//!   from the person is their newer will. 第3条第2項 asks that the consent be recorded: the
//!   event is that record (when, how, which message). 特定商取引法 第12条の3 (advertising
//!   mail of mail-order sales), where it applies, likewise allows messages the person asked
//!   for. APPI adds no consent of its own for the sender's own marketing within its published
//!   purposes.
//! - **EU (ePrivacy Art. 13, GDPR Art. 4(11) and 7)**: consent must be a clear affirmative act,
//!   specific and informed. The person's own START, answered with the sender's name and how to
//!   stop, restores exactly the purposes they had consented to before, under the notice in force
//!   (recorded on the event).
//!
//! What a START never does: grant a purpose the person did not have on SMS when they sent STOP
//! (STOP records their refusal of every SMS marketing purpose, allowed or not), undo a
//! withdrawal made any other way (on the preference page, through a link, by an admin, by GPC,
//! by expiry), or grant marketing while a direct-marketing objection (R34) stands; the person
//! lifts that on their page. So the consent it restores is one whose latest change was a
//! keyword STOP that turned it off ([`restorable`]).

use super::{Channel, ConsentEvent, ConsentState, Lang, Mode, Source, effective};

/// What a message asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Keyword {
    /// STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPT OUT, 停止, 配信停止.
    Stop,
    /// START, UNSTOP, YES.
    Start,
    /// HELP, INFO.
    Help,
}

impl Keyword {
    pub const fn key(self) -> &'static str {
        match self {
            Keyword::Stop => "stop",
            Keyword::Start => "start",
            Keyword::Help => "help",
        }
    }
}

const STOP: [&str; 12] = [
    "STOP",
    "STOPALL",
    "STOP ALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPT OUT",
    "OPTOUT",
    "停止",
    "配信停止",
];
const START: [&str; 3] = ["START", "UNSTOP", "YES"];
const HELP: [&str; 2] = ["HELP", "INFO"];

/// The longest message that can still be a keyword (carriers read the whole message).
const LONGEST: usize = 40;

/// The message as carriers compare it: full-width letters, digits and signs as their ASCII
/// forms (ＳＴＯＰ is STOP), the ideographic space as a space, upper case, spaces at the ends
/// and closing punctuation (`.`, `!`, `。`) dropped, runs of spaces and `-` between words as one
/// space (OPT-OUT is OPT OUT).
pub fn normalise(body: &str) -> String {
    let folded: String = body
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        })
        .flat_map(char::to_uppercase)
        .collect();
    let trimmed = folded.trim().trim_end_matches(['.', '!', '。']).trim_end();
    trimmed
        .split(|c: char| c.is_whitespace() || c == '-')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The keyword a whole message is, if it is one (case and width do not matter; a keyword
/// inside a longer sentence is not one, as carriers read it). With the keyword as it was
/// recognised (`STOP`, `配信停止`…), for the event's record.
pub fn keyword(body: &str) -> Option<(Keyword, String)> {
    if body.chars().count() > LONGEST {
        return None;
    }
    let word = normalise(body);
    let found = if STOP.contains(&word.as_str()) {
        Keyword::Stop
    } else if START.contains(&word.as_str()) {
        Keyword::Start
    } else if HELP.contains(&word.as_str()) {
        Keyword::Help
    } else {
        return None;
    };
    Some((found, word))
}

/// The reference a change made by a text message carries as its evidence (`proof_ref`): the
/// message's id at the provider, `sms:<provider>:<id>`.
pub fn proof_ref(provider: &str, message_id: &str) -> String {
    format!("{PROOF_PREFIX}{provider}:{message_id}")
}

const PROOF_PREFIX: &str = "sms:";

/// A provider's message id: 1 to 64 letters, digits, `-` or `_` (Twilio's are `SM` and 32 hex
/// digits).
pub fn check_message_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether a START restores the consent whose latest change is `event`: a withdrawal on SMS
/// made by a keyword message (STOP) of something the person had then — their own grant, or
/// the default of an opt-out purpose (`mode`, the purpose's for the person). A STOP also
/// records a refusal of what the person never allowed; START does not turn that into a grant.
pub fn restorable(event: &ConsentEvent, mode: Mode) -> bool {
    stopped_by_keyword(event) && effective(mode, event.from)
}

/// Whether `event` is a withdrawal on SMS made by a keyword message (STOP).
pub fn stopped_by_keyword(event: &ConsentEvent) -> bool {
    event.channel == Channel::Sms
        && event.to == ConsentState::Withdrawn
        && event.provenance.source == Source::Reply
        && event
            .provenance
            .proof_ref
            .as_deref()
            .is_some_and(|r| r.starts_with(PROOF_PREFIX))
}

/// The language to answer a number no subject has: Japanese for a Japanese number (+81),
/// English otherwise.
pub fn number_lang(number: &str) -> Lang {
    if number.trim().starts_with("+81") {
        Lang::Ja
    } else {
        Lang::En
    }
}

/// The answers sent back, per keyword and language (configurable; see [`SmsReplies::defaults`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsReplies {
    pub stop_ja: String,
    pub stop_en: String,
    pub start_ja: String,
    pub start_en: String,
    pub help_ja: String,
    pub help_en: String,
}

/// The longest answer (Twilio splits and sends at most 1,600 characters).
pub const MAX_REPLY: usize = 1600;

impl SmsReplies {
    /// Answers that name the sender, as CTIA asks: the STOP confirmation says no further
    /// marketing messages will be sent and how to resubscribe; HELP names the program, how to
    /// stop and whom to contact.
    pub fn defaults(sender: &str, contact: &str) -> Self {
        let sender = if sender.trim().is_empty() {
            "Doui"
        } else {
            sender.trim()
        };
        let contact = contact.trim();
        let (contact_ja, contact_en) = if contact.is_empty() {
            (String::new(), String::new())
        } else {
            (
                format!("お問い合わせ: {contact}"),
                format!(" Contact: {contact}."),
            )
        };
        Self {
            stop_ja: format!(
                "{sender}: SMSの配信を停止しました。今後、広告・お知らせのSMSはお送りしません。再開するには START と返信してください。"
            ),
            stop_en: format!(
                "{sender}: You are unsubscribed. No further marketing text messages will be sent. Reply START to resubscribe."
            ),
            start_ja: format!(
                "{sender}: STOP の返信で停止したSMSの配信を再開します。停止するには STOP、ヘルプは HELP と返信してください。"
            ),
            start_en: format!(
                "{sender}: Text messages you stopped by replying STOP will be sent again. Reply STOP to unsubscribe, HELP for help."
            ),
            help_ja: format!(
                "{sender}: 広告・お知らせのSMS。配信停止は STOP、再開は START と返信してください。{contact_ja}"
            ),
            help_en: format!(
                "{sender}: Marketing text messages. Reply STOP to unsubscribe, START to resubscribe.{contact_en} Msg & data rates may apply."
            ),
        }
    }

    /// The answer to `keyword` in `lang`.
    pub fn text(&self, keyword: Keyword, lang: Lang) -> &str {
        match (keyword, lang) {
            (Keyword::Stop, Lang::Ja) => &self.stop_ja,
            (Keyword::Stop, Lang::En) => &self.stop_en,
            (Keyword::Start, Lang::Ja) => &self.start_ja,
            (Keyword::Start, Lang::En) => &self.start_en,
            (Keyword::Help, Lang::Ja) => &self.help_ja,
            (Keyword::Help, Lang::En) => &self.help_en,
        }
    }
}

/// Whether `text` can be an answer: 1 to [`MAX_REPLY`] characters, no control characters but
/// line breaks.
pub fn check_reply(text: &str) -> bool {
    let n = text.chars().count();
    (1..=MAX_REPLY).contains(&n)
        && !text.trim().is_empty()
        && text.chars().all(|c| !c.is_control() || c == '\n')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Actor, Origin, Provenance, SubjectId};

    #[test]
    fn r55_every_stop_keyword_is_recognised_whatever_its_case_width_or_spacing() {
        for body in [
            "STOP",
            "stop",
            " Stop ",
            "Stop.",
            "STOP!",
            "stopall",
            "Unsubscribe",
            "cancel",
            "END",
            "quit",
            "revoke",
            "opt out",
            "Opt-Out",
            "optout",
            "停止",
            "配信停止",
            "配信停止。",
            "\u{3000}停止\u{3000}",
            "ＳＴＯＰ",
            "ｓｔｏｐ",
            "Ｓｔｏｐ！",
        ] {
            assert_eq!(keyword(body).map(|k| k.0), Some(Keyword::Stop), "{body:?}");
        }
        assert_eq!(keyword("ＳＴＯＰ").unwrap().1, "STOP");
        assert_eq!(keyword("配信停止").unwrap().1, "配信停止");
    }

    #[test]
    fn start_and_help_are_recognised_and_other_text_is_not_a_keyword() {
        for body in ["START", "unstop", "Yes", "ＳＴＡＲＴ"] {
            assert_eq!(keyword(body).map(|k| k.0), Some(Keyword::Start), "{body}");
        }
        for body in ["HELP", "info", "ｈｅｌｐ"] {
            assert_eq!(keyword(body).map(|k| k.0), Some(Keyword::Help), "{body}");
        }
        for body in [
            "",
            "   ",
            "please stop",
            "stop it",
            "STOPP",
            "stop stop",
            "停止してください",
            "ok",
            &"STOP ".repeat(20),
        ] {
            assert_eq!(keyword(body), None, "{body:?}");
        }
    }

    fn event(source: Source, proof_ref: Option<&str>, to: ConsentState) -> ConsentEvent {
        event_from(source, proof_ref, Some(ConsentState::Granted), to)
    }

    fn event_from(
        source: Source,
        proof_ref: Option<&str>,
        from: Option<ConsentState>,
        to: ConsentState,
    ) -> ConsentEvent {
        ConsentEvent {
            id: uuid::Uuid::nil(),
            subject: SubjectId(uuid::Uuid::nil()),
            purpose: "newsletter".parse().unwrap(),
            channel: Channel::Sms,
            from,
            to,
            provenance: Provenance {
                occurred_at: time::OffsetDateTime::UNIX_EPOCH,
                source,
                actor: Actor::Subject,
                notice_version: None,
                origin: Origin::default(),
                idempotency_key: None,
                reason: None,
                campaign: None,
                collection_point: None,
                import_batch: None,
                form_url: None,
                proof_ref: proof_ref.map(str::to_owned),
            },
            recorded_at: None,
        }
    }

    #[test]
    fn only_a_keyword_stop_can_be_undone_by_start() {
        let stop = proof_ref("twilio", "SM0123");
        assert_eq!(stop, "sms:twilio:SM0123");
        assert!(stopped_by_keyword(&event(
            Source::Reply,
            Some(&stop),
            ConsentState::Withdrawn
        )));
        // A reply by email, a withdrawal on the page, a grant: not a keyword STOP.
        assert!(!stopped_by_keyword(&event(
            Source::Reply,
            None,
            ConsentState::Withdrawn
        )));
        assert!(!stopped_by_keyword(&event(
            Source::PreferenceCenter,
            Some(&stop),
            ConsentState::Withdrawn
        )));
        assert!(!stopped_by_keyword(&event(
            Source::Reply,
            Some(&stop),
            ConsentState::Granted
        )));
        let mut email = event(Source::Reply, Some(&stop), ConsentState::Withdrawn);
        email.channel = Channel::Email;
        assert!(!stopped_by_keyword(&email));
        // START restores what the person had: their grant, or an opt-out purpose's default;
        // never a purpose they had not allowed (STOP recorded their refusal of it).
        let granted = event(Source::Reply, Some(&stop), ConsentState::Withdrawn);
        assert!(restorable(&granted, Mode::OptIn));
        let never = event_from(Source::Reply, Some(&stop), None, ConsentState::Withdrawn);
        assert!(!restorable(&never, Mode::OptIn));
        assert!(restorable(&never, Mode::OptOut));
        let refused = event_from(
            Source::Reply,
            Some(&stop),
            Some(ConsentState::Withdrawn),
            ConsentState::Withdrawn,
        );
        assert!(!restorable(&refused, Mode::OptOut));
        assert!(!restorable(&email, Mode::OptIn));
    }

    #[test]
    fn default_answers_name_the_sender_and_the_stop_one_promises_no_more_messages() {
        let r = SmsReplies::defaults("Example K.K.", "privacy@example.jp");
        for lang in Lang::ALL {
            for k in [Keyword::Stop, Keyword::Start, Keyword::Help] {
                let text = r.text(k, lang);
                assert!(text.starts_with("Example K.K.:"), "{text}");
                assert!(check_reply(text), "{text}");
            }
        }
        assert!(
            r.stop_en
                .contains("No further marketing text messages will be sent")
        );
        assert!(r.stop_ja.contains("お送りしません"));
        assert!(r.help_en.contains("privacy@example.jp") && r.help_en.contains("STOP"));
        assert!(r.help_ja.contains("privacy@example.jp"));
        assert!(!check_reply(""));
        assert!(!check_reply("a\u{7}b"));
        assert!(!check_reply(&"x".repeat(MAX_REPLY + 1)));
        assert_eq!(number_lang("+81901234567"), Lang::Ja);
        assert_eq!(number_lang("+14155550100"), Lang::En);
        assert!(check_message_id("SM0123456789abcdef0123456789abcdef"));
        assert!(!check_message_id("") && !check_message_id("SM 1") && !check_message_id("SM:1"));
    }
}
