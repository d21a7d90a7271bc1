//! Who answers for a session: the agent, one of its leases, an earlier run of the agent that
//! ended without cleaning up (an orphan), or nobody here (foreign).
//!
//! Sessions of an earlier run are recognised only in the daemon ([`EarlierRun`] is empty in
//! `agentctl --standalone`, which must never take a running daemon's sessions for orphans),
//! and only on evidence, strongest first:
//! 1. the ledger names the URI, and the BMC lists it now with the same user (where it says),
//!    of the kind the agent's session was (where the ledger noted it), made no later than the
//!    ledger's record (where the BMC says when it made it): iDRAC numbers its sessions and
//!    starts again after a reboot, so a URI alone may name a person's session now;
//! 2. the session carries this host's `Context` tag (`hostagent/<host>/<boot-id>/<who>`, kept
//!    by bmcweb-like BMCs; `<host>` is `agent.host_id`) and is neither the agent's session
//!    (nor, while the agent logs in, a session tagged `agent`) nor a live or opening lease.
//!    Another host's tag never counts (multi-host sleds share one BMC); the old format
//!    `hostagent/<boot-id>/<who>`, which names no host, counts only while no other host's tag
//!    has been seen on the BMC;
//! 3. memory-only mode on a BMC that keeps no `Context` (iLO): the [`Identity`] rule.
//!
//! A person's session (Web UI, console, shell, IPMI: [`Kind::is_person`]) is never an orphan,
//! whatever the evidence says: the agent makes none.

use std::collections::{HashMap, HashSet};

use time::OffsetDateTime;

use crate::ownership::{ContextTag, Owner};
use crate::redfish::{ids_equal, Kind, SessionInfo};
use crate::state::LedgerEntry;

#[derive(Debug, Clone, Default)]
pub struct Owners {
    /// The agent's current session path.
    pub agent_uri: Option<String>,
    /// Lease id by session path.
    pub leases: HashMap<String, String>,
    /// Ids of the live leases and of those being opened: a lease's `Context` tag names it
    /// before its URI is known, and a listing may see the session in between.
    pub lease_ids: HashSet<String>,
    /// The agent is logging in: a session tagged `agent` may be its new one.
    pub agent_logging_in: bool,
    pub earlier: EarlierRun,
}

/// What tells the sessions of an earlier run of the daemon. Empty: nothing is an orphan.
#[derive(Debug, Clone, Default)]
pub struct EarlierRun {
    /// The ledger's entries of earlier runs (default mode).
    pub ledger: Vec<LedgerEntry>,
    /// When the BMC last booted, where it says: an entry recorded before is gone.
    pub bmc_boot: Option<OffsetDateTime>,
    /// Whether the agent tags its sessions with `Context` (the daemon does).
    pub by_context: bool,
    /// Memory-only mode on a BMC without `Context`.
    pub identity: Option<Identity>,
    /// This host's `agent.host_id`, as its tags name it.
    pub host_id: Option<String>,
    /// Another host's tag has been seen on the BMC: old-format tags no longer count.
    pub other_hosts_tagged: bool,
}

impl EarlierRun {
    /// Whether a tag is another host's.
    pub fn is_other_hosts(&self, tag: &ContextTag) -> bool {
        tag.host.is_some() && tag.host != self.host_id
    }
}

/// The memory-only rule for BMCs that keep no `Context` but say when each session was last
/// used (HPE iLO: `Oem.Hpe.AccessTime`): a foreign session is an orphan of an earlier run when
/// it looks exactly like the session this daemon made at start — same kind, same BMC user,
/// same origin address — and has not been used since before that login (its access time is
/// strictly earlier, on the BMC's clock). Off where the BMC gives no access time (iDRAC and
/// other DMTF services): a creation time says nothing about whether a session is in use. Off
/// too when the BMC lists the daemon's session under another user than its account (CHIF:
/// "System Administrator" for every session): see `Service::note_identity`.
///
/// Why it is safe: a person's sessions (Web UI, console, shell, IPMI) have other kinds and
/// are never matched; other accounts have other users; out-of-band tools have other origins.
/// What it may still take: a session of a local tool that logs in with the agent's own BMC
/// account and has been idle since before the daemon started — an account that belongs to
/// the agent should not be shared. A session used in the same second as the daemon's login
/// is not matched (timestamps have whole seconds); the policy's idle threshold takes it later.
#[derive(Debug, Clone)]
pub struct Identity {
    pub kind: Kind,
    pub user: String,
    pub origin: Option<String>,
    /// The BMC's login time of the daemon's first session.
    pub since: OffsetDateTime,
}

/// Kinds the identity rule may match: what a program's login makes, never a person's.
const PROGRAM_KINDS: &[Kind] = &[Kind::RestHost, Kind::HostApplication, Kind::Rest];

impl Identity {
    /// The rule's reference: the daemon's own session as the BMC lists it.
    pub fn of(own: &SessionInfo) -> Option<Identity> {
        let (user, since) = (own.user.clone()?, own.login_time?);
        own.last_access?;
        PROGRAM_KINDS.contains(&own.kind).then(|| Identity {
            kind: own.kind,
            user,
            origin: own.origin.clone(),
            since,
        })
    }

    pub fn matches(&self, s: &SessionInfo) -> bool {
        let same_user = s
            .user
            .as_deref()
            .is_some_and(|u| u.eq_ignore_ascii_case(&self.user));
        let unused_since = s.last_access.is_some_and(|t| t < self.since);
        s.kind == self.kind && same_user && s.origin == self.origin && unused_since
    }
}

impl Owners {
    pub fn owner_of(&self, session: &SessionInfo) -> Owner {
        if self
            .agent_uri
            .as_deref()
            .is_some_and(|uri| ids_equal(uri, &session.uri))
        {
            return Owner::Agent;
        }
        if let Some((_, lease)) = self
            .leases
            .iter()
            .find(|(uri, _)| ids_equal(uri, &session.uri))
        {
            return Owner::Lease(lease.clone());
        }
        if session.kind.is_person() {
            return Owner::Foreign;
        }
        if let Some(entry) = self
            .earlier
            .ledger
            .iter()
            .find(|e| ids_equal(&e.uri, &session.uri))
        {
            if is_recorded(entry, session, self.earlier.bmc_boot) {
                return Owner::Orphan(Some(entry.owner.clone()));
            }
        }
        if let Some(owner) = self.by_context(session) {
            return owner;
        }
        if self
            .earlier
            .identity
            .as_ref()
            .is_some_and(|id| id.matches(session))
        {
            return Owner::Orphan(None);
        }
        Owner::Foreign
    }

    /// The owner a hostagent `Context` tag says, when tags count.
    fn by_context(&self, session: &SessionInfo) -> Option<Owner> {
        if !self.earlier.by_context {
            return None;
        }
        let tag = ContextTag::parse(session.context.as_deref()?)?;
        let old_format = tag.host.is_none();
        if self.earlier.is_other_hosts(&tag) || (old_format && self.earlier.other_hosts_tagged) {
            return None;
        }
        let who = tag.who;
        if self.lease_ids.contains(&who) {
            return Some(Owner::Lease(who));
        }
        if who == "agent" && self.agent_logging_in {
            return None;
        }
        let was = if who == "agent" {
            who
        } else {
            format!("lease:{who}")
        };
        Some(Owner::Orphan(Some(was)))
    }
}

/// Whether the listed session is the one the ledger entry recorded (same URI assumed): same
/// user and kind where both are known, made no later than the record where the BMC says when
/// it made the session (on its clock when the ledger has it, else on the host's), and recorded
/// after the BMC's last boot where the BMC says when that was (both on its clock).
fn is_recorded(entry: &LedgerEntry, session: &SessionInfo, boot: Option<OffsetDateTime>) -> bool {
    let same_kind = entry.kind.is_none_or(|k| k == session.kind);
    let recorded = entry.bmc_created.unwrap_or(entry.created);
    // Both on the BMC's clock: the host's would drift from it.
    if let (Some(made), Some(boot)) = (entry.bmc_created, boot) {
        if made < boot {
            return false;
        }
    }
    let not_newer = match session.login_time {
        Some(made) if !session.login_time_inferred => made <= recorded,
        _ => true,
    };
    same_user(entry.user.as_deref(), session.user.as_deref()) && same_kind && not_newer
}

/// The ledger's user and the listed one agree, or the BMC does not say.
fn same_user(recorded: Option<&str>, listed: Option<&str>) -> bool {
    match (recorded, listed) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => true,
    }
}

#[cfg(test)]
mod tests;
