//! Sessions the BMC will not delete, remembered in memory so that the reaper does not DELETE
//! them again every cycle. NOTE(hpe): iLO answers 405 with `Allow: GET` for its emergency
//! sessions; other BMCs answer 403 for sessions the account may not end. A session is known
//! by its URI and its login time: a later session that reuses the URI is another one, and is
//! tried again.

use std::collections::HashMap;
use std::sync::Mutex;

use time::OffsetDateTime;

use crate::redfish::{normalize, SessionInfo};

/// Whether a DELETE's status says the BMC will not delete this session (not a passing fault).
pub fn is_refusal(status: u16) -> bool {
    status == 403 || status == 405
}

#[derive(Debug, Default)]
pub struct Refusals {
    /// Normalized URI → (login time, the status the BMC answered).
    known: Mutex<HashMap<String, (Option<OffsetDateTime>, u16)>>,
}

impl Refusals {
    /// The status the BMC refused this very session's DELETE with, if it did.
    pub fn status_of(&self, session: &SessionInfo) -> Option<u16> {
        let known = self.lock();
        let (login, status) = known.get(&normalize(&session.uri))?;
        (*login == session.login_time).then_some(*status)
    }

    pub fn note(&self, session: &SessionInfo, status: u16) {
        self.lock()
            .insert(normalize(&session.uri), (session.login_time, status));
    }

    /// Forgets the sessions the BMC no longer lists.
    pub fn retain_listed(&self, listed: &[SessionInfo]) {
        let uris: std::collections::HashSet<String> =
            listed.iter().map(|s| normalize(&s.uri)).collect();
        self.lock().retain(|uri, _| uris.contains(uri));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Option<OffsetDateTime>, u16)>> {
        self.known.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn session(id: &str, login: OffsetDateTime) -> SessionInfo {
        let mut s = SessionInfo::unknown(&format!("/redfish/v1/SessionService/Sessions/{id}/"));
        s.login_time = Some(login);
        s
    }

    #[test]
    fn a_refusal_is_remembered_for_that_session_only() {
        let refusals = Refusals::default();
        let emergency = session("admin01", datetime!(2026-11-30 09:00:00 UTC));
        assert_eq!(refusals.status_of(&emergency), None);
        refusals.note(&emergency, 405);
        assert_eq!(refusals.status_of(&emergency), Some(405));
        assert_eq!(
            refusals.status_of(&session("admin01", datetime!(2026-11-30 11:00:00 UTC))),
            None,
            "a later session under the same URI is tried"
        );
        assert_eq!(
            refusals.status_of(&session("admin02", datetime!(2026-11-30 09:00:00 UTC))),
            None
        );
        refusals.retain_listed(&[session("admin02", datetime!(2026-11-30 09:00:00 UTC))]);
        assert_eq!(refusals.status_of(&emergency), None, "gone from the BMC");
        assert!(is_refusal(403) && is_refusal(405) && !is_refusal(500) && !is_refusal(401));
    }
}
