//! Everything one running simulator holds, shared by its listeners.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Mutex, RwLock};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use crate::config::{Profile, SimConfig};
use crate::sessions::Table;
use crate::tree::Tree;

/// Injected misbehaviour (`POST /_sim/faults`), counted down as requests arrive.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// The next N Redfish requests answer `fail_status` (default 500) with the profile's
    /// InternalError envelope.
    pub fail_next: u32,
    pub fail_status: Option<u16>,
    /// The next N Redfish requests answer 200 with a body that is not JSON.
    pub malformed_next: u32,
    /// Extra latency of every session DELETE, ms.
    pub delete_latency_ms: u64,
    /// The next N session DELETEs (only those) answer `fail_status` (default 500), for tests
    /// that need one delete to fail whatever other requests come first.
    pub fail_delete_next: u32,
    /// Extra latency of every Redfish request while set, ms (a slow BMC).
    pub latency_ms: u64,
    /// The next N Redfish requests take `slow_ms` longer (a BMC that answers after its
    /// client gave up).
    pub slow_next: u32,
    pub slow_ms: u64,
    /// The next N Redfish answers send their headers and half their body (`Content-Length`
    /// names the whole), then the connection closes.
    pub truncate_next: u32,
    /// As `truncate_next`, but the connection is reset (RST) mid-body.
    pub reset_next: u32,
    /// Every Nth request authenticated by a session drops that session once answered: its
    /// token is refused from then on (a 401 storm). 0 = off.
    pub revoke_every: u32,
}

/// How an answer is cut short (`truncate_next`, `reset_next`): put in the response's
/// extensions by the handler, carried out by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Half the body, then the connection closes (FIN).
    Truncate,
    /// Half the body, then the connection is reset (RST).
    Reset,
}

/// One line of the request log (`GET /_sim/log`).
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    pub method: String,
    pub path: String,
    pub status: u16,
    /// `oob`, `inband` or `chif`.
    pub channel: &'static str,
    /// `session`, `basic`, `chif` or `none`.
    pub auth: &'static str,
    pub peer: String,
}

pub const LOG_CAPACITY: usize = 20_000;

pub struct Sim {
    pub cfg: SimConfig,
    pub table: Mutex<Table>,
    pub tree: RwLock<Tree>,
    pub faults: Mutex<Faults>,
    pub log: Mutex<VecDeque<LogEntry>>,
    /// Connections are refused until then (`/_sim/reset`).
    pub down_until: Mutex<Option<Instant>>,
    /// BMC-side concurrency (`--max-concurrency`).
    pub concurrency: Option<Semaphore>,
    /// Addresses of the in-band listeners, once bound.
    pub inband_addrs: Mutex<Vec<SocketAddr>>,
    /// The account's user and password: `--user/--password`, changed by `/_sim/account`
    /// (as a BMC makes a new bootstrap account after a reset).
    pub account: Mutex<(String, String)>,
    /// (requests authenticated by a session, sessions revoked) under `revoke_every`.
    pub revocations: Mutex<(u64, u64)>,
    /// Open SSE streams (`GET /redfish/v1/EventService/SSE`), fed by `POST /_sim/event`.
    pub subscribers: Mutex<Vec<tokio::sync::mpsc::Sender<bytes::Bytes>>>,
    /// The last event's id.
    pub event_id: Mutex<u64>,
}

impl Sim {
    pub fn new(cfg: SimConfig) -> anyhow::Result<Sim> {
        let profile = cfg.profile;
        let max = cfg.max_sessions.unwrap_or(profile.default_max_sessions());
        let table = Table::new(profile, max, cfg.session_timeout.unwrap_or(1800));
        let tree = Tree::build(profile, cfg.tree.as_deref())?;
        let account = Mutex::new((cfg.user.clone(), cfg.password.clone()));
        Ok(Sim {
            concurrency: cfg.max_concurrency.map(Semaphore::new),
            cfg,
            table: Mutex::new(table),
            tree: RwLock::new(tree),
            faults: Mutex::new(Faults::default()),
            log: Mutex::new(VecDeque::new()),
            down_until: Mutex::new(None),
            inband_addrs: Mutex::new(Vec::new()),
            account,
            revocations: Mutex::new((0, 0)),
            subscribers: Mutex::new(Vec::new()),
            event_id: Mutex::new(0),
        })
    }

    pub fn profile(&self) -> Profile {
        self.cfg.profile
    }

    pub fn is_down(&self) -> bool {
        let mut down = self.down_until.lock().unwrap_or_else(|e| e.into_inner());
        match *down {
            Some(until) if Instant::now() < until => true,
            Some(_) => {
                *down = None;
                false
            }
            None => false,
        }
    }

    pub fn record(&self, entry: LogEntry) {
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() >= LOG_CAPACITY {
            log.pop_front();
        }
        log.push_back(entry);
    }

    pub fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }
}
