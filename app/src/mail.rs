//! Messages Doui itself sends (sign-in links), and the trait the server's mail transports
//! implement (SMTP with lettre, or `.eml` files when no SMTP server is configured).

use async_trait::async_trait;

use crate::domain::Lang;

/// Who sends the messages, as shown in every message's footer.
#[derive(Debug, Clone, Default)]
pub struct Sender {
    pub name: String,
    pub postal_address: String,
    pub contact: String,
    /// The representative (代表者), one of the APPI 27(2) items.
    pub representative: String,
    /// ISO 3166 code of the sender's (the controller's) jurisdiction, e.g. `JP`.
    pub jurisdiction: String,
}

/// One plain-text message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub lang: Lang,
}

#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Delivers the message to the transport (an SMTP server, or a file).
    async fn send(&self, mail: &Mail) -> Result<(), String>;

    /// Deletes what the transport still keeps of messages to `address` (the person is being
    /// erased); how many. A transport that keeps nothing has nothing to forget.
    async fn forget(&self, _address: &str) -> Result<usize, String> {
        Ok(0)
    }
}

/// `text` (a transport's error, say) with every mail address in it replaced, so logs keep no
/// recipient: an SMTP server's refusal often quotes the address it refused.
pub fn without_addresses(text: &str) -> String {
    let is_part = |c: char| !c.is_whitespace() && !"<>()[],;:\"'".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('@') {
        let start = rest[..at]
            .char_indices()
            .rev()
            .find(|&(_, c)| !is_part(c))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let end = rest[at + 1..]
            .char_indices()
            .find(|&(_, c)| !is_part(c))
            .map_or(rest.len(), |(i, _)| at + 1 + i);
        if start < at && end > at + 1 {
            out.push_str(&rest[..start]);
            out.push_str("[address]");
            rest = &rest[end..];
        } else {
            out.push_str(&rest[..=at]);
            rest = &rest[at + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// The double opt-in confirmation mail (R12, R58): what was asked for, the link to confirm
/// (its page has one button: opening the link changes nothing), how long it works, and the
/// reference the evidence keeps.
pub fn opt_in_mail(
    lang: Lang,
    to: &str,
    link: &str,
    purpose_name: &str,
    hours: i64,
    mail_ref: &str,
    sender: &Sender,
) -> Mail {
    let signature = format!(
        "\n-- \n{}\n{}\n{}\n",
        sender.name, sender.postal_address, sender.contact
    );
    // The name is in the subject line: one line, whatever was saved.
    let subject_name = crate::domain::header::one_line(purpose_name);
    let (subject, text) = match lang {
        Lang::Ja => (
            format!("「{subject_name}」の配信登録の確認"),
            format!(
                "「{purpose_name}」の配信登録のお申し込みを受け付けました。\n\n\
                 次のリンクを開き、「登録を確定する」を押すと登録が完了します（{hours} 時間有効）。\n\n\
                 {link}\n\n\
                 お心当たりがない場合は、このメールを破棄してください。登録されません。\n\
                 参照番号: {mail_ref}\n{signature}"
            ),
        ),
        Lang::En => (
            format!("Please confirm: {subject_name}"),
            format!(
                "We received a request to subscribe this address to \"{purpose_name}\".\n\n\
                 Open this link and press \"Confirm\" to start (it works for {hours} hours):\n\n\
                 {link}\n\n\
                 If you did not ask for this, ignore this message; you will not be subscribed.\n\
                 Reference: {mail_ref}\n{signature}"
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

/// The sign-in mail: the link, how long it works, and what to do if it was not asked for.
pub fn sign_in_mail(lang: Lang, to: &str, link: &str, minutes: i64, sender: &Sender) -> Mail {
    let signature = if sender.name.is_empty() {
        String::new()
    } else {
        format!(
            "\n-- \n{}\n{}\n{}\n",
            sender.name, sender.postal_address, sender.contact
        )
    };
    let (subject, text) = match lang {
        Lang::Ja => (
            "配信設定へのログインリンク".to_owned(),
            format!(
                "配信設定ページへのログインが要求されました。\n\n\
                 次のリンクを開き、「続ける」を押してください（{minutes} 分間、1 回だけ有効です）。\n\n\
                 {link}\n\n\
                 お心当たりがない場合は、このメールを破棄してください。何も変更されません。\n{signature}"
            ),
        ),
        Lang::En => (
            "Your sign-in link for your preferences".to_owned(),
            format!(
                "Someone asked to sign in to your preference center.\n\n\
                 Open this link and press \"Continue\" (it works once, for {minutes} minutes):\n\n\
                 {link}\n\n\
                 If you did not ask for this, ignore this message; nothing changes.\n{signature}"
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

/// The confirmation of a grant asked for through a link (third-party sharing or ad targeting):
/// what would be allowed, the link that allows it (its page has one button), how long it works.
pub fn grant_mail(
    lang: Lang,
    to: &str,
    link: &str,
    what: &str,
    hours: i64,
    sender: &Sender,
) -> Mail {
    let signature = format!(
        "\n-- \n{}\n{}\n{}\n",
        sender.name, sender.postal_address, sender.contact
    );
    let (subject, text) = match lang {
        Lang::Ja => (
            format!("同意の確認: {what}"),
            format!(
                "配信設定ページのリンクから、次のことへの同意が求められました。\n\n  {what}\n\n\
                 ご本人の操作であれば、次のリンクを開き「同意する」を押してください（{hours} 時間有効）。\n\
                 押すまで何も変更されません。\n\n\
                 {link}\n\n\
                 お心当たりがない場合は、このメールを破棄してください。同意されません。\n{signature}"
            ),
        ),
        Lang::En => (
            format!("Please confirm: {what}"),
            format!(
                "Someone used the link to your preference center to allow this:\n\n  {what}\n\n\
                 If it was you, open this link and press \"Allow\" (it works for {hours} hours).\n\
                 Nothing changes until you do.\n\n\
                 {link}\n\n\
                 If it was not you, ignore this message; nothing is allowed.\n{signature}"
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hardening_12_errors_are_logged_without_addresses() {
        assert_eq!(
            without_addresses("SMTP: 550 5.1.1 <hanako@example.jp>: Recipient address rejected"),
            "SMTP: 550 5.1.1 <[address]>: Recipient address rejected"
        );
        assert_eq!(
            without_addresses("to taro.y+news@mail.example.com, alex@example.com."),
            "to [address], [address]"
        );
        assert_eq!(
            without_addresses("no address @ here, a@"),
            "no address @ here, a@"
        );
    }

    #[test]
    fn sign_in_mails_carry_the_link_in_the_persons_language() {
        let sender = Sender {
            name: "Example K.K.".into(),
            postal_address: "Tokyo".into(),
            contact: "privacy@example.jp".into(),
            representative: "Hanako Yamada".into(),
            jurisdiction: "JP".into(),
        };
        let ja = sign_in_mail(Lang::Ja, "a@example.jp", "https://x/signin/T", 15, &sender);
        assert!(ja.text.contains("https://x/signin/T") && ja.text.contains("15 分間"));
        assert!(ja.text.contains("Example K.K."));
        let en = sign_in_mail(Lang::En, "a@example.jp", "https://x/signin/T", 15, &sender);
        assert!(en.subject.contains("sign-in") && en.text.contains("15 minutes"));
    }
}
