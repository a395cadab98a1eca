//! `mugai serve`: runs every service enabled in the configuration (the SMTP content filter,
//! `[smtp]`, every `[[dropfolder]]`, and the hourly quarantine retention purge) until SIGINT or
//! SIGTERM, then finishes the messages and files in progress (at most a minute) before it
//! exits.

use super::{load, Cli, EXIT_CLEAN, EXIT_USAGE};
use anyhow::{Context as _, Result};
use mugai::dropfolder::DropFolder;
use mugai::quarantine::{retention, Quarantine};
use mugai::smtp::filter::EngineFilter;
use mugai::smtp::Server;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {}

pub fn run(cli: &Cli, _a: &ServeArgs) -> Result<u8> {
    let Some((config, engine)) = load(cli)? else { return Ok(EXIT_USAGE) };
    if !config.smtp.enabled && config.dropfolders.is_empty() {
        eprintln!("mugai: no service is enabled (smtp.enabled = false and no [[dropfolder]])");
        return Ok(EXIT_USAGE);
    }
    let engine = Arc::new(engine);
    let quarantine = Arc::new(Quarantine::from_config(&config.quarantine)?);
    retention::spawn(quarantine.clone(), config.quarantine.retention, retention::INTERVAL)?;
    let stop = Arc::new(AtomicBool::new(false));
    let mut folders = Vec::new();
    for d in &config.dropfolders {
        let folder = Arc::new(
            DropFolder::new(d.clone(), &config, engine.clone(), quarantine.clone())
                .with_context(|| format!("drop folder {}", d.inbox.display()))?,
        );
        tracing::info!(inbox = %folder.config().inbox.display(), clean = %folder.config().clean.display(), "drop folder watched");
        let stop = stop.clone();
        folders.push(
            std::thread::Builder::new()
                .name("mugai-dropfolder".into())
                .spawn(move || {
                    if let Err(e) = folder.run(&stop) {
                        tracing::error!("drop folder {}: {e}", folder.config().inbox.display());
                    }
                })
                .context("cannot start the drop folder thread")?,
        );
    }
    let mut filter = EngineFilter::new(engine, quarantine);
    if let Some(key) = &config.smtp.receipt_key {
        // Read at start, so that a missing or exposed key stops the service before it takes mail.
        filter = filter.with_receipts(
            mugai::receipt::Signer::load(key, &config)
                .with_context(|| format!("[smtp] receipt_key {}", key.display()))?,
        );
    }
    let filter = Arc::new(filter);
    // The runtime only moves bytes; disarming runs on the engine's own pool.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(std::thread::available_parallelism().map(|n| n.get().min(4)).unwrap_or(2))
        .thread_name("mugai-smtp")
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let signalled = async {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            tracing::info!("stopping: finishing the messages and files in progress");
        };
        if config.smtp.enabled {
            let server = Server::bind(config.smtp.clone(), filter).await?;
            let addr = server.local_addr()?;
            tracing::info!(listen = %addr, next_hop = %config.smtp.next_hop, "SMTP filter listening");
            server.run_until(signalled).await;
        } else {
            signalled.await;
        }
        anyhow::Ok(())
    })?;
    stop.store(true, Ordering::SeqCst);
    for f in folders {
        let _ = f.join();
    }
    tracing::info!("stopped");
    Ok(EXIT_CLEAN)
}
