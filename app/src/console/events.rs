//! The console's event views: filters, the event table and its pages, streamed exports, and
//! the SVG charts; the global event stream page.

use leptos::nonce::use_nonce;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{ConsoleError, ConsoleFrame, state_name};
use crate::{
    admin::{admin_chart, admin_events, admin_purposes},
    domain::{Channel, Lang},
    i18n::{SOURCE_KEYS, channel_name, source_name, texts},
    pages::visitor_lang,
    view::{AdminEventRow, ChartSeries, EventFilterForm, PurposeForm},
};

/// The event filters and the `before` cursor from the page's query.
pub(super) fn filter_from_query() -> (EventFilterForm, Option<i64>) {
    let q = use_query_map().read_untracked();
    let get = |k: &str| q.get(k).filter(|v| !v.trim().is_empty());
    let filter = EventFilterForm {
        purpose: get("purpose"),
        channel: get("channel"),
        source: get("source"),
        from: get("from"),
        until: get("until"),
    };
    (filter, q.get("before").and_then(|b| b.parse().ok()))
}

/// `a&b`, skipping empty parts.
pub(super) fn join_query(a: &str, b: &str) -> String {
    [a, b]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("&")
}

/// A `<select>` whose first option is "any".
fn select(
    name: &'static str,
    any: &'static str,
    options: Vec<(String, String)>,
    chosen: Option<String>,
) -> impl IntoView {
    let options = options
        .into_iter()
        .map(|(value, label)| {
            let selected = chosen.as_deref() == Some(value.as_str());
            view! { <option value=value selected=selected>{label}</option> }
        })
        .collect_view();
    view! {
        <select id=format!("filter-{name}") name=name>
            <option value="">{any}</option>
            {options}
        </select>
    }
}

/// The filters every event view takes: a plain GET form (works without JavaScript).
#[component]
pub(super) fn EventFilters(
    lang: Lang,
    action: String,
    filter: EventFilterForm,
    purposes: Vec<(String, String)>,
) -> impl IntoView {
    let t = texts(lang);
    let channels = Channel::ALL
        .iter()
        .map(|c| (c.key().to_owned(), channel_name(lang, *c).to_owned()))
        .collect();
    let sources = SOURCE_KEYS
        .iter()
        .map(|k| ((*k).to_owned(), source_name(lang, k).to_owned()))
        .collect();
    let clear = format!("{action}?lang={}", lang.key());
    view! {
        <form method="get" action=action class="filters">
            <input type="hidden" name="lang" value=lang.key() />
            <label>{t.purpose}" "{select("purpose", t.filter_any, purposes, filter.purpose)}</label>
            <label>{t.channel_label}" "{select("channel", t.filter_any, channels, filter.channel)}</label>
            <label>{t.source}" "{select("source", t.filter_any, sources, filter.source)}</label>
            <label>{t.filter_from}" "<input type="date" name="from" value=filter.from.unwrap_or_default() /></label>
            <label>{t.filter_until}" "<input type="date" name="until" value=filter.until.unwrap_or_default() /></label>
            <button type="submit">{t.filter_apply}</button>
            <a class="clear" href=clear>{t.filter_clear}</a>
        </form>
    }
}

/// Events with their provenance, newest first.
#[component]
pub(super) fn EventTable(
    lang: Lang,
    rows: Vec<AdminEventRow>,
    with_subject: bool,
) -> impl IntoView {
    let t = texts(lang);
    if rows.is_empty() {
        return view! { <p class="empty">{t.no_events}</p> }.into_any();
    }
    let body = rows
        .into_iter()
        .map(|e| {
            let subject = with_subject.then(|| {
                let href = format!("/admin/subjects/{}?lang={}", e.subject, lang.key());
                let short: String = e.subject.chars().rev().take(8).collect::<Vec<_>>().into_iter().rev().collect();
                view! { <td><a href=href title=e.subject.clone()>{"…"}{short}</a></td> }
            });
            view! {
                <tr data-seq=e.seq>
                    <td>
                        <time>{e.when}</time>
                        {e.recorded.map(|r| view! { <br /><span class="fine recorded">{t.recorded_label}<time>{r}</time></span> })}
                    </td>
                    {subject}
                    <td>{e.purpose}" · "{channel_name(lang, e.channel)}</td>
                    <td>{state_name(lang, e.from)}" → "<strong>{state_name(lang, Some(e.to))}</strong></td>
                    <td>
                        {source_name(lang, &e.source)}
                        {e.collection_point.map(|name| view! { <br /><span class="fine collection-point" title=e.collection_point_key.clone()>{name}</span> })}
                    </td>
                    <td>{e.actor}</td>
                    <td>{e.notice_version.unwrap_or_default()}</td>
                    <td>{e.origin_ip.unwrap_or_default()}</td>
                    <td>{e.reason.unwrap_or_default()}{e.campaign.map(|c| format!(" [{c}]"))}</td>
                </tr>
            }
        })
        .collect_view();
    let subject_head = with_subject.then(|| view! { <th scope="col">{t.subject_column}</th> });
    view! {
        <div class="table-wrap">
            <table class="history events">
                <thead>
                    <tr>
                        <th scope="col">{t.when}</th>
                        {subject_head}
                        <th scope="col">{t.purpose}</th>
                        <th scope="col">{t.change}</th>
                        <th scope="col">{t.source}</th>
                        <th scope="col">{t.actor}</th>
                        <th scope="col">{t.notice_version}</th>
                        <th scope="col">{t.origin}</th>
                        <th scope="col">{t.reason}</th>
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// The link to the next, older page of events.
#[component]
pub(super) fn OlderEvents(
    lang: Lang,
    base: String,
    query: String,
    next: Option<i64>,
) -> impl IntoView {
    let t = texts(lang);
    next.map(|before| {
        let href = format!(
            "{base}?{}",
            join_query(&query, &format!("before={before}&lang={}", lang.key()))
        );
        view! { <nav class="pager"><a rel="next" href=href>{t.older_events}</a></nav> }
    })
}

/// Downloads of everything the filters select, streamed; with JavaScript, a progress bar.
#[component]
pub(super) fn Exports(lang: Lang, query: String) -> impl IntoView {
    let t = texts(lang);
    let href = |ext: &str| {
        format!(
            "/admin/events.{ext}?{}",
            join_query(&query, &format!("lang={}", lang.key()))
        )
    };
    view! {
        <div class="exports">
            <a class="button secondary export" href=href("csv") download="doui-events.csv">{t.export_csv}</a>
            <a class="button secondary export" href=href("jsonl") download="doui-events.jsonl">{t.export_jsonl}</a>
            <progress class="export-progress" hidden max="1" value="0" aria-label=t.export_progress></progress>
            <span class="export-status" role="status"></span>
            <p class="help">{t.export_help}</p>
            <script src="/export.js" defer nonce=use_nonce()></script>
        </div>
    }
}

/// A line per series, one point per day, drawn as SVG on the server (no script needed).
#[component]
fn Chart(
    lang: Lang,
    title: &'static str,
    days: Vec<String>,
    series: Vec<ChartSeries>,
) -> impl IntoView {
    const W: f64 = 720.0;
    const H: f64 = 200.0;
    const LEFT: f64 = 40.0;
    const BOTTOM: f64 = 22.0;
    const COLORS: [&str; 8] = [
        "#1f6feb", "#d73a49", "#2da44e", "#bf8700", "#8250df", "#0a7f86", "#cf222e", "#57606a",
    ];
    let t = texts(lang);
    // The busiest lines, at most eight.
    let mut series = series;
    series.sort_by_key(|s| std::cmp::Reverse(s.values.iter().sum::<i64>()));
    series.truncate(COLORS.len());
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .max()
        .unwrap_or(0);
    if max == 0 || days.is_empty() {
        return view! {
            <figure class="chart"><figcaption>{title}</figcaption><p class="empty">{t.chart_empty}</p></figure>
        }
        .into_any();
    }
    let n = days.len().max(2) as f64 - 1.0;
    let x = move |i: usize| LEFT + (W - LEFT - 8.0) * i as f64 / n;
    let y = move |v: i64| 8.0 + (H - BOTTOM - 8.0) * (1.0 - v as f64 / max as f64);
    let lines = series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let points = s
                .values
                .iter()
                .enumerate()
                .map(|(d, v)| format!("{:.1},{:.1}", x(d), y(*v)))
                .collect::<Vec<_>>()
                .join(" ");
            let dash = (!s.granted).then_some("5 3");
            view! {
                <polyline points=points fill="none" stroke=COLORS[i] stroke-width="2" stroke-dasharray=dash>
                    <title>{s.label.clone()}</title>
                </polyline>
            }
        })
        .collect_view();
    let legend = series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let kind = if s.granted { "" } else { " ↓" };
            let dash = (!s.granted).then_some("4 2");
            view! {
                <li>
                    <svg class="swatch" viewBox="0 0 16 8" width="16" height="8" aria-hidden="true">
                        <line x1="0" y1="4" x2="16" y2="4" stroke=COLORS[i] stroke-width="3" stroke-dasharray=dash />
                    </svg>
                    {s.label.clone()}{kind}" ("{s.values.iter().sum::<i64>()}")"
                </li>
            }
        })
        .collect_view();
    let first = days.first().cloned().unwrap_or_default();
    let last = days.last().cloned().unwrap_or_default();
    let view_box = format!("0 0 {W} {H}");
    view! {
        <figure class="chart">
            <figcaption>{title}</figcaption>
            <svg viewBox=view_box role="img" aria-label=title preserveAspectRatio="none">
                <line x1=LEFT y1=H - BOTTOM x2=W y2=H - BOTTOM stroke="#888" />
                <line x1=LEFT y1="8" x2=LEFT y2=H - BOTTOM stroke="#888" />
                <text x="2" y="16" font-size="11">{max}</text>
                <text x="2" y=H - BOTTOM font-size="11">"0"</text>
                <text x=LEFT y=H - 6.0 font-size="11">{first}</text>
                <text x=W - 70.0 y=H - 6.0 font-size="11">{last}</text>
                {lines}
            </svg>
            <ul class="legend">{legend}</ul>
        </figure>
    }
    .into_any()
}

/// Every subject's events: filters, charts, the stream, exports (viewer and up).
#[component]
pub fn AdminEventsPage() -> impl IntoView {
    let lang = visitor_lang();
    let t = texts(lang);
    let (filter, before) = filter_from_query();
    let data = Resource::new_blocking(
        || (),
        move |_| {
            let f = filter.clone();
            async move {
                let page = admin_events(
                    f.purpose.clone(),
                    f.channel.clone(),
                    f.source.clone(),
                    f.from.clone(),
                    f.until.clone(),
                    before,
                );
                let chart = admin_chart(f.purpose, f.channel, f.source, f.from, f.until);
                let (me, (purposes, page, chart)) = super::with_admin(async {
                    let (purposes, page, chart) =
                        futures_util::future::join3(admin_purposes(), page, chart).await;
                    Ok((purposes?, page?, chart?))
                })
                .await?;
                Ok::<_, crate::error::ApiError>((me, purposes, page, chart))
            }
        },
    );
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((me, purposes, page, chart)) => {
                        let name = |f: &PurposeForm| if lang == Lang::Ja { f.name_ja.clone() } else { f.name_en.clone() };
                        let options = purposes.iter().map(|p| (p.form.key.clone(), name(&p.form))).collect();
                        view! {
                            <ConsoleFrame lang me title=t.event_stream>
                                <section class="card">
                                    <h1>{t.event_stream}</h1>
                                    <EventFilters lang action="/admin/events".to_owned() filter=page.filter.clone() purposes=options />
                                    <Exports lang query=page.query.clone() />
                                </section>
                                <section class="card charts">
                                    <h2>{t.charts}</h2>
                                    <Chart lang title=t.chart_by_purpose days=chart.days.clone() series=chart.series.clone() />
                                    <Chart lang title=t.chart_by_source days=chart.days.clone() series=chart.sources.clone() />
                                </section>
                                <section class="card">
                                    <EventTable lang rows=page.rows.clone() with_subject=true />
                                    <OlderEvents lang base="/admin/events".to_owned() query=page.query.clone() next=page.next_before />
                                </section>
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
