//! The agent session against bmcsim, every profile: login, relogin after expiry, keep-alive
//! across timeouts, logout leaving the table as it was, Basic fallback on a full table, TLS
//! pinning and TOFU.

mod common;

use std::sync::Arc;

use bmcsim::{Kind as SimKind, Profile, SimConfig};
use hostagent::redfish::{ClassifyContext, Kind};
use hostagent::session::listing::{list_sessions, ListOptions};
use hostagent::session::{AgentOptions, AgentSession, AuthState, LoginOutcome, SessionError};
use hostagent::transport::https::{HttpsOptions, HttpsTransport};
use hostagent::transport::trust::{Fingerprint, MemoryPins, Trust};
use hostagent::transport::{Request, TransportError};

#[tokio::test]
async fn login_request_logout_leaves_the_table_as_it_was_on_every_profile() {
    for profile in Profile::ALL {
        let sim = common::sim(profile).await;
        sim.leak(2, SimKind::WebUi, None);
        let before: Vec<String> = sim.sessions().into_iter().map(|s| s.id).collect();
        let agent = common::agent(&sim).await;
        assert_eq!(
            agent.login().await.unwrap(),
            LoginOutcome::Session,
            "{profile}"
        );
        assert_eq!(
            sim.sessions().len(),
            before.len() + 1,
            "{profile}: one session for the agent"
        );
        let resp = agent
            .send(Request::get("/redfish/v1/SessionService"))
            .await
            .unwrap();
        assert!(resp.status.is_success(), "{profile}: {}", resp.status);
        let uri = agent.own_session_uri().await.unwrap();
        assert!(
            uri.starts_with("/redfish/v1/SessionService/Sessions/"),
            "{profile}: Location kept as a path: {uri}"
        );
        agent.logout().await.unwrap();
        let after: Vec<String> = sim.sessions().into_iter().map(|s| s.id).collect();
        assert_eq!(after, before, "{profile}");
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn a_session_the_bmc_expired_is_replaced_by_one_relogin_on_every_profile() {
    for profile in Profile::ALL {
        let sim = common::sim(profile).await;
        let agent = common::agent(&sim).await;
        agent.login().await.unwrap();
        let first = agent.own_session_uri().await.unwrap();
        sim.advance_clock(1801);
        assert!(
            sim.sessions().is_empty(),
            "{profile}: the simulator expired the session"
        );
        let resp = agent
            .send(Request::get("/redfish/v1/SessionService"))
            .await
            .unwrap();
        assert_eq!(resp.status, 200, "{profile}");
        let second = agent.own_session_uri().await.unwrap();
        assert_ne!(first, second, "{profile}");
        assert_eq!(
            sim.sessions().len(),
            1,
            "{profile}: exactly one new session"
        );
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn no_relogin_loop_when_the_login_itself_is_refused() {
    let sim = common::sim(Profile::Ilo6).await;
    let bad = hostagent::credentials::Credentials {
        user: "admin".into(),
        password: hostagent::secret::Secret::new("wrong"),
    };
    let agent = AgentSession::connect(common::transport(&sim), Some(bad), AgentOptions::default())
        .await
        .unwrap();
    match agent.login().await {
        Err(SessionError::Login(e)) => assert_eq!(e.status, 401),
        other => panic!("{other:?}"),
    }
    assert!(sim.sessions().is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn keep_alive_holds_the_session_across_three_timeouts_on_every_profile() {
    for profile in Profile::ALL {
        let sim = common::sim_with(SimConfig {
            profile,
            session_timeout: Some(600),
            ..SimConfig::default()
        })
        .await;
        let agent = common::agent(&sim).await;
        agent.login().await.unwrap();
        let uri = agent.own_session_uri().await.unwrap();
        let timeout = agent.session_timeout().await.expect("timeout");
        let interval = hostagent::session::keepalive::keep_alive_interval(Some(timeout));
        assert_eq!(interval.as_secs(), 200);
        for _ in 0..9 {
            sim.advance_clock(interval.as_secs() as i64);
            agent.keep_alive().await.unwrap();
        }
        assert_eq!(
            agent.own_session_uri().await.unwrap(),
            uri,
            "{profile}: same session after 3 timeouts of simulated time"
        );
        assert_eq!(sim.sessions().len(), 1, "{profile}");
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn a_full_table_falls_back_to_basic_auth_which_leaves_no_session() {
    for profile in [Profile::Ilo5, Profile::Idrac, Profile::Bmcweb] {
        let sim = common::sim_with(SimConfig {
            profile,
            max_sessions: Some(4),
            ..SimConfig::default()
        })
        .await;
        assert_eq!(sim.leak(4, SimKind::RestHost, None), 4);
        let agent = common::agent(&sim).await;
        assert_eq!(
            agent.login().await.unwrap(),
            LoginOutcome::BasicFallback,
            "{profile}"
        );
        assert!(matches!(agent.auth().await, AuthState::Basic));
        let listing = list_sessions(&agent, &ClassifyContext::default(), &ListOptions::default())
            .await
            .unwrap();
        assert_eq!(
            listing.sessions.len(),
            4,
            "{profile}: listing works with Basic"
        );
        assert_eq!(sim.sessions().len(), 4, "{profile}: Basic left no session");
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn a_pinned_certificate_that_changed_is_refused_naming_both_fingerprints() {
    let sim = common::sim(Profile::Ilo6).await;
    let wrong = Fingerprint::parse(&"ab".repeat(32)).unwrap();
    let t =
        HttpsTransport::new(HttpsOptions::new(sim.base_url(), Trust::Pin(wrong.clone()))).unwrap();
    let err =
        match AgentSession::connect(Arc::new(t), Some(common::creds()), AgentOptions::default())
            .await
        {
            Err(SessionError::Transport(e)) => e,
            other => panic!("{:?}", other.err()),
        };
    let actual = Fingerprint::parse(&sim.cert_sha256()).unwrap();
    match &err {
        TransportError::CertificateChanged {
            expected,
            actual: got,
        } => {
            assert_eq!(expected, &wrong.to_string());
            assert_eq!(got, &actual.to_string());
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string().contains(&wrong.to_string())
            && err.to_string().contains(&actual.to_string())
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn tofu_learns_on_first_contact_and_refuses_a_new_certificate_at_the_same_endpoint() {
    let sim = common::sim(Profile::Ilo6).await;
    let addr = sim.listen_addrs()[0];
    let pins = Arc::new(MemoryPins::default());
    let tofu = || {
        HttpsTransport::new(HttpsOptions::new(
            format!("https://{addr}"),
            Trust::Tofu(pins.clone()),
        ))
        .unwrap()
    };
    let resp = hostagent::transport::Transport::send(&tofu(), Request::get("/redfish/v1/"))
        .await
        .unwrap();
    assert_eq!(resp.status, 200);
    let learned =
        hostagent::transport::trust::PinStore::get(pins.as_ref(), &format!("https://{addr}"))
            .unwrap();
    assert_eq!(learned, Fingerprint::parse(&sim.cert_sha256()).unwrap());
    sim.shutdown().await;
    // A new simulator on the same address has a new certificate.
    let sim2 = common::sim_with(SimConfig {
        profile: Profile::Ilo6,
        listen: vec![addr],
        ..SimConfig::default()
    })
    .await;
    let err = hostagent::transport::Transport::send(&tofu(), Request::get("/redfish/v1/"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, TransportError::CertificateChanged { .. }),
        "{err:?}"
    );
    sim2.shutdown().await;
}

#[tokio::test]
async fn sessions_the_simulator_makes_are_classified_by_kind_on_every_profile() {
    for profile in Profile::ALL {
        let sim = common::sim(profile).await;
        for kind in [
            SimKind::RestHost,
            SimKind::HostApplication,
            SimKind::Rest,
            SimKind::WebUi,
            SimKind::Console,
        ] {
            sim.leak(1, kind, None);
        }
        let agent = common::agent(&sim).await;
        agent.login().await.unwrap();
        let mut ctx = ClassifyContext::hpe_default();
        ctx.in_band.push(("169.254.0.0".parse().unwrap(), 16));
        let listing = list_sessions(&agent, &ctx, &ListOptions::default())
            .await
            .unwrap();
        let truth = sim.sessions();
        assert_eq!(listing.sessions.len(), truth.len(), "{profile}");
        for s in &listing.sessions {
            let t = truth
                .iter()
                .find(|t| t.id == s.id)
                .unwrap_or_else(|| panic!("{profile}: unknown id {}", s.id));
            let expected = match (profile, t.kind) {
                (_, SimKind::HostApplication) => Kind::HostApplication,
                // NOTE(bmcweb): its sessions carry no SessionType, so a person's session cannot
                // be told from a REST one: `unknown`, never cleaned by policy.
                (Profile::Bmcweb, _) => Kind::Unknown,
                (p, SimKind::RestHost) if p.is_ilo() => Kind::RestHost,
                (_, SimKind::RestHost | SimKind::Rest) => Kind::Rest,
                (_, SimKind::WebUi) => Kind::WebUi,
                (_, SimKind::Console) => Kind::Console,
            };
            assert_eq!(s.kind, expected, "{profile} {:?} {}", t.kind, s.id);
        }
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn listing_pages_through_next_links_with_and_without_expand() {
    let sim = common::sim_with(SimConfig {
        profile: Profile::Ilo5,
        page_size: Some(7),
        max_sessions: Some(100),
        ..SimConfig::default()
    })
    .await;
    sim.leak(40, SimKind::RestHost, None);
    let agent = common::agent(&sim).await;
    agent.login().await.unwrap();
    let ctx = ClassifyContext::hpe_default();
    let expanded = list_sessions(&agent, &ctx, &ListOptions::default())
        .await
        .unwrap();
    assert_eq!(expanded.sessions.len(), 41);
    assert_eq!(expanded.requests, 6, "41 sessions in pages of 7");
    let opts = ListOptions {
        expand: false,
        ..ListOptions::default()
    };
    let fetched = list_sessions(&agent, &ctx, &opts).await.unwrap();
    assert_eq!(fetched.sessions.len(), 41);
    assert_eq!(fetched.requests, 6 + 41);
    assert!(
        fetched
            .sessions
            .iter()
            .filter(|s| s.kind == Kind::RestHost)
            .count()
            == 40
    );
    sim.shutdown().await;
}

/// Login POSTs the simulator answered with `status` since log line `from`.
fn logins(sim: &bmcsim::SimHandle, from: usize, status: u16) -> usize {
    sim.log()[from..]
        .iter()
        .filter(|e| {
            e["method"] == "POST"
                && e["path"]
                    .as_str()
                    .is_some_and(|p| p.trim_end_matches('/').ends_with("/Sessions"))
                && e["status"] == status
        })
        .count()
}

/// 30 requests spread over 0.6 s, the first right after `revoke`, with the answers.
async fn load(agent: &Arc<AgentSession>) -> Vec<Result<u16, SessionError>> {
    let tasks: Vec<_> = (0..30u64)
        .map(|i| {
            let agent = agent.clone();
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(i * 20)).await;
                agent
                    .send(Request::get("/redfish/v1/SessionService"))
                    .await
                    .map(|r| r.status.as_u16())
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_during_a_relogin_wait_for_it_and_one_revocation_makes_one_login() {
    let sim = common::sim_with(SimConfig {
        profile: Profile::Ilo6,
        login_latency_ms: 300,
        ..SimConfig::default()
    })
    .await;
    let agent = Arc::new(common::agent(&sim).await);
    agent.login().await.unwrap();
    let old = sim.sessions()[0].id.clone();
    let mark = sim.log().len();
    assert!(sim.revoke(&old));
    let answers = load(&agent).await;
    let statuses: Vec<u16> = answers.into_iter().map(|a| a.unwrap()).collect();
    assert!(
        statuses.iter().all(|s| *s == 200),
        "no request saw the relogin: {statuses:?}"
    );
    assert_eq!(logins(&sim, mark, 201), 1, "one revocation, one login");
    let table = sim.sessions();
    assert_eq!(table.len(), 1, "only the new session");
    assert_ne!(table[0].id, old);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_relogin_is_shared_by_the_requests_that_waited_for_it() {
    let sim = common::sim_with(SimConfig {
        profile: Profile::Ilo6,
        login_latency_ms: 300,
        ..SimConfig::default()
    })
    .await;
    let agent = Arc::new(common::agent(&sim).await);
    agent.login().await.unwrap();
    let c = common::http();
    c.post(format!("{}/_sim/account", sim.base_url()))
        .json(&serde_json::json!({ "password": "changed" }))
        .send()
        .await
        .unwrap();
    let mark = sim.log().len();
    assert!(sim.revoke(&sim.sessions()[0].id));
    let answers = load(&agent).await;
    for a in &answers {
        match a {
            Err(e) => assert!(e.to_string().contains("401"), "{e}"),
            Ok(status) => panic!("a request reached the BMC without a session: {status}"),
        }
    }
    assert_eq!(
        logins(&sim, mark, 401),
        1,
        "one refused login for all of them (never a login per request)"
    );
    assert!(sim.sessions().is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn after_a_spurious_401_the_old_session_is_deleted_once_the_new_one_holds() {
    for profile in [Profile::Ilo6, Profile::Idrac, Profile::Bmcweb] {
        let sim = common::sim(profile).await;
        let agent = common::agent(&sim).await;
        agent.login().await.unwrap();
        let old = sim.sessions()[0].id.clone();
        sim.set_faults(bmcsim::Faults {
            fail_next: 1,
            fail_status: Some(401),
            ..bmcsim::Faults::default()
        });
        let resp = agent
            .send(Request::get("/redfish/v1/SessionService"))
            .await
            .unwrap();
        assert_eq!(resp.status, 200, "{profile}: retried with the new session");
        let table = sim.sessions();
        assert_eq!(
            table.len(),
            1,
            "{profile}: the old session is gone: {table:?}"
        );
        assert_ne!(table[0].id, old, "{profile}");
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn the_bmc_says_when_it_last_booted_and_a_reboot_moves_it() {
    for profile in [Profile::Ilo6, Profile::Idrac, Profile::Bmcweb] {
        let sim = common::sim(profile).await;
        let agent = common::agent(&sim).await;
        agent.login().await.unwrap();
        let first = hostagent::session::boot::last_boot(&agent)
            .await
            .unwrap_or_else(|| panic!("{profile}: no LastResetTime"));
        sim.advance_clock(600);
        sim.reboot();
        // The reboot dropped the agent's session: the read logs in again.
        let second = hostagent::session::boot::last_boot(&agent).await.unwrap();
        assert!(
            second >= first + time::Duration::seconds(600),
            "{profile}: {first} then {second}"
        );
        sim.shutdown().await;
    }
}
