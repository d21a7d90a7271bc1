//! The soak (docs/RELIABILITY.md): release hostagentd for a long busy run, and what it leaves.
//!
//! In two network namespaces this bench makes (nothing touches the real network): bmcsim
//! (bmcweb, HTTPS) on the "BMC" side of a veth, hostagentd on the "host" side with the BMC as
//! its endpoint. Meanwhile: `SOAK_REQUESTS` (100,000) proxied GETs from `SOAK_CLIENTS` (64)
//! clients on the socket, of which 1 % are killed mid-request (the connection dropped with the
//! request sent and no answer read, as a SIGKILL of the client does); `SOAK_LEASES` (10,000)
//! lease open/close cycles, every 10th bound to a child process that is SIGKILLed instead of
//! closing; 5 BMC resets (down 1 s) and 5 vNIC flaps (the host's link down 1 s) spread over the
//! run. At the end: the BMC's sessions against the baseline, leases left, the daemon's RSS
//! after warm-up and at the end, its open fds, and every client outcome by kind.
//!
//! `cargo bench --bench soak` as root; bounded by `SOAK_MAX_S` (1800 s).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

#[path = "soak_support/sim.rs"]
mod sim;

use sim::{start_sim, Ask};

fn env(name: &str, default: i64) -> i64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn ip(args: &[&str]) {
    let ok = Command::new("ip").args(args).status().unwrap().success();
    assert!(ok, "ip {args:?}");
}

fn start_daemon(dir: &Path, ns: &str, cert: &str) -> (Child, PathBuf) {
    let creds = dir.join("creds");
    std::fs::create_dir_all(&creds).unwrap();
    for (name, value) in [("bmc-username", "admin\n"), ("bmc-password", "password\n")] {
        std::fs::write(creds.join(name), value).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(creds.join(name), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let socket = dir.join("run/agent.sock");
    let config = dir.join("hostagent.toml");
    std::fs::write(
        &config,
        format!(
            "[bmc]\nendpoint = \"https://169.254.0.17:443\"\ntls = \"pin\"\nfingerprint = \"{cert}\"\ncredentials_dir = \"{}\"\n[api]\nsocket = \"{}\"\nreader_group = \"root\"\nmax_leases = 8\n[reaper]\ninterval = \"5s\"\n[state]\nmemory_only = true\n",
            creds.display(),
            socket.display()
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.join("hostagentd.log")).unwrap();
    // `ip netns exec` execs the daemon: the child's pid is the daemon's.
    let child = Command::new("ip")
        .args([
            "netns",
            "exec",
            ns,
            env!("CARGO_BIN_EXE_hostagentd"),
            "--config",
        ])
        .arg(&config)
        .env("RUST_LOG", "warn")
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    (child, socket)
}

async fn request(
    socket: &Path,
    method: &str,
    path: &str,
    body: &str,
) -> Result<(u16, Bytes), String> {
    let stream = tokio::net::UnixStream::connect(socket)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, body))
}

/// The daemon's resident size (KiB) and open fds.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

type Tally = Arc<Mutex<std::collections::BTreeMap<String, u64>>>;

fn count(t: &Tally, kind: impl Into<String>) {
    *t.lock().unwrap().entry(kind.into()).or_default() += 1;
}

/// How long a client waits after a failed request before its next one.
const BACKOFF: Duration = Duration::from_millis(100);

/// From the end of a fault until a proxied GET answers 200 again, polling every 20 ms.
async fn recovery(socket: &Path, since: Instant) -> Duration {
    while !matches!(
        request(socket, "GET", "/redfish/v1/", "").await,
        Ok((200, _))
    ) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    since.elapsed()
}

const PATHS: &[&str] = &[
    "/redfish/v1/",
    "/redfish/v1/SessionService",
    "/redfish/v1/Systems",
    "/redfish/v1/Managers",
];

/// One proxy client: keep-alive GETs; now and then one killed mid-request.
async fn proxy_client(socket: PathBuf, left: Arc<AtomicI64>, done: Arc<AtomicI64>, tally: Tally) {
    let mut conn: Option<hyper::client::conn::http1::SendRequest<Full<Bytes>>> = None;
    while left.fetch_sub(1, Relaxed) > 0 {
        let path = PATHS[rand::random_range(0..PATHS.len())];
        if rand::random_range(0..100) == 0 {
            // Killed mid-request: the request is written, the connection dropped unanswered.
            if let Ok(mut s) = tokio::net::UnixStream::connect(&socket).await {
                use tokio::io::AsyncWriteExt;
                let req = format!("GET {path} HTTP/1.1\r\nhost: localhost\r\n\r\n");
                let _ = s.write_all(req.as_bytes()).await;
                tokio::time::sleep(Duration::from_millis(rand::random_range(0..5))).await;
            }
            count(&tally, "client killed mid-request");
            done.fetch_add(1, Relaxed);
            continue;
        }
        if conn.as_mut().is_none_or(|c| c.is_closed()) {
            conn = match tokio::net::UnixStream::connect(&socket).await {
                Ok(s) => match hyper::client::conn::http1::handshake(TokioIo::new(s)).await {
                    Ok((sender, c)) => {
                        tokio::spawn(c);
                        Some(sender)
                    }
                    Err(e) => {
                        count(&tally, format!("handshake error: {e}"));
                        None
                    }
                },
                Err(e) => {
                    count(&tally, format!("connect error: {}", e.kind()));
                    None
                }
            };
        }
        let Some(sender) = conn.as_mut() else {
            done.fetch_add(1, Relaxed);
            continue;
        };
        let req = http::Request::builder()
            .uri(path)
            .header("host", "localhost")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let outcome = match sender.ready().await {
            Ok(()) => match sender.send_request(req).await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    match resp.into_body().collect().await {
                        Ok(_) => format!("HTTP {status}"),
                        Err(e) => format!("body error: {e}"),
                    }
                }
                Err(e) => format!("request error: {e}"),
            },
            Err(e) => format!("connection error: {e}"),
        };
        if !outcome.starts_with("HTTP") {
            conn = None;
        }
        // A failed request is retried after a pause, as tools do: an outage does not burn
        // through the run's requests at the speed of refusals.
        let failed = outcome != "HTTP 200";
        count(&tally, outcome);
        done.fetch_add(1, Relaxed);
        if failed {
            tokio::time::sleep(BACKOFF).await;
        }
    }
}

/// Lease cycles: open and close, every 10th bound to a child that is SIGKILLed instead.
async fn lease_cycles(socket: PathBuf, n: i64, tally: Tally, stop: Arc<AtomicBool>) {
    for i in 0..n {
        if stop.load(Relaxed) {
            break;
        }
        let child = (i % 10 == 9).then(|| Command::new("sleep").arg("3600").spawn().unwrap());
        let body = match &child {
            Some(c) => format!("{{\"pid\":{},\"ttl_s\":600}}", c.id()),
            None => "{\"ttl_s\":600}".to_string(),
        };
        let opened = request(&socket, "POST", "/v1/leases", &body).await;
        let id = match &opened {
            Ok((201, body)) => serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v["id"].as_str().map(str::to_string)),
            _ => None,
        };
        count(
            &tally,
            match &opened {
                Ok((s, _)) => format!("lease open HTTP {s}"),
                Err(e) => format!("lease open error: {e}"),
            },
        );
        if id.is_none() {
            tokio::time::sleep(BACKOFF).await;
        }
        match (child, id) {
            (Some(mut c), _) => {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(c.id() as i32),
                    nix::sys::signal::Signal::SIGKILL,
                );
                let _ = c.wait();
                count(&tally, "lease holder killed");
            }
            (None, Some(id)) => {
                let closed = request(&socket, "DELETE", &format!("/v1/leases/{id}"), "").await;
                count(
                    &tally,
                    match closed {
                        Ok((s, _)) => format!("lease close HTTP {s}"),
                        Err(e) => format!("lease close error: {e}"),
                    },
                );
            }
            (None, None) => {}
        }
    }
}

fn main() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("soak: needs root (network namespaces for the vNIC flaps)");
        return;
    }
    let (requests, leases, clients, max_s) = (
        env("SOAK_REQUESTS", 100_000),
        env("SOAK_LEASES", 10_000),
        env("SOAK_CLIENTS", 64),
        env("SOAK_MAX_S", 1800),
    );
    let id = std::process::id();
    let (host, bmc) = (format!("soak-h-{id}"), format!("soak-b-{id}"));
    let (hv, bv) = (format!("sh{id}"), format!("sb{id}"));
    ip(&["netns", "add", &host]);
    ip(&["netns", "add", &bmc]);
    let cleanup = Namespaces(host.clone(), bmc.clone());
    ip(&[
        "link", "add", &hv, "netns", &host, "type", "veth", "peer", "name", &bv, "netns", &bmc,
    ]);
    for (ns, dev, addr) in [
        (&host, &hv, "169.254.0.2/16"),
        (&bmc, &bv, "169.254.0.17/16"),
    ] {
        ip(&["-n", ns, "addr", "add", addr, "dev", dev]);
        ip(&["-n", ns, "link", "set", dev, "up"]);
        ip(&["-n", ns, "link", "set", "lo", "up"]);
    }
    let (cert, ask) = start_sim(&bmc);
    let dir = tempfile::tempdir().unwrap();
    let (mut daemon, socket) = start_daemon(dir.path(), &host, &cert);
    let pid = daemon.id();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let report = rt.block_on(async move {
        let deadline = Instant::now() + Duration::from_secs(max_s as u64);
        while !matches!(
            request(&socket, "GET", "/v1/status", "").await,
            Ok((200, _))
        ) {
            assert!(Instant::now() < deadline, "the daemon never became ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let sessions = || async {
            let (tx, rx) = tokio::sync::oneshot::channel();
            ask.send(Ask::Sessions(tx)).await.unwrap();
            rx.await.unwrap()
        };
        let baseline = sessions().await;
        let tally: Tally = Arc::default();
        let (left, done) = (
            Arc::new(AtomicI64::new(requests)),
            Arc::new(AtomicI64::new(0)),
        );
        let stop = Arc::new(AtomicBool::new(false));
        let start = Instant::now();
        let mut tasks: Vec<_> = (0..clients)
            .map(|_| {
                tokio::spawn(proxy_client(
                    socket.clone(),
                    left.clone(),
                    done.clone(),
                    tally.clone(),
                ))
            })
            .collect();
        let lease_task = tokio::spawn(lease_cycles(
            socket.clone(),
            leases,
            tally.clone(),
            stop.clone(),
        ));
        // Warm-up: 5 % of the requests. Then the faults at each 1/11 of the run.
        while done.load(Relaxed) < requests / 20 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let (rss_warm, fds_warm) = (rss_kib(pid), fds(pid));
        let mut recoveries = Vec::new();
        for k in 1..=10 {
            while done.load(Relaxed) < requests * k / 11 && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            if k % 2 == 1 {
                let (tx, rx) = tokio::sync::oneshot::channel();
                ask.send(Ask::Reset(tx)).await.unwrap();
                rx.await.unwrap();
                // From the BMC back up (1 s after the reset) to the first 200.
                let took = recovery(&socket, Instant::now()).await;
                recoveries.push(("reset", took.saturating_sub(Duration::from_secs(1))));
                count(&tally, "event: BMC reset");
            } else {
                let (h, v) = (host.clone(), hv.clone());
                tokio::task::spawn_blocking(move || {
                    ip(&["-n", &h, "link", "set", &v, "down"]);
                    std::thread::sleep(Duration::from_secs(1));
                    ip(&["-n", &h, "link", "set", &v, "up"]);
                })
                .await
                .unwrap();
                let took = recovery(&socket, Instant::now()).await;
                recoveries.push(("flap", took));
                count(&tally, "event: vNIC flap");
            }
        }
        for t in tasks.drain(..) {
            let _ =
                tokio::time::timeout(deadline.saturating_duration_since(Instant::now()), t).await;
        }
        let proxy_s = start.elapsed().as_secs_f64();
        let _ = tokio::time::timeout(
            deadline.saturating_duration_since(Instant::now()),
            lease_task,
        )
        .await;
        stop.store(true, Relaxed);
        let run_s = start.elapsed().as_secs_f64();
        // Settle: leases of killed holders close, the reaper runs; bounded.
        let settle = Instant::now() + Duration::from_secs(60);
        let (mut open_leases, mut bmc_sessions);
        loop {
            open_leases = match request(&socket, "GET", "/v1/leases", "").await {
                Ok((200, b)) => serde_json::from_slice::<serde_json::Value>(&b).unwrap()["leases"]
                    .as_array()
                    .map(Vec::len)
                    .unwrap_or(0),
                _ => usize::MAX,
            };
            bmc_sessions = sessions().await;
            if (open_leases == 0 && bmc_sessions == baseline) || Instant::now() > settle {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let status = request(&socket, "GET", "/v1/status", "").await;
        let virtual_sessions = status
            .ok()
            .and_then(|(_, b)| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["proxy"]["virtual_sessions"].as_u64());
        let (rss_end, fds_end) = (rss_kib(pid), fds(pid));
        let tally = tally.lock().unwrap().clone();
        serde_json::json!({
            "requests": requests, "leases": leases, "clients": clients,
            "proxy_phase_s": proxy_s, "run_s": run_s,
            "requests_per_s": requests as f64 / proxy_s,
            "bmc_sessions": {"baseline": baseline, "end": bmc_sessions},
            "open_leases_end": open_leases,
            "virtual_sessions_end": virtual_sessions,
            "rss_kib": {"after_warmup": rss_warm, "end": rss_end,
                        "growth_pct": (rss_end as f64 - rss_warm as f64) * 100.0 / rss_warm as f64},
            "fds": {"after_warmup": fds_warm, "end": fds_end},
            "outcomes": tally,
            "recovery_ms": recoveries
                .iter()
                .map(|(what, took)| serde_json::json!({ "event": what, "ms": took.as_millis() as u64 }))
                .collect::<Vec<_>>(),
        })
    });
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let _ = daemon.wait();
    drop(cleanup);
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}

/// Deletes both namespaces when dropped (the veth goes with them).
struct Namespaces(String, String);

impl Drop for Namespaces {
    fn drop(&mut self) {
        for ns in [&self.0, &self.1] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}
