//! IBM Power HMCs (`[[hmc]]`): one REST API session per HMC, held in memory, shared by every
//! local script through virtual sessions, logged off at stop — the broker that ends the
//! session pile-ups of scripts that never log off (docs/HMC.md).
//!
//! - [`session`]: the agent's HMC session ([`Upstream`]): XML logon, relogon once, back-off,
//!   logoff, the token in the kernel keyring between runs ([`keyring`]).
//! - [`proxy`]: `/rest/api/**` for local clients, with virtual sessions.
//! - [`kept`]: what the keyring keeps of a session; [`orphans`]: logging off, at start, the
//!   sessions of tables removed while the agent was down.
//! - [`build`]: from an `[[hmc]]` table to an [`Hmc`] (account, trust, transport).
//! - [`xml`]: the HMC's documents; [`error`]: [`HmcError`].
//!
//! Each HMC is independent: its logon runs in its own task ([`run`]), so one that is
//! unreachable or refuses the account holds back neither the others nor the BMC.

pub mod build;
pub mod error;
pub mod kept;
pub mod keyring;
pub mod orphans;
pub mod proxy;
pub mod session;
pub mod xml;

pub use build::Builder;
pub use error::HmcError;
pub use session::{Upstream, UpstreamOptions};

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::config::{HmcSettings, Settings};
use crate::proxy::rewrite::BmcNames;
use crate::proxy::virtual_sessions::VirtualSessions;
use crate::service::HmcStatus;

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

/// Every configured HMC, in config order. The list changes at a reload (`[[hmc]]` tables
/// removed or added, `daemon::hmcs`); the routes look an HMC up by name at each request, so a
/// removed one answers 404 at once.
#[derive(Default)]
pub struct Hmcs {
    list: std::sync::RwLock<Vec<Arc<Hmc>>>,
    /// How new tables are built; `None` in an API that serves no HMC.
    builder: Option<Builder>,
}

impl Hmcs {
    /// Reads each HMC's account and builds its transport; an error names the HMC and what is
    /// wrong (a missing credential file, a bad CA bundle). Nothing is sent yet.
    pub fn from_settings(settings: &Settings, opts: &UpstreamOptions) -> anyhow::Result<Hmcs> {
        let builder = Builder::new(settings, opts);
        let list = settings
            .hmc
            .iter()
            .map(|h| builder.build(h).map(Arc::new))
            .collect::<anyhow::Result<_>>()?;
        Ok(Hmcs {
            list: std::sync::RwLock::new(list),
            builder: Some(builder),
        })
    }

    pub fn builder(&self) -> Option<&Builder> {
        self.builder.as_ref()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Arc<Hmc>>> {
        self.list.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Arc<Hmc>>> {
        self.list.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The HMCs now, in config order.
    pub fn all(&self) -> Vec<Arc<Hmc>> {
        self.read().clone()
    }

    pub fn get(&self, name: &str) -> Option<Arc<Hmc>> {
        self.read()
            .iter()
            .find(|h| h.settings.name == name)
            .cloned()
    }

    pub fn names(&self) -> Vec<String> {
        self.read()
            .iter()
            .map(|h| h.settings.name.clone())
            .collect()
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// Serves `hmc` from now on (after any with the same name was removed).
    pub fn insert(&self, hmc: Arc<Hmc>) {
        let mut list = self.write();
        list.retain(|h| h.settings.name != hmc.settings.name);
        list.push(hmc);
    }

    /// Stops serving the HMC called `name`; the caller logs it off.
    pub fn remove(&self, name: &str) -> Option<Arc<Hmc>> {
        let mut list = self.write();
        let at = list.iter().position(|h| h.settings.name == name)?;
        Some(list.remove(at))
    }

    pub async fn status(&self) -> Vec<HmcStatus> {
        let all = self.all();
        let mut out = Vec::with_capacity(all.len());
        for h in &all {
            out.push(h.status().await);
        }
        out
    }

    /// Logs off every HMC at once (each with its own fresh timeout), reporting every failure.
    pub async fn logoff_all(&self) {
        let all = self.all();
        let all = all.iter().map(|h| async move {
            if let Err(e) = h.upstream.close().await {
                tracing::warn!(hmc = %h.settings.name, error = %e, "logoff at shutdown failed");
            }
        });
        futures::future::join_all(all).await;
    }
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
            Err(HmcError::Closed { .. }) => return,
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
