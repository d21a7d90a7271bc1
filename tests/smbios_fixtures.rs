//! Runs the real `agentctl discover --dmi-dir <fixture> --json` over every folder of
//! tests/fixtures/smbios and compares its JSON with the folder's expected.json (every key,
//! exact), then checks the endpoint the agent would use for a few machines.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smbios");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/fixtures/smbios")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.join("expected.json").is_file())
        .collect();
    dirs.sort();
    dirs
}

/// Runs discover; returns (exit code, JSON on stdout, stderr).
fn discover(dir: &Path) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_agentctl"))
        .args(["discover", "--dmi-dir"])
        .arg(dir)
        .arg("--json")
        .output()
        .expect("run agentctl");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: stdout is not JSON ({e}): {}",
            dir.display(),
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (
        out.status.code().unwrap_or(-1),
        v,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn expected(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("expected.json")).expect("expected.json"))
        .expect("expected.json parses")
}

fn endpoint_of(name: &str) -> Value {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/smbios")
        .join(name);
    let (_, mut v, _) = discover(&dir);
    v.as_object_mut()
        .and_then(|m| m.remove("endpoint"))
        .expect("endpoint key")
}

#[test]
fn discover_json_matches_expected_for_every_fixture() {
    let dirs = fixtures();
    assert!(dirs.len() >= 13, "fixture folders missing: {dirs:?}");
    for dir in dirs {
        let (code, mut got, stderr) = discover(&dir);
        let obj = got.as_object_mut().expect("JSON object");
        assert!(
            obj.remove("endpoint").is_some(),
            "{}: no endpoint key",
            dir.display()
        );
        let want = expected(&dir);
        assert_eq!(
            got,
            want,
            "{}: decode differs from expected.json",
            dir.display()
        );
        let malformed = want.get("error").is_some();
        assert_eq!(
            code,
            if malformed { 1 } else { 0 },
            "{}: exit code; stderr: {stderr}",
            dir.display()
        );
        if malformed {
            // The log form names the structure handle and the byte offset.
            assert!(
                stderr.contains("handle 0x") && stderr.contains("byte "),
                "{}: stderr {stderr}",
                dir.display()
            );
        }
    }
}

#[test]
fn malformed_table_error_names_handle_and_offset() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/smbios/malformed-hostname-overrun");
    let (_, _, stderr) = discover(&dir);
    // Structure 0x00b1 at table offset 62; its hostname length byte is at 62+6+7+1+2+90 = 168.
    assert!(stderr.contains("handle 0x00b1"), "{stderr}");
    assert!(stderr.contains("byte 168"), "{stderr}");
    assert!(
        stderr.contains("the hostname length runs past the protocol record"),
        "{stderr}"
    );
}

#[test]
fn endpoint_static_service_address() {
    let e = endpoint_of("ami-megarac");
    assert_eq!(e["source"], "smbios");
    assert_eq!(e["url"], "https://169.254.0.17:443");
    assert_eq!(
        e["handle"], 81,
        "the network record, not the KCS one beside it"
    );
    assert_eq!(e["needs_interface_scope"], false);
}

#[test]
fn endpoint_uses_the_table_port() {
    assert_eq!(endpoint_of("pci-v1")["url"], "https://192.168.20.1:8443");
}

#[test]
fn endpoint_dhcp_host_with_static_service() {
    // NOTE(dell): iDRAC9 gives the host its address by DHCP but names the service statically.
    let e = endpoint_of("dell-r740-idrac9");
    assert_eq!(e["url"], "https://169.254.2.2:443");
    assert_eq!(e["hostname"], "idrac.local");
}

#[test]
fn endpoint_learned_by_dhcp_is_unknown_until_link_up() {
    let e = endpoint_of("hpe-ilo-vnic");
    assert_eq!(e["source"], "dhcp");
    assert_eq!(e["url"], Value::Null);
    assert_eq!(e["port"], 443);
    assert_eq!(e["note"], "learned by DHCP (unknown until the link is up)");
}

#[test]
fn endpoint_carries_vlan() {
    assert_eq!(endpoint_of("pci-v2-vlan")["vlan_id"], 42);
}

#[test]
fn no_endpoint_without_a_usable_host_interface() {
    for name in [
        "no-host-interface",
        "legacy-smbios30",
        "malformed-protocol-count",
    ] {
        assert_eq!(endpoint_of(name), Value::Null, "{name}");
    }
}

#[test]
fn missing_tables_exit_1_with_json_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_agentctl"))
        .args(["discover", "--sysfs-root"])
        .arg(tmp.path())
        .arg("--json")
        .output()
        .expect("run agentctl");
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["smbios_version"], Value::Null);
    assert_eq!(v["endpoint"], Value::Null);
    let msg = v["error"].as_str().expect("error text");
    assert!(
        msg.contains("firmware/dmi/tables/smbios_entry_point"),
        "{msg}"
    );
}

#[test]
fn sysfs_root_reads_firmware_dmi_tables() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let tables = tmp.path().join("firmware/dmi/tables");
    std::fs::create_dir_all(&tables).expect("mkdir");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smbios/pci-v1");
    for f in ["smbios_entry_point", "DMI"] {
        std::fs::copy(src.join(f), tables.join(f)).expect("copy");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_agentctl"))
        .args(["discover", "--sysfs-root"])
        .arg(tmp.path())
        .arg("--json")
        .output()
        .expect("run agentctl");
    assert!(out.status.success());
    let mut v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    v.as_object_mut().map(|m| m.remove("endpoint"));
    assert_eq!(v, expected(&src));
}

#[test]
fn human_summary_without_json() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smbios/hpe-ilo-vnic");
    let out = Command::new(env!("CARGO_BIN_EXE_agentctl"))
        .args(["discover", "--dmi-dir"])
        .arg(&dir)
        .output()
        .expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("SMBIOS 3.3"), "{text}");
    assert!(text.contains("handle 0x002a: network"), "{text}");
    assert!(text.contains("learned by DHCP"), "{text}");
    assert!(
        serde_json::from_str::<Value>(&text).is_err(),
        "not JSON without --json"
    );
}
