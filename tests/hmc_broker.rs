//! The HMC broker end to end: hostagentd with `bmc.transport = "none"` and `[[hmc]]` tables
//! against hmcsim. One HMC session for every local client, virtual sessions with the HMC's
//! token shape, ETags through, URLs rewritten to the client's base, logoff at SIGTERM.

mod common;

use std::time::Duration;

use common::hmc::{
    agent_sessions, client, header, logon_body, start, token_of, HmcSpec, LOGON, LOGON_REQUEST,
};
use hmcsim::HmcSimConfig;

const FEED: &str = "/rest/api/uom/ManagedSystem";

#[tokio::test(flavor = "multi_thread")]
async fn one_hmc_session_serves_the_socket_and_the_listener_and_ends_at_sigterm() {
    let sim = hmcsim::start(HmcSimConfig::default()).await.unwrap();
    let spec = HmcSpec::of("lab", &sim, true);
    let listen = spec.listen.unwrap();
    let sim_base = sim.base_url();
    let mut d = start(&[spec], "");
    let status = tokio::task::block_in_place(|| d.wait_logged_on("lab"));
    assert_eq!(status["endpoint"], sim_base.as_str());
    let top = d.status();
    assert_eq!(
        (top["bmc"].clone(), top["state"].clone()),
        (false.into(), "ready".into())
    );
    assert_eq!(agent_sessions(&sim), 1, "{:?}", sim.sessions());

    // The socket: the feed with its ETag, links made paths under /hmc/lab, 304 on the ETag.
    let (code, headers, body) = d.request(
        "GET",
        &format!("/hmc/lab{FEED}"),
        &[("Accept", "application/atom+xml")],
        "",
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(header(&headers, "etag"), Some("449450179"));
    assert!(
        body.contains("href=\"/hmc/lab/rest/api/uom/ManagedSystem/"),
        "links rewritten"
    );
    assert!(!body.contains(&sim_base), "no link names the HMC");
    assert!(body.len() > 200_000, "the whole feed: {}", body.len());
    let (code, _, _) = d.request(
        "GET",
        &format!("/hmc/lab{FEED}"),
        &[("If-None-Match", "449450179")],
        "",
    );
    assert_eq!(code, 304);

    // The listener, as an HMC client sees it: logon, GET, logoff, then 401.
    let c = client();
    let base = format!("https://{listen}");
    let logon = c
        .put(format!("{base}{LOGON}"))
        .header("Content-Type", LOGON_REQUEST)
        .header("X-Audit-Memento", "a-script")
        .body(logon_body("anyone", "not-checked"))
        .send()
        .await
        .unwrap();
    assert_eq!(logon.status(), 200);
    let token = token_of(&logon.text().await.unwrap()).expect("a LogonResponse with a token");
    assert_eq!(token.len(), 236, "the HMC's token length");
    assert!(token.ends_with('='));
    assert!(
        !sim.issued_tokens().contains(&token),
        "no HMC session for the client"
    );
    let feed = c
        .get(format!("{base}{FEED}"))
        .header("X-API-Session", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(feed.status(), 200);
    let text = feed.text().await.unwrap();
    assert!(text.contains(&format!("href=\"{base}/rest/api/uom/ManagedSystem/")));
    let off = c
        .delete(format!("{base}{LOGON}"))
        .header("X-API-Session", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(off.status(), 204);
    let after = c
        .get(format!("{base}{FEED}"))
        .header("X-API-Session", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
    assert!(
        after.text().await.unwrap().contains("<HttpErrorResponse"),
        "HMC-shaped"
    );

    // A malformed LogonRequest: 400, HMC-shaped, saying what was wrong.
    let bad = c
        .put(format!("{base}{LOGON}"))
        .header("Content-Type", LOGON_REQUEST)
        .body(format!(
            "<LogonRequest xmlns=\"{}\"><UserID>x</UserID></LogonRequest>",
            common::hmc::WEB_NS
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let text = bad.text().await.unwrap();
    assert!(
        text.contains("<HttpErrorResponse") && text.contains("no Password"),
        "{text}"
    );

    // Every request reached the HMC with the agent's token and memento, one session.
    assert_eq!(agent_sessions(&sim), 1);
    assert_eq!(sim.sessions().len(), 1);
    let log = sim.log();
    assert!(log.iter().all(|e| e.api_session != "invalid"), "{log:?}");
    assert!(log
        .iter()
        .all(|e| e.audit_memento.as_deref() == Some("hostagent")));
    let status = tokio::task::block_in_place(|| d.stop());
    assert!(status.success(), "{}", d.log());
    assert!(
        sim.sessions().is_empty(),
        "logged off at SIGTERM: {:?}",
        sim.sessions()
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_hmc_session_is_replaced_once_for_every_waiting_client() {
    let sim = hmcsim::start(HmcSimConfig::default()).await.unwrap();
    let d = start(&[HmcSpec::of("lab", &sim, false)], "");
    tokio::task::block_in_place(|| d.wait_logged_on("lab"));
    assert_eq!(sim.drop_sessions(), 1, "the HMC rebooted");
    sim.clear_log();
    let socket = d.socket.clone();
    let gets: Vec<_> = (0..8)
        .map(|_| {
            let socket = socket.clone();
            tokio::task::spawn_blocking(move || {
                common::hmc::socket_request(&socket, "GET", &format!("/hmc/lab{FEED}"), &[], "").0
            })
        })
        .collect();
    for g in gets {
        assert_eq!(g.await.unwrap(), 200);
    }
    let logons = sim.log().iter().filter(|e| e.path == LOGON).count();
    assert_eq!(logons, 1, "one logon for eight clients that met the 401");
    assert_eq!(sim.sessions().len(), 1);
    drop(d);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_costs_one_logon_then_backs_off() {
    let sim = hmcsim::start(HmcSimConfig {
        password: "other".into(),
        ..HmcSimConfig::default()
    })
    .await
    .unwrap();
    let d = start(&[HmcSpec::of("lab", &sim, false)], "");
    let entry = tokio::task::block_in_place(|| d.wait_hmc("lab", |h| h["last_error"].is_string()));
    let err = entry["last_error"].as_str().unwrap();
    assert!(err.contains("HMC lab") && err.contains("401"), "{err}");
    for _ in 0..5 {
        let (code, _, body) = d.request("GET", &format!("/hmc/lab{FEED}"), &[], "");
        assert_eq!(code, 503, "{body}");
        assert!(body.contains("tries again in"), "{body}");
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let logons = sim.log().iter().filter(|e| e.path == LOGON).count();
    assert_eq!(logons, 1, "one failed logon, not one per request");
    assert!(!d.log().contains("abc123"));
    drop(d);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_hmc_holds_back_no_other_and_agentctl_reads_through_the_agent() {
    let sim = hmcsim::start(HmcSimConfig::default()).await.unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = HmcSpec {
        name: "down".into(),
        endpoint: format!("https://{}", closed.local_addr().unwrap()),
        fingerprint: sim.cert_sha256(),
        listen: None,
    };
    drop(closed);
    let d = start(&[down, HmcSpec::of("good", &sim, false)], "");
    tokio::task::block_in_place(|| {
        d.wait_logged_on("good");
        let down = d.wait_hmc("down", |h| h["last_error"].is_string());
        let err = down["last_error"].as_str().unwrap();
        assert!(
            err.contains("HMC down") && err.contains("cannot connect"),
            "{err}"
        );
        let (code, v, err) = d.agentctl(&["hmc", "get", "good", "uom/ManagedSystem"]);
        assert_eq!(code, Some(0), "{v} {err}");
        assert_eq!(v["status"], 200);
        assert_eq!(v["etag"], "449450179");
        assert!(v["body"]
            .as_str()
            .unwrap()
            .contains("href=\"/hmc/good/rest/api/uom/"));
        let (code, v, err) = d.agentctl(&["hmc", "get", "nope", "uom/ManagedSystem"]);
        assert_eq!(code, Some(1), "{v} {err}");
        let msg = format!("{v} {err}");
        assert!(msg.contains("no HMC") && msg.contains("good"), "{msg}");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_agentctl"))
            .arg("--socket")
            .arg(&d.socket)
            .arg("status")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("bmc:            none"), "{text}");
        assert!(
            text.contains("hmc good:") && text.contains("(logged on)"),
            "{text}"
        );
        assert!(
            text.contains("hmc down:") && text.contains("last error:"),
            "{text}"
        );
    });
    assert_eq!(agent_sessions(&sim), 1);
    drop(d);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_sigkills_and_restarts_leave_at_most_one_agent_session_on_the_hmc() {
    let sim = hmcsim::start(HmcSimConfig::default()).await.unwrap();
    let mut d = start(&[HmcSpec::of("lab", &sim, false)], "");
    tokio::task::block_in_place(|| {
        d.wait_logged_on("lab");
        for round in 0..10 {
            d.kill9();
            d.restart();
            let entry = d.wait_logged_on("lab");
            assert_eq!(entry["keyring"], "persistent keyring", "{entry}");
            let (code, _, body) = d.request("GET", &format!("/hmc/lab{FEED}"), &[], "");
            assert_eq!(code, 200, "round {round}: {body}");
            assert_eq!(agent_sessions(&sim), 1, "round {round}: {}", d.log());
        }
        assert!(d.log().contains("reusing the HMC session"), "{}", d.log());
        assert_eq!(
            sim.issued_tokens().len(),
            1,
            "the first run's session, reused 10 times"
        );
        // A token the HMC forgot (it rebooted while the agent was down) is dropped, not reused.
        d.kill9();
        sim.drop_sessions();
        d.restart();
        d.wait_logged_on("lab");
        assert_eq!(sim.issued_tokens().len(), 2);
        assert_eq!(agent_sessions(&sim), 1);
        assert!(d.stop().success());
    });
    assert!(
        sim.sessions().is_empty(),
        "logged off, and the keyring forgot it"
    );
    sim.shutdown().await;
}
