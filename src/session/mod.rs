//! The session core: the agent's own session (login, relogin, keep-alive, logout, Basic
//! fallback), listing and classifying the BMC's sessions, and deleting them.

pub mod agent;
pub mod auth;
pub mod boot;
pub mod keepalive;
pub mod listing;
pub mod login;
mod relogin;
pub mod root;

pub use agent::{AgentOptions, AgentSession, LoginOutcome};
pub use auth::AuthState;

use crate::redfish::RedfishError;
use crate::transport::TransportError;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("login refused by the BMC: {0}")]
    Login(RedfishError),
    #[error("the BMC answered: {0}")]
    Bmc(RedfishError),
    #[error("no BMC credentials are configured and this transport needs a session")]
    NoCredentials,
    #[error("the BMC refused the credentials and asking for new ones failed: {0}")]
    Refresh(String),
    #[error("the BMC accepted the login but sent no X-Auth-Token header")]
    NoToken,
    #[error("the BMC accepted the login but sent no Location header")]
    NoLocation,
    #[error("the BMC's {what} is malformed: {reason}")]
    Malformed { what: String, reason: String },
    #[error("logging in to the BMC again failed: {reason}")]
    ReloginFailed { reason: String, unreachable: bool },
    #[error("the agent's login to the BMC did not finish within {0:?}")]
    LoginPending(std::time::Duration),
}

impl SessionError {
    /// True when the BMC could not be reached at all (agentctl exit code 4).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            SessionError::Transport(
                TransportError::Connect { .. } | TransportError::Timeout { .. }
            ) | SessionError::ReloginFailed {
                unreachable: true,
                ..
            } | SessionError::LoginPending(_)
        )
    }
}

impl crate::redfish::HttpAnswer for crate::transport::Response {
    fn status_code(&self) -> u16 {
        self.status.as_u16()
    }

    fn body_bytes(&self) -> &[u8] {
        &self.body
    }
}
