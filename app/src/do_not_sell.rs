//! The page `/do-not-sell`: California's "Do Not Sell or Share My Personal Information" (R57).
//! One plain form, posted to `/do-not-sell` (`server/src/do_not_sell.rs`, which sets the
//! browser's cookie): for a person with a link or a session, one button; for a visitor, the same
//! button and an optional email address. No JavaScript, no sign-in.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    domain::Lang,
    error::ApiError,
    frame::{ErrorPage, Frame, visitor_lang},
    i18n::do_not_sell::page,
};

/// The browser's cookie that says it opted out: the time of its request (Unix seconds).
pub const DO_NOT_SELL_COOKIE: &str = "doui_dns";

/// What the page shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoNotSellView {
    pub lang: Lang,
    pub csrf: String,
    /// The link's token, when the person came with one (posted back with the form).
    pub token: String,
    /// The person the request is for (masked email or external id), when known.
    pub subject: Option<String>,
    /// Where their preference center is (`/p/<token>` or `/me`), when known.
    pub back: Option<String>,
    /// When this browser opted out, if it did.
    pub browser_since: Option<String>,
    /// The request carries Global Privacy Control (`Sec-GPC: 1`).
    pub gpc: bool,
}

/// The page's data: who the request is for (a link's subject, the signed-in person, or nobody).
#[server(endpoint = "do_not_sell_page")]
pub async fn do_not_sell_page(
    token: String,
    lang: Option<String>,
) -> Result<DoNotSellView, ApiError> {
    use crate::api::{csrf_token, services, visitor};
    let services = services()?;
    let parts = use_context::<http::request::Parts>();
    let cookie = |name: &str| {
        parts
            .as_ref()
            .and_then(|p| crate::auth::cookie_value(&p.headers, name))
            .map(str::to_owned)
    };
    let known = if !token.is_empty() {
        Some(visitor(&services, &token, lang.as_deref()).await?)
    } else if cookie(crate::auth::SessionKind::Customer.cookie()).is_some() {
        // A session that ended is no reason to refuse an opt-out: the visitor's form then.
        visitor(&services, "", lang.as_deref()).await.ok()
    } else {
        None
    };
    let lang = known
        .as_ref()
        .map_or_else(|| crate::api::request_lang(lang.as_deref()), |(_, l)| *l);
    let subject = known.as_ref().map(|(v, _)| {
        v.subject.email.as_ref().map_or_else(
            || v.subject.external_id.as_str().to_owned(),
            |e| crate::services::mask_email(e.as_str()),
        )
    });
    let back = known.as_ref().map(|_| {
        if token.is_empty() {
            "/me".to_owned()
        } else {
            format!("/p/{token}")
        }
    });
    let browser_since = cookie(DO_NOT_SELL_COOKIE)
        .and_then(|c| c.parse::<i64>().ok())
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .map(|t| {
            let zone = known
                .as_ref()
                .map_or("UTC", |(v, _)| v.subject.time_zone_name());
            crate::services::moment_text(t, zone)
        });
    let gpc = parts.as_ref().is_some_and(|p| {
        crate::services::gpc_signal(p.headers.get("sec-gpc").and_then(|v| v.to_str().ok()))
    });
    Ok(DoNotSellView {
        lang,
        csrf: csrf_token(),
        token,
        subject,
        back,
        browser_since,
        gpc,
    })
}

#[component]
pub fn DoNotSellPage() -> impl IntoView {
    let lang = visitor_lang();
    let query = leptos_router::hooks::use_query_map();
    let (token, explicit, done) = query.with_untracked(|q| {
        (
            q.get("token").unwrap_or_default(),
            q.get("lang"),
            q.get("done").is_some(),
        )
    });
    let data = Resource::new_blocking(
        || (),
        move |_| do_not_sell_page(token.clone(), explicit.clone()),
    );
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(v) => page_view(v, done).into_any(),
                    Err(e) => view! { <ErrorPage lang code=e.code /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn page_view(v: DoNotSellView, done: bool) -> impl IntoView {
    let lang = v.lang;
    let c = page(lang);
    let honoured = done.then(|| {
        view! {
            <section class="card notice ok" role="status" data-do-not-sell="honoured">
                <h2>{c.honoured_title}</h2>
                <p>{c.honoured}</p>
                <p>{c.twelve_months}</p>
            </section>
        }
    });
    let browser = v.browser_since.clone().map(|when| {
        view! { <p class="notice" data-do-not-sell-browser>{c.browser_done.replace("{when}", &when)}</p> }
    });
    let gpc = v
        .gpc
        .then(|| view! { <p class="notice gpc" data-gpc="on">{c.gpc_on}</p> });
    let who = v.subject.clone().map(|s| {
        view! { <p class="fine" data-do-not-sell-subject>{c.for_subject}" "<strong>{s}</strong></p> }
    });
    // A visitor (nobody known) may give an address; a known person needs nothing more.
    let email = v.subject.is_none().then(|| {
        view! {
            <label for="dns-email">{c.email_label}</label>
            <input id="dns-email" name="email" type="email" maxlength="254" autocomplete="email" />
            <p class="fine">{c.email_hint}</p>
        }
    });
    let back = v.back.clone().map(|b| {
        let href = format!("{b}?lang={}", lang.key());
        view! { <p><a href=href>{c.back}</a></p> }
    });
    view! {
        <Frame lang title=c.title>
            {honoured}
            <section class="card do-not-sell">
                <h1>{c.title}</h1>
                <p>{c.intro}</p>
                <p>{c.what}</p>
                <p>{c.gpc}</p>
                {gpc}
                {browser}
                <form method="post" action="/do-not-sell" class="stacked">
                    <input type="hidden" name="csrf" value=v.csrf.clone() />
                    <input type="hidden" name="lang" value=lang.key() />
                    <input type="hidden" name="token" value=v.token.clone() />
                    {who}
                    {email}
                    <button type="submit">{c.button}</button>
                </form>
                <p class="fine">{c.twelve_months}</p>
                {back}
            </section>
        </Frame>
    }
}
