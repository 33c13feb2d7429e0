//! Pages rendered on the server. Only `islands` run in the browser.

use leptos::{nonce::use_nonce, prelude::*};
use leptos_meta::{Html, MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    ParamSegment, SsrMode, StaticSegment,
    components::{Route, Router, Routes},
    hooks::{use_params_map, use_query_map},
};

use crate::{
    api::{check_sign_in_link, load_preferences, unsubscribe_preview},
    console::{
        AdminAdminsPage, AdminApiKeysPage, AdminChainPage, AdminEventsPage, AdminHome,
        AdminPurposesPage, AdminSignInPage, AdminSubjectPage,
    },
    domain::Lang,
    i18n::{error_message, texts},
    islands::PreferenceCenter,
};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="robots" content="noindex" />
                <link rel="icon" href="data:," />
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="doui" href="/pkg/doui.css" />
        <Router>
            <Routes fallback=NotFound>
                <Route path=StaticSegment("") view=Home />
                <Route path=(StaticSegment("p"), ParamSegment("token")) view=PreferencePage ssr=SsrMode::Async />
                <Route path=(StaticSegment("u"), ParamSegment("token")) view=UnsubscribePage ssr=SsrMode::Async />
                <Route path=StaticSegment("me") view=PreferencePage ssr=SsrMode::Async />
                <Route path=StaticSegment("signin") view=SignInPage />
                <Route path=StaticSegment("privacy") view=crate::privacy::PrivacyPage ssr=SsrMode::Async />
                <Route path=StaticSegment("subscribe") view=crate::subscribe::SubscribePage ssr=SsrMode::Async />
                <Route path=(StaticSegment("confirm"), ParamSegment("token")) view=crate::subscribe::ConfirmPage ssr=SsrMode::Async />
                <Route path=(StaticSegment("signin"), ParamSegment("token")) view=SignInContinuePage ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("signin")) view=AdminSignInPage />
                <Route path=StaticSegment("admin") view=AdminHome ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("subjects"), ParamSegment("id")) view=AdminSubjectPage ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("admins")) view=AdminAdminsPage ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("api-keys")) view=AdminApiKeysPage ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("chain")) view=AdminChainPage ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("events")) view=AdminEventsPage ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("purposes")) view=AdminPurposesPage ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("notices")) view=crate::notices::AdminNoticesPage ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("recipients")) view=crate::console::AdminRecipientsPage ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("imports")) view=crate::console::AdminImportsPage ssr=SsrMode::Async />
            </Routes>
        </Router>
    }
}

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
    view! {
        <Html {..} lang=lang.key() />
        <Title text=format!("{title} · {}", t.product) />
        <header class="top">
            <a class="brand" href="/">{t.product}<span class="brand-ja">" 同意"</span></a>
            <nav class="lang-switch" aria-label=t.language>{switch}</nav>
        </header>
        <main id="main">{children()}</main>
    }
}

#[component]
fn Home() -> impl IntoView {
    let lang = visitor_lang();
    let t = texts(lang);
    view! {
        <Frame lang title=t.tagline>
            <section class="card home">
                <h1>{t.tagline}</h1>
                <p>{t.home_intro}</p>
                <p>{t.home_how}</p>
            </section>
        </Frame>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    set_status(404);
    let lang = visitor_lang();
    let t = texts(lang);
    view! {
        <Frame lang title=t.not_found_title>
            <section class="card">
                <h1>{t.not_found_title}</h1>
                <p>{t.not_found_body}</p>
            </section>
        </Frame>
    }
}

#[component]
fn PreferencePage() -> impl IntoView {
    let token = use_params_map()
        .read_untracked()
        .get("token")
        .unwrap_or_default();
    let explicit = use_query_map().read_untracked().get("lang");
    let fallback_lang = visitor_lang();
    let page = Resource::new_blocking(
        || (),
        move |_| load_preferences(token.clone(), explicit.clone()),
    );
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(mut view) => {
                        let lang = view.lang;
                        let t = texts(lang);
                        let sign_out = view.signed_in.then(|| {
                            view! { <SignOutForms lang csrf=view.csrf.clone() action="/signout" /> }
                        });
                        let stay = view.can_stay_signed_in.then(|| {
                            view! {
                                <section class="card sign-out">
                                    <form method="post" action="/signin/link" class="inline">
                                        <input type="hidden" name="csrf" value=view.csrf.clone() />
                                        <input type="hidden" name="lang" value=lang.key() />
                                        <input type="hidden" name="token" value=view.token.clone() />
                                        <button type="submit" class="secondary">{t.stay_signed_in}</button>
                                    </form>
                                </section>
                            }
                        });
                        let record = (view.signed_in || view.can_stay_signed_in).then(|| {
                            let href = if view.signed_in {
                                "/me/record.json".to_owned()
                            } else {
                                format!("/p/{}/record.json", view.token)
                            };
                            view! {
                                <section class="card record">
                                    <h2>{t.record_title}</h2>
                                    <p>{t.record_intro}</p>
                                    <p><a class="button secondary" href=href download="consent-record.json">{t.record_download}</a></p>
                                </section>
                            }
                        });
                        // R20: the signal honoured, said plainly, with no pop-up (R17).
                        let gpc = if view.gpc {
                            view! { <p class="notice ok gpc" role="status" data-gpc="honoured">{t.gpc_honoured}</p> }.into_any()
                        } else {
                            view! {
                                <p class="notice gpc" data-gpc-browser hidden>{t.gpc_browser}</p>
                                <script src="/gpc.js" defer nonce=use_nonce()></script>
                            }
                            .into_any()
                        };
                        // APPI 第29条: what was provided of the person's data, to whom.
                        let provisions = (!view.provisions.is_empty()).then(|| view! {
                            <Provisions lang rows=view.provisions.clone() intro=true />
                        });
                        // R31: a material change of the notice, shown with what changed.
                        let reconfirm = std::mem::take(&mut view.reconfirm);
                        let reconfirm = (!reconfirm.is_empty()).then(|| view! {
                            <crate::notices::ReconfirmSection
                                lang
                                token=view.token.clone()
                                csrf=view.csrf.clone()
                                render_id=view.render_id.clone()
                                changes=reconfirm
                            />
                        });
                        // R34: the lasting objection to direct marketing, and lifting it.
                        let objection = view.objection.take().map(|since| view! {
                            <crate::objection::ObjectionSection
                                lang
                                token=view.token.clone()
                                csrf=view.csrf.clone()
                                since
                                can_lift=view.signed_in || view.can_stay_signed_in
                            />
                        });
                        let renewals = std::mem::take(&mut view.renewals);
                        let renewals = (!renewals.is_empty()).then(|| view! {
                            <crate::notices::RenewalSection
                                lang
                                token=view.token.clone()
                                csrf=view.csrf.clone()
                                render_id=view.render_id.clone()
                                renewals
                            />
                        });
                        view! {
                            <Frame lang title=t.preferences_title>
                                {gpc}
                                {objection}
                                {reconfirm}
                                {renewals}
                                <PreferenceCenter view />
                                {provisions}
                                {record}
                                {sign_out}
                                {stay}
                            </Frame>
                        }
                            .into_any()
                    }
                    Err(e) => view! { <ErrorPage lang=fallback_lang code=e.code /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// What was provided of a person's data to third parties (APPI 第29条), newest first: on their
/// own page (with how to stop it) and on their page in the console.
#[component]
pub(crate) fn Provisions(
    lang: Lang,
    rows: Vec<crate::view::ProvisionRow>,
    intro: bool,
) -> impl IntoView {
    let t = texts(lang);
    let rows = rows
        .into_iter()
        .map(|p| {
            view! {
                <tr>
                    <td><time>{p.when}</time></td>
                    <td>{p.recipient}<br /><span class="fine">{p.recipient_address}</span></td>
                    <td>{p.data_items}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card provisions">
            <h2>{t.provisions_title}</h2>
            {intro.then(|| view! { <p>{t.provisions_intro}</p> })}
            <table class="history">
                <thead><tr><th scope="col">{t.when}</th><th scope="col">{t.recipient_label}</th><th scope="col">{t.data_items_label}</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}

/// The page an unsubscribe link opens: what it would stop, one button that posts (RFC 8058's
/// one-click URL itself), and the way to the whole preference center.
#[component]
fn UnsubscribePage() -> impl IntoView {
    let token = use_params_map()
        .read_untracked()
        .get("token")
        .unwrap_or_default();
    let explicit = use_query_map().read_untracked().get("lang");
    let fallback_lang = visitor_lang();
    let page = Resource::new_blocking(
        || (),
        move |_| unsubscribe_preview(token.clone(), explicit.clone()),
    );
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(u) => {
                        let t = texts(u.lang);
                        let items = u.items.into_iter().map(|i| view! { <li>{i}</li> }).collect_view();
                        let action = format!("/u/{}", u.token);
                        let preferences = format!("/p/{}?lang={}", u.token, u.lang.key());
                        view! {
                            <Frame lang=u.lang title=t.unsubscribe_title>
                                <section class="card unsubscribe">
                                    <h1>{t.unsubscribe_title}</h1>
                                    <p>{if u.already { t.unsubscribe_already } else { t.unsubscribe_intro }}</p>
                                    <ul class="targets">{items}</ul>
                                    <form method="post" action=action>
                                        <input type="hidden" name="List-Unsubscribe" value="One-Click" />
                                        <input type="hidden" name="confirm" value="page" />
                                        <input type="hidden" name="lang" value=u.lang.key() />
                                        <button type="submit" class="danger">{t.unsubscribe_button}</button>
                                    </form>
                                    <p><a href=preferences>{t.manage_preferences}</a></p>
                                </section>
                            </Frame>
                        }
                            .into_any()
                    }
                    Err(e) => view! { <ErrorPage lang=fallback_lang code=e.code /> }.into_any(),
                }
            })}
        </Suspense>
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

/// Asks for the address to mail a sign-in link to. The answer never says whether it is known.
#[component]
fn SignInPage() -> impl IntoView {
    let lang = visitor_lang();
    let t = texts(lang);
    let query = use_query_map().read_untracked();
    let message = if query.get("sent").is_some() {
        Some(t.signin_sent)
    } else if query.get("signed_out").is_some() {
        Some(t.signed_out)
    } else {
        None
    };
    let message = message.map(|m| view! { <p class="notice ok" role="status">{m}</p> });
    view! {
        <Frame lang title=t.signin_title>
            <section class="card signin">
                <h1>{t.signin_title}</h1>
                {message}
                <p>{t.signin_intro}</p>
                <form method="post" action="/signin" class="stacked">
                    <input type="hidden" name="csrf" value=page_csrf() />
                    <input type="hidden" name="lang" value=lang.key() />
                    <label for="email">{t.email_label}</label>
                    <input id="email" name="email" type="email" autocomplete="email" required maxlength="254" />
                    <button type="submit">{t.send_link}</button>
                </form>
            </section>
        </Frame>
    }
}

/// What an emailed sign-in link opens: one button. Only its POST uses the link (mail scanners
/// open links with GET).
#[component]
fn SignInContinuePage() -> impl IntoView {
    let token = use_params_map()
        .read_untracked()
        .get("token")
        .unwrap_or_default();
    let lang = visitor_lang();
    let t = texts(lang);
    let check = Resource::new_blocking(|| (), {
        let token = token.clone();
        move |_| check_sign_in_link(token.clone())
    });
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let token = token.clone();
                Suspend::new(async move {
                    match check.await {
                        Ok(()) => {
                            let action = format!("/signin/{token}");
                            view! {
                                <Frame lang title=t.continue_title>
                                    <section class="card signin">
                                        <h1>{t.continue_title}</h1>
                                        <p>{t.continue_intro}</p>
                                        <form method="post" action=action>
                                            <input type="hidden" name="csrf" value=page_csrf() />
                                            <input type="hidden" name="lang" value=lang.key() />
                                            <button type="submit">{t.continue_button}</button>
                                        </form>
                                    </section>
                                </Frame>
                            }
                                .into_any()
                        }
                        Err(e) => view! { <ErrorPage lang code=e.code /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}
