//! The answers of `status` and `list`: the JSON shapes the local API serves and agentctl
//! reads (`docs/ARCHITECTURE.md`, "Interfaces"). Both sides use these types; fields are only
//! ever added.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::ownership::Owner;
use crate::redfish::{Kind, SessionInfo};

/// The `list` JSON shape of ARCHITECTURE.md, "Interfaces".
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListReport {
    pub sessions: Vec<SessionRow>,
    pub limit: Option<usize>,
}

/// The `status` JSON shape of ARCHITECTURE.md, "Interfaces".
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusReport {
    pub endpoint: String,
    pub transport: String,
    pub agent_session: bool,
    pub auth: String,
    pub sessions: SessionCounts,
    pub limit: Option<usize>,
    /// The daemon's Redfish proxy; absent without a daemon (`--standalone`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<ProxyStatus>,
    /// The daemon's state: `ready`, or `connecting` while it has not reached the BMC yet (the
    /// other fields are then empty); absent without a daemon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// While connecting: why the last attempt to reach the BMC failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Reaper cycles completed since the daemon started; absent without a daemon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaper_cycles: Option<u64>,
    /// The daemon's HMCs (`[[hmc]]`), in config order; absent when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hmc: Vec<HmcStatus>,
    /// False when the daemon runs without a BMC (`bmc.transport = "none"`): the BMC fields
    /// are then empty. Absent (true) otherwise.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub bmc: bool,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// One HMC the daemon holds a session with.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct HmcStatus {
    pub name: String,
    pub endpoint: String,
    /// Whether the agent holds a live session (token) with it.
    pub logged_on: bool,
    /// Local clients' virtual sessions (none of them on the HMC).
    pub virtual_sessions: usize,
    /// Why the last logon failed, until one succeeds.
    pub last_error: Option<String>,
    /// This HMC's own loopback HTTPS listener, if any.
    pub listen: Option<String>,
    /// Where the token waits for the next start after a crash: `persistent keyring`, `user
    /// keyring`, or none.
    pub keyring: Option<String>,
}

/// What the proxy holds: virtual sessions (none of them on the BMC), leases, cached answers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProxyStatus {
    pub virtual_sessions: usize,
    pub leases: usize,
    /// `None` when `api.cache_ttl` is 0.
    pub cached: Option<usize>,
    pub https: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SessionCounts {
    pub total: usize,
    pub by_kind: HashMap<String, usize>,
    pub by_owner: HashMap<String, usize>,
}

/// The `list` JSON row of ARCHITECTURE.md, "Interfaces".
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SessionRow {
    pub id: String,
    pub uri: String,
    pub user: Option<String>,
    pub kind: Kind,
    pub owner: String,
    pub origin: Option<String>,
    pub login_time: Option<String>,
    pub last_access: Option<String>,
    pub idle_s: Option<u64>,
}

impl SessionRow {
    pub fn new(s: &SessionInfo, owner: &Owner, now: OffsetDateTime) -> SessionRow {
        let fmt = |t: Option<OffsetDateTime>| t.and_then(|t| t.format(&Rfc3339).ok());
        SessionRow {
            id: s.id.clone(),
            uri: s.uri.clone(),
            user: s.user.clone(),
            kind: s.kind,
            owner: owner.to_string(),
            origin: s.origin.clone(),
            login_time: fmt(s.login_time),
            last_access: fmt(s.last_access),
            idle_s: s.idle(now).map(|d| d.as_secs()),
        }
    }
}
