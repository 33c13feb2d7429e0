//! The person's pages, rendered on the server: home, the preference center (a link or signed in),
//! a message's unsubscribe page, signing in by mail, not found. Only `islands` run in the
//! browser. The console's pages live in `console/`; what both share in `frame`.

use leptos::{nonce::use_nonce, prelude::*};
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    api::{check_sign_in_link, load_preferences, unsubscribe_preview},
    frame::{ErrorPage, Frame, SignOutForms, page_csrf, set_status, visitor_lang},
    i18n::texts,
    islands::PreferenceCenter,
    provided::Provisions,
};

#[component]
pub(crate) fn Home() -> impl IntoView {
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
pub(crate) fn NotFound() -> impl IntoView {
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
pub(crate) fn PreferencePage() -> impl IntoView {
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
                        // R57: California's opt-out of sale and sharing, one click away.
                        let do_not_sell = view.do_not_sell.then(|| {
                            let href = if view.signed_in {
                                format!("/do-not-sell?lang={}", lang.key())
                            } else {
                                format!("/do-not-sell?token={}&lang={}", view.token, lang.key())
                            };
                            let text = crate::i18n::do_not_sell::link_text(lang);
                            view! {
                                <section class="card do-not-sell">
                                    <p><a class="button secondary" href=href data-do-not-sell-link>{text}</a></p>
                                </section>
                            }
                        });
                        // Issue 34: pause instead of leave, and how often.
                        let pause = view! {
                            <crate::pause::PauseSection
                                lang
                                token=view.token.clone()
                                csrf=view.csrf.clone()
                                render_id=view.render_id.clone()
                                pauses=std::mem::take(&mut view.pauses)
                                purposes=view.purposes.clone()
                            />
                        };
                        let frequencies = std::mem::take(&mut view.frequencies);
                        let frequencies = (!frequencies.is_empty()).then(|| view! {
                            <crate::pause::FrequencySection
                                lang
                                token=view.token.clone()
                                csrf=view.csrf.clone()
                                rows=frequencies
                            />
                        });
                        view! {
                            <Frame lang title=t.preferences_title>
                                {gpc}
                                <crate::local_time::LocalTimeScript />
                                {objection}
                                {reconfirm}
                                {renewals}
                                <PreferenceCenter view />
                                {pause}
                                {frequencies}
                                {provisions}
                                {do_not_sell}
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

/// The page an unsubscribe link opens: what it would stop, one button that posts (RFC 8058's
/// one-click URL itself), and the way to the whole preference center.
#[component]
pub(crate) fn UnsubscribePage() -> impl IntoView {
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

/// Asks for the address to mail a sign-in link to. The answer never says whether it is known.
#[component]
pub(crate) fn SignInPage() -> impl IntoView {
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
pub(crate) fn SignInContinuePage() -> impl IntoView {
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
