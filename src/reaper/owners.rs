//! Who answers for a session: the agent, one of its leases, or nobody here (foreign).
//! Decided from the URIs the agent holds and, after a crash, from the `Context` tag that the
//! agent puts on its sessions where the BMC keeps it.

use std::collections::HashMap;

use crate::redfish::{ids_equal, parse_context_tag, Owner, SessionInfo};

#[derive(Debug, Clone, Default)]
pub struct Owners {
    /// The agent's current session path.
    pub agent_uri: Option<String>,
    /// Lease id by session path.
    pub leases: HashMap<String, String>,
}

impl Owners {
    pub fn owner_of(&self, session: &SessionInfo) -> Owner {
        if self.agent_uri.as_deref().is_some_and(|uri| ids_equal(uri, &session.uri)) {
            return Owner::Agent;
        }
        if let Some((_, lease)) = self.leases.iter().find(|(uri, _)| ids_equal(uri, &session.uri)) {
            return Owner::Lease(lease.clone());
        }
        Owner::Foreign
    }

    /// Whether a session carries a hostagent `Context` tag but is neither the agent's current
    /// session nor a live lease: an orphan of an earlier run (after a crash), cleaned whatever
    /// its kind and idle time.
    pub fn is_orphan_of_ours(&self, session: &SessionInfo) -> bool {
        session.context.as_deref().and_then(parse_context_tag).is_some() && self.owner_of(session) == Owner::Foreign
    }
}
