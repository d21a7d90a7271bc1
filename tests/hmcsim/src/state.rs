//! Everything one running simulator holds, shared by its listeners.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use crate::config::HmcSimConfig;
use crate::feeds::Feeds;
use crate::sessions::Table;

/// Which requests a fault hits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultTarget {
    /// Every REST request, the logon included.
    #[default]
    Any,
    /// `PUT /rest/api/web/Logon` only.
    Logon,
    /// Every REST request but the logon.
    Other,
}

/// Injected misbehaviour (`POST /_sim/faults`), counted down as targeted requests arrive; the
/// first non-zero counter in this order applies.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    pub target: FaultTarget,
    /// Answer `fail_status` (default 500) with the HMC's `HttpErrorResponse`.
    pub fail_next: u32,
    pub fail_status: Option<u16>,
    /// Answer 200 with an HTML page (a console login page or a proxy's error page).
    pub html_next: u32,
    /// Answer 200 with `application/atom+xml` that is not XML.
    pub non_xml_next: u32,
    /// Logons answer 200 with a `LogonResponse` without `X-API-Session` (no session made).
    pub logon_without_token_next: u32,
    /// Answer 200 with an Atom feed of `huge_bytes` bytes (default 2 GiB), streamed.
    pub huge_next: u32,
    pub huge_bytes: Option<u64>,
    /// Send `Content-Length` with the huge answer (default: chunked, no length).
    pub huge_declare_length: bool,
}

impl Faults {
    /// Counts one targeted request down; what to answer instead, if anything.
    pub fn take(&mut self, is_logon: bool) -> Option<Fault> {
        let hit = match self.target {
            FaultTarget::Any => true,
            FaultTarget::Logon => is_logon,
            FaultTarget::Other => !is_logon,
        };
        let take = |n: &mut u32| {
            if *n > 0 {
                *n -= 1;
                true
            } else {
                false
            }
        };
        if is_logon && take(&mut self.logon_without_token_next) {
            return Some(Fault::LogonWithoutToken);
        }
        if !hit {
            return None;
        }
        if take(&mut self.fail_next) {
            return Some(Fault::Fail(self.fail_status.unwrap_or(500)));
        }
        if take(&mut self.html_next) {
            return Some(Fault::Html);
        }
        if take(&mut self.non_xml_next) {
            return Some(Fault::NonXml);
        }
        if take(&mut self.huge_next) {
            return Some(Fault::Huge {
                bytes: self.huge_bytes.unwrap_or(2 << 30),
                declare_length: self.huge_declare_length,
            });
        }
        None
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Fault {
    Fail(u16),
    Html,
    NonXml,
    LogonWithoutToken,
    Huge { bytes: u64, declare_length: bool },
}

/// One line of the request log (`GET /_sim/log`).
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    pub method: String,
    /// Path and query as sent.
    pub path: String,
    pub status: u16,
    /// The request's `X-API-Session` header: `absent`, `valid` or `invalid`; on the logon,
    /// where it is not looked at, `absent` or `present`.
    pub api_session: &'static str,
    pub audit_memento: Option<String>,
    pub if_none_match: Option<String>,
    pub peer: String,
}

pub const LOG_CAPACITY: usize = 20_000;

pub struct Sim {
    pub cfg: HmcSimConfig,
    pub table: Mutex<Table>,
    pub feeds: Feeds,
    pub faults: Mutex<Faults>,
    pub log: Mutex<VecDeque<LogEntry>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Sim {
    pub fn new(cfg: HmcSimConfig) -> Sim {
        let mut table = Table::new(cfg.max_sessions);
        table.set_account(&cfg.user, &cfg.password, cfg.session_timeout_s);
        Sim {
            cfg,
            table: Mutex::new(table),
            feeds: Feeds::load(),
            faults: Mutex::new(Faults::default()),
            log: Mutex::new(VecDeque::new()),
        }
    }

    pub fn table(&self) -> MutexGuard<'_, Table> {
        lock(&self.table)
    }

    pub fn faults(&self) -> MutexGuard<'_, Faults> {
        lock(&self.faults)
    }

    pub fn log(&self) -> MutexGuard<'_, VecDeque<LogEntry>> {
        lock(&self.log)
    }

    pub fn record(&self, entry: LogEntry) {
        let mut log = self.log();
        if log.len() >= LOG_CAPACITY {
            log.pop_front();
        }
        log.push_back(entry);
    }
}
