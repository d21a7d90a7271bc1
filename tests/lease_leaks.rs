//! Leases that must not leak or crowd out people: a failed lease DELETE in memory-only mode is
//! retried by the reaper, a lease login that answers after its client left is deleted, leases
//! stop at a cap with a clear error, and concurrent load across token revocations and a BMC
//! reset leaves the table as it was, with no 401 to any client and one login per revocation.

mod common;

use std::time::{Duration, Instant};

use bmcsim::{Faults, Profile, SimConfig, SimHandle};
use common::daemon::{started, unix_request, Daemon};
use serde_json::Value;

/// Waits (bounded) until `done` holds, polling the simulator's ground truth.
async fn until(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {secs}s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn open_lease(daemon: &Daemon) -> (u16, Value) {
    let (status, _, body) = unix_request(
        &daemon.socket,
        "POST",
        "/v1/leases",
        &[],
        r#"{"ttl_s":600}"#,
    )
    .await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

async fn close_lease(daemon: &Daemon, id: &str) -> (u16, Value) {
    let path = format!("/v1/leases/{id}");
    let (status, _, body) = unix_request(&daemon.socket, "DELETE", &path, &[], "").await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn listed(sim: &SimHandle, uri: &str) -> bool {
    let id = uri
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    sim.sessions().iter().any(|s| s.id.eq_ignore_ascii_case(id))
}

#[tokio::test(flavor = "multi_thread")]
async fn in_memory_only_mode_a_lease_whose_delete_failed_is_retried_until_it_is_gone() {
    // iLO keeps no Context, and the lease's session is newer than the daemon's login: neither
    // tags nor the identity rule would find it; only the memory of the failed delete does.
    let sim = common::sim(Profile::Ilo6).await;
    let daemon = started(&sim, "[reaper]\ninterval = \"1s\"\n").await;
    let baseline = sim.sessions().len();
    let (status, lease) = open_lease(&daemon).await;
    assert_eq!(status, 201, "{lease}");
    let uri = lease["uri"].as_str().unwrap().to_string();
    assert!(listed(&sim, &uri));
    sim.set_faults(Faults {
        fail_delete_next: 1,
        ..Faults::default()
    });
    let (status, body) = close_lease(&daemon, lease["id"].as_str().unwrap()).await;
    assert_eq!(status, 502, "the failed DELETE is reported: {body}");
    assert!(listed(&sim, &uri), "the BMC still has the lease's session");
    until(
        "the reaper deletes the session of the failed close",
        15,
        || !listed(&sim, &uri),
    )
    .await;
    assert_eq!(sim.sessions().len(), baseline);
    drop(daemon);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn leases_stop_at_the_cap_with_a_clear_error_and_agentctl_exits_1() {
    let sim = common::sim_with(SimConfig {
        profile: Profile::Ilo6,
        max_sessions: Some(64),
        ..SimConfig::default()
    })
    .await;
    let daemon = started(&sim, "[api]\nmax_leases = 3\n").await;
    let baseline = sim.sessions().len();
    let opens = futures::future::join_all((0..10).map(|_| open_lease(&daemon))).await;
    let granted: Vec<&Value> = opens
        .iter()
        .filter(|(s, _)| *s == 201)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(granted.len(), 3, "10 at once, 3 granted: {opens:?}");
    for (status, body) in opens.iter().filter(|(s, _)| *s != 201) {
        assert_eq!(*status, 429, "{body}");
        assert_eq!(body["error"]["code"], "lease_limit", "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("3 leases are open") && message.contains("api.max_leases"),
            "says the cap and how to raise it: {message}"
        );
    }
    assert_eq!(
        sim.sessions().len(),
        baseline + 3,
        "no session for the refused"
    );
    let socket = daemon.socket.clone();
    let pid = std::process::id().to_string();
    let (code, v, _) = tokio::task::spawn_blocking(move || {
        common::daemon::agentctl(&socket, &["session", "open", "--pid", &pid])
    })
    .await
    .unwrap();
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(v["error"]["code"], "lease_limit", "{v}");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("api.max_leases"));
    let (status, _) = close_lease(&daemon, granted[0]["id"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    let (status, body) = open_lease(&daemon).await;
    assert_eq!(status, 201, "a closed lease gives its place back: {body}");
    drop(daemon);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn on_an_idrac_the_default_cap_leaves_half_its_table_to_people() {
    let sim = common::sim(Profile::Idrac).await;
    let daemon = started(&sim, "").await;
    for n in 0..4 {
        let (status, body) = open_lease(&daemon).await;
        assert_eq!(status, 201, "lease {n}: {body}");
    }
    let (status, body) = open_lease(&daemon).await;
    assert_eq!(status, 429, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("half of the BMC's session limit of 8"),
        "{message}"
    );
    assert_eq!(
        sim.sessions().len(),
        5,
        "the agent and 4 leases: 3 places for people"
    );
    drop(daemon);
    sim.shutdown().await;
}

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

#[tokio::test(flavor = "multi_thread")]
async fn a_lease_login_that_answers_after_its_client_gave_up_is_deleted() {
    let sim = common::sim_with(SimConfig {
        profile: Profile::Ilo6,
        login_latency_ms: 1500,
        ..SimConfig::default()
    })
    .await;
    let daemon = started(&sim, "").await;
    let baseline = sim.sessions().len();
    let mark = sim.log().len();
    // The client's own timeout, far shorter than the BMC's login.
    let gave_up = tokio::time::timeout(Duration::from_millis(300), open_lease(&daemon)).await;
    assert!(
        gave_up.is_err(),
        "the login answered within the client's timeout"
    );
    until("the BMC answers the lease's login", 10, || {
        logins(&sim, mark) == 1
    })
    .await;
    until("the late session is deleted", 10, || {
        sim.sessions().len() == baseline
    })
    .await;
    let (_, _, leases) = unix_request(&daemon.socket, "GET", "/v1/leases", &[], "").await;
    let leases: Value = serde_json::from_slice(&leases).unwrap();
    assert_eq!(
        leases["leases"],
        serde_json::json!([]),
        "no lease nobody holds"
    );
    drop(daemon);
    sim.shutdown().await;
}

/// The agent's own session on bmcweb, by its `Context` tag.
fn agent_session(sim: &SimHandle) -> Option<String> {
    sim.sessions()
        .into_iter()
        .find(|s| s.context.as_deref().is_some_and(|c| c.ends_with("/agent")))
        .map(|s| s.id)
}

#[derive(Default)]
struct Seen {
    gets: std::sync::Mutex<Vec<u16>>,
    opens: std::sync::Mutex<Vec<u16>>,
    closes: std::sync::Mutex<Vec<u16>>,
}

/// Proxy GETs and lease open/close in a loop until `stop`.
fn load(
    daemon: &Daemon,
    seen: &std::sync::Arc<Seen>,
    stop: &std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    use std::sync::atomic::Ordering::Relaxed;
    let mut tasks = Vec::new();
    for n in 0..9 {
        let (socket, seen, stop) = (daemon.socket.clone(), seen.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Relaxed) {
                if n < 6 {
                    let path = "/redfish/v1/SessionService";
                    let (status, _, _) = unix_request(&socket, "GET", path, &[], "").await;
                    seen.gets.lock().unwrap().push(status);
                    continue;
                }
                let (status, _, body) =
                    unix_request(&socket, "POST", "/v1/leases", &[], "{}").await;
                seen.opens.lock().unwrap().push(status);
                let Some(id) = serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|v| v["id"].as_str().map(str::to_string))
                else {
                    continue;
                };
                let path = format!("/v1/leases/{id}");
                let (status, _, _) = unix_request(&socket, "DELETE", &path, &[], "").await;
                seen.closes.lock().unwrap().push(status);
            }
        }));
    }
    tasks
}

#[tokio::test(flavor = "multi_thread")]
async fn under_load_revocations_and_a_reset_cost_one_login_each_no_401_and_no_leak() {
    let sim = common::sim_with(SimConfig {
        profile: Profile::Bmcweb,
        max_sessions: Some(64),
        login_latency_ms: 200,
        ..SimConfig::default()
    })
    .await;
    let daemon = started(&sim, "").await;
    assert_eq!(sim.sessions().len(), 1, "the agent's session only");
    let mark = sim.log().len();
    let seen = std::sync::Arc::new(Seen::default());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let tasks = load(&daemon, &seen, &stop);
    let gets = || seen.gets.lock().unwrap().len();
    let events = ["revoke", "revoke", "reset"];
    for event in events {
        let before = gets();
        until("load runs", 10, || gets() >= before + 20).await;
        let old = agent_session(&sim).expect("the agent holds a session");
        match event {
            "revoke" => assert!(sim.revoke(&old)),
            _ => {
                let url = format!("{}/_sim/reset", sim.base_url());
                common::http().post(url).send().await.unwrap();
            }
        }
        until("the agent logs in again", 10, || {
            agent_session(&sim).is_some_and(|id| id != old)
        })
        .await;
    }
    let before = gets();
    until("load runs after the last login", 10, || {
        gets() >= before + 20
    })
    .await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    let (gets, opens, closes) = (
        seen.gets.lock().unwrap().clone(),
        seen.opens.lock().unwrap().clone(),
        seen.closes.lock().unwrap().clone(),
    );
    let odd = |v: &[u16], ok: u16| v.iter().filter(|s| **s != ok).count();
    assert_eq!(odd(&gets, 200), 0, "proxy GETs: {gets:?}");
    assert_eq!(odd(&opens, 201), 0, "lease opens: {opens:?}");
    assert_eq!(odd(&closes, 200), 0, "lease closes: {closes:?}");
    assert!(!opens.is_empty() && gets.len() > 80, "there was load");
    until("the table is back to the agent's session", 10, || {
        sim.sessions().len() == 1 && agent_session(&sim).is_some()
    })
    .await;
    assert_eq!(
        logins(&sim, mark) - opens.len(),
        events.len(),
        "the agent logged in once per revocation"
    );
    drop(daemon);
    sim.shutdown().await;
}
