//! Texts of embeddable signup forms (issue 34 item 6): the hosted form's page, its answers, and
//! the refusal codes of forms and their settings.

use crate::domain::Lang;

/// The hosted form's page and the answers of a submission.
pub struct FormTexts {
    pub email: &'static str,
    pub purposes: &'static str,
    pub submit: &'static str,
    /// Shown after a submission (the same whether the address is known or not).
    pub sent_title: &'static str,
    pub sent: &'static str,
    /// The honeypot's label (people never see it; robots read it).
    pub leave_empty: &'static str,
    pub how_it_works: &'static str,
    pub privacy: &'static str,
    pub again: &'static str,
    pub back: &'static str,
}

const JA: FormTexts = FormTexts {
    email: "メールアドレス",
    purposes: "受け取るもの",
    submit: "確認メールを送る",
    sent_title: "確認メールをお送りしました",
    sent: "入力されたアドレスに確認のメールをお送りしました。メール内のリンクを開いて登録を確定するまで、お知らせは届きません。",
    leave_empty: "この欄は空のままにしてください",
    how_it_works: "確認のメールをお送りします。メール内のリンクから確定するまで登録されません。",
    privacy: "プライバシーポリシー",
    again: "別のアドレスで登録する",
    back: "フォームに戻る",
};

const EN: FormTexts = FormTexts {
    email: "Email address",
    purposes: "What you would like to receive",
    submit: "Send the confirmation",
    sent_title: "Check your mail",
    sent: "We sent a confirmation message to the address you gave. Nothing is sent to you until you confirm from the link in it.",
    leave_empty: "Leave this field empty",
    how_it_works: "We will send you a confirmation message; you are not subscribed until you confirm from its link.",
    privacy: "Privacy policy",
    again: "Sign up another address",
    back: "Back to the form",
};

pub const fn form_texts(lang: Lang) -> &'static FormTexts {
    match lang {
        Lang::Ja => &JA,
        Lang::En => &EN,
    }
}

/// The message for a signup form's code, or `None` when the code is not one of forms'.
pub fn form_message(lang: Lang, code: &str) -> Option<&'static str> {
    Some(match (lang, code) {
        (Lang::Ja, "unknown_form") => "このフォームはありません。",
        (Lang::En, "unknown_form") => "There is no such form.",
        (Lang::Ja, "form_retired") => "このフォームは終了しました。",
        (Lang::En, "form_retired") => "This form has been retired.",
        (Lang::Ja, "form_token_invalid") => {
            "フォームの有効期限が切れました。ページを開き直して、もう一度送ってください。"
        }
        (Lang::En, "form_token_invalid") => {
            "This form has expired. Reload the page and send it again."
        }
        (Lang::Ja, "origin_not_allowed") => {
            "このサイトからは送信できません（フォームに登録されたオリジンではありません）。"
        }
        (Lang::En, "origin_not_allowed") => {
            "This site may not send this form (its origin is not listed on the form)."
        }
        (Lang::Ja, "form_purpose_required") => "受け取るものを 1 つ以上選んでください。",
        (Lang::En, "form_purpose_required") => "Choose at least one thing to receive.",
        (Lang::Ja, "form_purpose_invalid") => {
            "目的は、登録済みでメールに使える目的のキーで指定してください（フォームが扱うものに限ります）。"
        }
        (Lang::En, "form_purpose_invalid") => {
            "A purpose must be the key of a registered purpose that applies to email (and, when submitting, one the form offers)."
        }
        (Lang::Ja, "form_origin_invalid") => {
            "オリジンは https://ホスト[:ポート] の形で、パスやクエリ、ワイルドカードを含めずに指定してください。"
        }
        (Lang::En, "form_origin_invalid") => {
            "An origin is https://host[:port], without a path, query or wildcard."
        }
        (Lang::Ja, "form_origin_https_required") => {
            "オリジンには https が必要です（http はループバックのホストだけに使えます）。"
        }
        (Lang::En, "form_origin_https_required") => {
            "An origin must use https (http only for loopback hosts)."
        }
        (Lang::Ja, "form_too_large") => "フォームの目的とオリジンはそれぞれ 20 個までです。",
        (Lang::En, "form_too_large") => {
            "A form offers at most 20 purposes and lists at most 20 origins."
        }
        (Lang::Ja, "form_changed_meanwhile") => {
            "その間にフォームの設定が変更されました。開き直してから、もう一度保存してください。"
        }
        (Lang::En, "form_changed_meanwhile") => {
            "The form was changed meanwhile. Reload it and save again."
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_both_languages() {
        for code in [
            "unknown_form",
            "form_retired",
            "form_token_invalid",
            "origin_not_allowed",
            "form_purpose_required",
            "form_purpose_invalid",
            "form_origin_invalid",
            "form_origin_https_required",
            "form_too_large",
            "form_changed_meanwhile",
        ] {
            assert!(form_message(Lang::Ja, code).is_some(), "{code}");
            assert!(form_message(Lang::En, code).is_some(), "{code}");
        }
    }
}
