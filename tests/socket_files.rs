//! The API socket and the directories the daemon trusts, as a real hostagentd leaves them:
//! the socket belongs to `api.reader_group` (a non-root member connects), a missing socket
//! directory is made 0750 whatever the umask, and a socket, state or credentials directory
//! that others could write to is refused at start, naming the path and the mode.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bmcsim::Profile;

/// nobody / nogroup: a real unprivileged user whose primary group is the reader group here.
const NOBODY: u32 = 65534;

struct Files {
    dir: tempfile::TempDir,
    config: PathBuf,
    socket: PathBuf,
    state: PathBuf,
    creds: PathBuf,
}

/// Config, credentials and state in a 0755 temp dir; the socket in `run/`, not made yet.
fn files(sim: &bmcsim::SimHandle, reader_group: &str) -> Files {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let creds = common::daemon::write_creds(dir.path());
    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o700)).unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700)).unwrap();
    let socket = dir.path().join("run/agent.sock");
    let config = dir.path().join("hostagent.toml");
    std::fs::write(
        &config,
        format!(
            "[bmc]\nendpoint = \"{}\"\ntls = \"pin\"\nfingerprint = \"{}\"\ncredentials_dir = \"{}\"\n[api]\nsocket = \"{}\"\nreader_group = \"{reader_group}\"\n[state]\ndir = \"{}\"\n",
            sim.base_url(), sim.cert_sha256(), creds.display(), socket.display(), state.display()
        ),
    )
    .unwrap();
    Files {
        dir,
        config,
        socket,
        state,
        creds,
    }
}

/// hostagentd under `umask`, stderr into `DIR/stderr`.
fn spawn(f: &Files, umask: u32) -> Child {
    let err = std::fs::File::create(f.dir.path().join("stderr")).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hostagentd"));
    cmd.arg("--config")
        .arg(&f.config)
        .stdout(Stdio::null())
        .stderr(err);
    // SAFETY: umask is async-signal-safe and cannot fail.
    unsafe {
        cmd.pre_exec(move || {
            libc::umask(umask as libc::mode_t);
            Ok(())
        });
    }
    cmd.spawn().unwrap()
}

fn stderr(f: &Files) -> String {
    std::fs::read_to_string(f.dir.path().join("stderr")).unwrap_or_default()
}

/// Waits (bounded) until `check` holds or the daemon exits.
fn wait_for(child: &mut Child, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("hostagentd exited ({status}) before {what}");
        }
        assert!(Instant::now() < deadline, "never: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

fn agentctl_as_nobody(socket: &Path) -> (Option<i32>, String) {
    let out = Command::new("setpriv")
        .args([
            format!("--reuid={NOBODY}"),
            format!("--regid={NOBODY}"),
            "--clear-groups".into(),
            "--".into(),
        ])
        .arg(env!("CARGO_BIN_EXE_agentctl"))
        .arg("--socket")
        .arg(socket)
        .args(["--json", "status"])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_non_root_member_of_the_reader_group_can_use_the_socket() {
    if !common::require(common::is_root(), "root (to run agentctl as nobody)") {
        return;
    }
    let sim = common::sim(Profile::Ilo6).await;
    let f = files(&sim, "nogroup");
    // The shipped unit's UMask=0077.
    let child = spawn(&f, 0o077);
    let socket = f.socket.clone();
    let answered = tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (code, text) = agentctl_as_nobody(&socket);
            if code == Some(0) || Instant::now() > deadline {
                return (code, text);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    })
    .await
    .unwrap();
    let meta = std::fs::metadata(&f.socket).unwrap();
    let run_dir = std::fs::metadata(f.socket.parent().unwrap()).unwrap();
    stop(child);
    assert_eq!(
        answered.0,
        Some(0),
        "nobody (group nogroup) reads: {answered:?}"
    );
    assert_eq!(meta.gid(), NOBODY, "the socket belongs to the reader group");
    assert_eq!(meta.mode() & 0o777, 0o660);
    assert_eq!(run_dir.gid(), NOBODY, "so does the directory it made");
    assert_eq!(run_dir.mode() & 0o7777, 0o750);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_socket_directory_is_made_0750_under_umask_000() {
    let sim = common::sim(Profile::Ilo6).await;
    let f = files(&sim, "root");
    let mut child = spawn(&f, 0o000);
    let socket = f.socket.clone();
    wait_for(&mut child, "the socket is bound", || socket.exists());
    let dir_mode = std::fs::metadata(f.socket.parent().unwrap())
        .unwrap()
        .mode()
        & 0o7777;
    let sock_mode = std::fs::metadata(&f.socket).unwrap().mode() & 0o777;
    stop(child);
    assert_eq!(dir_mode, 0o750, "not world-writable whatever the umask");
    assert_eq!(sock_mode, 0o660);
    sim.shutdown().await;
}

/// Starts the daemon on `f` and expects it to stop at once with an error naming `path` and
/// `words`.
fn assert_refused(f: &Files, path: &Path, words: &str) {
    let mut child = spawn(f, 0o022);
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            stop(child);
            panic!("hostagentd started on {}: {}", path.display(), stderr(f));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = stderr(f);
    assert!(!status.success(), "{text}");
    assert!(
        text.contains(&path.display().to_string()) && text.contains(words),
        "{}: {text}",
        path.display()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn writable_or_foreign_socket_state_and_credentials_directories_are_refused() {
    let sim = common::sim(Profile::Ilo6).await;
    let f = files(&sim, "root");
    let run = f.socket.parent().unwrap().to_path_buf();
    std::fs::create_dir(&run).unwrap();
    std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o777)).unwrap();
    assert_refused(&f, &run, "0777");
    if common::is_root() {
        std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o755)).unwrap();
        nix::unistd::chown(&run, Some(nix::unistd::Uid::from_raw(NOBODY)), None).unwrap();
        assert_refused(&f, &run, "uid 65534");
        nix::unistd::chown(&run, Some(nix::unistd::Uid::from_raw(0)), None).unwrap();
    }
    std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o750)).unwrap();

    std::fs::set_permissions(&f.state, std::fs::Permissions::from_mode(0o777)).unwrap();
    assert_refused(&f, &f.state, "0777");
    std::fs::set_permissions(&f.state, std::fs::Permissions::from_mode(0o700)).unwrap();

    std::fs::set_permissions(&f.creds, std::fs::Permissions::from_mode(0o777)).unwrap();
    assert_refused(&f, &f.creds, "0777");
    std::fs::set_permissions(&f.creds, std::fs::Permissions::from_mode(0o700)).unwrap();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reader_group_that_does_not_exist_is_a_clear_error() {
    let sim = common::sim(Profile::Ilo6).await;
    let f = files(&sim, "hostagent-no-such-group");
    let mut child = spawn(&f, 0o022);
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            stop(child);
            panic!("started without its reader group: {}", stderr(&f));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let text = stderr(&f);
    assert!(
        text.contains("api.reader_group `hostagent-no-such-group` does not exist"),
        "{text}"
    );
    sim.shutdown().await;
}
