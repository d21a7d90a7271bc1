//! What the metrics cost: a real Prometheus scraping hostagentd every second for a minute adds
//! no request to the BMC (the simulator's request log stays empty: the metrics come from the
//! last listing and counters) and leaves the daemon's RSS within 1 MB of where it was.

mod common;
mod metrics_support;

use std::time::Duration;

use bmcsim::Profile;
use common::daemon::{free_port, started};
use metrics_support::{eventually, have, prometheus, query, SimControl};

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status")
}

/// How many scrapes of hostagentd Prometheus has recorded.
async fn scrapes(prom: &metrics_support::Engine) -> u64 {
    let series = query(prom, "count_over_time(up{job=\"hostagent\"}[10m])").await;
    series.first().map_or(0, |s| s.1 as u64)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_minute_of_scrapes_every_second_sends_nothing_to_the_bmc_and_keeps_rss_flat() {
    if !common::require(
        have("prometheus"),
        "prometheus (Debian package prometheus; .ci/run installs it)",
    ) {
        return;
    }
    let sim = common::sim(Profile::Ilo5).await;
    let control = SimControl::new(&sim);
    sim.leak(3, bmcsim::Kind::RestHost, None);
    let listen = format!("127.0.0.1:{}", free_port());
    // No reaper cycle and no keep-alive (5 minutes for this BMC) within the test.
    let daemon = started(
        &sim,
        &format!("[api]\nmetrics_listen = \"{listen}\"\n[reaper]\ninterval = \"1h\"\n"),
    )
    .await;
    let prom = prometheus(&listen).await;
    // Warm up: the first scrapes size the buffers.
    eventually(Duration::from_secs(30), "5 scrapes", || async {
        let n = scrapes(&prom).await;
        if n >= 5 {
            Ok(n)
        } else {
            Err(n.to_string())
        }
    })
    .await;
    control.clear_log().await;
    let before = rss_kb(daemon.child.id());
    let start = scrapes(&prom).await;
    eventually(Duration::from_secs(120), "60 more scrapes", || async {
        let n = scrapes(&prom).await;
        if n >= start + 60 {
            Ok(n)
        } else {
            Err(n.to_string())
        }
    })
    .await;
    let after = rss_kb(daemon.child.id());
    let up = query(&prom, "up{job=\"hostagent\"}").await;
    assert_eq!(up.first().map(|s| s.1), Some(1.0), "every scrape succeeded");
    let log = control.log().await;
    assert!(log.is_empty(), "scrapes caused BMC requests: {log:?}");
    assert!(
        after <= before + 1024,
        "RSS grew from {before} kB to {after} kB over 60 scrapes"
    );
    drop(prom);
    drop(daemon);
    sim.shutdown().await;
}
