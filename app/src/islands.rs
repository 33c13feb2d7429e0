//! The interactive part of the preference center. Rendered on the server as plain forms that post
//! to the server functions (works without JavaScript); hydrated, it toggles in place with a pending
//! state, and rolls back with a message when the server refuses.

use leptos::{either::Either, ev::SubmitEvent, prelude::*, task::spawn_local};

use crate::{
    api::{set_consent, stop_all_marketing},
    domain::{Channel, ConsentState, Mode},
    error::ApiError,
    i18n::{channel_name, error_message, texts},
    local_time::Time,
    view::PreferenceView,
};

#[derive(Clone, Copy, PartialEq)]
enum Notice {
    Saving,
    Saved,
    Failed(&'static str),
}

#[island]
pub fn PreferenceCenter(view: PreferenceView) -> impl IntoView {
    let lang = view.lang;
    let t = texts(lang);
    let token = view.token.clone();
    let csrf = view.csrf.clone();
    let render_id = view.render_id.clone();
    // The matrix's shape is fixed for the page; only the values change.
    let shape = view.purposes.clone();
    let channels = view.channels.clone();
    let has_marketing = view.purposes.iter().any(|p| p.marketing);
    let page = RwSignal::new(view);
    let busy = RwSignal::new(false);
    let pending = RwSignal::new(None::<(String, Channel)>);
    let notice = RwSignal::new(None::<Notice>);
    let clicks = StoredValue::new(0u32);
    // Effects run only in the browser: marks the island as live (tests and styles can tell).
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    // The pause form, drawn by the server outside this island, offers what is on: in step.
    Effect::new(move |_| page.with(sync_pause_form));

    // Runs one server call with an optimistic value; restores the page if it fails.
    let run = move |optimistic: PreferenceView,
                    call: std::pin::Pin<
        Box<dyn Future<Output = Result<PreferenceView, ApiError>>>,
    >| {
        let before = page.get_untracked();
        page.set(optimistic);
        busy.set(true);
        notice.set(Some(Notice::Saving));
        spawn_local(async move {
            match call.await {
                Ok(updated) => {
                    page.set(updated);
                    notice.set(Some(Notice::Saved));
                }
                Err(e) => {
                    page.set(before);
                    notice.set(Some(Notice::Failed(error_message(lang, &e.code))));
                }
            }
            pending.set(None);
            busy.set(false);
        });
    };
    let next_key = move || {
        clicks.update_value(|c| *c += 1);
        format!(
            "{}-js{}",
            page.with_untracked(|p| p.render_id.clone()),
            clicks.get_value()
        )
    };

    let cell = move |pi: usize, ci: usize| page.with(|p| p.purposes[pi].cells[ci].clone());

    let header = channels
        .iter()
        .map(|&c| view! { <th scope="col">{channel_name(lang, c)}</th> })
        .collect_view();

    let rows = shape
        .into_iter()
        .enumerate()
        .map(|(pi, row)| {
            let crate::view::PurposeRow { key: purpose, name, description, mode, cells, .. } = row;
            let default_label = match mode {
                Mode::OptIn => t.default_opt_in,
                Mode::OptOut => t.default_opt_out,
            };
            let mode_label = match mode {
                Mode::OptIn => t.mode_opt_in,
                Mode::OptOut => t.mode_opt_out,
            };
            let row_id = format!("purpose-{purpose}");
            let cells = cells
                .into_iter()
                .enumerate()
                .map(|(ci, crate::view::Cell { channel, applies, .. })| {
                    if !applies {
                        return Either::Left(view! {
                            <td class="na"><span aria-hidden="true">"—"</span><span class="sr-only">{t.not_applicable}</span></td>
                        });
                    }
                    let purpose = purpose.clone();
                    let label = format!("{name}: {}", channel_name(lang, channel));
                    let is_pending = {
                        let purpose = purpose.clone();
                        move || pending.with(|p| p.as_ref().is_some_and(|(k, c)| *k == purpose && *c == channel))
                    };
                    let next_state = move || ConsentState::from_bool(!cell(pi, ci).on).key();
                    let form_key = {
                        let purpose = purpose.clone();
                        let render_id = render_id.clone();
                        move || format!("{render_id}-{purpose}-{channel}-{}", next_state())
                    };
                    let on_submit = {
                        let purpose = purpose.clone();
                        let token = token.clone();
                        let csrf = csrf.clone();
                        move |ev: SubmitEvent| {
                            ev.prevent_default();
                            if busy.get_untracked() {
                                return;
                            }
                            let on = !cell(pi, ci).on;
                            pending.set(Some((purpose.clone(), channel)));
                            let optimistic = page.get_untracked().with_cell(&purpose, channel, on);
                            let call = set_consent(
                                token.clone(),
                                purpose.clone(),
                                channel.key().to_owned(),
                                ConsentState::from_bool(on).key().to_owned(),
                                Some(lang.key().to_owned()),
                                Some(next_key()),
                                csrf.clone(),
                            );
                            run(optimistic, Box::pin(call));
                        }
                    };
                    Either::Right(view! {
                        <td data-channel=channel.key() data-label=channel_name(lang, channel)>
                            <form method="post" action="/api/set_consent" on:submit=on_submit>
                                <input type="hidden" name="token" value=token.clone() />
                                <input type="hidden" name="purpose" value=purpose.clone() />
                                <input type="hidden" name="channel" value=channel.key() />
                                <input type="hidden" name="state" prop:value=next_state value=next_state />
                                <input type="hidden" name="lang" value=lang.key() />
                                <input type="hidden" name="idempotency_key" prop:value=form_key.clone() value=form_key />
                                <input type="hidden" name="csrf" value=csrf.clone() />
                                <button
                                    type="submit"
                                    class="switch"
                                    role="switch"
                                    aria-label=label
                                    aria-checked=move || if cell(pi, ci).on { "true" } else { "false" }
                                    aria-busy=move || if is_pending() { "true" } else { "false" }
                                    title=move || if cell(pi, ci).on { t.turn_off } else { t.turn_on }
                                >
                                    <span class="track" aria-hidden="true"><span class="thumb"></span></span>
                                    <span class="state">{move || if cell(pi, ci).on { t.on } else { t.off }}</span>
                                </button>
                            </form>
                            <span class="origin">
                                {move || if cell(pi, ci).choice.is_some() { t.your_choice } else { default_label }}
                            </span>
                            {move || cell(pi, ci).updated_at.map(|when| view! {
                                <span class="changed">{t.last_changed}" "<Time moment=when /></span>
                            })}
                        </td>
                    })
                })
                .collect_view();
            view! {
                <tr id=row_id>
                    <th scope="row">
                        <span class="purpose-name">{name.clone()}</span>
                        <span class="mode">{mode_label}</span>
                        <span class="description">{description}</span>
                    </th>
                    {cells}
                </tr>
            }
        })
        .collect_view();

    let stop_all = has_marketing.then(|| {
        let token = token.clone();
        let key = format!("{render_id}-stop");
        let on_submit = {
            let token = token.clone();
            let csrf = csrf.clone();
            move |ev: SubmitEvent| {
                ev.prevent_default();
                if busy.get_untracked() {
                    return;
                }
                let mut optimistic = page.get_untracked();
                for p in optimistic.purposes.iter_mut().filter(|p| p.marketing) {
                    for c in p.cells.iter_mut().filter(|c| c.applies) {
                        c.on = false;
                        c.choice = Some(ConsentState::Withdrawn);
                    }
                }
                let call = stop_all_marketing(
                    token.clone(),
                    Some(lang.key().to_owned()),
                    Some(next_key()),
                    csrf.clone(),
                );
                run(optimistic, Box::pin(call));
            }
        };
        view! {
            <form class="stop-all" method="post" action="/api/stop_all_marketing" on:submit=on_submit>
                <input type="hidden" name="token" value=token />
                <input type="hidden" name="lang" value=lang.key() />
                <input type="hidden" name="idempotency_key" value=key />
                <input type="hidden" name="csrf" value=csrf.clone() />
                <button type="submit" class="danger" aria-disabled=move || busy.get().to_string()>{t.stop_all}</button>
                <p class="help">{t.stop_all_help}</p>
            </form>
        }
    });

    let history = move || {
        page.with(|p| {
            if p.history.is_empty() {
                return Either::Left(view! { <p class="empty">{t.history_empty}</p> });
            }
            let state_name = |s: Option<ConsentState>| match s {
                None => t.not_chosen,
                Some(ConsentState::Granted) => t.granted,
                Some(ConsentState::Withdrawn) => t.withdrawn,
            };
            let rows = p
                .history
                .iter()
                .map(|h| {
                    view! {
                        <tr>
                            <td><Time moment=h.when.clone() /></td>
                            <td>{h.purpose_name.clone()}" · "{channel_name(lang, h.channel)}</td>
                            <td>{state_name(h.from)}" → "<strong>{state_name(Some(h.to))}</strong></td>
                            <td>
                                {h.source.clone()}
                                {h.collection_point.clone().map(|n| view! { <br /><span class="fine collection-point">{n}</span> })}
                            </td>
                        </tr>
                    }
                })
                .collect_view();
            Either::Right(view! {
                <table class="history">
                    <thead>
                        <tr>
                            <th scope="col">{t.when}</th>
                            <th scope="col">{t.purpose}</th>
                            <th scope="col">{t.change}</th>
                            <th scope="col">{t.via}</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            })
        })
    };

    let notice_view = move || {
        notice.get().map(|n| {
            let (class, text, alert) = match n {
                Notice::Saving => ("notice", t.saving, None),
                Notice::Saved => ("notice ok", t.saved, None),
                Notice::Failed(msg) => ("notice error", msg, Some("alert")),
            };
            view! { <span class=class role=alert>{text}</span> }
        })
    };

    view! {
        <section
            class="card preferences"
            aria-labelledby="preferences-title"
            data-hydrated=move || if hydrated.get() { "true" } else { "false" }
        >
            <h1 id="preferences-title">{t.preferences_title}</h1>
            <p class="subject">{t.signed_in_as}": "<strong>{page.with_untracked(|p| p.subject_label.clone())}</strong></p>
            <p>{t.preferences_intro}</p>
            <p class="status" role="status" aria-live="polite">{notice_view}</p>
            <div class="matrix-wrap">
                <table class="matrix">
                    <thead>
                        <tr>
                            <th scope="col">{t.purpose}</th>
                            {header}
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            {stop_all}
            <p class="fine">{t.notice_version}": "{page.with_untracked(|p| p.notice_version.clone())}" · "{t.no_js_note}</p>
        </section>
        <section class="card" aria-labelledby="history-title">
            <h2 id="history-title">{t.history}</h2>
            {history}
        </section>
    }
}

/// Enables in the pause form (`pause::PauseSection`) the lines of the consents on now and
/// disables the others; shows the form only while something is on.
#[cfg(feature = "hydrate")]
fn sync_pause_form(view: &PreferenceView) {
    let doc = document();
    let set = |selector: &str, attribute: &str, value: bool| {
        if let Ok(Some(el)) = doc.query_selector(selector) {
            let _ = el.toggle_attribute_with_force(attribute, value);
        }
    };
    let mut any_on = false;
    let mut marketing_on = false;
    for p in &view.purposes {
        for c in p.cells.iter().filter(|c| c.applies) {
            let selector = format!("[data-pause-target=\"{}/{}\"]", p.key, c.channel.key());
            set(&selector, "disabled", !c.on);
            set(&selector, "hidden", !c.on);
            any_on |= c.on;
            marketing_on |= c.on && p.marketing;
        }
    }
    set(
        "[data-pause-target=\"all_marketing\"]",
        "disabled",
        !marketing_on,
    );
    set(
        "[data-pause-target=\"all_marketing\"]",
        "hidden",
        !marketing_on,
    );
    set("form.pause-form", "hidden", !any_on);
}

#[cfg(not(feature = "hydrate"))]
fn sync_pause_form(_: &PreferenceView) {}
