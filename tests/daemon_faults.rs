//! A misbehaving BMC: malformed JSON, 500s, a reset in the middle of a clean. The agent keeps
//! running, reports what failed, and the next clean finishes the job.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bmcsim::{Faults, Kind as SimKind, Profile, SimConfig};
use hostagent::reaper::{CleanOptions, Policy};
use hostagent::redfish::{ClassifyContext, Kind};
use hostagent::service::Service;

fn policy() -> Policy {
    Policy {
        kinds: vec![Kind::RestHost],
        idle: Duration::from_secs(900),
        keep_users: vec![],
        force: false,
        ids: vec![],
    }
}

async fn service(sim: &bmcsim::SimHandle) -> Service {
    let agent = common::agent(sim).await;
    agent.login().await.unwrap();
    Service::new(Arc::new(agent), ClassifyContext::hpe_default(), None)
}

#[tokio::test]
async fn malformed_json_fails_one_clean_and_the_next_one_finishes() {
    let sim = common::sim_with(SimConfig {
        profile: Profile::Ilo5,
        max_sessions: Some(64),
        ..SimConfig::default()
    })
    .await;
    sim.leak(30, SimKind::RestHost, None);
    sim.advance_clock(20 * 60);
    let svc = service(&sim).await;
    sim.set_faults(Faults {
        malformed_next: 1,
        ..Faults::default()
    });
    let err = svc
        .clean(&policy(), &CleanOptions::default(), &|_, _| {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains("malformed"), "{err}");
    assert_eq!(
        sim.sessions().len(),
        31,
        "nothing deleted on a listing it could not read"
    );
    let report = svc
        .clean(&policy(), &CleanOptions::default(), &|_, _| {})
        .await
        .unwrap();
    assert_eq!(report.deleted.len(), 30);
    sim.shutdown().await;
}

#[tokio::test]
async fn failed_deletes_are_reported_each_and_the_rest_go_on() {
    let sim = common::sim_with(SimConfig {
        profile: Profile::Ilo6,
        max_sessions: Some(64),
        ..SimConfig::default()
    })
    .await;
    sim.leak(20, SimKind::RestHost, None);
    sim.advance_clock(20 * 60);
    let svc = service(&sim).await;
    // The listing succeeds, then the first 5 requests after it (DELETEs) answer 500.
    let listing_then_fail = async {
        let (sessions, now) = svc.sessions().await.unwrap();
        sim.set_faults(Faults {
            fail_next: 5,
            ..Faults::default()
        });
        let owners = svc.owners().await;
        hostagent::reaper::clean(
            &svc.agent,
            sessions,
            now,
            &owners,
            &policy(),
            &CleanOptions {
                dry_run: false,
                concurrency: 1,
            },
            &|_, _| {},
        )
        .await
    };
    let report = listing_then_fail.await;
    assert_eq!(report.failed.len(), 5, "{:?}", report.failed);
    assert_eq!(report.deleted.len(), 15);
    assert!(
        report.failed.iter().all(|f| f.error.contains("500")),
        "{:?}",
        report.failed
    );
    let again = svc
        .clean(&policy(), &CleanOptions::default(), &|_, _| {})
        .await
        .unwrap();
    assert_eq!(again.deleted.len(), 5, "the next cycle finishes the job");
    assert!(again.failed.is_empty());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bmc_reset_mid_clean_is_survived_and_the_agent_logs_in_again() {
    let sim = common::sim_with(SimConfig {
        profile: Profile::Ilo5,
        max_sessions: Some(128),
        ..SimConfig::default()
    })
    .await;
    sim.leak(100, SimKind::RestHost, None);
    sim.advance_clock(20 * 60);
    let svc = Arc::new(service(&sim).await);
    sim.set_faults(Faults {
        delete_latency_ms: 20,
        ..Faults::default()
    });
    let cleaning = tokio::spawn({
        let svc = svc.clone();
        async move {
            svc.clean(
                &policy(),
                &CleanOptions {
                    dry_run: false,
                    concurrency: 2,
                },
                &|_, _| {},
            )
            .await
        }
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let c = common::http();
    c.post(format!("{}/_sim/reset", sim.base_url()))
        .json(&serde_json::json!({"down_s": 0.5}))
        .send()
        .await
        .unwrap();
    let report = cleaning.await.unwrap().unwrap();
    assert!(
        !report.failed.is_empty(),
        "DELETEs during the reset fail and are reported"
    );
    assert!(report.deleted.len() < 100);
    tokio::time::sleep(Duration::from_millis(700)).await;
    // The reset dropped the agent's session too: the next request logs in again.
    let status = svc.status().await.unwrap();
    assert!(status.agent_session);
    assert_eq!(
        status.sessions.total, 1,
        "only the agent's new session after the reset"
    );
    sim.shutdown().await;
}
