//! What every page shares, the person's and the console's: the frame (header, language switch),
//! the visitor's language, the CSRF token for forms, the status of the answer, the error page and
//! the sign-out forms. Below both the person's pages and the console; imports neither.

use leptos::prelude::*;
use leptos_meta::{Html, Title};
use leptos_router::hooks::use_query_map;

use crate::{
    domain::Lang,
    i18n::{error_message, skip_to_content, texts},
};

/// The request's `Accept-Language` (server side; the browser never renders pages).
fn accept_language() -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>().and_then(|p| {
            p.headers
                .get("accept-language")?
                .to_str()
                .ok()
                .map(str::to_owned)
        })
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// This request's CSRF token, for the hidden field of every form (server side).
pub(crate) fn page_csrf() -> String {
    #[cfg(feature = "ssr")]
    {
        crate::api::csrf_token()
    }
    #[cfg(not(feature = "ssr"))]
    {
        String::new()
    }
}

/// The sender's brand for the header (server side): their name, their logo's path, and whether
/// an accent colour is set.
fn brand() -> (String, Option<String>, bool) {
    #[cfg(feature = "ssr")]
    {
        use_context::<crate::services::Services>()
            .map(|s| {
                let b = &s.settings.brand;
                (
                    s.settings.sender.name.trim().to_owned(),
                    b.logo.as_ref().map(|l| l.path.clone()),
                    b.accent.is_some(),
                )
            })
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        Default::default()
    }
}

/// `?lang=` if given, else the browser's language.
pub(crate) fn visitor_lang() -> Lang {
    let explicit = use_query_map().read_untracked().get("lang");
    explicit
        .and_then(|l| l.parse().ok())
        .or_else(|| {
            accept_language()
                .as_deref()
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or_default()
}

pub(crate) fn set_status(_code: u16) {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(
            http::StatusCode::from_u16(_code).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR),
        );
    }
}

/// The page frame: header with the product name and the language switch, then the content.
#[component]
pub(crate) fn Frame(lang: Lang, #[prop(into)] title: String, children: Children) -> impl IntoView {
    let t = texts(lang);
    let path = leptos_router::hooks::use_location()
        .pathname
        .get_untracked();
    let switch = Lang::ALL
        .into_iter()
        .map(|l| {
            let label = match l {
                Lang::Ja => "日本語",
                Lang::En => "English",
            };
            let href = format!("{path}?lang={}", l.key());
            view! {
                <a href=href hreflang=l.key() lang=l.key() aria-current=(l == lang).then_some("true")>{label}</a>
            }
        })
        .collect_view();
    // The sender's name and logo where they are configured, Doui's own otherwise.
    let (sender, logo, accent) = brand();
    let site = if sender.is_empty() {
        t.product.to_owned()
    } else {
        sender.clone()
    };
    let logo = logo.map(|src| view! { <img class="logo" src=src alt="" width="32" height="32" /> });
    let name = if sender.is_empty() {
        leptos::either::Either::Left(view! { {t.product}<span class="brand-ja">" 同意"</span> })
    } else {
        leptos::either::Either::Right(view! { <span class="sender">{sender}</span> })
    };
    // Every page of the person's (not the console's) links California's opt-out of sale and
    // sharing (R57): a visitor's jurisdiction is not known, so it is always there.
    let footer = (!path.starts_with("/admin")).then(|| {
        let href = format!("/do-not-sell?lang={}", lang.key());
        view! {
            <footer class="bottom">
                <a class="do-not-sell-link" href=href>{crate::i18n::do_not_sell::link_text(lang)}</a>
            </footer>
        }
    });
    view! {
        <Html {..} lang=lang.key() />
        <Title text=format!("{title} · {site}") />
        {accent.then(|| view! { <leptos_meta::Stylesheet id="brand" href="/brand.css" /> })}
        <a class="skip-link" href="#main">{skip_to_content(lang)}</a>
        <header class="top">
            <a class="brand" href="/">{logo}{name}</a>
            <nav class="lang-switch" aria-label=t.language>{switch}</nav>
        </header>
        <main id="main">{children()}</main>
        {footer}
    }
}

/// A refused link or request, in the visitor's language (the status is set where it was refused).
/// A refused link offers a fresh one by email.
#[component]
pub(crate) fn ErrorPage(lang: Lang, code: String) -> impl IntoView {
    let t = texts(lang);
    let fresh_link = matches!(
        code.as_str(),
        "invalid_token"
            | "expired_token"
            | "link_revoked"
            | "unknown_subject"
            | "sign_in_required"
            | "sign_in_link_invalid"
    )
    .then(|| {
        let href = format!("/signin?lang={}", lang.key());
        view! { <p><a class="button" href=href>{t.request_new_link}</a></p> }
    });
    view! {
        <Frame lang title=t.error_title>
            <section class="card error" role="alert">
                <h1>{t.error_title}</h1>
                <p>{error_message(lang, &code).to_owned()}</p>
                {fresh_link}
            </section>
        </Frame>
    }
}

/// "Sign out" and "sign out everywhere", as two plain forms.
#[component]
pub(crate) fn SignOutForms(lang: Lang, csrf: String, action: &'static str) -> impl IntoView {
    let t = texts(lang);
    view! {
        <section class="card sign-out">
            <form method="post" action=action class="inline">
                <input type="hidden" name="csrf" value=csrf.clone() />
                <input type="hidden" name="lang" value=lang.key() />
                <button type="submit">{t.sign_out}</button>
            </form>
            <form method="post" action=action class="inline">
                <input type="hidden" name="csrf" value=csrf />
                <input type="hidden" name="lang" value=lang.key() />
                <input type="hidden" name="everywhere" value="1" />
                <button type="submit" class="secondary">{t.sign_out_everywhere}</button>
            </form>
        </section>
    }
}
