//! The subject page's erasure part (GDPR Art. 17; R35): who erased the person, when and why,
//! or for operators and owners the form that does it (a reason and a confirmation).

use leptos::prelude::*;

use crate::{domain::Lang, view::ErasureRow};

struct Copy {
    title: &'static str,
    erased: &'static str,
    by: &'static str,
    reason: &'static str,
    intro: &'static str,
    confirm: &'static str,
    erase: &'static str,
}

const JA: Copy = Copy {
    title: "消去（本人の求めによる）",
    erased: "この対象者は消去されました",
    by: "実施者",
    reason: "理由",
    intro: "メールアドレス・電話番号・外部 ID を消去し、すべての同意を撤回します。同意の記録は証拠として残り（氏名等を含まない ID のみ）、消去したアドレスのハッシュを保持して再登録・再送信を防ぎます（本人が自ら申し込む場合を除く）。元に戻せません。",
    confirm: "元に戻せないことを確認しました",
    erase: "消去する",
};

const EN: Copy = Copy {
    title: "Erasure (at the person's request)",
    erased: "This subject was erased",
    by: "By",
    reason: "Reason",
    intro: "Clears the email address, phone number and external id, and withdraws every consent. The record of their choices stays as evidence (under the random id only); a hash of each erased identifier is kept so the address is not added or contacted again (unless the person signs up themselves). This cannot be undone.",
    confirm: "I understand this cannot be undone",
    erase: "Erase",
};

const fn copy(lang: Lang) -> &'static Copy {
    match lang {
        Lang::Ja => &JA,
        Lang::En => &EN,
    }
}

#[component]
pub(crate) fn ErasureSection(
    lang: Lang,
    subject: String,
    csrf: String,
    erasure: Option<ErasureRow>,
    can_erase: bool,
) -> impl IntoView {
    let c = copy(lang);
    match erasure {
        Some(e) => Some(
            view! {
                <section class="card erased" role="status">
                    <h2>{c.erased}</h2>
                    <p><time>{e.when}</time>" · "{c.by}": "{e.by}</p>
                    <p>{c.reason}": "{e.reason}</p>
                </section>
            }
            .into_any(),
        ),
        None => can_erase.then(|| {
            view! {
                <section class="card erase">
                    <details>
                        <summary>{c.title}</summary>
                        <p>{c.intro}</p>
                        <form method="post" action="/api/admin/erase_subject" class="stacked">
                            <input type="hidden" name="csrf" value=csrf />
                            <input type="hidden" name="lang" value=lang.key() />
                            <input type="hidden" name="return_to" value=format!("/admin/subjects/{subject}?lang={}", lang.key()) />
                            <input type="hidden" name="subject" value=subject />
                            <label>{c.reason}<input name="reason" required minlength="3" maxlength="500" /></label>
                            <label class="check"><input type="checkbox" name="confirm" required />" "{c.confirm}</label>
                            <button type="submit" class="danger">{c.erase}</button>
                        </form>
                    </details>
                </section>
            }
            .into_any()
        }),
    }
}
