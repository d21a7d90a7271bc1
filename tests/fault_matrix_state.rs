//! The fault matrix, rows about the agent itself (docs/RELIABILITY.md): SIGKILL mid-clean
//! with leases open in both modes, a full disk under the state dir, and host clock steps of
//! ±1 h. Each prints its recovery time as `RECOVERY <row>: <ms> ms`.

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use bmcsim::{Faults, Kind as SimKind, Profile, SimConfig, SimHandle};
use common::daemon::Daemon;
use serde_json::Value;

fn ids(sim: &SimHandle) -> HashSet<String> {
    sim.sessions().into_iter().map(|s| s.id).collect()
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

async fn until(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {secs}s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn recovery(row: &str, took: Duration) {
    eprintln!("RECOVERY {row}: {} ms", took.as_millis());
}

async fn ilo6() -> SimHandle {
    common::sim_with(SimConfig {
        profile: Profile::Ilo6,
        max_sessions: Some(128),
        ..SimConfig::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_mid_clean_with_leases_open_is_finished_by_the_next_start_in_both_modes() {
    for memory_only in [false, true] {
        let mode = if memory_only {
            "memory-only"
        } else {
            "default"
        };
        let sim = ilo6().await;
        sim.leak(1, SimKind::WebUi, Some("admin"));
        sim.leak(1, SimKind::Rest, Some("ops"));
        let bystanders = ids(&sim);
        sim.leak(40, SimKind::RestHost, None);
        let stale: HashSet<String> = ids(&sim).difference(&bystanders).cloned().collect();
        sim.advance_clock(20 * 60);
        sim.set_faults(Faults {
            delete_latency_ms: 200,
            ..Faults::default()
        });
        let extra = format!("[reaper]\ninterval = \"3s\"\n[state]\nmemory_only = {memory_only}\n");
        let daemon = Daemon::start(&sim, &extra);
        let daemon = blocking(move || {
            daemon.wait_ready();
            daemon.open_leases(2);
            daemon
        })
        .await;
        let dead: HashSet<String> = ids(&sim)
            .difference(&bystanders)
            .filter(|id| !stale.contains(*id))
            .cloned()
            .collect();
        assert_eq!(dead.len(), 3, "{mode}: the agent's session and 2 leases");
        let mut daemon = daemon;
        // The first reaper cycle deletes the stale sessions, 200 ms each: kill it part way.
        until("the reaper is deleting", 20, || {
            ids(&sim).intersection(&stale).count() <= 35
        })
        .await;
        daemon.kill9();
        let left = ids(&sim).intersection(&stale).count();
        assert!(left > 0, "{mode}: killed mid-clean ({left} stale left)");
        sim.set_faults(Faults::default());
        sim.advance_clock(2);
        let restarted = Instant::now();
        daemon.restart();
        until(
            &format!("{mode}: the next start finishes the job"),
            20,
            || {
                let now = ids(&sim);
                now.intersection(&stale).count() == 0 && now.intersection(&dead).count() == 0
            },
        )
        .await;
        recovery(
            &format!("SIGKILL mid-clean, 2 leases open, {mode} (restart to a clean table)"),
            restarted.elapsed(),
        );
        let now = ids(&sim);
        assert!(bystanders.is_subset(&now), "{mode}: people's sessions stay");
        assert_eq!(
            now.len(),
            bystanders.len() + 1,
            "{mode}: and the new agent session"
        );
        drop(daemon);
        sim.shutdown().await;
    }
}

/// Unmounts (lazily) the tmpfs a test mounted, whatever the test's outcome.
struct Mount(std::path::PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

fn ledger_uris(daemon: &Daemon) -> Vec<String> {
    let v: Value = daemon.ledger();
    v["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["uri"].as_str().unwrap().to_string())
        .collect()
}

/// Writes pages into `dir` until the file system is full.
fn fill(dir: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(dir.join("filler")).unwrap();
    let page = [0u8; 4096];
    while f.write_all(&page).and_then(|_| f.sync_all()).is_ok() {}
}

fn reaper_cycles(daemon: &Daemon) -> u64 {
    daemon.agentctl(&["status"]).1["reaper_cycles"]
        .as_u64()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_fails_the_ledger_write_the_agent_goes_on_and_nothing_is_lost_when_space_returns(
) {
    if !common::require(common::is_root(), "root, to mount a tmpfs as the state dir") {
        return;
    }
    let sim = ilo6().await;
    let mut mounted = None;
    let daemon = Daemon::start_custom(&sim, "[reaper]\ninterval = \"1s\"\n", &[], |state| {
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=16k,mode=0700", "tmpfs"])
            .arg(state)
            .status()
            .unwrap()
            .success();
        assert!(ok, "mount a 16 KiB tmpfs on {}", state.display());
        mounted = Some(Mount(state.to_path_buf()));
    });
    let _mount = mounted;
    let (daemon, state) = blocking(move || {
        daemon.wait_ready();
        let state = daemon.state.clone();
        assert_eq!(ledger_uris(&daemon).len(), 1, "the agent's session");
        fill(&state);
        // The agent goes on: leases open (each a ledger write that fails), status answers.
        let leases = daemon.open_leases(2);
        assert_eq!(leases.len(), 2);
        let cycles = reaper_cycles(&daemon);
        daemon.wait_reaper_cycles(cycles + 2, 20);
        assert_eq!(daemon.agentctl(&["status"]).0, Some(0));
        assert_eq!(
            ledger_uris(&daemon).len(),
            1,
            "the file lags while the disk is full"
        );
        let log = daemon.log();
        assert_eq!(
            log.matches("cannot write the ledger").count(),
            1,
            "logged, once for the spell: {log}"
        );
        (daemon, state)
    })
    .await;
    std::fs::remove_file(state.join("filler")).unwrap();
    let freed = Instant::now();
    let daemon = blocking(move || {
        let cycles = reaper_cycles(&daemon);
        daemon.wait_reaper_cycles(cycles + 1, 20);
        daemon
    })
    .await;
    let uris = ledger_uris(&daemon);
    assert_eq!(
        uris.len(),
        3,
        "the agent's session and both leases: {uris:?}"
    );
    recovery(
        "disk full (space back to a complete ledger)",
        freed.elapsed(),
    );
    assert!(daemon.log().contains("the ledger is written again"));
    // And it holds: after a SIGKILL the next start deletes all three.
    let mut daemon = daemon;
    let before: HashSet<String> = ids(&sim);
    daemon.kill9();
    sim.advance_clock(2);
    daemon.restart();
    until("the crashed run's sessions are deleted", 20, || {
        let now = ids(&sim);
        now.len() == 1 && now.is_disjoint(&before)
    })
    .await;
    drop(daemon);
    sim.shutdown().await;
}

const FAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";

/// The host clock the daemon sees, as libfaketime's offset file says.
fn step(file: &Path, offset_s: i64) {
    std::fs::write(file, format!("{offset_s:+}\n")).unwrap();
}

fn clean_deleted(daemon: &Daemon) -> HashSet<String> {
    let (code, v, err) = daemon.agentctl(&["clean"]);
    assert_eq!(code, Some(0), "{v} {err}");
    v["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect()
}

/// The host clock at the daemon's last ledger record, minus the real clock, seconds.
fn recorded_offset(daemon: &Daemon) -> i64 {
    let v = daemon.ledger();
    let last = v["sessions"].as_array().unwrap().last().unwrap().clone();
    let at = time::OffsetDateTime::parse(
        last["created"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    (at - time::OffsetDateTime::now_utc()).whole_seconds()
}

/// The host clock is stepped for the daemon alone with libfaketime (LD_PRELOAD, offset read
/// from a file): a time namespace cannot do it, as CLONE_NEWTIME offsets only the monotonic
/// and boot-time clocks, never CLOCK_REALTIME, which is the one NTP steps.
#[tokio::test(flavor = "multi_thread")]
async fn host_clock_steps_of_an_hour_either_way_change_no_decision() {
    if !common::require(
        Path::new(FAKETIME).exists(),
        "libfaketime (package libfaketime)",
    ) {
        return;
    }
    let sim = ilo6().await;
    let clock = tempfile::tempdir().unwrap();
    let file = clock.path().join("offset");
    step(&file, 0);
    let env = [
        ("LD_PRELOAD", FAKETIME),
        ("FAKETIME_TIMESTAMP_FILE", file.to_str().unwrap()),
        ("FAKETIME_CACHE_DURATION", "0"),
        ("FAKETIME_NO_CACHE", "1"),
        ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
    ];
    // The reaper's own cycles stay out of the way: the test cleans on demand.
    let daemon = Daemon::start_custom(&sim, "[reaper]\ninterval = \"1h\"\n", &env, |_| {});
    let a: HashSet<String> = sim
        .leak_with(serde_json::json!({"count": 3, "kind": "rest-host"}))
        .into_iter()
        .collect();
    sim.advance_clock(20 * 60);
    let file2 = file.clone();
    let daemon = blocking(move || {
        daemon.wait_ready();
        // +1 h: a host-clock idle time would make the fresh sessions look 40 min idle.
        step(&file2, 3600);
        daemon.open_leases(1);
        daemon
    })
    .await;
    let offset = recorded_offset(&daemon);
    assert!(
        (3590..=3610).contains(&offset),
        "the daemon's host clock is 1 h ahead: {offset}"
    );
    let b: HashSet<String> = sim
        .leak_with(serde_json::json!({"count": 3, "kind": "rest-host"}))
        .into_iter()
        .collect();
    let (daemon, deleted) = blocking(move || {
        let d = clean_deleted(&daemon);
        (daemon, d)
    })
    .await;
    assert_eq!(
        deleted, a,
        "+1 h: the sessions idle 20 min on the BMC's clock, only"
    );
    // -1 h: a host-clock idle time would make the now stale sessions look fresh.
    step(&file, -3600);
    sim.advance_clock(20 * 60);
    let c: HashSet<String> = sim
        .leak_with(serde_json::json!({"count": 3, "kind": "rest-host"}))
        .into_iter()
        .collect();
    let (daemon, deleted) = blocking(move || {
        daemon.open_leases(1);
        let d = clean_deleted(&daemon);
        (daemon, d)
    })
    .await;
    let offset = recorded_offset(&daemon);
    assert!(
        (-3610..=-3590).contains(&offset),
        "the daemon's host clock is 1 h behind: {offset}"
    );
    assert_eq!(
        deleted, b,
        "-1 h: the sessions idle 20 min on the BMC's clock, only"
    );
    let now = ids(&sim);
    assert!(c.is_subset(&now), "the fresh ones stay");
    let (_, leases, _) = daemon.agentctl(&["session", "list"]);
    assert_eq!(
        leases["leases"].as_array().map(Vec::len),
        Some(2),
        "leases are timed on the monotonic clock, not ended by a step: {leases}"
    );
    recovery(
        "host clock step ±1 h (no recovery needed: no decision changed)",
        Duration::ZERO,
    );
    drop(daemon);
    sim.shutdown().await;
}
