//! One BMC session, decoded and classified by vendor profile (ARCHITECTURE.md, "Session classification"). Decoding tolerates
//! anything: a field of the wrong type is absent, and a body that fits no profile is
//! `unknown` — never an error that hides the other sessions.

use std::time::Duration;

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::kind::Kind;
use super::uri::{last_segment, path_of};

#[derive(Debug, Clone, PartialEq)]
pub struct SessionInfo {
    /// Decoded: `system administrator000000005b76e3a1849ba511`.
    pub id: String,
    /// The path as the BMC gave it (may hold `%20`).
    pub uri: String,
    pub user: Option<String>,
    pub kind: Kind,
    /// `UserIP` (HPE) or `ClientOriginIPAddress` (DMTF).
    pub origin: Option<String>,
    pub login_time: Option<OffsetDateTime>,
    /// `login_time` is when the agent first listed the session, not the BMC's word (bmcweb
    /// says neither a creation nor an access time): good for idle times, not for ownership.
    pub login_time_inferred: bool,
    pub last_access: Option<OffsetDateTime>,
    pub expires: Option<OffsetDateTime>,
    pub context: Option<String>,
    /// The BMC marks the caller's own session (HPE `MySession`).
    pub my_session: bool,
    /// `UserTag` or `SessionType` as the BMC wrote it.
    pub raw_type: Option<String>,
}

impl SessionInfo {
    /// A member that could not be read: only its URI is known.
    pub fn unknown(uri: &str) -> SessionInfo {
        SessionInfo {
            id: last_segment(uri),
            uri: path_of(uri),
            user: None,
            kind: Kind::Unknown,
            origin: None,
            login_time: None,
            login_time_inferred: false,
            last_access: None,
            expires: None,
            context: None,
            my_session: false,
            raw_type: None,
        }
    }

    /// Idle time: from the last access (HPE), else from login (DMTF has no access time).
    pub fn idle(&self, now: OffsetDateTime) -> Option<Duration> {
        let since = self.last_access.or(self.login_time)?;
        Some(Duration::try_from(now - since).unwrap_or(Duration::ZERO))
    }
}

pub(super) fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::to_string)
        .filter(|s| !s.is_empty())
}

pub(super) fn time_of(v: &Value, key: &str) -> Option<OffsetDateTime> {
    v.get(key)
        .and_then(Value::as_str)
        .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
}
