//! Doui's application crate: the pure domain, the rules (`services`, server side), the server
//! functions and the Leptos components. The server crate adds storage, HTTP and the CLI.
//!
//! Layers, innermost first: `domain` (pure) → `store` (trait) → `services` (the rules) →
//! `api` (server functions) → `frame` (what every page shares) → the person's `pages` and the
//! `console` → `routes` (all of them). ARCHITECTURE.md has the map.

pub mod admin;
pub mod admin_leaving;
pub mod admin_webhooks;
pub mod api;
#[cfg(feature = "ssr")]
pub mod api_key;
#[cfg(feature = "ssr")]
pub mod auth;
pub mod console;
pub mod do_not_sell;
pub mod domain;
pub mod error;
pub mod frame;
pub mod i18n;
pub mod islands;
pub mod local_time;
#[cfg(feature = "ssr")]
pub mod mail;
pub mod notices;
pub mod objection;
pub mod pages;
pub mod pause;
pub mod privacy;
pub mod provided;
#[cfg(feature = "ssr")]
pub mod rate;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod services;
#[cfg(feature = "ssr")]
pub mod signing;
#[cfg(feature = "ssr")]
pub mod store;
pub mod subscribe;
#[cfg(feature = "ssr")]
pub mod token;
pub mod view;

pub use routes::{App, shell};

/// Entry point of the browser bundle: hydrates the islands (the interactive parts) only.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    leptos::mount::hydrate_islands();
}
