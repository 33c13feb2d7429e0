//! Webhooks (issue 32): every endpoint with its state (a failing or disabled one says why), its
//! cursor and its latest deliveries; owners add one (the secret is shown once), rotate its
//! secret, disable it, or enable it with a replay choice.

use leptos::prelude::*;

use super::{ConsoleError, ConsoleFrame, with_admin};
use crate::{
    admin_webhooks::{WebhookRow, admin_webhooks},
    domain::Lang,
    frame::visitor_lang,
};

/// The page's wording (server-rendered only).
struct Copy {
    title: &'static str,
    intro: &'static str,
    none: &'static str,
    add: &'static str,
    url: &'static str,
    url_hint: &'static str,
    description: &'static str,
    filters_hint: &'static str,
    kinds: &'static str,
    purposes: &'static str,
    channels: &'static str,
    sources: &'static str,
    recipient: &'static str,
    recipient_hint: &'static str,
    state: &'static str,
    active: &'static str,
    failing: &'static str,
    disabled: &'static str,
    cursor: &'static str,
    failing_since: &'static str,
    next_attempt: &'static str,
    last_success: &'static str,
    rotation_ends: &'static str,
    rotate: &'static str,
    disable: &'static str,
    enable: &'static str,
    from_stopped: &'static str,
    from_cursor: &'static str,
    from_time: &'static str,
    log: &'static str,
    log_none: &'static str,
    at: &'static str,
    event: &'static str,
    attempt: &'static str,
    status: &'static str,
    latency: &'static str,
    answer: &'static str,
    reason_by_owner: &'static str,
    reason_too_long: &'static str,
    reason_gone: &'static str,
}

const JA: Copy = Copy {
    title: "Webhook",
    intro: "同意の記録を、確定した順にほかのシステムへ送ります（Standard Webhooks 1.0 の署名付き）。各エンドポイントは自分のカーソルを持ち、2xx の応答があったときだけ進みます。失敗すると間隔を広げながら 3 日以上再送し、続けて失敗すると「失敗中」、3 日続くと「停止」になります。",
    none: "エンドポイントはまだありません。",
    add: "エンドポイントを追加",
    url: "URL",
    url_hint: "https:// で始まる公開のアドレス（ループバック・プライベート・メタデータのアドレスは使えません）",
    description: "説明",
    filters_hint: "絞り込み（カンマ区切り。空欄はすべて）",
    kinds: "イベントの種類",
    purposes: "利用目的",
    channels: "連絡手段",
    sources: "経路",
    recipient: "第三者提供の提供先",
    recipient_hint: "提供先の ID（任意・追加後は変更できません）。指定すると、その提供先に個人データを提供した本人について、提供した利用目的の撤回（と再同意）および消去だけを送り、2xx の応答を受けた時刻を提供の記録に残します。",
    state: "状態",
    active: "配信中",
    failing: "失敗中",
    disabled: "停止",
    cursor: "カーソル",
    failing_since: "失敗の開始",
    next_attempt: "次の試行",
    last_success: "最後の成功",
    rotation_ends: "旧秘密鍵の署名の終了",
    rotate: "秘密鍵を再発行",
    disable: "停止する",
    enable: "再開する",
    from_stopped: "止まったところから",
    from_cursor: "このカーソルの後から",
    from_time: "この時刻（UTC）から",
    log: "配信の記録（30 日保存）",
    log_none: "まだ配信していません。",
    at: "時刻",
    event: "イベント",
    attempt: "試行",
    status: "応答",
    latency: "所要（ms）",
    answer: "応答の先頭",
    reason_by_owner: "管理者が停止しました。",
    reason_too_long: "3 日間失敗が続いたため停止しました。受信側を直してから再開してください。",
    reason_gone: "受信側が 410 Gone を返したため停止しました。",
};

const EN: Copy = Copy {
    title: "Webhooks",
    intro: "The consent log pushed to other systems in the order it committed, signed (Standard Webhooks 1.0). Each endpoint keeps its own cursor, moved only by a 2xx answer. Failures are retried with growing waits for more than 3 days; an endpoint failing several times in a row is failing, and disabled after 3 days of failures.",
    none: "No endpoint yet.",
    add: "Add an endpoint",
    url: "URL",
    url_hint: "A public https:// address (loopback, private and metadata addresses are refused)",
    description: "Description",
    filters_hint: "Filters (comma-separated; empty: everything)",
    kinds: "Event kinds",
    purposes: "Purposes",
    channels: "Channels",
    sources: "Sources",
    recipient: "Third-party recipient",
    recipient_hint: "A recipient's id (optional, fixed once added). The endpoint then receives only the withdrawals (and re-grants) of the sharing purposes that recipient was given people's data under, and their erasures, for the people provided to it; each delivery answered 2xx is recorded with the provisions.",
    state: "State",
    active: "Active",
    failing: "Failing",
    disabled: "Disabled",
    cursor: "Cursor",
    failing_since: "Failing since",
    next_attempt: "Next attempt",
    last_success: "Last success",
    rotation_ends: "Previous secret signs until",
    rotate: "Rotate the secret",
    disable: "Disable",
    enable: "Enable",
    from_stopped: "from where it stopped",
    from_cursor: "after this cursor",
    from_time: "from this time (UTC)",
    log: "Deliveries (kept 30 days)",
    log_none: "Nothing delivered yet.",
    at: "Time",
    event: "Event",
    attempt: "Attempt",
    status: "Status",
    latency: "Latency (ms)",
    answer: "Answer (first bytes)",
    reason_by_owner: "Disabled by an admin.",
    reason_too_long: "Disabled after failing for 3 days. Fix the receiver, then enable it again.",
    reason_gone: "Disabled: the receiver answered 410 Gone.",
};

const fn copy(lang: Lang) -> &'static Copy {
    match lang {
        Lang::Ja => &JA,
        Lang::En => &EN,
    }
}

fn state_word(c: &Copy, state: &str) -> &'static str {
    match state {
        "failing" => c.failing,
        "disabled" => c.disabled,
        _ => c.active,
    }
}

fn reason_words(c: &Copy, reason: &str) -> &'static str {
    match reason {
        "failing_too_long" => c.reason_too_long,
        "gone" => c.reason_gone,
        _ => c.reason_by_owner,
    }
}

/// One endpoint: its facts, the owner's actions, its delivery log.
fn endpoint(
    lang: Lang,
    c: &'static Copy,
    e: WebhookRow,
    owner: bool,
    csrf: String,
) -> impl IntoView {
    let back = format!("/admin/webhooks?lang={}", lang.key());
    let facts = [
        (c.state, state_word(c, &e.state).to_owned()),
        (c.cursor, e.cursor.to_string()),
        (c.kinds, e.kinds.clone()),
        (c.purposes, e.purposes.clone()),
        (c.channels, e.channels.clone()),
        (c.sources, e.sources.clone()),
        (c.recipient, e.recipient.clone()),
        (c.failing_since, e.failing_since.clone().unwrap_or_default()),
        (
            c.next_attempt,
            e.next_attempt_at.clone().unwrap_or_default(),
        ),
        (
            c.last_success,
            e.last_success_at.clone().unwrap_or_default(),
        ),
        (
            c.rotation_ends,
            e.rotation_ends_at.clone().unwrap_or_default(),
        ),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> })
    .collect_view();
    let warning = e
        .disabled_reason
        .as_deref()
        .filter(|_| e.state == "disabled")
        .map(|r| {
            view! { <p class="notice warning" role="alert">{reason_words(c, r)}</p> }
        });
    let disabled = e.state == "disabled";
    let actions = owner.then(|| {
        let (id, csrf2, csrf3, back2) = (e.id.clone(), csrf.clone(), csrf.clone(), back.clone());
        let toggle = if disabled {
            view! {
                <form method="post" action="/api/admin/enable_webhook" class="stacked enable-webhook">
                    <input type="hidden" name="csrf" value=csrf2 />
                    <input type="hidden" name="lang" value=lang.key() />
                    <input type="hidden" name="return_to" value=back2 />
                    <input type="hidden" name="id" value=id.clone() />
                    <label><input type="radio" name="from" value="stopped" checked=true />" "{c.from_stopped}</label>
                    <label><input type="radio" name="from" value="cursor" />" "{c.from_cursor}" "<input name="cursor" inputmode="numeric" size="8" /></label>
                    <label><input type="radio" name="from" value="time" />" "{c.from_time}" "<input name="time" type="datetime-local" /></label>
                    <button type="submit">{c.enable}</button>
                </form>
            }
            .into_any()
        } else {
            view! {
                <form method="post" action="/api/admin/disable_webhook" class="inline disable-webhook">
                    <input type="hidden" name="csrf" value=csrf2 />
                    <input type="hidden" name="lang" value=lang.key() />
                    <input type="hidden" name="return_to" value=back2 />
                    <input type="hidden" name="id" value=id.clone() />
                    <button type="submit">{c.disable}</button>
                </form>
            }
            .into_any()
        };
        view! {
            <div class="actions">
                <form method="post" action="/admin/webhooks/rotate" class="inline rotate-webhook">
                    <input type="hidden" name="csrf" value=csrf3 />
                    <input type="hidden" name="lang" value=lang.key() />
                    <input type="hidden" name="id" value=id />
                    <button type="submit">{c.rotate}</button>
                </form>
                {toggle}
            </div>
        }
    });
    let log = if e.deliveries.is_empty() {
        view! { <p>{c.log_none}</p> }.into_any()
    } else {
        let rows = e
            .deliveries
            .into_iter()
            .map(|d| {
                let detail = if d.error.is_empty() {
                    d.answer
                } else {
                    d.error
                };
                view! {
                    <tr>
                        <td>{d.at}</td>
                        <td>{d.cursor}</td>
                        <td><code>{d.event_id}</code></td>
                        <td>{d.attempt}</td>
                        <td class="status">{d.status}</td>
                        <td>{d.latency_ms}</td>
                        <td><code>{detail}</code></td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="deliveries">
                <thead><tr>
                    <th scope="col">{c.at}</th><th scope="col">{c.cursor}</th>
                    <th scope="col">{c.event}</th><th scope="col">{c.attempt}</th>
                    <th scope="col">{c.status}</th><th scope="col">{c.latency}</th>
                    <th scope="col">{c.answer}</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    let heading = if e.description.is_empty() {
        e.url.clone()
    } else {
        format!("{} — {}", e.description, e.url)
    };
    view! {
        <section class="card webhook" data-webhook=e.id.clone() data-state=e.state.clone()>
            <h2>{heading}</h2>
            <p><code>{e.id.clone()}</code></p>
            {warning}
            <dl>{facts}</dl>
            {actions}
            <h3>{c.log}</h3>
            {log}
        </section>
    }
}

#[component]
pub fn AdminWebhooksPage() -> impl IntoView {
    let lang = visitor_lang();
    let c = copy(lang);
    let data = Resource::new_blocking(|| (), |_| with_admin(admin_webhooks()));
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((me, endpoints)) => {
                        let owner = me.role == "owner";
                        let csrf = me.csrf.clone();
                        let list = if endpoints.is_empty() {
                            view! { <section class="card"><p>{c.none}</p></section> }.into_any()
                        } else {
                            endpoints
                                .into_iter()
                                .map(|e| endpoint(lang, c, e, owner, csrf.clone()))
                                .collect_view()
                                .into_any()
                        };
                        let add = owner.then(|| view! {
                            <section class="card">
                                <h2>{c.add}</h2>
                                <form method="post" action="/admin/webhooks" class="stacked add-webhook">
                                    <input type="hidden" name="csrf" value=csrf.clone() />
                                    <input type="hidden" name="lang" value=lang.key() />
                                    <label>{c.url}<input name="url" type="url" required maxlength="2000" /></label>
                                    <p class="fine">{c.url_hint}</p>
                                    <label>{c.description}<input name="description" maxlength="500" /></label>
                                    <p class="fine">{c.filters_hint}</p>
                                    <label>{c.kinds}<input name="kinds" placeholder="consent.changed" /></label>
                                    <label>{c.purposes}<input name="purposes" placeholder="newsletter" /></label>
                                    <label>{c.channels}<input name="channels" placeholder="email" /></label>
                                    <label>{c.sources}<input name="sources" /></label>
                                    <label>{c.recipient}<input name="recipient" pattern="[a-z][a-z0-9_\\-]{1,47}" /></label>
                                    <p class="fine">{c.recipient_hint}</p>
                                    <button type="submit">{c.add}</button>
                                </form>
                            </section>
                        });
                        view! {
                            <ConsoleFrame lang me title=c.title>
                                <section class="card">
                                    <h1>{c.title}</h1>
                                    <p>{c.intro}</p>
                                </section>
                                {list}
                                {add}
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
