//! From an `[[hmc]]` table to an [`Hmc`]: its account, its trust, its transport, and its key in
//! the kernel keyring — at start and for each table a reload adds (`daemon::hmcs`).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::keyring::Keyring;
use super::{Hmc, Upstream, UpstreamOptions, MAX_ANSWER};
use crate::config::{HmcSettings, Settings, TlsChoice};
use crate::transport::https::{HttpsOptions, HttpsTransport};
use crate::transport::metered::Metered;
use crate::transport::trust::{FilePins, Fingerprint, MemoryPins, PinStore, Trust};

/// What every HMC of one daemon shares: the TOFU pins, the keyring and this agent's prefix in
/// it, the session options.
pub struct Builder {
    pins: Arc<dyn PinStore>,
    /// Opened at the first HMC built: a daemon without `[[hmc]]` tables makes no keyctl call.
    keyring: OnceLock<Option<Keyring>>,
    prefix: String,
    opts: UpstreamOptions,
}

impl Builder {
    pub fn new(settings: &Settings, opts: &UpstreamOptions) -> Builder {
        let pins: Arc<dyn PinStore> = if settings.state.memory_only {
            Arc::new(MemoryPins::default())
        } else {
            Arc::new(FilePins::open(&settings.state.dir.join("hmc-pins.json")))
        };
        Builder {
            pins,
            keyring: OnceLock::new(),
            prefix: super::kept::prefix(&settings.api.socket),
            opts: opts.clone(),
        }
    }

    /// The keyring holding the tokens between runs, opened on first use.
    pub fn keyring(&self) -> Option<Keyring> {
        *self.keyring.get_or_init(|| {
            let ring = Keyring::open();
            if ring.is_none() {
                tracing::warn!("this kernel has no keyrings: a crash of the agent leaves each HMC's session on the HMC");
            }
            ring
        })
    }

    /// This agent's prefix of key descriptions ([`super::kept::prefix`]).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Reads the HMC's account and builds its transport; an error names the HMC and what is
    /// wrong (a missing credential file, a bad CA bundle). Nothing is sent yet.
    pub fn build(&self, h: &HmcSettings) -> anyhow::Result<Hmc> {
        let named = |e: String| anyhow::anyhow!("HMC {}: {e}", h.name);
        let creds = crate::credentials::load_hmc(&h.name, h.credentials_dir.as_deref())
            .map_err(|e| named(e.to_string()))?;
        let trust = trust(h, &self.pins).map_err(named)?;
        let mut http = HttpsOptions::new(h.endpoint.clone(), trust);
        http.max_in_flight = h.max_concurrency;
        http.max_body = MAX_ANSWER;
        http.request_timeout = Duration::from_secs(120);
        let transport = HttpsTransport::new(http).map_err(|e| named(e.to_string()))?;
        let metrics = crate::metrics::global();
        metrics.hmc.start(&[("hmc", h.name.clone())]);
        let transport = Metered::wrap_hmc(Arc::new(transport), metrics, &h.name);
        let keyring = self.keyring().map(|k| (k, self.prefix.clone()));
        let upstream = Upstream::new(
            &h.name,
            transport,
            creds,
            &h.audit_memento,
            keyring,
            self.opts.clone(),
        );
        Ok(Hmc::new(h.clone(), upstream))
    }
}

fn trust(h: &HmcSettings, pins: &Arc<dyn PinStore>) -> Result<Trust, String> {
    Ok(match h.tls {
        TlsChoice::Pin => Trust::Pin(Fingerprint::parse(
            h.fingerprint.as_deref().unwrap_or_default(),
        )?),
        TlsChoice::Tofu => Trust::Tofu(pins.clone()),
        TlsChoice::Ca => Trust::Ca(h.ca_file.clone().unwrap_or_default()),
        TlsChoice::Insecure => Trust::Insecure,
    })
}
