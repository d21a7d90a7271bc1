//! Discovery end to end: the SMBIOS type 42 records under a sysfs root, the matching NIC, and
//! its bring-up; the result is the Redfish endpoint and the interface to bind to.

use std::net::IpAddr;
use std::path::Path;

use super::link::{bring_up, plan, LinkError, LinkUp};
use super::netdev::{find_netdev, MatchError};
use super::smbios::model::{Device, Protocol};
use super::smbios::{discover_report, DirSource};

/// The configured host interface.
#[derive(Debug, Clone)]
pub struct HostInterfaceUp {
    pub link: LinkUp,
    /// What was applied, for the link watcher to apply again.
    pub plan: super::link::LinkPlan,
    /// The host side's address and prefix: REST sessions from there are in-band.
    pub host: (IpAddr, u8),
}

#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("no SMBIOS type 42 host interface: {0}")]
    NoTable(String),
    #[error("no usable Redfish host interface record: {0}")]
    NoRecord(String),
    #[error(transparent)]
    Match(#[from] MatchError),
    #[error(transparent)]
    Link(#[from] LinkError),
}

/// True when a type 42 record sets Device Characteristics bit 0, "Credential Bootstrapping
/// via IPMI is supported" (DSP0270 1.3, v2 device descriptions only).
pub fn bootstrapping_supported(sysfs_root: &Path) -> bool {
    let report = discover_report(&DirSource::from_sysfs_root(sysfs_root));
    let records = report.decode.map(|d| d.records).unwrap_or_default();
    records.iter().any(|r| match &r.device {
        Some(
            Device::UsbV2 {
                bootstrap: Some(b), ..
            }
            | Device::PciV2 {
                bootstrap: Some(b), ..
            },
        ) => b.supported,
        _ => false,
    })
}

/// Decodes, matches and brings up the first network host interface with a Redfish-over-IP
/// record this build can configure. Runs in the calling thread's network namespace.
pub async fn bring_up_host_interface(sysfs_root: &Path) -> Result<HostInterfaceUp, DiscoveryError> {
    let report = discover_report(&DirSource::from_sysfs_root(sysfs_root));
    let Some(decode) = report.decode else {
        let why: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
        return Err(DiscoveryError::NoTable(why.join("; ")));
    };
    let mut refusals = Vec::new();
    for record in decode.records.iter() {
        let Some(device) = &record.device else {
            continue;
        };
        for protocol in &record.protocols {
            let Protocol::RedfishOverIp(redfish) = protocol else {
                continue;
            };
            let nic = match find_netdev(sysfs_root, device) {
                Ok(nic) => nic,
                Err(e) => {
                    refusals.push(format!("handle {:#06x}: {e}", record.handle));
                    continue;
                }
            };
            match plan(redfish, &nic.ifname) {
                Ok(p) => {
                    let link = bring_up(&p).await?;
                    return Ok(HostInterfaceUp {
                        host: link.host,
                        link,
                        plan: p,
                    });
                }
                Err(e) => refusals.push(format!("handle {:#06x}: {e}", record.handle)),
            }
        }
    }
    Err(DiscoveryError::NoRecord(if refusals.is_empty() {
        "the table has none".into()
    } else {
        refusals.join("; ")
    }))
}
