//! Which host network device is the BMC's host interface: matched in sysfs (a root that tests
//! point at a fake tree) by the SMBIOS type 42 device description — the v2 MAC first, then the
//! USB vendor/product (and serial), or the PCI IDs or address.

use std::path::{Path, PathBuf};

use super::smbios::model::Device;

/// The chosen interface, why, and any other interface that matched as well (blades can show
/// several BMC NICs): the first by name is taken, so the choice is the same on every start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetdevMatch {
    pub ifname: String,
    pub reason: String,
    pub others: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MatchError {
    #[error("no network device matches {looked_for} (looked at: {})", if .candidates.is_empty() { "none".to_string() } else { .candidates.join(", ") })]
    NoMatch {
        looked_for: String,
        candidates: Vec<String>,
    },
    #[error("cannot match a host interface described as {0}")]
    Unsupported(String),
    #[error("reading {path}: {reason}")]
    Io { path: String, reason: String },
}

fn read_attr(dir: &Path, name: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(name))
        .ok()
        .map(|s| s.trim().to_ascii_lowercase())
}

fn hex_attr(dir: &Path, name: &str) -> Option<u16> {
    let text = read_attr(dir, name)?;
    u16::from_str_radix(text.trim_start_matches("0x"), 16).ok()
}

fn mac_text(mac: &[u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// One candidate interface as sysfs shows it.
struct Netdev {
    name: String,
    mac: Option<String>,
    /// The resolved `device` link: a USB interface or a PCI function directory.
    device: Option<PathBuf>,
}

fn netdevs(sysfs_root: &Path) -> Result<Vec<Netdev>, MatchError> {
    let class = sysfs_root.join("class/net");
    let entries = std::fs::read_dir(&class).map_err(|e| MatchError::Io {
        path: class.display().to_string(),
        reason: e.to_string(),
    })?;
    let mut out: Vec<Netdev> = entries
        .filter_map(Result::ok)
        .map(|e| {
            let dir = e.path();
            Netdev {
                name: e.file_name().to_string_lossy().into_owned(),
                mac: read_attr(&dir, "address"),
                device: std::fs::canonicalize(dir.join("device")).ok(),
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The USB device directory holding idVendor: the interface's parent, or the link itself.
fn usb_ids(dev: &Path) -> Option<(u16, u16, Option<String>)> {
    [dev.parent(), Some(dev)]
        .into_iter()
        .flatten()
        .find_map(|d| {
            Some((
                hex_attr(d, "idVendor")?,
                hex_attr(d, "idProduct")?,
                std::fs::read_to_string(d.join("serial"))
                    .ok()
                    .map(|s| s.trim().to_string()),
            ))
        })
}

fn usb_matches(n: &Netdev, vendor: u16, product: u16, serial: Option<&str>) -> bool {
    let Some((v, p, s)) = n.device.as_deref().and_then(usb_ids) else {
        return false;
    };
    v == vendor && p == product && serial.is_none_or(|want| s.as_deref() == Some(want))
}

/// `SSSS:BB:DD.F` from the PCI function directory's name.
fn pci_address(dev: &Path) -> Option<(u16, u8, u8, u8)> {
    let name = dev.file_name()?.to_str()?;
    let (seg, rest) = name.split_once(':')?;
    let (bus, rest) = rest.split_once(':')?;
    let (dev_no, func) = rest.split_once('.')?;
    Some((
        u16::from_str_radix(seg, 16).ok()?,
        u8::from_str_radix(bus, 16).ok()?,
        u8::from_str_radix(dev_no, 16).ok()?,
        u8::from_str_radix(func, 16).ok()?,
    ))
}

fn pci_ids_match(n: &Netdev, ids: &super::smbios::model::PciIds) -> bool {
    let Some(d) = n.device.as_deref() else {
        return false;
    };
    hex_attr(d, "vendor") == Some(ids.vendor_id)
        && hex_attr(d, "device") == Some(ids.device_id)
        && hex_attr(d, "subsystem_vendor") == Some(ids.subsystem_vendor_id)
        && hex_attr(d, "subsystem_device") == Some(ids.subsystem_id)
}

/// Finds the host-side netdev of `device` under `sysfs_root` (normally `/sys`).
pub fn find_netdev(sysfs_root: &Path, device: &Device) -> Result<NetdevMatch, MatchError> {
    let all = netdevs(sysfs_root)?;
    let by_mac = |mac: &[u8; 6]| -> Vec<&Netdev> {
        all.iter()
            .filter(|n| n.mac.as_deref() == Some(mac_text(mac).as_str()))
            .collect()
    };
    let (found, reason): (Vec<&Netdev>, String) = match device {
        Device::UsbV2 {
            mac,
            vendor_id,
            product_id,
            serial,
            ..
        } => match by_mac(mac) {
            m if !m.is_empty() => (m, format!("MAC {}", mac_text(mac))),
            _ => (
                all.iter()
                    .filter(|n| usb_matches(n, *vendor_id, *product_id, serial.as_deref()))
                    .collect(),
                format!("USB {vendor_id:04x}:{product_id:04x}"),
            ),
        },
        Device::Usb {
            vendor_id,
            product_id,
            serial,
        } => (
            all.iter()
                .filter(|n| usb_matches(n, *vendor_id, *product_id, serial.as_deref()))
                .collect(),
            format!("USB {vendor_id:04x}:{product_id:04x}"),
        ),
        Device::PciV2 {
            mac,
            ids,
            segment,
            bus,
            device,
            function,
            ..
        } => match by_mac(mac) {
            m if !m.is_empty() => (m, format!("MAC {}", mac_text(mac))),
            _ => {
                let at = (*segment, *bus, *device, *function);
                let m = all
                    .iter()
                    .filter(|n| {
                        n.device.as_deref().and_then(pci_address) == Some(at)
                            || pci_ids_match(n, ids)
                    })
                    .collect();
                (m, format!("PCI {segment:04x}:{bus:02x}:{device:02x}.{function:x} or IDs {:04x}:{:04x}", ids.vendor_id, ids.device_id))
            }
        },
        Device::Pci(ids) => {
            let m = all.iter().filter(|n| pci_ids_match(n, ids)).collect();
            (
                m,
                format!(
                    "PCI IDs {:04x}:{:04x} subsystem {:04x}:{:04x}",
                    ids.vendor_id, ids.device_id, ids.subsystem_vendor_id, ids.subsystem_id
                ),
            )
        }
        other => return Err(MatchError::Unsupported(format!("{other:?}"))),
    };
    let Some((first, rest)) = found.split_first() else {
        return Err(MatchError::NoMatch {
            looked_for: reason,
            candidates: all.iter().map(|n| n.name.clone()).collect(),
        });
    };
    if !rest.is_empty() {
        tracing::warn!(chosen = %first.name, others = ?rest.iter().map(|n| &n.name).collect::<Vec<_>>(), "several network devices match the host interface: taking the first by name");
    }
    Ok(NetdevMatch {
        ifname: first.name.clone(),
        reason,
        others: rest.iter().map(|n| n.name.clone()).collect(),
    })
}

#[cfg(test)]
mod tests;
