//! `agentctl clean` against the daemon shows a progress bar on a terminal: the daemon streams
//! the clean's progress (`POST /v1/clean` with `Accept: application/x-ndjson`), agentctl draws
//! it on stderr. Run under a pty (`script` from util-linux). The default JSON answer and
//! `--json` output are unchanged.

mod common;

use std::process::Command;

use bmcsim::{Faults, Kind as SimKind, Profile, SimConfig};
use common::daemon::{started, unix_request};
use serde_json::Value;

async fn sim_with_stale(n: usize) -> bmcsim::SimHandle {
    let sim = common::sim_with(SimConfig {
        profile: Profile::Ilo6,
        max_sessions: Some(256),
        ..SimConfig::default()
    })
    .await;
    sim.leak(n, SimKind::RestHost, None);
    sim.advance_clock(20 * 60);
    sim
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_streams_progress_lines_then_the_report_and_the_default_answer_is_unchanged() {
    let sim = sim_with_stale(60).await;
    let daemon = started(&sim, "").await;
    let accept = [("accept", "application/x-ndjson")];
    let (status, headers, body) =
        unix_request(&daemon.socket, "POST", "/v1/clean", &accept, "{}").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/x-ndjson");
    let lines: Vec<Value> = String::from_utf8(body)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (last, progress) = lines.split_last().unwrap();
    assert!(
        last["report"]["deleted"]
            .as_array()
            .is_some_and(|d| d.len() == 60),
        "the last line is the report: {last}"
    );
    assert!(!progress.is_empty(), "progress came first");
    assert!(
        progress.iter().all(|p| p["progress"]["total"] == 60),
        "{progress:?}"
    );
    assert!(
        progress.last().is_some_and(|p| p["progress"]["done"] == 60),
        "{progress:?}"
    );
    sim.leak(10, SimKind::RestHost, None);
    sim.advance_clock(20 * 60);
    let (status, headers, body) =
        unix_request(&daemon.socket, "POST", "/v1/clean", &[], "{}").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/json");
    let report: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        report["deleted"].as_array().map(Vec::len),
        Some(10),
        "{report}"
    );
    let (status, _, body) =
        unix_request(&daemon.socket, "POST", "/v1/clean", &accept, "{\"nope\":1}").await;
    assert_eq!(status, 400, "a bad request is answered as before");
    assert!(String::from_utf8_lossy(&body).contains("nope"));
    drop(daemon);
    sim.shutdown().await;
}

/// Runs `shell` under a pty; what the terminal showed.
fn on_a_terminal(shell: &str) -> String {
    let out = Command::new("script")
        .args(["-q", "-e", "-c", shell, "/dev/null"])
        .output()
        .expect("script (util-linux) runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn agentctl_clean_draws_a_bar_on_a_terminal_and_json_output_is_unchanged() {
    let have = Command::new("script").arg("--version").output().is_ok();
    if !common::require(have, "script (util-linux), for a pty") {
        return;
    }
    let sim = sim_with_stale(120).await;
    sim.set_faults(Faults {
        delete_latency_ms: 20,
        ..Faults::default()
    });
    let daemon = started(&sim, "").await;
    let agentctl = env!("CARGO_BIN_EXE_agentctl");
    let socket = daemon.socket.display().to_string();
    let json_out = daemon.dir.path().join("clean.json");
    let shell = format!("{agentctl} --socket {socket} clean");
    let table = tokio::task::spawn_blocking(move || on_a_terminal(&shell))
        .await
        .unwrap();
    assert!(
        table.contains("deleting ["),
        "a bar on the terminal: {table:?}"
    );
    assert!(table.contains("/120"), "{table:?}");
    assert_eq!(sim.sessions().len(), 1, "all cleaned but the agent's own");
    sim.leak(60, SimKind::RestHost, None);
    sim.advance_clock(20 * 60);
    let shell = format!(
        "{agentctl} --socket {socket} --json clean > {}",
        json_out.display()
    );
    let screen = tokio::task::spawn_blocking(move || on_a_terminal(&shell))
        .await
        .unwrap();
    assert!(
        screen.contains("deleting ["),
        "the bar is on stderr with --json too: {screen:?}"
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json_out).unwrap())
        .expect("stdout is the report alone");
    assert_eq!(
        report["deleted"].as_array().map(Vec::len),
        Some(60),
        "{report}"
    );
    assert_eq!(sim.sessions().len(), 1);
    drop(daemon);
    sim.shutdown().await;
}
