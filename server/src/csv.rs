//! Writing CSV (RFC 4180), the one way every CSV Doui writes is made: the event export, the
//! links answer (`links.csv`, `doui links`) and the suppression list (`doui suppressions`).
//!
//! Text that came from outside (external ids, addresses, campaign names, keys echoed back, free
//! text) goes through [`push_text`]: quoted as needed and never read as a spreadsheet formula.
//! [`push_plain`] is only for values Doui formats itself (times, numbers, ids, truncated IPs).

/// Free text as one CSV field, at the end of `out`: quoted when it holds a comma, quote or line
/// break, and a `'` in front when a spreadsheet would read it as a formula (a leading `=`, `@`,
/// tab or carriage return, or a `+`/`-` not followed by one or more digits alone:
/// `+81901234567` stays a phone number).
pub(crate) fn push_text(out: &mut String, value: &str) {
    let guard = if reads_as_formula(value) { "'" } else { "" };
    push(out, guard, value);
}

/// [`push_text`] as a new string.
pub(crate) fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    push_text(&mut out, value);
    out
}

/// A value Doui formatted itself, as one CSV field (quoted as needed, no formula guard).
pub(crate) fn push_plain(out: &mut String, value: &str) {
    push(out, "", value);
}

fn reads_as_formula(value: &str) -> bool {
    match value.as_bytes() {
        [b'=' | b'@' | b'\t' | b'\r', ..] => true,
        [b'+' | b'-', rest @ ..] => rest.is_empty() || !rest.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

/// `guard` then `value` as one CSV field (`guard` holds nothing that needs quoting).
fn push(out: &mut String, guard: &str, value: &str) {
    if !value.contains([',', '"', '\n', '\r']) {
        out.push_str(guard);
        out.push_str(value);
        return;
    }
    out.push('"');
    out.push_str(guard);
    for (i, part) in value.split('"').enumerate() {
        if i > 0 {
            out.push_str("\"\"");
        }
        out.push_str(part);
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_quoted_and_never_a_formula() {
        for (value, written) in [
            ("plain", "plain"),
            ("a,b", "\"a,b\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            (
                "=HYPERLINK(\"http://evil\")",
                "\"'=HYPERLINK(\"\"http://evil\"\")\"",
            ),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("\tx", "'\tx"),
            ("+81901234567", "+81901234567"),
            ("-", "'-"),
            ("", ""),
        ] {
            assert_eq!(text(value), written, "{value}");
        }
        let mut out = String::new();
        push_plain(&mut out, "-1");
        assert_eq!(out, "-1");
    }
}
