//! hostagentd: connect to the BMC (retrying until it answers), hold the agent session, serve
//! the local API on a Unix socket, run the reaper every `reaper.interval` (at once, with a
//! shorter idle threshold, when the table is near full), and log out at shutdown.

pub mod admission;
pub mod api;
pub mod build;
pub mod client;
pub mod core_dumps;
pub mod credentials;
pub mod logging;
pub mod peer;
pub mod refusals;
pub mod routes;
pub mod server;
pub mod sockdiag;
pub mod socket;
pub mod systemd;
pub mod tls_listener;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UnixListener;
use tokio::sync::watch;

use crate::config::Settings;
use crate::reaper::{CleanOptions, Policy};
use crate::service::Service;
use crate::session::agent::{keep_alive_interval, keep_alive_loop};

/// What the routes and loops share.
pub struct Daemon {
    pub settings: Settings,
    pub service: Arc<Service>,
    pub proxy: crate::proxy::Proxy,
    /// Reaper cycles completed (`status`'s `reaper_cycles`).
    pub reaper_cycles: std::sync::atomic::AtomicU64,
}

/// Runs until `shutdown` resolves, then logs out with a fresh timeout. The listeners answer
/// from the start ([`api::Api`]: "connecting" until the BMC has answered).
pub async fn run(
    settings: Settings,
    sysfs_root: std::path::PathBuf,
    listener: UnixListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let notifier = systemd::Notifier::from_env();
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    let https = match settings.api.listen_https {
        Some(addr) => Some(tls_listener::bind(addr).await?),
        None => None,
    };
    let api = Arc::new(api::Api::new(&settings));
    let mut tasks = vec![tokio::spawn(server::serve(
        api.clone(),
        listener,
        stop_rx.clone(),
    ))];
    if let Some(https) = https {
        tasks.push(tokio::spawn(tls_listener::serve(
            api.clone(),
            https,
            stop_rx.clone(),
        )));
    }
    notifier.status("connecting to the BMC");
    let on_unreachable = |e: &build::BuildError| api.set_last_error(e);
    let connected = tokio::select! {
        s = build::connect_with_retry(&settings, &sysfs_root, &on_unreachable) => Some(s),
        _ = &mut shutdown => None,
    };
    let service = match connected {
        Some(Ok(s)) => Arc::new(s),
        other => {
            let _ = stop_tx.send(true);
            for task in tasks {
                let _ = task.await;
            }
            return match other {
                Some(Err(e)) => Err(e.into()),
                _ => Ok(()),
            };
        }
    };
    let timeout = service.agent.session_timeout().await;
    let proxy =
        crate::proxy::Proxy::new(service.agent.clone(), timeout, settings.api.cache_ttl).await;
    let daemon = Arc::new(Daemon {
        settings,
        service: service.clone(),
        proxy,
        reaper_cycles: Default::default(),
    });
    api.set_ready(daemon.clone());
    notifier.ready();
    notifier.status(&format!(
        "serving; BMC at {}",
        service.agent.transport().endpoint()
    ));
    tasks.extend([
        tokio::spawn(keep_alive_loop(
            service.agent.clone(),
            keep_alive_interval(timeout),
            stop_rx.clone(),
        )),
        tokio::spawn(reaper_loop(daemon.clone(), stop_rx.clone())),
    ]);
    if let Some((plan, index)) = service.link.clone() {
        tasks.push(tokio::spawn(link_loop(
            service.clone(),
            plan,
            index,
            stop_rx.clone(),
        )));
    }
    if let Some(every) = systemd::Notifier::watchdog_interval() {
        tasks.push(tokio::spawn(watchdog_loop(every, stop_rx.clone())));
    }
    shutdown.await;
    notifier.stopping();
    tracing::info!("stopping: logging out of the BMC");
    let _ = stop_tx.send(true);
    for task in tasks {
        let _ = task.await;
    }
    // Leases end with the agent: their sessions would otherwise outlive it on the BMC.
    service.leases.close_all().await;
    if let Err(e) = service.agent.logout().await {
        tracing::warn!(error = %e, "logout at shutdown failed");
    }
    Ok(())
}

/// Re-applies the host interface when it comes back (a BMC reset re-enumerates its NIC) and
/// logs in again at once rather than at the next request.
async fn link_loop(
    service: Arc<Service>,
    plan: crate::discovery::link::LinkPlan,
    index: u32,
    mut stop: watch::Receiver<bool>,
) {
    let (tx, mut events) = tokio::sync::mpsc::channel(8);
    let watcher = tokio::spawn(crate::discovery::watch::watch(plan, Some(index), tx));
    loop {
        let event = tokio::select! {
            e = events.recv() => e,
            _ = stop.changed() => None,
        };
        match event {
            Some(crate::discovery::watch::LinkEvent::Up(up)) => {
                tracing::info!(ifname = %up.ifname, "the host interface is back");
                if let Err(e) = service.agent.keep_alive().await {
                    tracing::warn!(error = %e, "the BMC does not answer yet after the link came back");
                }
            }
            Some(crate::discovery::watch::LinkEvent::Down) => {
                tracing::warn!(
                    message_id = crate::events::BMC_UNREACHABLE,
                    "the host interface is gone (BMC reset?)"
                )
            }
            None => break,
        }
    }
    watcher.abort();
}

async fn watchdog_loop(every: Duration, mut stop: watch::Receiver<bool>) {
    let notifier = systemd::Notifier::from_env();
    loop {
        notifier.watchdog();
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Cleans by policy every interval; when the table is near full, cleans at once with the
/// shorter threshold.
async fn reaper_loop(daemon: Arc<Daemon>, mut stop: watch::Receiver<bool>) {
    let r = &daemon.settings.reaper;
    // A full or near-full table at start (Basic fallback, or the limit known) is cleaned at
    // once; otherwise the first cycle comes one interval after start.
    let full = matches!(
        daemon.service.agent.auth().await,
        crate::session::AuthState::Basic
    ) || daemon.near_full().await;
    let first = if full {
        tokio::time::Instant::now()
    } else {
        tokio::time::Instant::now() + r.interval
    };
    let mut tick = tokio::time::interval_at(first, r.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = daemon.cycle().await {
            tracing::warn!(message_id = crate::events::BMC_UNREACHABLE, error = %e, "reaper cycle failed");
        }
        if let Err(e) = daemon.service.agent.upgrade().await {
            tracing::debug!(error = %e, "still no session of our own");
        }
    }
}

impl Daemon {
    /// Whether `count` sessions fill the table to `reaper.near_full` of its known limit.
    async fn is_near_full(&self, count: usize) -> bool {
        let Some(limit) = *self.service.limit.lock().await else {
            return false;
        };
        count as f64 >= limit as f64 * self.settings.reaper.near_full
    }

    async fn near_full(&self) -> bool {
        match self.service.sessions().await {
            Ok((sessions, _)) => self.is_near_full(sessions.len()).await,
            Err(_) => false,
        }
    }

    /// One reaper cycle on one listing: the near-full check and the clean share it.
    async fn cycle(&self) -> Result<(), crate::session::SessionError> {
        let r = &self.settings.reaper;
        let (sessions, now) = self.service.sessions().await?;
        let mut policy = Policy::from_settings(r);
        if self.is_near_full(sessions.len()).await {
            tracing::warn!(
                message_id = crate::events::TABLE_NEAR_FULL,
                "the BMC's session table is near full: cleaning with the shorter idle threshold"
            );
            policy.idle = r.near_full_idle;
        }
        let report = self
            .service
            .clean_listed(sessions, now, &policy, &CleanOptions::default(), &|_, _| {})
            .await;
        if !report.deleted.is_empty() || !report.failed.is_empty() {
            tracing::info!(
                deleted = report.deleted.len(),
                failed = report.failed.len(),
                "reaper cycle"
            );
        }
        self.reaper_cycles
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}
