//! The admin console's pages, rendered on the server; forms post to the admin server functions
//! (or, for creating an API key, to `/admin/api-keys`) and work without JavaScript. Event views
//! (filters, tables, exports, charts) are in `events`, purpose management in `purposes`.

mod erasure;
mod events;
mod imports;
mod purposes;
mod recipients;

pub use events::AdminEventsPage;
use events::{EventFilters, EventTable, Exports, OlderEvents, filter_from_query, join_query};
pub use imports::AdminImportsPage;
pub use purposes::AdminPurposesPage;
pub use recipients::AdminRecipientsPage;

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    admin::{
        admin_chain, admin_list_admins, admin_list_api_keys, admin_me, admin_search, admin_subject,
    },
    domain::{ConsentState, Lang},
    i18n::{channel_name, texts},
    pages::{ErrorPage, Frame, SignOutForms, page_csrf, visitor_lang},
    view::{SignedInAdmin, SubjectSummary},
};

/// The signed-in admin and a page's data, asked for at once: each is a round trip or two to the
/// database, and neither needs the other. Not being signed in wins over the data's own error.
pub(crate) async fn with_admin<T>(
    data: impl std::future::Future<Output = Result<T, crate::error::ApiError>>,
) -> Result<(SignedInAdmin, T), crate::error::ApiError> {
    let (me, data) = futures_util::future::join(admin_me(), data).await;
    Ok((me?, data?))
}

/// Role keys, lowest first (for the role form).
const ROLES: [&str; 3] = ["viewer", "operator", "owner"];

pub(crate) fn state_name(lang: Lang, s: Option<ConsentState>) -> &'static str {
    let t = texts(lang);
    match s {
        None => t.not_chosen,
        Some(ConsentState::Granted) => t.granted,
        Some(ConsentState::Withdrawn) => t.withdrawn,
    }
}

/// The console's frame: navigation by role, and signing out.
#[component]
pub(crate) fn ConsoleFrame(
    lang: Lang,
    me: SignedInAdmin,
    title: &'static str,
    children: Children,
) -> impl IntoView {
    let t = texts(lang);
    let owner = me.role == "owner";
    let q = move |p: &str| format!("{p}?lang={}", lang.key());
    let owner_links = owner.then(|| {
        view! {
            <a href=q("/admin/admins")>{t.admins}</a>
            <a href=q("/admin/api-keys")>{t.api_keys}</a>
        }
    });
    view! {
        <Frame lang title=title>
            <nav class="console-nav" aria-label=t.admin_title>
                <a href=q("/admin")>{t.subjects}</a>
                <a href=q("/admin/events")>{t.event_stream}</a>
                <a href=q("/admin/purposes")>{t.purposes_title}</a>
                <a href=q("/admin/notices")>{crate::notices::copy(lang).console_title}</a>
                <a href=q("/admin/recipients")>{recipients::nav_label(lang)}</a>
                <a href=q("/admin/imports")>{imports::nav_label(lang)}</a>
                <a href=q("/admin/chain")>{t.chain_title}</a>
                {owner_links}
                <span class="who">{me.email.clone()}" · "{me.role.clone()}</span>
            </nav>
            {children()}
            <SignOutForms lang csrf=me.csrf.clone() action="/admin/signout" />
        </Frame>
    }
}

/// Email, password and (when enrolled) the authenticator code.
#[component]
pub fn AdminSignInPage() -> impl IntoView {
    let lang = visitor_lang();
    let t = texts(lang);
    view! {
        <Frame lang title=t.admin_signin_title>
            <section class="card signin">
                <h1>{t.admin_signin_title}</h1>
                <form method="post" action="/admin/signin" class="stacked">
                    <input type="hidden" name="csrf" value=page_csrf() />
                    <input type="hidden" name="lang" value=lang.key() />
                    <label for="email">{t.email_label}</label>
                    <input id="email" name="email" type="email" autocomplete="username" required />
                    <label for="password">{t.password_label}</label>
                    <input id="password" name="password" type="password" autocomplete="current-password" required />
                    <label for="code">{t.code_label}</label>
                    <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" maxlength="7" />
                    <button type="submit">{t.sign_in}</button>
                </form>
            </section>
        </Frame>
    }
}

/// A jurisdiction's name (its key when unknown).
pub(crate) fn jurisdiction_name(lang: Lang, key: &str) -> &'static str {
    let t = texts(lang);
    match key {
        "jp" => t.jurisdiction_jp,
        "eu" => t.jurisdiction_eu,
        "us_ca" => t.jurisdiction_us_ca,
        _ => t.jurisdiction_default,
    }
}

fn subject_rows(lang: Lang, subjects: Vec<SubjectSummary>) -> impl IntoView {
    let t = texts(lang);
    if subjects.is_empty() {
        return view! { <p class="empty">{t.no_results}</p> }.into_any();
    }
    let rows = subjects
        .into_iter()
        .map(|s| {
            let href = format!("/admin/subjects/{}?lang={}", s.id, lang.key());
            view! {
                <tr>
                    <td><a href=href>{s.external_id}</a></td>
                    <td>{s.email.unwrap_or_default()}</td>
                    <td>{s.phone.unwrap_or_default()}</td>
                    <td>{s.lang.key()}</td>
                    <td>{jurisdiction_name(lang, &s.jurisdiction)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="history">
            <thead>
                <tr>
                    <th scope="col">{t.external_id}</th>
                    <th scope="col">{t.email_label}</th>
                    <th scope="col">{t.phone}</th>
                    <th scope="col">{t.language}</th>
                    <th scope="col">{t.jurisdiction_label}</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

/// Search subjects (viewer and up): exact and prefix, paged.
#[component]
pub fn AdminHome() -> impl IntoView {
    let lang = visitor_lang();
    let t = texts(lang);
    let params = use_query_map().read_untracked();
    let query = params.get("q").unwrap_or_default();
    let page = params.get("page").and_then(|p| p.parse::<u32>().ok());
    let data = Resource::new_blocking(|| (), {
        let query = query.clone();
        move |_| {
            let query = query.clone();
            with_admin(admin_search(query, page))
        }
    });
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let query = query.clone();
                Suspend::new(async move {
                    match data.await {
                        Ok((me, found)) => {
                            let link = |page: u32| {
                                format!(
                                    "/admin?q={}&page={page}&lang={}",
                                    crate::view::url_encode(&found.query),
                                    lang.key()
                                )
                            };
                            let previous = (found.page > 0).then(|| {
                                view! { <a rel="prev" href=link(found.page - 1)>{t.previous_page}</a> }
                            });
                            let next = found.has_more.then(|| {
                                view! { <a rel="next" href=link(found.page + 1)>{t.next_page}</a> }
                            });
                            view! {
                                <ConsoleFrame lang me title=t.admin_title>
                                    <section class="card">
                                        <h1>{t.subjects}</h1>
                                        <form method="get" action="/admin" class="inline search">
                                            <input type="hidden" name="lang" value=lang.key() />
                                            <label for="q" class="sr-only">{t.search}</label>
                                            <input id="q" name="q" type="search" value=query />
                                            <button type="submit">{t.search}</button>
                                        </form>
                                        <p class="help">{t.search_help}</p>
                                        {subject_rows(lang, found.subjects)}
                                        <nav class="pager">{previous}{next}</nav>
                                    </section>
                                </ConsoleFrame>
                            }
                            .into_any()
                        }
                        Err(e) => view! { <ConsoleError lang code=e.code /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// A refusal in the console; "sign in" when nobody is signed in.
#[component]
pub(crate) fn ConsoleError(lang: Lang, code: String) -> impl IntoView {
    let t = texts(lang);
    let signin = (code == "sign_in_required").then(|| {
        let href = format!("/admin/signin?lang={}", lang.key());
        view! { <p class="center"><a class="button" href=href>{t.sign_in}</a></p> }
    });
    view! {
        {signin}
        <ErrorPage lang code />
    }
}

/// One subject: the matrix, the operator's form, and every event with its provenance.
#[component]
pub fn AdminSubjectPage() -> impl IntoView {
    let lang = visitor_lang();
    let t = texts(lang);
    let id = use_params_map()
        .read_untracked()
        .get("id")
        .unwrap_or_default();
    let (filter, before) = filter_from_query();
    let data = Resource::new_blocking(|| (), {
        let id = id.clone();
        move |_| {
            let (id, f) = (id.clone(), filter.clone());
            with_admin(admin_subject(
                id, f.purpose, f.channel, f.source, f.from, f.until, before,
            ))
        }
    });
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((me, v)) => {
                        let erased = v.erasure.is_some();
                        let can_change = me.role != "viewer" && !erased;
                        let erasure = view! {
                            <erasure::ErasureSection
                                lang
                                subject=v.subject.id.clone()
                                csrf=me.csrf.clone()
                                erasure=v.erasure.clone()
                                can_erase=can_change
                            />
                        };
                        let csrf = me.csrf.clone();
                        let header = v
                            .channels
                            .iter()
                            .map(|c| view! { <th scope="col">{channel_name(lang, *c)}</th> })
                            .collect_view();
                        let rows = v
                            .purposes
                            .iter()
                            .map(|p| {
                                let cells = p
                                    .cells
                                    .iter()
                                    .map(|c| {
                                        let text = if !c.applies {
                                            "—".to_owned()
                                        } else {
                                            format!(
                                                "{} ({}){}",
                                                if c.on { t.on } else { t.off },
                                                state_name(lang, c.choice),
                                                if c.reconfirm { crate::notices::copy(lang).pending } else { "" }
                                            )
                                        };
                                        view! { <td data-channel=c.channel.key()>{text}</td> }
                                    })
                                    .collect_view();
                                view! { <tr><th scope="row">{p.name.clone()}</th>{cells}</tr> }
                            })
                            .collect_view();
                        let change_form = can_change.then(|| {
                            let purposes = v
                                .purposes
                                .iter()
                                .map(|p| view! { <option value=p.key.clone()>{p.name.clone()}</option> })
                                .collect_view();
                            let channels = v
                                .channels
                                .iter()
                                .map(|c| view! { <option value=c.key()>{channel_name(lang, *c)}</option> })
                                .collect_view();
                            let back = format!("/admin/subjects/{}?lang={}", v.subject.id, lang.key());
                            view! {
                                <section class="card">
                                    <h2>{t.change_for_subject}</h2>
                                    <form method="post" action="/api/admin/set_consent" class="stacked">
                                        <input type="hidden" name="csrf" value=csrf.clone() />
                                        <input type="hidden" name="lang" value=lang.key() />
                                        <input type="hidden" name="return_to" value=back />
                                        <input type="hidden" name="subject" value=v.subject.id.clone() />
                                        <label for="purpose">{t.purpose}</label>
                                        <select id="purpose" name="purpose">{purposes}</select>
                                        <label for="channel">{t.channel_label}</label>
                                        <select id="channel" name="channel">{channels}</select>
                                        <label for="state">{t.state_label}</label>
                                        <select id="state" name="state">
                                            <option value="withdrawn">{t.withdrawn}</option>
                                            <option value="granted">{t.granted}</option>
                                        </select>
                                        <label for="reason">{t.reason}</label>
                                        <input id="reason" name="reason" required minlength="3" maxlength="500" placeholder=t.reason_help />
                                        <button type="submit">{t.apply}</button>
                                    </form>
                                </section>
                            }
                        });
                        // APPI 第29条: what was provided of this person's data, to whom.
                        let provisions = (!v.provisions.is_empty()).then(|| view! {
                            <crate::pages::Provisions lang rows=v.provisions.clone() intro=false />
                        });
                        let label = v.subject.email.clone().unwrap_or_else(|| v.subject.external_id.clone());
                        let base = format!("/admin/subjects/{}", v.subject.id);
                        let purpose_options: Vec<(String, String)> =
                            v.purposes.iter().map(|p| (p.key.clone(), p.name.clone())).collect();
                        let export_query = join_query(&v.events.query, &format!("subject={}", v.subject.id));
                        view! {
                            <ConsoleFrame lang me title=t.subjects>
                                <section class="card">
                                    <h1>{label}</h1>
                                    <p class="fine">{t.external_id}": "{v.subject.external_id.clone()}" · "{v.subject.id.clone()}" · "{t.jurisdiction_label}": "{jurisdiction_name(lang, &v.subject.jurisdiction)}</p>
                                    <div class="matrix-wrap">
                                        <table class="matrix admin-matrix">
                                            <thead><tr><th scope="col">{t.purpose}</th>{header}</tr></thead>
                                            <tbody>{rows}</tbody>
                                        </table>
                                    </div>
                                </section>
                                {change_form}
                                {erasure}
                                {provisions}
                                <section class="card">
                                    <h2>{t.events}</h2>
                                    <EventFilters lang action=base.clone() filter=v.events.filter.clone() purposes=purpose_options />
                                    <EventTable lang rows=v.events.rows.clone() with_subject=false />
                                    <OlderEvents lang base=base.clone() query=v.events.query.clone() next=v.events.next_before />
                                    <Exports lang query=export_query />
                                </section>
                            </ConsoleFrame>
                        }
                        .into_any()
                    }
                    Err(e) => view! { <ConsoleError lang code=e.code /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Admin accounts and their roles (owner).
#[component]
pub fn AdminAdminsPage() -> impl IntoView {
    let lang = visitor_lang();
    let t = texts(lang);
    let data = Resource::new_blocking(|| (), |_| with_admin(admin_list_admins()));
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((me, admins)) => {
                        let csrf = me.csrf.clone();
                        let back = format!("/admin/admins?lang={}", lang.key());
                        let rows = admins
                            .into_iter()
                            .map(|a| {
                                let options = ROLES
                                    .iter()
                                    .map(|r| view! { <option value=*r selected={*r == a.role}>{*r}</option> })
                                    .collect_view();
                                view! {
                                    <tr>
                                        <td>{a.email.clone()}</td>
                                        <td>
                                            <form method="post" action="/api/admin/set_role" class="inline">
                                                <input type="hidden" name="csrf" value=csrf.clone() />
                                                <input type="hidden" name="lang" value=lang.key() />
                                                <input type="hidden" name="return_to" value=back.clone() />
                                                <input type="hidden" name="email" value=a.email.clone() />
                                                <select name="role" aria-label=t.role>{options}</select>
                                                <label><input type="checkbox" name="disabled" value="true" checked=a.disabled />" "{t.disabled}</label>
                                                <button type="submit">{t.save}</button>
                                            </form>
                                        </td>
                                        <td>{if a.totp { t.yes } else { t.no }}</td>
                                        <td>{a.created.clone()}</td>
                                    </tr>
                                }
                            })
                            .collect_view();
                        view! {
                            <ConsoleFrame lang me title=t.admins>
                                <section class="card">
                                    <h1>{t.admins}</h1>
                                    <table class="history">
                                        <thead>
                                            <tr>
                                                <th scope="col">{t.email_label}</th>
                                                <th scope="col">{t.role}</th>
                                                <th scope="col">{t.two_factor}</th>
                                                <th scope="col">{t.created}</th>
                                            </tr>
                                        </thead>
                                        <tbody>{rows}</tbody>
                                    </table>
                                </section>
                            </ConsoleFrame>
                        }
                        .into_any()
                    }
                    Err(e) => view! { <ConsoleError lang code=e.code /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// API keys for senders' systems (owner).
#[component]
pub fn AdminApiKeysPage() -> impl IntoView {
    let lang = visitor_lang();
    let t = texts(lang);
    let data = Resource::new_blocking(|| (), |_| with_admin(admin_list_api_keys()));
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((me, keys)) => {
                        let csrf = me.csrf.clone();
                        let back = format!("/admin/api-keys?lang={}", lang.key());
                        let rows = keys
                            .into_iter()
                            .map(|k| {
                                let revoke = (!k.revoked).then(|| view! {
                                    <form method="post" action="/api/admin/revoke_api_key" class="inline">
                                        <input type="hidden" name="csrf" value=csrf.clone() />
                                        <input type="hidden" name="lang" value=lang.key() />
                                        <input type="hidden" name="return_to" value=back.clone() />
                                        <input type="hidden" name="id" value=k.id.clone() />
                                        <button type="submit" class="danger">{t.revoke}</button>
                                    </form>
                                });
                                view! {
                                    <tr>
                                        <td><code>{k.id.clone()}</code></td>
                                        <td>{k.name.clone()}</td>
                                        <td>{k.scopes.clone()}</td>
                                        <td>{k.created.clone()}</td>
                                        <td>{if k.revoked { t.revoked } else { t.active }}{revoke}</td>
                                    </tr>
                                }
                            })
                            .collect_view();
                        view! {
                            <ConsoleFrame lang me title=t.api_keys>
                                <section class="card">
                                    <h1>{t.api_keys}</h1>
                                    <table class="history">
                                        <thead>
                                            <tr>
                                                <th scope="col">"ID"</th>
                                                <th scope="col">{t.name}</th>
                                                <th scope="col">{t.scopes}</th>
                                                <th scope="col">{t.created}</th>
                                                <th scope="col">{t.state_label}</th>
                                            </tr>
                                        </thead>
                                        <tbody>{rows}</tbody>
                                    </table>
                                    <form method="post" action="/admin/api-keys" class="stacked">
                                        <input type="hidden" name="csrf" value=csrf.clone() />
                                        <input type="hidden" name="lang" value=lang.key() />
                                        <label for="name">{t.name}</label>
                                        <input id="name" name="name" required maxlength="100" />
                                        <fieldset>
                                            <legend>{t.scopes}</legend>
                                            {crate::api_key::ApiScope::ALL
                                                .into_iter()
                                                .map(|scope| {
                                                    let checked = scope == crate::api_key::ApiScope::Links;
                                                    view! {
                                                        <label>
                                                            <input type="checkbox" name="scopes" value=scope.key() checked=checked />
                                                            " "
                                                            {scope.key()}
                                                        </label>
                                                    }
                                                })
                                                .collect_view()}
                                        </fieldset>
                                        <button type="submit">{t.create_key}</button>
                                    </form>
                                </section>
                            </ConsoleFrame>
                        }
                        .into_any()
                    }
                    Err(e) => view! { <ConsoleError lang code=e.code /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The hash chain's state, and a walk of all of it on request (viewer).
#[component]
pub fn AdminChainPage() -> impl IntoView {
    let lang = visitor_lang();
    let t = texts(lang);
    let verify = use_query_map().read_untracked().get("verify").is_some();
    let data = Resource::new_blocking(|| (), move |_| with_admin(admin_chain(verify)));
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((me, c)) => {
                        // Suspect events the walk named, each with its event (item 8).
                        let findings = (c.checked && !c.findings.is_empty()).then(|| {
                            let items = c
                                .findings
                                .iter()
                                .map(|f| view! { <li>{f.clone()}</li> })
                                .collect_view();
                            view! {
                                <div class="card error chain-findings" role="alert">
                                    <h2>{t.chain_suspect}</h2>
                                    <ul>{items}</ul>
                                </div>
                            }
                        });
                        let result = c.checked.then(|| match c.broken.clone() {
                            None if !c.findings.is_empty() => ().into_any(),
                            None => view! {
                                <p class="notice ok" role="status">
                                    {t.chain_ok}" "{c.checkpoints_checked}" "{t.chain_checkpoints_ok}
                                </p>
                            }
                            .into_any(),
                            Some(b) => view! {
                                <div class="card error" role="alert"><h2>{t.chain_broken}</h2><p>{b}</p></div>
                            }
                            .into_any(),
                        });
                        let href = format!("/admin/chain?verify=1&lang={}", lang.key());
                        view! {
                            <ConsoleFrame lang me title=t.chain_title>
                                <section class="card">
                                    <h1>{t.chain_title}</h1>
                                    <p>{t.chain_intro}</p>
                                    {result}
                                    {findings}
                                    <p>{t.chain_length}": "<strong class="chain-length">{c.length}</strong></p>
                                    <p class="fine">{t.chain_head}": "<code>{c.head.clone()}</code></p>
                                    <p><a class="button" href=href>{t.chain_verify}</a></p>
                                </section>
                                <section class="card">
                                    <h2>{t.chain_checkpoint}</h2>
                                    {match c.latest_checkpoint.clone() {
                                        Some((length, at)) => view! {
                                            <p class="latest-checkpoint">
                                                <strong>{length}</strong>" · "<time datetime=at.clone()>{at.clone()}</time>
                                            </p>
                                        }
                                        .into_any(),
                                        None => view! { <p>{t.chain_no_checkpoint}</p> }.into_any(),
                                    }}
                                    <p class="fine">{t.chain_public_key}" ("{c.key_id.clone()}"): "<code class="public-key">{c.public_key.clone()}</code></p>
                                    <p class="fine">{t.chain_keep}</p>
                                    <p><a class="button secondary" href="/admin/chain/checkpoints.jsonl" download="checkpoints.jsonl">{t.chain_download}</a></p>
                                </section>
                            </ConsoleFrame>
                        }
                        .into_any()
                    }
                    Err(e) => view! { <ConsoleError lang code=e.code /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
