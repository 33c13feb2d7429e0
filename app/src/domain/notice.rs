//! Versioned privacy notices (R31, R32, R43): which version is in force at a time, what changed
//! between two versions (a line diff), and which consents a material change asks to re-confirm.

use time::OffsetDateTime;

use super::{ConsentState, Invalid, Lang, Mode, PurposeKey, effective};

/// Longest accepted notice text in one language, in characters.
pub const MAX_NOTICE_CHARS: usize = 100_000;
/// Longest accepted summary of a change, in characters.
pub const MAX_SUMMARY_CHARS: usize = 2_000;

/// One published version of the privacy notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub version: String,
    pub effective_at: OffsetDateTime,
    /// A material change: consents given under an earlier version to an affected purpose need
    /// re-confirmation.
    pub material: bool,
    /// The purposes a material change affects; empty means every purpose.
    pub purposes: Vec<PurposeKey>,
    pub summary_ja: String,
    pub summary_en: String,
    pub text_ja: String,
    pub text_en: String,
    pub published_at: OffsetDateTime,
    pub published_by: String,
}

impl Notice {
    pub fn text(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ja => &self.text_ja,
            Lang::En => &self.text_en,
        }
    }

    pub fn summary(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ja => &self.summary_ja,
            Lang::En => &self.summary_en,
        }
    }

    /// Whether this version, as a material change, affects `purpose`.
    pub fn affects(&self, purpose: &PurposeKey) -> bool {
        self.material && (self.purposes.is_empty() || self.purposes.contains(purpose))
    }
}

/// Checks a version about to be published against the ones already published (`published`, in
/// any order): a well-formed version label not used before, texts in both languages, an
/// effective time not before the latest version's, and a material change only when there is an
/// earlier version to compare with, summarised in both languages.
pub fn check_new_notice(
    notice: &Notice,
    published: &[Notice],
    known_purposes: &[PurposeKey],
) -> Result<(), Invalid> {
    let v = &notice.version;
    let ok_version = (1..=64).contains(&v.len())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if !ok_version {
        return Err(Invalid::new("version", "malformed_notice_version"));
    }
    if published.iter().any(|n| &n.version == v) {
        return Err(Invalid::new("version", "notice_version_taken"));
    }
    for text in [&notice.text_ja, &notice.text_en] {
        if text.trim().is_empty() {
            return Err(Invalid::new("text", "notice_text_missing"));
        }
        if text.chars().count() > MAX_NOTICE_CHARS {
            return Err(Invalid::new("text", "notice_text_too_long"));
        }
    }
    for summary in [&notice.summary_ja, &notice.summary_en] {
        if summary.chars().count() > MAX_SUMMARY_CHARS {
            return Err(Invalid::new("summary", "notice_summary_too_long"));
        }
    }
    if let Some(latest) = published.iter().map(|n| n.effective_at).max()
        && notice.effective_at < latest
    {
        return Err(Invalid::new(
            "effective_at",
            "notice_effective_before_latest",
        ));
    }
    if notice.material {
        if published.is_empty() {
            return Err(Invalid::new("material", "notice_material_needs_previous"));
        }
        if notice.summary_ja.trim().is_empty() || notice.summary_en.trim().is_empty() {
            return Err(Invalid::new("summary", "notice_summary_missing"));
        }
    }
    if notice.purposes.iter().any(|p| !known_purposes.contains(p)) {
        return Err(Invalid::new("purposes", "unknown_purpose"));
    }
    Ok(())
}

/// The version in force at `now`: the one that took effect last, not later than `now`.
pub fn in_force(notices: &[Notice], now: OffsetDateTime) -> Option<&Notice> {
    notices
        .iter()
        .filter(|n| n.effective_at <= now)
        .max_by_key(|n| (n.effective_at, n.published_at))
}

/// The version in force just before `notice` took effect.
pub fn previous<'a>(notices: &'a [Notice], notice: &Notice) -> Option<&'a Notice> {
    notices
        .iter()
        .filter(|n| (n.effective_at, n.published_at) < (notice.effective_at, notice.published_at))
        .max_by_key(|n| (n.effective_at, n.published_at))
}

/// The material change in force at `now` that a consent to `purpose`, last confirmed under
/// `pinned` (the notice version on its latest event), has not been confirmed under: only a
/// granted consent is asked again (a withdrawal stands whatever the notice says). A version not
/// among `notices` (set before notices were published here) counts as older than all of them.
pub fn reconfirmation_due<'a>(
    notices: &'a [Notice],
    purpose: &PurposeKey,
    state: Option<ConsentState>,
    pinned: Option<&str>,
    now: OffsetDateTime,
) -> Option<&'a Notice> {
    if state != Some(ConsentState::Granted) {
        return None;
    }
    let pinned_at = pinned
        .and_then(|v| notices.iter().find(|n| n.version == v))
        .map(|n| (n.effective_at, n.published_at));
    notices
        .iter()
        .filter(|n| n.effective_at <= now && n.affects(purpose))
        .filter(|n| pinned_at.is_none_or(|at| (n.effective_at, n.published_at) > at))
        .max_by_key(|n| (n.effective_at, n.published_at))
}

/// The value that applies when a material change awaits re-confirmation (`due`): for an opt-in
/// purpose a consent given to the earlier notice no longer covers what changed, so it counts as
/// not given until the person confirms (R31); an opt-out purpose applies until they object.
pub const fn effective_after_notice(mode: Mode, state: Option<ConsentState>, due: bool) -> bool {
    match (due, mode) {
        (true, Mode::OptIn) => false,
        _ => effective(mode, state),
    }
}

/// One line of a diff between two texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffLine<'a> {
    Same(&'a str),
    Removed(&'a str),
    Added(&'a str),
}

/// A line diff of `old` and `new` (longest common subsequence of lines). Texts longer than a
/// few thousand lines are compared as one removed and one added block rather than spending
/// quadratic memory.
pub fn line_diff<'a>(old: &'a str, new: &'a str) -> Vec<DiffLine<'a>> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    // Common head and tail need no table.
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (mid_a, mid_b) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let mut out: Vec<DiffLine<'a>> = a[..head].iter().map(|l| DiffLine::Same(l)).collect();
    if mid_a.len().saturating_mul(mid_b.len()) > 4_000_000 {
        out.extend(mid_a.iter().map(|l| DiffLine::Removed(l)));
        out.extend(mid_b.iter().map(|l| DiffLine::Added(l)));
    } else {
        // lcs[i][j]: the longest common subsequence of mid_a[i..] and mid_b[j..].
        let (n, m) = (mid_a.len(), mid_b.len());
        let mut lcs = vec![0u32; (n + 1) * (m + 1)];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i * (m + 1) + j] = if mid_a[i] == mid_b[j] {
                    lcs[(i + 1) * (m + 1) + j + 1] + 1
                } else {
                    lcs[(i + 1) * (m + 1) + j].max(lcs[i * (m + 1) + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && mid_a[i] == mid_b[j] {
                out.push(DiffLine::Same(mid_a[i]));
                i += 1;
                j += 1;
            } else if i < n && (j == m || lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1]) {
                out.push(DiffLine::Removed(mid_a[i]));
                i += 1;
            } else {
                out.push(DiffLine::Added(mid_b[j]));
                j += 1;
            }
        }
    }
    out.extend(a[a.len() - tail..].iter().map(|l| DiffLine::Same(l)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn notice(version: &str, at: OffsetDateTime, material: bool, purposes: &[&str]) -> Notice {
        Notice {
            version: version.into(),
            effective_at: at,
            material,
            purposes: purposes
                .iter()
                .map(|p| PurposeKey::parse(p).unwrap())
                .collect(),
            summary_ja: "変更".into(),
            summary_en: "changed".into(),
            text_ja: "本文".into(),
            text_en: "text".into(),
            published_at: at,
            published_by: "owner".into(),
        }
    }

    fn key(s: &str) -> PurposeKey {
        PurposeKey::parse(s).unwrap()
    }

    #[test]
    fn the_version_in_force_is_the_latest_effective_one() {
        let v1 = notice("1", datetime!(2026-01-01 0:00 UTC), false, &[]);
        let v2 = notice("2", datetime!(2026-06-01 0:00 UTC), true, &[]);
        let all = [v2.clone(), v1.clone()];
        assert_eq!(in_force(&all, datetime!(2025-12-31 0:00 UTC)), None);
        assert_eq!(in_force(&all, datetime!(2026-03-01 0:00 UTC)), Some(&v1));
        assert_eq!(in_force(&all, datetime!(2026-06-01 0:00 UTC)), Some(&v2));
        assert_eq!(previous(&all, &v2), Some(&v1));
        assert_eq!(previous(&all, &v1), None);
    }

    #[test]
    fn a_material_change_asks_granted_consents_given_under_an_earlier_version() {
        let v1 = notice("1", datetime!(2026-01-01 0:00 UTC), false, &[]);
        let v2 = notice("2", datetime!(2026-06-01 0:00 UTC), true, &["ad_targeting"]);
        let all = [v1, v2.clone()];
        let now = datetime!(2026-07-01 0:00 UTC);
        let granted = Some(ConsentState::Granted);
        let ads = key("ad_targeting");
        assert_eq!(
            reconfirmation_due(&all, &ads, granted, Some("1"), now),
            Some(&v2)
        );
        // Unknown (older) versions and none count as earlier than every notice.
        assert_eq!(
            reconfirmation_due(&all, &ads, granted, Some("legacy"), now),
            Some(&v2)
        );
        // Confirmed under the change, withdrawn, never chosen, another purpose, not yet in force.
        assert_eq!(
            reconfirmation_due(&all, &ads, granted, Some("2"), now),
            None
        );
        let withdrawn = Some(ConsentState::Withdrawn);
        assert_eq!(
            reconfirmation_due(&all, &ads, withdrawn, Some("1"), now),
            None
        );
        assert_eq!(reconfirmation_due(&all, &ads, None, None, now), None);
        assert_eq!(
            reconfirmation_due(&all, &key("newsletter"), granted, Some("1"), now),
            None
        );
        let before = datetime!(2026-05-01 0:00 UTC);
        assert_eq!(
            reconfirmation_due(&all, &ads, granted, Some("1"), before),
            None
        );
    }

    #[test]
    fn a_later_minor_version_does_not_clear_an_unconfirmed_material_change() {
        let v1 = notice("1", datetime!(2026-01-01 0:00 UTC), false, &[]);
        let v2 = notice("2", datetime!(2026-02-01 0:00 UTC), true, &[]);
        let v3 = notice("3", datetime!(2026-03-01 0:00 UTC), false, &[]);
        let all = [v1, v2.clone(), v3];
        let now = datetime!(2026-04-01 0:00 UTC);
        let granted = Some(ConsentState::Granted);
        let p = key("newsletter");
        assert_eq!(
            reconfirmation_due(&all, &p, granted, Some("1"), now),
            Some(&v2)
        );
        assert_eq!(reconfirmation_due(&all, &p, granted, Some("3"), now), None);
    }

    #[test]
    fn an_opt_in_consent_awaiting_reconfirmation_does_not_apply() {
        let granted = Some(ConsentState::Granted);
        assert!(!effective_after_notice(Mode::OptIn, granted, true));
        assert!(effective_after_notice(Mode::OptIn, granted, false));
        assert!(effective_after_notice(Mode::OptOut, granted, true));
        let withdrawn = Some(ConsentState::Withdrawn);
        assert!(!effective_after_notice(Mode::OptOut, withdrawn, true));
    }

    #[test]
    fn new_notices_are_checked() {
        let v1 = notice("1", datetime!(2026-01-01 0:00 UTC), false, &[]);
        let known = [key("newsletter")];
        let problem = |n: &Notice, published: &[Notice]| {
            check_new_notice(n, published, &known)
                .err()
                .map(|e| e.problem)
        };
        assert_eq!(problem(&v1, &[]), None);
        assert_eq!(
            problem(&v1, std::slice::from_ref(&v1)),
            Some("notice_version_taken")
        );
        let material_first = notice("1", datetime!(2026-01-01 0:00 UTC), true, &[]);
        assert_eq!(
            problem(&material_first, &[]),
            Some("notice_material_needs_previous")
        );
        let bad = notice("a b", datetime!(2026-01-01 0:00 UTC), false, &[]);
        assert_eq!(problem(&bad, &[]), Some("malformed_notice_version"));
        let earlier = notice("0", datetime!(2025-01-01 0:00 UTC), false, &[]);
        assert_eq!(
            problem(&earlier, std::slice::from_ref(&v1)),
            Some("notice_effective_before_latest")
        );
        let mut empty = notice("2", datetime!(2026-02-01 0:00 UTC), false, &[]);
        empty.text_en = " ".into();
        assert_eq!(
            problem(&empty, std::slice::from_ref(&v1)),
            Some("notice_text_missing")
        );
        let mut unsummarised = notice("2", datetime!(2026-02-01 0:00 UTC), true, &[]);
        unsummarised.summary_ja.clear();
        assert_eq!(
            problem(&unsummarised, std::slice::from_ref(&v1)),
            Some("notice_summary_missing")
        );
        let unknown = notice("2", datetime!(2026-02-01 0:00 UTC), true, &["ad_targeting"]);
        assert_eq!(problem(&unknown, &[v1]), Some("unknown_purpose"));
    }

    #[test]
    fn the_diff_shows_removed_and_added_lines_in_place() {
        let old = "a\nb\nc\nd";
        let new = "a\nB\nc\nd\ne";
        assert_eq!(
            line_diff(old, new),
            vec![
                DiffLine::Same("a"),
                DiffLine::Removed("b"),
                DiffLine::Added("B"),
                DiffLine::Same("c"),
                DiffLine::Same("d"),
                DiffLine::Added("e"),
            ]
        );
        assert_eq!(line_diff("x", "x"), vec![DiffLine::Same("x")]);
        assert_eq!(line_diff("", "y"), vec![DiffLine::Added("y")]);
    }
}
