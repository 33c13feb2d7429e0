//! The Doui server: configuration, storage backends, HTTP and the command line. The rules live in
//! the `app` crate; this crate gives them a database and a network.

pub mod api_v1;
pub mod cli;
pub mod config;
pub mod demo;
pub mod http;
pub mod inbound;
pub mod keys;
pub mod store;
pub mod unsubscribe;

use std::{net::SocketAddr, sync::Arc};

use app::services::{Sender, Services, Settings};
use leptos::prelude::LeptosOptions;

use crate::config::Config;

/// Opens the store, applies migrations and loads the signing keys.
pub async fn services(config: &Config) -> anyhow::Result<Services> {
    std::fs::create_dir_all(&config.data_dir).map_err(|e| {
        anyhow::anyhow!(
            "creating the data directory {}: {e}",
            config.data_dir.display()
        )
    })?;
    let store = store::open(&config.database_url).await?;
    store
        .migrate()
        .await
        .map_err(|e| anyhow::anyhow!("migrating the database: {e}"))?;
    let keyring = keys::load_or_create(&config.data_dir, config.token_secret.as_deref())?;
    let services = Services {
        store,
        keyring: Arc::new(keyring),
        settings: Arc::new(Settings {
            public_url: config.public_url.clone(),
            notice_version: config.notice_version.clone(),
            link_validity_days: config.link_validity_days,
            sender: Sender {
                name: config.sender_name.clone(),
                postal_address: config.sender_address.clone(),
                contact: config.sender_contact.clone(),
            },
            reply_domain: config.reply_domain.clone(),
        }),
    };
    services
        .seed_purposes()
        .await
        .map_err(|e| anyhow::anyhow!("seeding purposes: {e}"))?;
    Ok(services)
}

pub fn leptos_options(config: &Config, addr: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("doui")
        .site_root(config.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build()
}

/// A server listening on its socket.
pub struct Running {
    pub addr: SocketAddr,
    pub services: Services,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Binds `config.listen` (port 0 picks a free port) and serves until the process ends.
pub async fn start(config: &Config, services: Services) -> anyhow::Result<Running> {
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let state = http::AppState {
        services: services.clone(),
        leptos_options: leptos_options(config, addr),
        trust_forwarded_for: config.trust_forwarded_for,
        inbound_secret: config.inbound_secret.clone(),
    };
    let app = http::router(state).into_make_service_with_connect_info::<SocketAddr>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown())
            .await
    });
    Ok(Running {
        addr,
        services,
        task,
    })
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
