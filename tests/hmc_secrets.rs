//! The HMC's password and tokens stay secret: a scenario at trace level — logon, reads on the
//! socket and the listener, clients' virtual logons, a SIGKILL and a restart that reuses the
//! token from the kernel keyring, an HMC refusing the password, SIGTERM — and neither the
//! password, nor any token the HMC issued, nor any virtual token handed to a client appears in
//! hostagentd's log, agentctl's output or any file under the daemon's directory. And in
//! memory-only mode the same daemon, under strace, changes no file but its socket (the token
//! it keeps between runs is in the kernel keyring, which is kernel memory, not a file).

mod common;
#[path = "memory_only/trace.rs"]
mod trace;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::hmc::{
    client, logon_body, start_with, token_of, HmcDaemon, HmcSpec, LOGON, LOGON_REQUEST,
};
use hmcsim::HmcSimConfig;

const PASSWORD: &str = "Hm9-secret-&<pw>";
const FEED: &str = "/rest/api/uom/ManagedSystem";

fn xml_escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Every regular file under `dir` but the credentials directory, with its text.
fn files(dir: &Path, skip: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.starts_with(skip) {
            continue;
        }
        if path.is_dir() {
            files(&path, skip, out);
        } else if path.is_file() {
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            out.push((path.display().to_string(), text));
        }
    }
}

/// A client's logon, a read and (not always) its logoff through the listener; the virtual
/// token it was handed.
async fn client_round(base: &str, logoff: bool) -> String {
    let c = client();
    let r = c
        .put(format!("{base}{LOGON}"))
        .header("Content-Type", LOGON_REQUEST)
        .body(logon_body("hscroot", &xml_escaped(PASSWORD)))
        .send()
        .await
        .unwrap();
    let token = token_of(&r.text().await.unwrap()).unwrap();
    let feed = c
        .get(format!("{base}{FEED}"))
        .header("X-API-Session", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(feed.status(), 200);
    if logoff {
        let off = c
            .delete(format!("{base}{LOGON}"))
            .header("X-API-Session", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(off.status(), 204);
    }
    token
}

#[tokio::test(flavor = "multi_thread")]
async fn no_hmc_password_or_token_reaches_a_log_an_output_or_a_file() {
    let sim = hmcsim::start(HmcSimConfig {
        password: PASSWORD.into(),
        ..HmcSimConfig::default()
    })
    .await
    .unwrap();
    let refusing = hmcsim::start(HmcSimConfig::default()).await.unwrap();
    let spec = HmcSpec::of("lab", &sim, true);
    let base = format!("https://{}", spec.listen.unwrap());
    let specs = [spec, HmcSpec::of("refusing", &refusing, false)];
    let mut d = start_with(&specs, "", PASSWORD, &[("HOSTAGENT_LOG", "trace")], None);
    let mut outputs = Vec::new();
    tokio::task::block_in_place(|| {
        d.wait_logged_on("lab");
        d.wait_hmc("refusing", |h| h["last_error"].is_string());
    });
    let mut virtual_tokens = vec![
        client_round(&base, true).await,
        client_round(&base, false).await,
    ];
    tokio::task::block_in_place(|| {
        d.kill9();
        d.restart();
        d.wait_logged_on("lab");
        for args in [
            &["status"][..],
            &["hmc", "get", "lab", "uom/ManagedSystem"],
            &["hmc", "get", "refusing", "uom/ManagedSystem"],
        ] {
            let (_, v, err) = d.agentctl(args);
            outputs.push((format!("agentctl {args:?}"), format!("{v} {err}")));
        }
        let (_, _, body) = d.request(
            "GET",
            &format!("/hmc/lab{FEED}"),
            &[("X-API-Session", "bogus")],
            "",
        );
        outputs.push(("a 401 body".into(), body));
    });
    virtual_tokens.push(client_round(&base, false).await);
    tokio::task::block_in_place(|| assert!(d.stop().success()));
    outputs.push(("hostagentd's log (trace level)".into(), d.log()));
    files(d.dir.path(), &d.dir.path().join("hmc-creds"), &mut outputs);
    let mut secrets: Vec<(String, String)> = vec![
        ("the HMC password".into(), PASSWORD.into()),
        (
            "the HMC password, XML-escaped".into(),
            xml_escaped(PASSWORD),
        ),
    ];
    for t in sim
        .issued_tokens()
        .into_iter()
        .chain(refusing.issued_tokens())
    {
        secrets.push(("a token the HMC issued".into(), t));
    }
    for t in virtual_tokens {
        secrets.push(("a virtual token handed to a client".into(), t));
    }
    assert!(
        sim.issued_tokens().len() == 1,
        "the restart reused the token"
    );
    assert!(
        d.log().contains("TRACE") || d.log().contains("DEBUG"),
        "trace level was on"
    );
    for (place, text) in &outputs {
        for (what, secret) in &secrets {
            assert!(!text.contains(secret.as_str()), "{what} in {place}");
        }
    }
    sim.shutdown().await;
    refusing.shutdown().await;
}

/// The hostagentd strace started (its child).
fn traced_pid(strace: u32) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
            if ppid == Some(strace) && stat.contains("(hostagentd)") {
                if let Some(pid) = entry.file_name().to_str().and_then(|p| p.parse().ok()) {
                    return pid;
                }
            }
        }
        assert!(Instant::now() < deadline, "strace started no hostagentd");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn terminate(d: &mut HmcDaemon) {
    let pid = nix::unistd::Pid::from_raw(traced_pid(d.child.id()));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    assert!(d.child.wait().unwrap().success(), "{}", d.log());
}

#[tokio::test(flavor = "multi_thread")]
async fn in_memory_only_mode_an_hmc_daemon_changes_no_file_but_its_socket() {
    let works = Command::new("strace")
        .args(["-qq", "-o", "/dev/null", "--", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !common::require(
        works,
        "strace, able to trace, for the file system calls of the agent",
    ) {
        return;
    }
    let sim = hmcsim::start(HmcSimConfig::default()).await.unwrap();
    let tofu = hmcsim::start(HmcSimConfig::default()).await.unwrap();
    let spec = HmcSpec::of("lab", &sim, true);
    let base = format!("https://{}", spec.listen.unwrap());
    let mut tofu_spec = HmcSpec::of("tofu", &tofu, false);
    tofu_spec.fingerprint.clear();
    let out = tempfile::tempdir().unwrap();
    let trace_file = out.path().join("hostagentd.strace");
    let args = trace::strace_args(&trace_file);
    let mut d = start_with(
        &[spec, tofu_spec],
        "",
        "abc123",
        &[],
        Some(("strace", args)),
    );
    tokio::task::block_in_place(|| {
        d.wait_logged_on("lab");
        d.wait_logged_on("tofu");
    });
    client_round_plain(&base).await;
    tokio::task::block_in_place(|| {
        let (code, _, _) = d.request("GET", &format!("/hmc/tofu{FEED}"), &[], "");
        assert_eq!(code, 200);
        terminate(&mut d);
    });
    let text = std::fs::read_to_string(&trace_file).unwrap();
    let socket_dir = d.socket.parent().unwrap().to_path_buf();
    let bad: Vec<String> = trace::changes(&text)
        .into_iter()
        .filter(|c| !c.paths.iter().all(|p| p.starts_with(&socket_dir)))
        .map(|c| c.line)
        .collect();
    assert!(
        bad.is_empty(),
        "changed files outside {}:\n{}",
        socket_dir.display(),
        bad.join("\n")
    );
    assert!(
        text.contains("sun_path="),
        "the trace saw the socket's bind"
    );
    assert!(
        sim.sessions().is_empty() && tofu.sessions().is_empty(),
        "logged off at SIGTERM"
    );
    sim.shutdown().await;
    tofu.shutdown().await;
}

async fn client_round_plain(base: &str) {
    let c = client();
    let r = c
        .put(format!("{base}{LOGON}"))
        .header("Content-Type", LOGON_REQUEST)
        .body(logon_body("hscroot", "abc123"))
        .send()
        .await
        .unwrap();
    let token = token_of(&r.text().await.unwrap()).unwrap();
    let feed = c
        .get(format!("{base}{FEED}"))
        .header("X-API-Session", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(feed.status(), 200);
}
