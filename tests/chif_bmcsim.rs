//! The CHIF transport end to end: hostagent → HPE's CHIF ABI (libchifsim.so, loaded by path
//! with the real dlopen/FFI/packet code) → bmcsim. In Production mode the agent holds no
//! session at all, lists and cleans without one, and sessions made through CHIF are RESTHost.

mod chif_support;
mod common;

use std::sync::Arc;
use std::time::Duration;

use bmcsim::{Kind as SimKind, Profile, SimConfig};
use chif_support::ChifSim;
use hostagent::reaper::{CleanOptions, Policy};
use hostagent::redfish::{ClassifyContext, Kind};
use hostagent::service::Service;
use hostagent::session::{AgentOptions, AgentSession, AuthState, LoginOutcome};
use hostagent::transport::chif::ChifTransport;

async fn chif_agent(sim: &bmcsim::SimHandle, chif: &ChifSim) -> Arc<AgentSession> {
    chif.set_target(&sim.base_url());
    let transport = ChifTransport::connect(chif.config())
        .await
        .expect("chif transport");
    Arc::new(
        AgentSession::connect(Arc::new(transport), None, AgentOptions::default())
            .await
            .expect("service root over CHIF"),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn production_mode_needs_no_session_to_list_and_clean() {
    for profile in [Profile::Ilo5, Profile::Ilo6] {
        let sim = common::sim_with(SimConfig {
            profile,
            max_sessions: Some(60),
            ..SimConfig::default()
        })
        .await;
        sim.leak(40, SimKind::RestHost, None);
        sim.leak(2, SimKind::WebUi, Some("alice"));
        sim.advance_clock(20 * 60);
        let chif = ChifSim::new();
        let agent = chif_agent(&sim, &chif).await;
        assert_eq!(
            agent.login().await.unwrap(),
            LoginOutcome::Sessionless,
            "{profile}"
        );
        assert!(matches!(agent.auth().await, AuthState::Sessionless));
        let service = Service::new(agent.clone(), ClassifyContext::hpe_default(), None);
        let list = service.list(&[]).await.unwrap();
        assert_eq!(
            list.sessions.len(),
            42,
            "{profile}: no session of the agent's own"
        );
        assert!(
            chif.counter("rest_response_blob") >= 1,
            "{profile}: the expanded collection came through the response blob"
        );
        let policy = Policy {
            kinds: vec![Kind::RestHost],
            idle: Duration::from_secs(900),
            keep_users: vec![],
            force: false,
            ids: vec![],
        };
        let report = service
            .clean(&policy, &CleanOptions::default(), &|_, _| {})
            .await
            .unwrap();
        assert_eq!(report.deleted.len(), 40, "{profile}: {:?}", report.failed);
        let left = sim.sessions();
        assert_eq!(left.len(), 2);
        assert!(left.iter().all(|s| s.user == "alice"));
        sim.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_made_over_chif_is_rest_host_of_the_system_administrator() {
    let sim = common::sim(Profile::Ilo5).await;
    let chif = ChifSim::new();
    let agent = chif_agent(&sim, &chif).await;
    let lease = agent.create_session(None).await.unwrap();
    let truth = sim.sessions();
    assert_eq!(truth.len(), 1);
    assert_eq!(
        (truth[0].kind, truth[0].user.as_str()),
        (SimKind::RestHost, "System Administrator")
    );
    assert!(
        lease.uri.contains("system%20administrator"),
        "{}",
        lease.uri
    );
    let service = Service::new(agent.clone(), ClassifyContext::hpe_default(), None);
    let rows = service.list(&[]).await.unwrap().sessions;
    assert_eq!(rows[0].kind, Kind::RestHost);
    hostagent::session::listing::delete_session(&agent, &lease.uri)
        .await
        .unwrap();
    assert!(sim.sessions().is_empty());
    sim.shutdown().await;
}
