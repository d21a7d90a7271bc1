//! The Puppet custom fact `hostagent` (`packaging/puppet/hostagent/lib/facter/hostagent.rb`,
//! run by Debian's facter) and the Ohai plugin (`packaging/chef/hostagent/ohai/hostagent.rb`,
//! run by Debian's ohai) against a live hostagentd on bmcsim: each prints the endpoint, the
//! transport, the limit and the sessions by kind as the simulator's own table has them, follows
//! a leak, gives agentctl's error as its value when no daemon answers, and gives up with
//! `timeout` on a socket that accepts but never answers instead of hanging the run.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use bmcsim::{Kind as SimKind, Profile, SimHandle};
use common::daemon::started;
use serde_json::{json, Value};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[derive(Clone, Copy, Debug)]
enum Engine {
    Facter,
    Ohai,
}

/// The `hostagent` value the engine prints for this socket (stdout only: both complain on
/// stderr about what a container hides), and how long it took.
fn fact(engine: Engine, socket: &Path, timeout_s: u32) -> (Value, Duration, Output) {
    let mut cmd = match engine {
        Engine::Facter => {
            let mut c = Command::new("facter");
            c.arg("--custom-dir")
                .arg(repo().join("packaging/puppet/hostagent/lib/facter"))
                .args(["--json", "hostagent"]);
            c
        }
        Engine::Ohai => {
            let mut c = Command::new("ohai");
            c.arg("-d")
                .arg(repo().join("packaging/chef/hostagent/ohai"))
                .arg("hostagent");
            c
        }
    };
    cmd.env("HOSTAGENT_SOCKET", socket)
        .env("HOSTAGENT_AGENTCTL", env!("CARGO_BIN_EXE_agentctl"))
        .env("HOSTAGENT_FACT_TIMEOUT", timeout_s.to_string());
    let start = Instant::now();
    let out = cmd.output().expect("the engine runs");
    let took = start.elapsed();
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{engine:?} printed no JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let value = match engine {
        Engine::Facter => printed["hostagent"].clone(),
        Engine::Ohai => printed,
    };
    (value, took, out)
}

/// The simulator's table by kind, in agentctl's kind names.
fn by_kind(sim: &SimHandle) -> Value {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for s in sim.sessions() {
        let name = serde_json::to_value(s.kind).unwrap();
        *counts
            .entry(name.as_str().unwrap().to_string())
            .or_default() += 1;
    }
    json!(counts)
}

async fn both(socket: PathBuf, timeout_s: u32) -> Vec<(Engine, Value, Duration)> {
    tokio::task::spawn_blocking(move || {
        [Engine::Facter, Engine::Ohai]
            .into_iter()
            .map(|e| {
                let (v, took, _) = fact(e, &socket, timeout_s);
                (e, v, took)
            })
            .collect()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn facter_and_ohai_print_the_live_status_and_never_hang_on_a_silent_daemon() {
    if !common::require(
        have("facter") && have("ohai"),
        "facter (Debian package puppet) and ohai (Debian package ohai); .ci/run installs them",
    ) {
        return;
    }
    let sim = common::sim(Profile::Ilo5).await;
    sim.leak(3, SimKind::RestHost, None);
    sim.leak(1, SimKind::WebUi, Some("alice"));
    let daemon = started(
        &sim,
        "[reaper]\ninterval = \"1h\"\n[bmc]\nsession_limit = 16\n",
    )
    .await;
    let socket = daemon.socket.clone();

    for (engine, v, _) in both(socket.clone(), 10).await {
        assert_eq!(v["endpoint"], sim.base_url(), "{engine:?}: {v}");
        assert_eq!(v["transport"], "https", "{engine:?}: {v}");
        assert_eq!(v["limit"], 16, "{engine:?}: {v}");
        assert_eq!(v["sessions"]["by_kind"], by_kind(&sim), "{engine:?}: {v}");
        assert_eq!(v["sessions"]["by_kind"]["rest-host"], 3, "{engine:?}: {v}");
    }
    // Live, not cached: two more leaked sessions show.
    sim.leak(2, SimKind::RestHost, None);
    for (engine, v, _) in both(socket.clone(), 10).await {
        assert_eq!(v["sessions"]["by_kind"]["rest-host"], 5, "{engine:?}: {v}");
        assert_eq!(v["sessions"]["by_kind"], by_kind(&sim), "{engine:?}: {v}");
    }

    // No daemon: agentctl's error is the value.
    let dir = tempfile::tempdir().unwrap();
    for (engine, v, _) in both(dir.path().join("no.sock"), 10).await {
        assert_eq!(v["error"]["code"], "not_running", "{engine:?}: {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("hostagentd is not answering")),
            "{engine:?}: {v}"
        );
    }

    // A socket that accepts and never answers, as a daemon still connecting to its BMC does:
    // agentctl waits forever, the fact gives up after its timeout (2 s here).
    let silent = dir.path().join("silent.sock");
    let listener = std::os::unix::net::UnixListener::bind(&silent).unwrap();
    for (engine, v, took) in both(silent.clone(), 2).await {
        assert_eq!(v["error"]["code"], "timeout", "{engine:?}: {v}");
        assert!(
            took < Duration::from_secs(20),
            "{engine:?} gave up after {took:?}"
        );
    }
    drop(listener);
    drop(daemon);
    sim.shutdown().await;
}
