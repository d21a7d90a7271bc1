//! The daemon's loops once connected: the reaper, the host-interface link watcher, and the
//! systemd watchdog.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::systemd;
use crate::api::Core;
use crate::reaper::{CleanOptions, Policy};
use crate::service::Service;

/// Re-applies the host interface when it comes back (a BMC reset re-enumerates its NIC) and
/// logs in again at once rather than at the next request; keeps its DHCP lease meanwhile
/// (a new keeper for each new link).
pub(super) async fn link(
    service: Arc<Service>,
    plan: crate::discovery::link::LinkPlan,
    up: crate::discovery::link::LinkUp,
    mut stop: watch::Receiver<bool>,
) {
    let keep = |up: crate::discovery::link::LinkUp| {
        tokio::spawn(async move {
            let ifname = up.ifname.clone();
            if let Err(e) = crate::discovery::dhcp_lease::keep(up, None).await {
                tracing::warn!(%ifname, error = %e, "stopped keeping the DHCP lease");
            }
        })
    };
    let (tx, mut events) = tokio::sync::mpsc::channel(8);
    let watcher = tokio::spawn(crate::discovery::watch::watch(plan, Some(up.ifindex), tx));
    let mut keeper = keep(up);
    loop {
        let event = tokio::select! {
            e = events.recv() => e,
            _ = stop.changed() => None,
        };
        match event {
            Some(crate::discovery::watch::LinkEvent::Up(up)) => {
                tracing::info!(ifname = %up.ifname, "the host interface is back");
                keeper.abort();
                keeper = keep(up.clone());
                if let Err(e) = service.agent.keep_alive().await {
                    tracing::warn!(error = %e, "the BMC does not answer yet after the link came back");
                }
            }
            Some(crate::discovery::watch::LinkEvent::Renamed(up)) => {
                if let Err(e) = service.agent.transport().follow_interface(&up.ifname) {
                    tracing::warn!(ifname = %up.ifname, error = %e, "cannot bind to the renamed host interface");
                }
                keeper.abort();
                keeper = keep(up);
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
    keeper.abort();
}

pub(super) async fn watchdog(every: Duration, mut stop: watch::Receiver<bool>) {
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
pub(super) async fn reaper(daemon: Arc<Core>, mut stop: watch::Receiver<bool>) {
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
        let textfile = daemon.settings.metrics.textfile.as_deref();
        crate::api::metrics::write_textfile(textfile, daemon.metrics_text().await).await;
    }
}

impl Core {
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
        crate::metrics::global().reaper_ran();
        if let Some(ledger) = self.service.agent.ledger() {
            ledger.flush();
        }
        self.reaper_cycles
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}
