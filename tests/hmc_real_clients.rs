//! Real HMC clients that no one here wrote, through the agent's HMC listener: IBM's
//! `pypowervm` 1.1.27 (`.venv-hmc`, made by `.ci/run`), IBM's published `requests` logoff
//! example, curl with the XML body — and the leak the agent ends: 100 runs of a pypowervm
//! stats script, half exiting without logoff as the cron job did, leave the HMC with one
//! session throughout (sampled) and none after SIGTERM, where the same runs straight to the
//! HMC leak one session each.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::hmc::{agent_sessions, logon_body, start, token_of, HmcSpec, LOGON, LOGON_REQUEST};
use hmcsim::{HmcSimConfig, HmcSimHandle};
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The venv's python; the test fails instead of skipping under HOSTAGENT_REQUIRE_PRIVILEGED=1.
fn hmc_python() -> Option<PathBuf> {
    let dir = std::env::var("HOSTAGENT_HMC_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join(".venv-hmc"));
    let py = dir.join("bin/python");
    common::require(
        py.exists(),
        "the HMC client venv (.venv-hmc; .ci/run makes it)",
    )
    .then_some(py)
}

/// REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE would override `verify=False`: the child goes without.
fn run(mut cmd: Command) -> Output {
    cmd.env_remove("REQUESTS_CA_BUNDLE")
        .env_remove("CURL_CA_BUNDLE")
        .output()
        .unwrap()
}

fn json_of(what: &str, out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{what}: {e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn stats(py: &PathBuf, host: &str, port: u16, logoff: bool, memento: &str) -> Command {
    let mut cmd = Command::new(py);
    cmd.arg(repo().join("tests/clients/pypowervm_stats.py"))
        .args([
            host,
            &port.to_string(),
            "hscroot",
            "abc123",
            "--memento",
            memento,
        ]);
    if logoff {
        cmd.arg("--logoff");
    }
    cmd
}

fn check_stats(what: &str, out: &Output) {
    let facts = json_of(what, out);
    assert_eq!(facts["status"], 200, "{what}");
    assert_eq!(facts["etag"], "449450179", "{what}");
    assert_eq!(
        facts["second_status"], 304,
        "{what}: If-None-Match through the agent"
    );
    assert_eq!(facts["systems"].as_array().map(Vec::len), Some(3), "{what}");
}

/// Samples the simulator's ground truth until stopped: the most and fewest sessions seen.
fn sampler(
    sim: Arc<HmcSimHandle>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<(usize, usize, usize)> {
    std::thread::spawn(move || {
        let (mut most, mut fewest, mut samples) = (0, usize::MAX, 0);
        while !stop.load(Ordering::Relaxed) {
            let n = sim.sessions().len();
            most = most.max(n);
            fewest = fewest.min(n);
            samples += 1;
            std::thread::sleep(Duration::from_millis(5));
        }
        (most, fewest, samples)
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hundred_pypowervm_runs_half_without_logoff_cost_the_hmc_one_session() {
    let Some(py) = hmc_python() else { return };
    let sim = Arc::new(hmcsim::start(HmcSimConfig::default()).await.unwrap());
    let spec = HmcSpec::of("lab", &sim, true);
    let listen = spec.listen.unwrap();
    let mut d = start(&[spec], "");
    tokio::task::block_in_place(|| {
        d.wait_logged_on("lab");
        let stop = Arc::new(AtomicBool::new(false));
        let sampling = sampler(sim.clone(), stop.clone());
        let next = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let (py, next) = (py.clone(), next.clone());
                std::thread::spawn(move || loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= 100 {
                        return;
                    }
                    let what = format!("run {n}");
                    let out = run(stats(
                        &py,
                        &listen.ip().to_string(),
                        listen.port(),
                        n % 2 == 0,
                        &what,
                    ));
                    check_stats(&what, &out);
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        stop.store(true, Ordering::Relaxed);
        let (most, fewest, samples) = sampling.join().unwrap();
        assert!(samples > 50, "sampled {samples} times");
        assert_eq!((most, fewest), (1, 1), "exactly one HMC session throughout");
        assert_eq!(sim.issued_tokens().len(), 1, "one logon for 100 runs");
        let status = d.status();
        let virt = status["hmc"][0]["virtual_sessions"].as_u64().unwrap();
        assert_eq!(
            virt, 50,
            "the 50 runs without logoff left virtual sessions only"
        );
        assert!(d.stop().success());
    });
    assert!(
        sim.sessions().is_empty(),
        "none after SIGTERM: {:?}",
        sim.sessions()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_runs_straight_to_the_hmc_leak_one_session_per_run_without_logoff() {
    let Some(py) = hmc_python() else { return };
    let sim = hmcsim::start(HmcSimConfig::default()).await.unwrap();
    let port = sim.listen_addrs()[0].port();
    // 20 runs keep CI time down; the rate is what the 100 runs through the agent avoid.
    tokio::task::block_in_place(|| {
        for n in 0..20 {
            let what = format!("direct {n}");
            check_stats(
                &what,
                &run(stats(&py, "127.0.0.1", port, n % 2 == 0, &what)),
            );
        }
    });
    assert_eq!(
        sim.sessions().len(),
        10,
        "one leaked session per run without logoff: 50 of 100"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ibms_logoff_example_and_curl_work_through_the_agents_listener() {
    let Some(py) = hmc_python() else { return };
    let sim = hmcsim::start(HmcSimConfig::default()).await.unwrap();
    let spec = HmcSpec::of("lab", &sim, true);
    let base = format!("https://{}", spec.listen.unwrap());
    let d = start(&[spec], "");
    tokio::task::block_in_place(|| {
        d.wait_logged_on("lab");
        let mut cmd = Command::new(&py);
        cmd.arg(repo().join("tests/clients/ibm_logoff.py"))
            .args([&base, "hscroot", "abc123"]);
        let facts = json_of("ibm_logoff.py", &run(cmd));
        assert_eq!(
            (facts["logon"].clone(), facts["token_length"].clone()),
            (200.into(), 236.into())
        );
        assert_eq!(facts["get"], 200);
        let logoff = facts["logoff"].as_u64().unwrap();
        assert!(
            [200, 202, 204].contains(&logoff),
            "IBM's success codes: {logoff}"
        );
        if !common::require(
            Command::new("curl").arg("--version").output().is_ok(),
            "curl",
        ) {
            return;
        }
        let curl = |args: &[&str]| {
            let mut cmd = Command::new("curl");
            cmd.args(["-sS", "-k", "--noproxy", "*"]).args(args);
            String::from_utf8_lossy(&run(cmd).stdout).trim().to_string()
        };
        let logon_url = format!("{base}{LOGON}");
        let ct = format!("Content-Type: {LOGON_REQUEST}");
        let body = logon_body("hscroot", "abc123");
        let token = token_of(&curl(&[
            "-X",
            "PUT",
            "-H",
            &ct,
            "--data-binary",
            &body,
            &logon_url,
        ]))
        .expect("a LogonResponse");
        let auth = format!("X-API-Session: {token}");
        let feed = format!("{base}/rest/api/uom/ManagedSystem");
        let code = |extra: &[&str]| {
            let mut args = vec!["-o", "/dev/null", "-w", "%{http_code}"];
            args.extend_from_slice(extra);
            curl(&args)
        };
        assert_eq!(
            code(&["-H", &auth, "-H", "If-None-Match: 449450179", &feed]),
            "304"
        );
        assert_eq!(code(&["-H", &auth, &feed]), "200");
        assert_eq!(code(&["-X", "DELETE", "-H", &auth, &logon_url]), "204");
        assert_eq!(code(&["-H", &auth, &feed]), "401");
    });
    assert_eq!(
        agent_sessions(&sim),
        1,
        "the clients' logons and logoffs never reached the HMC"
    );
    assert_eq!(sim.issued_tokens().len(), 1);
    drop(d);
    sim.shutdown().await;
}
