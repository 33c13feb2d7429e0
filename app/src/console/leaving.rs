//! Why people leave (issue 34 item 1): the reasons given after unsubscribing, per purpose and
//! per campaign, each row a bar of its reasons (no script: server-rendered SVG).

use leptos::prelude::*;

use super::{ConsoleError, ConsoleFrame, with_admin};
use crate::{
    admin_leaving::{LeaveRow, admin_leave_reasons},
    domain::Lang,
    frame::visitor_lang,
    i18n::chart_column,
};

struct Copy {
    title: &'static str,
    intro: &'static str,
    by_purpose: &'static str,
    by_campaign: &'static str,
    purpose: &'static str,
    campaign: &'static str,
    total: &'static str,
    none: &'static str,
    /// The reasons, in `LeaveReason::ALL`'s order.
    reasons: [&'static str; 4],
}

const JA: Copy = Copy {
    title: "配信停止の理由",
    intro: "配信停止のあとに任意でたずねた理由（直近 90 日）。回答は停止の記録に添えて保存され、停止そのものには影響しません。",
    by_purpose: "利用目的ごと",
    by_campaign: "キャンペーンごと",
    purpose: "利用目的",
    campaign: "キャンペーン",
    total: "合計",
    none: "まだ回答はありません。",
    reasons: ["多すぎる", "関係がない", "登録した覚えがない", "その他"],
};

const EN: Copy = Copy {
    title: "Why people leave",
    intro: "The reasons people chose to give after unsubscribing (last 90 days). Each answer is kept beside the withdrawals it explains and never changes them.",
    by_purpose: "By purpose",
    by_campaign: "By campaign",
    purpose: "Purpose",
    campaign: "Campaign",
    total: "Total",
    none: "No answer yet.",
    reasons: [
        "Too many messages",
        "Not relevant",
        "Never signed up",
        "Other",
    ],
};

const fn copy(lang: Lang) -> &'static Copy {
    match lang {
        Lang::Ja => &JA,
        Lang::En => &EN,
    }
}

/// A row's answers as one bar of four parts, widths in proportion (200 units in all).
fn bar(counts: [i64; 4], label: String) -> impl IntoView {
    let total = counts.iter().sum::<i64>().max(1) as f64;
    let mut x = 0.0;
    let parts = counts
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let w = *n as f64 / total * 200.0;
            let part = view! {
                <rect x=format!("{x:.1}") y="0" width=format!("{w:.1}") height="14" class=format!("reason-{i}") />
            };
            x += w;
            part
        })
        .collect_view();
    view! {
        <svg class="leave-bar" viewBox="0 0 200 14" width="200" height="14" role="img" aria-label=label>{parts}</svg>
    }
}

fn table(
    c: &'static Copy,
    heading: &'static str,
    first: &'static str,
    chart: &'static str,
    rows: Vec<LeaveRow>,
) -> impl IntoView {
    let body = rows
        .into_iter()
        .map(|r| {
            let total: i64 = r.counts.iter().sum();
            let described = c
                .reasons
                .iter()
                .zip(r.counts)
                .map(|(name, n)| format!("{name} {n}"))
                .collect::<Vec<_>>()
                .join(", ");
            let cells = r
                .counts
                .into_iter()
                .map(|n| view! { <td class="num">{n}</td> })
                .collect_view();
            view! {
                <tr>
                    <th scope="row">{r.label}</th>
                    {cells}
                    <td class="num">{total}</td>
                    <td>{bar(r.counts, described)}</td>
                </tr>
            }
        })
        .collect_view();
    let heads = c.reasons.iter().enumerate().map(|(i, name)| {
        view! { <th scope="col"><span class=format!("swatch reason-{i}") aria-hidden="true"></span>{*name}</th> }
    }).collect_view();
    view! {
        <section class="card leave-reasons">
            <h2>{heading}</h2>
            <div class="table-wrap">
                <table>
                    <thead><tr><th scope="col">{first}</th>{heads}<th scope="col">{c.total}</th><th scope="col"><span class="sr-only">{chart}</span></th></tr></thead>
                    <tbody>{body}</tbody>
                </table>
            </div>
        </section>
    }
}

#[component]
pub fn AdminLeaveReasonsPage() -> impl IntoView {
    let lang = visitor_lang();
    let c = copy(lang);
    let data = Resource::new_blocking(|| (), |_| with_admin(admin_leave_reasons()));
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((me, report)) => {
                        let content = if report.by_purpose.is_empty() {
                            view! { <section class="card"><p>{c.none}</p></section> }.into_any()
                        } else {
                            view! {
                                {table(c, c.by_purpose, c.purpose, chart_column(lang), report.by_purpose)}
                                {table(c, c.by_campaign, c.campaign, chart_column(lang), report.by_campaign)}
                            }
                            .into_any()
                        };
                        view! {
                            <ConsoleFrame lang me title=c.title>
                                <section class="card">
                                    <h1>{c.title}</h1>
                                    <p>{c.intro}</p>
                                </section>
                                {content}
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

/// The nav link's label.
pub(crate) const fn nav_label(lang: Lang) -> &'static str {
    copy(lang).title
}
