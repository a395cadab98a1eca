//! `mugai serve`: runs every service enabled in the configuration (today the SMTP content
//! filter, `[smtp]`, and the hourly quarantine retention purge) until SIGINT or SIGTERM, then finishes the messages in progress (at most
//! a minute) before it exits.

use super::{load, Cli, EXIT_CLEAN, EXIT_USAGE};
use anyhow::{Context as _, Result};
use mugai::quarantine::{retention, Quarantine};
use mugai::smtp::filter::EngineFilter;
use mugai::smtp::Server;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {}

pub fn run(cli: &Cli, _a: &ServeArgs) -> Result<u8> {
    let Some((config, engine)) = load(cli)? else { return Ok(EXIT_USAGE) };
    if !config.smtp.enabled {
        eprintln!("mugai: no service is enabled (smtp.enabled = false)");
        return Ok(EXIT_USAGE);
    }
    let quarantine = Arc::new(Quarantine::from_config(&config.quarantine)?);
    retention::spawn(quarantine.clone(), config.quarantine.retention, retention::INTERVAL)?;
    let filter = Arc::new(EngineFilter::new(Arc::new(engine), quarantine));
    // The runtime only moves bytes; disarming runs on the engine's own pool.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(std::thread::available_parallelism().map(|n| n.get().min(4)).unwrap_or(2))
        .thread_name("mugai-smtp")
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let server = Server::bind(config.smtp.clone(), filter).await?;
        let addr = server.local_addr()?;
        tracing::info!(listen = %addr, next_hop = %config.smtp.next_hop, "SMTP filter listening");
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let stop = async {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            tracing::info!("stopping: finishing the messages in progress");
        };
        server.run_until(stop).await;
        tracing::info!("stopped");
        anyhow::Ok(())
    })?;
    Ok(EXIT_CLEAN)
}
