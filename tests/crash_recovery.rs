//! Recovery after a crash: hostagentd holding its own session and 5 leases is SIGKILLed and
//! started again on the same state dir; within one reaper cycle the 6 sessions it left are
//! gone — via the ledger in default mode, via `Context` on bmcweb and via the identity rule
//! on iLO in memory-only mode (which writes no file) — and no person's or other user's
//! session is touched. Also: a ledger that names sessions the BMC no longer has, or has with
//! another user, and a garbage ledger.

mod common;

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use bmcsim::{Kind as SimKind, Profile, SimConfig, SimHandle};
use common::daemon::Daemon;
use serde_json::Value;

/// The reaper's interval in these tests: one cycle after a restart is this long.
const INTERVAL_S: u64 = 4;

fn config(memory_only: bool) -> String {
    format!("[reaper]\ninterval = \"{INTERVAL_S}s\"\n[state]\nmemory_only = {memory_only}\n")
}

/// A person's Web UI session under the agent's own account, another user's REST session, the
/// agent's account out of band (another origin) and a fresh in-band session of another user.
fn leak_bystanders(sim: &SimHandle) -> HashSet<String> {
    sim.leak(1, SimKind::WebUi, Some("admin"));
    sim.leak(1, SimKind::Rest, Some("ops"));
    sim.leak(1, SimKind::Rest, Some("admin"));
    let inband = if sim.profile().is_ilo() {
        SimKind::RestHost
    } else {
        SimKind::HostApplication
    };
    sim.leak(1, inband, Some("root"));
    ids(sim)
}

fn ids(sim: &SimHandle) -> HashSet<String> {
    sim.sessions().into_iter().map(|s| s.id).collect()
}

/// Starts the daemon, opens 5 leases, SIGKILLs it and starts it again. Returns the daemon,
/// the bystanders' ids, the dead run's 6 session ids, and the leases' tokens.
async fn crash_with_six_sessions(
    sim: &SimHandle,
    memory_only: bool,
) -> (Daemon, HashSet<String>, HashSet<String>, Vec<String>) {
    let bystanders = leak_bystanders(sim);
    let mut daemon = Daemon::start(sim, &config(memory_only));
    let daemon_ready = tokio::task::spawn_blocking(move || {
        daemon.wait_ready();
        let leases = daemon.open_leases(5);
        (daemon, leases)
    });
    let (d, leases) = daemon_ready.await.unwrap();
    daemon = d;
    let dead: HashSet<String> = ids(sim).difference(&bystanders).cloned().collect();
    assert_eq!(
        dead.len(),
        6,
        "the agent's session and 5 leases: {:?}",
        sim.sessions()
    );
    daemon.kill9();
    // Stands in for systemd's restart delay: the BMC's clock has whole seconds.
    sim.advance_clock(2);
    assert_eq!(ids(sim).len(), 10, "SIGKILL left all 6 behind");
    daemon.restart();
    (
        daemon,
        bystanders,
        dead,
        leases.into_iter().map(|(_, token, _)| token).collect(),
    )
}

/// Lists through the restarted daemon before its first reaper cycle: the dead run's sessions
/// are shown as orphans.
fn owners_before_the_first_cycle(daemon: &Daemon) -> Vec<(String, String)> {
    daemon.wait_ready();
    let (code, v, err) = daemon.agentctl(&["list"]);
    assert_eq!(code, Some(0), "{err}");
    v["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_string(),
                s["owner"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Waits at most one reaper cycle (plus slack for a slow machine) until the dead run's
/// sessions are gone; then only the bystanders and the new agent session are left.
async fn assert_cleaned_within_one_cycle(
    sim: &SimHandle,
    restarted: Instant,
    bystanders: &HashSet<String>,
    dead: &HashSet<String>,
) {
    let deadline = restarted + Duration::from_secs(INTERVAL_S + 6);
    while ids(sim).intersection(dead).count() > 0 {
        assert!(
            Instant::now() < deadline,
            "orphans left after one cycle: {:?}",
            sim.sessions()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let left = ids(sim);
    assert!(
        bystanders.is_subset(&left),
        "every bystander survives: {:?}",
        sim.sessions()
    );
    let new: Vec<_> = sim
        .sessions()
        .into_iter()
        .filter(|s| !bystanders.contains(&s.id))
        .collect();
    assert_eq!(new.len(), 1, "only the new agent session: {new:?}");
    assert_eq!(new[0].user, "admin");
}

fn state_entries(daemon: &Daemon) -> Vec<String> {
    std::fs::read_dir(&daemon.state)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

fn ledger(daemon: &Daemon) -> Value {
    serde_json::from_str(&std::fs::read_to_string(daemon.state.join("ledger.json")).unwrap())
        .unwrap()
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn default_mode_ilo_deletes_the_ledgers_sessions_after_sigkill() {
    let sim = common::sim_with(SimConfig {
        profile: Profile::Ilo6,
        max_sessions: Some(64),
        ..SimConfig::default()
    })
    .await;
    let (daemon, bystanders, dead, tokens) = crash_with_six_sessions(&sim, false).await;
    let restarted = Instant::now();
    let (daemon, owners) = blocking(move || {
        let owners = owners_before_the_first_cycle(&daemon);
        (daemon, owners)
    })
    .await;
    let orphans: Vec<&String> = owners
        .iter()
        .filter(|(id, _)| dead.contains(id))
        .map(|(_, o)| o)
        .collect();
    assert_eq!(
        orphans
            .iter()
            .filter(|o| o.as_str() == "orphan:agent")
            .count(),
        1,
        "{owners:?}"
    );
    assert_eq!(
        orphans
            .iter()
            .filter(|o| o.starts_with("orphan:lease:"))
            .count(),
        5,
        "{owners:?}"
    );
    assert!(
        owners
            .iter()
            .filter(|(id, _)| bystanders.contains(id))
            .all(|(_, o)| o == "foreign"),
        "{owners:?}"
    );
    assert_cleaned_within_one_cycle(&sim, restarted, &bystanders, &dead).await;
    // The ledger now names only the new agent session: the orphans were dropped from it.
    let deadline = Instant::now() + Duration::from_secs(5);
    while ledger(&daemon)["sessions"].as_array().unwrap().len() != 1 {
        assert!(
            Instant::now() < deadline,
            "ledger not settled: {}",
            ledger(&daemon)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let entry = &ledger(&daemon)["sessions"][0];
    assert_eq!(entry["owner"], "agent");
    assert!(
        ids(&sim)
            .iter()
            .any(|id| entry["uri"].as_str().unwrap().contains(id.as_str())),
        "{entry}"
    );
    let path = daemon.state.join("ledger.json");
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let log = daemon.log();
    for token in &tokens {
        assert!(
            !text.contains(token.as_str()) && !log.contains(token.as_str()),
            "a token in the ledger or the log"
        );
    }
    assert!(
        log.contains(hostagent::events::ORPHANS_FOUND),
        "the restart reported the earlier run's sessions"
    );
    assert_eq!(
        log.matches(hostagent::events::SESSION_CLEANED).count(),
        6,
        "{log}"
    );
    // A clean stop logs out and leaves an empty ledger.
    nix::sys::signal::kill(daemon.pid(), nix::sys::signal::Signal::SIGTERM).unwrap();
    let daemon = blocking(move || {
        let mut daemon = daemon;
        assert!(daemon.child.wait().unwrap().success());
        daemon
    })
    .await;
    assert_eq!(ledger(&daemon)["sessions"], serde_json::json!([]));
    assert_eq!(ids(&sim), bystanders);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn memory_only_bmcweb_finds_the_orphans_by_context_and_writes_nothing() {
    let sim = common::sim_with(SimConfig {
        profile: Profile::Bmcweb,
        max_sessions: Some(64),
        ..SimConfig::default()
    })
    .await;
    let (daemon, bystanders, dead, _) = crash_with_six_sessions(&sim, true).await;
    let contexts: Vec<String> = sim
        .sessions()
        .into_iter()
        .filter(|s| dead.contains(&s.id))
        .filter_map(|s| s.context)
        .collect();
    assert_eq!(
        contexts.len(),
        6,
        "every session of the agent carries its Context tag"
    );
    assert_eq!(
        contexts
            .iter()
            .filter(|c| c.starts_with("hostagent/") && c.ends_with("/agent"))
            .count(),
        1,
        "{contexts:?}"
    );
    let restarted = Instant::now();
    let (daemon, owners) = blocking(move || {
        let owners = owners_before_the_first_cycle(&daemon);
        (daemon, owners)
    })
    .await;
    let orphans = owners
        .iter()
        .filter(|(id, o)| dead.contains(id) && o.starts_with("orphan:"))
        .count();
    assert_eq!(orphans, 6, "{owners:?}");
    assert_cleaned_within_one_cycle(&sim, restarted, &bystanders, &dead).await;
    assert!(
        state_entries(&daemon).is_empty(),
        "memory-only wrote {:?}",
        state_entries(&daemon)
    );
    drop(daemon);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn memory_only_ilo_finds_the_orphans_by_kind_user_origin_and_idle_time() {
    for profile in [Profile::Ilo5, Profile::Ilo7] {
        let sim = common::sim_with(SimConfig {
            profile,
            max_sessions: Some(64),
            ..SimConfig::default()
        })
        .await;
        let (daemon, bystanders, dead, _) = crash_with_six_sessions(&sim, true).await;
        let restarted = Instant::now();
        let (daemon, owners) = blocking(move || {
            let owners = owners_before_the_first_cycle(&daemon);
            (daemon, owners)
        })
        .await;
        let orphans = owners
            .iter()
            .filter(|(id, o)| dead.contains(id) && o == "orphan")
            .count();
        assert_eq!(orphans, 6, "{profile}: {owners:?}");
        assert_cleaned_within_one_cycle(&sim, restarted, &bystanders, &dead).await;
        assert!(
            state_entries(&daemon).is_empty(),
            "{profile}: memory-only wrote {:?}",
            state_entries(&daemon)
        );
        drop(daemon);
        sim.shutdown().await;
    }
}

fn session_uri(sim: &SimHandle, id: &str) -> String {
    let slash = if sim.profile().is_ilo() { "/" } else { "" };
    format!(
        "/redfish/v1/SessionService/Sessions/{}{slash}",
        id.replace(' ', "%20")
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ledger_entry_is_deleted_only_when_listed_now_with_the_same_user() {
    let sim = common::sim_with(SimConfig {
        profile: Profile::Ilo6,
        max_sessions: Some(64),
        ..SimConfig::default()
    })
    .await;
    sim.leak(1, SimKind::Rest, Some("ops"));
    let ops = sim.sessions()[0].id.clone();
    sim.leak(1, SimKind::Rest, Some("admin"));
    let ours = sim
        .sessions()
        .into_iter()
        .find(|s| s.user == "admin")
        .unwrap()
        .id;
    // Recorded after the sessions were made, as the agent records them.
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let entry = |uri: String, owner: &str| serde_json::json!({"uri": uri, "owner": owner, "user": "admin", "created": now});
    let ledger_text = serde_json::json!({"version": 1, "sessions": [
        entry(session_uri(&sim, &ops), "lease:0a1b2c3d4e5f"),
        entry(session_uri(&sim, "admin000000006930a1b2deadbeef"), "agent"),
        entry(session_uri(&sim, &ours), "lease:0a1b2c3d4e60"),
    ]})
    .to_string();
    let restarted = Instant::now();
    let daemon = Daemon::start_with_state(&sim, &config(false), &[("ledger.json", &ledger_text)]);
    let daemon = blocking(move || {
        daemon.wait_ready();
        daemon
    })
    .await;
    let deadline = restarted + Duration::from_secs(INTERVAL_S + 6);
    while ids(&sim).contains(&ours) {
        assert!(
            Instant::now() < deadline,
            "the ledger's session was not deleted: {:?}",
            sim.sessions()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        ids(&sim).contains(&ops),
        "another user's session under a ledger URI is left alone"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while ledger(&daemon)["sessions"].as_array().unwrap().len() != 1 {
        assert!(
            Instant::now() < deadline,
            "the gone and the foreign entries are dropped: {}",
            ledger(&daemon)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        ledger(&daemon)["sessions"][0]["owner"],
        "agent",
        "only this run's own session"
    );
    drop(daemon);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_garbage_ledger_is_moved_aside_reported_and_nothing_unproven_is_deleted() {
    let sim = common::sim_with(SimConfig {
        profile: Profile::Ilo6,
        max_sessions: Some(64),
        ..SimConfig::default()
    })
    .await;
    let bystanders = leak_bystanders(&sim);
    let truncated = "{\"version\":1,\"sessions\":[{\"uri\":\"/redfish/v1/SessionService/Sess";
    let daemon = Daemon::start_with_state(&sim, &config(false), &[("ledger.json", truncated)]);
    let daemon = blocking(move || {
        daemon.wait_ready();
        daemon
    })
    .await;
    let aside: Vec<String> = state_entries(&daemon)
        .into_iter()
        .filter(|n| n.starts_with("ledger.json.bad-"))
        .collect();
    assert_eq!(aside.len(), 1, "{:?}", state_entries(&daemon));
    assert_eq!(
        std::fs::read_to_string(daemon.state.join(&aside[0])).unwrap(),
        truncated
    );
    let log = daemon.log();
    assert!(
        log.contains(hostagent::events::LEDGER_UNREADABLE)
            && log.contains(&daemon.state.join("ledger.json").display().to_string()),
        "{log}"
    );
    // A whole reaper cycle later: the agent runs on a fresh ledger and deleted nothing.
    blocking({
        let socket = daemon.socket.clone();
        move || common::daemon::wait_cycles(&socket, 1, INTERVAL_S + 10)
    })
    .await;
    assert!(bystanders.is_subset(&ids(&sim)), "{:?}", sim.sessions());
    assert_eq!(ids(&sim).len(), bystanders.len() + 1);
    assert_eq!(ledger(&daemon)["sessions"][0]["owner"], "agent");
    drop(daemon);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn agentctl_standalone_never_takes_a_running_daemons_sessions_for_orphans() {
    let sim = common::sim_with(SimConfig {
        profile: Profile::Bmcweb,
        max_sessions: Some(64),
        ..SimConfig::default()
    })
    .await;
    let daemon = Daemon::start(&sim, &config(true));
    let daemon = blocking(move || {
        daemon.wait_ready();
        daemon.open_leases(2);
        daemon
    })
    .await;
    let before = ids(&sim);
    assert_eq!(before.len(), 3);
    let config = daemon.config.clone();
    let out = blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_agentctl"))
            .arg("--standalone")
            .arg("--config")
            .arg(&config)
            .args(["--json", "clean"])
            .output()
            .unwrap()
    })
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["deleted"], serde_json::json!([]), "{report}");
    assert!(
        before.is_subset(&ids(&sim)),
        "the daemon's tagged sessions are not the standalone's orphans"
    );
    drop(daemon);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lease_whose_delete_failed_is_deleted_by_the_next_reaper_cycle() {
    let sim = common::sim_with(SimConfig {
        profile: Profile::Ilo6,
        max_sessions: Some(64),
        ..SimConfig::default()
    })
    .await;
    let daemon = Daemon::start(&sim, &config(false));
    let daemon = blocking(move || {
        daemon.wait_ready();
        daemon
    })
    .await;
    // The reaper may take the injected 500 instead of the DELETE: try again then.
    let mut failed = None;
    for _ in 0..3 {
        let (id, _, location) = daemon.open_leases(1).remove(0);
        sim.set_faults(bmcsim::Faults {
            fail_next: 1,
            ..bmcsim::Faults::default()
        });
        let code = {
            let socket = daemon.socket.clone();
            blocking(move || common::daemon::agentctl(&socket, &["session", "close", &id]).0).await
        };
        if code != Some(0) {
            failed = Some(location);
            break;
        }
    }
    let location = failed.expect("a lease close that failed");
    let id = location
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    assert!(
        ids(&sim).contains(&id),
        "the failed DELETE left the session"
    );
    let deadline = Instant::now() + Duration::from_secs(INTERVAL_S + 6);
    while ids(&sim).contains(&id) {
        assert!(
            Instant::now() < deadline,
            "the abandoned lease session outlived a reaper cycle"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while ledger(&daemon)["sessions"].as_array().unwrap().len() != 1 {
        assert!(Instant::now() < deadline, "{}", ledger(&daemon));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(ids(&sim).len(), 1, "the agent's own session only");
    drop(daemon);
    sim.shutdown().await;
}
