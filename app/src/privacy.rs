//! The public privacy policy at `/privacy`, generated from the configuration and the purposes:
//! who the sender is (特定電子メール法 第4条 display items), what each purpose does and by which
//! mode, the APPI 27(2) items of any opt-out provision to third parties (R48), how to opt out
//! and how Global Privacy Control is honoured. Rendered on the server only: its wording is not
//! part of the browser bundle.

use leptos::prelude::*;

use crate::{
    api::privacy_policy,
    domain::{Lang, Mode},
    frame::{ErrorPage, Frame, visitor_lang},
    i18n::{channel_name, texts},
    view::PrivacyView,
};

/// The policy's wording in one language.
struct Copy {
    title: &'static str,
    intro: &'static str,
    business: &'static str,
    name: &'static str,
    address: &'static str,
    representative: &'static str,
    contact: &'static str,
    purposes: &'static str,
    channels: &'static str,
    mode: &'static str,
    opt_in: &'static str,
    opt_out: &'static str,
    where_: &'static str,
    provision: &'static str,
    provision_intro: &'static str,
    data_items: &'static str,
    acquired_by: &'static str,
    provided_by: &'static str,
    stop: &'static str,
    filing: &'static str,
    choices: &'static str,
    choices_text: &'static str,
    gpc: &'static str,
    retention: &'static str,
    notice: &'static str,
}

const JA: Copy = Copy {
    title: "プライバシーポリシー",
    intro: "当社は、次の目的で個人情報を利用し、メール等をお送りします。設定はいつでも変更・撤回できます。",
    business: "事業者",
    name: "名称",
    address: "住所",
    representative: "代表者",
    contact: "お問い合わせ先",
    purposes: "利用目的",
    channels: "連絡手段",
    mode: "同意の方式",
    opt_in: "オプトイン（同意いただくまで行いません）",
    opt_out: "オプトアウト（お申し出があれば停止します）",
    where_: "地域ごとの方式",
    provision: "オプトアウトによる第三者提供（個人情報保護法 第27条第2項）",
    provision_intro: "次の個人データを、本人の求めに応じて提供を停止することを条件に、第三者へ提供します。",
    data_items: "提供する個人データの項目",
    acquired_by: "取得の方法",
    provided_by: "提供の方法",
    stop: "本人の求めに応じて提供を停止します。停止の求めは、配信・同意の設定ページ（メールのリンク、または /signin からサインイン）で受け付けます。",
    filing: "個人情報保護委員会への届出",
    choices: "配信停止・同意の撤回",
    choices_text: "すべてのメールに、配信停止のリンクと、ワンクリックで配信を停止できるヘッダー（RFC 8058）を記載しています。撤回は同意と同じくらい簡単に、ログインなしで行えます。",
    gpc: "ブラウザのグローバル・プライバシー・コントロール（GPC）の信号を、ターゲティング広告と第三者提供のオプトアウトとして扱います。",
    retention: "同意の記録の保存期間（変更後の最低日数。法令の定めが長い場合はそちらに従います）",
    notice: "このポリシーの版",
};

const EN: Copy = Copy {
    title: "Privacy policy",
    intro: "We use personal data and send messages for the purposes below. You can change or withdraw your choices at any time.",
    business: "Who we are",
    name: "Name",
    address: "Address",
    representative: "Representative",
    contact: "Contact",
    purposes: "Purposes",
    channels: "Channels",
    mode: "Consent",
    opt_in: "Opt-in (nothing until you agree)",
    opt_out: "Opt-out (until you object)",
    where_: "By jurisdiction",
    provision: "Provision to third parties by opt-out (APPI Art. 27(2))",
    provision_intro: "We provide the personal data below to third parties, and stop at the person's request.",
    data_items: "Personal data items provided",
    acquired_by: "How they are acquired",
    provided_by: "How they are provided",
    stop: "We stop providing your data at your request: use your preference center (the link in any message, or sign in at /signin).",
    filing: "Filed with the Personal Information Protection Commission",
    choices: "Unsubscribing and withdrawing consent",
    choices_text: "Every message carries an unsubscribe link and one-click unsubscribe headers (RFC 8058). Withdrawing is as easy as agreeing and needs no sign-in.",
    gpc: "We treat a browser's Global Privacy Control signal as an opt-out of targeted advertising and of sharing with third parties.",
    retention: "How long records of consent are kept after they change (at least, in days; longer where a law requires)",
    notice: "Version of this policy",
};

fn copy(lang: Lang) -> &'static Copy {
    match lang {
        Lang::Ja => &JA,
        Lang::En => &EN,
    }
}

#[component]
pub fn PrivacyPage() -> impl IntoView {
    let lang = visitor_lang();
    let explicit = leptos_router::hooks::use_query_map()
        .read_untracked()
        .get("lang");
    let page = Resource::new_blocking(|| (), move |_| privacy_policy(explicit.clone()));
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(view) => policy(view).into_any(),
                    Err(e) => view! { <ErrorPage lang code=e.code /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn policy(v: PrivacyView) -> impl IntoView {
    let lang = v.lang;
    let c = copy(lang);
    let mode = move |m: Mode| match m {
        Mode::OptIn => c.opt_in,
        Mode::OptOut => c.opt_out,
    };
    let t = texts(lang);
    let business = format!(
        "{}, {}, {}",
        v.sender_name, v.sender_address, v.sender_representative
    );
    let purposes = v
        .purposes
        .into_iter()
        .map(|p| {
            let channels = p
                .channels
                .iter()
                .map(|ch| channel_name(lang, *ch))
                .collect::<Vec<_>>()
                .join(match lang {
                    Lang::Ja => "、",
                    Lang::En => ", ",
                });
            let modes = (!p.modes.is_empty()).then(|| {
                let items = p
                    .modes
                    .iter()
                    .map(|(j, m)| {
                        view! { <li>{crate::i18n::jurisdiction_name(lang, j)}": "{mode(*m)}</li> }
                    })
                    .collect_view();
                view! { <dt>{c.where_}</dt><dd><ul>{items}</ul></dd> }
            });
            let provision = p.opt_out_provision.map(|o| {
                view! {
                    <section class="provision" data-appi="27-2">
                        <h3>{c.provision}</h3>
                        <p>{c.provision_intro}</p>
                        <dl>
                            <dt>{c.business}</dt><dd>{business.clone()}</dd>
                            <dt>{c.data_items}</dt><dd>{o.data_items}</dd>
                            <dt>{c.acquired_by}</dt><dd>{o.acquired_by}</dd>
                            <dt>{c.provided_by}</dt><dd>{o.provided_by}</dd>
                            <dt>{c.filing}</dt><dd>{o.filed_on}" ("{o.filing_number}")"</dd>
                        </dl>
                        <p>{c.stop}</p>
                    </section>
                }
            });
            view! {
                <section class="card purpose" data-purpose=p.key>
                    <h2>{p.name}</h2>
                    <p>{p.description}</p>
                    <dl>
                        <dt>{c.channels}</dt><dd>{channels}</dd>
                        <dt>{c.mode}</dt><dd>{mode(p.mode)}</dd>
                        {modes}
                    </dl>
                    {provision}
                </section>
            }
        })
        .collect_view();
    // The notice in force, as published (R31): its text, its version and since when.
    let notice = (!v.notice_text.is_empty()).then(|| {
        let paragraphs = v
            .notice_text
            .split("\n")
            .filter(|l| !l.trim().is_empty())
            .map(|l| view! { <p>{l.to_owned()}</p> })
            .collect_view();
        view! {
            <section class="card notice-text" data-notice=v.notice_version.clone()>
                <h2>{c.notice}" "{v.notice_version.clone()}" · "<time>{v.notice_effective.clone()}</time></h2>
                {paragraphs}
            </section>
        }
    });
    view! {
        <Frame lang title=c.title>
            <section class="card privacy">
                <h1>{c.title}</h1>
                <p>{c.intro}</p>
                <h2>{c.business}</h2>
                <dl class="sender">
                    <dt>{c.name}</dt><dd>{v.sender_name}</dd>
                    <dt>{c.address}</dt><dd>{v.sender_address}</dd>
                    <dt>{c.representative}</dt><dd>{v.sender_representative}</dd>
                    <dt>{c.contact}</dt><dd>{v.sender_contact}</dd>
                </dl>
            </section>
            <h2 class="section-title">{c.purposes}</h2>
            {purposes}
            <section class="card">
                <h2>{c.choices}</h2>
                <p>{c.choices_text}</p>
                <p>{c.gpc}</p>
                <p><a href=format!("/signin?lang={}", lang.key())>{t.sign_in}</a></p>
                <p class="fine">{c.retention}": "{v.retention_days}</p>
                <p class="fine">{c.notice}": "{v.notice_version}</p>
            </section>
            {notice}
        </Frame>
    }
}
