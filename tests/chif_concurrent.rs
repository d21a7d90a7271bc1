//! hostagentd over CHIF under concurrent load, and beside another process on the same CHIF
//! device. chifsim (loaded by the daemon from its build path, with `CHIFSIM_DEVICE` standing
//! for `/dev/hpilo` and `CHIFSIM_LOG` recording every event) refuses and logs any exchange that
//! overlaps another on its channel, and hands out the device's channels exclusively across
//! processes (docs/CHIF.md, "One channel, one exchange at a time").

mod chif_support;
mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bmcsim::{Kind as SimKind, Profile, SimConfig};
use chif_support::ChifSim;
use common::daemon::{agentctl, unix_request, wait_ready, Daemon, Launch};
use hostagent::transport::chif::ChifTransport;
use hostagent::transport::{Request, Transport};

/// A memory-only daemon over CHIF on chifsim, whose channel comes from the device `device` and
/// whose events go to `log`; returns once it answers `status`.
async fn chif_daemon(sim: &bmcsim::SimHandle, device: &Path, log: &Path) -> Daemon {
    let extra = format!(
        "[bmc]\ntransport = \"chif\"\nchif_library = \"{}\"\nsession_limit = 200\n\
         [reaper]\ninterval = \"1h\"\n",
        chif_support::chifsim_path().display()
    );
    let daemon = Launch::new(sim)
        .extra(&extra)
        .memory_only()
        .env("CHIFSIM_TARGET", &sim.base_url())
        .env("CHIFSIM_DEVICE", device.to_str().unwrap())
        .env("CHIFSIM_LOG", log.to_str().unwrap())
        .start();
    let socket = daemon.socket.clone();
    let status = tokio::task::spawn_blocking(move || wait_ready(&socket))
        .await
        .unwrap();
    assert_eq!(status["transport"], "chif", "{status}");
    daemon
}

fn lines_with(log: &Path, needle: &str) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(needle))
        .map(str::to_string)
        .collect()
}

const PATHS: [&str; 4] = [
    "/redfish/v1/Systems/1/",
    "/redfish/v1/Managers/1/",
    "/redfish/v1/Chassis/",
    "/redfish/v1/SessionService/Sessions/",
];

#[tokio::test(flavor = "multi_thread")]
async fn proxy_clean_and_leases_at_once_take_turns_on_the_one_channel() {
    let sim = common::sim_with(SimConfig {
        profile: Profile::Ilo5,
        max_sessions: Some(200),
        ..SimConfig::default()
    })
    .await;
    sim.leak(40, SimKind::RestHost, None);
    sim.advance_clock(20 * 60);
    let dir = tempfile::tempdir().unwrap();
    let (device, log) = (dir.path().join("hpilo"), dir.path().join("chifsim.log"));
    let daemon = chif_daemon(&sim, &device, &log).await;
    let socket = daemon.socket.clone();

    let gets: Vec<_> = (0..96)
        .map(|i| {
            let s = socket.clone();
            tokio::spawn(async move { unix_request(&s, "GET", PATHS[i % 4], &[], "").await.0 })
        })
        .collect();
    let s = socket.clone();
    let clean = tokio::task::spawn_blocking(move || agentctl(&s, &["clean"]));
    let s = socket.clone();
    let leases = tokio::task::spawn_blocking(move || {
        (0..4)
            .map(|_| {
                let (code, v, err) = agentctl(&s, &["session", "open", "--ttl", "1h"]);
                assert_eq!(code, Some(0), "lease over CHIF: {v} {err}");
                let id = v["id"].as_str().unwrap().to_string();
                let (code, v, err) = agentctl(&s, &["session", "close", &id]);
                assert_eq!(code, Some(0), "closing lease {id}: {v} {err}");
            })
            .count()
    });

    for g in gets {
        assert_eq!(g.await.unwrap(), 200, "every proxied GET succeeds");
    }
    let (code, report, err) = clean.await.unwrap();
    assert_eq!(code, Some(0), "{report} {err}");
    assert_eq!(
        report["deleted"].as_array().map(Vec::len),
        Some(40),
        "{report}"
    );
    assert_eq!(report["failed"].as_array().map(Vec::len), Some(0));
    assert_eq!(leases.await.unwrap(), 4);
    assert!(sim.sessions().is_empty(), "leak and leases all gone");

    let exchanges = lines_with(&log, "exchange").len();
    assert!(exchanges > 300, "the load went over CHIF: {exchanges}");
    assert_eq!(
        lines_with(&log, "overlap"),
        Vec::<String>::new(),
        "no exchange overlapped another on the agent's channel"
    );
    assert_eq!(
        lines_with(&log, "is d0ccb").len(),
        1,
        "one channel for everything"
    );
    drop(daemon);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_agent_and_another_process_on_the_device_both_keep_working() {
    let sim = common::sim(Profile::Ilo6).await;
    let dir = tempfile::tempdir().unwrap();
    let (device, log) = (dir.path().join("hpilo"), dir.path().join("chifsim.log"));
    let mut daemon = chif_daemon(&sim, &device, &log).await;

    // The other process: this test process, with its own copy of the library (its own state,
    // as another process has) on the same device, looping requests as a tool would.
    let other = ChifSim::new();
    other.set_device(&device);
    other.set_target(&sim.base_url());
    let transport = Arc::new(ChifTransport::connect(other.config()).await.unwrap());
    assert_eq!(
        other.counter("device_channels"),
        2,
        "the agent holds one channel, the other process one"
    );

    let agent_rounds = Arc::new(AtomicUsize::new(0));
    let other_done = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + Duration::from_secs(60);
    let looping = {
        let (t, rounds, done) = (transport.clone(), agent_rounds.clone(), other_done.clone());
        tokio::spawn(async move {
            let mut n = 0;
            // At least 200 requests, and on until the agent has answered 5 rounds meanwhile.
            while n < 200 || rounds.load(Ordering::SeqCst) < 5 {
                assert!(
                    Instant::now() < deadline,
                    "the other process stalled at {n}"
                );
                let rsp = t.send(Request::get("/redfish/v1/")).await.unwrap();
                assert_eq!(rsp.status, 200, "request {n} of the other process");
                n += 1;
            }
            done.store(true, Ordering::SeqCst);
            n
        })
    };
    let socket = daemon.socket.clone();
    while !other_done.load(Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "the agent's loop stalled");
        let s = socket.clone();
        let (status, list) = tokio::task::spawn_blocking(move || {
            (agentctl(&s, &["status"]), agentctl(&s, &["list"]))
        })
        .await
        .unwrap();
        assert_eq!(status.0, Some(0), "status: {} {}", status.1, status.2);
        assert_eq!(list.0, Some(0), "list: {} {}", list.1, list.2);
        let (code, _, _) = unix_request(&socket, "GET", "/redfish/v1/Systems/1/", &[], "").await;
        assert_eq!(code, 200);
        agent_rounds.fetch_add(1, Ordering::SeqCst);
    }
    let n = looping.await.unwrap();
    assert!(n >= 200);
    assert_eq!(
        other.counter("overlap"),
        0,
        "the other process never overlapped"
    );
    assert_eq!(lines_with(&log, "overlap"), Vec::<String>::new());
    assert_eq!(
        other.counter("device_channels"),
        2,
        "still one channel each"
    );

    // A process that dies frees its channel, as the kernel closes its file of the driver.
    daemon.kill9();
    assert_eq!(other.counter("device_channels"), 1);
    assert_eq!(
        transport
            .send(Request::get("/redfish/v1/"))
            .await
            .unwrap()
            .status,
        200
    );
    sim.shutdown().await;
}
