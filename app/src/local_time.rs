//! A time as the person reads it. The server writes it in the person's zone (theirs, else their
//! jurisdiction's: see `services::zone`); once JavaScript runs, the browser shows it in its own
//! zone when that differs. Without JavaScript the server's text stays.

use leptos::prelude::*;

use crate::view::Moment;

/// `<time datetime="…">` with the server's text, then the browser's (inside an island).
#[component]
pub fn Time(moment: Moment) -> impl IntoView {
    // Effects run only in the browser, after hydration: the first render matches the server's.
    let live = RwSignal::new(false);
    Effect::new(move |_| live.set(true));
    let Moment { at, text, zone } = moment;
    let (datetime, data_zone) = (at.clone(), zone.clone());
    view! {
        <time datetime=datetime data-zone=data_zone>
            {move || {
                if live.get() { in_browser_zone(&at, &zone).unwrap_or_else(|| text.clone()) } else { text.clone() }
            }}
        </time>
    }
}

/// [`Time`] where no island surrounds it (the page's server-rendered sections).
#[island]
pub fn LocalTime(moment: Moment) -> impl IntoView {
    view! { <Time moment /> }
}

/// `at` as `2026-12-06 13:21 GMT+1` in the browser's zone; `None` when it is `zone` (the server
/// already wrote it so) or the browser cannot tell.
#[cfg(feature = "hydrate")]
fn in_browser_zone(at: &str, zone: &str) -> Option<String> {
    use js_sys::{Array, Date, Intl::DateTimeFormat, Object, Reflect};
    use wasm_bindgen::JsValue;
    let get = |o: &JsValue, key: &str| Reflect::get(o, &JsValue::from_str(key)).ok()?.as_string();
    let resolved = DateTimeFormat::new(&Array::new(), &Object::new()).resolved_options();
    let browser = get(&resolved, "timeZone")?;
    if browser == zone {
        return None;
    }
    let date = Date::new(&JsValue::from_str(at));
    if date.get_time().is_nan() {
        return None;
    }
    let options = Object::new();
    Reflect::set(&options, &"timeZoneName".into(), &"short".into()).ok()?;
    let parts = DateTimeFormat::new(&Array::of1(&"en-US".into()), &options).format_to_parts(&date);
    let name = parts
        .iter()
        .find(|p| get(p, "type").as_deref() == Some("timeZoneName"))
        .and_then(|p| get(&p, "value"))
        .unwrap_or(browser);
    Some(format!(
        "{:04}-{:02}-{:02} {:02}:{:02} {name}",
        date.get_full_year(),
        date.get_month() + 1,
        date.get_date(),
        date.get_hours(),
        date.get_minutes()
    ))
}

#[cfg(not(feature = "hydrate"))]
fn in_browser_zone(_at: &str, _zone: &str) -> Option<String> {
    None
}
