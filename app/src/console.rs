//! The admin console's pages, rendered on the server; forms post to the admin server functions
//! (or, for creating an API key, to `/admin/api-keys`) and work without JavaScript.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use leptos::nonce::use_nonce;

use crate::{
    admin::{
        admin_chain, admin_chart, admin_events, admin_list_admins, admin_list_api_keys, admin_me,
        admin_purposes, admin_search, admin_subject,
    },
    domain::{Channel, ConsentState, Lang},
    i18n::{SOURCE_KEYS, channel_name, source_name, texts},
    pages::{ErrorPage, Frame, SignOutForms, page_csrf, visitor_lang},
    view::{
        AdminEventRow, ChartSeries, EventFilterForm, PurposeForm, SignedInAdmin, SubjectSummary,
    },
};

/// Role keys, lowest first (for the role form).
const ROLES: [&str; 3] = ["viewer", "operator", "owner"];

fn state_name(lang: Lang, s: Option<ConsentState>) -> &'static str {
    let t = texts(lang);
    match s {
        None => t.not_chosen,
        Some(ConsentState::Granted) => t.granted,
        Some(ConsentState::Withdrawn) => t.withdrawn,
    }
}

/// The console's frame: navigation by role, and signing out.
#[component]
fn ConsoleFrame(
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
            async move {
                Ok::<_, crate::error::ApiError>((
                    admin_me().await?,
                    admin_search(query, page).await?,
                ))
            }
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
fn ConsoleError(lang: Lang, code: String) -> impl IntoView {
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
            async move {
                let me = admin_me().await?;
                let v = admin_subject(id, f.purpose, f.channel, f.source, f.from, f.until, before)
                    .await?;
                Ok::<_, crate::error::ApiError>((me, v))
            }
        }
    });
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((me, v)) => {
                        let can_change = me.role != "viewer";
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
                                                "{} ({})",
                                                if c.on { t.on } else { t.off },
                                                state_name(lang, c.choice)
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
                        let label = v.subject.email.clone().unwrap_or_else(|| v.subject.external_id.clone());
                        let base = format!("/admin/subjects/{}", v.subject.id);
                        let purpose_options: Vec<(String, String)> =
                            v.purposes.iter().map(|p| (p.key.clone(), p.name.clone())).collect();
                        let export_query = join_query(&v.events.query, &format!("subject={}", v.subject.id));
                        view! {
                            <ConsoleFrame lang me title=t.subjects>
                                <section class="card">
                                    <h1>{label}</h1>
                                    <p class="fine">{t.external_id}": "{v.subject.external_id.clone()}" · "{v.subject.id.clone()}</p>
                                    <div class="matrix-wrap">
                                        <table class="matrix admin-matrix">
                                            <thead><tr><th scope="col">{t.purpose}</th>{header}</tr></thead>
                                            <tbody>{rows}</tbody>
                                        </table>
                                    </div>
                                </section>
                                {change_form}
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
    let data = Resource::new_blocking(
        || (),
        |_| async move {
            Ok::<_, crate::error::ApiError>((admin_me().await?, admin_list_admins().await?))
        },
    );
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
    let data = Resource::new_blocking(
        || (),
        |_| async move {
            Ok::<_, crate::error::ApiError>((admin_me().await?, admin_list_api_keys().await?))
        },
    );
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
                                            <label><input type="checkbox" name="scopes" value="links" checked />" links"</label>
                                            <label><input type="checkbox" name="scopes" value="suppressions" />" suppressions"</label>
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
    let data = Resource::new_blocking(
        || (),
        move |_| async move {
            Ok::<_, crate::error::ApiError>((admin_me().await?, admin_chain(verify).await?))
        },
    );
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((me, c)) => {
                        let result = c.checked.then(|| match c.broken.clone() {
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

/// The event filters and the `before` cursor from the page's query.
fn filter_from_query() -> (EventFilterForm, Option<i64>) {
    let q = use_query_map().read_untracked();
    let get = |k: &str| q.get(k).filter(|v| !v.trim().is_empty());
    let filter = EventFilterForm {
        purpose: get("purpose"),
        channel: get("channel"),
        source: get("source"),
        from: get("from"),
        until: get("until"),
    };
    (filter, q.get("before").and_then(|b| b.parse().ok()))
}

/// `a&b`, skipping empty parts.
fn join_query(a: &str, b: &str) -> String {
    [a, b]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("&")
}

/// A `<select>` whose first option is "any".
fn select(
    name: &'static str,
    any: &'static str,
    options: Vec<(String, String)>,
    chosen: Option<String>,
) -> impl IntoView {
    let options = options
        .into_iter()
        .map(|(value, label)| {
            let selected = chosen.as_deref() == Some(value.as_str());
            view! { <option value=value selected=selected>{label}</option> }
        })
        .collect_view();
    view! {
        <select id=format!("filter-{name}") name=name>
            <option value="">{any}</option>
            {options}
        </select>
    }
}

/// The filters every event view takes: a plain GET form (works without JavaScript).
#[component]
fn EventFilters(
    lang: Lang,
    action: String,
    filter: EventFilterForm,
    purposes: Vec<(String, String)>,
) -> impl IntoView {
    let t = texts(lang);
    let channels = Channel::ALL
        .iter()
        .map(|c| (c.key().to_owned(), channel_name(lang, *c).to_owned()))
        .collect();
    let sources = SOURCE_KEYS
        .iter()
        .map(|k| ((*k).to_owned(), source_name(lang, k).to_owned()))
        .collect();
    let clear = format!("{action}?lang={}", lang.key());
    view! {
        <form method="get" action=action class="filters">
            <input type="hidden" name="lang" value=lang.key() />
            <label>{t.purpose}" "{select("purpose", t.filter_any, purposes, filter.purpose)}</label>
            <label>{t.channel_label}" "{select("channel", t.filter_any, channels, filter.channel)}</label>
            <label>{t.source}" "{select("source", t.filter_any, sources, filter.source)}</label>
            <label>{t.filter_from}" "<input type="date" name="from" value=filter.from.unwrap_or_default() /></label>
            <label>{t.filter_until}" "<input type="date" name="until" value=filter.until.unwrap_or_default() /></label>
            <button type="submit">{t.filter_apply}</button>
            <a class="clear" href=clear>{t.filter_clear}</a>
        </form>
    }
}

/// Events with their provenance, newest first.
#[component]
fn EventTable(lang: Lang, rows: Vec<AdminEventRow>, with_subject: bool) -> impl IntoView {
    let t = texts(lang);
    if rows.is_empty() {
        return view! { <p class="empty">{t.no_events}</p> }.into_any();
    }
    let body = rows
        .into_iter()
        .map(|e| {
            let subject = with_subject.then(|| {
                let href = format!("/admin/subjects/{}?lang={}", e.subject, lang.key());
                let short: String = e.subject.chars().rev().take(8).collect::<Vec<_>>().into_iter().rev().collect();
                view! { <td><a href=href title=e.subject.clone()>{"…"}{short}</a></td> }
            });
            view! {
                <tr data-seq=e.seq>
                    <td><time>{e.when}</time></td>
                    {subject}
                    <td>{e.purpose}" · "{channel_name(lang, e.channel)}</td>
                    <td>{state_name(lang, e.from)}" → "<strong>{state_name(lang, Some(e.to))}</strong></td>
                    <td>{source_name(lang, &e.source)}</td>
                    <td>{e.actor}</td>
                    <td>{e.notice_version.unwrap_or_default()}</td>
                    <td>{e.origin_ip.unwrap_or_default()}</td>
                    <td>{e.reason.unwrap_or_default()}{e.campaign.map(|c| format!(" [{c}]"))}</td>
                </tr>
            }
        })
        .collect_view();
    let subject_head = with_subject.then(|| view! { <th scope="col">{t.subject_column}</th> });
    view! {
        <div class="table-wrap">
            <table class="history events">
                <thead>
                    <tr>
                        <th scope="col">{t.when}</th>
                        {subject_head}
                        <th scope="col">{t.purpose}</th>
                        <th scope="col">{t.change}</th>
                        <th scope="col">{t.source}</th>
                        <th scope="col">{t.actor}</th>
                        <th scope="col">{t.notice_version}</th>
                        <th scope="col">{t.origin}</th>
                        <th scope="col">{t.reason}</th>
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// The link to the next, older page of events.
#[component]
fn OlderEvents(lang: Lang, base: String, query: String, next: Option<i64>) -> impl IntoView {
    let t = texts(lang);
    next.map(|before| {
        let href = format!(
            "{base}?{}",
            join_query(&query, &format!("before={before}&lang={}", lang.key()))
        );
        view! { <nav class="pager"><a rel="next" href=href>{t.older_events}</a></nav> }
    })
}

/// Downloads of everything the filters select, streamed; with JavaScript, a progress bar.
#[component]
fn Exports(lang: Lang, query: String) -> impl IntoView {
    let t = texts(lang);
    let href = |ext: &str| {
        format!(
            "/admin/events.{ext}?{}",
            join_query(&query, &format!("lang={}", lang.key()))
        )
    };
    view! {
        <div class="exports">
            <a class="button secondary export" href=href("csv") download="doui-events.csv">{t.export_csv}</a>
            <a class="button secondary export" href=href("jsonl") download="doui-events.jsonl">{t.export_jsonl}</a>
            <progress class="export-progress" hidden max="1" value="0" aria-label=t.export_progress></progress>
            <span class="export-status" role="status"></span>
            <p class="help">{t.export_help}</p>
            <script src="/export.js" defer nonce=use_nonce()></script>
        </div>
    }
}

/// A line per series, one point per day, drawn as SVG on the server (no script needed).
#[component]
fn Chart(
    lang: Lang,
    title: &'static str,
    days: Vec<String>,
    series: Vec<ChartSeries>,
) -> impl IntoView {
    const W: f64 = 720.0;
    const H: f64 = 200.0;
    const LEFT: f64 = 40.0;
    const BOTTOM: f64 = 22.0;
    const COLORS: [&str; 8] = [
        "#1f6feb", "#d73a49", "#2da44e", "#bf8700", "#8250df", "#0a7f86", "#cf222e", "#57606a",
    ];
    let t = texts(lang);
    // The busiest lines, at most eight.
    let mut series = series;
    series.sort_by_key(|s| std::cmp::Reverse(s.values.iter().sum::<i64>()));
    series.truncate(COLORS.len());
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .max()
        .unwrap_or(0);
    if max == 0 || days.is_empty() {
        return view! {
            <figure class="chart"><figcaption>{title}</figcaption><p class="empty">{t.chart_empty}</p></figure>
        }
        .into_any();
    }
    let n = days.len().max(2) as f64 - 1.0;
    let x = move |i: usize| LEFT + (W - LEFT - 8.0) * i as f64 / n;
    let y = move |v: i64| 8.0 + (H - BOTTOM - 8.0) * (1.0 - v as f64 / max as f64);
    let lines = series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let points = s
                .values
                .iter()
                .enumerate()
                .map(|(d, v)| format!("{:.1},{:.1}", x(d), y(*v)))
                .collect::<Vec<_>>()
                .join(" ");
            let dash = (!s.granted).then_some("5 3");
            view! {
                <polyline points=points fill="none" stroke=COLORS[i] stroke-width="2" stroke-dasharray=dash>
                    <title>{s.label.clone()}</title>
                </polyline>
            }
        })
        .collect_view();
    let legend = series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let kind = if s.granted { "" } else { " ↓" };
            let dash = (!s.granted).then_some("4 2");
            view! {
                <li>
                    <svg class="swatch" viewBox="0 0 16 8" width="16" height="8" aria-hidden="true">
                        <line x1="0" y1="4" x2="16" y2="4" stroke=COLORS[i] stroke-width="3" stroke-dasharray=dash />
                    </svg>
                    {s.label.clone()}{kind}" ("{s.values.iter().sum::<i64>()}")"
                </li>
            }
        })
        .collect_view();
    let first = days.first().cloned().unwrap_or_default();
    let last = days.last().cloned().unwrap_or_default();
    let view_box = format!("0 0 {W} {H}");
    view! {
        <figure class="chart">
            <figcaption>{title}</figcaption>
            <svg viewBox=view_box role="img" aria-label=title preserveAspectRatio="none">
                <line x1=LEFT y1=H - BOTTOM x2=W y2=H - BOTTOM stroke="#888" />
                <line x1=LEFT y1="8" x2=LEFT y2=H - BOTTOM stroke="#888" />
                <text x="2" y="16" font-size="11">{max}</text>
                <text x="2" y=H - BOTTOM font-size="11">"0"</text>
                <text x=LEFT y=H - 6.0 font-size="11">{first}</text>
                <text x=W - 70.0 y=H - 6.0 font-size="11">{last}</text>
                {lines}
            </svg>
            <ul class="legend">{legend}</ul>
        </figure>
    }
    .into_any()
}

/// Every subject's events: filters, charts, the stream, exports (viewer and up).
#[component]
pub fn AdminEventsPage() -> impl IntoView {
    let lang = visitor_lang();
    let t = texts(lang);
    let (filter, before) = filter_from_query();
    let data = Resource::new_blocking(
        || (),
        move |_| {
            let f = filter.clone();
            async move {
                let me = admin_me().await?;
                let purposes = admin_purposes().await?;
                let page = admin_events(
                    f.purpose.clone(),
                    f.channel.clone(),
                    f.source.clone(),
                    f.from.clone(),
                    f.until.clone(),
                    before,
                )
                .await?;
                let chart = admin_chart(f.purpose, f.channel, f.source, f.from, f.until).await?;
                Ok::<_, crate::error::ApiError>((me, purposes, page, chart))
            }
        },
    );
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((me, purposes, page, chart)) => {
                        let name = |f: &PurposeForm| if lang == Lang::Ja { f.name_ja.clone() } else { f.name_en.clone() };
                        let options = purposes.iter().map(|p| (p.form.key.clone(), name(&p.form))).collect();
                        view! {
                            <ConsoleFrame lang me title=t.event_stream>
                                <section class="card">
                                    <h1>{t.event_stream}</h1>
                                    <EventFilters lang action="/admin/events".to_owned() filter=page.filter.clone() purposes=options />
                                    <Exports lang query=page.query.clone() />
                                </section>
                                <section class="card charts">
                                    <h2>{t.charts}</h2>
                                    <Chart lang title=t.chart_by_purpose days=chart.days.clone() series=chart.series.clone() />
                                    <Chart lang title=t.chart_by_source days=chart.days.clone() series=chart.sources.clone() />
                                </section>
                                <section class="card">
                                    <EventTable lang rows=page.rows.clone() with_subject=true />
                                    <OlderEvents lang base="/admin/events".to_owned() query=page.query.clone() next=page.next_before />
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

/// The fields of a purpose (add or change); read-only below the owner role.
#[component]
fn PurposeFields(lang: Lang, form: PurposeForm, editable: bool, new: bool) -> impl IntoView {
    let t = texts(lang);
    let ro = !editable;
    let channels = Channel::ALL
        .iter()
        .map(|c| {
            let checked = form.channels.iter().any(|k| k == c.key());
            let name = format!("channel_{}", c.key());
            view! {
                <label class="check"><input type="checkbox" name=name checked=checked disabled=ro />" "{channel_name(lang, *c)}</label>
            }
        })
        .collect_view();
    let key_field = if new {
        view! {
            <label>{t.purpose_key}<input name="key" required pattern="[a-z][a-z0-9_]{1,47}" value=form.key.clone() /></label>
        }
        .into_any()
    } else {
        view! { <input type="hidden" name="key" value=form.key.clone() /> }.into_any()
    };
    view! {
        {key_field}
        <label>{t.name_ja_label}<input name="name_ja" required maxlength="100" value=form.name_ja.clone() readonly=ro /></label>
        <label>{t.name_en_label}<input name="name_en" required maxlength="100" value=form.name_en.clone() readonly=ro /></label>
        <label>{t.description_ja_label}<textarea name="description_ja" required maxlength="1000" readonly=ro>{form.description_ja.clone()}</textarea></label>
        <label>{t.description_en_label}<textarea name="description_en" required maxlength="1000" readonly=ro>{form.description_en.clone()}</textarea></label>
        <fieldset>
            <legend>{t.mode_label}</legend>
            <label class="check"><input type="radio" name="mode" value="opt_in" checked=form.mode == "opt_in" disabled=ro />" "{t.mode_opt_in_long}</label>
            <label class="check"><input type="radio" name="mode" value="opt_out" checked=form.mode == "opt_out" disabled=ro />" "{t.mode_opt_out_long}</label>
        </fieldset>
        <fieldset>
            <legend>{t.channels_label}</legend>
            {channels}
        </fieldset>
        <label class="check"><input type="checkbox" name="marketing" checked=form.marketing disabled=ro />" "{t.marketing_label}</label>
    }
}

/// Purposes and their channels: the owner adds and changes them; every save is a version.
#[component]
pub fn AdminPurposesPage() -> impl IntoView {
    let lang = visitor_lang();
    let t = texts(lang);
    let data = Resource::new_blocking(
        || (),
        |_| async move { Ok::<_, crate::error::ApiError>((admin_me().await?, admin_purposes().await?)) },
    );
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((me, purposes)) => {
                        let owner = me.role == "owner";
                        let back = format!("/admin/purposes?lang={}", lang.key());
                        let csrf = me.csrf.clone();
                        let form_for = move |form: PurposeForm, new: bool| {
                            let submit = owner.then(|| view! { <button type="submit">{t.save}</button> });
                            view! {
                                <form method="post" action="/api/admin/save_purpose" class="stacked purpose-form">
                                    <input type="hidden" name="csrf" value=csrf.clone() />
                                    <input type="hidden" name="lang" value=lang.key() />
                                    <input type="hidden" name="return_to" value=back.clone() />
                                    <PurposeFields lang form editable=owner new />
                                    {submit}
                                </form>
                            }
                        };
                        let rows = purposes
                            .into_iter()
                            .map(|p| {
                                let versions = p
                                    .versions
                                    .iter()
                                    .map(|v| view! {
                                        <tr>
                                            <td>{v.version}</td>
                                            <td><time>{v.changed_at.clone()}</time></td>
                                            <td>{v.changed_by.clone()}</td>
                                            <td>{v.mode.clone()}</td>
                                            <td>{v.channels.join(", ")}</td>
                                        </tr>
                                    })
                                    .collect_view();
                                let title = format!("{} — {} ({})", p.form.key, p.form.name_ja, p.form.name_en);
                                view! {
                                    <section class="card purpose" data-purpose=p.form.key.clone()>
                                        <h2>{title}</h2>
                                        {form_for(p.form.clone(), false)}
                                        <details>
                                            <summary>{t.versions}" ("{p.versions.len()}")"</summary>
                                            <table class="history">
                                                <thead><tr>
                                                    <th scope="col">{t.version_label}</th>
                                                    <th scope="col">{t.when}</th>
                                                    <th scope="col">{t.changed_by}</th>
                                                    <th scope="col">{t.mode_label}</th>
                                                    <th scope="col">{t.channels_label}</th>
                                                </tr></thead>
                                                <tbody>{versions}</tbody>
                                            </table>
                                        </details>
                                    </section>
                                }
                            })
                            .collect_view();
                        let add = owner.then(|| view! {
                            <section class="card">
                                <h2>{t.add_purpose}</h2>
                                {form_for(PurposeForm { mode: "opt_in".into(), channels: vec!["email".into()], ..PurposeForm::default() }, true)}
                            </section>
                        });
                        view! {
                            <ConsoleFrame lang me title=t.purposes_title>
                                <section class="card">
                                    <h1>{t.purposes_title}</h1>
                                    <p>{t.purposes_intro}</p>
                                </section>
                                {rows}
                                {add}
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
