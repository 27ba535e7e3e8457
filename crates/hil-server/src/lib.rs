//! The HIL server: REST API v0, storage, authentication, allocation and the networking worker.
//!
//! `serve` is the one entry point: it takes a bound listener and a shutdown future, so
//! `hil-admin serve` and the tests start the server the same way.

#![forbid(unsafe_code)]

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};

pub mod allocator;
pub mod auth;
pub mod config;
pub mod error;
pub mod http;
pub mod keyed_lock;
pub mod maintenance;
pub mod metrics;
pub mod obm;
pub mod ops;
pub mod password;
pub mod store;
pub mod switches;
pub mod vms;
pub mod worker;

use config::{AuthBackend, Config};
use ops::Ctx;

/// Opens the database and builds everything operations need. Does not touch the schema.
pub async fn context(config: Config) -> Result<Arc<Ctx>, String> {
    let url = config.database_url();
    let store = store::Store::connect(&url, config.database.max_connections)
        .await
        .map_err(|e| {
            format!(
                "cannot open database {}: {e}",
                config::redact_url_password(&url)
            )
        })?;
    let allocator = allocator::Allocator::from_config(&config.allocator)?;
    let http = reqwest::Client::builder()
        .build()
        .map_err(|e| format!("cannot build HTTP client: {e}"))?;
    let metrics = Arc::new(metrics::Metrics::new());
    let obm = obm::ObmService::new(&config.obm, http.clone(), metrics.clone());
    Ok(Arc::new(Ctx {
        auth: auth::Authenticator::new(&config.auth, metrics.clone()),
        metrics,
        obm,
        vms: vms::VmService::new(&config),
        switches: switches::SwitchRegistry::from_config(&config),
        config: Arc::new(config),
        audit_log: ops::audit_log::AuditLogWriter::start(store.clone()),
        store,
        allocator,
        queue_signal: Arc::new(Notify::new()),
        http,
    }))
}

/// `hil-admin db create`: migrations, then the allocator's pool. Safe to run again.
pub async fn create_database(ctx: &Ctx) -> Result<(), String> {
    ctx.store
        .migrate()
        .await
        .map_err(|e| format!("migration failed: {e}"))?;
    let mut tx = ctx.store.begin().await.map_err(|e| e.to_string())?;
    ctx.allocator
        .populate(&mut tx)
        .await
        .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())
}

/// With database auth and no users at all, creates the configured administrator. Its password
/// comes from the config or `HIL_ADMIN_PASSWORD`; otherwise one is generated and printed once.
pub async fn bootstrap_admin(ctx: &Ctx) -> Result<(), String> {
    if ctx.config.auth.backend != AuthBackend::Database {
        return Ok(());
    }
    let mut tx = ctx.store.read().await.map_err(|e| e.to_string())?;
    let users = store::users::count(&mut tx)
        .await
        .map_err(|e| e.to_string())?;
    drop(tx);
    if users > 0 {
        return Ok(());
    }
    let name = &ctx.config.auth.bootstrap_admin;
    let (password, generated) = match &ctx.config.auth.bootstrap_password {
        Some(p) if !p.is_empty() => (p.clone(), false),
        _ => (generate_password(), true),
    };
    ops::users::ensure_admin_user(ctx, name, &password)
        .await
        .map_err(|e| e.to_string())?;
    if generated {
        // Deliberately not through the log: shown once, on the operator's terminal.
        eprintln!(
            "\n  Created administrator {name:?} with password: {password}\n  \
             (set HIL_ADMIN_PASSWORD to choose it; this is shown only once)\n"
        );
    } else {
        tracing::info!(user = %name, "created bootstrap administrator");
    }
    Ok(())
}

fn generate_password() -> String {
    use rand::distributions::{Alphanumeric, DistString};
    Alphanumeric.sample_string(&mut rand::thread_rng(), 20)
}

/// Checks that the schema exists and is current, as HIL's commands do.
pub async fn require_current_schema(ctx: &Ctx) -> Result<(), String> {
    match ctx.store.schema_is_current().await {
        Ok(true) => Ok(()),
        _ => Err("the database schema is missing or old; run `hil-admin db upgrade`".into()),
    }
}

pub struct ServeOptions {
    /// Run the networking worker in this process.
    pub worker: bool,
}

/// Serves the API on `listener` until `shutdown` completes, with the worker alongside.
pub async fn serve(
    ctx: Arc<Ctx>,
    listener: TcpListener,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    if ctx.config.auth.backend == AuthBackend::Null {
        tracing::warn!(
            "auth backend is `null`: every caller is an administrator. Development only!"
        );
    }
    // Bound first: a taken address fails the start before anything else runs.
    let metrics_listener = bind_metrics(&ctx).await?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let pruning = tokio::spawn(prune_audit_log(ctx.clone(), stop_rx.clone()));
    let worker = options
        .worker
        .then(|| tokio::spawn(spawn_worker(&ctx).run(stop_rx)));
    if options.worker {
        resume_consoles(&ctx).await;
    } else {
        ctx.obm.consoles.keep_none();
    }
    let metrics = match metrics_listener {
        Some(listener) => {
            let mut stop = stop_tx.subscribe();
            let stopped = async move {
                let _ = stop.wait_for(|stop| *stop).await;
            };
            Some(tokio::spawn(serve_metrics(ctx.clone(), listener, stopped)))
        }
        None => None,
    };
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(%addr, "HIL API listening");
    let app = http::router(ctx.clone());
    let consoles_ctx = ctx.clone();
    let shutdown = async move {
        shutdown.await;
        // Console viewers stream for ever; end them so that the connections can drain.
        consoles_ctx.obm.consoles.stop_all();
    };
    http::server::serve(
        listener,
        app,
        ctx.config
            .limits
            .connections(&ctx.config.auth.trusted_proxies),
        shutdown,
    )
    .await;
    let _ = stop_tx.send(true);
    let _ = pruning.await;
    if let Some(worker) = worker {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(8), worker).await;
    }
    if let Some(metrics) = metrics {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(8), metrics).await;
    }
    Ok(())
}

/// Deletes audit-log entries past their retention, at start and then hourly, until `stop`.
async fn prune_audit_log(ctx: Arc<Ctx>, mut stop: watch::Receiver<bool>) {
    const EVERY: std::time::Duration = std::time::Duration::from_secs(3600);
    loop {
        match ops::audit_log::prune(&ctx).await {
            Ok(0) => {}
            Ok(gone) => tracing::info!(entries = gone, "pruned the audit log"),
            Err(e) => tracing::warn!(error = %e, "pruning the audit log failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stop.wait_for(|stopped| *stopped) => return,
        }
    }
}

/// Binds `metrics.listen`, when it is set.
pub async fn bind_metrics(ctx: &Ctx) -> Result<Option<TcpListener>, String> {
    let Some(addr) = &ctx.config.metrics.listen else {
        return Ok(None);
    };
    TcpListener::bind(addr)
        .await
        .map(Some)
        .map_err(|e| format!("cannot listen on {addr} (metrics.listen): {e}"))
}

/// Serves `GET /metrics` without authentication on `listener` (the `metrics.listen` address)
/// until `shutdown` completes. Both `hil-admin serve` and `serve-networks` run it, each with
/// its own process's metrics.
pub async fn serve_metrics(
    ctx: Arc<Ctx>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "metrics listening");
    }
    let limits = ctx.config.limits.connections(&[]);
    http::server::serve(listener, http::metrics_router(ctx), limits, shutdown).await;
}

/// Starts the console sessions of nodes whose OBM is enabled (after a restart, HIL lost them).
async fn resume_consoles(ctx: &Ctx) {
    if !ctx.obm.consoles.enabled() {
        return;
    }
    let nodes = match ctx.store.read().await {
        Ok(mut tx) => store::obm::enabled_driver_nodes(&mut tx).await,
        Err(e) => {
            tracing::warn!("cannot list OBM-enabled nodes: {e}");
            return;
        }
    };
    match nodes {
        Ok(nodes) => {
            for (id, label, type_uri, config) in nodes {
                match serde_json::from_str(&config) {
                    Ok(config) => ctx.obm.start_console(&obm::DriverNode {
                        id,
                        label,
                        type_uri,
                        config,
                    }),
                    Err(e) => tracing::warn!(node = %label, "bad stored OBM config: {e}"),
                }
            }
        }
        Err(e) => tracing::warn!("cannot list OBM-enabled nodes: {e}"),
    }
}

/// A worker over the context's store and drivers.
pub fn spawn_worker(ctx: &Ctx) -> Arc<worker::Worker> {
    Arc::new(worker::Worker::new(
        ctx.store.clone(),
        ctx.switches.clone(),
        ctx.config.worker.clone(),
        ctx.config.audit.clone(),
        ctx.queue_signal.clone(),
        ctx.metrics.clone(),
    ))
}
