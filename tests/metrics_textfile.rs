//! `metrics.textfile`: Debian's `prometheus-node-exporter` with `--collector.textfile.directory`
//! serves the file hostagentd writes (mode 0644, replaced each reaper cycle) with the
//! simulator's table by kind; a memory-only daemon refuses the key at start.

mod common;
mod metrics_support;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use bmcsim::Profile;
use common::daemon::Daemon;
use metrics_support::{eventually, have, node_exporter, SimControl};

/// `hostagent_bmc_sessions` by kind in an exposition (zeros left out).
fn sessions_by_kind(text: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| l.starts_with("hostagent_bmc_sessions{"))
    {
        let kind = line
            .split("kind=\"")
            .nth(1)
            .and_then(|r| r.split('"').next());
        let value = line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok());
        if let (Some(kind), Some(value)) = (kind, value) {
            if value > 0.0 {
                *out.entry(kind.to_string()).or_default() += value as u64;
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn node_exporter_serves_the_textfile_with_the_simulators_table() {
    if !common::require(
        have("prometheus-node-exporter"),
        "prometheus-node-exporter (Debian package; .ci/run installs it)",
    ) {
        return;
    }
    let sim = common::sim(Profile::Ilo5).await;
    let control = SimControl::new(&sim);
    let textfiles = tempfile::tempdir().unwrap();
    let path = textfiles.path().join("hostagent.prom");
    let daemon = Daemon::start(
        &sim,
        &format!(
            "[reaper]\ninterval = \"1s\"\n[metrics]\ntextfile = \"{}\"\n",
            path.display()
        ),
    );
    daemon.wait_ready();
    let exporter = node_exporter(textfiles.path()).await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let scrape = || async {
        let text = client
            .get(exporter.url("/metrics"))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .text()
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(text)
    };

    control.leak(4, "rest-host").await;
    let truth = control.sessions_by_kind().await;
    let text = eventually(
        Duration::from_secs(30),
        "node_exporter serves the leak",
        || async {
            let text = scrape().await?;
            let seen = sessions_by_kind(&text);
            if seen == truth {
                Ok(text)
            } else {
                Err(format!("{seen:?} vs {truth:?}"))
            }
        },
    )
    .await;
    let has = |line: &str| text.lines().any(|l| l == line);
    assert!(has("hostagent_bmc_up 1"), "{text}");
    // The collector read the file without complaint.
    assert!(has("node_textfile_scrape_error 0"), "{text}");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);

    let (code, v, err) = daemon.agentctl(&["clean", "--idle", "0"]);
    assert_eq!(code, Some(0), "{v} {err}");
    let truth = control.sessions_by_kind().await;
    assert_eq!(truth.get("rest-host"), None, "{truth:?}");
    eventually(
        Duration::from_secs(30),
        "node_exporter serves the clean",
        || async {
            let seen = sessions_by_kind(&scrape().await?);
            if seen == truth {
                Ok(())
            } else {
                Err(format!("{seen:?} vs {truth:?}"))
            }
        },
    )
    .await;
    drop(exporter);
    drop(daemon);
    sim.shutdown().await;
}

#[test]
fn a_memory_only_daemon_refuses_the_textfile_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hostagent.toml");
    std::fs::write(
        &config,
        format!(
            "[api]\nsocket = \"{}\"\n[state]\nmemory_only = true\n[metrics]\ntextfile = \"{}\"\n",
            dir.path().join("agent.sock").display(),
            dir.path().join("hostagent.prom").display()
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hostagentd"))
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("metrics.textfile")
            && said.contains("memory-only")
            && said.contains("hostagent.toml"),
        "{said}"
    );
    assert!(!dir.path().join("hostagent.prom").exists());
}
