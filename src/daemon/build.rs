//! From settings to a working [`Service`]: credentials (and, with DSP0270 bootstrapping, the
//! certificate pin: see [`super::credentials`]), the transport (an explicit endpoint over
//! HTTPS, or CHIF), trust, the agent session and its login. Shared by the daemon and
//! `agentctl --standalone`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::credentials::{bootstrap_ipmi, plan, CredentialPlan};
use crate::config::{Settings, TlsChoice, TransportChoice};
use crate::ipmi::Ipmi;
use crate::redfish::{ClassifyContext, Vendor};
use crate::service::{Recovery, Service};
use crate::session::{AgentOptions, AgentSession, LoginOutcome, SessionError};
use crate::state::Ledger;
use crate::transport::chif::{ChifConfig, ChifTransport};
use crate::transport::https::{HttpsOptions, HttpsTransport};
use crate::transport::trust::{FilePins, Fingerprint, MemoryPins, Trust};
use crate::transport::Transport;

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("bad configuration: {0}")]
    Config(String),
    #[error("credentials: {0}")]
    Credentials(#[from] crate::credentials::CredentialError),
    #[error("credential bootstrapping: {0}")]
    Bootstrap(#[from] crate::ipmi::bootstrap::BootstrapError),
    #[error(transparent)]
    Session(#[from] SessionError),
}

impl BuildError {
    pub fn is_unreachable(&self) -> bool {
        matches!(self, BuildError::Session(e) if e.is_unreachable())
    }
}

/// How the BMC's certificate is trusted; TOFU pins live in the state dir unless memory-only.
pub fn trust(settings: &Settings) -> Result<Trust, BuildError> {
    let bmc = &settings.bmc;
    Ok(match bmc.tls {
        TlsChoice::Pin => Trust::Pin(
            Fingerprint::parse(bmc.fingerprint.as_deref().unwrap_or_default())
                .map_err(|e| BuildError::Config(format!("bmc.fingerprint: {e}")))?,
        ),
        TlsChoice::Tofu if settings.state.memory_only => {
            Trust::Tofu(Arc::new(MemoryPins::default()))
        }
        TlsChoice::Tofu => Trust::Tofu(Arc::new(FilePins::open(
            &settings.state.dir.join("pins.json"),
        ))),
        TlsChoice::Ca => Trust::Ca(bmc.ca_file.clone().unwrap_or_default()),
        TlsChoice::Insecure => Trust::Insecure,
    })
}

/// Where the transport goes and what discovery learned of the host interface.
pub struct Reach {
    pub transport: Arc<dyn Transport>,
    /// The host interface's own address and prefix, when discovery configured one.
    pub host: Option<(std::net::IpAddr, u8)>,
    /// The discovered link's plan and index, for the link watcher.
    pub link: Option<(crate::discovery::link::LinkPlan, u32)>,
}

/// The IPMI fingerprint replaces `bmc.tls`, except that an operator's own pin must agree.
fn pinned(settings: &Settings, ipmi: &Fingerprint) -> Result<Trust, BuildError> {
    if let Trust::Pin(configured) = trust(settings)? {
        if &configured != ipmi {
            return Err(BuildError::Config(format!(
                "bmc.fingerprint is {configured} but the BMC reports {ipmi} over IPMI (Get Manager Certificate Fingerprint)"
            )));
        }
    }
    Ok(Trust::Pin(ipmi.clone()))
}

/// The transport the settings ask for: an explicit endpoint; else (`auto`) the SMBIOS type 42
/// host interface under `sysfs_root`, matched and brought up; else CHIF when `/dev/hpilo`
/// exists or a CHIF library is configured. Never a built-in guess of a BMC address. A `pin`
/// (from IPMI) replaces the configured trust of HTTPS.
pub async fn transport(
    settings: &Settings,
    sysfs_root: &Path,
    pin: Option<Fingerprint>,
) -> Result<Reach, BuildError> {
    let bmc = &settings.bmc;
    if bmc.transport == TransportChoice::Chif {
        return chif(settings).await;
    }
    let trust = |settings| match &pin {
        Some(fp) => pinned(settings, fp),
        None => trust(settings),
    };
    if let Some(endpoint) = &bmc.endpoint {
        let mut opts = HttpsOptions::new(endpoint.clone(), trust(settings)?);
        opts.max_in_flight = bmc.max_concurrency;
        let t = HttpsTransport::new(opts).map_err(SessionError::from)?;
        return Ok(Reach {
            transport: Arc::new(t),
            host: None,
            link: None,
        });
    }
    match crate::discovery::host_interface::bring_up_host_interface(sysfs_root).await {
        Ok(up) => {
            let mut opts = HttpsOptions::new(up.link.url(), trust(settings)?);
            opts.interface = Some(up.link.ifname.clone());
            opts.max_in_flight = bmc.max_concurrency;
            let t = HttpsTransport::new(opts).map_err(SessionError::from)?;
            Ok(Reach {
                transport: Arc::new(t),
                host: Some(up.host),
                link: Some((up.plan, up.link.ifindex)),
            })
        }
        Err(e)
            if bmc.transport == TransportChoice::Auto
                && (crate::transport::chif::device_present() || bmc.chif_library.is_some()) =>
        {
            tracing::info!(reason = %e, "no usable host interface: using CHIF");
            chif(settings).await
        }
        Err(e) => Err(BuildError::Config(format!(
            "no BMC endpoint configured and discovery failed: {e}"
        ))),
    }
}

async fn chif(settings: &Settings) -> Result<Reach, BuildError> {
    let config = ChifConfig {
        library: settings.bmc.chif_library.clone(),
        ..ChifConfig::default()
    };
    let t = ChifTransport::connect(config)
        .await
        .map_err(SessionError::from)?;
    Ok(Reach {
        transport: Arc::new(t),
        host: None,
        link: None,
    })
}

/// Who the service is for. The daemon tags its sessions with `Context`, keeps the ledger (not
/// in memory-only mode) and recognises what an earlier run of it left behind; `agentctl
/// --standalone` does none of that, so that it never takes a running daemon's sessions for
/// orphans.
#[derive(Debug, Clone)]
pub enum Role {
    Standalone,
    Daemon { ledger: Option<Arc<Ledger>> },
}

impl Role {
    /// The daemon's role; reads `<state.dir>/ledger.json` unless memory-only, where the
    /// ledger lives in memory (so that sessions it failed to delete are retried).
    pub fn daemon(settings: &Settings) -> Role {
        let ledger = if settings.state.memory_only {
            Ledger::in_memory()
        } else {
            Ledger::open(&settings.state.dir.join("ledger.json"))
        };
        Role::Daemon {
            ledger: Some(Arc::new(ledger)),
        }
    }

    fn agent_options(&self, host_id: &str) -> AgentOptions {
        match self {
            Role::Standalone => AgentOptions::default(),
            Role::Daemon { ledger } => AgentOptions {
                context: crate::service::context_prefix(host_id)
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
            Role::Standalone => Recovery::default(),
            Role::Daemon { ledger } => Recovery {
                by_context: true,
                by_identity: !ledger.as_ref().is_some_and(|l| l.is_persistent())
                    && !supports_context,
            },
        }
    }
}

/// Connects, logs in (or settles for Basic / sessionless) and wraps it all in a [`Service`].
pub async fn service(
    settings: &Settings,
    sysfs_root: &Path,
    role: &Role,
) -> Result<Service, BuildError> {
    let ipmi = bootstrap_ipmi(settings, sysfs_root)?;
    service_with_ipmi(settings, sysfs_root, role, ipmi).await
}

/// [`service`] with the IPMI channel for credential bootstrapping given (tests pass a
/// scripted one); `None` = no bootstrapping.
pub async fn service_with_ipmi(
    settings: &Settings,
    sysfs_root: &Path,
    role: &Role,
    ipmi: Option<Arc<dyn Ipmi>>,
) -> Result<Service, BuildError> {
    let CredentialPlan {
        creds,
        pin,
        refresh,
    } = plan(settings, ipmi).await?;
    let Reach {
        transport,
        host,
        link,
    } = transport(settings, sysfs_root, pin).await?;
    let mut agent = AgentSession::connect(
        transport,
        creds,
        role.agent_options(&settings.agent.host_id),
    )
    .await?;
    if let Some(refresh) = refresh {
        agent = agent.with_credential_refresh(refresh);
    }
    let outcome = agent.login().await?;
    let recovery = role.recovery(agent.root().supports_context);
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
    service.link = link;
    service.recovery = recovery;
    if known.is_none() && outcome == LoginOutcome::BasicFallback {
        service.learn_limit_from_full_table().await;
    }
    Ok(service)
}

/// [`service`], retried with backoff (1 s doubling to 30 s) while the BMC is unreachable;
/// other errors (configuration, refused credentials) are final.
/// Builds the service, retrying while the BMC is unreachable; `on_unreachable` hears each
/// failed attempt (the API reports the last one while connecting).
pub async fn connect_with_retry(
    settings: &Settings,
    sysfs_root: &Path,
    on_unreachable: &(dyn Fn(&BuildError) + Sync),
) -> Result<Service, BuildError> {
    let mut wait = Duration::from_secs(1);
    let role = Role::daemon(settings);
    loop {
        match service(settings, sysfs_root, &role).await {
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
