//! Collection points (where consents collected elsewhere were given): everyone in the console
//! reads them; owners register one or retire one. A point is never edited: its wording is
//! evidence (kept with its SHA-256), so a new wording is a new point.

use leptos::prelude::*;

use super::{ConsoleError, ConsoleFrame, with_admin};
use crate::{
    admin::admin_collection_points, domain::Lang, frame::visitor_lang, view::CollectionPointRow,
};

/// The page's wording (server-rendered only).
struct Copy {
    title: &'static str,
    intro: &'static str,
    key: &'static str,
    key_hint: &'static str,
    name_ja: &'static str,
    name_en: &'static str,
    kind: &'static str,
    location: &'static str,
    wording: &'static str,
    wording_hint: &'static str,
    notice_version: &'static str,
    add: &'static str,
    save: &'static str,
    retire: &'static str,
    retired: &'static str,
    created: &'static str,
    none: &'static str,
    form: &'static str,
    form_none: &'static str,
    form_off: &'static str,
    form_purposes: &'static str,
    form_purposes_hint: &'static str,
    form_origins: &'static str,
    form_origins_hint: &'static str,
    form_save: &'static str,
}

const JA: Copy = Copy {
    title: "収集場所",
    intro: "同意を取得した場所（ウェブフォーム、購入画面、店舗、コールセンター、紙の申込書など）。API や一括取り込みで記録する同意は、それぞれ収集場所を指定します。本人に示した文言は SHA-256 とともに証拠として保存され、変更できません。廃止した収集場所は記録として残りますが、新しい同意には使えません。",
    key: "キー",
    key_hint: "英小文字・数字・-・_（API と取り込みで使います）",
    name_ja: "名称（日本語）",
    name_en: "名称（英語）",
    kind: "種類",
    location: "URL または場所",
    wording: "本人に示した文言",
    wording_hint: "同意の際に表示した文言をそのまま",
    notice_version: "通知のバージョン",
    add: "収集場所を追加",
    save: "追加",
    retire: "廃止",
    retired: "廃止済み",
    created: "登録",
    none: "収集場所はまだありません。",
    form: "埋め込みフォーム",
    form_none: "フォームはありません。",
    form_off: "停止中",
    form_purposes: "フォームで選べる目的",
    form_purposes_hint: "目的のキーをカンマ区切りで（メールに使えるもの）。空にするとフォームを停止します。",
    form_origins: "フォームを埋め込める・送信できるオリジン",
    form_origins_hint: "1 行に 1 つ、https://ホスト[:ポート]（http はループバックのみ）。空にすると埋め込めません。",
    form_save: "フォームを保存",
};

const EN: Copy = Copy {
    title: "Collection points",
    intro: "Where consents are given (web forms, checkout, stores, call centers, paper forms…). Each consent recorded through the API or an import names its collection point. The wording shown to the person is kept as evidence with its SHA-256 and cannot be changed. A retired point stays as evidence but names no new consent.",
    key: "Key",
    key_hint: "lower-case letters, digits, - and _ (used by the API and imports)",
    name_ja: "Name (Japanese)",
    name_en: "Name (English)",
    kind: "Kind",
    location: "URL or place",
    wording: "Wording shown to the person",
    wording_hint: "exactly as it was shown when the person consented",
    notice_version: "Notice version",
    add: "Add a collection point",
    save: "Add",
    retire: "Retire",
    retired: "Retired",
    created: "Registered",
    none: "No collection point yet.",
    form: "Embeddable form",
    form_none: "No form.",
    form_off: "Switched off",
    form_purposes: "Purposes the form offers",
    form_purposes_hint: "Purpose keys separated by commas (purposes that apply to email). Empty switches the form off.",
    form_origins: "Origins that may embed the form and post to it",
    form_origins_hint: "One per line, https://host[:port] (http for loopback hosts only). Empty: it may not be framed.",
    form_save: "Save the form",
};

const fn copy(lang: Lang) -> &'static Copy {
    match lang {
        Lang::Ja => &JA,
        Lang::En => &EN,
    }
}

/// The kinds, for the form's select.
const KINDS: [&str; 8] = [
    "web_form",
    "checkout",
    "app",
    "store",
    "call_center",
    "paper",
    "import",
    "api",
];

/// The kind's name for people (the same names as the domain's).
fn kind_name(lang: Lang, kind: &str) -> &'static str {
    match (lang, kind) {
        (Lang::Ja, "web_form") => "ウェブフォーム",
        (Lang::Ja, "checkout") => "購入手続き",
        (Lang::Ja, "app") => "アプリ",
        (Lang::Ja, "store") => "店舗",
        (Lang::Ja, "call_center") => "コールセンター",
        (Lang::Ja, "paper") => "紙の申込書",
        (Lang::Ja, "import") => "一括取り込み",
        (Lang::En, "web_form") => "Web form",
        (Lang::En, "checkout") => "Checkout",
        (Lang::En, "app") => "App",
        (Lang::En, "store") => "Store",
        (Lang::En, "call_center") => "Call center",
        (Lang::En, "paper") => "Paper form",
        (Lang::En, "import") => "Import",
        _ => "API",
    }
}

/// One registered point: what it is, and (for owners) the retire button.
fn point_card(lang: Lang, p: CollectionPointRow, csrf: String, owner: bool) -> impl IntoView {
    let c = copy(lang);
    let title = format!(
        "{} ({})",
        match lang {
            Lang::Ja => &p.name_ja,
            Lang::En => &p.name_en,
        },
        p.key
    );
    let form_state = match &p.form {
        None => view! { <p class="fine">{c.form_none}</p> }.into_any(),
        Some(f) if !f.on => {
            view! { <p class="fine">{c.form_off}" (v"{f.version}")"</p> }.into_any()
        }
        Some(f) => view! {
            <p class="fine signup-form-state">
                <a href=f.url.clone()>{f.url.clone()}</a>" (v"{f.version}") · "{f.purposes.clone()}
                " · "{if f.origins.is_empty() { "'none'".to_owned() } else { f.origins.join(" ") }}
            </p>
        }
        .into_any(),
    };
    let set_form = (owner && p.retired.is_none()).then(|| {
        let (purposes, origins) = p
            .form
            .as_ref()
            .map(|f| (f.purposes.clone(), f.origins.join("\n")))
            .unwrap_or_default();
        view! {
            <form method="post" action="/api/admin/set_signup_form" class="stacked signup-form-settings">
                <input type="hidden" name="csrf" value=csrf.clone() />
                <input type="hidden" name="lang" value=lang.key() />
                <input type="hidden" name="return_to" value=format!("/admin/collection-points?lang={}", lang.key()) />
                <input type="hidden" name="key" value=p.key.clone() />
                <label>{c.form_purposes}<input name="purposes" value=purposes maxlength="2000" /></label>
                <p class="fine">{c.form_purposes_hint}</p>
                <label>{c.form_origins}<textarea name="origins" rows="3" maxlength="6000">{origins}</textarea></label>
                <p class="fine">{c.form_origins_hint}</p>
                <button type="submit" class="secondary save-signup-form">{c.form_save}</button>
            </form>
        }
    });
    let retire = (owner && p.retired.is_none()).then(|| {
        view! {
            <form method="post" action="/api/admin/retire_collection_point" class="inline">
                <input type="hidden" name="csrf" value=csrf />
                <input type="hidden" name="lang" value=lang.key() />
                <input type="hidden" name="return_to" value=format!("/admin/collection-points?lang={}", lang.key()) />
                <input type="hidden" name="key" value=p.key.clone() />
                <button type="submit" class="secondary retire-collection-point">{c.retire}</button>
            </form>
        }
    });
    let status = p
        .retired
        .clone()
        .map(|r| view! { <p class="fine retired"><strong>{c.retired}</strong>" "{r}</p> });
    view! {
        <section class="card collection-point" data-collection-point=p.key.clone()>
            <h2>{title}</h2>
            {status}
            <dl>
                <dt>{c.kind}</dt><dd>{p.kind_name.clone()}</dd>
                <dt>{c.location}</dt><dd>{p.location.clone()}</dd>
                <dt>{c.notice_version}</dt><dd>{p.notice_version.clone().unwrap_or_default()}</dd>
                <dt>{c.wording}</dt><dd><blockquote class="wording">{p.wording.clone()}</blockquote><span class="fine">"SHA-256 "<code>{p.wording_sha256.clone()}</code></span></dd>
                <dt>{c.created}</dt><dd>{p.created.clone()}" · "{p.created_by.clone()}</dd>
            </dl>
            <h3>{c.form}</h3>
            {form_state}
            {set_form}
            {retire}
        </section>
    }
}

#[component]
pub fn AdminCollectionPointsPage() -> impl IntoView {
    let lang = visitor_lang();
    let c = copy(lang);
    let data = Resource::new_blocking(|| (), |_| with_admin(admin_collection_points()));
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((me, points)) => {
                        let owner = me.role == "owner";
                        let csrf = me.csrf.clone();
                        let list = if points.is_empty() {
                            view! { <section class="card"><p>{c.none}</p></section> }.into_any()
                        } else {
                            points
                                .into_iter()
                                .map(|p| point_card(lang, p, csrf.clone(), owner))
                                .collect_view()
                                .into_any()
                        };
                        let kinds = KINDS
                            .iter()
                            .map(|k| view! { <option value=*k>{kind_name(lang, k)}</option> })
                            .collect_view();
                        let add = owner.then(|| view! {
                            <section class="card">
                                <h2>{c.add}</h2>
                                <form method="post" action="/api/admin/add_collection_point" class="stacked collection-point-form">
                                    <input type="hidden" name="csrf" value=csrf.clone() />
                                    <input type="hidden" name="lang" value=lang.key() />
                                    <input type="hidden" name="return_to" value=format!("/admin/collection-points?lang={}", lang.key()) />
                                    <label>{c.key}<input name="key" required pattern="[a-z][a-z0-9_\\-]{1,47}" /></label>
                                    <p class="fine">{c.key_hint}</p>
                                    <label>{c.name_ja}<input name="name_ja" required maxlength="500" /></label>
                                    <label>{c.name_en}<input name="name_en" required maxlength="500" /></label>
                                    <label>{c.kind}<select name="kind" required>{kinds}</select></label>
                                    <label>{c.location}<input name="location" required maxlength="500" /></label>
                                    <label>{c.wording}<textarea name="wording" required rows="4" maxlength="20000"></textarea></label>
                                    <p class="fine">{c.wording_hint}</p>
                                    <label>{c.notice_version}<input name="notice_version" maxlength="64" /></label>
                                    <button type="submit" class="add-collection-point">{c.save}</button>
                                </form>
                            </section>
                        });
                        view! {
                            <ConsoleFrame lang me title=c.title>
                                <section class="card">
                                    <h1>{c.title}</h1>
                                    <p>{c.intro}</p>
                                </section>
                                {add}
                                {list}
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
