//! The daemon's HMCs while it runs: each HMC's listener and logon task under a stop of its
//! own, and the reload (SIGHUP, `systemctl reload hostagentd`) that removes and adds `[[hmc]]`
//! tables without a restart. Only `[[hmc]]` tables are reloaded: every other setting needs a
//! restart (hostagentd(8)).
//!
//! A table removed: the routes stop finding it (404), its listener closes, its virtual sessions
//! end, and the agent's session is logged off the HMC and its key dropped from the keyring. A
//! table added: its logon task (with the usual back-off) and listener start. A table changed:
//! removed, then added. A config that does not load changes nothing.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::api::{tls_listener, Api, Scope};
use crate::config::{HmcSettings, Settings};
use crate::hmc::Hmc;

/// What SIGHUP brings: the config as it now loads, or why it does not.
pub type Reload = anyhow::Result<Settings>;

/// One HMC's tasks and the stop that ends them.
struct Running {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

pub struct HmcTasks {
    api: Arc<Api>,
    running: HashMap<String, Running>,
    /// The settings in force, but for `hmc` (what a reload does not change).
    others: Settings,
}

/// `settings` without its `[[hmc]]` tables.
fn without_hmcs(settings: &Settings) -> Settings {
    Settings {
        hmc: Vec::new(),
        ..settings.clone()
    }
}

impl HmcTasks {
    /// Starts every HMC the API holds: its listener (an error if one cannot bind, as any
    /// listener at start) and its logon task. Also logs off, in the background, what a previous
    /// run left in the keyring for HMCs no longer configured ([`crate::hmc::orphans`]).
    pub async fn start(api: &Arc<Api>, settings: &Settings) -> anyhow::Result<HmcTasks> {
        let mut me = HmcTasks {
            api: api.clone(),
            running: HashMap::new(),
            others: without_hmcs(settings),
        };
        for hmc in api.hmcs.all() {
            me.spawn(hmc).await?;
        }
        // A daemon without `[[hmc]]` tables makes no keyctl call (docs/HMC.md).
        let ring = (!api.hmcs.is_empty())
            .then(|| api.hmcs.builder().and_then(|b| b.keyring()))
            .flatten();
        if let (Some(ring), Some(builder)) = (ring, api.hmcs.builder()) {
            let (hmcs, prefix) = (api.hmcs.clone(), builder.prefix().to_string());
            tokio::spawn(async move { crate::hmc::orphans::log_off(ring, &prefix, &hmcs).await });
        }
        Ok(me)
    }

    async fn spawn(&mut self, hmc: Arc<Hmc>) -> anyhow::Result<()> {
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        let name = hmc.settings.name.clone();
        if let Some(addr) = hmc.settings.listen {
            let https = tls_listener::bind_for(addr, &format!("hmc.{name}.listen")).await?;
            tasks.push(tokio::spawn(tls_listener::serve_scope(
                self.api.clone(),
                https,
                Scope::Hmc(name.as_str().into()),
                stop_rx.clone(),
            )));
        }
        tasks.push(tokio::spawn(crate::hmc::run(hmc, stop_rx)));
        self.running.insert(name, Running { stop, tasks });
        Ok(())
    }

    /// Applies reloads until `stop`, then stops every HMC's tasks (the caller logs them off).
    pub async fn run(
        mut self,
        mut reloads: mpsc::UnboundedReceiver<Reload>,
        mut stop: watch::Receiver<bool>,
    ) {
        loop {
            tokio::select! {
                Some(reload) = reloads.recv() => self.reload(reload).await,
                _ = stop.changed() => break,
            }
        }
        for (_, running) in self.running.drain() {
            running.stop().await;
        }
    }

    async fn reload(&mut self, reload: Reload) {
        let new = match reload {
            Ok(s) => s,
            Err(e) => {
                return tracing::error!(error = %format!("{e:#}"), "reload: the configuration does not load; nothing changed");
            }
        };
        if without_hmcs(&new) != self.others {
            tracing::warn!("reload: only [[hmc]] tables are reloaded; restart for the rest");
        }
        let old: HashMap<String, HmcSettings> = self
            .api
            .hmcs
            .all()
            .iter()
            .map(|h| (h.settings.name.clone(), h.settings.clone()))
            .collect();
        let wanted: HashMap<&str, &HmcSettings> =
            new.hmc.iter().map(|h| (h.name.as_str(), h)).collect();
        let gone = old
            .keys()
            .filter(|name| wanted.get(name.as_str()) != Some(&&old[*name]));
        let mut removed: Vec<String> = gone.cloned().collect();
        removed.sort();
        let added: Vec<&HmcSettings> = new
            .hmc
            .iter()
            .filter(|h| old.get(&h.name) != Some(*h))
            .collect();
        // A changed table is built before the old one goes: an unreadable account keeps it.
        let mut built = Vec::new();
        for h in added {
            match self.build(h) {
                Ok(hmc) => built.push(hmc),
                Err(e) => {
                    tracing::error!(hmc = %h.name, error = %format!("{e:#}"), "reload: this [[hmc]] table cannot be started; the running one (if any) stays");
                    removed.retain(|name| *name != h.name);
                }
            }
        }
        for name in &removed {
            self.remove(name).await;
        }
        let added: Vec<String> = built.iter().map(|h| h.settings.name.clone()).collect();
        for hmc in built {
            self.add(hmc).await;
        }
        tracing::info!(
            removed = %removed.join(","),
            added = %added.join(","),
            "reload: [[hmc]] tables applied"
        );
    }

    fn build(&self, h: &HmcSettings) -> anyhow::Result<Arc<Hmc>> {
        let builder = self.api.hmcs.builder().ok_or_else(|| {
            anyhow::anyhow!("this API serves no HMC (built without [[hmc]] support)")
        })?;
        Ok(Arc::new(builder.build(h)?))
    }

    async fn add(&mut self, hmc: Arc<Hmc>) {
        let name = hmc.settings.name.clone();
        self.api.hmcs.insert(hmc.clone());
        if let Err(e) = self.spawn(hmc).await {
            tracing::error!(hmc = %name, error = %format!("{e:#}"), "reload: the HMC's listener cannot start; the HMC is not served");
            self.api.hmcs.remove(&name);
        } else {
            tracing::info!(hmc = %name, "reload: serving the HMC of a new [[hmc]] table");
        }
    }

    /// Stops serving the HMC, closes its listener, ends its virtual sessions, logs the agent's
    /// session off and drops its key.
    async fn remove(&mut self, name: &str) {
        let Some(hmc) = self.api.hmcs.remove(name) else {
            return;
        };
        if let Some(running) = self.running.remove(name) {
            running.stop().await;
        }
        hmc.sessions.clear();
        match hmc.upstream.close().await {
            Ok(()) => {
                tracing::info!(hmc = %name, "reload: [[hmc]] table removed; the agent's session is logged off")
            }
            Err(e) => {
                tracing::warn!(hmc = %name, error = %e, "reload: [[hmc]] table removed; logging off its session failed")
            }
        }
    }
}
