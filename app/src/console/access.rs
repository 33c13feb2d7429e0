//! Who may use the console and the API: admins and their roles, API keys and their scopes.

use leptos::prelude::*;

use super::{ConsoleError, ConsoleFrame, with_admin};
use crate::{
    admin::{admin_list_admins, admin_list_api_keys},
    frame::visitor_lang,
    i18n::texts,
};

/// Role keys, lowest first (for the role form).
const ROLES: [&str; 3] = ["viewer", "operator", "owner"];

/// Admin accounts and their roles (owner).
#[component]
pub fn AdminAdminsPage() -> impl IntoView {
    let lang = visitor_lang();
    let t = texts(lang);
    let data = Resource::new_blocking(|| (), |_| with_admin(admin_list_admins()));
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((me, admins)) => {
                        let csrf = me.csrf.clone();
                        let back = format!("/admin/admins?lang={}", lang.key());
                        let rows = admins
                            .into_iter()
                            .map(|a| {
                                let options = ROLES
                                    .iter()
                                    .map(|r| view! { <option value=*r selected={*r == a.role}>{*r}</option> })
                                    .collect_view();
                                view! {
                                    <tr>
                                        <td>{a.email.clone()}</td>
                                        <td>
                                            <form method="post" action="/api/admin/set_role" class="inline">
                                                <input type="hidden" name="csrf" value=csrf.clone() />
                                                <input type="hidden" name="lang" value=lang.key() />
                                                <input type="hidden" name="return_to" value=back.clone() />
                                                <input type="hidden" name="email" value=a.email.clone() />
                                                <select name="role" aria-label=t.role>{options}</select>
                                                <label><input type="checkbox" name="disabled" value="true" checked=a.disabled />" "{t.disabled}</label>
                                                <button type="submit">{t.save}</button>
                                            </form>
                                        </td>
                                        <td>{if a.totp { t.yes } else { t.no }}</td>
                                        <td>{a.created.clone()}</td>
                                    </tr>
                                }
                            })
                            .collect_view();
                        view! {
                            <ConsoleFrame lang me title=t.admins>
                                <section class="card">
                                    <h1>{t.admins}</h1>
                                    <table class="history">
                                        <thead>
                                            <tr>
                                                <th scope="col">{t.email_label}</th>
                                                <th scope="col">{t.role}</th>
                                                <th scope="col">{t.two_factor}</th>
                                                <th scope="col">{t.created}</th>
                                            </tr>
                                        </thead>
                                        <tbody>{rows}</tbody>
                                    </table>
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

/// API keys for senders' systems (owner).
#[component]
pub fn AdminApiKeysPage() -> impl IntoView {
    let lang = visitor_lang();
    let t = texts(lang);
    let data = Resource::new_blocking(|| (), |_| with_admin(admin_list_api_keys()));
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((me, keys)) => {
                        let csrf = me.csrf.clone();
                        let back = format!("/admin/api-keys?lang={}", lang.key());
                        let rows = keys
                            .into_iter()
                            .map(|k| {
                                let revoke = (!k.revoked).then(|| view! {
                                    <form method="post" action="/api/admin/revoke_api_key" class="inline">
                                        <input type="hidden" name="csrf" value=csrf.clone() />
                                        <input type="hidden" name="lang" value=lang.key() />
                                        <input type="hidden" name="return_to" value=back.clone() />
                                        <input type="hidden" name="id" value=k.id.clone() />
                                        <button type="submit" class="danger">{t.revoke}</button>
                                    </form>
                                });
                                view! {
                                    <tr>
                                        <td><code>{k.id.clone()}</code></td>
                                        <td>{k.name.clone()}</td>
                                        <td>{k.scopes.clone()}</td>
                                        <td>{k.created.clone()}</td>
                                        <td>{if k.revoked { t.revoked } else { t.active }}{revoke}</td>
                                    </tr>
                                }
                            })
                            .collect_view();
                        view! {
                            <ConsoleFrame lang me title=t.api_keys>
                                <section class="card">
                                    <h1>{t.api_keys}</h1>
                                    <table class="history">
                                        <thead>
                                            <tr>
                                                <th scope="col">"ID"</th>
                                                <th scope="col">{t.name}</th>
                                                <th scope="col">{t.scopes}</th>
                                                <th scope="col">{t.created}</th>
                                                <th scope="col">{t.state_label}</th>
                                            </tr>
                                        </thead>
                                        <tbody>{rows}</tbody>
                                    </table>
                                    <form method="post" action="/admin/api-keys" class="stacked">
                                        <input type="hidden" name="csrf" value=csrf.clone() />
                                        <input type="hidden" name="lang" value=lang.key() />
                                        <label for="name">{t.name}</label>
                                        <input id="name" name="name" required maxlength="100" />
                                        <fieldset>
                                            <legend>{t.scopes}</legend>
                                            {scope_keys()
                                                .into_iter()
                                                .map(|scope| {
                                                    view! {
                                                        <label>
                                                            <input type="checkbox" name="scopes" value=scope checked=scope == "links" />
                                                            " "
                                                            {scope}
                                                        </label>
                                                    }
                                                })
                                                .collect_view()}
                                        </fieldset>
                                        <button type="submit">{t.create_key}</button>
                                    </form>
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

/// Every API scope's key, for the key form (the console renders on the server only; the browser
/// bundle has no API keys).
fn scope_keys() -> Vec<&'static str> {
    #[cfg(feature = "ssr")]
    {
        crate::api_key::ApiScope::ALL
            .into_iter()
            .map(|s| s.key())
            .collect()
    }
    #[cfg(not(feature = "ssr"))]
    {
        Vec::new()
    }
}
