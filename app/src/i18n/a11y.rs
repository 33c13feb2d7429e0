//! Texts of accessibility (issue 34 item 8): the link that skips to a page's content, the first
//! stop of the keyboard on every page.

use crate::domain::Lang;

/// The skip link's text (it leads to `<main id="main">`).
pub fn skip_to_content(lang: Lang) -> &'static str {
    match lang {
        Lang::Ja => "本文へ移動",
        Lang::En => "Skip to the content",
    }
}

/// The name of a table's column that holds a small chart (read by screen readers only).
pub fn chart_column(lang: Lang) -> &'static str {
    match lang {
        Lang::Ja => "グラフ",
        Lang::En => "Chart",
    }
}
