//! The lasting objection to direct marketing on the person's page (R34): when it was made, and
//! the form that lifts it. Rendered on the server (outside the island); the form works without
//! JavaScript.

use leptos::prelude::*;

use crate::{domain::Lang, error::ApiError};

/// The wording in one language: title, what it means, since, the button.
fn copy(lang: Lang) -> [&'static str; 4] {
    match lang {
        Lang::Ja => [
            "すべての広告・宣伝を停止中",
            "あなたは広告・宣伝（ダイレクトマーケティング）の停止を求めました。この求めは、今後追加される広告・宣伝の利用目的にも及び、あなたが解除するまで続きます。解除しても、何かに同意したことにはなりません。",
            "停止を求めた日時",
            "停止の求めを解除する",
        ],
        Lang::En => [
            "All marketing stopped",
            "You objected to direct marketing. Your objection also covers marketing added later, and lasts until you lift it. Lifting it agrees to nothing by itself.",
            "Objected on",
            "Lift my objection",
        ],
    }
}

/// The objection in force, with the form that lifts it (whole center only).
#[component]
pub fn ObjectionSection(
    lang: Lang,
    token: String,
    csrf: String,
    since: crate::view::Moment,
    can_lift: bool,
) -> impl IntoView {
    let [title, intro, since_label, lift] = copy(lang);
    let form = can_lift.then(|| {
        view! {
            <form method="post" action="/api/lift_objection" class="inline">
                <input type="hidden" name="token" value=token />
                <input type="hidden" name="lang" value=lang.key() />
                <input type="hidden" name="csrf" value=csrf />
                <button type="submit" class="secondary">{lift}</button>
            </form>
        }
    });
    view! {
        <section class="card objection" role="region" aria-label=title data-objection="in-force">
            <h2>{title}</h2>
            <p>{intro}</p>
            <p>{since_label}": "<crate::local_time::Time moment=since /></p>
            {form}
        </section>
    }
}

/// Lifts the visitor's lasting objection to direct marketing.
#[server(endpoint = "lift_objection")]
pub async fn lift_objection(
    token: String,
    lang: Option<String>,
    csrf: String,
) -> Result<(), ApiError> {
    use crate::api::{provenance, refuse, require_csrf, services};
    let services = services()?;
    require_csrf(&services, &csrf, crate::api::request_lang(lang.as_deref()))?;
    let (visitor, lang) = crate::api::visitor(&services, &token, lang.as_deref()).await?;
    let lifted = services
        .lift_objection(&visitor, provenance(None))
        .await
        .map_err(|r| refuse(lang, r))?;
    tracing::info!(subject = %visitor.subject.id, lifted, "objection lift asked");
    Ok(())
}
