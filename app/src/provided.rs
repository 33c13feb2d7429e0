//! The records of what was provided of a person's data to third parties (APPI 第29条), as a
//! table: on the person's own page and on their page in the console.

use leptos::prelude::*;

use crate::{domain::Lang, i18n::texts};

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
            let withdrawal = p.withdrawal.map(|w| match w.delivered_at {
                Some(when) => view! {
                    <span class="withdrawal-delivered">
                        {t.withdrawal_delivered.replace("{recipient}", &p.recipient).replace("{when}", &when)}
                    </span>
                }
                .into_any(),
                None => view! {
                    <span class="withdrawal-not-delivered">
                        {t.withdrawal_not_delivered.replace("{recipient}", &p.recipient)}
                    </span>
                }
                .into_any(),
            });
            view! {
                <tr>
                    <td><crate::local_time::Time moment=p.when /></td>
                    <td>{p.recipient.clone()}<br /><span class="fine">{p.recipient_address}</span></td>
                    <td>{p.data_items}</td>
                    <td>{withdrawal}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card provisions">
            <h2>{t.provisions_title}</h2>
            {intro.then(|| view! { <p>{t.provisions_intro}</p> })}
            <table class="history">
                <thead><tr><th scope="col">{t.when}</th><th scope="col">{t.recipient_label}</th><th scope="col">{t.data_items_label}</th><th scope="col">{t.withdrawal_label}</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}
