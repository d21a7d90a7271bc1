//! hostagentd end to end on bmcsim: it starts, answers agentctl over its socket, cleans the
//! leaked in-band sessions by policy (never people's, never its own), refuses a `nobody`
//! client, and logs out on SIGTERM.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use bmcsim::{Kind as SimKind, Profile, SimConfig};
use serde_json::Value;

use common::daemon::{agentctl, raw, start_daemon, start_daemon_with_env, started, wait_ready};

#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_cleans_leaked_in_band_sessions_and_spares_people_and_itself() {
    for profile in [Profile::Ilo5, Profile::Ilo7] {
        let sim = common::sim_with(SimConfig {
            profile,
            max_sessions: Some(400),
            ..SimConfig::default()
        })
        .await;
        let inband = if profile == Profile::Ilo5 {
            SimKind::RestHost
        } else {
            SimKind::HostApplication
        };
        sim.leak(200, inband, None);
        sim.leak(3, SimKind::WebUi, Some("alice"));
        sim.leak(2, SimKind::Rest, Some("ops"));
        sim.advance_clock(20 * 60);
        let daemon = start_daemon(&sim, "[reaper]\ninterval = \"1h\"\n");
        let status = tokio::task::spawn_blocking({
            let s = daemon.socket.clone();
            move || wait_ready(&s)
        })
        .await
        .unwrap();
        assert_eq!(status["agent_session"], true, "{profile}: {status}");
        assert_eq!(status["sessions"]["total"], 206, "{profile}: {status}");
        let socket = daemon.socket.clone();
        let (code, report, err) =
            tokio::task::spawn_blocking(move || agentctl(&socket, &["clean"]))
                .await
                .unwrap();
        assert_eq!(code, Some(0), "{profile}: {err}");
        let deleted = report["deleted"].as_array().unwrap();
        assert_eq!(deleted.len(), 200, "{profile}");
        let left = sim.sessions();
        assert_eq!(
            left.len(),
            6,
            "{profile}: 3 Web UI, 2 REST of people, the agent's own"
        );
        assert_eq!(left.iter().filter(|s| s.user == "alice").count(), 3);
        assert_eq!(left.iter().filter(|s| s.user == "ops").count(), 2);
        assert_eq!(
            report["kept"].as_array().unwrap().len(),
            6,
            "{profile}: every kept one reported with its reason"
        );
        // A lease held by a long-lived process...
        let mut holder = Command::new("sleep").arg("60").spawn().unwrap();
        let (socket, pid) = (daemon.socket.clone(), holder.id().to_string());
        let (code, lease, err) = tokio::task::spawn_blocking(move || {
            agentctl(&socket, &["session", "open", "--pid", &pid])
        })
        .await
        .unwrap();
        assert_eq!(code, Some(0), "{profile}: {err}");
        assert!(lease["token"].as_str().is_some_and(|t| !t.is_empty()));
        assert_eq!(sim.sessions().len(), 7, "{profile}: the lease's session");
        // SIGTERM: the daemon closes its leases and logs out.
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(daemon.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        let mut daemon = daemon;
        let status = tokio::task::spawn_blocking(move || {
            let s = daemon.child.wait().unwrap();
            (s, daemon)
        })
        .await
        .unwrap();
        assert!(status.0.success(), "{profile}: clean exit");
        assert_eq!(
            sim.sessions().len(),
            5,
            "{profile}: the agent's session and the lease's are gone"
        );
        let _ = holder.kill();
        let _ = holder.wait();
        sim.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn nobody_may_neither_clean_nor_list() {
    if !common::require(common::is_root(), "root, to run agentctl as nobody") {
        return;
    }
    let sim = common::sim(Profile::Ilo6).await;
    // nobody is in no group: with the default reader group `hostagent` (absent here) it has no role.
    let daemon = start_daemon(&sim, "");
    let socket = daemon.socket.clone();
    let result = tokio::task::spawn_blocking(move || {
        wait_ready(&socket);
        let run = |args: &[&str]| {
            Command::new("setpriv")
                .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
                .arg(env!("CARGO_BIN_EXE_agentctl"))
                .arg("--socket")
                .arg(&socket)
                .arg("--json")
                .args(args)
                .output()
                .unwrap()
        };
        (
            run(&["clean"]),
            run(&["list"]),
            run(&["session", "open", "--ttl", "1m"]),
        )
    })
    .await
    .unwrap();
    let (clean, list, lease) = result;
    assert_eq!(
        lease.status.code(),
        Some(5),
        "leases are refused: {}",
        String::from_utf8_lossy(&lease.stdout)
    );
    assert_eq!(
        clean.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&clean.stdout)
    );
    let v: Value = serde_json::from_slice(&clean.stdout).unwrap();
    assert_eq!(v["error"]["code"], "forbidden");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("uid 65534"));
    assert_eq!(
        list.status.code(),
        Some(5),
        "a reader error, readable: {}",
        String::from_utf8_lossy(&list.stdout)
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_table_is_entered_with_basic_auth_cleaned_at_once_and_then_logged_into() {
    let sim = common::sim_with(SimConfig {
        profile: Profile::Ilo6,
        max_sessions: Some(16),
        ..SimConfig::default()
    })
    .await;
    sim.leak(14, SimKind::RestHost, None);
    sim.leak(2, SimKind::WebUi, Some("alice"));
    sim.advance_clock(20 * 60);
    let daemon = start_daemon(&sim, "");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let truth = sim.sessions();
        let agent_in = truth.iter().any(|s| s.user == "admin");
        if agent_in && truth.len() == 3 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the daemon never cleaned and logged in: {truth:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let socket = daemon.socket.clone();
    let status = tokio::task::spawn_blocking(move || wait_ready(&socket))
        .await
        .unwrap();
    assert_eq!(status["agent_session"], true, "{status}");
    assert_eq!(status["sessions"]["by_kind"]["web-ui"], 2);
    assert_eq!(
        status["limit"], 16,
        "the limit was learned from the full table"
    );
    drop(daemon);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn systemd_hears_ready_status_watchdog_and_stopping() {
    let sim = common::sim(Profile::Ilo6).await;
    let dir = tempfile::tempdir().unwrap();
    let notify_path = dir.path().join("notify.sock");
    let notify = std::os::unix::net::UnixDatagram::bind(&notify_path).unwrap();
    notify
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let daemon = start_daemon_with_env(
        &sim,
        "",
        &[
            ("NOTIFY_SOCKET", notify_path.to_str().unwrap()),
            ("WATCHDOG_USEC", "200000"),
        ],
    );
    let pid = nix::unistd::Pid::from_raw(daemon.child.id() as i32);
    let collect = move |notify: &std::os::unix::net::UnixDatagram, until: Instant| {
        let mut got = Vec::new();
        let mut buf = [0u8; 512];
        while Instant::now() < until {
            if let Ok(n) = notify.recv(&mut buf) {
                got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        }
        got
    };
    let got = tokio::task::spawn_blocking({
        let notify = notify.try_clone().unwrap();
        move || collect(&notify, Instant::now() + Duration::from_millis(1500))
    })
    .await
    .unwrap();
    let ready = got
        .iter()
        .position(|m| m == "READY=1")
        .unwrap_or_else(|| panic!("no READY=1 in {got:?}"));
    assert!(
        got[..ready]
            .iter()
            .any(|m| m.starts_with("STATUS=connecting")),
        "{got:?}"
    );
    assert!(
        got[ready..].iter().any(|m| m.starts_with("STATUS=serving")),
        "{got:?}"
    );
    assert!(
        got.iter().filter(|m| *m == "WATCHDOG=1").count() >= 3,
        "pings at half of WATCHDOG_USEC: {got:?}"
    );
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let got = tokio::task::spawn_blocking(move || {
        collect(&notify, Instant::now() + Duration::from_millis(800))
    })
    .await
    .unwrap();
    assert!(got.iter().any(|m| m == "STOPPING=1"), "{got:?}");
    drop(daemon);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_near_full_table_is_cleaned_with_the_shorter_idle_threshold() {
    let sim = common::sim_with(SimConfig {
        profile: Profile::Ilo5,
        max_sessions: Some(20),
        ..SimConfig::default()
    })
    .await;
    sim.leak(15, SimKind::RestHost, None);
    sim.advance_clock(5 * 60);
    // 16 of 20 with the agent's own: at least 75 % full. Idle 5 min: below reaper.idle (15 min),
    // above near_full_idle (2 min).
    let daemon = start_daemon(
        &sim,
        "[bmc]\nsession_limit = 20\n[reaper]\ninterval = \"1s\"\n",
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while sim.sessions().len() != 1 {
        assert!(
            Instant::now() < deadline,
            "not cleaned: {} sessions",
            sim.sessions().len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        sim.sessions()[0].user,
        "admin",
        "only the agent's own session is left"
    );
    drop(daemon);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn below_the_near_full_mark_young_sessions_are_left_alone() {
    let sim = common::sim_with(SimConfig {
        profile: Profile::Ilo5,
        max_sessions: Some(100),
        ..SimConfig::default()
    })
    .await;
    sim.leak(15, SimKind::RestHost, None);
    sim.advance_clock(5 * 60);
    let daemon = start_daemon(
        &sim,
        "[bmc]\nsession_limit = 100\n[reaper]\ninterval = \"1s\"\n",
    );
    let socket = daemon.socket.clone();
    tokio::task::spawn_blocking(move || wait_ready(&socket))
        .await
        .unwrap();
    let socket = daemon.socket.clone();
    tokio::task::spawn_blocking(move || common::daemon::wait_cycles(&socket, 2, 20))
        .await
        .unwrap();
    let log: Value = common::http()
        .get(format!("{}/_sim/log", sim.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listings = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["method"] == "GET" && e["path"] == "/redfish/v1/SessionService/Sessions/")
        .count();
    assert!(
        listings >= 3,
        "the status call and at least two reaper cycles listed the table: {listings}"
    );
    assert_eq!(
        sim.sessions().len(),
        16,
        "and kept the 5-minute-old sessions"
    );
    drop(daemon);
    sim.shutdown().await;
}

#[path = "chif_support/mod.rs"]
mod chif_support;

#[tokio::test(flavor = "multi_thread")]
async fn over_chif_a_full_table_is_cleaned_without_any_session() {
    let sim = common::sim_with(SimConfig {
        profile: Profile::Ilo5,
        max_sessions: Some(16),
        ..SimConfig::default()
    })
    .await;
    sim.leak(14, SimKind::RestHost, None);
    sim.leak(2, SimKind::WebUi, Some("alice"));
    sim.advance_clock(20 * 60);
    let chifsim = chif_support::chifsim_path();
    let extra = format!(
        "[bmc]\ntransport = \"chif\"\nchif_library = \"{}\"\nsession_limit = 16\n",
        chifsim.display()
    );
    let target = sim.base_url();
    let daemon = start_daemon_with_env(&sim, &extra, &[("CHIFSIM_TARGET", target.as_str())]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while sim.sessions().len() != 2 {
        assert!(
            Instant::now() < deadline,
            "not cleaned over CHIF: {} sessions",
            sim.sessions().len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        sim.sessions().iter().all(|s| s.user == "alice"),
        "the agent holds no session on CHIF"
    );
    let socket = daemon.socket.clone();
    let status = tokio::task::spawn_blocking(move || wait_ready(&socket))
        .await
        .unwrap();
    assert_eq!(
        (
            status["transport"].as_str(),
            status["auth"].as_str(),
            status["agent_session"].as_bool()
        ),
        (Some("chif"), Some("sessionless"), Some(false))
    );
    drop(daemon);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_bounds_bodies_and_answers_bad_requests_with_json_errors() {
    let sim = common::sim(Profile::Ilo6).await;
    let daemon = start_daemon(&sim, "");
    let socket = daemon.socket.clone();
    let checks = tokio::task::spawn_blocking(move || {
        wait_ready(&socket);
        let big = format!("POST /v1/clean HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}", 200_000, "x".repeat(200_000));
        vec![
            raw(&socket, big.as_bytes()),
            raw(&socket, b"POST /v1/clean HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{\"dry_ru\"}"),
            raw(&socket, b"GET /v2/nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            raw(&socket, b"DELETE /v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            raw(&socket, b"this is not http\r\n\r\n"),
        ]
    })
    .await
    .unwrap();
    let expect = [
        ("413", "too_large"),
        ("400", "bad_request"),
        ("404", "not_found"),
        ("405", "method_not_allowed"),
    ];
    for ((status, body), (code, error)) in checks.iter().zip(expect) {
        assert!(status.contains(code), "{status} {body}");
        let v: Value =
            serde_json::from_str(body).unwrap_or_else(|e| panic!("{status}: {e}: {body}"));
        assert_eq!(v["error"]["code"], error, "{body}");
    }
    assert!(
        checks[4].0.contains("400"),
        "garbage gets 400: {:?}",
        checks[4]
    );
    let socket = daemon.socket.clone();
    tokio::task::spawn_blocking(move || wait_ready(&socket))
        .await
        .unwrap();
    drop(daemon);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn agentctl_run_gives_the_child_a_session_and_deletes_it_however_the_child_ends() {
    let sim = common::sim_with(SimConfig {
        profile: Profile::Ilo6,
        max_sessions: Some(128),
        ..SimConfig::default()
    })
    .await;
    // 100 leases at once below: above the default cap of 8.
    let daemon = started(&sim, "[api]\nmax_leases = 100\n").await;
    let socket = daemon.socket.clone();
    let baseline = sim.sessions().len();
    let run = |args: Vec<String>| {
        let socket = socket.clone();
        std::thread::spawn(move || {
            Command::new(env!("CARGO_BIN_EXE_agentctl"))
                .arg("--socket")
                .arg(&socket)
                .arg("run")
                .arg("--")
                .args(args)
                .output()
                .unwrap()
        })
    };
    // The child uses the exported session, and its exit status is agentctl's.
    let script = r#"curl -sk -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $REDFISH_SESSION_TOKEN" "$REDFISH_URL/redfish/v1/Systems/1/"; exit 7"#;
    let out = run(vec!["sh".into(), "-c".into(), script.into()])
        .join()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "200",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(
        sim.sessions().len(),
        baseline,
        "the lease's session is gone"
    );
    // SIGKILL of the child.
    let out = run(vec!["sh".into(), "-c".into(), "kill -9 $$".into()])
        .join()
        .unwrap();
    assert_eq!(out.status.code(), Some(137));
    assert_eq!(sim.sessions().len(), baseline);
    // 100 at once, each holding its session for a moment, end with the table at its baseline.
    let most = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let runs: Vec<_> = (0..100)
        .map(|_| run(vec!["sh".into(), "-c".into(), "sleep 1".into()]))
        .collect();
    while !runs.iter().all(|r| r.is_finished()) {
        most.fetch_max(sim.sessions().len(), std::sync::atomic::Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for r in runs {
        let out = r.join().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(
        most.load(std::sync::atomic::Ordering::Relaxed) > baseline + 10,
        "the leases were real sessions, held at once"
    );
    assert_eq!(sim.sessions().len(), baseline, "every lease closed");
    drop(daemon);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lease_bound_to_a_process_ends_when_agentctl_itself_is_killed() {
    let sim = common::sim(Profile::Bmcweb).await;
    let daemon = started(&sim, "").await;
    let socket = daemon.socket.clone();
    let baseline = sim.sessions().len();
    let mut child = Command::new(env!("CARGO_BIN_EXE_agentctl"))
        .arg("--socket")
        .arg(&socket)
        .args(["run", "--", "sleep", "30"])
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while sim.sessions().len() == baseline {
        assert!(Instant::now() < deadline, "no lease session appeared");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // bmcweb keeps Context: the agent's session and the lease's both carry a hostagent tag.
    let tags: Vec<String> = sim
        .sessions()
        .into_iter()
        .filter_map(|s| s.context)
        .filter(|c| c.starts_with("hostagent/"))
        .collect();
    assert_eq!(
        tags.iter().filter(|c| c.ends_with("/agent")).count(),
        1,
        "{tags:?}"
    );
    assert_eq!(
        tags.iter().filter(|c| !c.ends_with("/agent")).count(),
        1,
        "the lease's own tag: {tags:?}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while sim.sessions().len() != baseline {
        assert!(Instant::now() < deadline, "the lease outlived its process");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(daemon);
    sim.shutdown().await;
}
