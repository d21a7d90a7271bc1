//! Cross-checks the decode of the USB and PCI v1 fixtures against Debian's dmidecode
//! (`dmidecode --from-dump dump.bin -t 42`). dmidecode 3.4 decodes v1 device descriptions
//! only (v2 needs 3.6), so the v2 fixtures are compared with expected.json alone.
//! Skips with a reason when dmidecode is missing; fails under HOSTAGENT_REQUIRE_PRIVILEGED=1.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use hostagent::discovery::smbios::{discover_report, DirSource};
use serde_json::Value;

fn dmidecode_available() -> bool {
    let found = Command::new("dmidecode")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !found {
        let reason = "dmidecode is not installed (apt-get install -y dmidecode)";
        if std::env::var("HOSTAGENT_REQUIRE_PRIVILEGED").as_deref() == Ok("1") {
            panic!("{reason}, and HOSTAGENT_REQUIRE_PRIVILEGED=1");
        }
        eprintln!("SKIPPED: {reason}");
    }
    found
}

/// dmidecode's type 42 blocks: handle → (key → value), keys as printed.
fn dmidecode_blocks(dump: &Path) -> HashMap<u16, HashMap<String, String>> {
    let out = Command::new("dmidecode")
        .arg("--from-dump")
        .arg(dump)
        .args(["-t", "42"])
        .output()
        .expect("run dmidecode");
    assert!(
        out.status.success(),
        "dmidecode failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut blocks = HashMap::new();
    for block in text.split("\n\n") {
        let Some(handle_line) = block.lines().find(|l| l.starts_with("Handle 0x")) else {
            continue;
        };
        let hex = handle_line
            .trim_start_matches("Handle 0x")
            .split(',')
            .next()
            .unwrap_or("");
        let handle = u16::from_str_radix(hex, 16).expect("handle");
        let fields = block
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        blocks.insert(handle, fields);
    }
    blocks
}

fn v1_fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smbios");
    let mut out: Vec<PathBuf> = std::fs::read_dir(root)
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|d| {
            let Ok(bytes) = std::fs::read(d.join("expected.json")) else {
                return false;
            };
            let v: Value = serde_json::from_slice(&bytes).expect("expected.json");
            v["records"].as_array().is_some_and(|rs| {
                rs.iter()
                    .any(|r| matches!(r["device"]["type"].as_str(), Some("usb") | Some("pci")))
            })
        })
        .collect();
    out.sort();
    out
}

/// dmidecode's name for an assignment / discovery type.
fn assignment_name(ours: &str) -> &str {
    match ours {
        "static" => "Static",
        "dhcp" => "DHCP",
        "autoconfigure" => "AutoConf",
        "host-selected" => "Host Selected",
        _ => "Unknown",
    }
}

fn field<'a>(d: &'a HashMap<String, String>, key: &str) -> Option<&'a str> {
    d.get(key).map(String::as_str)
}

fn compare_device(name: &str, dev: &Value, d: &HashMap<String, String>) {
    let hex = |k: &str| format!("0x{}", dev[k].as_str().expect("id"));
    match dev["type"].as_str() {
        Some("usb") => {
            assert_eq!(field(d, "Device Type"), Some("USB"), "{name}");
            assert_eq!(
                field(d, "idVendor"),
                Some(hex("vendor_id").as_str()),
                "{name}"
            );
            assert_eq!(
                field(d, "idProduct"),
                Some(hex("product_id").as_str()),
                "{name}"
            );
        }
        Some("pci") => {
            assert_eq!(field(d, "Device Type"), Some("PCI/PCIe"), "{name}");
            assert_eq!(
                field(d, "VendorID"),
                Some(hex("vendor_id").as_str()),
                "{name}"
            );
            assert_eq!(
                field(d, "DeviceID"),
                Some(hex("device_id").as_str()),
                "{name}"
            );
            assert_eq!(
                field(d, "SubVendorID"),
                Some(hex("subsystem_vendor_id").as_str()),
                "{name}"
            );
            assert_eq!(
                field(d, "SubDeviceID"),
                Some(hex("subsystem_id").as_str()),
                "{name}"
            );
        }
        other => panic!("{name}: not a v1 device: {other:?}"),
    }
}

fn compare_protocol(name: &str, p: &Value, d: &HashMap<String, String>) {
    let s = |k: &str| p[k].as_str().map(str::to_string);
    assert_eq!(
        field(d, "Host IP Assignment Type"),
        Some(assignment_name(
            p["host_ip_assignment"].as_str().unwrap_or("")
        )),
        "{name}"
    );
    assert_eq!(
        field(d, "Redfish Service IP Discovery Type"),
        Some(assignment_name(
            p["service_ip_discovery"].as_str().unwrap_or("")
        )),
        "{name}"
    );
    // dmidecode prints the host address only for Static/AutoConf, as we report it.
    assert_eq!(
        field(d, "IPv4 Address").map(str::to_string),
        s("host_address"),
        "{name}: host address"
    );
    assert_eq!(
        field(d, "IPv4 Mask").map(str::to_string),
        s("host_mask"),
        "{name}: host mask"
    );
    assert_eq!(
        field(d, "IPv4 Redfish Service Address").map(str::to_string),
        s("service_address"),
        "{name}"
    );
    assert_eq!(
        field(d, "IPv4 Redfish Service Mask").map(str::to_string),
        s("service_mask"),
        "{name}"
    );
    // dmidecode prints port and VLAN only when the service address is Static/AutoConf.
    if let Some(port) = field(d, "Redfish Service Port") {
        assert_eq!(port, p["service_port"].to_string(), "{name}: port");
        let vlan: u64 = field(d, "Redfish Service Vlan")
            .and_then(|v| v.parse().ok())
            .expect("vlan");
        let want_vlan = if vlan == 0 || vlan == 0xffff_ffff {
            Value::Null
        } else {
            vlan.into()
        };
        assert_eq!(p["vlan_id"], want_vlan, "{name}: vlan");
    } else {
        assert_eq!(
            p["service_ip_discovery"], "dhcp",
            "{name}: dmidecode omitted the port"
        );
    }
    let host = field(d, "Redfish Service Hostname")
        .filter(|h| !h.is_empty())
        .map(str::to_string);
    assert_eq!(s("hostname"), host, "{name}: hostname");
    let uuid = match field(d, "Service UUID") {
        Some("Not Settable") => "00000000-0000-0000-0000-000000000000".to_string(),
        other => other.expect("uuid").to_string(),
    };
    assert_eq!(s("service_uuid"), Some(uuid), "{name}: uuid");
}

#[test]
fn v1_fixtures_agree_with_dmidecode() {
    if !dmidecode_available() {
        return;
    }
    let fixtures = v1_fixtures();
    assert!(
        fixtures.len() >= 5,
        "expected the USB and PCI v1 fixtures, got {fixtures:?}"
    );
    for dir in fixtures {
        let name = dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let ours = discover_report(&DirSource::new(&dir)).decode_json();
        let theirs = dmidecode_blocks(&dir.join("dump.bin"));
        let mut compared = 0;
        for r in ours["records"].as_array().expect("records") {
            let handle = r["handle"].as_u64().expect("handle") as u16;
            let d = theirs
                .get(&handle)
                .unwrap_or_else(|| panic!("{name}: dmidecode has no handle {handle:#x}"));
            if r["device"].is_null() {
                continue;
            }
            compare_device(&name, &r["device"], d);
            let protocols = r["protocols"].as_array().expect("protocols");
            assert_eq!(
                protocols.len(),
                1,
                "{name}: one protocol record per fixture structure"
            );
            compare_protocol(&name, &protocols[0], d);
            compared += 1;
        }
        assert!(compared > 0, "{name}: nothing compared");
    }
}
