//! Cleaning 3,000 leaked sessions on bmcsim with 20 ms per DELETE and a BMC concurrency of 8:
//! the BMC-bound floor is 3,000 × 20 ms / 8 = 7.5 s. Printed against that floor, and against
//! the way a blog post does it — one process per session, each logging in, deleting and
//! logging out (three `curl`s) — timed on a sample of 300 sessions in the same run.
//!
//! `cargo bench --bench clean`

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bmcsim::{Faults, Kind, Profile, SimConfig};
use hostagent::credentials::Credentials;
use hostagent::reaper::{CleanOptions, Policy};
use hostagent::redfish::{ClassifyContext, Kind as AgentKind};
use hostagent::secret::Secret;
use hostagent::service::Service;
use hostagent::session::{AgentOptions, AgentSession};
use hostagent::transport::https::{HttpsOptions, HttpsTransport};
use hostagent::transport::trust::{Fingerprint, Trust};

const LEAKED: usize = 3000;
const DELETE_MS: u64 = 20;
const BMC_CONCURRENCY: usize = 8;
const SAMPLE: usize = 300;

fn one_process_per_session(base: &str, ids: &[String]) -> Duration {
    let start = Instant::now();
    for id in ids {
        let script = format!(
            r#"H=$(curl -sk -D - -o /dev/null -X POST -H 'Content-Type: application/json' -d '{{"UserName":"admin","Password":"password"}}' {base}/redfish/v1/SessionService/Sessions/ | tr -d '\r')
T=$(echo "$H" | sed -n 's/^x-auth-token: //Ip')
P=$(echo "$H" | sed -n 's|^location: https://[^/]*||Ip')
curl -sk -o /dev/null -H "X-Auth-Token: $T" -X DELETE '{base}/redfish/v1/SessionService/Sessions/{id}/'
curl -sk -o /dev/null -H "X-Auth-Token: $T" -X DELETE "{base}$P""#,
            id = id.replace(' ', "%20")
        );
        let status = Command::new("sh").arg("-c").arg(script).status().unwrap();
        assert!(status.success());
    }
    start.elapsed()
}

#[tokio::main]
async fn main() {
    let sim = bmcsim::start(SimConfig {
        profile: Profile::Ilo5,
        max_sessions: Some(LEAKED + 10),
        max_concurrency: Some(BMC_CONCURRENCY),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    sim.leak(LEAKED, Kind::RestHost, None);
    sim.advance_clock(20 * 60);
    sim.set_faults(Faults {
        delete_latency_ms: DELETE_MS,
        ..Faults::default()
    });
    let fp = Fingerprint::parse(&sim.cert_sha256()).unwrap();
    let transport =
        Arc::new(HttpsTransport::new(HttpsOptions::new(sim.base_url(), Trust::Pin(fp))).unwrap());
    let creds = Credentials {
        user: "admin".into(),
        password: Secret::new("password"),
    };
    let agent = Arc::new(
        AgentSession::connect(transport, Some(creds), AgentOptions::default())
            .await
            .unwrap(),
    );
    agent.login().await.unwrap();
    let service = Service::new(agent.clone(), ClassifyContext::hpe_default(), None);
    let policy = Policy {
        kinds: vec![AgentKind::RestHost],
        idle: Duration::from_secs(900),
        keep_users: vec![],
        force: false,
        ids: vec![],
    };
    let start = Instant::now();
    let report = service
        .clean(
            &policy,
            &CleanOptions {
                dry_run: false,
                concurrency: BMC_CONCURRENCY,
                ..CleanOptions::default()
            },
            &|_, _| {},
        )
        .await
        .unwrap();
    let agent_time = start.elapsed();
    assert_eq!(report.deleted.len(), LEAKED, "{:?}", report.failed.first());
    let floor = Duration::from_millis(LEAKED as u64 * DELETE_MS / BMC_CONCURRENCY as u64);

    sim.leak(SAMPLE, Kind::RestHost, None);
    let ids: Vec<String> = sim
        .sessions()
        .into_iter()
        .filter(|s| s.user == "System Administrator")
        .map(|s| s.id)
        .collect();
    let blog = one_process_per_session(&sim.base_url(), &ids);
    let blog_full = blog.mul_f64(LEAKED as f64 / ids.len() as f64);

    println!(
        "{LEAKED} leaked sessions, {DELETE_MS} ms per DELETE, BMC concurrency {BMC_CONCURRENCY}"
    );
    println!(
        "BMC-bound floor:                         {:>8.2} s",
        floor.as_secs_f64()
    );
    println!(
        "hostagent clean (8 DELETEs in flight):   {:>8.2} s  = {:.2}x the floor (target <= 1.3x)",
        agent_time.as_secs_f64(),
        agent_time.as_secs_f64() / floor.as_secs_f64()
    );
    println!("one process per session ({} sampled):  {:>8.2} s  -> {:.1} s for {LEAKED} = {:.1}x hostagent", ids.len(), blog.as_secs_f64(), blog_full.as_secs_f64(), blog_full.as_secs_f64() / agent_time.as_secs_f64());
    sim.shutdown().await;
}
