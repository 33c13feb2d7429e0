//! Operating Doui: its settings ([`config`]), metrics for Prometheus ([`prometheus`], [`track`]),
//! the built site inside the binary ([`site`]) and a graceful shutdown ([`shutdown`]).

pub mod config;
pub mod prometheus;
pub mod shutdown;
pub mod site;
pub mod track;

pub use config::{OpsConfig, OpsKeys};
pub use shutdown::Shutdown;

/// This binary's version (Cargo.toml's).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The commit it was built from (`git rev-parse --short HEAD` at build time), or `unknown`.
pub const COMMIT: &str = env!("DOUI_COMMIT");
/// What `doui --version` prints after the name.
pub const LONG_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("DOUI_COMMIT"), ")");
