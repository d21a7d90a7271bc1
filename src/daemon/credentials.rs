//! Which credentials the agent logs in with, and whether they pin the BMC's certificate.
//! Sources in order: the credential files (`crate::credentials`), then DSP0270 credential
//! bootstrapping over IPMI (`bmc.credential_bootstrapping`), then none (CHIF in Production
//! mode needs no session).
//!
//! Bootstrapping asks IPMI for the certificate fingerprint first and pins it before the first
//! TLS connection (no trust-on-first-use window), then for a bootstrap account. That account
//! lives in memory only, in every mode, and is asked for again when the BMC refuses it.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::build::BuildError;
use crate::config::{BootstrapChoice, Settings};
use crate::ipmi::bootstrap::{fetch_credentials, fetch_fingerprint, BootstrapError, IpmiCredentials};
use crate::ipmi::dev::DevIpmi;
use crate::ipmi::Ipmi;
use crate::session::{CredentialRefresh, Credentials};
use crate::transport::trust::Fingerprint;

/// How long one IPMI exchange may take (the kernel gives up on a lost request sooner).
const IPMI_TIMEOUT: Duration = Duration::from_secs(10);

/// What the login will use.
#[derive(Default)]
pub struct CredentialPlan {
    pub creds: Option<Credentials>,
    /// From IPMI: overrides `bmc.tls` for the HTTPS transport.
    pub pin: Option<Fingerprint>,
    /// Where new credentials come from after a refused login (bootstrapping only).
    pub refresh: Option<Arc<dyn CredentialRefresh>>,
}

/// The IPMI device to bootstrap through, when the settings (and for `auto` the SMBIOS type 42
/// record and the device's presence) say so. `always` makes a missing device an error.
pub fn bootstrap_ipmi(settings: &Settings, sysfs_root: &Path) -> Result<Option<Arc<dyn Ipmi>>, BuildError> {
    let bmc = &settings.bmc;
    match bmc.credential_bootstrapping {
        BootstrapChoice::Never => Ok(None),
        BootstrapChoice::Always => Ok(Some(Arc::new(DevIpmi::open(&bmc.ipmi_device, IPMI_TIMEOUT).map_err(BootstrapError::from)?))),
        BootstrapChoice::Auto => {
            if !bmc.ipmi_device.exists() || !crate::discovery::host_interface::bootstrapping_supported(sysfs_root) {
                return Ok(None);
            }
            match DevIpmi::open(&bmc.ipmi_device, IPMI_TIMEOUT) {
                Ok(dev) => Ok(Some(Arc::new(dev))),
                Err(e) => {
                    tracing::warn!(error = %e, "the BMC offers credential bootstrapping but the IPMI device cannot be opened");
                    Ok(None)
                }
            }
        }
    }
}

/// Credential files first; else, with `ipmi`, the fingerprint and a bootstrap account.
/// Under `auto` a failed bootstrap is a warning (the transport may need no credentials);
/// under `always` it is an error.
pub async fn plan(settings: &Settings, ipmi: Option<Arc<dyn Ipmi>>) -> Result<CredentialPlan, BuildError> {
    if let Some(creds) = crate::credentials::load(settings.bmc.credentials_dir.as_deref())? {
        if ipmi.is_some() {
            tracing::info!("credential files exist: not asking the BMC for a bootstrap account");
        }
        return Ok(CredentialPlan { creds: Some(creds), ..CredentialPlan::default() });
    }
    let Some(ipmi) = ipmi else { return Ok(CredentialPlan::default()) };
    match bootstrap(ipmi.clone()).await {
        Ok((pin, creds)) => {
            tracing::info!(device = %ipmi.describe(), fingerprint = %pin, "credential bootstrapping: pinning the BMC's certificate to the fingerprint from IPMI");
            Ok(CredentialPlan { creds: Some(creds), pin: Some(pin), refresh: Some(Arc::new(IpmiCredentials(ipmi))) })
        }
        Err(e) if settings.bmc.credential_bootstrapping == BootstrapChoice::Auto => {
            tracing::warn!(error = %e, "credential bootstrapping failed: continuing without credentials");
            Ok(CredentialPlan::default())
        }
        Err(e) => Err(e.into()),
    }
}

/// Both commands, in the order DSP0270 gives: the fingerprint, then the account.
async fn bootstrap(ipmi: Arc<dyn Ipmi>) -> Result<(Fingerprint, Credentials), BootstrapError> {
    let task = tokio::task::spawn_blocking(move || Ok((fetch_fingerprint(ipmi.as_ref())?, fetch_credentials(ipmi.as_ref())?)));
    task.await.unwrap_or_else(|e| {
        Err(BootstrapError::Ipmi(crate::ipmi::IpmiError::Io { path: "ipmi".into(), what: "task", reason: e.to_string() }))
    })
}
