//! DSP0270 credential bootstrapping end to end against bmcsim, with a scripted IPMI stand-in
//! (hosts here have no `/dev/ipmi0`): the fingerprint from IPMI pins TLS before the first
//! connection, the bootstrap account logs in, a different fingerprint is refused naming both,
//! and after a BMC reset that replaced the account the agent asks IPMI again once.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use bmcsim::{Profile, SimConfig, SimHandle};
use hostagent::config::{load, Settings, Sources};
use hostagent::connect::{service_with_ipmi, ConnectError, Mode};
use hostagent::ipmi::bootstrap::{CMD_GET_BOOTSTRAP_CREDENTIALS, CMD_GET_FINGERPRINT};
use hostagent::ipmi::fake::{credentials_answer, FakeIpmi};
use hostagent::ipmi::{Ipmi, IpmiRequest};
use hostagent::session::{AuthState, SessionError};
use hostagent::transport::trust::Fingerprint;
use hostagent::transport::{Request, TransportError};

const USER: &str = "bootstrap0";
const PASSWORD: &str = "Pw4!xYz9qR7#tU2";
const NEW_USER: &str = "bootstrap1";
const NEW_PASSWORD: &str = "N3w&pass0rd*Kk8";

/// Everything the agent logs during these tests, to check that no password shows up.
fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = Capture(buf.clone());
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter("hostagent=trace")
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("one subscriber per test binary");
        buf
    })
}

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn digest(sim: &SimHandle) -> [u8; 32] {
    hex::decode(sim.cert_sha256()).unwrap().try_into().unwrap()
}

/// An explicit endpoint with the shipped `tls = "tofu"`, memory-only: only the IPMI pin
/// stands between the agent and any certificate.
fn settings(sim: &SimHandle, dir: &std::path::Path) -> Settings {
    let text = format!(
        "[bmc]\nendpoint = \"{}\"\ncredential_bootstrapping = \"always\"\n[state]\nmemory_only = true\ndir = \"{}\"\n",
        sim.base_url(),
        dir.display()
    );
    let path = dir.join("hostagent.toml");
    std::fs::write(&path, text).unwrap();
    load(&Sources {
        main: Some(path),
        flags: vec![],
    })
    .unwrap()
}

async fn bootstrapped_sim() -> SimHandle {
    // No credential files may take precedence over bootstrapping here.
    std::env::remove_var("CREDENTIALS_DIRECTORY");
    common::sim_with(SimConfig {
        profile: Profile::Bmcweb,
        user: USER.into(),
        password: PASSWORD.into(),
        ..SimConfig::default()
    })
    .await
}

#[tokio::test]
async fn the_ipmi_fingerprint_pins_tls_and_the_bootstrap_account_logs_in() {
    logs();
    let sim = bootstrapped_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let fake = Arc::new(FakeIpmi::bootstrapping(&digest(&sim), USER, PASSWORD));
    let ipmi: Arc<dyn Ipmi> = fake.clone();
    let service = service_with_ipmi(
        &settings(&sim, dir.path()),
        dir.path(),
        &Mode::Standalone,
        Some(ipmi),
    )
    .await
    .unwrap();
    assert!(matches!(
        service.agent.auth().await,
        AuthState::Session { .. }
    ));
    let sessions = sim.sessions();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].user, USER);
    assert_eq!(
        fake.requests(),
        vec![
            IpmiRequest {
                netfn: 0x2c,
                cmd: 0x01,
                data: vec![0x52, 0x01]
            },
            IpmiRequest {
                netfn: 0x2c,
                cmd: 0x02,
                data: vec![0x52, 0xa5]
            },
        ],
        "the fingerprint first, then the account, keeping bootstrapping enabled"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "nothing written beside the config"
    );
    service.agent.logout().await.unwrap();
    sim.shutdown().await;
}

#[tokio::test]
async fn a_different_fingerprint_from_ipmi_is_refused_naming_both() {
    logs();
    let sim = bootstrapped_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let fake = Arc::new(FakeIpmi::bootstrapping(&[0xaa; 32], USER, PASSWORD));
    let err = service_with_ipmi(
        &settings(&sim, dir.path()),
        dir.path(),
        &Mode::Standalone,
        Some(fake),
    )
    .await
    .err()
    .expect("refused");
    let ConnectError::Session(SessionError::Transport(TransportError::CertificateChanged {
        expected,
        actual,
    })) = &err
    else {
        panic!("not a certificate refusal: {err}");
    };
    let real = Fingerprint::parse(&sim.cert_sha256()).unwrap().to_string();
    assert_eq!(expected, &Fingerprint::from_bytes([0xaa; 32]).to_string());
    assert_eq!(actual, &real);
    let text = err.to_string();
    assert!(
        text.contains(&real) && text.contains("sha256:AA:AA:AA"),
        "{text}"
    );
    assert!(sim.sessions().is_empty(), "no login went out");
    sim.shutdown().await;
}

#[tokio::test]
async fn an_operator_pin_that_disagrees_with_ipmi_is_refused_naming_both() {
    logs();
    let sim = bootstrapped_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings(&sim, dir.path());
    settings.bmc.tls = hostagent::config::TlsChoice::Pin;
    settings.bmc.fingerprint = Some(Fingerprint::from_bytes([0xbb; 32]).to_string());
    let fake = Arc::new(FakeIpmi::bootstrapping(&digest(&sim), USER, PASSWORD));
    let err = service_with_ipmi(&settings, dir.path(), &Mode::Standalone, Some(fake))
        .await
        .err()
        .expect("refused");
    let text = err.to_string();
    let real = Fingerprint::parse(&sim.cert_sha256()).unwrap().to_string();
    assert!(
        text.contains("sha256:BB:BB") && text.contains(&real) && text.contains("bmc.fingerprint"),
        "{text}"
    );
    assert!(sim.sessions().is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn after_a_bmc_reset_the_agent_asks_ipmi_again_once_and_logs_in() {
    logs();
    let sim = bootstrapped_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let fake = Arc::new(FakeIpmi::bootstrapping(&digest(&sim), USER, PASSWORD));
    let service = service_with_ipmi(
        &settings(&sim, dir.path()),
        dir.path(),
        &Mode::Standalone,
        Some(fake.clone()),
    )
    .await
    .unwrap();

    // The BMC resets: its sessions are gone and so is the bootstrap account; IPMI now hands
    // out a new one.
    let http = common::http();
    let account = serde_json::json!({ "user": NEW_USER, "password": NEW_PASSWORD });
    let resp = http
        .post(format!("{}/_sim/account", sim.base_url()))
        .json(&account)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success() && !resp.text().await.unwrap().contains(NEW_PASSWORD));
    http.post(format!("{}/_sim/reset", sim.base_url()))
        .json(&serde_json::json!({ "down_s": 1 }))
        .send()
        .await
        .unwrap();
    fake.answer_always(
        CMD_GET_BOOTSTRAP_CREDENTIALS,
        credentials_answer(NEW_USER, NEW_PASSWORD),
    );
    sim.until_up().await;

    let resp = service
        .agent
        .send(Request::get("/redfish/v1/SessionService"))
        .await
        .unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(
        fake.count(CMD_GET_BOOTSTRAP_CREDENTIALS),
        2,
        "asked again exactly once"
    );
    assert_eq!(fake.count(CMD_GET_FINGERPRINT), 1);
    let users: Vec<String> = sim.sessions().into_iter().map(|s| s.user).collect();
    assert_eq!(users, vec![NEW_USER.to_string()]);

    // When IPMI then says bootstrapping is off, the refused login says so, once.
    http.post(format!("{}/_sim/account", sim.base_url()))
        .json(&serde_json::json!({ "user": "admin", "password": "other" }))
        .send()
        .await
        .unwrap();
    http.post(format!("{}/_sim/reset", sim.base_url()))
        .json(&serde_json::json!({ "down_s": 0 }))
        .send()
        .await
        .unwrap();
    fake.answer_always(CMD_GET_BOOTSTRAP_CREDENTIALS, vec![0x80]);
    let err = service
        .agent
        .send(Request::get("/redfish/v1/SessionService"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SessionError::Refresh(m) if m.contains("80h") && m.contains("disabled")),
        "{err}"
    );
    assert_eq!(fake.count(CMD_GET_BOOTSTRAP_CREDENTIALS), 3, "no loop");

    let logged = String::from_utf8_lossy(&logs().lock().unwrap()).to_string();
    assert!(
        logged.contains("asking the BMC for new bootstrap credentials"),
        "{logged}"
    );
    for secret in [PASSWORD, NEW_PASSWORD] {
        assert!(!logged.contains(secret), "a password was logged");
        assert!(!format!("{err:?}").contains(secret));
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refused_logins_ask_ipmi_once() {
    logs();
    let sim = bootstrapped_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let fake = Arc::new(FakeIpmi::bootstrapping(&digest(&sim), USER, PASSWORD));
    let service = service_with_ipmi(
        &settings(&sim, dir.path()),
        dir.path(),
        &Mode::Standalone,
        Some(fake.clone()),
    )
    .await
    .unwrap();
    let http = common::http();
    let account = serde_json::json!({ "user": NEW_USER, "password": NEW_PASSWORD });
    http.post(format!("{}/_sim/account", sim.base_url()))
        .json(&account)
        .send()
        .await
        .unwrap();
    http.post(format!("{}/_sim/reset", sim.base_url()))
        .json(&serde_json::json!({ "down_s": 0 }))
        .send()
        .await
        .unwrap();
    fake.answer_always(
        CMD_GET_BOOTSTRAP_CREDENTIALS,
        credentials_answer(NEW_USER, NEW_PASSWORD),
    );

    // The agent's own relogin and a lease's login race after the reset.
    let agent = service.agent.clone();
    let (a, b) = tokio::join!(
        agent.send(Request::get("/redfish/v1/SessionService")),
        service.agent.create_session(None)
    );
    assert_eq!(a.unwrap().status, 200);
    b.unwrap();
    assert_eq!(
        fake.count(CMD_GET_BOOTSTRAP_CREDENTIALS),
        2,
        "one new bootstrap account for both"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn with_a_full_table_basic_auth_asks_ipmi_again_when_the_account_is_gone() {
    logs();
    std::env::remove_var("CREDENTIALS_DIRECTORY");
    let cfg = SimConfig {
        profile: Profile::Bmcweb,
        user: USER.into(),
        password: PASSWORD.into(),
        max_sessions: Some(2),
        ..SimConfig::default()
    };
    let sim = common::sim_with(cfg).await;
    sim.leak(2, bmcsim::Kind::WebUi, Some("alice"));
    let dir = tempfile::tempdir().unwrap();
    let fake = Arc::new(FakeIpmi::bootstrapping(&digest(&sim), USER, PASSWORD));
    let service = service_with_ipmi(
        &settings(&sim, dir.path()),
        dir.path(),
        &Mode::Standalone,
        Some(fake.clone()),
    )
    .await
    .unwrap();
    assert!(
        matches!(service.agent.auth().await, AuthState::Basic),
        "the table is full: Basic auth"
    );

    // The bootstrap account is replaced (as a BMC reset does); IPMI hands out the new one.
    let account = serde_json::json!({ "user": NEW_USER, "password": NEW_PASSWORD });
    common::http()
        .post(format!("{}/_sim/account", sim.base_url()))
        .json(&account)
        .send()
        .await
        .unwrap();
    fake.answer_always(
        CMD_GET_BOOTSTRAP_CREDENTIALS,
        credentials_answer(NEW_USER, NEW_PASSWORD),
    );

    let resp = service
        .agent
        .send(Request::get("/redfish/v1/SessionService"))
        .await
        .unwrap();
    assert_eq!(
        resp.status, 200,
        "the request went through with the new account"
    );
    assert_eq!(
        fake.count(CMD_GET_BOOTSTRAP_CREDENTIALS),
        2,
        "asked again exactly once"
    );
    let resp = service
        .agent
        .send(Request::get("/redfish/v1/SessionService"))
        .await
        .unwrap();
    assert_eq!(
        (
            resp.status.as_u16(),
            fake.count(CMD_GET_BOOTSTRAP_CREDENTIALS)
        ),
        (200, 2),
        "and kept using it"
    );
    assert_eq!(sim.sessions().len(), 2, "Basic auth left no session");
    sim.shutdown().await;
}
