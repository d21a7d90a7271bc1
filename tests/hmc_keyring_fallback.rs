//! The keyring fallback measured: a kernel without persistent keyrings, emulated with
//! `HOSTAGENT_TEST_NO_PERSISTENT_KEYRING=1`, and the case docs/HMC.md warns about — the daemon
//! runs as a dedicated service user with no other process, in a private session keyring as
//! systemd gives a service (`KeyringMode=private`). Five SIGKILLs and restarts; the simulator
//! counts the agent's sessions each round.
//!
//! Needs root (to run the daemon as another uid): fails when `HOSTAGENT_REQUIRE_PRIVILEGED=1`,
//! else skips with a message.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::hmc::{agent_sessions, table, wait_until, HmcSpec};
use hmcsim::HmcSimConfig;
use serde_json::Value;

const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;

/// A uid no process runs as (none in /proc), for this test run.
fn free_uid() -> u32 {
    (0..1000)
        .map(|i| 61000 + (std::process::id() + i) % 4000)
        .find(|&uid| processes_of(uid) == 0)
        .expect("a free uid")
}

/// How many processes run with real uid `uid`.
fn processes_of(uid: u32) -> usize {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read_to_string(e.path().join("status")).ok())
        .filter(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|l| l.split_whitespace().next().map(str::to_string))
                == Some(uid.to_string())
        })
        .count()
}

fn chown(path: &Path, uid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(uid)).unwrap();
}

/// hostagentd as `uid` (no supplementary groups), in a new session keyring of its own.
fn spawn_as(uid: u32, config: &Path, log: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hostagentd"));
    cmd.arg("--config")
        .arg(config)
        .env("HOSTAGENT_TEST_NO_PERSISTENT_KEYRING", "1")
        .stderr(Stdio::from(log));
    // SAFETY: between fork and exec only async-signal-safe system calls are made.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setgroups(0, std::ptr::null()) != 0
                || libc::setgid(uid) != 0
                || libc::setuid(uid) != 0
                || libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, 0usize) < 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.spawn().unwrap()
}

struct Setup {
    dir: tempfile::TempDir,
    socket: PathBuf,
    config: PathBuf,
    log: PathBuf,
}

fn setup(uid: u32, sim: &hmcsim::HmcSimHandle) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let creds = dir.path().join("hmc-creds");
    std::fs::create_dir(&creds).unwrap();
    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o700)).unwrap();
    chown(&creds, uid);
    for (name, value) in [("hmc-username", "hscroot\n"), ("hmc-password", "abc123\n")] {
        let path = creds.join(name);
        std::fs::write(&path, value).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        chown(&path, uid);
    }
    let run = dir.path().join("run");
    std::fs::create_dir(&run).unwrap();
    std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o750)).unwrap();
    chown(&run, uid);
    let socket = run.join("agent.sock");
    let text = format!(
        "[bmc]\ntransport = \"none\"\n[api]\nsocket = \"{}\"\nreader_group = \"\"\n[state]\nmemory_only = true\n{}",
        socket.display(),
        table(&HmcSpec::of("lab", sim, false), &creds)
    );
    let config = dir.path().join("hostagent.toml");
    std::fs::write(&config, text).unwrap();
    let log = dir.path().join("hostagentd.log");
    Setup {
        dir,
        socket,
        config,
        log,
    }
}

fn hmc_status(socket: &Path) -> Option<Value> {
    let (code, v, _) = common::daemon::agentctl(socket, &["status"]);
    let entry = v["hmc"].as_array()?.iter().find(|h| h["name"] == "lab")?;
    (code == Some(0)).then(|| entry.clone())
}

fn wait_logged_on(s: &Setup) -> Value {
    wait_until("the logon", Duration::from_secs(20), || {
        s.socket.exists() && hmc_status(&s.socket).is_some_and(|h| h["logged_on"] == true)
    });
    hmc_status(&s.socket).unwrap()
}

fn kill9(child: &mut Child) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread")]
async fn without_persistent_keyrings_a_service_user_alone_still_reuses_its_session_after_sigkills()
{
    if !nix::unistd::geteuid().is_root() {
        assert!(
            std::env::var("HOSTAGENT_REQUIRE_PRIVILEGED").as_deref() != Ok("1"),
            "needs root to run the daemon as a service user"
        );
        eprintln!("SKIPPED: needs root to run the daemon as a service user");
        return;
    }
    let sim = hmcsim::start(HmcSimConfig::default()).await.unwrap();
    let uid = free_uid();
    let s = setup(uid, &sim);
    let mut sessions = Vec::new();
    tokio::task::block_in_place(|| {
        let mut child = spawn_as(uid, &s.config, &s.log);
        let entry = wait_logged_on(&s);
        assert_eq!(entry["keyring"], "user keyring", "{entry}");
        for _ in 0..5 {
            kill9(&mut child);
            assert_eq!(processes_of(uid), 0, "the service user has no process left");
            child = spawn_as(uid, &s.config, &s.log);
            wait_logged_on(&s);
            sessions.push(agent_sessions(&sim));
        }
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        assert!(child.wait().unwrap().success());
    });
    let log = std::fs::read_to_string(&s.log).unwrap_or_default();
    assert!(
        log.contains("HOSTAGENT_TEST_NO_PERSISTENT_KEYRING=1: TEST MODE"),
        "the test mode says so loudly: {log}"
    );
    eprintln!(
        "agent sessions on the HMC after each of 5 SIGKILL/restart rounds: {sessions:?}; after SIGTERM: {}; logons: {}",
        agent_sessions(&sim),
        sim.issued_tokens().len()
    );
    // Each restart reuses the first run's session: the user keyring outlived the uid's last
    // process, and the daemon links it into its own thread keyring to read the key (without
    // that link it found the key but could not read it: [2, 3, 4, 5, 6]).
    assert_eq!(sessions, vec![1; 5], "{log}");
    assert_eq!(sim.issued_tokens().len(), 1, "one logon in six runs");
    assert_eq!(agent_sessions(&sim), 0, "logged off at SIGTERM");
    drop(s.dir);
    sim.shutdown().await;
}
