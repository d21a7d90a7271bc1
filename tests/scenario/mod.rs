//! One full hostagentd scenario, shared by the secret-leak and memory-only tests: credentials
//! and config in a temp dir, the daemon started by the caller's command (plain, under strace,
//! or in a private mount namespace) with trace logging, and agentctl driving status, list,
//! clean, a lease, `run`, a raw GET and a proxied request.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bmcsim::{Kind as SimKind, SimHandle};
use serde_json::Value;

/// The files of one daemon run. `dir` is what the agent may see; `logs` is the test's own.
pub struct Setup {
    pub dir: tempfile::TempDir,
    pub logs: tempfile::TempDir,
    pub config: PathBuf,
    pub socket: PathBuf,
    pub state: PathBuf,
    pub creds: PathBuf,
}

/// Credentials (0600), a config with a TOFU-trusted endpoint (so default mode writes
/// pins.json), the socket under `run/`, the state dir `state/` (made here, as systemd's
/// `StateDirectory=` would).
pub fn setup(sim: &SimHandle, password: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let creds = dir.path().join("creds");
    std::fs::create_dir(&creds).unwrap();
    for (name, value) in [
        ("bmc-username", "admin\n".to_string()),
        ("bmc-password", format!("{password}\n")),
    ] {
        std::fs::write(creds.join(name), value).unwrap();
        std::fs::set_permissions(creds.join(name), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    let socket = dir.path().join("run/agent.sock");
    let config = dir.path().join("hostagent.toml");
    let text = format!(
        "[bmc]\nendpoint = \"{}\"\ntls = \"tofu\"\ncredentials_dir = \"{}\"\n[api]\nsocket = \"{}\"\nreader_group = \"root\"\n[reaper]\ninterval = \"1h\"\n[state]\ndir = \"{}\"\n",
        sim.base_url(), creds.display(), socket.display(), state.display()
    );
    std::fs::write(&config, text).unwrap();
    Setup {
        dir,
        logs,
        config,
        socket,
        state,
        creds,
    }
}

impl Setup {
    pub fn stdout_path(&self) -> PathBuf {
        self.logs.path().join("hostagentd.stdout")
    }

    pub fn stderr_path(&self) -> PathBuf {
        self.logs.path().join("hostagentd.stderr")
    }

    /// Starts `cmd` (which runs hostagentd) at trace level, its output in `logs`.
    pub fn spawn(&self, mut cmd: Command) -> Child {
        let out = std::fs::File::create(self.stdout_path()).unwrap();
        let err = std::fs::File::create(self.stderr_path()).unwrap();
        cmd.env("HOSTAGENT_LOG", "trace")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap()
    }

    pub fn daemon_output(&self) -> (String, String) {
        let read = |p: PathBuf| {
            String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned()
        };
        (read(self.stdout_path()), read(self.stderr_path()))
    }
}

/// hostagentd with `--config` and trace logging (`-vv`; `HOSTAGENT_LOG=trace` is set too).
pub fn hostagentd_args(setup: &Setup) -> Vec<String> {
    vec![
        env!("CARGO_BIN_EXE_hostagentd").into(),
        "-vv".into(),
        "--config".into(),
        setup.config.display().to_string(),
    ]
}

/// One agentctl invocation and what it printed.
#[derive(Debug)]
pub struct Ran {
    pub args: Vec<String>,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or(Value::Null)
    }

    fn ok(self) -> Ran {
        assert_eq!(self.code, Some(0), "{self:?}");
        self
    }
}

pub fn run(program: &str, args: &[&str]) -> Ran {
    let out = Command::new(program)
        .args(args)
        .env("HOSTAGENT_LOG", "trace")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    Ran {
        args: args.iter().map(|s| s.to_string()).collect(),
        code: out.status.code(),
        stdout: text(&out.stdout),
        stderr: text(&out.stderr),
    }
}

pub fn agentctl(socket: &Path, args: &[&str]) -> Ran {
    let mut all = vec!["--socket", socket.to_str().unwrap(), "--json", "-vvv"];
    all.extend_from_slice(args);
    run(env!("CARGO_BIN_EXE_agentctl"), &all)
}

/// Waits until the daemon has logged in and answers `status` (slow under strace).
pub fn wait_ready(socket: &Path, daemon: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if agentctl(socket, &["status"]).code == Some(0) {
            return;
        }
        if let Ok(Some(status)) = daemon.try_wait() {
            panic!("hostagentd exited before it was ready: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "hostagentd never answered status"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// status, list, clean (after a leak of 3 idle in-band sessions), lease open/list/close,
/// `run -- true`, a raw GET and a proxied GET. Returns every agentctl run and curl's.
pub fn drive(sim: &SimHandle, socket: &Path) -> Vec<Ran> {
    let mut ran = vec![
        agentctl(socket, &["status"]).ok(),
        agentctl(socket, &["list"]).ok(),
    ];
    sim.leak(3, SimKind::RestHost, None);
    sim.advance_clock(20 * 60);
    let clean = agentctl(socket, &["clean"]).ok();
    assert_eq!(
        clean.json()["deleted"].as_array().map(Vec::len),
        Some(3),
        "{clean:?}"
    );
    ran.push(clean);
    let open = agentctl(socket, &["session", "open", "--ttl", "5m"]).ok();
    let id = open.json()["id"].as_str().expect("lease id").to_string();
    ran.push(open);
    ran.push(agentctl(socket, &["session", "list"]).ok());
    ran.push(agentctl(socket, &["session", "close", &id]).ok());
    ran.push(agentctl(socket, &["run", "--", "true"]).ok());
    // Raw Redfish through the agent goes by the local proxy.
    let get = agentctl(socket, &["get", "/redfish/v1/Systems/1/"]).ok();
    assert_eq!(get.json()["Id"], "1", "{get:?}");
    ran.push(get);
    if crate::common::require(have("curl"), "curl, for the proxied requests") {
        ran.extend(proxy_session(socket));
    }
    ran
}

/// A client's visit through the proxy with curl on the socket: a virtual login, a GET with its
/// token, a logout.
pub fn proxy_session(socket: &Path) -> Vec<Ran> {
    let sock = socket.to_str().unwrap();
    let login = run(
        "curl",
        &[
            "-s",
            "-i",
            "--max-time",
            "30",
            "--unix-socket",
            sock,
            "-H",
            "content-type: application/json",
            "-d",
            r#"{"UserName":"admin","Password":"not-checked"}"#,
            "http://localhost/redfish/v1/SessionService/Sessions/",
        ],
    );
    let header = |name: &str| {
        login.stdout.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    };
    let (token, location) = (
        header("x-auth-token").expect("the proxy's login gives a token"),
        header("location").expect("and a Location"),
    );
    let auth = format!("x-auth-token: {token}");
    let get = run(
        "curl",
        &[
            "-s",
            "-f",
            "--max-time",
            "30",
            "--unix-socket",
            sock,
            "-H",
            &auth,
            "http://localhost/redfish/v1/Systems/1/",
        ],
    );
    assert_eq!(get.code, Some(0), "the proxied GET answered 200: {get:?}");
    let logout = run(
        "curl",
        &[
            "-s",
            "-f",
            "-X",
            "DELETE",
            "--max-time",
            "30",
            "--unix-socket",
            sock,
            "-H",
            &auth,
            &format!("http://localhost{location}"),
        ],
    );
    assert_eq!(
        logout.code,
        Some(0),
        "the virtual logout answered 200: {logout:?}"
    );
    vec![login, get, logout]
}

/// Sends SIGTERM to `pid` (a process this test started) and waits for `child` to end.
pub fn terminate(pid: i32, child: &mut Child) -> std::process::ExitStatus {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("hostagentd did not stop within 30 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether a program is on PATH.
pub fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Waits up to `limit` for `child` to end by itself; kills it and fails the test otherwise.
pub fn terminate_after(limit: Duration, child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("the process did not end within {limit:?}");
}
