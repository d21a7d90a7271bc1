use std::os::unix::fs::symlink;
use std::path::Path;

use super::*;
use crate::discovery::smbios::model::{Device, PciIds};

/// A fake sysfs: a USB NIC (interface dir under its USB device dir) and a PCI NIC.
fn usb_nic(root: &Path, ifname: &str, port: &str, vid: &str, pid: &str, serial: &str, mac: &str) {
    let usbdev = root.join(format!("devices/pci0000:00/0000:00:14.0/usb1/{port}"));
    let iface = usbdev.join(format!("{port}:1.0"));
    let netdir = iface.join(format!("net/{ifname}"));
    std::fs::create_dir_all(&netdir).unwrap();
    for (k, v) in [("idVendor", vid), ("idProduct", pid), ("serial", serial)] {
        std::fs::write(usbdev.join(k), format!("{v}\n")).unwrap();
    }
    std::fs::write(netdir.join("address"), format!("{mac}\n")).unwrap();
    symlink(&iface, netdir.join("device")).unwrap();
    std::fs::create_dir_all(root.join("class/net")).unwrap();
    symlink(&netdir, root.join(format!("class/net/{ifname}"))).unwrap();
}

fn pci_nic(root: &Path, ifname: &str, addr: &str, ids: [&str; 4], mac: &str) {
    let dev = root.join(format!("devices/pci0000:00/{addr}"));
    let netdir = dev.join(format!("net/{ifname}"));
    std::fs::create_dir_all(&netdir).unwrap();
    for (k, v) in ["vendor", "device", "subsystem_vendor", "subsystem_device"]
        .iter()
        .zip(ids)
    {
        std::fs::write(dev.join(k), format!("{v}\n")).unwrap();
    }
    std::fs::write(netdir.join("address"), format!("{mac}\n")).unwrap();
    symlink(&dev, netdir.join("device")).unwrap();
    std::fs::create_dir_all(root.join("class/net")).unwrap();
    symlink(&netdir, root.join(format!("class/net/{ifname}"))).unwrap();
}

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    usb_nic(
        dir.path(),
        "usb0",
        "1-1",
        "03f0",
        "2927",
        "",
        "02:00:00:00:00:01",
    );
    usb_nic(
        dir.path(),
        "enx4ab1c2d3e4f5",
        "1-2",
        "0525",
        "a4a2",
        "1320323059012",
        "4a:b1:c2:d3:e4:f5",
    );
    pci_nic(
        dir.path(),
        "eno1",
        "0000:3b:00.0",
        ["0x8086", "0x1521", "0x8086", "0x0001"],
        "3c:ec:ef:00:00:01",
    );
    pci_nic(
        dir.path(),
        "eno2",
        "0000:3b:00.1",
        ["0x14e4", "0x1657", "0x1028", "0x0712"],
        "3c:ec:ef:00:00:02",
    );
    dir
}

#[test]
fn usb_v1_matches_vendor_and_product_on_the_interfaces_parent() {
    let dir = tree();
    let m = find_netdev(
        dir.path(),
        &Device::Usb {
            vendor_id: 0x03f0,
            product_id: 0x2927,
            serial: None,
        },
    )
    .unwrap();
    assert_eq!(m.ifname, "usb0");
    assert!(m.reason.contains("03f0:2927"));
    let err = find_netdev(
        dir.path(),
        &Device::Usb {
            vendor_id: 0x03f0,
            product_id: 0x2927,
            serial: Some("XYZ".into()),
        },
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("03f0:2927") && err.to_string().contains("usb0"),
        "{err}"
    );
}

#[test]
fn usb_v2_matches_the_mac_first_then_ids_and_serial() {
    let dir = tree();
    let v2 = |mac| Device::UsbV2 {
        vendor_id: 0x0525,
        product_id: 0xa4a2,
        serial: Some("1320323059012".into()),
        mac,
        bootstrap: None,
    };
    let m = find_netdev(dir.path(), &v2([0x4a, 0xb1, 0xc2, 0xd3, 0xe4, 0xf5])).unwrap();
    assert_eq!(
        (m.ifname.as_str(), m.reason.as_str()),
        ("enx4ab1c2d3e4f5", "MAC 4a:b1:c2:d3:e4:f5")
    );
    let m = find_netdev(dir.path(), &v2([0; 6])).unwrap();
    assert_eq!(
        m.ifname, "enx4ab1c2d3e4f5",
        "falls back to USB ids + serial"
    );
    assert!(m.reason.starts_with("USB"));
}

#[test]
fn pci_matches_ids_or_the_v2_address() {
    let dir = tree();
    let ids = PciIds {
        vendor_id: 0x14e4,
        device_id: 0x1657,
        subsystem_vendor_id: 0x1028,
        subsystem_id: 0x0712,
    };
    assert_eq!(
        find_netdev(dir.path(), &Device::Pci(ids)).unwrap().ifname,
        "eno2"
    );
    let other = PciIds {
        vendor_id: 0xffff,
        device_id: 0,
        subsystem_vendor_id: 0,
        subsystem_id: 0,
    };
    let v2 = Device::PciV2 {
        ids: other,
        mac: [0; 6],
        segment: 0,
        bus: 0x3b,
        device: 0,
        function: 0,
        bootstrap: None,
    };
    assert_eq!(
        find_netdev(dir.path(), &v2).unwrap().ifname,
        "eno1",
        "by segment/bus/dev/fn"
    );
}

#[test]
fn several_matches_pick_the_first_by_name_and_name_the_others() {
    let dir = tree();
    usb_nic(
        dir.path(),
        "usb1",
        "1-3",
        "03f0",
        "2927",
        "",
        "02:00:00:00:00:02",
    );
    let m = find_netdev(
        dir.path(),
        &Device::Usb {
            vendor_id: 0x03f0,
            product_id: 0x2927,
            serial: None,
        },
    )
    .unwrap();
    assert_eq!(
        (m.ifname.as_str(), m.others.clone()),
        ("usb0", vec!["usb1".to_string()])
    );
}

#[test]
fn a_missing_sysfs_is_an_io_error_naming_the_path() {
    let err = find_netdev(
        Path::new("/nonexistent-sysfs"),
        &Device::Usb {
            vendor_id: 1,
            product_id: 2,
            serial: None,
        },
    )
    .unwrap_err();
    assert!(
        matches!(err, MatchError::Io { ref path, .. } if path == "/nonexistent-sysfs/class/net"),
        "{err}"
    );
}
