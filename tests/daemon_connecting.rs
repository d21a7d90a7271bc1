//! While hostagentd cannot reach its BMC yet, its API answers at once (status "connecting",
//! other routes a 503 saying so), and agentctl never waits for ever: configuration management
//! runs it unattended.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A daemon pointed at `endpoint`, pinned to a certificate nobody has.
fn daemon_at(endpoint: &str, dir: &Path) -> Child {
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let creds = common::daemon::write_creds(dir);
    let config = dir.join("hostagent.toml");
    std::fs::write(
        &config,
        format!(
            "[bmc]\nendpoint = \"{endpoint}\"\ntls = \"pin\"\nfingerprint = \"{}\"\ncredentials_dir = \"{}\"\n[api]\nsocket = \"{}\"\nreader_group = \"root\"\n[state]\nmemory_only = true\n",
            "ab".repeat(32), creds.display(), dir.join("run/agent.sock").display()
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.join("hostagentd.log")).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_hostagentd"))
        .arg("--config")
        .arg(&config)
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !dir.join("run/agent.sock").exists() {
        assert!(
            Instant::now() < deadline,
            "hostagentd did not bind: {}",
            std::fs::read_to_string(dir.join("hostagentd.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// agentctl with a deadline of our own: `None` when it had not exited by then (it is killed).
fn agentctl_within(
    socket: &Path,
    args: &[&str],
    limit: Duration,
) -> Option<(Option<i32>, Value, Duration)> {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_agentctl"))
        .arg("--socket")
        .arg(socket)
        .arg("--json")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    while start.elapsed() < limit {
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().unwrap();
            let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
            return Some((out.status.code(), v, start.elapsed()));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_bmc_that_accepts_and_never_answers_does_not_hang_agentctl() {
    // The kernel completes the TCP handshake into the backlog; nothing ever answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("https://{}", silent.local_addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let _daemon = Reaped(daemon_at(&endpoint, dir.path()));
    let socket = dir.path().join("run/agent.sock");
    let limit = Duration::from_secs(5);

    let (code, v, took) =
        agentctl_within(&socket, &["status"], limit).expect("status answers while connecting");
    assert_eq!(code, Some(4), "connecting is exit 4: {v}");
    assert_eq!(v["state"], "connecting", "{v}");
    assert_eq!(v["endpoint"], endpoint, "the status shape is kept: {v}");
    assert_eq!(v["agent_session"], false);
    assert_eq!(v["sessions"]["total"], 0);
    assert!(took < Duration::from_secs(3), "at once, not {took:?}");

    for args in [
        &["list"][..],
        &["clean", "--dry-run"],
        &["get", "/redfish/v1"],
        &["session", "list"],
    ] {
        let (code, v, _) =
            agentctl_within(&socket, args, limit).unwrap_or_else(|| panic!("{args:?} hung"));
        assert_eq!(code, Some(4), "{args:?}: {v}");
        assert_eq!(v["error"]["code"], "connecting", "{args:?}: {v}");
        let message = v["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("connecting to the BMC"),
            "{args:?}: {message}"
        );
    }
}

#[test]
fn while_connecting_the_status_says_why_the_last_attempt_failed() {
    // A BMC being reset refuses connections.
    let port = common::daemon::free_port();
    let dir = tempfile::tempdir().unwrap();
    let _daemon = Reaped(daemon_at(&format!("https://127.0.0.1:{port}"), dir.path()));
    let socket = dir.path().join("run/agent.sock");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (code, v, _) = agentctl_within(&socket, &["status"], Duration::from_secs(5))
            .expect("status answers while connecting");
        assert_eq!(code, Some(4), "{v}");
        assert_eq!(v["state"], "connecting", "{v}");
        if let Some(e) = v["last_error"].as_str() {
            assert!(
                e.contains(&format!("127.0.0.1:{port}")),
                "names the BMC: {e}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "no last error reported: {v}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // A person reads the same.
    let out = Command::new(env!("CARGO_BIN_EXE_agentctl"))
        .arg("--socket")
        .arg(&socket)
        .arg("status")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("connecting to the BMC (last error: "),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(4));
}

#[test]
fn agentctl_gives_up_on_a_daemon_that_never_answers() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("stuck.sock");
    // Bound, never accepted: connect succeeds (the backlog), no answer ever comes.
    let _stuck = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let (code, v, took) = agentctl_within(
        &socket,
        &["--timeout", "1s", "status"],
        Duration::from_secs(10),
    )
    .expect("agentctl exits by itself");
    assert_eq!(code, Some(4), "{v}");
    assert_eq!(v["error"]["code"], "timeout", "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("did not answer"),
        "{v}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
}
