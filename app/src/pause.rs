//! Sections of the person's page for pauses and frequencies (issue 34 items 2 and 3): what is
//! paused and until when (with *Resume now*), the form that pauses one consent or all marketing
//! for 30, 60 or 90 days, and how often the person wants each marketing purpose. Rendered on
//! the server (outside the island); every form works without JavaScript.

use leptos::prelude::*;

use crate::{
    domain::Lang,
    error::ApiError,
    i18n::{channel_name, pause_texts},
    view::{FrequencyRow, PauseRow, PurposeRow},
};

/// The frequency keys in the order of `PauseTexts::frequencies`.
const FREQUENCY_KEYS: [&str; 3] = ["every", "weekly", "monthly"];
/// The pause lengths offered, in days (the order of `PauseTexts::days`).
const PAUSE_DAYS: [&str; 3] = ["30", "60", "90"];

/// The hidden fields every form of these sections sends.
fn hidden(lang: Lang, token: &str, csrf: &str) -> impl IntoView + use<> {
    view! {
        <input type="hidden" name="token" value=token.to_owned() />
        <input type="hidden" name="lang" value=lang.key() />
        <input type="hidden" name="csrf" value=csrf.to_owned() />
    }
}

/// The length choice of a pause form.
pub fn days_choice(lang: Lang) -> impl IntoView + use<> {
    let t = pause_texts(lang);
    let options = PAUSE_DAYS
        .into_iter()
        .zip(t.days)
        .map(|(value, label)| view! { <option value=value>{label}</option> })
        .collect_view();
    view! {
        <label>{t.pause_length}" "<select name="days">{options}</select></label>
    }
}

/// What is paused and until when, each with *Resume now*; then the form that pauses what is
/// on now (one consent, or all marketing when the page shows any).
#[component]
pub fn PauseSection(
    lang: Lang,
    token: String,
    csrf: String,
    render_id: String,
    pauses: Vec<PauseRow>,
    purposes: Vec<PurposeRow>,
) -> impl IntoView {
    let t = pause_texts(lang);
    let paused = (!pauses.is_empty()).then(|| {
        let rows = pauses
            .into_iter()
            .map(|p| {
                view! {
                    <li data-paused=format!("{}/{}", p.purpose, p.channel.key())>
                        {p.purpose_name}" · "{p.channel_name}" — "{t.paused_until}": "
                        <crate::local_time::Time moment=p.until />" "
                        <form method="post" action="/api/resume_consent" class="inline">
                            {hidden(lang, &token, &csrf)}
                            <input type="hidden" name="purpose" value=p.purpose.clone() />
                            <input type="hidden" name="channel" value=p.channel.key() />
                            <input type="hidden" name="idempotency_key" value=format!("{render_id}:resume:{}:{}", p.purpose, p.channel.key()) />
                            <button type="submit" class="secondary">{t.resume_button}</button>
                        </form>
                    </li>
                }
            })
            .collect_view();
        view! {
            <h3>{t.paused_title}</h3>
            <ul class="pauses">{rows}</ul>
        }
    });
    // What can be paused: the consents on now that this page may change. Every consent the page
    // shows is listed, those off disabled and hidden: a switch turned on in place (with
    // JavaScript) enables its line without a reload (see `islands::sync_pause_form`).
    let applicable: Vec<(String, String, bool)> = purposes
        .iter()
        .flat_map(|p| {
            p.cells.iter().filter(|c| c.applies).map(move |c| {
                (
                    format!("{}/{}", p.key, c.channel.key()),
                    format!("{} · {}", p.name, channel_name(lang, c.channel)),
                    c.on,
                )
            })
        })
        .collect();
    let any_on = applicable.iter().any(|(_, _, on)| *on);
    let has_marketing = purposes
        .iter()
        .any(|p| p.marketing && p.cells.iter().any(|c| c.applies));
    let any_marketing_on = purposes
        .iter()
        .any(|p| p.marketing && p.cells.iter().any(|c| c.applies && c.on));
    let form = (!applicable.is_empty()).then(|| {
        let all = has_marketing.then(|| {
            view! {
                <option value="all_marketing" data-pause-target="all_marketing" disabled=!any_marketing_on hidden=!any_marketing_on>
                    {t.all_marketing}
                </option>
            }
        });
        let options = applicable
            .into_iter()
            .map(|(value, label, on)| {
                view! { <option value=value.clone() data-pause-target=value disabled=!on hidden=!on>{label}</option> }
            })
            .collect_view();
        view! {
            <form method="post" action="/api/pause_consent" class="stacked pause-form" hidden=!any_on>
                {hidden(lang, &token, &csrf)}
                <input type="hidden" name="idempotency_key" value=format!("{render_id}:pause") />
                <label>{t.pause_what}" "<select name="target">{all}{options}</select></label>
                {days_choice(lang)}
                <button type="submit" class="secondary">{t.pause_button}</button>
            </form>
        }
    });
    view! {
        <section class="card pause" role="region" aria-label=t.pause_title>
            <h2>{t.pause_title}</h2>
            <p>{t.pause_intro}</p>
            {paused}
            {form}
        </section>
    }
}

/// How often the person wants each marketing purpose's messages: one form per purpose.
#[component]
pub fn FrequencySection(
    lang: Lang,
    token: String,
    csrf: String,
    rows: Vec<FrequencyRow>,
) -> impl IntoView {
    let t = pause_texts(lang);
    let forms = rows
        .into_iter()
        .map(|row| {
            let options = FREQUENCY_KEYS
                .into_iter()
                .zip(t.frequencies)
                .map(|(key, label)| {
                    view! { <option value=key selected={row.frequency == key}>{label}</option> }
                })
                .collect_view();
            view! {
                <form method="post" action="/api/choose_frequency" class="inline frequency" data-frequency=row.purpose.clone()>
                    {hidden(lang, &token, &csrf)}
                    <input type="hidden" name="purpose" value=row.purpose.clone() />
                    <label>{row.purpose_name}" "<select name="frequency">{options}</select></label>
                    " "<button type="submit" class="secondary">{t.frequency_button}</button>
                </form>
            }
        })
        .collect_view();
    view! {
        <section class="card frequency" role="region" aria-label=t.frequency_title>
            <h2>{t.frequency_title}</h2>
            <p>{t.frequency_intro}</p>
            {forms}
        </section>
    }
}

/// Pauses one consent (`target` = `<purpose>/<channel>`) or all marketing for `days` days.
#[server(endpoint = "pause_consent")]
pub async fn pause_consent(
    token: String,
    target: String,
    days: String,
    lang: Option<String>,
    csrf: String,
    idempotency_key: Option<String>,
) -> Result<(), ApiError> {
    use crate::api::{provenance, refuse, require_csrf, services};
    let services = services()?;
    require_csrf(&services, &csrf, crate::api::request_lang(lang.as_deref()))?;
    let (visitor, lang) = crate::api::visitor(&services, &token, lang.as_deref()).await?;
    services
        .pause(&visitor, &target, &days, provenance(idempotency_key))
        .await
        .map_err(|r| refuse(lang, r))?;
    Ok(())
}

/// Ends a pause now: the consent is granted again (the person's own choice).
#[server(endpoint = "resume_consent")]
pub async fn resume_consent(
    token: String,
    purpose: String,
    channel: String,
    lang: Option<String>,
    csrf: String,
    idempotency_key: Option<String>,
) -> Result<(), ApiError> {
    use crate::api::{provenance, refuse, require_csrf, services};
    let services = services()?;
    require_csrf(&services, &csrf, crate::api::request_lang(lang.as_deref()))?;
    let (visitor, lang) = crate::api::visitor(&services, &token, lang.as_deref()).await?;
    services
        .resume_now(&visitor, &purpose, &channel, provenance(idempotency_key))
        .await
        .map_err(|r| refuse(lang, r))
}

/// Records how often the person wants the messages of one purpose.
#[server(endpoint = "choose_frequency")]
pub async fn choose_frequency(
    token: String,
    purpose: String,
    frequency: String,
    lang: Option<String>,
    csrf: String,
) -> Result<(), ApiError> {
    use crate::api::{provenance, refuse, require_csrf, services};
    let services = services()?;
    require_csrf(&services, &csrf, crate::api::request_lang(lang.as_deref()))?;
    let (visitor, lang) = crate::api::visitor(&services, &token, lang.as_deref()).await?;
    services
        .choose_frequency(&visitor, &purpose, &frequency, &provenance(None))
        .await
        .map_err(|r| refuse(lang, r))?;
    Ok(())
}

/// What the person paused and how often they want messages, as the console shows it (read
/// only: the person chooses these on their own page).
#[component]
pub fn PauseSummary(
    lang: Lang,
    pauses: Vec<PauseRow>,
    frequencies: Vec<FrequencyRow>,
) -> impl IntoView {
    let t = pause_texts(lang);
    let paused = (!pauses.is_empty()).then(|| {
        let rows = pauses
            .into_iter()
            .map(|p| {
                view! {
                    <li data-paused=format!("{}/{}", p.purpose, p.channel.key())>
                        {p.purpose_name}" · "{p.channel_name}" — "{t.paused_until}": "
                        <crate::local_time::Time moment=p.until />
                    </li>
                }
            })
            .collect_view();
        view! { <h3>{t.paused_title}</h3><ul class="pauses">{rows}</ul> }
    });
    let chosen: Vec<FrequencyRow> = frequencies
        .into_iter()
        .filter(|f| f.frequency != "every")
        .collect();
    let how_often = (!chosen.is_empty()).then(|| {
        let rows = chosen
            .into_iter()
            .map(|f| {
                let label = FREQUENCY_KEYS
                    .iter()
                    .position(|k| *k == f.frequency)
                    .map_or("", |i| t.frequencies[i]);
                view! { <li data-frequency=f.purpose.clone()>{f.purpose_name}": "{label}</li> }
            })
            .collect_view();
        view! { <h3>{t.frequency_title}</h3><ul>{rows}</ul> }
    });
    (paused.is_some() || how_often.is_some()).then(|| {
        view! {
            <section class="card pause-summary">
                {paused}
                {how_often}
            </section>
        }
    })
}
