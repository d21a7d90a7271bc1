//! The Redfish proxy against going straight to the BMC, in one run (bmcsim ilo6 over HTTPS,
//! release hostagentd as a child process, clients on its Unix socket):
//!
//! 1. added latency: median of sequential keep-alive GETs through the proxy minus direct;
//! 2. throughput with 32 concurrent clients, proxy / direct;
//! 3. a tool call with realistic BMC latency (login 1,200 ms, other requests 60 ms): a virtual
//!    login + GET + logout through the proxy versus login + GET + logout on the BMC, each call
//!    on fresh connections as a new process would make them;
//! 4. hostagentd's resident memory idle and its peak under 64 concurrent clients.
//!
//! `cargo bench --bench proxy`

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bmcsim::{Profile, SimConfig, SimHandle};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

const PATH: &str = "/redfish/v1/Systems/1/";

// The tests' harness: hostagentd as a child with config, credentials and socket in a temp dir.
#[path = "../tests/common/daemon.rs"]
#[allow(dead_code)]
mod daemon;

use daemon::Daemon as Agent;

async fn start_agent(sim: &SimHandle, extra: &str) -> Agent {
    daemon::started(sim, extra).await
}

/// A keep-alive HTTP/1.1 connection on the agent's socket.
struct UnixConn(hyper::client::conn::http1::SendRequest<Full<Bytes>>);

impl UnixConn {
    async fn open(socket: &Path) -> UnixConn {
        let stream = tokio::net::UnixStream::connect(socket).await.unwrap();
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        UnixConn(sender)
    }

    async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, http::HeaderMap, Bytes) {
        self.0.ready().await.unwrap();
        let mut req = http::Request::builder()
            .method(method)
            .uri(path)
            .header("host", "localhost");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = self
            .0
            .send_request(req.body(Full::new(Bytes::from(body.to_string()))).unwrap())
            .await
            .unwrap();
        let (parts, body) = resp.into_parts();
        (
            parts.status.as_u16(),
            parts.headers,
            body.collect().await.unwrap().to_bytes(),
        )
    }
}

fn client() -> reqwest::Client {
    hostagent::transport::https::install_crypto_provider();
    reqwest::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .no_proxy()
        .build()
        .unwrap()
}

/// Logs in on the BMC: (token, session URL).
async fn login(http: &reqwest::Client, sim: &SimHandle) -> (String, String) {
    let resp = http
        .post(format!(
            "{}/redfish/v1/SessionService/Sessions/",
            sim.base_url()
        ))
        .json(&serde_json::json!({"UserName": "admin", "Password": "password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let token = resp.headers()["x-auth-token"].to_str().unwrap().to_string();
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let path = hostagent::redfish::path_of(&location);
    (token, format!("{}{path}", sim.base_url()))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

async fn latency(sim: &SimHandle, agent: &Agent) {
    let http = client();
    let (token, session) = login(&http, sim).await;
    let url = format!("{}{PATH}", sim.base_url());
    let mut proxy = UnixConn::open(&agent.socket).await;
    let (mut direct_t, mut proxy_t) = (Vec::new(), Vec::new());
    for _ in 0..200 {
        http.get(&url)
            .header("x-auth-token", &token)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        proxy.send("GET", PATH, &[], "").await;
    }
    for _ in 0..2000 {
        let t = Instant::now();
        let body = http
            .get(&url)
            .header("x-auth-token", &token)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        direct_t.push(t.elapsed());
        assert!(!body.is_empty());
        let t = Instant::now();
        let (status, _, _) = proxy.send("GET", PATH, &[], "").await;
        proxy_t.push(t.elapsed());
        assert_eq!(status, 200);
    }
    let (d, p) = (median(direct_t), median(proxy_t));
    println!("1. sequential keep-alive GET {PATH}, median of 2,000:");
    println!(
        "   direct to bmcsim (HTTPS)      {:>8.3} ms",
        d.as_secs_f64() * 1e3
    );
    println!(
        "   through the proxy (socket)    {:>8.3} ms",
        p.as_secs_f64() * 1e3
    );
    println!(
        "   added by the proxy            {:>8.3} ms  (target <= 0.3 ms)",
        (p.as_secs_f64() - d.as_secs_f64()) * 1e3
    );
    http.delete(&session)
        .header("x-auth-token", &token)
        .send()
        .await
        .unwrap();
}

async fn throughput(sim: &SimHandle, agent: &Agent, clients: usize, secs: u64) -> (f64, f64) {
    let http = client();
    let (token, session) = login(&http, sim).await;
    let url = format!("{}{PATH}", sim.base_url());
    let run = |proxied: bool| {
        let (stop, done) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicU64::new(0)),
        );
        let tasks: Vec<_> = (0..clients)
            .map(|_| {
                let (stop, done, http, url, token, socket) = (
                    stop.clone(),
                    done.clone(),
                    http.clone(),
                    url.clone(),
                    token.clone(),
                    agent.socket.clone(),
                );
                tokio::spawn(async move {
                    let mut conn = if proxied {
                        Some(UnixConn::open(&socket).await)
                    } else {
                        None
                    };
                    while !stop.load(Ordering::Relaxed) {
                        let ok = match &mut conn {
                            Some(c) => c.send("GET", PATH, &[], "").await.0 == 200,
                            None => http
                                .get(&url)
                                .header("x-auth-token", &token)
                                .send()
                                .await
                                .is_ok_and(|r| r.status() == 200),
                        };
                        if ok {
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        async move {
            tokio::time::sleep(Duration::from_secs(secs)).await;
            stop.store(true, Ordering::Relaxed);
            for t in tasks {
                t.await.unwrap();
            }
            done.load(Ordering::Relaxed) as f64 / secs as f64
        }
    };
    let direct = run(false).await;
    let proxied = run(true).await;
    http.delete(&session)
        .header("x-auth-token", &token)
        .send()
        .await
        .unwrap();
    (direct, proxied)
}

/// One tool call as a new process makes it: fresh connections, login, GET, logout.
async fn tool_call_direct(sim: &SimHandle) -> Duration {
    let t = Instant::now();
    let http = client();
    let (token, session) = login(&http, sim).await;
    let resp = http
        .get(format!("{}{PATH}", sim.base_url()))
        .header("x-auth-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.bytes().await.unwrap();
    http.delete(&session)
        .header("x-auth-token", &token)
        .send()
        .await
        .unwrap();
    t.elapsed()
}

async fn tool_call_proxy(agent: &Agent) -> Duration {
    let t = Instant::now();
    let mut conn = UnixConn::open(&agent.socket).await;
    let (status, headers, _) = conn
        .send(
            "POST",
            "/redfish/v1/SessionService/Sessions/",
            &[("content-type", "application/json")],
            r#"{"UserName":"admin","Password":"password"}"#,
        )
        .await;
    assert_eq!(status, 201);
    let token = headers["x-auth-token"].to_str().unwrap().to_string();
    let location = headers["location"].to_str().unwrap().to_string();
    let (status, _, _) = conn
        .send("GET", PATH, &[("x-auth-token", &token)], "")
        .await;
    assert_eq!(status, 200);
    let (status, _, _) = conn
        .send("DELETE", &location, &[("x-auth-token", &token)], "")
        .await;
    assert_eq!(status, 200);
    t.elapsed()
}

#[tokio::main]
async fn main() {
    let only_throughput = std::env::var_os("PROXY_BENCH_THROUGHPUT_ONLY").is_some();
    let sim = bmcsim::start(SimConfig {
        profile: Profile::Ilo6,
        max_sessions: Some(64),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let agent = start_agent(&sim, "").await;
    let pid = agent.child.id();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = rss_kib(pid, "VmRSS:");
    if !only_throughput {
        latency(&sim, &agent).await;
    }
    println!("2. 32 concurrent keep-alive clients, 5 s each, requests/s:");
    let (direct, proxied) = throughput(&sim, &agent, 32, 5).await;
    println!("   bare bmcsim (CPU-bound): direct {direct:>7.0}   proxy, bmc.max_concurrency = 8 (default) {proxied:>7.0} = {:>3.0}% (target >= 80%)", proxied / direct * 100.0);
    let wide = start_agent(&sim, "[bmc]\nmax_concurrency = 32").await;
    let (direct, proxied) = throughput(&sim, &wide, 32, 5).await;
    println!("   bare bmcsim (CPU-bound): direct {direct:>7.0}   proxy, bmc.max_concurrency = 32           {proxied:>7.0} = {:>3.0}%", proxied / direct * 100.0);
    drop(wide);
    let cached = start_agent(&sim, "[api]\ncache_ttl = \"1s\"").await;
    let (direct, proxied) = throughput(&sim, &cached, 32, 5).await;
    println!("   bare bmcsim (CPU-bound): direct {direct:>7.0}   proxy, api.cache_ttl = 1s              {proxied:>7.0} = {:>3.0}%", proxied / direct * 100.0);
    drop(cached);
    if only_throughput {
        return;
    }
    let _ = throughput(&sim, &agent, 64, 5).await;
    let peak = rss_kib(pid, "VmHWM:");
    drop(agent);
    sim.shutdown().await;

    // A BMC that is the bottleneck, as real ones are: 20 ms per request, 8 at a time.
    let bmc = bmcsim::start(SimConfig {
        profile: Profile::Ilo6,
        max_sessions: Some(64),
        latency_ms: 20,
        max_concurrency: Some(8),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let agent = start_agent(&bmc, "").await;
    let (direct, proxied) = throughput(&bmc, &agent, 32, 5).await;
    println!("   bmcsim 20 ms/request, 8 at a time: direct {direct:>5.0}   proxy (default) {proxied:>5.0} = {:>3.0}%", proxied / direct * 100.0);
    drop(agent);
    bmc.shutdown().await;

    let slow = bmcsim::start(SimConfig {
        profile: Profile::Ilo6,
        max_sessions: Some(64),
        login_latency_ms: 1200,
        latency_ms: 60,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let agent = start_agent(&slow, "").await;
    let (mut direct, mut proxy) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        direct.push(tool_call_direct(&slow).await);
        proxy.push(tool_call_proxy(&agent).await);
    }
    let (d, p) = (median(direct), median(proxy));
    println!("3. a tool call (login, GET, logout) with BMC login 1,200 ms and requests 60 ms, median of 5:");
    println!(
        "   direct to the BMC             {:>8.1} ms",
        d.as_secs_f64() * 1e3
    );
    println!(
        "   through the proxy             {:>8.1} ms  = {:.1}x faster (target >= 10x)",
        p.as_secs_f64() * 1e3,
        d.as_secs_f64() / p.as_secs_f64()
    );
    drop(agent);
    slow.shutdown().await;
    println!("4. hostagentd resident memory: idle {:.1} MB; peak {:.1} MB after 64 concurrent clients (target <= 20 MB)", idle as f64 / 1024.0, peak as f64 / 1024.0);
}
