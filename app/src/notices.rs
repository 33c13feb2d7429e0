//! Versioned privacy notices on the person's page: the re-confirmation a person is asked for after
//! a material change (what changed, confirm or withdraw, R31) and the renewal of a consent about to
//! end; and the wording and diff the console's notices page shares (`console/notices.rs`).
//! Rendered on the server only: none of this is in the browser bundle, and every form works
//! without JavaScript.

use leptos::prelude::*;

use crate::{
    domain::Lang,
    local_time::Time,
    view::{DiffRow, ReconfirmView, RenewalRow},
};

/// The wording in one language.
pub(crate) struct Copy {
    pub title: &'static str,
    pub intro: &'static str,
    pub summary: &'static str,
    pub what_changed: &'static str,
    pub affects: &'static str,
    pub confirm: &'static str,
    pub withdraw: &'static str,
    pub until: &'static str,
    pub effective: &'static str,
    pub console_title: &'static str,
    pub console_intro: &'static str,
    pub version: &'static str,
    pub material: &'static str,
    pub material_hint: &'static str,
    pub purposes: &'static str,
    pub purposes_hint: &'static str,
    pub effective_hint: &'static str,
    pub summary_ja: &'static str,
    pub summary_en: &'static str,
    pub text_ja: &'static str,
    pub text_en: &'static str,
    pub publish: &'static str,
    pub publish_title: &'static str,
    pub in_force: &'static str,
    pub upcoming: &'static str,
    pub all_purposes: &'static str,
    pub published_by: &'static str,
    pub diff: &'static str,
    pub none: &'static str,
    /// After a consent's state in the console: awaiting re-confirmation.
    pub pending: &'static str,
    pub renew_title: &'static str,
    pub renew_intro: &'static str,
    pub ends: &'static str,
    pub ended: &'static str,
    pub renew: &'static str,
}

const JA: Copy = Copy {
    title: "プライバシーポリシーが変更されました",
    intro: "以前の版でいただいた同意に関わる重要な変更があります。変更点をご確認のうえ、引き続き同意するか、同意を撤回するかを選んでください。",
    summary: "変更の概要",
    what_changed: "変更点（- 削除、+ 追加）",
    affects: "対象の利用目的",
    confirm: "変更後の内容で同意する",
    withdraw: "同意を撤回する",
    until: "ご回答までの間、オプトインの利用目的は「同意なし」として扱います。",
    effective: "施行",
    console_title: "プライバシーポリシーの版",
    console_intro: "公開した版は変更・削除できません（同意の証拠です）。すべての変更の記録には、その時点で有効な版が残ります。重要な変更を公開すると、以前の版で同意した人に変更点が示され、再確認を求めます。",
    version: "版",
    material: "重要な変更（再確認を求める）",
    material_hint: "利用目的の追加・提供先の追加など、以前の同意の範囲を超える変更。",
    purposes: "対象の利用目的",
    purposes_hint: "キーをカンマ区切りで（空欄はすべて）。",
    effective_hint: "施行日時（UTC、空欄は今）",
    summary_ja: "変更の概要（日本語）",
    summary_en: "変更の概要（英語）",
    text_ja: "本文（日本語）",
    text_en: "本文（英語）",
    publish: "公開する",
    publish_title: "新しい版を公開",
    in_force: "施行中",
    upcoming: "施行予定",
    all_purposes: "すべて",
    published_by: "公開者",
    diff: "前の版との差分",
    none: "まだ公開された版はありません。",
    pending: " · 再確認待ち",
    renew_title: "同意の更新",
    renew_intro: "次の同意は有効期間が終わります（または終わりました）。引き続き受け取る場合は更新してください。更新しない場合、期間の終わりに撤回されたものとして扱います。",
    ends: "有効期限",
    ended: "期限切れ",
    renew: "更新する",
};

const EN: Copy = Copy {
    title: "Our privacy notice has changed",
    intro: "A material change affects consents you gave under an earlier version. Please look at what changed, then confirm your consent or withdraw it.",
    summary: "Summary",
    what_changed: "What changed (- removed, + added)",
    affects: "Purposes concerned",
    confirm: "Confirm under the new notice",
    withdraw: "Withdraw my consent",
    until: "Until you answer, opt-in purposes are treated as not consented.",
    effective: "In effect from",
    console_title: "Privacy notice versions",
    console_intro: "Published versions cannot be changed or deleted: they are evidence. Every recorded change keeps the version in force when it was made. Publishing a material change shows people who consented under an earlier version what changed and asks them to re-confirm.",
    version: "Version",
    material: "Material change (ask to re-confirm)",
    material_hint: "A change beyond what earlier consent covered: a new use, a new recipient.",
    purposes: "Purposes concerned",
    purposes_hint: "Keys separated by commas (empty: all).",
    effective_hint: "Takes effect (UTC; empty: now)",
    summary_ja: "Summary of changes (Japanese)",
    summary_en: "Summary of changes (English)",
    text_ja: "Text (Japanese)",
    text_en: "Text (English)",
    publish: "Publish",
    publish_title: "Publish a new version",
    in_force: "in force",
    upcoming: "upcoming",
    all_purposes: "all",
    published_by: "Published by",
    diff: "Difference from the previous version",
    none: "No version is published yet.",
    pending: " · awaiting re-confirmation",
    renew_title: "Renew your consent",
    renew_intro: "These consents reach the end of their validity (or have). Renew them to keep receiving; otherwise they count as withdrawn when they end.",
    ends: "Ends",
    ended: "Ended",
    renew: "Renew",
};

pub(crate) const fn copy(lang: Lang) -> &'static Copy {
    match lang {
        Lang::Ja => &JA,
        Lang::En => &EN,
    }
}

/// A diff as a table of marked lines.
#[component]
pub(crate) fn Diff(rows: Vec<DiffRow>) -> impl IntoView {
    let lines = rows
        .into_iter()
        .map(|r| {
            let class = match r.kind {
                '+' => "added",
                '-' => "removed",
                '…' => "gap",
                _ => "same",
            };
            view! { <li class=class><span class="mark" aria-hidden="true">{r.kind.to_string()}</span>{r.line}</li> }
        })
        .collect_view();
    view! { <ol class="diff">{lines}</ol> }
}

/// The re-confirmations a person is asked for, each with what changed and two buttons that post
/// (with or without JavaScript) and bring the page back.
#[component]
pub fn ReconfirmSection(
    lang: Lang,
    token: String,
    csrf: String,
    render_id: String,
    changes: Vec<ReconfirmView>,
) -> impl IntoView {
    let c = copy(lang);
    changes
        .into_iter()
        .map(|change| {
            let forms = change
                .purposes
                .iter()
                .map(|(key, name)| {
                    view! {
                        <li data-reconfirm=key.clone()>
                            <strong>{name.clone()}</strong>" "
                            {answer_forms(lang, &token, &csrf, &render_id, key, c.confirm)}
                        </li>
                    }
                })
                .collect_view();
            let heading = format!("{} ({} {} · ", c.title, c.version, change.version);
            view! {
                <section class="card reconfirm" role="region" aria-label=c.title data-notice=change.version.clone()>
                    <h2>{heading}<Time moment=change.effective.clone() />")"</h2>
                    <p>{c.intro}</p>
                    <h3>{c.summary}</h3>
                    <p class="notice-summary">{change.summary}</p>
                    <details open>
                        <summary>{c.what_changed}" ("{change.previous_version}" → "{change.version.clone()}")"</summary>
                        <Diff rows=change.diff />
                    </details>
                    <h3>{c.affects}</h3>
                    <ul class="reconfirm-purposes">{forms}</ul>
                    <p class="fine">{c.until}</p>
                </section>
            }
        })
        .collect_view()
}

/// One purpose's two answers (confirm or renew, and withdraw), as forms that post with or
/// without JavaScript and bring the page back.
fn answer_forms(
    lang: Lang,
    token: &str,
    csrf: &str,
    render_id: &str,
    purpose: &str,
    yes: &'static str,
) -> impl IntoView + use<> {
    let c = copy(lang);
    let form = |decision: &'static str, label: &'static str, class: &'static str| {
        view! {
            <form method="post" action="/api/reconfirm" class="inline">
                <input type="hidden" name="token" value=token.to_owned() />
                <input type="hidden" name="purpose" value=purpose.to_owned() />
                <input type="hidden" name="decision" value=decision />
                <input type="hidden" name="lang" value=lang.key() />
                <input type="hidden" name="csrf" value=csrf.to_owned() />
                <input type="hidden" name="idempotency_key" value=format!("{render_id}:{purpose}:{decision}") />
                <button type="submit" class=class>{label}</button>
            </form>
        }
    };
    view! { {form("confirm", yes, "")}{form("withdraw", c.withdraw, "secondary")} }
}

/// Consents ending soon (or ended), each with *Renew* and *Withdraw* (R59).
#[component]
pub fn RenewalSection(
    lang: Lang,
    token: String,
    csrf: String,
    render_id: String,
    renewals: Vec<RenewalRow>,
) -> impl IntoView {
    let c = copy(lang);
    let rows = renewals
        .into_iter()
        .map(|r| {
            let when = if r.ended { c.ended } else { c.ends };
            view! {
                <li data-renew=r.purpose.clone()>
                    <strong>{r.purpose_name}</strong>" · "{when}": "<Time moment=r.expires />" "
                    {answer_forms(lang, &token, &csrf, &render_id, &r.purpose, c.renew)}
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="card reconfirm renewal" role="region" aria-label=c.renew_title>
            <h2>{c.renew_title}</h2>
            <p>{c.renew_intro}</p>
            <ul class="reconfirm-purposes">{rows}</ul>
        </section>
    }
}
