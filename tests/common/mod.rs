//! Shared test support: a simulator with an agent session pointed at it, and the rule for
//! tests that need root or outside tools (skip with a reason; fail when CI requires them).
#![allow(dead_code)]

pub mod daemon;
pub mod hmc;

use std::sync::Arc;

use bmcsim::{Profile, SimConfig, SimHandle};
use hostagent::credentials::Credentials;
use hostagent::secret::Secret;
use hostagent::session::{AgentOptions, AgentSession};
use hostagent::transport::https::{HttpsOptions, HttpsTransport};
use hostagent::transport::trust::{Fingerprint, Trust};
use hostagent::transport::Transport;

/// Skips (returns false, printing why) unless the condition holds; panics instead when
/// `HOSTAGENT_REQUIRE_PRIVILEGED=1`, so CI cannot pass by skipping.
pub fn require(condition: bool, what: &str) -> bool {
    if condition {
        return true;
    }
    if std::env::var("HOSTAGENT_REQUIRE_PRIVILEGED").as_deref() == Ok("1") {
        panic!("required for this test and missing: {what}");
    }
    eprintln!("SKIPPED: {what}");
    false
}

pub fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

pub async fn sim(profile: Profile) -> SimHandle {
    sim_with(SimConfig {
        profile,
        ..SimConfig::default()
    })
    .await
}

pub async fn sim_with(cfg: SimConfig) -> SimHandle {
    bmcsim::start(cfg).await.expect("bmcsim starts")
}

/// An HTTPS transport pinned to the simulator's certificate.
pub fn transport(sim: &SimHandle) -> Arc<dyn Transport> {
    let fp = Fingerprint::parse(&sim.cert_sha256()).expect("sim fingerprint");
    Arc::new(
        HttpsTransport::new(HttpsOptions::new(sim.base_url(), Trust::Pin(fp))).expect("transport"),
    )
}

pub fn creds() -> Credentials {
    Credentials {
        user: "admin".into(),
        password: Secret::new("password"),
    }
}

pub async fn agent(sim: &SimHandle) -> AgentSession {
    AgentSession::connect(transport(sim), Some(creds()), AgentOptions::default())
        .await
        .expect("service root")
}

/// A plain client for ground truth and control calls.
pub fn http() -> reqwest::Client {
    hostagent::transport::https::install_crypto_provider();
    reqwest::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .no_proxy()
        .build()
        .unwrap()
}
