//! BMC credentials: the account the agent logs in with ([`Credentials`]), where it comes from
//! ([`files`]: systemd credentials or `bmc.credentials_dir`), and how new ones are asked for
//! when the BMC refuses the held ones ([`CredentialRefresh`], implemented by DSP0270
//! bootstrapping in [`crate::ipmi`]). Which source wins is decided in
//! [`crate::connect::credential_plan`].

pub mod files;

pub use files::{from_dir, from_dir_named, load, load_hmc, CredentialError, FileNames};

use crate::secret::Secret;

/// A BMC account. The password lives in a [`Secret`].
#[derive(Clone, Debug)]
pub struct Credentials {
    pub user: String,
    pub password: Secret,
}

/// Where new credentials come from when the BMC refuses the ones held: DSP0270 bootstrap
/// accounts vanish with a BMC reset, so a refused login asks for a new account once.
/// Called from a blocking thread.
pub trait CredentialRefresh: Send + Sync {
    /// The error text must name what failed and never hold a secret.
    fn refresh(&self) -> Result<Credentials, String>;
}
