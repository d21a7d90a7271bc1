//! What can go wrong with an HMC, each error naming the HMC and what was wrong — never a
//! token or a password.

use std::time::Duration;

use crate::transport::TransportError;

#[derive(Debug, thiserror::Error)]
pub enum HmcError {
    #[error("HMC {name}: {source}")]
    Transport {
        name: String,
        #[source]
        source: TransportError,
    },
    #[error("HMC {name} refused the logon of user {user} with {status}: {message}")]
    Refused {
        name: String,
        user: String,
        status: u16,
        message: String,
    },
    #[error("HMC {name} answered the logon with something that is not a usable LogonResponse ({content_type}): {reason}")]
    BadLogon {
        name: String,
        content_type: String,
        reason: String,
    },
    #[error("HMC {name}: the last logon failed ({reason}); the agent tries again in {}s, not sooner, so that a wrong password cannot lock the HMC account", retry_in.as_secs())]
    BackingOff {
        name: String,
        reason: String,
        retry_in: Duration,
    },
    #[error("HMC {name}: a logon is under way and did not finish within {}s", .wait.as_secs())]
    LogonPending { name: String, wait: Duration },
    #[error(
        "HMC {name} is no longer served (its [[hmc]] table was removed, or the agent is stopping)"
    )]
    Closed { name: String },
}

impl HmcError {
    /// Whether the HMC did not answer at all (start-up retries these quickly).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            HmcError::Transport {
                source: TransportError::Connect { .. } | TransportError::Timeout { .. },
                ..
            }
        )
    }
}
