//! Memory-only proof (ARCHITECTURE.md, "What hostagent does" and "Modes and files"): hostagentd runs a full scenario (start, login, status,
//! list, clean, a lease, `run`, proxy traffic, SIGTERM) under `strace -f`, and no traced call
//! opens a file for writing, or creates, renames, links, truncates, re-modes or removes one,
//! outside the API socket's directory. `agentctl discover` of an SMBIOS fixture tree is traced
//! the same way. In default mode the same scenario writes only the state files (pins.json,
//! ledger.json and their temp files) in state.dir, besides the socket.

mod common;
mod scenario;
#[path = "memory_only/trace.rs"]
mod trace;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use bmcsim::{Profile, SimConfig};

const PASSWORD: &str = "Mq4-memory-only-pw";

/// The pid of the hostagentd that `strace` started (a child of ours, through strace), found
/// by its parent pid and name in /proc. strace also forks short-lived probes of its own.
fn traced_pid(strace: u32) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            // pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
            if ppid == Some(strace) && stat.contains("(hostagentd)") {
                return entry
                    .file_name()
                    .to_str()
                    .and_then(|p| p.parse().ok())
                    .expect("a numeric /proc entry");
            }
        }
        assert!(Instant::now() < deadline, "strace started no process");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether the agent may write `path`: in the socket's directory, or (default mode) a state
/// file in state.dir.
struct Allowed {
    socket_dir: PathBuf,
    state: Option<PathBuf>,
}

impl Allowed {
    fn allows(&self, path: &Path) -> bool {
        if path.starts_with(&self.socket_dir) {
            return true;
        }
        let Some(state) = &self.state else {
            return false;
        };
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        path.parent() == Some(state)
            && ["pins.json", "ledger.json"]
                .iter()
                .any(|f| name == *f || (name.contains(f) && name.contains("tmp")))
    }
}

/// Every changing call not allowed, one trace line each.
fn violations(trace_text: &str, allowed: &Allowed) -> Vec<String> {
    trace::changes(trace_text)
        .into_iter()
        .filter(|c| !c.paths.iter().all(|p| allowed.allows(p)))
        .map(|c| c.line)
        .collect()
}

/// The full scenario with hostagentd under strace; returns the trace and the setup.
fn traced_scenario(memory_only: bool) -> (String, scenario::Setup) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sim = runtime.block_on(common::sim_with(SimConfig {
        profile: Profile::Ilo5,
        password: PASSWORD.into(),
        ..SimConfig::default()
    }));
    let setup = scenario::setup(&sim, PASSWORD);
    let trace_file = setup.logs.path().join("hostagentd.strace");
    let mut cmd = Command::new("strace");
    cmd.args(trace::strace_args(&trace_file))
        .args(scenario::hostagentd_args(&setup));
    if memory_only {
        cmd.arg("--memory-only");
    }
    let mut child = setup.spawn(cmd);
    let pid = traced_pid(child.id());
    scenario::wait_ready(&setup.socket, &mut child);
    scenario::drive(&sim, &setup.socket);
    let status = scenario::terminate(pid, &mut child);
    assert!(
        status.success(),
        "hostagentd (under strace) stopped cleanly: {status}; {:?}",
        setup.daemon_output().1.lines().last()
    );
    runtime.block_on(sim.shutdown());
    (std::fs::read_to_string(&trace_file).unwrap(), setup)
}

/// strace is installed and may trace here (ptrace can be denied in a container).
fn strace_present() -> bool {
    let works = Command::new("strace")
        .args(["-qq", "-o", "/dev/null", "--", "true"])
        .status()
        .is_ok_and(|s| s.success());
    common::require(
        works,
        "strace, able to trace, for the file system calls of the agent",
    )
}

#[test]
fn in_memory_only_mode_the_agent_changes_no_file_but_its_socket() {
    if !strace_present() {
        return;
    }
    let (text, setup) = traced_scenario(true);
    let allowed = Allowed {
        socket_dir: setup.socket.parent().unwrap().to_path_buf(),
        state: None,
    };
    let bad = violations(&text, &allowed);
    assert!(
        bad.is_empty(),
        "hostagentd --memory-only changed files outside {}:\n{}",
        allowed.socket_dir.display(),
        bad.join("\n")
    );
    assert!(
        text.contains(&format!("sun_path=\"{}\"", setup.socket.display())),
        "the trace saw the socket's bind: the trace is not empty"
    );
    assert_eq!(
        std::fs::read_dir(&setup.state).unwrap().count(),
        0,
        "nothing in state.dir"
    );
}

#[test]
fn in_default_mode_the_agent_writes_only_its_state_files_and_socket() {
    if !strace_present() {
        return;
    }
    let (text, setup) = traced_scenario(false);
    let allowed = Allowed {
        socket_dir: setup.socket.parent().unwrap().to_path_buf(),
        state: Some(setup.state.clone()),
    };
    let bad = violations(&text, &allowed);
    assert!(
        bad.is_empty(),
        "hostagentd changed files outside its socket dir and state files:\n{}",
        bad.join("\n")
    );
    assert!(
        setup.state.join("pins.json").exists(),
        "TOFU pinned the certificate in state.dir"
    );
    let socket_only = Allowed {
        state: None,
        ..allowed
    };
    let pins: Vec<String> = violations(&text, &socket_only);
    assert!(
        pins.iter().any(|l| l.contains("pins.json")),
        "the check sees the pins.json write it would refuse in memory-only mode: {pins:?}"
    );
}

#[test]
fn discovery_from_a_fixture_tree_changes_no_file() {
    if !strace_present() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let tables = root.path().join("firmware/dmi/tables");
    std::fs::create_dir_all(&tables).unwrap();
    std::fs::create_dir_all(root.path().join("class/net")).unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smbios/hpe-ilo-vnic");
    for name in ["smbios_entry_point", "DMI"] {
        std::fs::copy(fixture.join(name), tables.join(name)).unwrap();
    }
    let logs = tempfile::tempdir().unwrap();
    let trace_file = logs.path().join("agentctl.strace");
    let out = Command::new("strace")
        .args(trace::strace_args(&trace_file))
        .arg(env!("CARGO_BIN_EXE_agentctl"))
        .args([
            "--sysfs-root",
            root.path().to_str().unwrap(),
            "--json",
            "discover",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["endpoint"]["hostname"], "virt152-sp",
        "the fixture was decoded"
    );
    let text = std::fs::read_to_string(&trace_file).unwrap();
    assert!(
        text.contains("firmware/dmi/tables/DMI"),
        "the trace saw the table read"
    );
    let nowhere = Allowed {
        socket_dir: PathBuf::from("/nonexistent-no-socket"),
        state: None,
    };
    let bad = violations(&text, &nowhere);
    assert!(
        bad.is_empty(),
        "agentctl discover changed files:\n{}",
        bad.join("\n")
    );
}
