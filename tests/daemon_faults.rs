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
                ..CleanOptions::default()
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
                    ..CleanOptions::default()
                },
                &|_, _| {},
            )
            .await
        }
    });
    // Mid-clean: once some DELETEs have gone through.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while sim.sessions().len() > 95 {
        assert!(
            std::time::Instant::now() < deadline,
            "the clean never started"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let c = common::http();
    let reset_at = std::time::Instant::now();
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
    // The reset dropped the agent's session too: the first request once the BMC is back up
    // logs in again.
    let up = reset_at + Duration::from_millis(500);
    let status = loop {
        match svc.status().await {
            Ok(status) => break status,
            Err(e) => {
                assert!(reset_at.elapsed() < Duration::from_secs(10), "{e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    let now = std::time::Instant::now();
    eprintln!(
        "RECOVERY bmc reset mid-clean (from the BMC back up): {} ms",
        now.saturating_duration_since(up).as_millis()
    );
    assert!(status.agent_session);
    assert_eq!(
        status.sessions.total, 1,
        "only the agent's new session after the reset"
    );
    sim.shutdown().await;
}

async fn deletes_of(sim: &bmcsim::SimHandle, id: &str) -> usize {
    let log: serde_json::Value = common::http()
        .get(format!("{}/_sim/log", sim.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    log.as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["method"] == "DELETE"
                && e["path"]
                    .as_str()
                    .unwrap()
                    .contains(&id.replace(' ', "%20"))
        })
        .count()
}

#[tokio::test]
async fn a_session_the_bmc_will_not_delete_is_kept_with_its_status_and_not_tried_again() {
    for (profile, status) in [(Profile::Ilo6, 405), (Profile::Idrac, 403)] {
        let sim = common::sim_with(SimConfig {
            profile,
            max_sessions: Some(64),
            ..SimConfig::default()
        })
        .await;
        let kind = if profile.is_ilo() {
            "rest-host"
        } else {
            "host-application"
        };
        let emergency = sim.leak_with(serde_json::json!({"kind": kind, "undeletable": true}));
        let stale = sim.leak_with(serde_json::json!({"count": 2, "kind": kind}));
        sim.advance_clock(20 * 60);
        let agent = common::agent(&sim).await;
        agent.login().await.unwrap();
        let mut classify = ClassifyContext::hpe_default();
        classify.in_band.push(("169.254.0.0".parse().unwrap(), 16));
        let svc = Service::new(Arc::new(agent), classify, None);
        let mut policy = policy();
        policy.kinds.push(Kind::HostApplication);
        let first = svc
            .clean(&policy, &CleanOptions::default(), &|_, _| {})
            .await
            .unwrap();
        assert_eq!(first.deleted.len(), 2, "{profile}: {first:?}");
        assert!(first.failed.is_empty(), "{profile}: {first:?}");
        let kept = first.kept.iter().find(|k| k.id == emergency[0]).unwrap();
        assert_eq!(kept.status, Some(status), "{profile}: {kept:?}");
        assert!(
            kept.reason.contains(&format!("HTTP {status}")),
            "{profile}: the reason names the status: {kept:?}"
        );
        assert_eq!(deletes_of(&sim, &emergency[0]).await, 1, "{profile}");
        assert!(stale
            .iter()
            .all(|id| !sim.sessions().iter().any(|s| &s.id == id)));
        for _ in 0..2 {
            let again = svc
                .clean(&policy, &CleanOptions::default(), &|_, _| {})
                .await
                .unwrap();
            let kept = again.kept.iter().find(|k| k.id == emergency[0]).unwrap();
            assert_eq!(kept.status, Some(status), "{profile}: {kept:?}");
            assert!(
                again.failed.is_empty() && again.deleted.is_empty(),
                "{again:?}"
            );
        }
        assert_eq!(
            deletes_of(&sim, &emergency[0]).await,
            1,
            "{profile}: later cycles send no DELETE for it"
        );
        assert!(sim.sessions().iter().any(|s| s.id == emergency[0]));
        sim.shutdown().await;
    }
}
