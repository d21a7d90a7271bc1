//! A real Prometheus (Debian's `prometheus`) scrapes hostagentd's `api.metrics_listen`: the
//! sessions it reports by kind are the simulator's own table (`GET /_sim/sessions`) after a
//! leak and again after a clean; `promtool check metrics` accepts the exposition, which the
//! socket's `GET /metrics` serves too.

mod common;
mod metrics_support;

use std::time::Duration;

use bmcsim::Profile;
use common::daemon::{free_port, started, unix_request};
use metrics_support::{by_label, eventually, have, prometheus, promtool_check, query, SimControl};

#[tokio::test(flavor = "multi_thread")]
async fn prometheus_sees_the_simulators_table_by_kind_after_a_leak_and_after_a_clean() {
    if !common::require(
        have("prometheus") && have("promtool"),
        "prometheus and promtool (Debian package prometheus; .ci/run installs it)",
    ) {
        return;
    }
    let sim = common::sim(Profile::Ilo5).await;
    let control = SimControl::new(&sim);
    sim.leak(1, bmcsim::Kind::WebUi, Some("alice"));
    let listen = format!("127.0.0.1:{}", free_port());
    let daemon = started(
        &sim,
        &format!("[api]\nmetrics_listen = \"{listen}\"\n[reaper]\ninterval = \"1s\"\n[bmc]\nsession_limit = 16\n"),
    )
    .await;
    let prom = prometheus(&listen).await;

    control.leak(3, "rest-host").await;
    control.leak(2, "host-application").await;
    let truth = control.sessions_by_kind().await;
    assert_eq!(truth.get("rest-host"), Some(&3), "{truth:?}");
    let seen = eventually(
        Duration::from_secs(30),
        "Prometheus shows the leak",
        || async {
            let seen = by_label(&query(&prom, "hostagent_bmc_sessions").await, "kind");
            if seen == truth {
                Ok(seen)
            } else {
                Err(format!("{seen:?} vs {truth:?}"))
            }
        },
    )
    .await;
    assert_eq!(seen.get("web-ui"), Some(&1));

    let (code, v, err) = daemon.agentctl(&["clean", "--idle", "0"]);
    assert_eq!(code, Some(0), "{v} {err}");
    assert_eq!(v["deleted"].as_array().map(Vec::len), Some(5), "{v}");
    let truth = control.sessions_by_kind().await;
    assert_eq!(truth.get("rest-host"), None, "{truth:?}");
    assert_eq!(
        truth.get("web-ui"),
        Some(&1),
        "a person's session stays: {truth:?}"
    );
    eventually(
        Duration::from_secs(30),
        "Prometheus shows the clean",
        || async {
            let seen = by_label(&query(&prom, "hostagent_bmc_sessions").await, "kind");
            if seen == truth {
                Ok(())
            } else {
                Err(format!("{seen:?} vs {truth:?}"))
            }
        },
    )
    .await;

    // The counters and gauges the alert rules use, as Prometheus has them.
    let one = |series: Vec<(_, f64)>| series.first().map(|s| s.1);
    let deleted = one(query(&prom, "sum(hostagent_sessions_deleted_total)").await);
    assert_eq!(deleted, Some(5.0));
    assert_eq!(one(query(&prom, "hostagent_bmc_up").await), Some(1.0));
    assert_eq!(
        one(query(&prom, "hostagent_bmc_session_limit").await),
        Some(16.0)
    );
    assert_eq!(
        one(query(&prom, "hostagent_reaper_interval_seconds").await),
        Some(1.0)
    );
    let ran = one(query(
        &prom,
        "time() - hostagent_reaper_last_run_timestamp_seconds",
    )
    .await);
    assert!(ran.is_some_and(|s| s < 30.0), "{ran:?}");
    let rest_gets = query(
        &prom,
        "hostagent_bmc_requests_total{method=\"GET\",code=\"200\"}",
    )
    .await;
    assert!(one(rest_gets).is_some_and(|n| n > 0.0));

    // promtool lints what the listener serves; the socket serves the same metrics.
    let text = reqwest::get(format!("http://{listen}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (ok, said) = promtool_check(&text);
    assert!(ok, "promtool check metrics: {said}\n{text}");
    // A request through the proxy is counted under its listener and status.
    let (code, v, err) = daemon.agentctl(&["get", "/redfish/v1"]);
    assert_eq!(code, Some(0), "{v} {err}");
    let (status, headers, body) = unix_request(&daemon.socket, "GET", "/metrics", &[], "").await;
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let body = String::from_utf8(body).unwrap();
    assert!(
        body.contains("hostagent_bmc_sessions{kind=\"web-ui\",owner=\"foreign\"} 1"),
        "{body}"
    );
    for name in [
        "hostagent_leases ",
        "hostagent_virtual_sessions ",
        "hostagent_build_info{version=",
    ] {
        assert!(body.contains(name), "{name} in {body}");
    }
    // Only GET /metrics on the listener.
    let other = reqwest::get(format!("http://{listen}/v1/status"))
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    drop(prom);
    drop(daemon);
    sim.shutdown().await;
}

/// A daemon whose BMC never answers (nothing listens on its port) still serves its metrics:
/// the BMC down, the configured limit, and its start as the reaper's last run, which is what
/// the unreachable and stalled-reaper alerts need.
#[tokio::test(flavor = "multi_thread")]
async fn while_connecting_the_metrics_say_the_bmc_is_down_and_date_the_reaper_from_the_start() {
    hostagent::transport::https::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let creds = common::daemon::write_creds(dir.path());
    let listen = format!("127.0.0.1:{}", free_port());
    let config = dir.path().join("hostagent.toml");
    std::fs::write(
        &config,
        format!(
            "[bmc]\nendpoint = \"https://127.0.0.1:{}\"\ntls = \"pin\"\nfingerprint = \"{}\"\ncredentials_dir = \"{}\"\nsession_limit = 16\n[api]\nsocket = \"{}\"\nreader_group = \"root\"\nmetrics_listen = \"{listen}\"\n[state]\nmemory_only = true\n",
            free_port(), "ab".repeat(32), creds.display(), dir.path().join("agent.sock").display()
        ),
    )
    .unwrap();
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hostagentd"))
        .arg("--config")
        .arg(&config)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let text = eventually(
        Duration::from_secs(20),
        "the metrics listener answers",
        || async {
            let r = reqwest::get(format!("http://{listen}/metrics"))
                .await
                .map_err(|e| e.to_string())?;
            r.text().await.map_err(|e| e.to_string())
        },
    )
    .await;
    let value = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in\n{text}"))
    };
    assert_eq!(value("hostagent_bmc_up"), 0.0);
    assert_eq!(value("hostagent_bmc_session_limit"), 16.0);
    assert_eq!(value("hostagent_reaper_runs_total"), 0.0);
    assert_eq!(value("hostagent_reaper_interval_seconds"), 60.0);
    let last = value("hostagent_reaper_last_run_timestamp_seconds");
    assert!(
        (started - 1.0..started + 20.0).contains(&last),
        "{last} vs {started}"
    );
    let _ = child.kill();
    let _ = child.wait();
}
