//! The admin console's pages, rendered on the server; forms post to the admin server functions
//! (or, for creating an API key, to `/admin/api-keys`) and work without JavaScript. Event views
//! (filters, tables, exports, charts) are in `events`, purpose management in `purposes`.

mod access;
mod chain;
mod collection_points;
mod do_not_sell;
mod erasure;
mod events;
mod imports;
mod leaving;
mod notices;
mod purposes;
mod recipients;
mod subjects;
mod webhooks;

pub use access::{AdminAdminsPage, AdminApiKeysPage};
pub use chain::AdminChainPage;
pub use collection_points::AdminCollectionPointsPage;
pub use events::AdminEventsPage;
pub use imports::AdminImportsPage;
pub use leaving::AdminLeaveReasonsPage;
pub use notices::AdminNoticesPage;
pub use purposes::AdminPurposesPage;
pub use recipients::AdminRecipientsPage;
pub use subjects::{AdminHome, AdminSubjectPage};
pub use webhooks::AdminWebhooksPage;

use leptos::prelude::*;

use crate::{
    admin::admin_me,
    domain::{ConsentState, Lang},
    frame::{ErrorPage, Frame, SignOutForms, page_csrf, visitor_lang},
    i18n::texts,
    view::SignedInAdmin,
};

/// The signed-in admin and a page's data, asked for at once: each is a round trip or two to the
/// database, and neither needs the other. Not being signed in wins over the data's own error.
pub(crate) async fn with_admin<T>(
    data: impl std::future::Future<Output = Result<T, crate::error::ApiError>>,
) -> Result<(SignedInAdmin, T), crate::error::ApiError> {
    let (me, data) = futures_util::future::join(admin_me(), data).await;
    Ok((me?, data?))
}

pub(crate) fn state_name(lang: Lang, s: Option<ConsentState>) -> &'static str {
    let t = texts(lang);
    match s {
        None => t.not_chosen,
        Some(ConsentState::Granted) => t.granted,
        Some(ConsentState::Withdrawn) => t.withdrawn,
    }
}

/// The console's frame: navigation by role, and signing out.
#[component]
pub(crate) fn ConsoleFrame(
    lang: Lang,
    me: SignedInAdmin,
    title: &'static str,
    children: Children,
) -> impl IntoView {
    let t = texts(lang);
    let owner = me.role == "owner";
    let q = move |p: &str| format!("{p}?lang={}", lang.key());
    let owner_links = owner.then(|| {
        view! {
            <a href=q("/admin/admins")>{t.admins}</a>
            <a href=q("/admin/api-keys")>{t.api_keys}</a>
        }
    });
    view! {
        <Frame lang title=title>
            <nav class="console-nav" aria-label=t.admin_title>
                <a href=q("/admin")>{t.subjects}</a>
                <a href=q("/admin/events")>{t.event_stream}</a>
                <a href=q("/admin/purposes")>{t.purposes_title}</a>
                <a href=q("/admin/notices")>{crate::notices::copy(lang).console_title}</a>
                <a href=q("/admin/recipients")>{recipients::nav_label(lang)}</a>
                <a href=q("/admin/collection-points")>{collection_points::nav_label(lang)}</a>
                <a href=q("/admin/imports")>{imports::nav_label(lang)}</a>
                <a href=q("/admin/webhooks")>{webhooks::nav_label(lang)}</a>
                <a href=q("/admin/leave-reasons")>{leaving::nav_label(lang)}</a>
                <a href=q("/admin/chain")>{t.chain_title}</a>
                {owner_links}
                <span class="who">{me.email.clone()}" · "{me.role.clone()}</span>
            </nav>
            {children()}
            <SignOutForms lang csrf=me.csrf.clone() action="/admin/signout" />
        </Frame>
    }
}

/// Email, password and (when enrolled) the authenticator code.
#[component]
pub fn AdminSignInPage() -> impl IntoView {
    let lang = visitor_lang();
    let t = texts(lang);
    view! {
        <Frame lang title=t.admin_signin_title>
            <section class="card signin">
                <h1>{t.admin_signin_title}</h1>
                <form method="post" action="/admin/signin" class="stacked">
                    <input type="hidden" name="csrf" value=page_csrf() />
                    <input type="hidden" name="lang" value=lang.key() />
                    <label for="email">{t.email_label}</label>
                    <input id="email" name="email" type="email" autocomplete="username" required />
                    <label for="password">{t.password_label}</label>
                    <input id="password" name="password" type="password" autocomplete="current-password" required />
                    <label for="code">{t.code_label}</label>
                    <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" maxlength="7" />
                    <button type="submit">{t.sign_in}</button>
                </form>
            </section>
        </Frame>
    }
}

#[component]
pub(crate) fn ConsoleError(lang: Lang, code: String) -> impl IntoView {
    let t = texts(lang);
    let signin = (code == "sign_in_required").then(|| {
        let href = format!("/admin/signin?lang={}", lang.key());
        view! { <p class="center"><a class="button" href=href>{t.sign_in}</a></p> }
    });
    view! {
        {signin}
        <ErrorPage lang code />
    }
}
