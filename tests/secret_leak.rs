//! No secret leaks (ARCHITECTURE.md, "Modes and files"): a full scenario at trace level, with the simulator's
//! password and every token it issued known, fails if any of them appears in hostagentd's or
//! agentctl's stdout or stderr, in a journal record, in an error message, or in a file under
//! the agent's directories. The scenario runs with logs on stderr, then (root: a private mount
//! namespace) with logs to a stand-in journal socket, then with a wrong password for the error
//! paths. The one token allowed out is a lease's, in the `session open` reply that hands it
//! to its caller.

mod common;
mod scenario;

use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use bmcsim::{Profile, SimConfig, SimHandle};
use scenario::{Ran, Setup};

/// Text an output channel carried, named for the failure message.
struct Evidence {
    place: String,
    text: String,
}

/// The place of an [`Evidence`] that is a secret to look for, not a text to search.
const SECRET_PLACE: &str = "secret: a virtual session's token";

fn evidence(place: impl Into<String>, text: impl Into<String>) -> Evidence {
    Evidence {
        place: place.into(),
        text: text.into(),
    }
}

fn random(prefix: &str) -> String {
    let bytes: [u8; 24] = rand::random();
    format!("{prefix}{}", hex::encode(bytes))
}

/// What every agentctl run printed; the lease token is cut from `session open`'s reply only.
fn from_runs(label: &str, runs: &[Ran]) -> Vec<Evidence> {
    let mut out = Vec::new();
    for r in runs {
        let mut stdout = r.stdout.clone();
        if r.args.iter().any(|a| a == "open") {
            let token = r.json()["token"]
                .as_str()
                .expect("session open returns the token")
                .to_string();
            assert!(stdout.contains(&token));
            stdout = stdout.replace(&token, "<the lease token, handed to its caller>");
        }
        // A login through the proxy hands its caller a virtual session's token: a secret too.
        let virtual_token = stdout.lines().find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("x-auth-token")
                .then(|| value.trim().to_string())
        });
        if let Some(token) = virtual_token {
            stdout = stdout.replace(&token, "<a virtual session's token, handed to its caller>");
            out.push(evidence(SECRET_PLACE, token));
        }
        out.push(evidence(format!("{label}: stdout of {:?}", r.args), stdout));
        out.push(evidence(
            format!("{label}: stderr of {:?}", r.args),
            r.stderr.clone(),
        ));
    }
    out
}

/// Every regular file under `dir`, credentials excluded (they hold the password by design).
fn files(label: &str, setup: &Setup) -> Vec<Evidence> {
    fn walk(dir: &Path, skip: &Path, out: &mut Vec<Evidence>, label: &str) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            let kind = entry.file_type().unwrap();
            if path == skip {
                continue;
            } else if kind.is_dir() {
                walk(&path, skip, out, label);
            } else if kind.is_file() {
                let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
                out.push(evidence(format!("{label}: file {}", path.display()), text));
            }
        }
    }
    let mut out = Vec::new();
    walk(setup.dir.path(), &setup.creds, &mut out, label);
    out
}

fn daemon_output(label: &str, setup: &Setup) -> Vec<Evidence> {
    let (stdout, stderr) = setup.daemon_output();
    vec![
        evidence(format!("{label}: hostagentd stdout"), stdout),
        evidence(format!("{label}: hostagentd stderr"), stderr),
    ]
}

/// The scenario with hostagentd started by `cmd`, then agentctl --standalone, then SIGTERM.
fn full_run(label: &str, sim: &SimHandle, setup: &Setup, cmd: Command) -> Vec<Evidence> {
    let mut child = setup.spawn(cmd);
    scenario::wait_ready(&setup.socket, &mut child);
    let mut runs = scenario::drive(sim, &setup.socket);
    // An error message from the API.
    runs.push(scenario::agentctl(
        &setup.socket,
        &["session", "close", "no-such-lease"],
    ));
    assert_ne!(runs.last().unwrap().code, Some(0), "{:?}", runs.last());
    let config = setup.config.to_str().unwrap();
    runs.push(scenario::run(
        env!("CARGO_BIN_EXE_agentctl"),
        &[
            "--standalone",
            "--config",
            config,
            "--json",
            "-vvv",
            "status",
        ],
    ));
    assert_eq!(runs.last().unwrap().code, Some(0), "{:?}", runs.last());
    let status = scenario::terminate(child.id() as i32, &mut child);
    assert!(
        status.success(),
        "{label}: hostagentd stopped cleanly: {status}"
    );
    let mut out = from_runs(label, &runs);
    out.extend(daemon_output(label, setup));
    out.extend(files(label, setup));
    out
}

/// A datagram socket standing in for journald's, drained by a thread until stopped. Records
/// too large for a datagram come as a memfd (SCM_RIGHTS): those are read too.
struct Journal {
    dir: tempfile::TempDir,
    stop: Arc<AtomicBool>,
    reader: std::thread::JoinHandle<Vec<Vec<u8>>>,
}

impl Journal {
    fn start() -> Journal {
        let dir = tempfile::tempdir().unwrap();
        let socket = UnixDatagram::bind(dir.path().join("socket")).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let reader = std::thread::spawn(move || {
            let mut records = Vec::new();
            while !flag.load(Ordering::SeqCst) {
                records.extend(receive(&socket));
            }
            while let Some(r) = receive(&socket) {
                records.push(r);
            }
            records
        });
        Journal { dir, stop, reader }
    }

    fn finish(self) -> Vec<Vec<u8>> {
        self.stop.store(true, Ordering::SeqCst);
        let records = self.reader.join().unwrap();
        drop(self.dir);
        records
    }
}

fn receive(socket: &UnixDatagram) -> Option<Vec<u8>> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    let mut buf = vec![0u8; 1 << 20];
    let mut cmsg = nix::cmsg_space!([std::os::fd::RawFd; 4]);
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let msg = recvmsg::<()>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut cmsg),
        MsgFlags::empty(),
    )
    .ok()?;
    let mut record = Vec::new();
    for c in msg.cmsgs().into_iter().flatten() {
        if let ControlMessageOwned::ScmRights(fds) = c {
            for fd in fds {
                // SAFETY: the kernel just gave us this descriptor; we own it.
                let mut file = unsafe { std::fs::File::from_raw_fd(fd) };
                use std::io::{Read, Seek};
                let _ = file.seek(std::io::SeekFrom::Start(0));
                let _ = file.read_to_end(&mut record);
            }
        }
    }
    let n = msg.bytes;
    record.extend_from_slice(&buf[..n]);
    Some(record)
}

/// The scenario with hostagentd logging to the stand-in journal (private mount namespace).
fn journal_run(sim: &SimHandle, password: &str) -> Vec<Evidence> {
    let setup = scenario::setup(sim, password);
    let journal = Journal::start();
    let script = format!(
        "mount --make-rprivate / && mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/journal && mount --bind {} /run/systemd/journal && \
         export JOURNAL_STREAM=$(stat -L -c '%d:%i' /proc/self/fd/2) && exec \"$@\"",
        journal.dir.path().display()
    );
    let mut cmd = Command::new("unshare");
    cmd.args(["-m", "sh", "-c", &script, "sh"])
        .args(scenario::hostagentd_args(&setup));
    let mut out = full_run("journald", sim, &setup, cmd);
    let records = journal.finish();
    assert!(
        records.len() > 20,
        "the journal received the trace records ({} records)",
        records.len()
    );
    for (i, r) in records.iter().enumerate() {
        out.push(evidence(
            format!("journald: record {i}"),
            String::from_utf8_lossy(r),
        ));
    }
    out
}

/// A wrong password: the daemon's and agentctl's error messages.
fn failed_login_run(sim: &SimHandle, wrong: &str) -> Vec<Evidence> {
    let setup = scenario::setup(sim, wrong);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hostagentd"));
    cmd.args(&scenario::hostagentd_args(&setup)[1..]);
    let mut child = setup.spawn(cmd);
    let status = scenario::terminate_after(Duration::from_secs(30), &mut child);
    assert!(
        !status.success(),
        "a refused login ends hostagentd with an error"
    );
    let (_, stderr) = setup.daemon_output();
    assert!(
        stderr.contains("hostagentd:"),
        "the error is printed: {stderr}"
    );
    let config = setup.config.to_str().unwrap();
    let standalone = scenario::run(
        env!("CARGO_BIN_EXE_agentctl"),
        &[
            "--standalone",
            "--config",
            config,
            "--json",
            "-vvv",
            "status",
        ],
    );
    assert_ne!(standalone.code, Some(0), "{standalone:?}");
    assert!(
        standalone.json()["error"]["message"].is_string(),
        "{standalone:?}"
    );
    let mut out = from_runs("wrong password", &[standalone]);
    out.extend(daemon_output("wrong password", &setup));
    out.extend(files("wrong password", &setup));
    out
}

#[test]
fn no_password_or_token_reaches_any_output_log_journal_or_file() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (password, wrong) = (random("pw-"), random("wrong-pw-"));
    let cfg = SimConfig {
        profile: Profile::Ilo5,
        password: password.clone(),
        max_sessions: Some(64),
        ..SimConfig::default()
    };
    let sim = runtime.block_on(common::sim_with(cfg));

    let setup = scenario::setup(&sim, &password);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hostagentd"));
    cmd.args(&scenario::hostagentd_args(&setup)[1..]);
    let mut all = full_run("stderr", &sim, &setup, cmd);
    let stderr = &all
        .iter()
        .find(|e| e.place == "stderr: hostagentd stderr")
        .unwrap()
        .text;
    assert!(stderr.contains("TRACE"), "hostagentd logged at trace level");

    if common::require(
        common::is_root() && scenario::have("unshare"),
        "root and unshare, for the stand-in journal socket",
    ) {
        all.extend(journal_run(&sim, &password));
    }
    all.extend(failed_login_run(&sim, &wrong));

    let mut secrets = vec![password.clone(), wrong.clone()];
    for pw in [&password, &wrong] {
        secrets.push(base64::engine::general_purpose::STANDARD.encode(format!("admin:{pw}")));
    }
    let tokens = sim.issued_tokens();
    assert!(
        tokens.len() >= 10,
        "the agent's sessions, the leases' and the leaked ones: {}",
        tokens.len()
    );
    secrets.extend(tokens);
    let virtual_tokens: Vec<String> = all
        .iter()
        .filter(|e| e.place == SECRET_PLACE)
        .map(|e| e.text.clone())
        .collect();
    assert!(
        !virtual_tokens.is_empty(),
        "the scenario logged in through the proxy"
    );
    secrets.extend(virtual_tokens);
    let leaks: Vec<String> = all
        .iter()
        .filter(|e| e.place != SECRET_PLACE)
        .flat_map(|e| {
            secrets
                .iter()
                .enumerate()
                .filter(|(_, s)| e.text.contains(s.as_str()))
                .map(move |(i, _)| format!("secret #{i} in {}", e.place))
        })
        .collect();
    assert!(leaks.is_empty(), "secrets leaked (#0 password, #1 wrong password, #2/#3 Basic, #4.. BMC tokens, then virtual tokens):\n{}", leaks.join("\n"));
    runtime.block_on(sim.shutdown());
}
