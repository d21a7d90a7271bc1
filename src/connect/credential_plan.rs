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

use super::ConnectError;
use crate::config::{BootstrapChoice, Settings};
use crate::credentials::{CredentialRefresh, Credentials};
use crate::ipmi::bootstrap::{
    fetch_credentials, fetch_fingerprint, BootstrapError, IpmiCredentials,
};
use crate::ipmi::dev::DevIpmi;
use crate::ipmi::Ipmi;
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
pub fn bootstrap_ipmi(
    settings: &Settings,
    sysfs_root: &Path,
) -> Result<Option<Arc<dyn Ipmi>>, ConnectError> {
    let bmc = &settings.bmc;
    match bmc.credential_bootstrapping {
        BootstrapChoice::Never => Ok(None),
        BootstrapChoice::Always => Ok(Some(Arc::new(
            DevIpmi::open(&bmc.ipmi_device, IPMI_TIMEOUT).map_err(BootstrapError::from)?,
        ))),
        BootstrapChoice::Auto => {
            if !bmc.ipmi_device.exists()
                || !crate::discovery::host_interface::bootstrapping_supported(sysfs_root)
            {
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
pub async fn plan(
    settings: &Settings,
    ipmi: Option<Arc<dyn Ipmi>>,
) -> Result<CredentialPlan, ConnectError> {
    if let Some(creds) = crate::credentials::load(settings.bmc.credentials_dir.as_deref())? {
        if ipmi.is_some() {
            tracing::info!("credential files exist: not asking the BMC for a bootstrap account");
        }
        return Ok(CredentialPlan {
            creds: Some(creds),
            ..CredentialPlan::default()
        });
    }
    let Some(ipmi) = ipmi else {
        return Ok(CredentialPlan::default());
    };
    match bootstrap(ipmi.clone()).await {
        Ok((pin, creds)) => {
            tracing::info!(device = %ipmi.describe(), fingerprint = %pin, "credential bootstrapping: pinning the BMC's certificate to the fingerprint from IPMI");
            Ok(CredentialPlan {
                creds: Some(creds),
                pin: Some(pin),
                refresh: Some(Arc::new(IpmiCredentials(ipmi))),
            })
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
    let task = tokio::task::spawn_blocking(move || {
        Ok((
            fetch_fingerprint(ipmi.as_ref())?,
            fetch_credentials(ipmi.as_ref())?,
        ))
    });
    task.await.unwrap_or_else(|e| {
        Err(BootstrapError::Ipmi(crate::ipmi::IpmiError::Io {
            path: "ipmi".into(),
            what: "task",
            reason: e.to_string(),
        }))
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::config::{load, Sources};
    use crate::ipmi::fake::FakeIpmi;

    fn settings(bootstrapping: &str, device: &Path) -> Settings {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("hostagent.toml");
        let text = format!(
            "[bmc]\ncredential_bootstrapping = \"{bootstrapping}\"\nipmi_device = \"{}\"\n",
            device.display()
        );
        std::fs::write(&main, text).unwrap();
        load(&Sources {
            main: Some(main),
            flags: vec![],
        })
        .unwrap()
    }

    /// A sysfs root whose DMI tables are a fixture's.
    fn sysfs_with(fixture: &str) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        let tables = root.path().join("firmware/dmi/tables");
        std::fs::create_dir_all(&tables).unwrap();
        let from = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/smbios")
            .join(fixture);
        for name in ["smbios_entry_point", "DMI"] {
            std::fs::copy(from.join(name), tables.join(name)).unwrap();
        }
        root
    }

    #[test]
    fn the_type_42_bit_decides_under_auto() {
        // nvidia-grace-usbv2 sets Device Characteristics bit 0; hpe-ilo-vnic does not.
        assert!(crate::discovery::host_interface::bootstrapping_supported(
            sysfs_with("nvidia-grace-usbv2").path()
        ));
        assert!(!crate::discovery::host_interface::bootstrapping_supported(
            sysfs_with("hpe-ilo-vnic").path()
        ));
        assert!(!crate::discovery::host_interface::bootstrapping_supported(
            Path::new("/nonexistent")
        ));
        // The record says yes but there is no IPMI device: no bootstrapping, no error.
        let s = settings("auto", Path::new("/nonexistent/ipmi0"));
        assert!(bootstrap_ipmi(&s, sysfs_with("nvidia-grace-usbv2").path())
            .unwrap()
            .is_none());
    }

    #[test]
    fn always_needs_the_device_and_never_never_opens_it() {
        let s = settings("always", Path::new("/nonexistent/ipmi0"));
        let err = bootstrap_ipmi(&s, Path::new("/nonexistent")).err().unwrap();
        assert!(err.to_string().contains("/nonexistent/ipmi0"), "{err}");
        let s = settings("never", Path::new("/nonexistent/ipmi0"));
        assert!(bootstrap_ipmi(&s, sysfs_with("nvidia-grace-usbv2").path())
            .unwrap()
            .is_none());
    }

    #[tokio::test]
    async fn a_failed_bootstrap_is_a_warning_under_auto_and_an_error_under_always() {
        std::env::remove_var("CREDENTIALS_DIRECTORY");
        let disabled = || {
            let fake = FakeIpmi::new();
            fake.answer_always(crate::ipmi::bootstrap::CMD_GET_FINGERPRINT, vec![0x80]);
            Some(Arc::new(fake) as Arc<dyn Ipmi>)
        };
        let auto = plan(&settings("auto", Path::new("/dev/ipmi0")), disabled())
            .await
            .unwrap();
        assert!(auto.creds.is_none() && auto.pin.is_none() && auto.refresh.is_none());
        let err = plan(&settings("always", Path::new("/dev/ipmi0")), disabled())
            .await
            .err()
            .unwrap();
        assert!(err.to_string().contains("80h"), "{err}");
    }
}
