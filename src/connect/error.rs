//! Why the agent could not be connected: configuration, credentials, bootstrapping, or the
//! BMC itself. `is_unreachable` decides between retrying and giving up.

use crate::session::SessionError;

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("bad configuration: {0}")]
    Config(String),
    #[error("credentials: {0}")]
    Credentials(#[from] crate::credentials::CredentialError),
    #[error("credential bootstrapping: {0}")]
    Bootstrap(#[from] crate::ipmi::bootstrap::BootstrapError),
    #[error(transparent)]
    Session(#[from] SessionError),
}

impl ConnectError {
    pub fn is_unreachable(&self) -> bool {
        matches!(self, ConnectError::Session(e) if e.is_unreachable())
    }
}
