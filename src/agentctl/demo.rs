//! `agentctl demo`: a simulated iLO 5 with sessions leaked the way tools leak them, the agent
//! logging in, listing, cleaning by policy, reading through its session, and logging out.
//! Needs no BMC and touches no file.

use std::fmt::Write;
use std::sync::Arc;
use std::time::Duration;

use bmcsim::{Kind as SimKind, Profile, SimConfig};

use crate::credentials::Credentials;
use crate::reaper::{CleanOptions, Policy};
use crate::redfish::{ClassifyContext, Kind};
use crate::secret::Secret;
use crate::service::Service;
use crate::session::{AgentOptions, AgentSession};
use crate::transport::https::{HttpsOptions, HttpsTransport};
use crate::transport::trust::{Fingerprint, Trust};
use crate::transport::Request;

/// Runs the demo and returns what happened, for printing.
pub async fn run() -> anyhow::Result<String> {
    let mut out = String::new();
    let sim = bmcsim::start(SimConfig {
        profile: Profile::Ilo5,
        max_sessions: Some(32),
        ..SimConfig::default()
    })
    .await?;
    writeln!(
        out,
        "Simulated iLO 5 at {} (certificate sha256 {}…)",
        sim.base_url(),
        &sim.cert_sha256()[..16]
    )?;
    sim.leak(12, SimKind::RestHost, None);
    sim.leak(3, SimKind::WebUi, Some("alice"));
    sim.leak(2, SimKind::Rest, Some("monitoring"));
    sim.advance_clock(20 * 60);
    sim.leak(2, SimKind::RestHost, None);
    writeln!(
        out,
        "Leaked: 12 'Rest Host' sessions from `ilorest --nocache` 20 min ago, 2 more just now;"
    )?;
    writeln!(
        out,
        "        3 Web UI sessions of a person and 2 out-of-band REST sessions of a script."
    )?;
    writeln!(
        out,
        "Session table: {} of 32 slots used\n",
        sim.sessions().len()
    )?;

    let fp = Fingerprint::parse(&sim.cert_sha256()).map_err(anyhow::Error::msg)?;
    let transport = Arc::new(HttpsTransport::new(HttpsOptions::new(
        sim.base_url(),
        Trust::Pin(fp),
    ))?);
    let creds = Credentials {
        user: "admin".into(),
        password: Secret::new("password"),
    };
    let agent =
        Arc::new(AgentSession::connect(transport, Some(creds), AgentOptions::default()).await?);
    agent.login().await?;
    writeln!(
        out,
        "The agent logged in (TLS pinned to the certificate): {}\n",
        agent.own_session_uri().await.unwrap_or_default()
    )?;
    let service = Service::new(agent.clone(), ClassifyContext::hpe_default(), Some(32));

    writeln!(out, "$ agentctl list")?;
    out.push_str(&crate::agentctl::render::list(&service.list(&[]).await?));

    let policy = Policy {
        kinds: vec![Kind::RestHost, Kind::HostApplication],
        idle: Duration::from_secs(15 * 60),
        keep_users: Vec::new(),
        force: false,
        ids: Vec::new(),
    };
    writeln!(
        out,
        "\n$ agentctl clean        # policy: in-band kinds idle ≥ 15 min, never a person's session"
    )?;
    let report = service
        .clean(&policy, &CleanOptions::default(), &|_, _| {})
        .await?;
    out.push_str(&crate::agentctl::render::clean(&report));

    let system = agent.send(Request::get("/redfish/v1/Systems/1/")).await?;
    let body: serde_json::Value = serde_json::from_slice(&system.body).unwrap_or_default();
    writeln!(
        out,
        "\n$ agentctl get /redfish/v1/Systems/1/   # through the agent's one session"
    )?;
    writeln!(
        out,
        "{} {} (HTTP {})",
        body["Manufacturer"].as_str().unwrap_or("?"),
        body["Model"].as_str().unwrap_or("?"),
        system.status
    )?;

    proxy_demo(&mut out, &agent, &sim).await?;

    agent.logout().await?;
    let left = sim.sessions();
    let count = |k: SimKind| left.iter().filter(|s| s.kind == k).count();
    writeln!(out, "\nSummary: deleted {} stale in-band sessions, kept {} ({} fresh Rest Host, {} Web UI, {} REST of people);",
        report.deleted.len(), left.len(), count(SimKind::RestHost), count(SimKind::WebUi), count(SimKind::Rest))?;
    writeln!(
        out,
        "the agent logged out: {} of 32 slots used, none by the agent.",
        left.len()
    )?;
    sim.shutdown().await;
    Ok(out)
}

/// Ten tools log in through the local Redfish proxy, read, and never log out, as
/// `ilorest --nocache` does: each gets a virtual session; the BMC's table does not move.
async fn proxy_demo(
    out: &mut String,
    agent: &Arc<AgentSession>,
    sim: &bmcsim::SimHandle,
) -> anyhow::Result<()> {
    use crate::peer::{Peer, Role};
    use crate::proxy::{Proxy, Via};
    let proxy = Proxy::new(agent.clone(), None, Duration::ZERO).await;
    let peer = Peer {
        uid: 0,
        gid: 0,
        pid: None,
        role: Role::Admin,
    };
    let before = sim.sessions().len();
    writeln!(out, "\n$ for i in $(seq 10); do ilorest --nocache rawget /redfish/v1/Systems/1/ --url <the agent's proxy>; done")?;
    let mut read = 0;
    for _ in 0..10 {
        let login = http::Request::post("/redfish/v1/SessionService/Sessions/")
            .header("content-type", "application/json")
            .body(bytes::Bytes::from_static(
                br#"{"UserName":"admin","Password":"anything"}"#,
            ))?;
        let reply = proxy.handle(&peer, Via::Unix, login).await;
        let token = reply
            .headers()
            .get("x-auth-token")
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("the proxy gave no token"))?;
        let get = http::Request::get("/redfish/v1/Systems/1/")
            .header("x-auth-token", token)
            .body(bytes::Bytes::new())?;
        if proxy.handle(&peer, Via::Unix, get).await.status() == http::StatusCode::OK {
            read += 1;
        }
    }
    writeln!(out, "{read} of 10 reads answered by the BMC; {} virtual sessions left behind in the proxy (they expire),", proxy.virtual_sessions().len())?;
    writeln!(
        out,
        "and the BMC's table went from {before} to {} sessions: no tool made a BMC session.",
        sim.sessions().len()
    )?;
    Ok(())
}
