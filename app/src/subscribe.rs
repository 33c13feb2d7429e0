//! Double opt-in pages (R12, R58): `/subscribe`, a form that mails a confirmation link, and
//! `/confirm/<token>`, the page that link opens: it only shows what would be confirmed and one
//! button that posts (mail scanners open links; only the person's POST confirms). Rendered on
//! the server only: their wording is not part of the browser bundle.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    api::{opt_in_preview, subscribe_form},
    domain::Lang,
    frame::{ErrorPage, Frame, visitor_lang},
};

struct Copy {
    title: &'static str,
    intro: &'static str,
    email: &'static str,
    purpose: &'static str,
    submit: &'static str,
    sent: &'static str,
    confirmed: &'static str,
    confirm_title: &'static str,
    confirm_intro: &'static str,
    confirm_button: &'static str,
    privacy: &'static str,
}

const JA: Copy = Copy {
    title: "配信登録",
    intro: "メールアドレスを入力してください。確認のメールをお送りします。メール内のリンクから登録を確定するまで、お知らせは届きません。",
    email: "メールアドレス",
    purpose: "受け取るもの",
    submit: "確認メールを送る",
    sent: "確認のメールをお送りしました。メール内のリンクを開き、登録を確定してください。",
    confirmed: "登録が完了しました。配信の設定は、メール内のリンクからいつでも変更・停止できます。",
    confirm_title: "配信登録の確定",
    confirm_intro: "次の内容で登録します。よろしければボタンを押してください。",
    confirm_button: "登録を確定する",
    privacy: "プライバシーポリシー",
};

const EN: Copy = Copy {
    title: "Subscribe",
    intro: "Enter your email address and we will send you a confirmation message. Nothing is sent to you until you confirm from the link in it.",
    email: "Email address",
    purpose: "What you would like to receive",
    submit: "Send the confirmation",
    sent: "We sent you a confirmation message. Open the link in it to confirm.",
    confirmed: "You are subscribed. You can change or stop this at any time from the link in our messages.",
    confirm_title: "Confirm your subscription",
    confirm_intro: "Please confirm that you want to subscribe:",
    confirm_button: "Confirm",
    privacy: "Privacy policy",
};

fn copy(lang: Lang) -> &'static Copy {
    match lang {
        Lang::Ja => &JA,
        Lang::En => &EN,
    }
}

#[component]
pub fn SubscribePage() -> impl IntoView {
    let lang = visitor_lang();
    let query = use_query_map().read_untracked();
    let explicit = query.get("lang");
    let sent = query.get("sent").is_some();
    let confirmed = query.get("confirmed").is_some();
    let page = Resource::new_blocking(|| (), move |_| subscribe_form(explicit.clone()));
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(v) => {
                        let c = copy(v.lang);
                        let notice = if confirmed {
                            Some(c.confirmed)
                        } else if sent {
                            Some(c.sent)
                        } else {
                            None
                        };
                        let notice = notice.map(|m| view! { <p class="notice ok" role="status">{m}</p> });
                        let options = v
                            .purposes
                            .into_iter()
                            .map(|(key, name)| view! { <option value=key>{name}</option> })
                            .collect_view();
                        view! {
                            <Frame lang=v.lang title=c.title>
                                <section class="card signin subscribe">
                                    <h1>{c.title}</h1>
                                    {notice}
                                    <p>{c.intro}</p>
                                    <form method="post" action="/subscribe" class="stacked">
                                        <input type="hidden" name="csrf" value=v.csrf />
                                        <input type="hidden" name="lang" value=v.lang.key() />
                                        <label>{c.email}<input type="email" name="email" required autocomplete="email" /></label>
                                        <label>{c.purpose}<select name="purpose">{options}</select></label>
                                        <button type="submit">{c.submit}</button>
                                    </form>
                                    <p class="fine"><a href=format!("/privacy?lang={}", v.lang.key())>{c.privacy}</a></p>
                                </section>
                            </Frame>
                        }
                            .into_any()
                    }
                    Err(e) => view! { <ErrorPage lang code=e.code /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn ConfirmPage() -> impl IntoView {
    let lang = visitor_lang();
    let token = use_params_map()
        .read_untracked()
        .get("token")
        .unwrap_or_default();
    let page = Resource::new_blocking(|| (), {
        let token = token.clone();
        move |_| opt_in_preview(token.clone())
    });
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let token = token.clone();
                Suspend::new(async move {
                    match page.await {
                        Ok(v) => {
                            let c = copy(v.lang);
                            let action = format!("/confirm/{token}");
                            view! {
                                <Frame lang=v.lang title=c.confirm_title>
                                    <section class="card signin">
                                        <h1>{c.confirm_title}</h1>
                                        <p>{c.confirm_intro}</p>
                                        <p><strong>{v.purpose_name}</strong>" · "{v.email}</p>
                                        <form method="post" action=action>
                                            <input type="hidden" name="csrf" value=v.csrf />
                                            <input type="hidden" name="lang" value=v.lang.key() />
                                            <button type="submit">{c.confirm_button}</button>
                                        </form>
                                    </section>
                                </Frame>
                            }
                                .into_any()
                        }
                        Err(e) => view! { <ErrorPage lang code=e.code /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}
