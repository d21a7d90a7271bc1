//! Leases: real BMC sessions opened by the agent for one local process. A lease ends when the
//! bound process exits (pidfd), when it is closed, or when its TTL passes — whichever comes
//! first — and its BMC session is deleted then, however the process ended.

pub mod pidwatch;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::{oneshot, Mutex};

use self::pidwatch::PidWatch;
use crate::secret::Secret;
use crate::session::agent::AgentSession;
use crate::session::listing::delete_session;
use crate::session::login::NewSession;
use crate::session::SessionError;

/// The longest a lease may live; also the TTL when the caller gives none.
pub const MAX_TTL: Duration = Duration::from_secs(24 * 3600);
pub const DEFAULT_TTL: Duration = Duration::from_secs(3600);

/// `POST /v1/leases` body: the lease is bound to the caller's process unless `pid` says
/// otherwise; the TTL is [`DEFAULT_TTL`] unless given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LeaseRequest {
    pub ttl_s: Option<u64>,
    pub pid: Option<i32>,
}

/// `POST /v1/leases` answer: the lease, and once, what its holder needs to use the session
/// (`REDFISH_URL`, `REDFISH_SESSION_TOKEN`, `REDFISH_SESSION_LOCATION`).
#[derive(Debug, Serialize, Deserialize)]
pub struct LeaseGranted {
    #[serde(flatten)]
    pub info: LeaseInfo,
    pub url: String,
    pub location: String,
    #[serde(with = "crate::secret::exposed")]
    pub token: Secret,
}

/// `GET /v1/leases` answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LeaseList {
    pub leases: Vec<LeaseInfo>,
}

/// What `GET /v1/leases` shows: never the token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LeaseInfo {
    pub id: String,
    pub uri: String,
    pub pid: Option<i32>,
    /// The local user that opened it.
    pub uid: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub expires: OffsetDateTime,
}

/// What the caller gets once, at open.
#[derive(Debug)]
pub struct LeaseGrant {
    pub info: LeaseInfo,
    pub token: Secret,
}

#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    #[error("process {pid} cannot be watched: {reason}")]
    Pid { pid: i32, reason: String },
    #[error("no lease {0}")]
    NotFound(String),
    #[error("{0} leases are open, the most allowed")]
    Cap(usize),
    #[error("the lease's login ended without an answer")]
    NoAnswer,
    #[error(transparent)]
    Session(#[from] SessionError),
}

struct Entry {
    info: LeaseInfo,
    /// Dropping it ends the watcher without closing the lease twice.
    _cancel: oneshot::Sender<()>,
    /// Its place under the cap, given back when the lease is closed.
    _slot: Slot,
}

/// The cap on leases open at once: `max` (`api.max_leases`), and at most half of the BMC's
/// session limit where it is known, so that leases never take the table from people.
pub fn cap(max: usize, limit: Option<usize>) -> usize {
    limit.map_or(max, |limit| max.min(limit / 2))
}

/// The open leases. Cheap to clone; watchers hold a clone.
#[derive(Clone)]
pub struct LeaseTable {
    agent: Arc<AgentSession>,
    leases: Arc<Mutex<HashMap<String, Entry>>>,
    /// Ids of leases whose login is under way: their session may be listed before it is ours.
    opening: Arc<std::sync::Mutex<HashSet<String>>>,
    /// Leases open or being opened, for the cap.
    slots: Arc<AtomicUsize>,
    /// `hostagent/<boot-id>` prefix of lease `Context` tags.
    context_prefix: Option<String>,
}

impl LeaseTable {
    pub fn new(agent: Arc<AgentSession>, context_prefix: Option<String>) -> LeaseTable {
        LeaseTable {
            agent,
            leases: Arc::default(),
            opening: Arc::default(),
            slots: Arc::default(),
            context_prefix,
        }
    }

    /// Opens a BMC session for `uid`, bound to `pid` when given, ended after `ttl` at most;
    /// refused when `cap` leases are open or being opened (see [`cap`]).
    ///
    /// The login runs on its own task: when the caller goes away before the BMC answers (a
    /// client's timeout drops the API request), the login still completes and the lease it
    /// made, which nobody holds, is closed at once rather than left on the BMC.
    pub async fn open(
        &self,
        ttl: Option<Duration>,
        pid: Option<i32>,
        uid: u32,
        cap: usize,
    ) -> Result<LeaseGrant, LeaseError> {
        let (tx, rx) = oneshot::channel();
        let table = self.clone();
        tokio::spawn(async move {
            let opened = table.open_here(ttl, pid, uid, cap).await;
            if let Err(Ok(grant)) = tx.send(opened) {
                let why = "its client went away before the BMC answered the login";
                if let Err(e) = table.close(&grant.info.id, why).await {
                    tracing::warn!(lease = %grant.info.id, error = %e, "closing a lease nobody holds failed");
                }
            }
        });
        rx.await.unwrap_or(Err(LeaseError::NoAnswer))
    }

    async fn open_here(
        &self,
        ttl: Option<Duration>,
        pid: Option<i32>,
        uid: u32,
        cap: usize,
    ) -> Result<LeaseGrant, LeaseError> {
        let slot = Slot::take(&self.slots, cap).ok_or(LeaseError::Cap(cap))?;
        let watch = match pid {
            Some(pid) => Some(PidWatch::open(pid).map_err(|e| LeaseError::Pid {
                pid,
                reason: e.to_string(),
            })?),
            None => None,
        };
        let id = new_lease_id();
        let context = self.context_prefix.as_ref().map(|p| format!("{p}/{id}"));
        let opening = Opening::new(&self.opening, &id);
        let NewSession {
            token,
            uri,
            bmc_date,
            ..
        } = self.agent.create_session(context).await?;
        self.agent.record(&uri, &format!("lease:{id}"), bmc_date);
        let ttl = ttl.unwrap_or(DEFAULT_TTL).min(MAX_TTL);
        let info = LeaseInfo {
            id: id.clone(),
            uri,
            pid,
            uid,
            expires: OffsetDateTime::now_utc() + ttl,
        };
        let (cancel, cancelled) = oneshot::channel();
        self.leases.lock().await.insert(
            id.clone(),
            Entry {
                info: info.clone(),
                _cancel: cancel,
                _slot: slot,
            },
        );
        drop(opening);
        tokio::spawn(self.clone().watch(id, watch, ttl, cancelled));
        tracing::info!(lease = %info.id, session = %info.uri, pid, uid, ttl_s = ttl.as_secs(), "lease opened");
        Ok(LeaseGrant { info, token })
    }

    async fn watch(
        self,
        id: String,
        pid: Option<PidWatch>,
        ttl: Duration,
        cancelled: oneshot::Receiver<()>,
    ) {
        let exited = async {
            match &pid {
                Some(watch) => watch.exited().await,
                None => std::future::pending().await,
            }
        };
        let why = tokio::select! {
            _ = exited => "process exited",
            _ = tokio::time::sleep(ttl) => "TTL passed",
            _ = cancelled => return,
        };
        match self.close(&id, why).await {
            // Closed by the API as the process exited or the TTL passed: nothing failed.
            Ok(_) | Err(LeaseError::NotFound(_)) => {}
            Err(e) => tracing::warn!(lease = %id, error = %e, "closing a lease failed"),
        }
    }

    /// Deletes the lease's BMC session and forgets the lease.
    pub async fn close(&self, id: &str, why: &str) -> Result<LeaseInfo, LeaseError> {
        let entry = self
            .leases
            .lock()
            .await
            .remove(id)
            .ok_or_else(|| LeaseError::NotFound(id.to_string()))?;
        if let Err(e) = delete_session(&self.agent, &entry.info.uri).await {
            // Still on the BMC, and no longer a lease: the reaper deletes it as an orphan.
            if let Some(ledger) = self.agent.ledger() {
                ledger.abandon(&entry.info.uri);
            }
            return Err(e.into());
        }
        self.agent.forget(&entry.info.uri);
        tracing::info!(lease = %id, session = %entry.info.uri, why, "lease closed");
        Ok(entry.info)
    }

    pub async fn list(&self) -> Vec<LeaseInfo> {
        let mut leases: Vec<LeaseInfo> = self
            .leases
            .lock()
            .await
            .values()
            .map(|e| e.info.clone())
            .collect();
        leases.sort_by(|a, b| a.id.cmp(&b.id));
        leases
    }

    /// How many leases are open.
    pub async fn len(&self) -> usize {
        self.leases.lock().await.len()
    }

    /// Whether no lease is open.
    pub async fn is_empty(&self) -> bool {
        self.leases.lock().await.is_empty()
    }

    /// Ids of the live leases and of those being opened, for owner classification by `Context`.
    pub async fn ids(&self) -> HashSet<String> {
        let mut ids: HashSet<String> = self.leases.lock().await.keys().cloned().collect();
        ids.extend(
            self.opening
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .cloned(),
        );
        ids
    }

    /// Lease id by session path, for owner classification.
    pub async fn by_uri(&self) -> HashMap<String, String> {
        self.leases
            .lock()
            .await
            .values()
            .map(|e| (e.info.uri.clone(), e.info.id.clone()))
            .collect()
    }

    /// Closes every lease (shutdown), with the agent's fresh logout timeout per DELETE.
    pub async fn close_all(&self) {
        let ids: Vec<String> = self.leases.lock().await.keys().cloned().collect();
        for id in ids {
            if let Err(e) = self.close(&id, "agent stopping").await {
                tracing::warn!(lease = %id, error = %e, "closing a lease at shutdown failed");
            }
        }
    }
}

/// A lease id in the `opening` set for as long as this lives (its login may fail: `?`).
struct Opening {
    set: Arc<std::sync::Mutex<HashSet<String>>>,
    id: String,
}

impl Opening {
    fn new(set: &Arc<std::sync::Mutex<HashSet<String>>>, id: &str) -> Opening {
        set.lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_string());
        Opening {
            set: set.clone(),
            id: id.to_string(),
        }
    }
}

impl Drop for Opening {
    fn drop(&mut self) {
        self.set
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }
}

/// One place under the cap, held from the start of an open to the close.
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(slots: &Arc<AtomicUsize>, cap: usize) -> Option<Slot> {
        slots
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < cap).then_some(n + 1)
            })
            .ok()?;
        Some(Slot(slots.clone()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// 12 hex characters: short enough to type, random enough not to collide.
fn new_lease_id() -> String {
    let bytes: [u8; 6] = rand::random();
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_half_a_known_table_to_people() {
        assert_eq!(cap(8, None), 8, "unknown limit: api.max_leases");
        assert_eq!(cap(8, Some(8)), 4, "iDRAC: half of 8");
        assert_eq!(cap(8, Some(64)), 8, "a large table: api.max_leases");
        assert_eq!(
            cap(100, Some(64)),
            32,
            "never more than half, whatever is configured"
        );
        assert_eq!(cap(8, Some(1)), 0, "a table of one: no lease");
    }

    #[test]
    fn slots_stop_at_the_cap_and_come_back_when_dropped() {
        let slots = Arc::new(AtomicUsize::new(0));
        let held: Vec<Slot> = (0..3).filter_map(|_| Slot::take(&slots, 3)).collect();
        assert_eq!(held.len(), 3);
        assert!(Slot::take(&slots, 3).is_none());
        drop(held);
        assert!(Slot::take(&slots, 3).is_some());
    }
}
