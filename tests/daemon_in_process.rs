//! `hostagent::daemon::run` driven in-process, as `hostagentd` drives it: a socket bound by the
//! same function, settings loaded by the same loader, the typed client agentctl uses, and a
//! shutdown future. No process is started; the test sees what the daemon does to the BMC.

mod common;

use std::time::Duration;

use bmcsim::{Kind as SimKind, Profile};
use hostagent::agentctl::client::DaemonClient;
use hostagent::config::{self, Sources};
use hostagent::reaper::{CleanReport, CleanRequest};
use hostagent::service::StatusReport;
use http::Method;

#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_serves_cleans_and_logs_out_when_told_to_stop() {
    let sim = common::sim(Profile::Ilo6).await;
    let dir = tempfile::tempdir().unwrap();
    let creds = common::daemon::write_creds(dir.path());
    let socket = dir.path().join("run/agent.sock");
    let config = dir.path().join("hostagent.toml");
    std::fs::write(
        &config,
        format!(
            "[bmc]\nendpoint = \"{}\"\ntls = \"pin\"\nfingerprint = \"{}\"\ncredentials_dir = \"{}\"\n[api]\nsocket = \"{}\"\nreader_group = \"root\"\n[state]\nmemory_only = true\n",
            sim.base_url(), sim.cert_sha256(), creds.display(), socket.display()
        ),
    )
    .unwrap();
    let settings = config::load(&Sources {
        main: Some(config),
        flags: Vec::new(),
    })
    .unwrap();
    let listener = hostagent::api::socket::bind(&socket, "root").unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let daemon = tokio::spawn(hostagent::daemon::run(
        settings,
        "/sys".into(),
        listener,
        async {
            let _ = stopped.await;
        },
    ));

    let client = DaemonClient::new(&socket, Duration::from_secs(10));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status: StatusReport = loop {
        let s: StatusReport = client
            .call(Method::GET, "/v1/status", None::<&()>)
            .await
            .unwrap();
        if s.state.as_deref() == Some("ready") {
            break s;
        }
        assert!(std::time::Instant::now() < deadline, "never ready: {s:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.agent_session, "{status:?}");
    assert_eq!(sim.sessions().len(), 1, "only the agent's session");

    sim.leak(3, SimKind::RestHost, None);
    sim.advance_clock(20 * 60);
    let report: CleanReport = client
        .call(Method::POST, "/v1/clean", Some(&CleanRequest::default()))
        .await
        .unwrap();
    assert_eq!(report.deleted.len(), 3, "{report:?}");
    assert_eq!(sim.sessions().len(), 1, "the leaked sessions are gone");

    stop.send(()).unwrap();
    daemon.await.unwrap().unwrap();
    assert!(
        sim.sessions().is_empty(),
        "logged out at shutdown: {:?}",
        sim.sessions()
    );
    sim.shutdown().await;
}
