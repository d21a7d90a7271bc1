//! The agent's operations — status, list, clean — over one [`AgentSession`]. The daemon's
//! routes and `agentctl --standalone` (and the demo) call the same code.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use time::OffsetDateTime;
use tokio::sync::Mutex;

use crate::reaper::{self, CleanOptions, CleanReport, Owners, Policy};
use crate::redfish::{ClassifyContext, Kind, SessionInfo, SessionRow};
use crate::session::listing::{list_sessions, ListOptions};
use crate::session::{AgentSession, SessionError};

/// The `list` JSON shape of DESIGN §13.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ListReport {
    pub sessions: Vec<SessionRow>,
    pub limit: Option<usize>,
}

/// The `status` JSON shape of DESIGN §13.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct StatusReport {
    pub endpoint: String,
    pub transport: String,
    pub agent_session: bool,
    pub auth: String,
    pub sessions: SessionCounts,
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct SessionCounts {
    pub total: usize,
    pub by_kind: HashMap<String, usize>,
    pub by_owner: HashMap<String, usize>,
}

pub struct Service {
    pub agent: Arc<AgentSession>,
    pub classify: ClassifyContext,
    pub list_options: ListOptions,
    /// The session limit, when known (profile, config, or learned from a limit answer).
    pub limit: Mutex<Option<usize>>,
    /// The leases this agent holds; their sessions are owned, not foreign.
    pub leases: crate::session::lease::LeaseTable,
    /// When each session without a creation or access time was first listed (bmcweb says
    /// neither): its idle time counts from then.
    first_seen: Mutex<HashMap<String, OffsetDateTime>>,
    /// The discovered host-interface link (plan and index), which the daemon watches.
    pub link: Option<(crate::discovery::link::LinkPlan, u32)>,
}

impl Service {
    pub fn new(agent: Arc<AgentSession>, classify: ClassifyContext, limit: Option<usize>) -> Service {
        Service {
            leases: crate::session::lease::LeaseTable::new(agent.clone(), lease_context_prefix()),
            agent,
            classify,
            list_options: ListOptions::default(),
            limit: Mutex::new(limit),
            first_seen: Mutex::new(HashMap::new()),
            link: None,
        }
    }

    /// The BMC refused a login for a full table: the limit is the number of sessions now.
    pub async fn learn_limit_from_full_table(&self) {
        if let Ok((sessions, _)) = self.sessions().await {
            tracing::warn!(message_id = crate::events::TABLE_NEAR_FULL, limit = sessions.len(), "the BMC's session table is full; its limit is taken to be the current count");
            *self.limit.lock().await = Some(sessions.len());
        }
    }

    pub async fn owners(&self) -> Owners {
        Owners { agent_uri: self.agent.own_session_uri().await, leases: self.leases.by_uri().await }
    }

    /// Every session the BMC lists, classified, and the BMC's clock.
    pub async fn sessions(&self) -> Result<(Vec<SessionInfo>, OffsetDateTime), SessionError> {
        let mut listing = list_sessions(&self.agent, &self.classify, &self.list_options).await?;
        let now = listing.bmc_now;
        let mut seen = self.first_seen.lock().await;
        seen.retain(|uri, _| listing.sessions.iter().any(|s| &s.uri == uri));
        for s in listing.sessions.iter_mut().filter(|s| s.login_time.is_none() && s.last_access.is_none()) {
            s.login_time = Some(*seen.entry(s.uri.clone()).or_insert(now));
        }
        Ok((listing.sessions, now))
    }

    pub async fn list(&self, kinds: &[Kind]) -> Result<ListReport, SessionError> {
        let owners = self.owners().await;
        let (sessions, now) = self.sessions().await?;
        let sessions = sessions
            .into_iter()
            .filter(|s| kinds.is_empty() || kinds.contains(&s.kind))
            .map(|s| SessionRow::new(&s, &owners.owner_of(&s), now))
            .collect();
        Ok(ListReport { sessions, limit: *self.limit.lock().await })
    }

    pub async fn status(&self) -> Result<StatusReport, SessionError> {
        let owners = self.owners().await;
        let mut counts = SessionCounts::default();
        for s in self.sessions().await?.0 {
            counts.total += 1;
            *counts.by_kind.entry(s.kind.to_string()).or_default() += 1;
            *counts.by_owner.entry(owners.owner_of(&s).to_string()).or_default() += 1;
        }
        let auth = self.agent.auth().await;
        Ok(StatusReport {
            endpoint: self.agent.transport().endpoint(),
            transport: self.agent.transport().kind().to_string(),
            agent_session: auth.session_uri().is_some(),
            auth: auth.describe().to_string(),
            sessions: counts,
            limit: *self.limit.lock().await,
        })
    }

    pub async fn clean(
        &self,
        policy: &Policy,
        opts: &CleanOptions,
        on_progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<CleanReport, SessionError> {
        let (sessions, now) = self.sessions().await?;
        let owners = self.owners().await;
        Ok(reaper::clean(&self.agent, sessions, now, &owners, policy, opts, on_progress).await)
    }
}

/// `hostagent/<boot-id>`: the `Context` prefix of lease sessions (kept by bmcweb-like BMCs), so
/// that orphans are recognised after a crash without any file.
fn lease_context_prefix() -> Option<String> {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    Some(format!("hostagent/{}", boot.trim()))
}
