//! No secret in a core dump of the running daemon (the core-dump half of the secret-leak
//! proof; `secret_leak.rs` covers logs, the journal and files).
//!
//! Two ways to get a core of a live hostagentd:
//! - the kernel's, on a crash (here SIGABRT with RLIMIT_CORE unlimited): none is written,
//!   because the daemon makes itself non-dumpable at start. The same run with
//!   `HOSTAGENT_ALLOW_CORE_DUMPS=1` does write one, so the check can see a core when there is
//!   one;
//! - root's `gcore` (ptrace, which `PR_SET_DUMPABLE` 0 does not stop for root): the core is
//!   written, and it must hold no password, no Basic header and no token — the agent's, a
//!   lease's (the lease is open at the time) and a virtual session's (logged in, not out).

mod common;
mod scenario;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use base64::Engine;
use bmcsim::{Profile, SimConfig, SimHandle};
use scenario::Setup;

fn random(prefix: &str) -> String {
    let bytes: [u8; 24] = rand::random();
    format!("{prefix}{}", hex::encode(bytes))
}

fn sim(password: &str) -> (tokio::runtime::Runtime, SimHandle) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let cfg = SimConfig {
        profile: Profile::Ilo5,
        password: password.to_string(),
        max_sessions: Some(64),
        ..SimConfig::default()
    };
    let sim = runtime.block_on(common::sim_with(cfg));
    (runtime, sim)
}

/// hostagentd in `setup.dir` (its working directory, where a `core` pattern writes), with
/// RLIMIT_CORE unlimited and `env` added.
fn start(setup: &Setup, env: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hostagentd"));
    cmd.args(&scenario::hostagentd_args(setup)[1..])
        .current_dir(setup.dir.path())
        .envs(env.iter().copied());
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let unlimited = libc::rlimit {
                rlim_cur: libc::RLIM_INFINITY,
                rlim_max: libc::RLIM_INFINITY,
            };
            if libc::setrlimit(libc::RLIMIT_CORE, &unlimited) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = setup.spawn(cmd);
    scenario::wait_ready(&setup.socket, &mut child);
    child
}

/// The core files (`core`, `core.<pid>`) in `dir`.
fn cores_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n == "core" || n.starts_with("core."))
        })
        .collect()
}

/// SIGABRT to the daemon (a process this test started), then waits for it to end.
fn abort(child: &mut Child) -> std::process::ExitStatus {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGABRT).unwrap();
    scenario::terminate_after(Duration::from_secs(60), child)
}

/// Whether the kernel writes cores as files named `core…` in the crashing process's working
/// directory (not to a pipe such as systemd-coredump or apport): only then can a test look.
fn core_pattern_is_a_local_file() -> bool {
    std::fs::read_to_string("/proc/sys/kernel/core_pattern")
        .is_ok_and(|p| p.trim() == "core" || p.trim() == "core.%p")
}

#[test]
fn a_crash_of_the_daemon_writes_no_core_unless_the_debug_option_allows_it() {
    if !core_pattern_is_a_local_file() {
        // A pipe (systemd-coredump, apport) takes cores elsewhere: nothing to look at here.
        eprintln!("SKIPPED: kernel.core_pattern is not `core`: cores go elsewhere");
        return;
    }
    let password = random("pw-");
    let (runtime, sim) = sim(&password);
    for (env, want_core) in [
        (vec![], false),
        (vec![("HOSTAGENT_ALLOW_CORE_DUMPS", "1")], true),
    ] {
        let setup = scenario::setup(&sim, &password);
        let mut child = start(&setup, &env);
        let status = abort(&mut child);
        assert!(!status.success(), "SIGABRT ends it: {status}");
        let cores = cores_in(setup.dir.path());
        assert_eq!(
            !cores.is_empty(),
            want_core,
            "{env:?}: cores {cores:?}; stderr: {}",
            setup.daemon_output().1
        );
        if want_core {
            let (_, stderr) = setup.daemon_output();
            assert!(
                stderr.contains("HOSTAGENT_ALLOW_CORE_DUMPS"),
                "the debug option is logged loudly: {stderr}"
            );
        }
    }
    runtime.block_on(sim.shutdown());
}

/// A virtual session logged in through the proxy and left open: its token.
fn virtual_login(socket: &Path) -> String {
    let login = scenario::run(
        "curl",
        &[
            "-s",
            "-i",
            "--max-time",
            "30",
            "--unix-socket",
            socket.to_str().unwrap(),
            "-H",
            "content-type: application/json",
            "-d",
            r#"{"UserName":"admin","Password":"not-checked"}"#,
            "http://localhost/redfish/v1/SessionService/Sessions/",
        ],
    );
    login
        .stdout
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("x-auth-token")
                .then(|| v.trim().to_string())
        })
        .unwrap_or_else(|| panic!("the proxy's login gives a token: {login:?}"))
}

/// `gcore` of `pid` into `dir`; the core's bytes.
fn gcore(pid: u32, dir: &Path) -> Vec<u8> {
    let prefix = dir.join("gcore");
    let out = Command::new("gcore")
        .arg("-o")
        .arg(&prefix)
        .arg(pid.to_string())
        .output()
        .unwrap();
    let path = PathBuf::from(format!("{}.{pid}", prefix.display()));
    assert!(
        path.exists(),
        "gcore wrote {}: {}{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(&path).unwrap()
}

/// Established TCP connections of process `pid` (its socket inodes in /proc/net/tcp{,6}).
fn tcp_connections(pid: u32) -> usize {
    let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| {
            dir.flatten()
                .filter_map(|e| std::fs::read_link(e.path()).ok())
                .filter_map(|l| {
                    let l = l.to_string_lossy().into_owned();
                    Some(l.strip_prefix("socket:[")?.strip_suffix(']')?.to_string())
                })
                .collect()
        })
        .unwrap_or_default();
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .flat_map(|p| {
            std::fs::read_to_string(p)
                .unwrap_or_default()
                .lines()
                .skip(1)
                .map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
                .collect::<Vec<_>>()
        })
        .filter(|f| f.get(3).map(String::as_str) == Some("01"))
        .filter(|f| f.get(9).is_some_and(|inode| inodes.contains(inode)))
        .count()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

#[test]
fn a_core_of_the_running_daemon_holds_no_password_basic_header_or_token() {
    if !common::require(
        common::is_root() && scenario::have("gcore") && scenario::have("curl"),
        "root, gcore (Debian package gdb) and curl",
    ) {
        return;
    }
    let password = random("pw-");
    let (runtime, sim) = sim(&password);
    let setup = scenario::setup(&sim, &password);
    let mut child = start(&setup, &[]);
    scenario::drive(&sim, &setup.socket);
    let open = scenario::agentctl(&setup.socket, &["session", "open", "--ttl", "5m"]);
    let lease_token = open.json()["token"].as_str().expect("a lease").to_string();
    let virtual_token = virtual_login(&setup.socket);
    let get = scenario::agentctl(&setup.socket, &["get", "/redfish/v1/Systems/1/"]);
    assert_eq!(get.code, Some(0), "{get:?}");

    // A request's header copies live as long as its connection to the BMC: wait until the
    // idle ones are closed (`POOL_IDLE_TIMEOUT`), then dump the still-running daemon.
    let deadline = Instant::now() + Duration::from_secs(60);
    while tcp_connections(child.id()) > 0 {
        assert!(
            Instant::now() < deadline,
            "the daemon's idle connections to the BMC were never closed"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let logs = tempfile::tempdir().unwrap();
    let core = gcore(child.id(), logs.path());
    assert!(core.len() > 1 << 20, "a real core: {} bytes", core.len());

    let basic = base64::engine::general_purpose::STANDARD.encode(format!("admin:{password}"));
    let mut secrets = vec![
        ("the password".to_string(), password.clone()),
        ("the Basic header".to_string(), basic),
        ("the open lease's token".to_string(), lease_token),
        ("a virtual session's token".to_string(), virtual_token),
    ];
    let tokens = sim.issued_tokens();
    assert!(tokens.len() >= 5, "the agent's and the leases' tokens");
    for (i, t) in tokens.into_iter().enumerate() {
        secrets.push((format!("BMC token #{i}"), t));
    }
    let found: Vec<&str> = secrets
        .iter()
        .filter(|(_, s)| contains(&core, s.as_bytes()))
        .map(|(what, _)| what.as_str())
        .collect();
    if std::env::var("CORE_DEBUG").is_ok() {
        for (what, s) in &secrets {
            let mut at = 0;
            while let Some(i) = memchr::memmem::find(&core[at..], s.as_bytes()) {
                let i = at + i;
                let lo = i.saturating_sub(300);
                eprintln!(
                    "{what} at {i}: {:?}",
                    String::from_utf8_lossy(&core[lo..(i + 100).min(core.len())])
                );
                at = i + 1;
            }
        }
    }
    assert!(found.is_empty(), "in the core: {found:?}");
    let status = scenario::terminate(child.id() as i32, &mut child);
    assert!(status.success(), "{status}");
    runtime.block_on(sim.shutdown());
}
