//! The console's notices: every version (newest first, with its diff) and, for owners, the form
//! that publishes a new one.

use leptos::prelude::*;

use super::{ConsoleError, ConsoleFrame, with_admin};
use crate::{
    admin::admin_notices,
    domain::Lang,
    frame::visitor_lang,
    notices::{Diff, copy},
    view::NoticeSummary,
};

/// The console's notices: every version (newest first, with its diff) and, for owners, the form
/// that publishes a new one.
#[component]
pub fn AdminNoticesPage() -> impl IntoView {
    let lang = visitor_lang();
    let c = copy(lang);
    let data = Resource::new_blocking(|| (), |_| with_admin(admin_notices()));
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((me, notices)) => {
                        let owner = me.role == "owner";
                        let list = if notices.is_empty() {
                            view! { <p>{c.none}</p> }.into_any()
                        } else {
                            notices.into_iter().map(|n| notice_card(lang, n)).collect_view().into_any()
                        };
                        let csrf = me.csrf.clone();
                        let form = owner.then(|| view! {
                            <section class="card">
                                <h2>{c.publish_title}</h2>
                                <form method="post" action="/api/admin/publish_notice" class="stacked notice-form">
                                    <input type="hidden" name="csrf" value=csrf />
                                    <input type="hidden" name="lang" value=lang.key() />
                                    <input type="hidden" name="return_to" value=format!("/admin/notices?lang={}", lang.key()) />
                                    <label>{c.version}<input name="version" required maxlength="64" pattern="[A-Za-z0-9._\\-]+" /></label>
                                    <label>{c.effective_hint}<input type="datetime-local" name="effective_at" /></label>
                                    <label class="check"><input type="checkbox" name="material" />" "{c.material}</label>
                                    <p class="fine">{c.material_hint}</p>
                                    <label>{c.purposes}<input name="purposes" maxlength="500" /></label>
                                    <p class="fine">{c.purposes_hint}</p>
                                    <label>{c.summary_ja}<textarea name="summary_ja" rows="2" maxlength="2000"></textarea></label>
                                    <label>{c.summary_en}<textarea name="summary_en" rows="2" maxlength="2000"></textarea></label>
                                    <label>{c.text_ja}<textarea name="text_ja" rows="10" required></textarea></label>
                                    <label>{c.text_en}<textarea name="text_en" rows="10" required></textarea></label>
                                    <button type="submit">{c.publish}</button>
                                </form>
                            </section>
                        });
                        view! {
                            <ConsoleFrame lang me title=c.console_title>
                                <section class="card">
                                    <h1>{c.console_title}</h1>
                                    <p>{c.console_intro}</p>
                                </section>
                                {list}
                                {form}
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

fn notice_card(lang: Lang, n: NoticeSummary) -> impl IntoView {
    let c = copy(lang);
    let status = if n.in_force {
        Some(c.in_force)
    } else if n.upcoming {
        Some(c.upcoming)
    } else {
        None
    };
    let purposes = if n.purposes.is_empty() {
        c.all_purposes.to_owned()
    } else {
        n.purposes.join(", ")
    };
    let material = n.material.then(|| {
        view! {
            <p><strong>{c.material}</strong>" · "{c.purposes}": "{purposes}</p>
            <p class="notice-summary">{n.summary.clone()}</p>
        }
    });
    view! {
        <section class="card notice-version" data-version=n.version.clone()>
            <h2>{c.version}" "{n.version.clone()}" "{status.map(|s| view! { <span class="badge">{s}</span> })}</h2>
            <p>{c.effective}": "<time>{n.effective}</time>" · "{c.published_by}": "{n.published_by}</p>
            {material}
            <details>
                <summary>{c.diff}</summary>
                <Diff rows=n.diff />
            </details>
        </section>
    }
}
