//! Listing 1,000 sessions on bmcsim: one `$expand=.` read versus the collection plus one GET
//! per member (8 in flight), on a bare loopback and with 5 ms of BMC latency per request.
//! The expanded listing is the baseline of the printed ratios.
//!
//! `cargo bench --bench listing`

use std::sync::Arc;
use std::time::Instant;

use bmcsim::{Kind, Profile, SimConfig};
use hostagent::credentials::Credentials;
use hostagent::redfish::ClassifyContext;
use hostagent::secret::Secret;
use hostagent::session::listing::{list_sessions, ListOptions};
use hostagent::session::{AgentOptions, AgentSession};
use hostagent::transport::https::{HttpsOptions, HttpsTransport};
use hostagent::transport::trust::{Fingerprint, Trust};

async fn measure(latency_ms: u64) {
    let sim = bmcsim::start(SimConfig {
        profile: Profile::Ilo6,
        max_sessions: Some(1100),
        latency_ms,
        max_concurrency: Some(8),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    sim.leak(999, Kind::RestHost, None);
    let fp = Fingerprint::parse(&sim.cert_sha256()).unwrap();
    let transport =
        Arc::new(HttpsTransport::new(HttpsOptions::new(sim.base_url(), Trust::Pin(fp))).unwrap());
    let creds = Credentials {
        user: "admin".into(),
        password: Secret::new("password"),
    };
    let agent = AgentSession::connect(transport, Some(creds), AgentOptions::default())
        .await
        .unwrap();
    agent.login().await.unwrap();
    let ctx = ClassifyContext::hpe_default();
    let mut rows = Vec::new();
    for (name, expand) in [("$expand=.", true), ("member GETs, 8 in flight", false)] {
        let opts = ListOptions {
            expand,
            concurrency: 8,
            ..ListOptions::default()
        };
        let start = Instant::now();
        let listing = list_sessions(&agent, &ctx, &opts).await.unwrap();
        let took = start.elapsed();
        assert_eq!(listing.sessions.len(), 1000);
        rows.push((name, took, listing.requests));
    }
    let base = rows[0].1.as_secs_f64();
    println!("1,000 sessions, BMC latency {latency_ms} ms/request, BMC concurrency 8:");
    for (name, took, requests) in rows {
        println!(
            "  {name:<26} {:>9.1} ms  {requests:>5} requests  {:>6.1}x the expanded time",
            took.as_secs_f64() * 1e3,
            took.as_secs_f64() / base
        );
    }
    agent.logout().await.unwrap();
    sim.shutdown().await;
}

#[tokio::main]
async fn main() {
    measure(0).await;
    measure(5).await;
}
