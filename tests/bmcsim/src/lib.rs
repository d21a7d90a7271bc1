//! bmcsim: a Redfish BMC simulator faithful to how iLO 5/6/7, iDRAC and bmcweb handle
//! sessions — limits, idle expiry on a controllable clock, session kinds by channel, vendor
//! error envelopes — so that hostagent and real Redfish clients can be tested without a BMC.
//!
//! Modules: [`config`] (the CLI as a struct), [`sessions`] (the session table and clock),
//! [`render`] (each profile's JSON), [`tree`] (the resource tree), `handler`/`redfish`/`login`
//! (requests), `control` (the `/_sim/` API), `server` (listeners and TLS).

// Handlers return `Result<_, Reply>` where the error is the HTTP answer itself, built once per
// request; boxing it would only add an allocation.
#![allow(clippy::result_large_err)]

pub mod config;
mod control;
mod handler;
mod ilo_files;
mod login;
mod redfish;
pub mod render;
mod server;
pub mod sessions;
mod state;
mod streams;
pub mod tree;
mod tree_dmtf;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

pub use config::{Profile, SimConfig};
pub use sessions::{Kind, SimSession};
pub use state::Faults;
pub use tree_dmtf::ILO7_APP_ACCOUNTS;

/// A running simulator. Dropping it does not stop it: call [`SimHandle::shutdown`].
pub struct SimHandle {
    sim: Arc<state::Sim>,
    listen: Vec<SocketAddr>,
    inband: Vec<SocketAddr>,
    cert_sha256: String,
    cert_pem: String,
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Binds every listener and starts serving.
pub async fn start(cfg: SimConfig) -> anyhow::Result<SimHandle> {
    let oob = if cfg.listen.is_empty() {
        vec!["127.0.0.1:0".parse()?]
    } else {
        cfg.listen.clone()
    };
    let mut bound = Vec::new();
    for (addrs, channel) in [
        (&oob, handler::Channel::OutOfBand),
        (&cfg.inband_listen, handler::Channel::InBand),
    ] {
        for addr in addrs {
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
            bound.push((listener.local_addr()?, listener, channel));
        }
    }
    let addrs: Vec<SocketAddr> = bound.iter().map(|(a, _, _)| *a).collect();
    let tls = if cfg.http {
        None
    } else {
        Some(server::make_tls(&addrs)?)
    };
    let sim = Arc::new(state::Sim::new(cfg)?);
    let (shutdown, rx) = watch::channel(false);
    let (mut listen, mut inband, mut tasks) = (Vec::new(), Vec::new(), Vec::new());
    for (addr, listener, channel) in bound {
        if channel == handler::Channel::InBand {
            inband.push(addr)
        } else {
            listen.push(addr)
        }
        let acceptor = tls.as_ref().map(|t| t.acceptor.clone());
        tasks.push(tokio::spawn(server::serve(
            sim.clone(),
            listener,
            channel,
            acceptor,
            rx.clone(),
        )));
    }
    *sim.inband_addrs.lock().unwrap_or_else(|e| e.into_inner()) = inband.clone();
    let (cert_sha256, cert_pem) = tls.map(|t| (t.sha256, t.cert_pem)).unwrap_or_default();
    Ok(SimHandle {
        sim,
        listen,
        inband,
        cert_sha256,
        cert_pem,
        shutdown,
        tasks,
    })
}

fn url(http: bool, addr: &SocketAddr) -> String {
    format!("{}://{addr}", if http { "http" } else { "https" })
}

impl SimHandle {
    /// `https://127.0.0.1:PORT` (or `http://`) of the first out-of-band listener.
    pub fn base_url(&self) -> String {
        url(self.sim.cfg.http, &self.listen[0])
    }

    pub fn inband_url(&self) -> Option<String> {
        self.inband.first().map(|a| url(self.sim.cfg.http, a))
    }

    pub fn listen_addrs(&self) -> Vec<SocketAddr> {
        self.listen.iter().chain(&self.inband).copied().collect()
    }

    /// Lowercase hex SHA-256 of the DER certificate (empty with `--http`).
    pub fn cert_sha256(&self) -> String {
        self.cert_sha256.clone()
    }

    pub fn cert_pem(&self) -> String {
        self.cert_pem.clone()
    }

    pub fn profile(&self) -> Profile {
        self.sim.profile()
    }

    /// Ground truth: the live sessions, oldest first.
    pub fn sessions(&self) -> Vec<SimSession> {
        self.sim.table().list()
    }

    /// Every token the simulator has issued, including those of sessions since deleted.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.sim.table().issued_tokens().to_vec()
    }

    /// Makes `count` sessions of `kind` as tools would, and forgets them. Returns how many
    /// the table took.
    pub fn leak(&self, count: usize, kind: Kind, user: Option<&str>) -> usize {
        let body = serde_json::json!({ "count": count, "kind": kind, "user": user });
        control::leak_direct(&self.sim, &body)
    }

    /// A BMC reboot that is over at once (`/_sim/reset` with `down_s` 0): every session is
    /// gone and iDRAC numbers sessions from 2 again.
    pub fn reboot(&self) {
        self.sim.table().reboot();
    }

    /// Resolves when a reset's down time (`/_sim/reset` `down_s`) is over and the simulator
    /// answers again; at once when it is up.
    pub async fn until_up(&self) {
        let until = *self
            .sim
            .down_until
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(until) = until {
            tokio::time::sleep_until(until.into()).await;
        }
    }

    /// `/_sim/leak` with a full body (`count`, `kind`, `user`, `undeletable`); the new ids.
    pub fn leak_with(&self, body: serde_json::Value) -> Vec<String> {
        control::leak_ids(&self.sim, &body)
    }

    pub fn advance_clock(&self, secs: i64) {
        let mut table = self.sim.table();
        table.clock_offset += secs;
        table.sweep();
    }

    /// Drops one session by id (`POST /_sim/revoke`); whether it existed.
    pub fn revoke(&self, id: &str) -> bool {
        self.sim.table().remove_by_id(id).is_some()
    }

    /// The request log (`GET /_sim/log`), oldest first.
    pub fn log(&self) -> Vec<serde_json::Value> {
        let log = self.sim.log.lock().unwrap_or_else(|e| e.into_inner());
        log.iter()
            .map(|e| serde_json::to_value(e).unwrap_or_default())
            .collect()
    }

    /// Sessions dropped by the `revoke_every` fault so far.
    pub fn revocations(&self) -> u64 {
        self.sim
            .revocations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
    }

    pub fn set_faults(&self, faults: Faults) {
        *self.sim.faults.lock().unwrap_or_else(|e| e.into_inner()) = faults;
    }

    /// The `{"ready":true,...}` line the binary prints.
    pub fn ready_line(&self) -> String {
        let listen: Vec<String> = self
            .listen_addrs()
            .iter()
            .map(|a| url(self.sim.cfg.http, a))
            .collect();
        serde_json::json!({ "ready": true, "listen": listen, "cert_sha256": self.cert_sha256 })
            .to_string()
    }

    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}
