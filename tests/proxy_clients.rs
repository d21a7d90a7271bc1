//! Real clients that no one here wrote, through the proxy, on a simulated iLO 7 reached over a
//! veth "vNIC" between two network namespaces that this test creates (never the machine's
//! network: ilorest probes 16.1.15.1).
//!
//! - 20 rounds of `ilorest --nocache rawget` (login on the HTTPS listener), DMTF `redfish`
//!   (login, GET, logout), `redfishtool`, `sushy` and `curl --unix-socket`: every call returns
//!   the BMC's data and the BMC's table holds only the agent's session before, during and after.
//! - 20 `ilorest login https://16.1.15.1:8443` / `logout` pairs straight to the BMC leak 20
//!   sessions (the port in the URL); `agentctl list` shows them as host-application sessions of
//!   nobody here, and the reaper removes them.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bmcsim::{Profile, SimConfig, SimHandle};
use serde_json::Value;

const ROUNDS: usize = 20;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn venv_bin(env: &str, default: &str, bin: &str) -> PathBuf {
    std::env::var(env)
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join(default))
        .join("bin")
        .join(bin)
}

/// A network namespace held open by a `sleep` this test started (killed by PID on drop).
struct Netns {
    holder: Child,
}

impl Netns {
    fn new() -> Netns {
        let holder = Command::new("unshare")
            .args(["-n", "sleep", "100000"])
            .spawn()
            .expect("unshare runs");
        let pid = holder.id();
        let ours = std::fs::read_link("/proc/self/ns/net").unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::fs::read_link(format!("/proc/{pid}/ns/net"))
            .ok()
            .as_ref()
            == Some(&ours)
        {
            assert!(
                Instant::now() < deadline,
                "unshare -n never entered a namespace"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let ns = Netns { holder };
        ns.run(&["ip", "link", "set", "lo", "up"]);
        ns
    }

    fn pid(&self) -> u32 {
        self.holder.id()
    }

    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("nsenter");
        c.arg("-t")
            .arg(self.pid().to_string())
            .arg("-n")
            .arg(program);
        c
    }

    fn run(&self, args: &[&str]) {
        let out = self.command(args[0]).args(&args[1..]).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// Starts bmcsim inside `ns` on a thread of its own whose sockets live there.
fn sim_in(
    ns: &Netns,
    cfg: SimConfig,
) -> (
    Arc<SimHandle>,
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<()>,
) {
    let netns = std::fs::File::open(format!("/proc/{}/ns/net", ns.pid())).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        nix::sched::setns(netns, nix::sched::CloneFlags::CLONE_NEWNET)
            .expect("setns into the BMC's namespace");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let sim = Arc::new(bmcsim::start(cfg).await.expect("bmcsim starts"));
            tx.send(sim.clone()).unwrap();
            let _ = stop_rx.await;
        });
    });
    (rx.recv().unwrap(), stop_tx, thread)
}

fn script(host: &Netns, work: &Path, socket: &Path, mode: &str) -> String {
    let out = host
        .command("sh")
        .arg(repo().join("tests/clients/proxy_clients.sh"))
        .arg(mode)
        .arg(ROUNDS.to_string())
        .arg(venv_bin(
            "HOSTAGENT_ILOREST_VENV",
            ".venv-ilorest",
            "ilorest",
        ))
        .arg(venv_bin("HOSTAGENT_VENV", ".venv", "python"))
        .arg(venv_bin("HOSTAGENT_VENV", ".venv", "redfishtool"))
        .arg(repo().join("tests/clients"))
        .arg(socket)
        .env("WORK", work)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

fn oks(output: &str, tool: &str) -> usize {
    output
        .lines()
        .filter(|l| l.strip_prefix("OK ") == Some(tool))
        .count()
}

#[test]
fn real_clients_through_the_proxy_leave_only_the_agent_session_and_direct_leaks_are_reaped() {
    let tools = ["ilorest", "python", "redfishtool"].iter().all(|t| {
        let venv = if *t == "ilorest" {
            ".venv-ilorest"
        } else {
            ".venv"
        };
        repo().join(venv).join("bin").join(t).exists()
            || std::env::var_os("HOSTAGENT_VENV").is_some()
    });
    let curl = Command::new("curl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !common::require(common::is_root() && tools && curl, "root (network namespaces), curl, and the client venvs .venv and .venv-ilorest (.ci/run makes them)") {
        return;
    }
    let host = Netns::new();
    let bmc = Netns::new();
    host.run(&[
        "ip",
        "link",
        "add",
        "vnic0",
        "type",
        "veth",
        "peer",
        "name",
        "bmc0",
        "netns",
        &bmc.pid().to_string(),
    ]);
    host.run(&["ip", "addr", "add", "16.1.15.2/30", "dev", "vnic0"]);
    host.run(&["ip", "link", "set", "vnic0", "up"]);
    bmc.run(&["ip", "addr", "add", "16.1.15.1/30", "dev", "bmc0"]);
    bmc.run(&["ip", "link", "set", "bmc0", "up"]);
    let cfg = SimConfig {
        profile: Profile::Ilo7,
        listen: vec!["127.0.0.1:0".parse().unwrap()],
        inband_listen: vec![
            "16.1.15.1:443".parse().unwrap(),
            "16.1.15.1:8443".parse().unwrap(),
        ],
        max_sessions: Some(64),
        ..SimConfig::default()
    };
    let (sim, stop_sim, sim_thread) = sim_in(&bmc, cfg);

    let work = tempfile::tempdir().unwrap();
    let creds = common::daemon::write_creds(work.path());
    let socket = work.path().join("run/agent.sock");
    let config = work.path().join("hostagent.toml");
    std::fs::write(
        &config,
        format!(
            "[bmc]\nendpoint = \"https://16.1.15.1\"\ntls = \"pin\"\nfingerprint = \"{}\"\ncredentials_dir = \"{}\"\n\
             [api]\nsocket = \"{}\"\nreader_group = \"root\"\nlisten_https = \"127.0.0.2:443\"\n[reaper]\ninterval = \"1s\"\n[state]\nmemory_only = true\n",
            sim.cert_sha256(), creds.display(), socket.display()
        ),
    )
    .unwrap();
    let mut agent = host
        .command(env!("CARGO_BIN_EXE_hostagentd"))
        .arg("--config")
        .arg(&config)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !sim.sessions().iter().any(|s| s.user == "admin") || !socket.exists() {
        assert!(Instant::now() < deadline, "hostagentd never logged in");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(sim.sessions().len(), 1, "before: the agent's session only");

    // Watch the table while the clients run.
    let (most, running) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicBool::new(true)),
    );
    let sampler = std::thread::spawn({
        let (sim, most, running) = (sim.clone(), most.clone(), running.clone());
        move || {
            while running.load(Ordering::Relaxed) {
                most.fetch_max(sim.sessions().len(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    });
    let output = script(&host, work.path(), &socket, "proxy");
    running.store(false, Ordering::Relaxed);
    sampler.join().unwrap();
    for tool in ["ilorest", "dmtf-redfish", "redfishtool", "sushy", "curl"] {
        assert_eq!(
            oks(&output, tool),
            ROUNDS,
            "{tool}: every call returns the BMC's data\n{output}"
        );
    }
    assert_eq!(
        most.load(Ordering::Relaxed),
        1,
        "during: the agent's session only\n{output}"
    );
    assert_eq!(sim.sessions().len(), 1, "after: the agent's session only");

    let output = script(&host, work.path(), &socket, "direct");
    assert_eq!(oks(&output, "ilorest-login"), ROUNDS, "{output}");
    assert_eq!(
        sim.sessions().len(),
        1 + ROUNDS,
        "each direct pair leaked one session (the port in the URL)"
    );
    let list = Command::new(env!("CARGO_BIN_EXE_agentctl"))
        .arg("--socket")
        .arg(&socket)
        .args(["--json", "list"])
        .output()
        .unwrap();
    let list: Value = serde_json::from_slice(&list.stdout).unwrap();
    let rows = list["sessions"].as_array().unwrap();
    let leaked: Vec<&Value> = rows.iter().filter(|r| r["owner"] == "foreign").collect();
    assert_eq!(leaked.len(), ROUNDS, "{list}");
    for row in &leaked {
        assert_eq!(
            (
                row["kind"].as_str(),
                row["user"].as_str(),
                row["origin"].as_str()
            ),
            (Some("host-application"), Some("admin"), Some("16.1.15.2")),
            "{row}"
        );
    }
    assert_eq!(
        rows.iter().filter(|r| r["owner"] == "agent").count(),
        1,
        "{list}"
    );

    sim.advance_clock(20 * 60);
    let deadline = Instant::now() + Duration::from_secs(20);
    while sim.sessions().len() != 1 {
        assert!(
            Instant::now() < deadline,
            "the reaper left {} sessions",
            sim.sessions().len()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = agent.kill();
    let _ = agent.wait();
    let _ = stop_sim.send(());
    drop(sim);
    sim_thread.join().unwrap();
}
