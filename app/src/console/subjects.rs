//! The console's people: search (the console's home) and a subject's page (choices, the
//! operator's change form, timeline, provisions, erasure).

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::{
    ConsoleError, ConsoleFrame,
    events::{EventFilters, EventTable, Exports, OlderEvents, filter_from_query, join_query},
    state_name, with_admin,
};
use crate::{
    admin::{admin_search, admin_subject},
    domain::Lang,
    frame::visitor_lang,
    i18n::{channel_name, texts},
    view::SubjectSummary,
};

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
                    <td>{crate::i18n::jurisdiction_name(lang, &s.jurisdiction)}</td>
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
            let subject = admin_subject(
                id.clone(),
                f.purpose,
                f.channel,
                f.source,
                f.from,
                f.until,
                before,
            );
            let do_not_sell = crate::admin::admin_do_not_sell(id);
            with_admin(async move {
                let (v, d) = futures_util::future::join(subject, do_not_sell).await;
                Ok::<_, crate::error::ApiError>((v?, d?))
            })
        }
    });
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((me, (v, do_not_sell))) => {
                        let erased = v.erasure.is_some();
                        let can_change = me.role != "viewer" && !erased;
                        let erasure = view! {
                            <super::erasure::ErasureSection
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
                            <crate::provided::Provisions lang rows=v.provisions.clone() intro=false />
                        });
                        let do_not_sell = view! {
                            <super::do_not_sell::DoNotSellSection
                                lang
                                subject=v.subject.id.clone()
                                csrf=me.csrf.clone()
                                view=do_not_sell
                                purposes=v.purposes.iter().map(|p| (p.key.clone(), p.name.clone())).collect()
                                can_ask=can_change
                            />
                        };
                        // Issue 34: pauses in force and frequencies chosen.
                        let pause_summary = view! {
                            <crate::pause::PauseSummary
                                lang
                                pauses=v.pauses.clone()
                                frequencies=v.frequencies.clone()
                            />
                        };
                        let label = v.subject.email.clone().unwrap_or_else(|| v.subject.external_id.clone());
                        let base = format!("/admin/subjects/{}", v.subject.id);
                        let purpose_options: Vec<(String, String)> =
                            v.purposes.iter().map(|p| (p.key.clone(), p.name.clone())).collect();
                        let export_query = join_query(&v.events.query, &format!("subject={}", v.subject.id));
                        view! {
                            <ConsoleFrame lang me title=t.subjects>
                                <section class="card">
                                    <h1>{label}</h1>
                                    <p class="fine">{t.external_id}": "{v.subject.external_id.clone()}" · "{v.subject.id.clone()}" · "{t.jurisdiction_label}": "{crate::i18n::jurisdiction_name(lang, &v.subject.jurisdiction)}" · "{t.time_zone_label}": "{v.subject.time_zone.clone()}</p>
                                    <div class="matrix-wrap">
                                        <table class="matrix admin-matrix">
                                            <thead><tr><th scope="col">{t.purpose}</th>{header}</tr></thead>
                                            <tbody>{rows}</tbody>
                                        </table>
                                    </div>
                                </section>
                                {pause_summary}
                                {change_form}
                                {do_not_sell}
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
