//! The systemd unit and udev rules as shipped: `systemd-analyze verify` and `security`
//! (exposure ≤ 2.0), and every udev rule line parses and covers every BMC USB NIC of docs/PACKAGING.md.

mod common;

use std::process::Command;

const UNIT: &str = include_str!("../packaging/systemd/hostagentd.service");
const RULES: &str = include_str!("../udev/70-hostagent.rules");

/// The unit as `systemd-analyze` can check it here: ExecStart pointing at the built binary
/// and no Documentation= (the man pages are not installed on a build machine).
fn checkable_unit(dir: &std::path::Path) -> std::path::PathBuf {
    let text: String = UNIT
        .lines()
        .filter(|l| !l.starts_with("Documentation="))
        .map(|l| {
            if l.starts_with("ExecStart=") {
                format!("ExecStart={}", env!("CARGO_BIN_EXE_hostagentd"))
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path = dir.join("hostagentd.service");
    std::fs::write(&path, text).unwrap();
    path
}

fn systemd_analyze() -> bool {
    common::require(
        Command::new("systemd-analyze")
            .arg("--version")
            .output()
            .is_ok(),
        "systemd-analyze (Debian package systemd)",
    )
}

#[test]
fn the_unit_verifies() {
    if !systemd_analyze() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(checkable_unit(dir.path()))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(
        !text.contains("Unknown key") && !text.contains("Failed to parse"),
        "{text}"
    );
}

#[test]
fn the_units_exposure_is_at_most_2_0() {
    if !systemd_analyze() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=true"])
        .arg(checkable_unit(dir.path()))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or_else(|| panic!("{text}"));
    let score: f64 = line
        .split(": ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    println!("systemd-analyze security --offline=true: exposure {score}");
    assert!(score <= 2.0, "{line}");
}

/// The drop-in that lets `api.listen_https` bind port 443: it verifies beside the unit and
/// grants that one capability, nothing else.
#[test]
fn the_listen_https_drop_in_grants_only_net_bind_service() {
    let drop_in =
        include_str!("../packaging/systemd/hostagentd.service.d/listen-https.conf.example");
    let settings: Vec<&str> = drop_in
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    assert_eq!(
        settings,
        [
            "[Service]",
            "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
            "AmbientCapabilities=CAP_NET_BIND_SERVICE"
        ]
    );
    if !systemd_analyze() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let unit = checkable_unit(dir.path());
    std::fs::create_dir(dir.path().join("hostagentd.service.d")).unwrap();
    std::fs::write(
        dir.path().join("hostagentd.service.d/listen-https.conf"),
        drop_in,
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(unit)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_unit_keeps_what_the_agent_needs() {
    for needed in [
        "Type=notify",
        "WatchdogSec=",
        "Restart=on-failure",
        "RuntimeDirectory=hostagent",
        "StateDirectory=hostagent",
        "CAP_NET_ADMIN",
        "CAP_DAC_READ_SEARCH",
        "AF_NETLINK",
        "char-hpilo",
        "/dev/ipmi0",
        "LoadCredentialEncrypted=",
        // SIGHUP reloads the [[hmc]] tables (tests/hmc_reload.rs).
        "ExecReload=/bin/kill -HUP $MAINPID",
    ] {
        assert!(UNIT.contains(needed), "the unit lacks {needed}");
    }
}

#[test]
fn the_unit_writes_no_core_file() {
    // A core of the daemon could hold BMC session tokens (the daemon is non-dumpable too).
    let limits: Vec<&str> = UNIT
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("LimitCORE="))
        .collect();
    assert_eq!(
        limits,
        vec!["LimitCORE=0"],
        "the unit sets LimitCORE=0 once"
    );
}

/// One parsed rule line: its `KEY{attr}OP"value"` pairs.
fn parse_rule(line: &str) -> Result<Vec<(String, String, String)>, String> {
    let mut pairs = Vec::new();
    let mut rest = line.trim();
    while !rest.is_empty() {
        let op_at = rest
            .find(['=', '!', '+', ':'])
            .ok_or(format!("no operator in `{rest}`"))?;
        let key = rest[..op_at].trim().to_string();
        let after = &rest[op_at..];
        let op = ["==", "!=", "+=", "-=", ":=", "="]
            .iter()
            .find(|op| after.starts_with(**op))
            .ok_or(format!("bad operator in `{after}`"))?;
        let value_part = after[op.len()..].trim_start();
        let value_part = value_part
            .strip_prefix('"')
            .ok_or(format!("value of {key} is not quoted"))?;
        let end = value_part
            .find('"')
            .ok_or(format!("unterminated value of {key}"))?;
        let valid_key = key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "{}_-".contains(c))
            && !key.is_empty();
        if !valid_key {
            return Err(format!("bad key `{key}`"));
        }
        pairs.push((key, op.to_string(), value_part[..end].to_string()));
        rest = value_part[end + 1..]
            .trim_start()
            .trim_start_matches(',')
            .trim_start();
    }
    Ok(pairs)
}

#[test]
fn every_udev_rule_line_parses_and_every_bmc_nic_is_covered() {
    let mut rules = Vec::new();
    for (n, line) in RULES.lines().enumerate() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        rules.push(parse_rule(line).unwrap_or_else(|e| panic!("line {}: {e}", n + 1)));
    }
    for (vendor, product) in [
        ("03f0", "2927"),
        ("413c", "a102"),
        ("04b3", "4010"),
        ("046b", "ffb0"),
        ("0b05", "1976"),
        ("0b1f", "03ee"),
    ] {
        let covered = rules.iter().any(|r| {
            r.iter()
                .any(|(k, op, v)| k == "ATTRS{idVendor}" && op == "==" && v == vendor)
                && r.iter()
                    .any(|(k, op, v)| k == "ATTRS{idProduct}" && op == "==" && v == product)
                && r.iter()
                    .any(|(k, op, _)| k == "ENV{HOSTAGENT_BMC_NIC}" && op == "=")
        });
        assert!(covered, "{vendor}:{product} is not matched");
    }
    let sets = |key: &str, value: &str| {
        rules.iter().any(|r| {
            r.iter()
                .any(|(k, op, v)| k == key && op != "==" && v == value)
        })
    };
    assert!(sets("ENV{NM_UNMANAGED}", "1"));
    assert!(sets("ENV{SYSTEMD_WANTS}", "hostagentd.service"));
    assert!(sets("TAG", "systemd"));
    assert!(
        parse_rule("ATTRS{idVendor}==\"03f0\" ENV{X}=").is_err(),
        "the parser refuses an unquoted value"
    );
}
