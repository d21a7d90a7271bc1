//! hmcsim: an IBM Power HMC REST API simulator faithful to tests/fixtures/hmc/PROVENANCE.md —
//! logon/logoff with the XML documents, `X-API-Session` tokens of the real shape, 403 without
//! the header and 401 for an unknown or expired one, the web-session limit, per-user idle
//! timeouts (0 = never), logon/logoff latency, and the captured feeds with their ETags — so that
//! hostagent and real HMC clients (pypowervm) can be tested without an HMC.
//!
//! Modules: [`config`] (the CLI as a struct), [`sessions`] (the session table and clock),
//! [`xml`] (the documents), [`feeds`] (the captures), `handler`/`logon`/`resources`
//! (requests), `control` (the `/_sim/` API), `server` (listeners and TLS), `body` (answers).

// Handlers return `Result<_, Reply>` where the error is the HTTP answer itself, built once per
// request; boxing it would only add an allocation.
#![allow(clippy::result_large_err)]

pub mod body;
pub mod config;
mod control;
pub mod feeds;
mod handler;
mod logon;
mod resources;
mod server;
pub mod sessions;
mod state;
pub mod xml;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

pub use config::HmcSimConfig;
pub use sessions::{session_id, HmcSession};
pub use state::{FaultTarget, Faults, LogEntry};

/// The path of the logon (`PUT`) and logoff (`DELETE`).
pub const LOGON_PATH: &str = handler::LOGON_PATH;

/// A running simulator. Dropping it does not stop it: call [`HmcSimHandle::shutdown`].
pub struct HmcSimHandle {
    sim: Arc<state::Sim>,
    listen: Vec<SocketAddr>,
    cert_sha256: String,
    cert_pem: String,
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Binds every listener and starts serving.
pub async fn start(cfg: HmcSimConfig) -> anyhow::Result<HmcSimHandle> {
    cfg.validate().map_err(|e| anyhow::anyhow!("hmcsim: {e}"))?;
    let wanted = if cfg.listen.is_empty() {
        vec!["127.0.0.1:0".parse()?]
    } else {
        cfg.listen.clone()
    };
    let mut bound = Vec::new();
    for addr in &wanted {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("hmcsim: cannot listen on {addr}: {e}"))?;
        bound.push((listener.local_addr()?, listener));
    }
    let listen: Vec<SocketAddr> = bound.iter().map(|(a, _)| *a).collect();
    let tls = if cfg.http {
        None
    } else {
        Some(server::make_tls(&listen)?)
    };
    let sim = Arc::new(state::Sim::new(cfg));
    let (shutdown, rx) = watch::channel(false);
    let tasks = bound
        .into_iter()
        .map(|(_, listener)| {
            let acceptor = tls.as_ref().map(|t| t.acceptor.clone());
            tokio::spawn(server::serve(sim.clone(), listener, acceptor, rx.clone()))
        })
        .collect();
    let (cert_sha256, cert_pem) = tls.map(|t| (t.sha256, t.cert_pem)).unwrap_or_default();
    Ok(HmcSimHandle {
        sim,
        listen,
        cert_sha256,
        cert_pem,
        shutdown,
        tasks,
    })
}

impl HmcSimHandle {
    fn url(&self, addr: &SocketAddr) -> String {
        let scheme = if self.sim.cfg.http { "http" } else { "https" };
        format!("{scheme}://{addr}")
    }

    /// `https://127.0.0.1:PORT` (or `http://`) of the first listener.
    pub fn base_url(&self) -> String {
        self.url(&self.listen[0])
    }

    pub fn listen_addrs(&self) -> Vec<SocketAddr> {
        self.listen.clone()
    }

    /// Lowercase hex SHA-256 of the DER certificate (empty with `http`).
    pub fn cert_sha256(&self) -> String {
        self.cert_sha256.clone()
    }

    pub fn cert_pem(&self) -> String {
        self.cert_pem.clone()
    }

    /// Ground truth: the live web sessions, oldest first (expired ones swept first).
    pub fn sessions(&self) -> Vec<HmcSession> {
        self.sim.table().list()
    }

    /// Every token issued since start, logged-off and expired sessions' too.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.sim.table().issued_tokens().to_vec()
    }

    /// Makes `count` sessions of `user` as a script that never logs off would, up to the
    /// limit; returns how many were made.
    pub fn leak(&self, count: usize, user: &str, audit_memento: Option<&str>) -> usize {
        control::leak_sessions(&self.sim, count, user, audit_memento)
    }

    /// Drops every session, as an HMC reboot does; returns how many there were.
    pub fn drop_sessions(&self) -> usize {
        self.sim.table().clear()
    }

    /// Moves the simulated clock; sessions idle past their user's timeout expire.
    pub fn advance_clock(&self, secs: i64) {
        let mut table = self.sim.table();
        table.clock_offset += secs;
        table.sweep();
    }

    /// Adds or replaces an account with its idle timeout (seconds, 0 = never).
    pub fn set_account(&self, user: &str, password: &str, timeout_s: u64) {
        self.sim.table().set_account(user, password, timeout_s);
    }

    pub fn set_faults(&self, faults: Faults) {
        *self.sim.faults() = faults;
    }

    /// The faults still pending (counters count down as requests arrive).
    pub fn faults(&self) -> Faults {
        self.sim.faults().clone()
    }

    /// The request log, oldest first (the last 20,000).
    pub fn log(&self) -> Vec<LogEntry> {
        self.sim.log().iter().cloned().collect()
    }

    pub fn clear_log(&self) {
        self.sim.log().clear();
    }

    /// The `{"ready":true,...}` line the binary prints.
    pub fn ready_line(&self) -> String {
        let listen: Vec<String> = self.listen.iter().map(|a| self.url(a)).collect();
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
