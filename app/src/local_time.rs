//! A time as the person reads it. The server writes it in the person's zone (theirs, else their
//! jurisdiction's: see `services::zone`) with the instant and that zone as attributes; once
//! JavaScript runs, `/local-time.js` shows it in the browser's own zone when that differs (a few
//! lines of script rather than code in the wasm bundle). Without JavaScript the server's text
//! stays.

use leptos::prelude::*;

use crate::view::Moment;

/// `<time datetime="…" data-zone="…">` with the server's text.
#[component]
pub fn Time(moment: Moment) -> impl IntoView {
    let Moment { at, text, zone } = moment;
    view! { <time datetime=at data-zone=zone>{text}</time> }
}

/// The script that shows times in the browser's zone (once per page that shows any).
#[component]
pub fn LocalTimeScript() -> impl IntoView {
    view! { <script src="/local-time.js" defer nonce=leptos::nonce::use_nonce()></script> }
}
