//! The agent's proxy against nginx doing the same job, in one process tree and one run:
//! bmcsim ilo6 over HTTPS in this process; nginx (Debian's, config generated here: 2 workers,
//! TLS in, TLS out to bmcsim with a keep-alive upstream pool of 32, the session token injected
//! by `proxy_set_header`); release hostagentd as a child on `api.listen_https` and its Unix
//! socket, with its default bound of 8 requests in flight to the BMC, and a second one with
//! `bmc.max_concurrency = 32`: as many in flight as nginx has (32 clients, no bound), the
//! same job to the letter. HTTPS paths are loaded by `wrk` (32 keep-alive connections, 2 threads); the socket,
//! and the direct baseline it is compared with, by the same in-process client (32 keep-alive
//! connections). Each round runs every path once; the figures are per round, then the median
//! and the spread of the ratios. CPU per request is utime+stime of the process (nginx: master
//! and workers) over the run, divided by the requests it served.
//!
//! `cargo bench --bench proxy_nginx` (PROXY_NGINX_SECS, default 5; PROXY_NGINX_ROUNDS, 3;
//! PROXY_NGINX_SYSCALLS=1 also counts each proxy's system calls with `perf stat`;
//! PROXY_NGINX_CALLGRIND=1 counts instructions per request instead: [`callgrind`];
//! PROXY_NGINX_PGO=PATH is `packaging/pgo-build`'s training run of the hostagentd at PATH: [`pgo`];
//! PROXY_NGINX_AGENT=PATH measures the hostagentd at PATH, a packaged one, instead of the build's).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bmcsim::{Profile, SimConfig, SimHandle};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;

#[path = "proxy_nginx_support/callgrind.rs"]
mod callgrind;
#[path = "proxy_nginx_support/pgo.rs"]
mod pgo;
#[path = "../tests/common/daemon.rs"]
#[allow(dead_code)]
mod daemon;

const PATH: &str = "/redfish/v1/Systems/1/";
const CLIENTS: usize = 32;

/// One path's figures in one round.
#[derive(Clone, Copy, Default)]
struct Run {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// CPU µs per request of the proxy process (0 for direct).
    cpu_us: f64,
    /// Context switches of the proxy's threads per request (0 for direct).
    switches: f64,
    /// System calls of the proxy per request (`perf stat`'s `raw_syscalls:sys_enter`; NaN
    /// without perf).
    syscalls: f64,
}

/// CPU time, context switches and system calls of a process (and its children) over a run.
struct Meter {
    /// The process and its children, read once at the start.
    pids: Vec<String>,
    cpu: f64,
    switches: f64,
    perf: Option<Child>,
}

impl Meter {
    fn start(pid: u32) -> Meter {
        let pids = family(pid);
        // A tracepoint, not a hardware counter: it counts on machines without them. Only on
        // request (PROXY_NGINX_SYSCALLS=1): tracing system calls makes each one dearer, so
        // the CPU figures of such a run are not comparable with the others.
        let counting = std::env::var_os("PROXY_NGINX_SYSCALLS").is_some_and(|v| v == "1");
        let perf = counting.then(|| {
            Command::new("perf")
                .args([
                    "stat",
                    "-x,",
                    "-e",
                    "raw_syscalls:sys_enter",
                    "-p",
                    &pids.join(","),
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("perf (Debian package linux-perf)")
        });
        if perf.is_some() {
            // perf attaches asynchronously; give it a moment before the load starts.
            std::thread::sleep(Duration::from_millis(300));
        }
        Meter {
            cpu: cpu_us(&pids),
            switches: switches(&pids),
            pids,
            perf,
        }
    }

    /// (CPU µs, context switches, system calls) per request.
    fn stop(self, requests: f64) -> (f64, f64, f64) {
        let cpu = (cpu_us(&self.pids) - self.cpu) / requests;
        let sw = (switches(&self.pids) - self.switches) / requests;
        let calls = self.perf.map_or(f64::NAN, |perf| {
            // SAFETY: kill(2) on the PID of the child this process started and has not reaped.
            unsafe { libc::kill(perf.id() as i32, libc::SIGINT) };
            let out = perf
                .wait_with_output()
                .map(|o| o.stderr)
                .unwrap_or_default();
            String::from_utf8_lossy(&out)
                .lines()
                .find(|l| l.contains("raw_syscalls:sys_enter"))
                .and_then(|l| l.split(',').next()?.parse::<f64>().ok())
                .map_or(f64::NAN, |n| n / requests)
        });
        (cpu, sw, calls)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `pid` and its child processes (nginx's workers).
fn family(pid: u32) -> Vec<String> {
    let children =
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    std::iter::once(pid.to_string())
        .chain(children.split_whitespace().map(str::to_string))
        .collect()
}

/// utime + stime of the processes `pids`, in µs.
fn cpu_us(pids: &[String]) -> f64 {
    let ticks = |pid: &str| -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let after = stat.rsplit_once(')').map(|(_, a)| a).unwrap_or_default();
        let f: Vec<&str> = after.split_whitespace().collect();
        // Fields 14 and 15 of stat(5); `after` starts at field 3.
        f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
            + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0)
    };
    let total: u64 = pids.iter().map(|p| ticks(p)).sum();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    total as f64 * 1e6 / hz
}

/// Context switches (voluntary and not) of every thread of the processes `pids`.
fn switches(pids: &[String]) -> f64 {
    let of = |pid: &str| -> u64 {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            return 0;
        };
        tasks
            .flatten()
            .map(|t| {
                std::fs::read_to_string(t.path().join("status"))
                    .unwrap_or_default()
                    .lines()
                    .filter(|l| l.contains("ctxt_switches:"))
                    .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                    .sum::<u64>()
            })
            .sum()
    };
    pids.iter().map(|p| of(p)).sum::<u64>() as f64
}

/// `wrk` for `secs` seconds; CPU of `pid` (if any) over the same run.
fn wrk(url: &str, token: Option<&str>, secs: u64, pid: Option<u32>) -> Run {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t2",
        &format!("-c{CLIENTS}"),
        &format!("-d{secs}s"),
        "--latency",
    ]);
    if let Some(t) = token {
        cmd.args(["-H", &format!("X-Auth-Token: {t}")]);
    }
    let meter = pid.map(Meter::start);
    let out = cmd.arg(url).output().expect("wrk (Debian package wrk)");
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |prefix: &str| -> Option<&str> {
        text.lines()
            .find_map(|l| l.trim_start().strip_prefix(prefix))
            .map(str::trim)
    };
    let ms = |v: &str| -> f64 {
        let (num, unit) = v.split_at(v.find(|c: char| c.is_alphabetic()).unwrap_or(v.len()));
        let n: f64 = num.parse().unwrap_or(f64::NAN);
        match unit {
            "us" => n / 1e3,
            "ms" => n,
            "s" => n * 1e3,
            _ => f64::NAN,
        }
    };
    let requests: f64 = text
        .lines()
        .find(|l| l.contains(" requests in "))
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    assert!(
        !text.contains("Non-2xx") && requests > 0.0,
        "wrk {url} failed: {text}"
    );
    let (cpu_us, switches, syscalls) = meter.map_or((0.0, 0.0, f64::NAN), |m| m.stop(requests));
    Run {
        rps: field("Requests/sec:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0),
        p50_ms: field("50%").map(ms).unwrap_or(f64::NAN),
        p99_ms: field("99%").map(ms).unwrap_or(f64::NAN),
        cpu_us,
        switches,
        syscalls,
    }
}

type Sender = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

/// Opens one keep-alive connection: the agent's socket, or TLS straight to bmcsim.
async fn open(target: &Target) -> Sender {
    let builder = hyper::client::conn::http1::Builder::new();
    match target {
        Target::Socket(path) => {
            let s = tokio::net::UnixStream::connect(path).await.unwrap();
            let (tx, conn) = builder.handshake(TokioIo::new(s)).await.unwrap();
            tokio::spawn(conn);
            tx
        }
        Target::Direct(addr, tls, _) => {
            let s = tokio::net::TcpStream::connect(addr).await.unwrap();
            s.set_nodelay(true).unwrap();
            let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
            let s = tls.connect(name, s).await.unwrap();
            let (tx, conn) = builder.handshake(TokioIo::new(s)).await.unwrap();
            tokio::spawn(conn);
            tx
        }
    }
}

#[derive(Clone)]
enum Target {
    Socket(PathBuf),
    /// TLS to this address, with this `X-Auth-Token` (none when empty).
    Direct(std::net::SocketAddr, tokio_rustls::TlsConnector, String),
}

/// One GET of [`PATH`] for `target`.
fn request(target: &Target) -> http::Request<Empty<Bytes>> {
    let mut req = http::Request::builder()
        .uri(PATH)
        .header("host", "localhost");
    if let Target::Direct(_, _, token) = target {
        if !token.is_empty() {
            req = req.header("x-auth-token", token);
        }
    }
    req.body(Empty::new()).unwrap()
}

/// One GET on `tx`, answered 200 and read whole.
async fn get(tx: &mut Sender, target: &Target) {
    tx.ready().await.unwrap();
    let resp = tx.send_request(request(target)).await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.into_body().collect().await.unwrap();
}

/// The in-process load generator: `CLIENTS` keep-alive connections for `secs` seconds.
async fn own_client(target: Arc<Target>, secs: u64, pid: Option<u32>) -> Run {
    let stop = Arc::new(AtomicBool::new(false));
    let lat = Arc::new(Mutex::new(Vec::<Duration>::new()));
    let meter = pid.map(Meter::start);
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (stop, lat, target) = (stop.clone(), lat.clone(), target.clone());
            tokio::spawn(async move {
                let mut tx = open(&target).await;
                let mut mine = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    get(&mut tx, &target).await;
                    mine.push(t.elapsed());
                }
                lat.lock().unwrap().extend(mine);
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut lat = std::mem::take(&mut *lat.lock().unwrap());
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    let (cpu_us, switches, syscalls) =
        meter.map_or((0.0, 0.0, f64::NAN), |m| m.stop(lat.len() as f64));
    Run {
        rps: lat.len() as f64 / elapsed,
        p50_ms: pct(0.50).as_secs_f64() * 1e3,
        p99_ms: pct(0.99).as_secs_f64() * 1e3,
        cpu_us,
        switches,
        syscalls,
    }
}

/// nginx with a config generated in `dir`, as an operator would run it for this job; run
/// under `wrapper` when there is one (valgrind).
fn start_nginx(dir: &Path, port: u16, sim: &SimHandle, token: &str, wrapper: &[String]) -> Child {
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), cert.signing_key.serialize_pem()).unwrap();
    let upstream = sim.base_url().trim_start_matches("https://").to_string();
    let d = dir.display();
    let conf = format!(
        "user root;\nworker_processes 2;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
           fastcgi_temp_path {d}/fcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
           upstream bmc {{ server {upstream}; keepalive 32; }}\n\
           server {{\n    listen 127.0.0.1:{port} ssl;\n    ssl_certificate {d}/cert.pem;\n\
             ssl_certificate_key {d}/key.pem;\n    keepalive_requests 1000000;\n\
             location / {{\n      proxy_pass https://bmc;\n      proxy_http_version 1.1;\n\
               proxy_set_header Connection \"\";\n      proxy_set_header X-Auth-Token {token};\n\
               proxy_ssl_session_reuse on;\n      proxy_ssl_verify off;\n    }}\n  }}\n}}\n"
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    let child = daemon::command_under(wrapper, "nginx")
        .arg("-c")
        .arg(&path)
        .args(["-g", "daemon off;"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx (Debian package nginx)");
    // Under valgrind, nginx takes seconds to start.
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nginx did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

/// The hostagentd measured: the build's own, or the binary named by `PROXY_NGINX_AGENT` (a
/// packaged one, to measure what ships).
fn measured(launch: daemon::Launch<'_>) -> daemon::Launch<'_> {
    match std::env::var("PROXY_NGINX_AGENT") {
        Ok(program) => launch.program(&program),
        Err(_) => launch,
    }
}

/// A memory-only hostagentd on `sim` with `extra`, [`measured`], started and logged in.
async fn start_agent(sim: &SimHandle, extra: &str) -> daemon::Daemon {
    daemon::ready(measured(daemon::Launch::new(sim).extra(extra).memory_only()).start()).await
}

async fn login(sim: &SimHandle) -> String {
    hostagent::transport::https::install_crypto_provider();
    let http = reqwest::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .no_proxy()
        .build()
        .unwrap();
    let resp = http
        .post(format!(
            "{}/redfish/v1/SessionService/Sessions/",
            sim.base_url()
        ))
        .json(&serde_json::json!({"UserName": "admin", "Password": "password"}))
        .send()
        .await
        .unwrap();
    resp.headers()["x-auth-token"].to_str().unwrap().to_string()
}

fn tls_connector() -> tokio_rustls::TlsConnector {
    #[derive(Debug)]
    struct Any(Arc<rustls::crypto::CryptoProvider>);
    impl rustls::client::danger::ServerCertVerifier for Any {
        fn verify_server_cert(
            &self,
            _: &rustls::pki_types::CertificateDer<'_>,
            _: &[rustls::pki_types::CertificateDer<'_>],
            _: &rustls::pki_types::ServerName<'_>,
            _: &[u8],
            _: rustls::pki_types::UnixTime,
        ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            m: &[u8],
            c: &rustls::pki_types::CertificateDer<'_>,
            d: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(
                m,
                c,
                d,
                &self.0.signature_verification_algorithms,
            )
        }
        fn verify_tls13_signature(
            &self,
            m: &[u8],
            c: &rustls::pki_types::CertificateDer<'_>,
            d: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(
                m,
                c,
                d,
                &self.0.signature_verification_algorithms,
            )
        }
        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }
    let provider = hostagent::transport::https::install_crypto_provider();
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Any(provider)))
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

fn median(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn show(name: &str, r: &Run) {
    let cpu = if r.cpu_us > 0.0 {
        let calls = match r.syscalls.is_nan() {
            true => String::new(),
            false => format!("  {:>5.2} syscalls", r.syscalls),
        };
        format!(
            "{:>6.1} µs CPU  {:>5.2} switches{calls} /request",
            r.cpu_us, r.switches
        )
    } else {
        String::new()
    };
    println!(
        "   {name:<34} {:>8.0} req/s  p50 {:>6.3} ms  p99 {:>6.3} ms  {cpu}",
        r.rps, r.p50_ms, r.p99_ms
    );
}

#[tokio::main]
async fn main() {
    let secs: u64 = std::env::var("PROXY_NGINX_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let rounds: usize = std::env::var("PROXY_NGINX_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let sim = bmcsim::start(SimConfig {
        profile: Profile::Ilo6,
        max_sessions: Some(64),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let token = login(&sim).await;
    if let Ok(program) = std::env::var("PROXY_NGINX_PGO") {
        pgo::run(&sim, &program).await;
        sim.shutdown().await;
        return;
    }
    if std::env::var_os("PROXY_NGINX_CALLGRIND").is_some() {
        callgrind::run(&sim, &token).await;
        sim.shutdown().await;
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let nginx_port = free_port();
    let mut nginx = start_nginx(dir.path(), nginx_port, &sim, &token, &[]);
    let agent_port = free_port();
    let agent = start_agent(
        &sim,
        &format!("[api]\nlisten_https = \"127.0.0.1:{agent_port}\""),
    )
    .await;
    let agent_pid = agent.child.id();
    let wide_port = free_port();
    let wide = start_agent(
        &sim,
        &format!(
            "[api]\nlisten_https = \"127.0.0.1:{wide_port}\"\n[bmc]\nmax_concurrency = {CLIENTS}"
        ),
    )
    .await;
    let wide_pid = wide.child.id();
    let wide_url = format!("https://127.0.0.1:{wide_port}{PATH}");
    let direct_url = format!("{}{PATH}", sim.base_url());
    let nginx_url = format!("https://127.0.0.1:{nginx_port}{PATH}");
    let agent_url = format!("https://127.0.0.1:{agent_port}{PATH}");
    let sim_addr = sim.listen_addrs()[0];
    let direct_own = Arc::new(Target::Direct(sim_addr, tls_connector(), token.clone()));
    let socket = Arc::new(Target::Socket(agent.socket.clone()));
    println!("proxy against nginx: {CLIENTS} keep-alive clients, GET {PATH} of bmcsim ilo6, {secs} s per path, {rounds} rounds");
    println!("load average at start: {}", loadavg());
    // Warm-up: connections, TLS sessions, the agent's pool.
    let _ = wrk(&agent_url, None, 1, None);
    let _ = wrk(&wide_url, None, 1, None);
    let _ = wrk(&nginx_url, None, 1, None);
    let _ = own_client(socket.clone(), 1, None).await;
    let mut all: Vec<[Run; 6]> = Vec::new();
    for round in 1..=rounds {
        let nginx_pid = nginx.id();
        let blocking = |url: String, token: Option<String>, pid: Option<u32>| {
            tokio::task::spawn_blocking(move || wrk(&url, token.as_deref(), secs, pid))
        };
        let direct = blocking(direct_url.clone(), Some(token.clone()), None)
            .await
            .unwrap();
        let via_nginx = blocking(nginx_url.clone(), None, Some(nginx_pid))
            .await
            .unwrap();
        let via_agent = blocking(agent_url.clone(), None, Some(agent_pid))
            .await
            .unwrap();
        let via_wide = blocking(wide_url.clone(), None, Some(wide_pid))
            .await
            .unwrap();
        let own_direct = own_client(direct_own.clone(), secs, None).await;
        let via_socket = own_client(socket.clone(), secs, Some(agent_pid)).await;
        println!("round {round} (load average {}):", loadavg());
        show("direct to bmcsim (wrk, HTTPS)", &direct);
        show("nginx (wrk, HTTPS)", &via_nginx);
        show("hostagentd listen_https (wrk)", &via_agent);
        show("  the same, max_concurrency 32 (wrk)", &via_wide);
        show("direct to bmcsim (own client, TLS)", &own_direct);
        show("hostagentd Unix socket (own client)", &via_socket);
        all.push([
            direct, via_nginx, via_agent, own_direct, via_socket, via_wide,
        ]);
    }
    let ratio = |f: &dyn Fn(&[Run; 6]) -> f64| median(all.iter().map(f).collect());
    let line = |what: &str, (m, lo, hi): (f64, f64, f64), goal: &str| {
        println!("   {what:<44} {m:>5.2}  (rounds {lo:.2}–{hi:.2})  {goal}");
    };
    println!("ratios, median of {rounds} rounds:");
    line(
        "HTTPS: agent / nginx (req/s)",
        ratio(&|r| r[2].rps / r[1].rps),
        "goal >= 1.0",
    );
    line(
        "HTTPS, 32 in flight like nginx: agent / nginx",
        ratio(&|r| r[5].rps / r[1].rps),
        "goal >= 1.0",
    );
    line(
        "HTTPS: agent / direct (req/s)",
        ratio(&|r| r[2].rps / r[0].rps),
        "",
    );
    line(
        "HTTPS: nginx / direct (req/s)",
        ratio(&|r| r[1].rps / r[0].rps),
        "",
    );
    line(
        "HTTPS: agent CPU / nginx CPU per request",
        ratio(&|r| r[2].cpu_us / r[1].cpu_us),
        "",
    );
    line(
        "HTTPS, 32 in flight: agent CPU / nginx CPU",
        ratio(&|r| r[5].cpu_us / r[1].cpu_us),
        "",
    );
    line(
        "Unix socket: agent / direct (own client)",
        ratio(&|r| r[4].rps / r[3].rps),
        "goal >= 0.80",
    );
    let mid = |f: &dyn Fn(&[Run; 6]) -> f64| ratio(f).0;
    let (cpu_agent, cpu_nginx) = (mid(&|r| r[2].cpu_us), mid(&|r| r[1].cpu_us));
    let (cpu_sock, cpu_wide) = (mid(&|r| r[4].cpu_us), mid(&|r| r[5].cpu_us));
    println!("CPU per request (median): hostagentd HTTPS {cpu_agent:.1} µs (32 in flight: {cpu_wide:.1} µs), Unix socket {cpu_sock:.1} µs; nginx {cpu_nginx:.1} µs");
    let (sw_agent, sw_nginx) = (mid(&|r| r[2].switches), mid(&|r| r[1].switches));
    let sw_sock = mid(&|r| r[4].switches);
    println!("context switches per request (median): hostagentd HTTPS {sw_agent:.2}, Unix socket {sw_sock:.2}; nginx {sw_nginx:.2}");
    let (sc_agent, sc_nginx) = (mid(&|r| r[2].syscalls), mid(&|r| r[1].syscalls));
    let sc_sock = mid(&|r| r[4].syscalls);
    if !sc_nginx.is_nan() {
        println!("system calls per request (median, perf stat): hostagentd HTTPS {sc_agent:.2}, Unix socket {sc_sock:.2}; nginx {sc_nginx:.2}");
    }
    println!("load average at end: {}", loadavg());
    // SIGTERM: the master stops its workers (SIGKILL would leave them running).
    // SAFETY: kill(2) on the PID of the child this process started and has not reaped.
    unsafe { libc::kill(nginx.id() as i32, libc::SIGTERM) };
    let _ = nginx.wait();
    drop(agent);
    drop(wide);
    sim.shutdown().await;
}
