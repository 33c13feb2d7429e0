//! The audit chain: its length, head, latest checkpoint and public key, and a walk on request.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{ConsoleError, ConsoleFrame, with_admin};
use crate::{admin::admin_chain, frame::visitor_lang, i18n::texts};

/// One subject: the matrix, the operator's form, and every event with its provenance.
/// The hash chain's state, and a walk of all of it on request (viewer).
#[component]
pub fn AdminChainPage() -> impl IntoView {
    let lang = visitor_lang();
    let t = texts(lang);
    let verify = use_query_map().read_untracked().get("verify").is_some();
    let data = Resource::new_blocking(|| (), move |_| with_admin(admin_chain(verify)));
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((me, c)) => {
                        // Suspect events the walk named, each with its event (item 8).
                        let findings = (c.checked && !c.findings.is_empty()).then(|| {
                            let items = c
                                .findings
                                .iter()
                                .map(|f| view! { <li>{f.clone()}</li> })
                                .collect_view();
                            view! {
                                <div class="card error chain-findings" role="alert">
                                    <h2>{t.chain_suspect}</h2>
                                    <ul>{items}</ul>
                                </div>
                            }
                        });
                        let result = c.checked.then(|| match c.broken.clone() {
                            None if !c.findings.is_empty() => ().into_any(),
                            None => view! {
                                <p class="notice ok" role="status">
                                    {t.chain_ok}" "{c.checkpoints_checked}" "{t.chain_checkpoints_ok}
                                </p>
                            }
                            .into_any(),
                            Some(b) => view! {
                                <div class="card error" role="alert"><h2>{t.chain_broken}</h2><p>{b}</p></div>
                            }
                            .into_any(),
                        });
                        let href = format!("/admin/chain?verify=1&lang={}", lang.key());
                        view! {
                            <ConsoleFrame lang me title=t.chain_title>
                                <section class="card">
                                    <h1>{t.chain_title}</h1>
                                    <p>{t.chain_intro}</p>
                                    {result}
                                    {findings}
                                    <p>{t.chain_length}": "<strong class="chain-length">{c.length}</strong></p>
                                    <p class="fine">{t.chain_head}": "<code>{c.head.clone()}</code></p>
                                    <p><a class="button" href=href>{t.chain_verify}</a></p>
                                </section>
                                <section class="card">
                                    <h2>{t.chain_checkpoint}</h2>
                                    {match c.latest_checkpoint.clone() {
                                        Some((length, at)) => view! {
                                            <p class="latest-checkpoint">
                                                <strong>{length}</strong>" · "<time datetime=at.clone()>{at.clone()}</time>
                                            </p>
                                        }
                                        .into_any(),
                                        None => view! { <p>{t.chain_no_checkpoint}</p> }.into_any(),
                                    }}
                                    <p class="fine">{t.chain_public_key}" ("{c.key_id.clone()}"): "<code class="public-key">{c.public_key.clone()}</code></p>
                                    <p class="fine">{t.chain_keep}</p>
                                    <p><a class="button secondary" href="/admin/chain/checkpoints.jsonl" download="checkpoints.jsonl">{t.chain_download}</a></p>
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
