//! An event as one line of an export: CSV (through the guarded cells of `crate::csv`) or JSON,
//! written straight into the output buffer, no string per field.

use app::domain::rfc3339::Rfc3339Text;

/// The columns of an event export in CSV.
pub const EVENTS_CSV_HEADER: &str = "seq,event_id,occurred_at,subject_id,purpose,channel,from,to,source,actor,notice_version,origin_ip,user_agent,campaign,reason,recorded_at,collection_point,import_batch,form_url,proof_ref\n";

/// One event as a CSV line (free text can't start a spreadsheet formula), written straight into
/// `out`: no string per field.
pub(super) fn event_csv_line(out: &mut String, seq: i64, e: &app::domain::ConsentEvent) {
    use crate::csv::{push_plain, push_text};
    use std::fmt::Write;
    let p = &e.provenance;
    // Numbers, ids, times and keys never need quoting.
    let _ = write!(
        out,
        "{seq},{},{},{},{},{},{},{},{},",
        e.id,
        Rfc3339Text::new(p.occurred_at).as_str(),
        e.subject,
        e.purpose,
        e.channel.key(),
        e.from.map(|s| s.key()).unwrap_or_default(),
        e.to.key(),
        p.source.key(),
    );
    let actor = out.len();
    let _ = write!(out, "{}", p.actor);
    if out[actor..].contains([',', '"', '\n', '\r']) {
        let written = out.split_off(actor);
        push_text(out, &written);
    }
    out.push(',');
    push_text(out, p.notice_version.as_deref().unwrap_or_default());
    out.push(',');
    push_plain(out, p.origin.ip.as_deref().unwrap_or_default());
    for text in [&p.origin.user_agent, &p.campaign, &p.reason] {
        out.push(',');
        push_text(out, text.as_deref().unwrap_or_default());
    }
    out.push(',');
    if let Some(at) = e.recorded_at {
        out.push_str(Rfc3339Text::new(at).as_str());
    }
    for text in [
        &p.collection_point,
        &p.import_batch,
        &p.form_url,
        &p.proof_ref,
    ] {
        out.push(',');
        push_text(out, text.as_deref().unwrap_or_default());
    }
    out.push('\n');
}

/// One event as a JSON line, written straight into `out`: the keys as they are, each text through
/// `push_json_str` (an export writes millions of lines; serde's field-by-field serialiser and
/// its byte-by-byte escaping were a fifth of an export's CPU). Its golden test pins the line.
pub(super) fn event_json_line(out: &mut Vec<u8>, seq: i64, e: &app::domain::ConsentEvent) {
    use app::domain::Actor;
    use std::io::Write;
    let p = &e.provenance;
    let (mut id, mut subject) = (uuid::Uuid::encode_buffer(), uuid::Uuid::encode_buffer());
    let occurred_at = Rfc3339Text::new(p.occurred_at);
    let actor = match &p.actor {
        Actor::Subject => std::borrow::Cow::Borrowed("subject"),
        Actor::System => std::borrow::Cow::Borrowed("system"),
        other => std::borrow::Cow::Owned(other.to_string()),
    };
    let recorded_at = e.recorded_at.map(Rfc3339Text::new);
    let fields: [(&str, Option<&str>); 19] = [
        ("event_id", Some(e.id.hyphenated().encode_lower(&mut id))),
        ("occurred_at", Some(occurred_at.as_str())),
        (
            "subject_id",
            Some(e.subject.0.hyphenated().encode_lower(&mut subject)),
        ),
        ("purpose", Some(e.purpose.as_str())),
        ("channel", Some(e.channel.key())),
        ("from", e.from.map(|s| s.key())),
        ("to", Some(e.to.key())),
        ("source", Some(p.source.key())),
        ("actor", Some(&actor)),
        ("notice_version", p.notice_version.as_deref()),
        ("origin_ip", p.origin.ip.as_deref()),
        ("user_agent", p.origin.user_agent.as_deref()),
        ("campaign", p.campaign.as_deref()),
        ("reason", p.reason.as_deref()),
        ("recorded_at", recorded_at.as_ref().map(|t| t.as_str())),
        ("collection_point", p.collection_point.as_deref()),
        ("import_batch", p.import_batch.as_deref()),
        ("form_url", p.form_url.as_deref()),
        ("proof_ref", p.proof_ref.as_deref()),
    ];
    let _ = write!(out, "{{\"seq\":{seq}");
    for (key, value) in fields {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
        match value {
            Some(v) => push_json_str(out, v),
            None => out.extend_from_slice(b"null"),
        }
    }
    out.extend_from_slice(b"}\n");
}

/// `s` as a JSON string, escaped as serde_json escapes it (`"` as `\"`, `\` as `\\`, control
/// characters as `\n`, `\t`… or `\u00XX`, everything else as it is), at the end of `out`. Most
/// texts need no escape, and one branch-free pass over their bytes says so.
fn push_json_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.push(b'"');
    let plain = bytes.iter().fold(true, |plain, &b| {
        plain & (b >= 0x20) & (b != b'"') & (b != b'\\')
    });
    if plain {
        out.extend_from_slice(bytes);
    } else {
        let (mut start, mut unicode) = (0, *b"\\u0000");
        for (i, &b) in bytes.iter().enumerate() {
            let escape: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0x08 => b"\\b",
                0x0c => b"\\f",
                0x00..=0x1f => {
                    unicode[4] = b"0123456789abcdef"[usize::from(b >> 4)];
                    unicode[5] = b"0123456789abcdef"[usize::from(b & 0xf)];
                    &unicode
                }
                _ => continue,
            };
            out.extend_from_slice(&bytes[start..i]);
            out.extend_from_slice(escape);
            start = i + 1;
        }
        out.extend_from_slice(&bytes[start..]);
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::{
        Actor, Channel, ConsentEvent, ConsentState, Origin, Provenance, Source, SubjectId,
    };

    /// An event whose texts need every kind of care a line gives them.
    fn awkward() -> ConsentEvent {
        ConsentEvent {
            id: uuid::Uuid::from_u128(1),
            subject: SubjectId(uuid::Uuid::from_u128(2)),
            purpose: "newsletter".parse().unwrap(),
            channel: Channel::Email,
            from: None,
            to: ConsentState::Granted,
            provenance: Provenance {
                occurred_at: time::macros::datetime!(2025-01-01 0:00:00.25 UTC),
                source: Source::OneClick,
                actor: Actor::ApiKey("k,1".into()),
                notice_version: Some("=1.0".into()),
                origin: Origin {
                    ip: Some("192.0.2.1".into()),
                    user_agent: Some("Mozilla \"x\", y".into()),
                },
                idempotency_key: None,
                reason: Some("line\nbreak".into()),
                campaign: None,
                collection_point: Some("checkout".into()),
                import_batch: Some("b-1".into()),
                form_url: Some("https://shop.example/f?a=1,2".into()),
                proof_ref: Some("=HYPERLINK(1)".into()),
            },
            recorded_at: Some(time::macros::datetime!(2025-01-01 0:00:01.5 UTC)),
        }
    }

    #[test]
    fn a_csv_line_quotes_what_needs_it_and_never_starts_a_formula() {
        let mut out = String::from("before\n");
        event_csv_line(&mut out, 7, &awkward());
        assert_eq!(
            out,
            "before\n7,00000000-0000-0000-0000-000000000001,2025-01-01T00:00:00.25Z,\
             00000000-0000-0000-0000-000000000002,newsletter,email,,granted,one_click,\
             \"api_key:k,1\",'=1.0,192.0.2.1,\"Mozilla \"\"x\"\", y\",,\"line\nbreak\",\
             2025-01-01T00:00:01.5Z,checkout,b-1,\"https://shop.example/f?a=1,2\",'=HYPERLINK(1)\n"
        );
        // One field per header column.
        let mut plain = awkward();
        plain.provenance.actor = Actor::Subject;
        plain.provenance.reason = None;
        plain.provenance.origin.user_agent = Some("-".into());
        plain.provenance.form_url = None;
        let mut line = String::new();
        event_csv_line(&mut line, 8, &plain);
        assert_eq!(
            line.trim_end().split(',').count(),
            EVENTS_CSV_HEADER.trim_end().split(',').count()
        );
        assert!(
            line.contains(",subject,'=1.0,192.0.2.1,'-,,,2025-01-01T00:00:01.5Z,checkout,b-1,,"),
            "{line}"
        );
    }

    #[test]
    fn a_json_line_is_the_event_as_written() {
        let mut out = Vec::new();
        event_json_line(&mut out, 7, &awkward());
        assert_eq!(out.last(), Some(&b'\n'));
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "seq": 7,
                "event_id": "00000000-0000-0000-0000-000000000001",
                "occurred_at": "2025-01-01T00:00:00.25Z",
                "subject_id": "00000000-0000-0000-0000-000000000002",
                "purpose": "newsletter",
                "channel": "email",
                "from": null,
                "to": "granted",
                "source": "one_click",
                "actor": "api_key:k,1",
                "notice_version": "=1.0",
                "origin_ip": "192.0.2.1",
                "user_agent": "Mozilla \"x\", y",
                "campaign": null,
                "reason": "line\nbreak",
                "recorded_at": "2025-01-01T00:00:01.5Z",
                "collection_point": "checkout",
                "import_batch": "b-1",
                "form_url": "https://shop.example/f?a=1,2",
                "proof_ref": "=HYPERLINK(1)",
            })
        );
        // Byte for byte, the keys in the order the export has always written them.
        assert_eq!(
            String::from_utf8(out).unwrap(),
            concat!(
                r#"{"seq":7,"event_id":"00000000-0000-0000-0000-000000000001","#,
                r#""occurred_at":"2025-01-01T00:00:00.25Z","#,
                r#""subject_id":"00000000-0000-0000-0000-000000000002","purpose":"newsletter","#,
                r#""channel":"email","from":null,"to":"granted","source":"one_click","#,
                r#""actor":"api_key:k,1","notice_version":"=1.0","origin_ip":"192.0.2.1","#,
                r#""user_agent":"Mozilla \"x\", y","campaign":null,"reason":"line\nbreak","#,
                r#""recorded_at":"2025-01-01T00:00:01.5Z","collection_point":"checkout","#,
                r#""import_batch":"b-1","form_url":"https://shop.example/f?a=1,2","#,
                r#""proof_ref":"=HYPERLINK(1)"}"#,
                "\n"
            )
        );
        // Times as `time` writes RFC 3339: whole seconds without a fraction, an offset kept.
        let t = time::macros::datetime!(2025-06-30 23:59:59 +09:00);
        assert_eq!(Rfc3339Text::new(t).as_str(), "2025-06-30T23:59:59+09:00");
    }

    /// `push_json_str(s)`, as a string.
    fn json_str(s: &str) -> String {
        let mut out = Vec::new();
        push_json_str(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn texts_are_escaped_as_serde_json_escapes_them() {
        for b in 0u8..0x80 {
            let s = format!("a{}b", b as char);
            assert_eq!(
                json_str(&s),
                serde_json::to_string(&s).unwrap(),
                "byte {b:#x}"
            );
        }
        for s in [
            "",
            "plain",
            "\"\\\"",
            "日本語 \u{1F600}",
            "\u{7f}\u{80}\u{2028}",
            "\n\n",
        ] {
            assert_eq!(json_str(s), serde_json::to_string(s).unwrap());
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_escaped_as_serde_json_escapes_it(s in "\\PC*|[\\x00-\\x7f]*") {
            proptest::prop_assert_eq!(json_str(&s), serde_json::to_string(&s).unwrap());
        }
    }
}
