//! The site's routes: every page, the person's and the console's, and the HTML shell around them.
//! The top of the page modules: it imports them all, and none imports it.

use leptos::prelude::*;
use leptos_meta::{MetaTags, provide_meta_context};
use leptos_router::{
    ParamSegment, SsrMode, StaticSegment,
    components::{Route, Router, Routes},
};

use crate::{
    console::{
        AdminAdminsPage, AdminApiKeysPage, AdminChainPage, AdminCollectionPointsPage,
        AdminEventsPage, AdminHome, AdminImportsPage, AdminLeaveReasonsPage, AdminNoticesPage,
        AdminPurposesPage, AdminRecipientsPage, AdminSignInPage, AdminSubjectPage,
        AdminWebhooksPage,
    },
    do_not_sell::DoNotSellPage,
    pages::{Home, NotFound, PreferencePage, SignInContinuePage, SignInPage, UnsubscribePage},
    privacy::PrivacyPage,
    subscribe::{ConfirmPage, SubscribePage},
};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="robots" content="noindex" />
                <link rel="icon" href="data:," />
                // The stylesheet shares the script's stem: `doui`, or `doui.<hash>` once the
                // server has the built site embedded (see server/src/ops/site.rs).
                <link rel="stylesheet" id="doui" href=format!("/pkg/{}.css", options.output_name) />
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Router>
            <Routes fallback=NotFound>
                <Route path=StaticSegment("") view=Home />
                <Route path=(StaticSegment("p"), ParamSegment("token")) view=PreferencePage ssr=SsrMode::Async />
                <Route path=(StaticSegment("u"), ParamSegment("token")) view=UnsubscribePage ssr=SsrMode::Async />
                <Route path=StaticSegment("me") view=PreferencePage ssr=SsrMode::Async />
                <Route path=StaticSegment("signin") view=SignInPage />
                <Route path=StaticSegment("privacy") view=PrivacyPage ssr=SsrMode::Async />
                <Route path=StaticSegment("subscribe") view=SubscribePage ssr=SsrMode::Async />
                <Route path=StaticSegment("do-not-sell") view=DoNotSellPage ssr=SsrMode::Async />
                <Route path=(StaticSegment("confirm"), ParamSegment("token")) view=ConfirmPage ssr=SsrMode::Async />
                <Route path=(StaticSegment("signin"), ParamSegment("token")) view=SignInContinuePage ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("signin")) view=AdminSignInPage />
                <Route path=StaticSegment("admin") view=AdminHome ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("subjects"), ParamSegment("id")) view=AdminSubjectPage ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("admins")) view=AdminAdminsPage ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("api-keys")) view=AdminApiKeysPage ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("chain")) view=AdminChainPage ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("events")) view=AdminEventsPage ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("purposes")) view=AdminPurposesPage ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("notices")) view=AdminNoticesPage ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("recipients")) view=AdminRecipientsPage ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("collection-points")) view=AdminCollectionPointsPage ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("imports")) view=AdminImportsPage ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("webhooks")) view=AdminWebhooksPage ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("leave-reasons")) view=AdminLeaveReasonsPage ssr=SsrMode::Async />
            </Routes>
        </Router>
    }
}
