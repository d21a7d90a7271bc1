//! Which sessions are stale. Only foreign sessions of the configured in-band kinds, idle at
//! least the threshold, are deleted by policy; never the agent's own, never a lease, never a
//! kept user; other kinds only when named with `--force`, and any session when named by id.
//! Orphans of an earlier run of the agent (see [`super::owners`]) are always deleted.

use std::time::Duration;

use time::OffsetDateTime;

use crate::ownership::Owner;
use crate::redfish::{ids_equal, Kind, SessionInfo};

/// The in-band kinds: what local tools leave behind (ARCHITECTURE.md, "Session classification").
pub const IN_BAND_KINDS: &[Kind] = &[Kind::RestHost, Kind::HostApplication];

#[derive(Debug, Clone)]
pub struct Policy {
    pub kinds: Vec<Kind>,
    pub idle: Duration,
    pub keep_users: Vec<String>,
    /// Allow kinds outside [`IN_BAND_KINDS`].
    pub force: bool,
    /// Sessions named by id are deleted whatever their kind and idle time (not the agent's own
    /// or a lease's: those are closed through their owner).
    pub ids: Vec<String>,
}

/// The decision for one session, with the reason shown to the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Delete,
    Keep(String),
}

impl Policy {
    /// The reaper's policy from config: the configured kinds and idle threshold.
    pub fn from_settings(settings: &crate::config::ReaperSettings) -> Policy {
        Policy {
            kinds: settings.kinds.clone(),
            idle: settings.idle,
            keep_users: settings.keep_users.clone(),
            force: false,
            ids: Vec::new(),
        }
    }

    pub fn judge(&self, session: &SessionInfo, owner: &Owner, now: OffsetDateTime) -> Verdict {
        match owner {
            Owner::Agent => return keep("the agent's own session"),
            Owner::Lease(id) => return keep(&format!("held by lease {id}")),
            Owner::Orphan(_) | Owner::Foreign => {}
        }
        if self.ids.iter().any(|id| ids_equal(id, &session.id)) {
            return Verdict::Delete;
        }
        if !self.ids.is_empty() {
            return keep("not named by --id");
        }
        // Left by an earlier run of the agent: ours to delete, whatever its kind and idle time.
        if let Owner::Orphan(_) = owner {
            return Verdict::Delete;
        }
        if let Some(user) = &session.user {
            if self.keep_users.iter().any(|k| k.eq_ignore_ascii_case(user)) {
                return keep(&format!("user {user} is in keep_users"));
            }
        }
        if !self.kinds.contains(&session.kind) {
            return keep(&format!(
                "kind {} is not cleaned by this policy",
                session.kind
            ));
        }
        if !IN_BAND_KINDS.contains(&session.kind) && !self.force {
            return keep(&format!(
                "kind {} belongs to a person: needs --force",
                session.kind
            ));
        }
        match session.idle(now) {
            Some(idle) if idle >= self.idle => Verdict::Delete,
            Some(idle) => keep(&format!(
                "idle {}s, below {}s",
                idle.as_secs(),
                self.idle.as_secs()
            )),
            None => keep("idle time unknown"),
        }
    }
}

fn keep(reason: &str) -> Verdict {
    Verdict::Keep(reason.to_string())
}
