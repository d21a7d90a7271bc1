//! The HMC broker against going straight to the HMC, in one run (hmcsim with a real HMC's
//! latencies: logon 563 ms, logoff 182 ms; release hostagentd as a child process):
//!
//! 1. a stats run as a monitoring script makes it — logon, two GETs of the managed systems
//!    (the second with the ETag), logoff — each run on fresh connections as a new process
//!    would: straight to the HMC versus through the agent's HMC listener (virtual logon and
//!    logoff), medians and their ratio;
//! 2. hostagentd's resident memory with 3 HMCs, idle and its peak under 64 concurrent clients
//!    each making stats runs.
//!
//! `cargo bench --bench hmc`

use std::time::{Duration, Instant};

use hmcsim::{HmcSimConfig, HmcSimHandle};

#[path = "../tests/common/daemon.rs"]
#[allow(dead_code)]
mod daemon;
#[path = "../tests/common/hmc.rs"]
mod hmc;

const FEED: &str = "/rest/api/uom/ManagedSystem";

/// One stats run against `base` (the HMC, or the agent's listener), on a new client.
async fn stats_run(base: &str) -> Duration {
    let started = Instant::now();
    let c = hmc::client();
    let logon = c
        .put(format!("{base}{}", hmc::LOGON))
        .header("Content-Type", hmc::LOGON_REQUEST)
        .header("X-Audit-Memento", "bench")
        .body(hmc::logon_body("hscroot", "abc123"))
        .send()
        .await
        .unwrap();
    assert_eq!(logon.status(), 200);
    let token = hmc::token_of(&logon.text().await.unwrap()).unwrap();
    let first = c
        .get(format!("{base}{FEED}"))
        .header("X-API-Session", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    let body = first.bytes().await.unwrap();
    assert!(body.len() > 200_000);
    let second = c
        .get(format!("{base}{FEED}"))
        .header("X-API-Session", &token)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 304);
    let off = c
        .delete(format!("{base}{}", hmc::LOGON))
        .header("X-API-Session", &token)
        .send()
        .await
        .unwrap();
    assert!(off.status().is_success());
    started.elapsed()
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

async fn real_latency_sim() -> HmcSimHandle {
    hmcsim::start(HmcSimConfig {
        login_latency_ms: 563,
        logoff_latency_ms: 182,
        ..HmcSimConfig::default()
    })
    .await
    .unwrap()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let sims = [
        real_latency_sim().await,
        real_latency_sim().await,
        real_latency_sim().await,
    ];
    let specs: Vec<hmc::HmcSpec> = sims
        .iter()
        .enumerate()
        .map(|(i, s)| hmc::HmcSpec::of(&format!("hmc-{i}"), s, true))
        .collect();
    let listen: Vec<String> = specs
        .iter()
        .map(|s| format!("https://{}", s.listen.unwrap()))
        .collect();
    let agent = hmc::start(&specs, "");
    tokio::task::block_in_place(|| {
        for i in 0..3 {
            agent.wait_logged_on(&format!("hmc-{i}"));
        }
    });
    let pid = agent.child.id();
    let idle = rss_kib(pid, "VmRSS:");

    let direct_base = sims[0].base_url();
    let mut direct = Vec::new();
    for _ in 0..5 {
        direct.push(stats_run(&direct_base).await);
    }
    let mut through = Vec::new();
    for _ in 0..20 {
        through.push(stats_run(&listen[0]).await);
    }
    let (d, t) = (median(direct), median(through));
    println!("stats run (logon, 2 GETs, logoff; HMC logon 563 ms, logoff 182 ms):");
    println!(
        "  straight to the HMC:      median {:>8.1} ms (5 runs)",
        d.as_secs_f64() * 1e3
    );
    println!(
        "  through the agent:        median {:>8.1} ms (20 runs)",
        t.as_secs_f64() * 1e3
    );
    println!(
        "  ratio:                    {:.1}x faster through the agent",
        d.as_secs_f64() / t.as_secs_f64()
    );

    let started = Instant::now();
    let clients: Vec<_> = (0..64)
        .map(|i| {
            let base = listen[i % 3].clone();
            tokio::spawn(async move {
                for _ in 0..4 {
                    stats_run(&base).await;
                }
            })
        })
        .collect();
    for c in clients {
        c.await.unwrap();
    }
    let peak = rss_kib(pid, "VmHWM:");
    println!("resident memory with 3 HMCs:");
    println!("  idle:                     {:>8} KiB", idle);
    println!(
        "  peak, 64 concurrent clients x 4 stats runs ({:.1} s): {} KiB",
        started.elapsed().as_secs_f64(),
        peak
    );
    let sessions: usize = sims.iter().map(|s| s.sessions().len()).sum();
    println!("  HMC sessions held meanwhile: {sessions} (one per HMC)");
    assert_eq!(sessions, 3);
    drop(agent);
    for s in sims {
        s.shutdown().await;
    }
}
