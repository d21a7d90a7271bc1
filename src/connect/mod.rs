//! From settings to a connected [`Service`]: credentials (and, with DSP0270 bootstrapping, the
//! certificate pin: see [`credential_plan`]), the BMC's path ([`bmc_path`]: an explicit
//! endpoint over HTTPS, the host interface, or CHIF), trust, the agent session and its login.
//! Shared by the daemon and `agentctl --standalone`, which differ only in their [`Mode`].

pub mod bmc_path;
pub mod credential_plan;
mod error;

pub use bmc_path::{transport, trust, BmcPath};
pub use error::ConnectError;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use self::credential_plan::{bootstrap_ipmi, plan, CredentialPlan};
use crate::config::Settings;
use crate::discovery::link::LinkPlan;
use crate::ipmi::Ipmi;
use crate::redfish::{ClassifyContext, Vendor};
use crate::service::{Recovery, Service};
use crate::session::{AgentOptions, AgentSession, LoginOutcome};
use crate::state::Ledger;

/// Who the service is for. The daemon tags its sessions with `Context`, keeps the ledger (not
/// in memory-only mode) and recognises what an earlier run of it left behind; `agentctl
/// --standalone` does none of that, so that it never takes a running daemon's sessions for
/// orphans.
#[derive(Debug, Clone)]
pub enum Mode {
    Standalone,
    Daemon { ledger: Option<Arc<Ledger>> },
}

impl Mode {
    /// The daemon's mode; reads `<state.dir>/ledger.json` unless memory-only, where the
    /// ledger lives in memory (so that sessions it failed to delete are retried).
    pub fn daemon(settings: &Settings) -> Mode {
        let ledger = if settings.state.memory_only {
            Ledger::in_memory()
        } else {
            Ledger::open(&settings.state.dir.join("ledger.json"))
        };
        Mode::Daemon {
            ledger: Some(Arc::new(ledger)),
        }
    }

    fn agent_options(&self, host_id: &str) -> AgentOptions {
        match self {
            Mode::Standalone => AgentOptions::default(),
            Mode::Daemon { ledger } => AgentOptions {
                context: crate::ownership::ContextTag::prefix(host_id)
                    .map(|prefix| format!("{prefix}/agent")),
                ledger: ledger.clone(),
                ..AgentOptions::default()
            },
        }
    }

    /// Context tags always count in the daemon; the identity rule only without a ledger file and
    /// without `Context` (memory-only mode on iLO).
    fn recovery(&self, supports_context: bool) -> Recovery {
        match self {
            Mode::Standalone => Recovery::default(),
            Mode::Daemon { ledger } => Recovery {
                by_context: true,
                by_identity: !ledger.as_ref().is_some_and(|l| l.is_persistent())
                    && !supports_context,
            },
        }
    }
}

/// A connected [`Service`], and the discovered host-interface link (the plan and what it
/// brought up: index, DHCP lease) that the daemon watches and whose lease it keeps.
pub struct Connected {
    pub service: Service,
    pub link: Option<(LinkPlan, crate::discovery::link::LinkUp)>,
}

/// Connects, logs in (or settles for Basic / sessionless) and wraps it all in a [`Service`].
pub async fn service(
    settings: &Settings,
    sysfs_root: &Path,
    mode: &Mode,
) -> Result<Service, ConnectError> {
    Ok(connect(settings, sysfs_root, mode).await?.service)
}

/// [`service`], with the link to watch.
pub async fn connect(
    settings: &Settings,
    sysfs_root: &Path,
    mode: &Mode,
) -> Result<Connected, ConnectError> {
    let ipmi = bootstrap_ipmi(settings, sysfs_root)?;
    connect_with_ipmi(settings, sysfs_root, mode, ipmi).await
}

/// [`service`] with the IPMI channel for credential bootstrapping given (tests pass a
/// scripted one); `None` = no bootstrapping.
pub async fn service_with_ipmi(
    settings: &Settings,
    sysfs_root: &Path,
    mode: &Mode,
    ipmi: Option<Arc<dyn Ipmi>>,
) -> Result<Service, ConnectError> {
    Ok(connect_with_ipmi(settings, sysfs_root, mode, ipmi)
        .await?
        .service)
}

async fn connect_with_ipmi(
    settings: &Settings,
    sysfs_root: &Path,
    mode: &Mode,
    ipmi: Option<Arc<dyn Ipmi>>,
) -> Result<Connected, ConnectError> {
    let CredentialPlan {
        creds,
        pin,
        refresh,
    } = plan(settings, ipmi).await?;
    let BmcPath {
        transport,
        host,
        link,
    } = transport(settings, sysfs_root, pin).await?;
    let transport = crate::transport::metered::Metered::wrap(transport, crate::metrics::global());
    let mut agent = AgentSession::connect(
        transport,
        creds,
        mode.agent_options(&settings.agent.host_id),
    )
    .await?;
    if let Some(refresh) = refresh {
        agent = agent.with_credential_refresh(refresh);
    }
    let outcome = agent.login().await?;
    let recovery = mode.recovery(agent.root().supports_context);
    let vendor = agent.root().info.vendor;
    let mut ctx = if vendor == Vendor::Hpe {
        ClassifyContext::hpe_default()
    } else {
        ClassifyContext::default()
    };
    ctx.in_band.extend(host);
    // NOTE(dell): iDRAC allows 8 sessions; other vendors do not publish their limit.
    let known = settings
        .bmc
        .session_limit
        .or((vendor == Vendor::Dell).then_some(8));
    let mut service =
        Service::new(Arc::new(agent), ctx, known).with_host_id(&settings.agent.host_id);
    service.recovery = recovery;
    if known.is_none() && outcome == LoginOutcome::BasicFallback {
        service.learn_limit_from_full_table().await;
    }
    Ok(Connected { service, link })
}

/// [`connect`] in the daemon's mode, retried with backoff (1 s doubling to 30 s) while the BMC
/// is unreachable; other errors (configuration, refused credentials) are final.
/// `on_unreachable` hears each failed attempt (the API reports the last one while connecting).
pub async fn connect_with_retry(
    settings: &Settings,
    sysfs_root: &Path,
    on_unreachable: &(dyn Fn(&ConnectError) + Sync),
) -> Result<Connected, ConnectError> {
    let mut wait = Duration::from_secs(1);
    let mode = Mode::daemon(settings);
    loop {
        match connect(settings, sysfs_root, &mode).await {
            Err(e) if e.is_unreachable() => {
                on_unreachable(&e);
                tracing::warn!(message_id = crate::events::BMC_UNREACHABLE, error = %e, retry_in_s = wait.as_secs(), "the BMC is unreachable");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(30));
            }
            other => return other,
        }
    }
}
