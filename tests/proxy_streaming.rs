//! Answers the proxy passes on as streams: Redfish SSE (`text/event-stream`) delivers each
//! event as the BMC emits it, and a large answer goes through without the daemon holding it
//! (its resident memory grows by far less than the answer's size).

mod common;

use std::path::Path;
use std::time::Duration;

use bmcsim::Profile;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

const SSE: &str = "/redfish/v1/EventService/SSE";
/// Far longer than any event takes; only reached when the proxy holds events back.
const WAIT: Duration = Duration::from_secs(10);

async fn get(socket: &Path, path: &str) -> http::Response<Incoming> {
    let stream = tokio::net::UnixStream::connect(socket).await.unwrap();
    let (mut tx, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = http::Request::builder()
        .uri(path)
        .header("host", "localhost")
        .body(Empty::<Bytes>::new())
        .unwrap();
    tokio::time::timeout(WAIT, tx.send_request(req))
        .await
        .expect("the answer's headers come before its body ends")
        .unwrap()
}

/// Emits one event on the simulator; how many streams it went to.
async fn emit(sim: &bmcsim::SimHandle, message: &str) -> u64 {
    hostagent::transport::https::install_crypto_provider();
    let http = reqwest::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .no_proxy()
        .build()
        .unwrap();
    let v: serde_json::Value = http
        .post(format!("{}/_sim/event", sim.base_url()))
        .json(&serde_json::json!({ "message": message }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["delivered"].as_u64().unwrap()
}

fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn sse_events_come_through_the_proxy_as_the_bmc_emits_them() {
    let sim = common::sim(Profile::Ilo6).await;
    let daemon = common::daemon::started(&sim, "").await;
    let resp = get(&daemon.socket, SSE).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut body = resp.into_body();
    let mut seen = String::new();
    for i in 0..3 {
        let message = format!("event number {i}");
        assert_eq!(emit(&sim, &message).await, 1, "the proxy's stream is open");
        // This event must arrive before the next one is emitted.
        while !seen.contains(&message) {
            let frame = tokio::time::timeout(WAIT, body.frame())
                .await
                .unwrap_or_else(|_| panic!("{message} held back; got so far: {seen}"))
                .expect("the stream stays open")
                .unwrap();
            if let Ok(data) = frame.into_data() {
                seen.push_str(&String::from_utf8_lossy(&data));
            }
        }
        assert!(!seen.contains(&format!("event number {}", i + 1)));
    }
    assert!(seen.contains("data: {"), "SSE framing kept: {seen}");
    drop(body);
    // The client went away: the agent's stream to the BMC ends too.
    let deadline = std::time::Instant::now() + WAIT;
    while emit(&sim, "after").await != 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "stream to the BMC left open"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_12_mb_answer_streams_through_a_slow_reader_without_the_daemon_holding_it() {
    let sim = common::sim(Profile::Ilo6).await;
    let daemon = common::daemon::started(&sim, "").await;
    let pid = daemon.child.id();
    // Warm: the pool's connection, the buffers of an ordinary answer.
    for _ in 0..5 {
        let resp = get(&daemon.socket, "/redfish/v1/Systems/1/").await;
        resp.into_body().collect().await.unwrap();
    }
    let before = status_kib(pid, "VmHWM:");
    let size = 12 << 20;
    let resp = get(
        &daemon.socket,
        &format!("/redfish/v1/Oem/Bmcsim/Blob?bytes={size}"),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let mut body = resp.into_body();
    let (mut len, mut tail, mut rss_peak) = (0usize, Vec::new(), 0u64);
    // A slow reader: it looks at the daemon's memory between every two chunks it takes.
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.unwrap().into_data() else {
            continue;
        };
        len += data.len();
        tail = data[data.len().saturating_sub(2)..].to_vec();
        rss_peak = rss_peak.max(status_kib(pid, "VmRSS:"));
    }
    assert_eq!(len, size, "the whole answer");
    assert_eq!(tail, b"\"}");
    let grew = status_kib(pid, "VmHWM:").saturating_sub(before);
    eprintln!("VmHWM grew by {grew} KiB; VmRSS peak while reading {rss_peak} KiB");
    assert!(
        grew < 4 << 10,
        "the daemon's peak memory grew by {grew} KiB for a {size}-byte answer"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answer_over_the_16_mib_bound_is_refused_naming_the_bound() {
    let sim = common::sim(Profile::Ilo6).await;
    let daemon = common::daemon::started(&sim, "").await;
    let resp = get(
        &daemon.socket,
        &format!("/redfish/v1/Oem/Bmcsim/Blob?bytes={}", 20 << 20),
    )
    .await;
    assert_eq!(resp.status(), 502);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains(&format!("{} bytes", 16 << 20)), "{text}");
    sim.shutdown().await;
}
