//! Texts of California's "Do Not Sell or Share My Personal Information" (R57): the page, the
//! link to it, the console's lines and "ask to allow again", its mail, and its refusal codes.
//! The link keeps the statutory English words in both languages (CCPA §1798.135(a)(1) names the
//! link by them).

use crate::domain::Lang;
#[cfg(feature = "ssr")]
use crate::{
    domain::DoNotSellVia,
    mail::{Mail, Sender},
};

/// The link's words (on every page of the person's, and on the preference center).
pub const fn link_text(lang: Lang) -> &'static str {
    match lang {
        Lang::Ja => "個人情報の販売・共有の拒否（Do Not Sell or Share My Personal Information）",
        Lang::En => "Do Not Sell or Share My Personal Information",
    }
}

#[cfg(feature = "ssr")]
/// The message for a Do Not Sell code, or `None` when the code is not one of these.
pub fn do_not_sell_message(lang: Lang, code: &str) -> Option<&'static str> {
    Some(match (lang, code) {
        (Lang::Ja, "do_not_sell_recent") => {
            "この方は 12 か月以内に個人情報の販売・共有を拒否しています。拒否から 12 か月が経つまで、販売・共有への同意をお願いすることはできません（CCPA §1798.135(c)(4)）。ご本人が自分で同意し直すことはいつでもできます。"
        }
        (Lang::En, "do_not_sell_recent") => {
            "This person opted out of the sale or sharing of their personal information within the last 12 months. Until 12 months have passed since that opt-out, they may not be asked to allow sale or sharing again (CCPA §1798.135(c)(4)). They may opt back in themselves at any time."
        }
        (Lang::Ja, "already_allowed") => "この目的はすでに有効です。お願いすることはありません。",
        (Lang::En, "already_allowed") => {
            "This purpose is already in effect: there is nothing to ask."
        }
        (Lang::Ja, "no_email") => "この方にはメールアドレスがありません。",
        (Lang::En, "no_email") => "This person has no email address.",
        _ => return None,
    })
}

#[cfg(feature = "ssr")]
/// How a request arrived, in words.
pub const fn via_label(lang: Lang, via: DoNotSellVia) -> &'static str {
    match (lang, via) {
        (Lang::Ja, DoNotSellVia::PreferenceCenter) => "ログイン中の配信設定ページから",
        (Lang::En, DoNotSellVia::PreferenceCenter) => "signed in, on the preference center",
        (Lang::Ja, DoNotSellVia::Link) => "配信設定ページのリンクから",
        (Lang::En, DoNotSellVia::Link) => "with a link to the preference center",
        (Lang::Ja, DoNotSellVia::Email) => "ログインなしでメールアドレスを入力して",
        (Lang::En, DoNotSellVia::Email) => "without sign-in, giving their email address",
        (Lang::Ja, DoNotSellVia::Browser) => "ログインなしでブラウザから",
        (Lang::En, DoNotSellVia::Browser) => "without sign-in, for their browser",
    }
}

/// The page `/do-not-sell`.
pub struct PageCopy {
    pub title: &'static str,
    pub intro: &'static str,
    pub what: &'static str,
    pub gpc: &'static str,
    pub gpc_on: &'static str,
    pub button: &'static str,
    pub email_label: &'static str,
    pub email_hint: &'static str,
    pub for_subject: &'static str,
    pub honoured_title: &'static str,
    pub honoured: &'static str,
    pub browser_done: &'static str,
    pub twelve_months: &'static str,
    pub back: &'static str,
}

const JA: PageCopy = PageCopy {
    title: "個人情報の販売・共有の拒否",
    intro: "カリフォルニア州の消費者プライバシー法（CCPA/CPRA）に基づき、あなたの個人情報の販売・共有（第三者提供、およびサイトをまたいだ行動ターゲティング広告）を拒否できます。アカウントもログインも本人確認も要りません。",
    what: "拒否すると、第三者提供とターゲティング広告の目的を、すべての連絡手段で停止します。",
    gpc: "ブラウザのグローバル・プライバシー・コントロール（GPC）の信号も、同じ拒否として扱います。",
    gpc_on: "お使いのブラウザは GPC を送信しています。この拒否として扱っています。",
    button: "販売・共有を拒否する",
    email_label: "メールアドレス（任意）",
    email_hint: "入力すると、このアドレスの記録にも拒否を適用します。アドレスが登録されているかどうかは表示しません。",
    for_subject: "次の方の拒否として記録します：",
    honoured_title: "オプトアウト要求を受け付けました",
    honoured: "あなたの個人情報の販売・共有を停止しました。",
    browser_done: "このブラウザは販売・共有を拒否しています（受付：{when}）。",
    twelve_months: "拒否から 12 か月間は、販売・共有への同意をお願いすることはありません。ご自身で同意し直すことはいつでもできます。",
    back: "配信設定に戻る",
};

const EN: PageCopy = PageCopy {
    title: "Do Not Sell or Share My Personal Information",
    intro: "Under California's consumer privacy law (CCPA/CPRA) you may opt out of the sale and sharing of your personal information (providing it to third parties, and cross-context behavioral advertising). No account, no sign-in and no verification are needed.",
    what: "Opting out stops third-party sharing and targeted advertising, on every channel.",
    gpc: "We treat your browser's Global Privacy Control (GPC) signal as the same request.",
    gpc_on: "Your browser sends the GPC signal: we treat it as this opt-out.",
    button: "Opt out of sale and sharing",
    email_label: "Email address (optional)",
    email_hint: "If you give one, we apply the opt-out to our records of that address too. We never say whether an address is known.",
    for_subject: "Recorded as the opt-out of:",
    honoured_title: "Opt-Out Request Honored",
    honoured: "We have stopped selling and sharing your personal information.",
    browser_done: "This browser has opted out of sale and sharing (received {when}).",
    twelve_months: "For 12 months after you opt out we will not ask you to allow sale or sharing again. You may opt back in yourself at any time.",
    back: "Back to my preferences",
};

pub const fn page(lang: Lang) -> &'static PageCopy {
    match lang {
        Lang::Ja => &JA,
        Lang::En => &EN,
    }
}

/// The console's lines on a subject's page.
pub struct ConsoleCopy {
    pub heading: &'static str,
    pub none: &'static str,
    pub received: &'static str,
    pub via: &'static str,
    pub withdrawn: &'static str,
    pub ask_refused_until: &'static str,
    pub ask_heading: &'static str,
    pub ask_button: &'static str,
    pub ask_hint: &'static str,
}

const CONSOLE_JA: ConsoleCopy = ConsoleCopy {
    heading: "販売・共有の拒否（CCPA）",
    none: "販売・共有の拒否の要求はありません。",
    received: "受付日時",
    via: "方法",
    withdrawn: "撤回した同意",
    ask_refused_until: "販売・共有への同意をお願いできるのは次の日時以降です：",
    ask_heading: "同意をお願いする",
    ask_button: "同意をお願いするメールを送る",
    ask_hint: "無効になっている目的について、配信設定ページへのリンクを付けて同意をお願いします。本人が選ぶまで何も変わりません。",
};

const CONSOLE_EN: ConsoleCopy = ConsoleCopy {
    heading: "Do Not Sell or Share (CCPA)",
    none: "No Do Not Sell or Share request.",
    received: "Received",
    via: "How",
    withdrawn: "Consents withdrawn",
    ask_refused_until: "They may be asked to allow sale or sharing again from:",
    ask_heading: "Ask to allow again",
    ask_button: "Mail the request",
    ask_hint: "Mails the person a link to their preference center asking whether they would allow a purpose that is off for them. Nothing changes unless they choose.",
};

pub const fn console(lang: Lang) -> &'static ConsoleCopy {
    match lang {
        Lang::Ja => &CONSOLE_JA,
        Lang::En => &CONSOLE_EN,
    }
}

#[cfg(feature = "ssr")]
/// The mail of the console's "ask to allow again".
pub fn ask_again_mail(
    lang: Lang,
    to: &str,
    purpose_name: &str,
    link: &str,
    sender: &Sender,
) -> Mail {
    let name = sender.name.as_str();
    let signature = if name.is_empty() {
        String::new()
    } else {
        format!(
            "\n-- \n{name}\n{}\n{}\n",
            sender.postal_address, sender.contact
        )
    };
    let (subject, text) = match lang {
        Lang::Ja => (
            format!("「{purpose_name}」へのご同意のお願い"),
            format!(
                "「{purpose_name}」は現在、あなたの設定では無効になっています。\n\n\
                 よろしければ、次のリンクから設定をご確認ください。ご自身で選ぶまで何も変わりません。\n\n\
                 {link}\n{signature}"
            ),
        ),
        Lang::En => (
            format!("Would you allow \"{purpose_name}\"?"),
            format!(
                "\"{purpose_name}\" is off in your preferences.\n\n\
                 If you like, review your choice with this link. Nothing changes unless you choose.\n\n\
                 {link}\n{signature}"
            ),
        ),
    };
    Mail {
        to: to.to_owned(),
        subject,
        text,
        lang,
    }
}
