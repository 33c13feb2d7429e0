//! Text that ends up in a mail header (a purpose's name in `List-Id` and in a subject line):
//! checked to be one line when it is saved, and written as RFC 5322 asks when it is used.

use base64::{Engine, engine::general_purpose::STANDARD as B64};

use super::Invalid;

/// Whether `c` could end a header line or hide in one: C0 and C1 controls, DEL, and Unicode's
/// line and paragraph separators.
fn breaks_a_line(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Refuses text that could break out of a header line (CR, LF or any other control character).
pub fn check_one_line(field: &'static str, text: &str) -> Result<(), Invalid> {
    if text.chars().any(breaks_a_line) {
        Err(Invalid::new(field, "control_characters"))
    } else {
        Ok(())
    }
}

/// `text` with any control character (from data saved before it was checked) made a space.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if breaks_a_line(c) { ' ' } else { c })
        .collect()
}

/// A display name (RFC 5322 `phrase`): a quoted string when it is ASCII, otherwise RFC 2047
/// encoded words (UTF-8, base64), each at most 75 characters, cut between characters.
pub fn phrase(text: &str) -> String {
    let text = one_line(text);
    if text.is_ascii() {
        let mut out = String::with_capacity(text.len() + 2);
        out.push('"');
        for c in text.chars() {
            if matches!(c, '"' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
        return out;
    }
    // 45 bytes of UTF-8 are 60 characters of base64: with `=?UTF-8?B?` and `?=`, 72.
    const CHUNK: usize = 45;
    let mut words = Vec::new();
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let mut end = rest.len().min(CHUNK);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (chunk, tail) = rest.split_at(end);
        words.push(format!("=?UTF-8?B?{}?=", B64.encode(chunk)));
        rest = tail;
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_break_or_control_character_is_refused() {
        for bad in [
            "a\r\nBcc: x@example.com",
            "a\nb",
            "a\rb",
            "tab\there",
            "nul\0",
            "del\u{7f}",
            "ls\u{2028}",
        ] {
            assert_eq!(
                check_one_line("name", bad).map_err(|e| e.problem),
                Err("control_characters"),
                "{bad:?}"
            );
        }
        assert!(check_one_line("name", "ニュースレター & offers").is_ok());
        assert_eq!(one_line("a\r\nb"), "a  b");
    }

    #[test]
    fn a_phrase_is_quoted_or_encoded_and_never_spans_lines() {
        assert_eq!(phrase("News \"weekly\""), "\"News \\\"weekly\\\"\"");
        assert_eq!(phrase("a\r\nBcc: x"), "\"a  Bcc: x\"");
        let encoded = phrase("ニュースレター");
        assert_eq!(
            encoded,
            format!("=?UTF-8?B?{}?=", B64.encode("ニュースレター"))
        );
        let long = "お知らせ".repeat(25);
        let encoded = phrase(&long);
        let words: Vec<&str> = encoded.split(' ').collect();
        assert!(words.len() > 1);
        let mut decoded = Vec::new();
        for w in words {
            assert!(w.len() <= 75, "{w}");
            let b = w
                .strip_prefix("=?UTF-8?B?")
                .unwrap()
                .strip_suffix("?=")
                .unwrap();
            let bytes = B64.decode(b).unwrap();
            assert!(
                std::str::from_utf8(&bytes).is_ok(),
                "each word is whole characters"
            );
            decoded.extend(bytes);
        }
        assert_eq!(String::from_utf8(decoded).unwrap(), long);
    }
}
