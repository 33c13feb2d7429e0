//! Purposes and their channels: owners add and change them; every save is a version.

use leptos::prelude::*;

use super::{ConsoleError, ConsoleFrame, with_admin};
use crate::{
    admin::admin_purposes,
    domain::{Channel, Lang},
    frame::visitor_lang,
    i18n::{channel_name, texts},
    view::PurposeForm,
};

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
    let kinds = [
        ("advertising", t.kind_advertising),
        ("ad_targeting", t.kind_ad_targeting),
        ("third_party_sharing", t.kind_third_party_sharing),
        ("other", t.kind_other),
    ]
    .into_iter()
    .map(|(k, label)| {
        let selected = form.kind == k;
        view! { <option value=k selected=selected>{label}</option> }
    })
    .collect_view();
    // No kind is chosen for the owner: the rules that protect people depend on it (R39, R42).
    let choose = view! { <option value="" selected=form.kind.is_empty() disabled=true>{t.kind_choose}</option> };
    let jurisdictions = [
        ("jp", t.jurisdiction_jp),
        ("eu", t.jurisdiction_eu),
        ("us_ca", t.jurisdiction_us_ca),
    ]
    .into_iter()
    .map(|(j, label)| {
        let current = form
            .jurisdiction_modes
            .iter()
            .find(|(k, _)| k == j)
            .map(|(_, m)| m.clone())
            .unwrap_or_default();
        let options = [
            ("", t.same_as_default),
            ("opt_in", t.mode_opt_in_long),
            ("opt_out", t.mode_opt_out_long),
        ]
        .into_iter()
        .map(|(m, text)| view! { <option value=m selected=current == m>{text}</option> })
        .collect_view();
        view! {
            <label>{label}<select name=format!("mode_{j}") disabled=ro>{options}</select></label>
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
        <label>{t.kind_label}
            <select name="kind" required=true disabled=ro>{choose}{kinds}</select>
        </label>
        <fieldset>
            <legend>{t.jurisdiction_modes_label}</legend>
            {jurisdictions}
        </fieldset>
        <fieldset>
            <legend>{t.legal_label}</legend>
            <label>{t.soft_opt_in_label}<input name="soft_opt_in" maxlength="300" value=form.soft_opt_in.clone() readonly=ro /></label>
            <label>{t.ppc_filed_on_label}<input type="date" name="ppc_filed_on" value=form.ppc_filed_on.clone() readonly=ro /></label>
            <label>{t.ppc_number_label}<input name="ppc_number" maxlength="100" value=form.ppc_number.clone() readonly=ro /></label>
            <label class="check"><input type="checkbox" name="sensitive" checked=form.sensitive disabled=ro />" "{t.sensitive_label}</label>
            <label class="check"><input type="checkbox" name="improperly_acquired" checked=form.improperly_acquired disabled=ro />" "{t.improperly_acquired_label}</label>
            <label class="check"><input type="checkbox" name="received_by_opt_out" checked=form.received_by_opt_out disabled=ro />" "{t.received_by_opt_out_label}</label>
            <label>{t.data_items_label}<input name="data_items" maxlength="500" value=form.data_items.clone() readonly=ro /></label>
            <label>{t.acquired_by_label}<input name="acquired_by" maxlength="500" value=form.acquired_by.clone() readonly=ro /></label>
            <label>{t.provided_by_label}<input name="provided_by" maxlength="500" value=form.provided_by.clone() readonly=ro /></label>
            <label>
                {match lang {
                    Lang::Ja => "同意の有効期間（日数。空欄は撤回まで。CASL の黙示の同意は購入後 730 日・問い合わせ後 180 日）",
                    Lang::En => "Consent lasts (days; empty: until withdrawn. CASL implied consent: 730 after a purchase, 180 after an inquiry)",
                }}
                <input type="number" name="validity_days" min="1" max="3650" value=form.validity_days.clone() readonly=ro />
            </label>
        </fieldset>
    }
}

/// Purposes and their channels: the owner adds and changes them; every save is a version.
#[component]
pub fn AdminPurposesPage() -> impl IntoView {
    let lang = visitor_lang();
    let t = texts(lang);
    let data = Resource::new_blocking(|| (), |_| with_admin(admin_purposes()));
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
