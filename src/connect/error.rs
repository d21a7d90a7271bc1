//! Why the agent could not be connected: configuration, credentials, bootstrapping, or the
//! BMC itself. `is_unreachable` decides between retrying and giving up.

use crate::discovery::host_interface::DiscoveryError;
use crate::session::SessionError;
use crate::transport::trust::Fingerprint;

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// `bmc.fingerprint` does not parse (the config loader checks it too; kept for callers
    /// that build settings themselves).
    #[error("bad configuration: bmc.fingerprint: {reason}")]
    Fingerprint { reason: String },
    #[error("bad configuration: bmc.fingerprint is {configured} but the BMC reports {ipmi} over IPMI (Get Manager Certificate Fingerprint)")]
    PinMismatch {
        configured: Fingerprint,
        ipmi: Fingerprint,
    },
    #[error("bad configuration: no BMC endpoint configured and discovery failed: {0}")]
    Discovery(#[source] DiscoveryError),
    #[error(
        "bad configuration: bmc.transport = \"none\": this host's agent has no BMC to connect to"
    )]
    NoBmc,
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
