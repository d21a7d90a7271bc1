//! A `hostagentd` process started for a test against a bmcsim: its own temporary directory
//! holds the config, credentials, socket and state dir, so that it can be killed and started
//! again on the same state. Only the PID it started is ever signalled.
//!
//! Every test's daemon is set up by one [`Launch`] (state dir or memory-only, environment,
//! state files, stderr in `hostagentd.log`); [`Daemon::start`], [`start_daemon`] and
//! [`started`] are its short forms. Waits are on events: [`wait_ready`] (status answers),
//! [`wait_cycles`] (reaper cycles done, from status).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Daemon {
    pub child: Child,
    pub socket: PathBuf,
    pub state: PathBuf,
    pub config: PathBuf,
    /// The environment it was started with (again at a restart).
    pub env: Vec<(String, String)>,
    /// The command it runs under, if any (again at a restart).
    pub wrapper: Vec<String>,
    /// The hostagentd binary (the build's own unless [`Launch::program`] named another).
    pub program: String,
    pub dir: tempfile::TempDir,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Called on the state dir before the start.
type Setup<'a> = Box<dyn FnOnce(&Path) + 'a>;

/// How a test's daemon is set up.
pub struct Launch<'a> {
    sim: &'a bmcsim::SimHandle,
    extra: String,
    memory_only: bool,
    state_files: Vec<(String, String)>,
    env: Vec<(String, String)>,
    /// Called on the state dir before the start (a test mounts a tiny tmpfs there).
    setup: Option<Setup<'a>>,
    /// A command hostagentd runs under (a bench's valgrind).
    wrapper: Vec<String>,
    program: String,
}

impl<'a> Launch<'a> {
    /// Default mode (a state dir), the endpoint pinned to the simulator, reader group root.
    pub fn new(sim: &'a bmcsim::SimHandle) -> Launch<'a> {
        Launch {
            sim,
            extra: String::new(),
            memory_only: false,
            state_files: Vec::new(),
            env: Vec::new(),
            setup: None,
            wrapper: Vec::new(),
            program: env!("CARGO_BIN_EXE_hostagentd").to_string(),
        }
    }

    /// Runs this hostagentd binary instead of the build's own (the release build's
    /// profile-generating one, for `packaging/pgo-build`'s training run).
    pub fn program(mut self, path: &str) -> Self {
        self.program = path.to_string();
        self
    }

    /// Runs hostagentd as the last argument of `command` (`valgrind --tool=callgrind ...`).
    pub fn wrapped(mut self, command: &[String]) -> Self {
        self.wrapper = command.to_vec();
        self
    }

    pub fn setup(mut self, f: impl FnOnce(&Path) + 'a) -> Self {
        self.setup = Some(Box::new(f));
        self
    }

    /// Test-specific settings, written as a drop-in (as an operator's would be).
    pub fn extra(mut self, toml: &str) -> Self {
        self.extra = toml.to_string();
        self
    }

    pub fn memory_only(mut self) -> Self {
        self.memory_only = true;
        self
    }

    /// A file put in the state dir before the start (a ledger left by a run).
    pub fn state_file(mut self, name: &str, content: &str) -> Self {
        self.state_files.push((name.into(), content.into()));
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Writes the config and starts hostagentd; returns once its socket is bound.
    pub fn start(mut self) -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let creds = write_creds(dir.path());
        let (socket, state) = (dir.path().join("run/agent.sock"), dir.path().join("state"));
        let state_line = if self.memory_only {
            "memory_only = true".to_string()
        } else {
            std::fs::create_dir(&state).unwrap();
            if let Some(setup) = self.setup.take() {
                setup(&state);
            }
            std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700)).unwrap();
            for (name, content) in &self.state_files {
                std::fs::write(state.join(name), content).unwrap();
            }
            format!("dir = \"{}\"", state.display())
        };
        let config = dir.path().join("hostagent.toml");
        let text = format!(
            "[bmc]\nendpoint = \"{}\"\ntls = \"pin\"\nfingerprint = \"{}\"\ncredentials_dir = \"{}\"\n[api]\nsocket = \"{}\"\nreader_group = \"root\"\n[state]\n{state_line}\n",
            self.sim.base_url(), self.sim.cert_sha256(), creds.display(), socket.display()
        );
        std::fs::write(&config, text).unwrap();
        std::fs::create_dir(dir.path().join("conf.d")).unwrap();
        std::fs::write(dir.path().join("conf.d/50-test.toml"), &self.extra).unwrap();
        let log = dir.path().join("hostagentd.log");
        let child = spawn(
            &config,
            &socket,
            &log,
            &self.env,
            command_under(&self.wrapper, &self.program),
        );
        Daemon {
            child,
            socket,
            state,
            config,
            env: self.env,
            wrapper: self.wrapper,
            program: self.program,
            dir,
        }
    }
}

impl Daemon {
    /// Writes the config (endpoint pinned to the simulator, `extra` as a drop-in) and starts.
    pub fn start(sim: &bmcsim::SimHandle, extra: &str) -> Daemon {
        Launch::new(sim).extra(extra).start()
    }

    /// [`Daemon::start`] with files put in the state dir first (a ledger left by a run).
    pub fn start_with_state(
        sim: &bmcsim::SimHandle,
        extra: &str,
        files: &[(&str, &str)],
    ) -> Daemon {
        files
            .iter()
            .fold(Launch::new(sim).extra(extra), |l, (name, content)| {
                l.state_file(name, content)
            })
            .start()
    }

    /// [`Daemon::start`] with `env` for every run and `setup` called on the state dir before
    /// the first (a test mounts a tiny tmpfs there).
    pub fn start_custom<'a>(
        sim: &'a bmcsim::SimHandle,
        extra: &str,
        env: &[(&str, &str)],
        setup: impl FnOnce(&Path) + 'a,
    ) -> Daemon {
        env.iter()
            .fold(Launch::new(sim).extra(extra), |l, (k, v)| l.env(k, v))
            .setup(setup)
            .start()
    }

    pub fn pid(&self) -> nix::unistd::Pid {
        nix::unistd::Pid::from_raw(self.child.id() as i32)
    }

    /// SIGKILL: no logout, no lease closed; then waits for it.
    pub fn kill9(&mut self) {
        nix::sys::signal::kill(self.pid(), nix::sys::signal::Signal::SIGKILL).unwrap();
        let status = self.child.wait().unwrap();
        assert!(!status.success(), "killed by SIGKILL");
    }

    /// SIGTERM, as systemd stops it (logout, leases closed), then waits for it to exit.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        nix::sys::signal::kill(self.pid(), nix::sys::signal::Signal::SIGTERM).unwrap();
        self.child.wait().unwrap()
    }

    /// Starts it again with the same config and state dir.
    pub fn restart(&mut self) {
        let _ = std::fs::remove_file(&self.socket);
        self.child = spawn(
            &self.config,
            &self.socket,
            &self.log_path(),
            &self.env,
            command_under(&self.wrapper, &self.program),
        );
    }

    /// Where every run's stderr goes (appended).
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("hostagentd.log")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    pub fn agentctl(&self, args: &[&str]) -> (Option<i32>, Value, String) {
        agentctl(&self.socket, args)
    }

    /// Opens `n` leases through the daemon's API (bound to the test process); returns their
    /// (id, token, location).
    pub fn open_leases(&self, n: usize) -> Vec<(String, String, String)> {
        (0..n)
            .map(|_| {
                let (code, v, err) = self.agentctl(&["session", "open", "--ttl", "1h"]);
                assert_eq!(code, Some(0), "{v} {err}");
                let field = |k: &str| {
                    v[k].as_str()
                        .unwrap_or_else(|| panic!("{k} in {v}"))
                        .to_string()
                };
                (field("id"), field("token"), field("location"))
            })
            .collect()
    }

    /// The ledger file as JSON.
    pub fn ledger(&self) -> Value {
        let text = std::fs::read_to_string(self.state.join("ledger.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    /// Polls `status` until the daemon has completed `n` reaper cycles, at most `within_s`.
    pub fn wait_reaper_cycles(&self, n: u64, within_s: u64) {
        wait_cycles(&self.socket, n, within_s)
    }

    /// Retries `status` until the daemon has logged in and answers.
    pub fn wait_ready(&self) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (code, v, err) = self.agentctl(&["status"]);
            if code == Some(0) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "status never succeeded: {v} {err}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// `DIR/creds` with the simulator's account (admin / password), files mode 0600.
pub fn write_creds(dir: &Path) -> PathBuf {
    let creds = dir.join("creds");
    std::fs::create_dir(&creds).unwrap();
    for (name, value) in [("bmc-username", "admin\n"), ("bmc-password", "password\n")] {
        std::fs::write(creds.join(name), value).unwrap();
        std::fs::set_permissions(creds.join(name), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    creds
}

/// [`start_daemon`], then [`ready`].
pub async fn started(sim: &bmcsim::SimHandle, extra: &str) -> Daemon {
    ready(start_daemon(sim, extra)).await
}

/// Waits (off the async runtime) until a started daemon has logged in and answers.
pub async fn ready(daemon: Daemon) -> Daemon {
    let socket = daemon.socket.clone();
    tokio::task::spawn_blocking(move || wait_ready(&socket))
        .await
        .unwrap();
    daemon
}

pub fn start_daemon(sim: &bmcsim::SimHandle, extra: &str) -> Daemon {
    start_daemon_with_env(sim, extra, &[])
}

/// A memory-only daemon with extra environment.
pub fn start_daemon_with_env(sim: &bmcsim::SimHandle, extra: &str, env: &[(&str, &str)]) -> Daemon {
    env.iter()
        .fold(Launch::new(sim).extra(extra).memory_only(), |l, (k, v)| {
            l.env(k, v)
        })
        .start()
}

/// The one place a test's hostagentd is started: stderr appended to `log`, socket opened to
/// the test's unprivileged clients once bound.
fn spawn(
    config: &Path,
    socket: &Path,
    log: &Path,
    env: &[(String, String)],
    mut command: Command,
) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let child = command
        .arg("--config")
        .arg(config)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !socket.exists() {
        assert!(
            Instant::now() < deadline,
            "hostagentd did not bind its socket"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::set_permissions(
        socket.parent().unwrap(),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o666)).unwrap();
    child
}

pub fn agentctl(socket: &Path, args: &[&str]) -> (Option<i32>, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_agentctl"))
        .arg("--socket")
        .arg(socket)
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code(),
        v,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Retries until the daemon has logged in and answers (it binds before the BMC answers).
pub fn wait_ready(socket: &Path) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (code, v, err) = agentctl(socket, &["status"]);
        if code == Some(0) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "status never succeeded: {v} {err}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sends raw bytes on the API socket and returns the status line and body.
pub fn raw(socket: &Path, request: &[u8]) -> (String, String) {
    use std::io::{Read, Write};
    let mut s = std::os::unix::net::UnixStream::connect(socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.lines().next().unwrap_or_default().to_string();
    let body = text
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    (status, body)
}

/// One HTTP/1.1 request on the API socket: status, headers, body.
pub async fn unix_request(
    socket: &Path,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, http::HeaderMap, Vec<u8>) {
    use http_body_util::BodyExt;
    let stream = tokio::net::UnixStream::connect(socket)
        .await
        .expect("the API socket accepts");
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let mut req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .body(http_body_util::Full::new(bytes::Bytes::from(
            body.to_string(),
        )))
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    (
        parts.status.as_u16(),
        parts.headers,
        body.collect().await.unwrap().to_bytes().to_vec(),
    )
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls the daemon at `socket` until it has completed `n` reaper cycles (its `status` says),
/// at most `within_s`.
pub fn wait_cycles(socket: &Path, n: u64, within_s: u64) {
    let deadline = Instant::now() + Duration::from_secs(within_s);
    loop {
        let (code, v, err) = agentctl(socket, &["status"]);
        if code == Some(0) && v["reaper_cycles"].as_u64().is_some_and(|c| c >= n) {
            return;
        }
        assert!(Instant::now() < deadline, "no {n} reaper cycles: {v} {err}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `program` as a command, or as the last argument of `wrapper` when there is one
/// (`valgrind --tool=callgrind ...`).
pub fn command_under(wrapper: &[String], program: &str) -> Command {
    match wrapper.split_first() {
        Some((first, args)) => {
            let mut c = Command::new(first);
            c.args(args).arg(program);
            c
        }
        None => Command::new(program),
    }
}
