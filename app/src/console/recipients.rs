//! Third-party recipients (APPI 第27条: name, address, representative): everyone in the console
//! reads them; owners add one or change one. Provisions to them are recorded through the API
//! (`POST /api/v1/provisions`) and shown on each subject's page.

use leptos::prelude::*;

use super::{ConsoleError, ConsoleFrame, with_admin};
use crate::{admin::admin_recipients, domain::Lang, frame::visitor_lang, view::RecipientRow};

/// The page's wording (server-rendered only).
struct Copy {
    title: &'static str,
    intro: &'static str,
    id: &'static str,
    id_hint: &'static str,
    name: &'static str,
    address: &'static str,
    representative: &'static str,
    save: &'static str,
    add: &'static str,
    none: &'static str,
}

const JA: Copy = Copy {
    title: "第三者提供の提供先",
    intro: "個人データを提供する第三者（個人情報保護法 第27条）。提供のたびに、送信側のシステムが API で提供の記録（第29条）を残します。記録は本人の画面と各対象者のページに表示され、3 年以上保存されます。",
    id: "ID",
    id_hint: "英小文字・数字・- ・_（API で使います）",
    name: "名称",
    address: "住所",
    representative: "代表者",
    save: "保存",
    add: "提供先を追加",
    none: "提供先はまだありません。",
};

const EN: Copy = Copy {
    title: "Third-party recipients",
    intro: "The third parties personal data may be provided to (APPI Art. 27). Each provision is recorded by the sender's system through the API (Art. 29); the records are shown to the person and on each subject's page, and kept at least 3 years.",
    id: "Id",
    id_hint: "lower-case letters, digits, - and _ (used in the API)",
    name: "Name",
    address: "Address",
    representative: "Representative",
    save: "Save",
    add: "Add a recipient",
    none: "No recipient yet.",
};

const fn copy(lang: Lang) -> &'static Copy {
    match lang {
        Lang::Ja => &JA,
        Lang::En => &EN,
    }
}

/// The fields of a recipient; the id is fixed once saved.
#[component]
fn RecipientFields(lang: Lang, r: RecipientRow, editable: bool, new: bool) -> impl IntoView {
    let c = copy(lang);
    let ro = !editable;
    view! {
        <label>{c.id}<input name="id" required pattern="[a-z][a-z0-9_\\-]{1,47}" value=r.id readonly=ro || !new /></label>
        {new.then(|| view! { <p class="fine">{c.id_hint}</p> })}
        <label>{c.name}<input name="name" required maxlength="300" value=r.name readonly=ro /></label>
        <label>{c.address}<input name="address" required maxlength="300" value=r.address readonly=ro /></label>
        <label>{c.representative}<input name="representative" required maxlength="300" value=r.representative readonly=ro /></label>
    }
}

#[component]
pub fn AdminRecipientsPage() -> impl IntoView {
    let lang = visitor_lang();
    let c = copy(lang);
    let data = Resource::new_blocking(|| (), |_| with_admin(admin_recipients()));
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((me, recipients)) => {
                        let owner = me.role == "owner";
                        let csrf = me.csrf.clone();
                        let form = move |r: RecipientRow, new: bool| {
                            let submit = owner.then(|| view! { <button type="submit" class="save-recipient">{c.save}</button> });
                            view! {
                                <form method="post" action="/api/admin/save_recipient" class="stacked recipient-form">
                                    <input type="hidden" name="csrf" value=csrf.clone() />
                                    <input type="hidden" name="lang" value=lang.key() />
                                    <input type="hidden" name="return_to" value=format!("/admin/recipients?lang={}", lang.key()) />
                                    <RecipientFields lang r editable=owner new />
                                    {submit}
                                </form>
                            }
                        };
                        let list = if recipients.is_empty() {
                            view! { <section class="card"><p>{c.none}</p></section> }.into_any()
                        } else {
                            recipients
                                .into_iter()
                                .map(|r| {
                                    let title = format!("{} ({})", r.name, r.id);
                                    let id = r.id.clone();
                                    view! {
                                        <section class="card recipient" data-recipient=id>
                                            <h2>{title}</h2>
                                            {form(r, false)}
                                        </section>
                                    }
                                })
                                .collect_view()
                                .into_any()
                        };
                        let add = owner.then(|| view! {
                            <section class="card">
                                <h2>{c.add}</h2>
                                {form(RecipientRow::default(), true)}
                            </section>
                        });
                        view! {
                            <ConsoleFrame lang me title=c.title>
                                <section class="card">
                                    <h1>{c.title}</h1>
                                    <p>{c.intro}</p>
                                </section>
                                {list}
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

/// The nav link's label.
pub(crate) const fn nav_label(lang: Lang) -> &'static str {
    copy(lang).title
}
