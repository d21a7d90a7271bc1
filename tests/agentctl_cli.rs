//! The `agentctl` binary as users run it: the demo, and `--standalone` list/clean/status with
//! `--json` against bmcsim, with the stable JSON shapes and exit codes of ARCHITECTURE.md, "Local API and roles" and "Interfaces".

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use bmcsim::{Kind as SimKind, Profile};
use serde_json::Value;

fn agentctl() -> Command {
    Command::new(env!("CARGO_BIN_EXE_agentctl"))
}

#[test]
fn demo_cleans_the_stale_in_band_sessions_and_keeps_the_peoples() {
    let out = agentctl().arg("demo").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("12 deleted, 8 kept, 0 failed"), "{text}");
    assert!(
        text.contains("kept 7 (2 fresh Rest Host, 3 Web UI, 2 REST of people)"),
        "{text}"
    );
    assert!(text.contains("none by the agent"), "{text}");
    assert!(text.contains("HPE ProLiant DL180 Gen10"), "{text}");
    assert!(
        text.contains("10 of 10 reads answered by the BMC; 10 virtual sessions left behind"),
        "{text}"
    );
    assert!(
        text.contains("the BMC's table went from 8 to 8 sessions"),
        "{text}"
    );
}

/// A config for `--standalone` against the simulator: endpoint, pin, credentials directory.
fn config(dir: &std::path::Path, sim: &bmcsim::SimHandle) -> std::path::PathBuf {
    let creds = dir.join("creds");
    std::fs::create_dir(&creds).unwrap();
    for (name, value) in [("bmc-username", "admin\n"), ("bmc-password", "password\n")] {
        std::fs::write(creds.join(name), value).unwrap();
        std::fs::set_permissions(creds.join(name), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let path = dir.join("hostagent.toml");
    let text = format!(
        "[bmc]\nendpoint = \"{}\"\ntls = \"pin\"\nfingerprint = \"{}\"\ncredentials_dir = \"{}\"\n[state]\nmemory_only = true\n",
        sim.base_url(),
        sim.cert_sha256(),
        creds.display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn json_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[tokio::test(flavor = "multi_thread")]
async fn standalone_list_and_clean_print_the_stable_json_and_log_out() {
    let sim = common::sim(Profile::Ilo7).await;
    sim.leak(5, SimKind::HostApplication, None);
    sim.leak(1, SimKind::WebUi, Some("alice"));
    sim.advance_clock(20 * 60);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &sim);
    let run = |args: &[&str]| {
        let cfg = cfg.clone();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        std::thread::spawn(move || {
            agentctl()
                .arg("--standalone")
                .arg("--json")
                .arg("--config")
                .arg(cfg)
                .args(args)
                .output()
                .unwrap()
        })
        .join()
        .unwrap()
    };
    let out = run(&["list"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = json_of(&out);
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 7, "5 leaked, 1 person's, the agent's own");
    for key in [
        "id",
        "uri",
        "user",
        "kind",
        "owner",
        "origin",
        "login_time",
        "last_access",
        "idle_s",
    ] {
        assert!(sessions[0].get(key).is_some(), "list rows carry {key}");
    }
    assert_eq!(
        sessions
            .iter()
            .filter(|s| s["kind"] == "host-application")
            .count(),
        5
    );
    assert_eq!(sessions.iter().filter(|s| s["owner"] == "agent").count(), 1);
    assert!(sim.sessions().len() == 6, "the one-shot logged out");

    let dry = json_of(&run(&["clean", "--dry-run"]));
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["deleted"].as_array().unwrap().len(), 5);
    assert_eq!(sim.sessions().len(), 6, "dry run deleted nothing");

    let out = run(&["clean"]);
    let clean = json_of(&out);
    assert_eq!(clean["deleted"].as_array().unwrap().len(), 5);
    assert!(clean["failed"].as_array().unwrap().is_empty());
    let left = sim.sessions();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].user, "alice", "the person's session is kept");

    let check = run(&["clean", "--check"]);
    assert_eq!(check.status.code(), Some(6), "nothing to do");
    sim.shutdown().await;
}

#[test]
fn without_a_daemon_commands_exit_3_with_a_json_error() {
    let out = agentctl()
        .args(["--socket", "/nonexistent/agent.sock", "--json", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let v = json_of(&out);
    assert_eq!(v["error"]["code"], "not_running");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("/nonexistent/agent.sock"));
}

#[test]
fn a_broken_config_exits_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("hostagent.toml");
    std::fs::write(&cfg, "[reaper]\nidle = \"soon\"\n").unwrap();
    let out = agentctl()
        .arg("--standalone")
        .arg("--config")
        .arg(&cfg)
        .arg("list")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("reaper.idle") && err.contains(&cfg.display().to_string()),
        "{err}"
    );
}

/// Runs `hostagentd --config cfg` and waits up to 20 s for it to exit (killing it, by its
/// pid, if it does not: a daemon that retries a typo for ever fails the test).
fn hostagentd_exit(cfg: &std::path::Path, socket: &std::path::Path) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hostagentd"))
        .arg("--config")
        .arg(cfg)
        .arg("--socket")
        .arg(socket)
        .arg("--memory-only")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
    (status, err)
}

#[test]
fn hostagentd_refuses_an_unusable_endpoint_or_fingerprint_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("agent.sock");
    let cases = [
        (
            "endpoint = \"https://127.0.0.1:99999\"\ntls = \"insecure\"\n",
            "bmc.endpoint",
        ),
        (
            "endpoint = \"https://exa mple/x\"\ntls = \"insecure\"\n",
            "bmc.endpoint",
        ),
        (
            "endpoint = \"http://127.0.0.1:9\"\ntls = \"insecure\"\n",
            "bmc.endpoint",
        ),
        (
            "endpoint = \"https://127.0.0.1:9\"\ntls = \"pin\"\nfingerprint = \"sha256:zz\"\n",
            "bmc.fingerprint",
        ),
    ];
    for (bmc, key) in cases {
        let cfg = dir.path().join("hostagent.toml");
        std::fs::write(&cfg, format!("[bmc]\n{bmc}")).unwrap();
        let (code, err) = hostagentd_exit(&cfg, &socket);
        assert_eq!(code, Some(2), "{bmc}: {err}");
        assert!(
            err.contains(key) && err.contains(&cfg.display().to_string()),
            "{bmc}: {err}"
        );
    }
}
