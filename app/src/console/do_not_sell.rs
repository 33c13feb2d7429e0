//! The subject page's Do Not Sell or Share part (CCPA; R57): the person's requests (when, how,
//! what they withdrew), until when nobody may ask them to allow sale or sharing again, and for
//! operators "ask to allow again", a plain form the services refuse within those twelve months.

use leptos::prelude::*;

use crate::{admin::DoNotSellAdminView, domain::Lang, i18n::do_not_sell::console};

#[component]
pub(crate) fn DoNotSellSection(
    lang: Lang,
    subject: String,
    csrf: String,
    view: DoNotSellAdminView,
    /// (key, name) of every purpose.
    purposes: Vec<(String, String)>,
    can_ask: bool,
) -> impl IntoView {
    let c = console(lang);
    let rows = if view.rows.is_empty() {
        view! { <p class="empty" data-do-not-sell-requests="0">{c.none}</p> }.into_any()
    } else {
        let rows = view
            .rows
            .iter()
            .map(|r| {
                view! {
                    <tr data-via=r.via_key.clone()>
                        <td><time>{r.received.clone()}</time></td>
                        <td>{r.via.clone()}</td>
                        <td>{r.withdrawn}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="do-not-sell-requests">
                <thead><tr><th scope="col">{c.received}</th><th scope="col">{c.via}</th><th scope="col">{c.withdrawn}</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    let until = view.ask_refused_until.clone().map(|u| {
        view! { <p class="notice" data-ask-refused-until=u.clone()>{c.ask_refused_until}" "<time>{u.clone()}</time></p> }
    });
    let ask = can_ask.then(|| {
        let options = purposes
            .iter()
            .map(|(k, n)| view! { <option value=k.clone()>{n.clone()}</option> })
            .collect_view();
        let back = format!("/admin/subjects/{subject}?lang={}", lang.key());
        view! {
            <h3>{c.ask_heading}</h3>
            <p class="help">{c.ask_hint}</p>
            <form method="post" action="/api/admin/ask_again" class="stacked">
                <input type="hidden" name="csrf" value=csrf.clone() />
                <input type="hidden" name="lang" value=lang.key() />
                <input type="hidden" name="return_to" value=back />
                <input type="hidden" name="subject" value=subject.clone() />
                <label for="ask-purpose">{crate::i18n::texts(lang).purpose}</label>
                <select id="ask-purpose" name="purpose">{options}</select>
                <button type="submit" class="secondary">{c.ask_button}</button>
            </form>
        }
    });
    view! {
        <section class="card do-not-sell">
            <h2>{c.heading}</h2>
            {rows}
            {until}
            {ask}
        </section>
    }
}
