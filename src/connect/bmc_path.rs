//! The BMC's path: an explicit endpoint over HTTPS, the SMBIOS type 42 host interface
//! (matched and brought up), or CHIF; and how its certificate is trusted.

use std::path::Path;
use std::sync::Arc;

use super::ConnectError;
use crate::config::{Settings, TlsChoice, TransportChoice};
use crate::session::SessionError;
use crate::transport::chif::{ChifConfig, ChifTransport};
use crate::transport::https::{HttpsOptions, HttpsTransport};
use crate::transport::trust::{FilePins, Fingerprint, MemoryPins, Trust};
use crate::transport::Transport;

/// How the BMC's certificate is trusted; TOFU pins live in the state dir unless memory-only.
pub fn trust(settings: &Settings) -> Result<Trust, ConnectError> {
    let bmc = &settings.bmc;
    Ok(match bmc.tls {
        TlsChoice::Pin => Trust::Pin(
            Fingerprint::parse(bmc.fingerprint.as_deref().unwrap_or_default())
                .map_err(|reason| ConnectError::Fingerprint { reason })?,
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
pub struct BmcPath {
    pub transport: Arc<dyn Transport>,
    /// The host interface's own address and prefix, when discovery configured one.
    pub host: Option<(std::net::IpAddr, u8)>,
    /// The discovered link's plan and index, for the link watcher.
    pub link: Option<(
        crate::discovery::link::LinkPlan,
        crate::discovery::link::LinkUp,
    )>,
}

/// The IPMI fingerprint replaces `bmc.tls`, except that an operator's own pin must agree.
fn pinned(settings: &Settings, ipmi: &Fingerprint) -> Result<Trust, ConnectError> {
    if let Trust::Pin(configured) = trust(settings)? {
        if &configured != ipmi {
            return Err(ConnectError::PinMismatch {
                configured,
                ipmi: ipmi.clone(),
            });
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
) -> Result<BmcPath, ConnectError> {
    let bmc = &settings.bmc;
    if bmc.transport == TransportChoice::None {
        return Err(ConnectError::NoBmc);
    }
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
        opts.request_timeout = bmc.request_timeout;
        let t = HttpsTransport::new(opts).map_err(SessionError::from)?;
        return Ok(BmcPath {
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
            opts.request_timeout = bmc.request_timeout;
            // Bound to the NIC by name: rebindable when the watcher sees it renamed.
            let t = crate::transport::rebind::Rebindable::new(opts).map_err(SessionError::from)?;
            Ok(BmcPath {
                transport: Arc::new(t),
                host: Some(up.host),
                link: Some((up.plan, up.link)),
            })
        }
        Err(e)
            if bmc.transport == TransportChoice::Auto
                && (crate::transport::chif::device_present() || bmc.chif_library.is_some()) =>
        {
            tracing::info!(reason = %e, "no usable host interface: using CHIF");
            chif(settings).await
        }
        Err(e) => Err(ConnectError::Discovery(e)),
    }
}

async fn chif(settings: &Settings) -> Result<BmcPath, ConnectError> {
    let config = ChifConfig {
        library: settings.bmc.chif_library.clone(),
        ..ChifConfig::default()
    };
    let t = ChifTransport::connect(config)
        .await
        .map_err(SessionError::from)?;
    Ok(BmcPath {
        transport: Arc::new(t),
        host: None,
        link: None,
    })
}
