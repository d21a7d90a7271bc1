//! A `hostagentd` serving HMCs (hmcsim) for a test: config with one `[[hmc]]` table per
//! simulator (certificate pinned, credentials in a 0600 file, optionally its own loopback
//! listener), a client for the socket and one for the listener, and waits on the daemon's
//! status and the simulator's ground truth.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const LOGON: &str = "/rest/api/web/Logon";
pub const LOGON_REQUEST: &str = "application/vnd.ibm.powervm.web+xml; type=LogonRequest";
pub const WEB_NS: &str = "http://www.ibm.com/xmlns/systems/power/firmware/web/mc/2012_10/";

/// One `[[hmc]]` table's test values.
pub struct HmcSpec {
    pub name: String,
    pub endpoint: String,
    pub fingerprint: String,
    /// `Some`: a loopback listener for this HMC.
    pub listen: Option<std::net::SocketAddr>,
}

impl HmcSpec {
    pub fn of(name: &str, sim: &hmcsim::HmcSimHandle, listen: bool) -> HmcSpec {
        HmcSpec {
            name: name.into(),
            endpoint: sim.base_url(),
            fingerprint: sim.cert_sha256(),
            listen: listen.then(free_loopback),
        }
    }
}

/// A free port on 127.0.0.3 (bound and released: the daemon binds it next).
pub fn free_loopback() -> std::net::SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.3:0").unwrap();
    l.local_addr().unwrap()
}

pub struct HmcDaemon {
    pub child: Child,
    pub socket: PathBuf,
    pub config: PathBuf,
    pub dir: tempfile::TempDir,
}

impl Drop for HmcDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `[bmc] transport = "none"`, one `[[hmc]]` per spec, all with the account `hscroot` /
/// `abc123`; `extra` is appended to the main file.
pub fn start(specs: &[HmcSpec], extra: &str) -> HmcDaemon {
    start_with(specs, extra, "abc123", &[], None)
}

/// [`start`] with the account's password, the daemon's environment, and optionally a wrapper
/// command (strace) with its arguments before hostagentd's.
pub fn start_with(
    specs: &[HmcSpec],
    extra: &str,
    password: &str,
    env: &[(&str, &str)],
    wrapper: Option<(&str, Vec<String>)>,
) -> HmcDaemon {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let creds = dir.path().join("hmc-creds");
    std::fs::create_dir(&creds).unwrap();
    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o700)).unwrap();
    let password = format!("{password}\n");
    for (name, value) in [
        ("hmc-username", "hscroot\n"),
        ("hmc-password", password.as_str()),
    ] {
        std::fs::write(creds.join(name), value).unwrap();
        std::fs::set_permissions(creds.join(name), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let socket = dir.path().join("run/agent.sock");
    let mut text = format!(
        "[bmc]\ntransport = \"none\"\n[api]\nsocket = \"{}\"\nreader_group = \"root\"\n[state]\nmemory_only = true\n{extra}\n",
        socket.display()
    );
    for s in specs {
        text.push_str(&table(s, &creds));
    }
    let config = dir.path().join("hostagent.toml");
    std::fs::write(&config, text).unwrap();
    let log = dir.path().join("hostagentd.log");
    let child = spawn_with(&config, &socket, &log, env, wrapper);
    HmcDaemon {
        child,
        socket,
        config,
        dir,
    }
}

/// One `[[hmc]]` table for `s`, its account in `creds`.
pub fn table(s: &HmcSpec, creds: &Path) -> String {
    let tls = if s.fingerprint.is_empty() {
        "tls = \"tofu\"\n".to_string()
    } else {
        format!("tls = \"pin\"\nfingerprint = \"{}\"\n", s.fingerprint)
    };
    let mut text = format!(
        "[[hmc]]\nname = \"{}\"\nendpoint = \"{}\"\n{tls}credentials_dir = \"{}\"\n",
        s.name,
        s.endpoint,
        creds.display()
    );
    if let Some(l) = s.listen {
        text.push_str(&format!("listen = \"{l}\"\n"));
    }
    text
}

fn spawn(config: &Path, socket: &Path, log: &Path) -> Child {
    spawn_with(config, socket, log, &[], None)
}

fn spawn_with(
    config: &Path,
    socket: &Path,
    log: &Path,
    env: &[(&str, &str)],
    wrapper: Option<(&str, Vec<String>)>,
) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let _ = std::fs::remove_file(socket);
    let daemon = env!("CARGO_BIN_EXE_hostagentd");
    let mut cmd = match &wrapper {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(daemon);
            c
        }
        None => Command::new(daemon),
    };
    let child = cmd
        .arg("--config")
        .arg(config)
        .envs(env.iter().copied())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !socket.exists() {
        assert!(
            Instant::now() < deadline,
            "hostagentd did not bind its socket"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

impl HmcDaemon {
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("hostagentd.log")).unwrap_or_default()
    }

    pub fn pid(&self) -> nix::unistd::Pid {
        nix::unistd::Pid::from_raw(self.child.id() as i32)
    }

    pub fn kill9(&mut self) {
        nix::sys::signal::kill(self.pid(), nix::sys::signal::Signal::SIGKILL).unwrap();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait for the exit (the daemon logs off first).
    pub fn stop(&mut self) -> std::process::ExitStatus {
        nix::sys::signal::kill(self.pid(), nix::sys::signal::Signal::SIGTERM).unwrap();
        self.child.wait().unwrap()
    }

    /// Writes `conf.d/<file>` beside the main config with `text`.
    pub fn write_dropin(&self, file: &str, text: &str) {
        let dir = self.dir.path().join("conf.d");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(file), text).unwrap();
    }

    pub fn remove_dropin(&self, file: &str) {
        std::fs::remove_file(self.dir.path().join("conf.d").join(file)).unwrap();
    }

    /// The `[[hmc]]` table of `spec` with this daemon's test account.
    pub fn table(&self, spec: &HmcSpec) -> String {
        table(spec, &self.dir.path().join("hmc-creds"))
    }

    /// SIGHUP (`systemctl reload`), and wait until the daemon has logged the `n`th reload's
    /// outcome (applied, or the config refused).
    pub fn reload(&self, n: usize) {
        nix::sys::signal::kill(self.pid(), nix::sys::signal::Signal::SIGHUP).unwrap();
        let done = |log: &str| {
            log.matches("reload: [[hmc]] tables applied").count()
                + log
                    .matches("reload: the configuration does not load")
                    .count()
        };
        wait_until("the reload", Duration::from_secs(30), || {
            done(&self.log()) >= n
        });
    }

    pub fn restart(&mut self) {
        self.child = spawn(
            &self.config,
            &self.socket,
            &self.dir.path().join("hostagentd.log"),
        );
    }

    pub fn agentctl(&self, args: &[&str]) -> (Option<i32>, Value, String) {
        super::daemon::agentctl(&self.socket, args)
    }

    pub fn status(&self) -> Value {
        let (code, v, err) = self.agentctl(&["status"]);
        assert_eq!(code, Some(0), "status: {v} {err}");
        v
    }

    /// Polls status until `done(hmc entry)` holds for HMC `name`, at most 20 s.
    pub fn wait_hmc(&self, name: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (code, v, _) = self.agentctl(&["status"]);
            let entry = v["hmc"]
                .as_array()
                .and_then(|a| a.iter().find(|h| h["name"] == name).cloned());
            if let (Some(0), Some(e)) = (code, &entry) {
                if done(e) {
                    return e.clone();
                }
            }
            assert!(Instant::now() < deadline, "HMC {name} never got there: {v}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn wait_logged_on(&self, name: &str) -> Value {
        self.wait_hmc(name, |h| h["logged_on"] == true)
    }

    /// One request on the socket: (status, headers, body).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, Vec<(String, String)>, String) {
        socket_request(&self.socket, method, path, headers, body)
    }
}

/// An HTTP/1.1 request on a Unix socket, `Connection: close`.
pub fn socket_request(
    socket: &Path,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Vec<(String, String)>, String) {
    use std::io::{Read, Write};
    let mut s = std::os::unix::net::UnixStream::connect(socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, body.to_string())
}

pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// pypowervm's LogonRequest.
pub fn logon_body(user: &str, password: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
         <LogonRequest xmlns=\"{WEB_NS}\" schemaVersion=\"V1_0\">\n  \
         <Metadata>\n    <Atom/>\n  </Metadata>\n  <UserID>{user}</UserID>\n  <Password>{password}</Password>\n\
         </LogonRequest>"
    )
}

/// The `X-API-Session` of a `LogonResponse`.
pub fn token_of(body: &str) -> Option<String> {
    let start = body.find("<X-API-Session")?;
    let start = start + body[start..].find('>')? + 1;
    let end = start + body[start..].find("</X-API-Session>")?;
    Some(body[start..end].to_string())
}

/// A reqwest client for the daemon's (self-signed) HMC listener.
pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .no_proxy()
        .build()
        .unwrap()
}

/// The agent's sessions on the simulator (its audit memento is `hostagent`).
pub fn agent_sessions(sim: &hmcsim::HmcSimHandle) -> usize {
    sim.sessions()
        .iter()
        .filter(|s| s.audit_memento.as_deref() == Some("hostagent"))
        .count()
}

/// Polls until `cond` holds, at most `within`.
pub fn wait_until(what: &str, within: Duration, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + within;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
