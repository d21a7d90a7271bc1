//! Authenticated GETs per second on bmcsim with 32 concurrent clients, over HTTP and HTTPS,
//! against a baseline measured in the same run: a bare hyper server answering the same bytes
//! (the floor of this machine's loopback + client cost).
//!
//! `cargo run --release -p bmcsim --example bench [SECONDS]`

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bmcsim::{Profile, SimConfig};
use bytes::Bytes;
use http_body_util::Full;
use serde_json::json;

const CLIENTS: usize = 32;
const TARGET: f64 = 5000.0;

async fn hammer(url: String, token: Option<String>, secs: u64) -> f64 {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .no_proxy()
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .unwrap();
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (client, url, token, done) = (client.clone(), url.clone(), token.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let mut req = client.get(&url);
                if let Some(t) = &token {
                    req = req.header("X-Auth-Token", t);
                }
                let resp = req.send().await.unwrap();
                assert!(resp.status().is_success(), "{}", resp.status());
                let _ = resp.bytes().await.unwrap();
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / secs as f64
}

async fn sim_rate(http: bool, secs: u64) -> f64 {
    let sim = bmcsim::start(SimConfig {
        profile: Profile::Ilo6,
        http,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let client = reqwest::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .no_proxy()
        .build()
        .unwrap();
    let r = client
        .post(format!(
            "{}/redfish/v1/SessionService/Sessions/",
            sim.base_url()
        ))
        .json(&json!({"UserName":"admin","Password":"password"}))
        .send()
        .await
        .unwrap();
    let token = r.headers()["x-auth-token"].to_str().unwrap().to_string();
    let rate = hammer(
        format!("{}/redfish/v1/Systems/1/", sim.base_url()),
        Some(token),
        secs,
    )
    .await;
    sim.shutdown().await;
    rate
}

/// A hyper server that answers every request with the same body as Systems/1.
async fn baseline_rate(secs: u64) -> f64 {
    let body = Bytes::from(
        serde_json::to_vec(
            &json!({"@odata.id": "/redfish/v1/Systems/1/", "padding": "x".repeat(3000)}),
        )
        .unwrap(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let body = body.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |_req| {
                    let body = body.clone();
                    async move {
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(body)))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    let rate = hammer(format!("http://{addr}/redfish/v1/Systems/1/"), None, secs).await;
    server.abort();
    rate
}

#[tokio::main]
async fn main() {
    let secs: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let baseline = baseline_rate(secs).await;
    let http = sim_rate(true, secs).await;
    let https = sim_rate(false, secs).await;
    println!("clients: {CLIENTS}, {secs} s each, authenticated GET /redfish/v1/Systems/1/ (ilo6)");
    println!("baseline (bare hyper, HTTP):  {baseline:>9.0} req/s");
    println!("bmcsim HTTP:                  {http:>9.0} req/s  = {:.2}x baseline, {:.2}x the {TARGET} req/s target", http / baseline, http / TARGET);
    println!("bmcsim HTTPS:                 {https:>9.0} req/s  = {:.2}x baseline, {:.2}x the {TARGET} req/s target", https / baseline, https / TARGET);
}
