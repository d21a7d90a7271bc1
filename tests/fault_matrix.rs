//! The fault matrix, proxy rows (docs/RELIABILITY.md): a daemon serving proxy clients while
//! bmcsim misbehaves — a reset while requests are under way, a 401 storm, 5xx bursts, garbage,
//! truncated and reset bodies, an answer after the agent gave up, a slow BMC. Each test
//! asserts what clients see and what it costs the BMC (logins, sessions left), and prints its
//! recovery time as `RECOVERY <row>: <ms> ms` (run with `--nocapture` to read them).

mod common;

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bmcsim::{Faults, Profile, SimConfig, SimHandle};
use common::daemon::{started, unix_request, Daemon};

const PATH: &str = "/redfish/v1/SessionService";

/// Successful login POSTs in the simulator's log since line `from`.
fn logins(sim: &SimHandle, from: usize) -> usize {
    sim.log()[from..]
        .iter()
        .filter(|e| {
            e["method"] == "POST"
                && e["path"]
                    .as_str()
                    .is_some_and(|p| p.trim_end_matches('/').ends_with("/Sessions"))
                && e["status"] == 201
        })
        .count()
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

/// One proxied request's outcome: when it ended, its status, how long it took.
#[derive(Debug, Clone, Copy)]
struct Seen {
    at: Instant,
    status: u16,
    took: Duration,
}

/// `clients` tasks GET `PATH` through the proxy in a loop until `stop`.
fn load(
    daemon: &Daemon,
    clients: usize,
    stop: &Arc<AtomicBool>,
) -> (Arc<Mutex<Vec<Seen>>>, Vec<tokio::task::JoinHandle<()>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let tasks = (0..clients)
        .map(|_| {
            let (socket, seen, stop) = (daemon.socket.clone(), seen.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Relaxed) {
                    let start = Instant::now();
                    let (status, _, _) = unix_request(&socket, "GET", PATH, &[], "").await;
                    let at = Instant::now();
                    seen.lock().unwrap().push(Seen {
                        at,
                        status,
                        took: at - start,
                    });
                }
            })
        })
        .collect();
    (seen, tasks)
}

async fn stop_load(stop: &AtomicBool, tasks: Vec<tokio::task::JoinHandle<()>>) {
    stop.store(true, Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
}

fn agent_session(sim: &SimHandle) -> Option<String> {
    sim.sessions()
        .into_iter()
        .find(|s| s.context.as_deref().is_some_and(|c| c.ends_with("/agent")))
        .map(|s| s.id)
}

async fn bmcweb() -> SimHandle {
    common::sim_with(SimConfig {
        profile: Profile::Bmcweb,
        max_sessions: Some(64),
        ..SimConfig::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bmc_reset_mid_proxy_fails_requests_only_while_it_is_down_and_costs_one_login() {
    let sim = bmcweb().await;
    let daemon = started(&sim, "").await;
    let stop = Arc::new(AtomicBool::new(false));
    let (seen, tasks) = load(&daemon, 4, &stop);
    let count = || seen.lock().unwrap().len();
    until("load runs", 10, || count() >= 40).await;
    let mark = sim.log().len();
    let old = agent_session(&sim).unwrap();
    let down = Duration::from_millis(1000);
    let reset_at = Instant::now();
    common::http()
        .post(format!("{}/_sim/reset", sim.base_url()))
        .json(&serde_json::json!({"down_s": down.as_secs_f64()}))
        .send()
        .await
        .unwrap();
    let up_at = reset_at + down;
    until("a request succeeds after the BMC is back", 20, || {
        seen.lock()
            .unwrap()
            .iter()
            .any(|s| s.at > up_at && s.status == 200)
    })
    .await;
    let before = count();
    until("load goes on", 10, || count() >= before + 40).await;
    stop_load(&stop, tasks).await;
    let seen = seen.lock().unwrap().clone();
    let failed: Vec<Seen> = seen.iter().filter(|s| s.status != 200).copied().collect();
    assert!(
        failed.iter().all(|s| s.status == 502 || s.status == 503),
        "only gateway errors while the BMC is down, never a 401: {failed:?}"
    );
    assert!(
        failed
            .iter()
            .all(|s| s.at >= reset_at && s.at - s.took <= up_at + Duration::from_millis(500)),
        "failures only for requests made while the BMC was down: {failed:?}"
    );
    assert!(
        seen.iter().all(|s| s.took < Duration::from_secs(10)),
        "no request hangs"
    );
    let first_ok = seen
        .iter()
        .filter(|s| s.at > up_at && s.status == 200)
        .map(|s| s.at)
        .min()
        .unwrap();
    recovery(
        "bmc reset mid-proxy (from the BMC back up)",
        first_ok - up_at,
    );
    assert_eq!(logins(&sim, mark), 1, "one login after the reset");
    assert_eq!(sim.sessions().len(), 1, "the agent's new session only");
    assert_ne!(agent_session(&sim).unwrap(), old);
    drop(daemon);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_401_storm_costs_exactly_one_login_per_revocation_and_no_client_sees_401() {
    let sim = bmcweb().await;
    let daemon = started(&sim, "").await;
    let mark = sim.log().len();
    sim.set_faults(Faults {
        revoke_every: 25,
        ..Faults::default()
    });
    let stop = Arc::new(AtomicBool::new(false));
    let (seen, tasks) = load(&daemon, 6, &stop);
    until("ten revocations", 60, || sim.revocations() >= 10).await;
    sim.set_faults(Faults::default());
    let before = seen.lock().unwrap().len();
    until("load goes on", 10, || {
        seen.lock().unwrap().len() >= before + 30
    })
    .await;
    stop_load(&stop, tasks).await;
    let seen = seen.lock().unwrap().clone();
    let odd: Vec<u16> = seen
        .iter()
        .map(|s| s.status)
        .filter(|s| *s != 200)
        .collect();
    assert!(odd.is_empty(), "every proxied GET answered 200: {odd:?}");
    let revoked = sim.revocations() as usize;
    assert_eq!(
        logins(&sim, mark),
        revoked,
        "one login per revocation, never a storm"
    );
    assert_eq!(sim.sessions().len(), 1, "nothing left behind");
    let worst = seen.iter().map(|s| s.took).max().unwrap();
    recovery("401 storm (slowest request, relogin included)", worst);
    drop(daemon);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_5xx_burst_reaches_clients_as_the_bmcs_answer_and_costs_no_relogin() {
    for status in [500u16, 503] {
        let sim = bmcweb().await;
        let daemon = started(&sim, "").await;
        let mark = sim.log().len();
        let old = agent_session(&sim).unwrap();
        sim.set_faults(Faults {
            fail_next: 20,
            fail_status: Some(status),
            ..Faults::default()
        });
        let start = Instant::now();
        let mut answers = Vec::new();
        let mut recovered = None;
        while answers.len() < 30 {
            let (s, _, body) = unix_request(&daemon.socket, "GET", PATH, &[], "").await;
            if s == 200 && recovered.is_none() {
                recovered = Some(start.elapsed());
            }
            if s != 200 {
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                assert!(v["error"].is_object(), "the BMC's error body: {v}");
            }
            answers.push(s);
        }
        assert_eq!(
            answers.iter().filter(|s| **s == status).count(),
            20,
            "{status}: the burst, passed through as the BMC said it: {answers:?}"
        );
        assert!(answers[20..].iter().all(|s| *s == 200), "{answers:?}");
        recovery(
            &format!("{status} burst of 20 (to the first 200)"),
            recovered.unwrap(),
        );
        assert_eq!(logins(&sim, mark), 0, "a 5xx is no reason to log in again");
        assert_eq!(agent_session(&sim), Some(old));
        drop(daemon);
        sim.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn garbage_truncated_and_reset_bodies_fail_that_request_only() {
    let sim = bmcweb().await;
    let daemon = started(&sim, "").await;
    let old = agent_session(&sim).unwrap();
    let mark = sim.log().len();
    let (_, _, good) = unix_request(&daemon.socket, "GET", PATH, &[], "").await;
    for fault in ["malformed", "truncate", "reset"] {
        let mut f = Faults::default();
        match fault {
            "malformed" => f.malformed_next = 1,
            "truncate" => f.truncate_next = 1,
            _ => f.reset_next = 1,
        }
        sim.set_faults(f);
        let start = Instant::now();
        let (status, _, body) = unix_request(&daemon.socket, "GET", PATH, &[], "").await;
        let text = String::from_utf8_lossy(&body).to_string();
        if fault == "malformed" {
            // The BMC said 200 with a body that is not JSON: the proxy does not parse bodies,
            // it passes the BMC's answer on whole.
            assert_eq!(status, 200, "{text}");
            assert!(serde_json::from_slice::<serde_json::Value>(&body).is_err());
        } else {
            assert_eq!(
                status, 502,
                "{fault}: a cut body is never passed on as a 200: {text}"
            );
            assert!(text.contains("could not be used"), "{fault}: {text}");
        }
        let (status, _, body) = unix_request(&daemon.socket, "GET", PATH, &[], "").await;
        assert_eq!(status, 200, "{fault}: the next request is served");
        assert_eq!(body, good, "{fault}: whole, and its own answer");
        recovery(
            &format!("{fault} body (fault to the next 200)"),
            start.elapsed(),
        );
        // The agent's own use of the BMC (status lists the sessions) survives it as well.
        sim.set_faults(Faults {
            truncate_next: u32::from(fault == "truncate"),
            reset_next: u32::from(fault == "reset"),
            malformed_next: u32::from(fault == "malformed"),
            ..Faults::default()
        });
        let (status, _, _) = unix_request(&daemon.socket, "GET", "/v1/status", &[], "").await;
        assert_eq!(status, 502, "{fault}: status names the BMC's failure");
        let (status, _, _) = unix_request(&daemon.socket, "GET", "/v1/status", &[], "").await;
        assert_eq!(status, 200, "{fault}: and works again at once");
    }
    assert_eq!(
        logins(&sim, mark),
        0,
        "a bad body is no reason to log in again"
    );
    assert_eq!(agent_session(&sim), Some(old));
    drop(daemon);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bmc_that_answers_after_the_agent_gave_up_applies_the_write_once_and_nobody_gets_its_answer(
) {
    let sim = bmcweb().await;
    let daemon = started(&sim, "[bmc]\nrequest_timeout = \"1s\"\n").await;
    let old = agent_session(&sim).unwrap();
    let mark = sim.log().len();
    sim.set_faults(Faults {
        slow_next: 1,
        slow_ms: 2500,
        ..Faults::default()
    });
    let start = Instant::now();
    let (status, _, body) = unix_request(
        &daemon.socket,
        "PATCH",
        PATH,
        &[("content-type", "application/json")],
        r#"{"SessionTimeout": 1700}"#,
    )
    .await;
    let gave_up = start.elapsed();
    let text = String::from_utf8_lossy(&body).to_string();
    assert_eq!(status, 502, "{text}");
    assert!(text.contains("timed out after 1s"), "{text}");
    assert!(
        gave_up < Duration::from_millis(2000),
        "gave up at the timeout: {gave_up:?}"
    );
    // Meanwhile the agent goes on serving: this GET is answered before the BMC answers the PATCH.
    let (status, _, body) = unix_request(&daemon.socket, "GET", "/redfish/v1/", &[], "").await;
    assert_eq!(status, 200);
    let root: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(
        root["SessionService"].is_object(),
        "its own answer, not the PATCH's: {root}"
    );
    recovery(
        "answer after the agent gave up (timeout to the next 200)",
        start.elapsed() - gave_up,
    );
    let patched = |e: &serde_json::Value| e["method"] == "PATCH" && e["path"] == PATH;
    until("the BMC finishes the PATCH", 10, || {
        sim.log()[mark..].iter().any(patched)
    })
    .await;
    let (_, _, body) = unix_request(&daemon.socket, "GET", PATH, &[], "").await;
    let service: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        service["SessionTimeout"], 1700,
        "the late write holds: {service}"
    );
    assert_eq!(
        sim.log()[mark..].iter().filter(|e| patched(e)).count(),
        1,
        "a timed-out write is not sent again"
    );
    assert_eq!(logins(&sim, mark), 0);
    assert_eq!(agent_session(&sim), Some(old));
    drop(daemon);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_bmc_queues_requests_up_to_the_bound_and_answers_503_with_retry_after_beyond() {
    let sim = bmcweb().await;
    let daemon = started(&sim, "[bmc]\nmax_concurrency = 2\n[api]\nproxy_queue = 2\n").await;
    let mark = sim.log().len();
    sim.set_faults(Faults {
        latency_ms: 5000,
        ..Faults::default()
    });
    let start = Instant::now();
    let requests: Vec<_> = (0..40)
        .map(|_| {
            let socket = daemon.socket.clone();
            tokio::spawn(async move {
                let (status, headers, _) = unix_request(&socket, "GET", PATH, &[], "").await;
                let retry = headers
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                (status, retry, start.elapsed())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for r in requests {
        answers.push(r.await.unwrap());
    }
    let ok: Vec<_> = answers.iter().filter(|a| a.0 == 200).collect();
    let busy: Vec<_> = answers.iter().filter(|a| a.0 == 503).collect();
    assert_eq!(
        ok.len(),
        4,
        "max_concurrency + proxy_queue are served: {answers:?}"
    );
    assert_eq!(busy.len(), 36, "the rest are refused: {answers:?}");
    assert!(
        busy.iter()
            .all(|a| a.1.is_some_and(|s| s >= 1) && a.2 < Duration::from_secs(2)),
        "refused at once, with Retry-After: {busy:?}"
    );
    assert!(
        ok.iter().all(|a| a.2 >= Duration::from_secs(5)),
        "the served ones waited for the slow BMC: {ok:?}"
    );
    let reached = sim.log()[mark..]
        .iter()
        .filter(|e| e["path"] == PATH)
        .count();
    assert_eq!(reached, 4, "only the admitted requests reached the BMC");
    sim.set_faults(Faults::default());
    let back = Instant::now();
    let (status, _, _) = unix_request(&daemon.socket, "GET", PATH, &[], "").await;
    assert_eq!(status, 200, "served again once the BMC keeps up");
    recovery("slow BMC (queue drained to the next 200)", back.elapsed());
    drop(daemon);
    sim.shutdown().await;
}
