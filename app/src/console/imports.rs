//! Imports (issue 31): every bulk import, who ran it and when, the file's name and SHA-256, and
//! what it wrote, so an auditor can trace an imported consent (its events name the import) to its
//! file; each import's error report downloads as CSV. Everyone in the console reads it.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{ConsoleError, ConsoleFrame, with_admin};
use crate::{domain::Lang, error::ApiError, frame::visitor_lang};

/// One import as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRowView {
    pub id: String,
    pub created_by: String,
    /// RFC 3339.
    pub created_at: String,
    pub file_name: String,
    pub file_sha256: String,
    pub state: String,
    pub rows_read: i64,
    pub events_written: i64,
    pub rows_refused: i64,
    pub failure: Option<String>,
}

/// The latest imports, newest first (viewer).
#[server(endpoint = "admin/imports")]
pub async fn admin_imports() -> Result<Vec<ImportRowView>, ApiError> {
    use crate::{
        api::{admin, refuse, services},
        auth::Role,
    };
    let services = services()?;
    let (_, lang) = admin(&services, Role::Viewer).await?;
    let jobs = services
        .console
        .imports(200)
        .await
        .map_err(|e| refuse(lang, e.into()))?;
    Ok(jobs
        .into_iter()
        .map(|j| ImportRowView {
            id: j.id.to_string(),
            created_by: j.created_by,
            created_at: j
                .created_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            file_name: j.file_name,
            file_sha256: j.file_sha256,
            state: j.state.key().to_owned(),
            rows_read: j.rows_read,
            events_written: j.events_written,
            rows_refused: j.rows_refused,
            failure: j.failure,
        })
        .collect())
}

/// The page's wording (server-rendered only).
struct Copy {
    title: &'static str,
    intro: &'static str,
    when: &'static str,
    who: &'static str,
    file: &'static str,
    state: &'static str,
    rows_read: &'static str,
    events_written: &'static str,
    rows_refused: &'static str,
    report: &'static str,
    none: &'static str,
    running: &'static str,
    done: &'static str,
    failed: &'static str,
}

const JA: Copy = Copy {
    title: "取り込み",
    intro: "他のツールから出力したファイルの一括取り込み（doui import、POST /api/v1/imports）。取り込んだ同意のイベントには取り込みの ID が記録され、ここからファイル名と SHA-256 までたどれます。",
    when: "日時",
    who: "実行者",
    file: "ファイル（SHA-256）",
    state: "状態",
    rows_read: "読んだ行",
    events_written: "記録したイベント",
    rows_refused: "拒否した行",
    report: "エラーレポート（CSV）",
    none: "取り込みはまだありません。",
    running: "実行中",
    done: "完了",
    failed: "失敗",
};

const EN: Copy = Copy {
    title: "Imports",
    intro: "Bulk imports of files exported from other tools (doui import, POST /api/v1/imports). Every event an import wrote names it, so an imported consent can be traced here to its file's name and SHA-256.",
    when: "When",
    who: "Who",
    file: "File (SHA-256)",
    state: "State",
    rows_read: "Rows read",
    events_written: "Events written",
    rows_refused: "Rows refused",
    report: "Error report (CSV)",
    none: "No import yet.",
    running: "running",
    done: "done",
    failed: "failed",
};

const fn copy(lang: Lang) -> &'static Copy {
    match lang {
        Lang::Ja => &JA,
        Lang::En => &EN,
    }
}

/// The nav link's label.
pub(crate) const fn nav_label(lang: Lang) -> &'static str {
    copy(lang).title
}

#[component]
pub fn AdminImportsPage() -> impl IntoView {
    let lang = visitor_lang();
    let c = copy(lang);
    let data = Resource::new_blocking(|| (), |_| with_admin(admin_imports()));
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((me, imports)) => {
                        let list = if imports.is_empty() {
                            view! { <p class="empty">{c.none}</p> }.into_any()
                        } else {
                            let rows = imports
                                .into_iter()
                                .map(|i| {
                                    let state = match i.state.as_str() {
                                        "running" => c.running,
                                        "done" => c.done,
                                        _ => c.failed,
                                    };
                                    let report = (i.rows_refused > 0).then(|| {
                                        let href = format!("/admin/imports/{}/errors.csv", i.id);
                                        view! { <a href=href download="errors.csv">{c.report}</a> }
                                    });
                                    view! {
                                        <tr data-import=i.id.clone()>
                                            <td><time datetime=i.created_at.clone()>{i.created_at.clone()}</time></td>
                                            <td>{i.created_by.clone()}</td>
                                            <td>{i.file_name.clone()}<br /><code class="fine">{i.file_sha256.clone()}</code></td>
                                            <td title=i.failure.clone().unwrap_or_default()>{state}</td>
                                            <td>{i.rows_read}</td>
                                            <td>{i.events_written}</td>
                                            <td>{i.rows_refused}" "{report}</td>
                                        </tr>
                                    }
                                })
                                .collect_view();
                            view! {
                                <table class="history imports">
                                    <thead>
                                        <tr>
                                            <th scope="col">{c.when}</th>
                                            <th scope="col">{c.who}</th>
                                            <th scope="col">{c.file}</th>
                                            <th scope="col">{c.state}</th>
                                            <th scope="col">{c.rows_read}</th>
                                            <th scope="col">{c.events_written}</th>
                                            <th scope="col">{c.rows_refused}</th>
                                        </tr>
                                    </thead>
                                    <tbody>{rows}</tbody>
                                </table>
                            }
                            .into_any()
                        };
                        view! {
                            <ConsoleFrame lang me title=c.title>
                                <section class="card">
                                    <h1>{c.title}</h1>
                                    <p>{c.intro}</p>
                                    {list}
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
