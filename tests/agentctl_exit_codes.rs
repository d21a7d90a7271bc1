//! agentctl's exit codes against a real daemon when things go wrong (ARCHITECTURE.md, "Local API and roles"): a BMC that
//! stopped answering is exit 4 for `session open`, `run` and `get` as for `status`; a socket
//! the caller may not open is exit 5 "not permitted", not "start the service".

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use bmcsim::Profile;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_bmc_is_exit_4_for_status_session_open_run_and_get() {
    let sim = common::sim(Profile::Ilo6).await;
    let daemon = common::daemon::started(&sim, "").await;
    sim.shutdown().await;
    let socket = daemon.socket.clone();
    let results = tokio::task::spawn_blocking(move || {
        [
            vec!["status"],
            vec!["session", "open", "--pid", "1"],
            vec!["run", "--", "true"],
            vec!["get", "/redfish/v1/Systems/1/"],
        ]
        .into_iter()
        .map(|args| (args.join(" "), common::daemon::agentctl(&socket, &args)))
        .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for (what, (code, v, err)) in results {
        assert_eq!(code, Some(4), "{what}: {v} {err}");
        assert_eq!(v["error"]["code"], "bmc_unreachable", "{what}: {v}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_socket_the_caller_may_not_open_is_exit_5_not_permitted() {
    if !common::require(common::is_root(), "root (to run agentctl as nobody)") {
        return;
    }
    let sim = common::sim(Profile::Ilo6).await;
    let daemon = common::daemon::started(&sim, "").await;
    std::fs::set_permissions(&daemon.socket, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_agentctl"))
        .arg("--socket")
        .arg(&daemon.socket)
        .args(["--json", "status"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert_eq!(out.status.code(), Some(5), "{v}");
    assert_eq!(v["error"]["code"], "not_permitted", "{v}");
    let message = v["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&daemon.socket.display().to_string())
            && !message.contains("start the service"),
        "{message}"
    );
    sim.shutdown().await;
}
