//! Real Redfish clients that no one here wrote log in, GET and log out against bmcsim and leave
//! no session: DMTF `redfish`, `sushy`, `redfishtool`, and HPE `ilorest` (on iLO profiles over
//! HTTPS on 127.0.0.1:443 inside a private network namespace, since iLO's absolute `Location`
//! names no port). The venvs come from `.ci/run`.

use std::path::PathBuf;
use std::process::Command;

use bmcsim::{Profile, SimConfig};
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn venv_bin(env: &str, default: &str, bin: &str) -> Option<PathBuf> {
    let dir = std::env::var(env)
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join(default));
    let path = dir.join("bin").join(bin);
    path.exists().then_some(path)
}

/// Skips with a reason, or fails when CI requires everything (HOSTAGENT_REQUIRE_PRIVILEGED=1).
fn require<T>(value: Option<T>, what: &str) -> Option<T> {
    if value.is_none() {
        if std::env::var("HOSTAGENT_REQUIRE_PRIVILEGED").as_deref() == Ok("1") {
            panic!("required for this test and missing: {what}");
        }
        eprintln!("SKIPPED: {what}");
    }
    value
}

fn python(script: &str, args: &[String]) -> Value {
    let py = require(
        venv_bin("HOSTAGENT_VENV", ".venv", "python"),
        "the client venv (.venv; .ci/run makes it)",
    )
    .expect("venv");
    let out = Command::new(py)
        .arg(repo().join("tests/clients").join(script))
        .args(args)
        .env_remove("REQUESTS_CA_BUNDLE")
        .env_remove("CURL_CA_BUNDLE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{script}: {e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[tokio::test(flavor = "multi_thread")]
async fn dmtf_redfish_library_logs_in_gets_and_logs_out_leaving_no_session() {
    if require(
        venv_bin("HOSTAGENT_VENV", ".venv", "python"),
        "the client venv",
    )
    .is_none()
    {
        return;
    }
    for (profile, system) in [
        (Profile::Ilo6, "/redfish/v1/Systems/1/"),
        (Profile::Idrac, "/redfish/v1/Systems/System.Embedded.1"),
        (Profile::Bmcweb, "/redfish/v1/Systems/system"),
    ] {
        let sim = bmcsim::start(SimConfig {
            profile,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let args = [
            sim.base_url(),
            "admin".into(),
            "password".into(),
            system.into(),
        ];
        let facts = tokio::task::spawn_blocking(move || python("dmtf_redfish.py", &args))
            .await
            .unwrap();
        assert_eq!(facts["status"], 200, "{profile}");
        assert_eq!(
            facts["body"]["@odata.id"]
                .as_str()
                .unwrap()
                .trim_end_matches('/'),
            system.trim_end_matches('/')
        );
        assert!(
            facts["session_location"]
                .as_str()
                .unwrap()
                .contains("/SessionService/Sessions/"),
            "{profile}: it used a session"
        );
        assert!(
            sim.sessions().is_empty(),
            "{profile}: logout left no session"
        );
        sim.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sushy_reads_the_system_and_deletes_its_session() {
    if require(
        venv_bin("HOSTAGENT_VENV", ".venv", "python"),
        "the client venv",
    )
    .is_none()
    {
        return;
    }
    // NOTE(hpe): on iLO profiles sushy deletes its session at the absolute `Location`, which
    // names no port: that only works on port 443, so the iLO case runs in the namespace test.
    for (profile, system) in [
        (Profile::Idrac, "/redfish/v1/Systems/System.Embedded.1"),
        (Profile::Bmcweb, "/redfish/v1/Systems/system"),
    ] {
        let sim = bmcsim::start(SimConfig {
            profile,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let args = [
            sim.base_url(),
            "admin".into(),
            "password".into(),
            system.into(),
        ];
        let facts = tokio::task::spawn_blocking(move || python("sushy_client.py", &args))
            .await
            .unwrap();
        assert!(
            facts["power_state"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains("on"),
            "{profile}: {facts}"
        );
        assert!(
            sim.sessions().is_empty(),
            "{profile}: sushy's close deleted its session"
        );
        let log: Vec<String> = sim_log(&sim).await;
        assert!(
            log.iter()
                .any(|l| l.starts_with("POST /redfish/v1/SessionService/Sessions")),
            "{profile}: {log:?}"
        );
        assert!(
            log.iter()
                .any(|l| l.starts_with("DELETE /redfish/v1/SessionService/Sessions/")),
            "{profile}: {log:?}"
        );
        sim.shutdown().await;
    }
}

async fn sim_log(sim: &bmcsim::SimHandle) -> Vec<String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let c = reqwest::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .no_proxy()
        .build()
        .unwrap();
    let log: Value = c
        .get(format!("{}/_sim/log", sim.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    log.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["method"].as_str().unwrap(),
                e["path"].as_str().unwrap()
            )
        })
        .collect()
}

fn tables(stdout: &str) -> Vec<(String, Value)> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("TABLE "))
        .map(|l| {
            let (tool, json) = l.split_once(' ').unwrap();
            (
                tool.to_string(),
                serde_json::from_str(json).unwrap_or(Value::Null),
            )
        })
        .collect()
}

#[test]
fn ilorest_and_redfishtool_on_port_443_in_a_private_namespace_leave_zero_sessions() {
    let root = nix::unistd::Uid::effective().is_root();
    let ilorest = venv_bin("HOSTAGENT_ILOREST_VENV", ".venv-ilorest", "ilorest");
    let redfishtool = venv_bin("HOSTAGENT_VENV", ".venv", "redfishtool");
    let (Some(_), Some(ilorest), Some(redfishtool)) = (
        require(root.then_some(()), "root, for a private network namespace"),
        require(ilorest, "ilorest in .venv-ilorest"),
        require(redfishtool, "redfishtool in .venv"),
    ) else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let out = Command::new("unshare")
        .args(["-n", "sh"])
        .arg(repo().join("tests/clients/inband_clients.sh"))
        .arg(env!("CARGO_BIN_EXE_bmcsim"))
        .arg(&ilorest)
        .arg(&redfishtool)
        .arg(redfishtool.with_file_name("python"))
        .arg(repo().join("tests/clients/sushy_client.py"))
        .env("WORK", work.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stdout.contains("FAILED"), "{stdout}\n{stderr}");
    let tables = tables(&stdout);
    let count = |tool: &str| {
        tables
            .iter()
            .find(|(t, _)| t == tool)
            .and_then(|(_, v)| v.as_array().map(Vec::len))
    };
    assert_eq!(count("ilorest-login"), Some(1), "{stdout}\n{stderr}");
    assert_eq!(
        count("ilorest-logout"),
        Some(0),
        "ilorest logout left a session: {stdout}"
    );
    assert_eq!(
        count("redfishtool"),
        Some(0),
        "redfishtool left a session: {stdout}"
    );
    assert_eq!(count("sushy"), Some(0), "sushy left a session: {stdout}");
    assert!(stdout.contains("SUSHY {"), "{stdout}");
    let login_requests: usize = stdout
        .lines()
        .find_map(|l| l.strip_prefix("LOGINREQUESTS "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(login_requests <= 10, "ilorest logged in with {login_requests} requests: the ResourceDirectory should spare it the crawl");
    assert!(
        stdout.contains("RAWGET") && stdout.contains("SessionCollection"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\"@odata.id\":\"/redfish/v1/Systems/1/\""),
        "redfishtool got the system: {stdout}"
    );
}

/// DMTF's redfish-protocol-validator on the ilo6 profile: no assertion may fail.
#[tokio::test(flavor = "multi_thread")]
async fn the_dmtf_protocol_validator_finds_no_failure_on_the_ilo6_profile() {
    let Some(validator) = require(
        venv_bin("HOSTAGENT_VENV", ".venv", "rf_protocol_validator"),
        "rf_protocol_validator in .venv",
    ) else {
        return;
    };
    let sim = bmcsim::start(SimConfig {
        profile: Profile::Ilo6,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let reports = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(validator);
    cmd.args([
        "-u",
        "admin",
        "-p",
        "password",
        "--no-cert-check",
        "--avoid-http-redirect",
        "--report-type",
        "tsv",
    ])
    .arg("-r")
    .arg(sim.base_url())
    .arg("--report-dir")
    .arg(reports.path())
    .current_dir(reports.path())
    .env_remove("REQUESTS_CA_BUNDLE")
    .env_remove("CURL_CA_BUNDLE");
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = text
        .lines()
        .find(|l| l.contains("Summary - PASS:"))
        .unwrap_or_else(|| panic!("no summary: {text}"));
    eprintln!("{summary}");
    let count = |label: &str| -> u32 {
        let rest = summary.split(&format!("{label}: ")).nth(1).unwrap();
        rest.split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(count("PASS") >= 250, "{summary}");
    assert_eq!(
        count("FAIL"),
        0,
        "{summary}: see the report in the validator's TSV"
    );
    sim.shutdown().await;
}
