//! IBM Power HMCs (`[[hmc]]`): one REST API session per HMC, held in memory, shared by every
//! local script through virtual sessions, logged off at stop — the broker that ends the
//! session pile-ups of scripts that never log off (docs/HMC.md).
//!
//! - [`session`]: the agent's HMC session ([`Upstream`]): XML logon, relogon once, back-off,
//!   logoff, the token in the kernel keyring between runs ([`keyring`]).
//! - [`proxy`]: `/rest/api/**` for local clients, with virtual sessions.
//! - [`xml`]: the HMC's documents; [`error`]: [`HmcError`].
//!
//! Each HMC is independent: its logon runs in its own task ([`run`]), so one that is
//! unreachable or refuses the account holds back neither the others nor the BMC.

pub mod error;
pub mod keyring;
pub mod proxy;
pub mod session;
pub mod xml;

pub use error::HmcError;
pub use session::{Upstream, UpstreamOptions};

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::config::{HmcSettings, Settings, TlsChoice};
use crate::proxy::rewrite::BmcNames;
use crate::proxy::virtual_sessions::VirtualSessions;
use crate::service::HmcStatus;
use crate::transport::https::{HttpsOptions, HttpsTransport};
use crate::transport::metered::Metered;
use crate::transport::trust::{FilePins, Fingerprint, MemoryPins, PinStore, Trust};

/// A virtual session idle this long is forgotten (the client gets 401 and logs on again,
/// which costs the HMC nothing). HMC sessions themselves default to never expiring; the
/// table's bounds ([`crate::proxy::virtual_sessions::MAX_PER_UID`]) keep leakers in check.
pub const VIRTUAL_TIMEOUT: Duration = Duration::from_secs(2 * 3600);
/// Answers larger than this are refused (a big HMC's LPAR feed is a few MB).
pub const MAX_ANSWER: usize = 64 << 20;

/// One HMC: its settings, the agent's session with it, and its clients' virtual sessions.
pub struct Hmc {
    pub settings: HmcSettings,
    pub upstream: Upstream,
    pub sessions: VirtualSessions,
    names: BmcNames,
}

impl Hmc {
    pub fn new(settings: HmcSettings, upstream: Upstream) -> Hmc {
        Hmc {
            names: BmcNames::new([settings.endpoint.as_str()]),
            sessions: VirtualSessions::new(VIRTUAL_TIMEOUT),
            settings,
            upstream,
        }
    }

    pub async fn status(&self) -> HmcStatus {
        HmcStatus {
            name: self.settings.name.clone(),
            endpoint: self.settings.endpoint.clone(),
            logged_on: self.upstream.logged_on().await,
            virtual_sessions: self.sessions.len(),
            last_error: self.upstream.last_error(),
            listen: self.settings.listen.map(|a| a.to_string()),
            keyring: self
                .upstream
                .keyring()
                .map(|k| k.kind.describe().to_string()),
        }
    }
}

/// Every configured HMC, in config order.
#[derive(Default)]
pub struct Hmcs(pub Vec<Arc<Hmc>>);

impl Hmcs {
    /// Reads each HMC's account and builds its transport; an error names the HMC and what is
    /// wrong (a missing credential file, a bad CA bundle). Nothing is sent yet.
    pub fn from_settings(settings: &Settings, opts: &UpstreamOptions) -> anyhow::Result<Hmcs> {
        let pins: Arc<dyn PinStore> = if settings.state.memory_only {
            Arc::new(MemoryPins::default())
        } else {
            Arc::new(FilePins::open(&settings.state.dir.join("hmc-pins.json")))
        };
        if settings.hmc.is_empty() {
            return Ok(Hmcs::default());
        }
        let keyring = keyring::Keyring::open();
        if keyring.is_none() {
            tracing::warn!("this kernel has no keyrings: a crash of the agent leaves each HMC's session on the HMC");
        }
        let mut all = Vec::new();
        for h in &settings.hmc {
            let creds = crate::credentials::load_hmc(&h.name, h.credentials_dir.as_deref())
                .map_err(|e| anyhow::anyhow!("HMC {}: {e}", h.name))?;
            let trust = trust(h, &pins).map_err(|e| anyhow::anyhow!("HMC {}: {e}", h.name))?;
            let mut http = HttpsOptions::new(h.endpoint.clone(), trust);
            http.max_in_flight = h.max_concurrency;
            http.max_body = MAX_ANSWER;
            http.request_timeout = Duration::from_secs(120);
            let transport =
                HttpsTransport::new(http).map_err(|e| anyhow::anyhow!("HMC {}: {e}", h.name))?;
            let metrics = crate::metrics::global();
            metrics.hmc.start(&[("hmc", h.name.clone())]);
            let transport = Metered::wrap_hmc(Arc::new(transport), metrics, &h.name);
            let upstream = Upstream::new(
                &h.name,
                transport,
                creds,
                &h.audit_memento,
                keyring,
                opts.clone(),
            );
            all.push(Arc::new(Hmc::new(h.clone(), upstream)));
        }
        Ok(Hmcs(all))
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Hmc>> {
        self.0.iter().find(|h| h.settings.name == name)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub async fn status(&self) -> Vec<HmcStatus> {
        let mut out = Vec::with_capacity(self.0.len());
        for h in &self.0 {
            out.push(h.status().await);
        }
        out
    }

    /// Logs off every HMC at once (each with its own fresh timeout), reporting every failure.
    pub async fn logoff_all(&self) {
        let all = self.0.iter().map(|h| async move {
            if let Err(e) = h.upstream.logoff().await {
                tracing::warn!(hmc = %h.settings.name, error = %e, "logoff at shutdown failed");
            }
        });
        futures::future::join_all(all).await;
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

/// How often the keyring holding the token is renewed (the kernel expires an unused
/// persistent keyring after three days by default).
const KEYRING_TOUCH: Duration = Duration::from_secs(3600);

/// One HMC's life in the daemon: log on at start (reusing a token from the keyring), retrying
/// with the session's back-off until it holds, then keep the keyring fresh until `stop`.
pub async fn run(hmc: Arc<Hmc>, mut stop: watch::Receiver<bool>) {
    loop {
        let wait = match hmc.upstream.start().await {
            Ok(()) => break,
            Err(HmcError::BackingOff { retry_in, .. }) => retry_in,
            Err(_) => Duration::ZERO,
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
    }
    loop {
        tokio::select! {
            _ = tokio::time::sleep(KEYRING_TOUCH) => {
                if let Some(k) = hmc.upstream.keyring() { k.touch() }
            }
            _ = stop.changed() => return,
        }
    }
}
