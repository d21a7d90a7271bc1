//! hmcsim's web sessions driven over HTTPS as HMC clients see them: logon, logoff, the token,
//! 403 without it, 401 (or 403 reason 5) for a dead one, the limit, per-user idle timeouts,
//! latency, and the control API's ground truth.

mod common;

use std::time::{Duration, Instant};

use common::*;
use hmcsim::HmcSimConfig;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn logon_gives_a_real_shaped_token_recorded_with_its_audit_memento_and_logoff_ends_it() {
    let c = client();
    let sim = start(HmcSimConfig::default()).await;
    let r = logon_raw(&c, &sim, "hscroot", "abc123").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.ibm.powervm.web+xml; type=LogonResponse"
    );
    let body = r.text().await.unwrap();
    assert!(
        body.contains(&format!("<LogonResponse xmlns=\"{WEB_NS}\"")),
        "{body}"
    );
    let token = token_of(&body).unwrap();
    assert_eq!(token.len(), 236, "the real HMC's token length");
    let sessions = sim.sessions();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].id, hmcsim::session_id(&token));
    assert_eq!(sessions[0].user, "hscroot");
    assert_eq!(sessions[0].audit_memento.as_deref(), Some("hmcsim-test"));

    let ms = get(&c, &sim, "/rest/api/uom/ManagedSystem", Some(&token)).await;
    assert_eq!(ms.status(), StatusCode::OK);

    let off = c
        .delete(format!("{}{LOGON}", sim.base_url()))
        .header("X-API-Session", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(off.status(), StatusCode::NO_CONTENT);
    assert!(sim.sessions().is_empty());
    assert_eq!(sim.issued_tokens(), vec![token.clone()]);
    let after = get(&c, &sim, "/rest/api/uom/ManagedSystem", Some(&token)).await;
    assert_eq!(
        after.status(),
        StatusCode::UNAUTHORIZED,
        "a logged-off token is dead"
    );
    let again = c
        .delete(format!("{}{LOGON}", sim.base_url()))
        .header("X-API-Session", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    sim.shutdown().await;
}

#[tokio::test]
async fn escaped_credentials_log_on_and_wrong_ones_get_401_without_a_session() {
    let c = client();
    let sim = start(HmcSimConfig {
        user: "ops&co".into(),
        password: "p<a>ss&\"w'".into(),
        ..HmcSimConfig::default()
    })
    .await;
    let ok = logon_raw(&c, &sim, "ops&co", "p<a>ss&\"w'").await;
    assert_eq!(ok.status(), StatusCode::OK);
    let bad = logon_raw(&c, &sim, "ops&co", "p<a>ss").await;
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let body = bad.text().await.unwrap();
    assert!(
        body.contains("<HTTPStatus kb=\"ROR\" kxe=\"false\">401</HTTPStatus>"),
        "{body}"
    );
    assert!(
        !body.contains("p&lt;a&gt;ss"),
        "the password is not echoed: {body}"
    );
    assert_eq!(sim.sessions().len(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn malformed_logon_requests_get_400_or_415_with_an_hmc_error_and_the_server_keeps_serving() {
    let c = client();
    let sim = start(HmcSimConfig::default()).await;
    let url = format!("{}{LOGON}", sim.base_url());
    for (ct, body, status, says) in [
        (
            LOGON_REQUEST,
            "<LogonRequest".to_string(),
            400,
            "malformed XML",
        ),
        (
            LOGON_REQUEST,
            "<Other/>".to_string(),
            400,
            "not a LogonRequest",
        ),
        (
            LOGON_REQUEST,
            logon_body("hscroot", "x").replace("<Password>x</Password>", ""),
            400,
            "no Password",
        ),
        (
            "application/xml",
            logon_body("hscroot", "abc123"),
            415,
            "Content-Type must be",
        ),
    ] {
        let r = c
            .put(&url)
            .header("Content-Type", ct)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{body}");
        let text = r.text().await.unwrap();
        assert!(
            text.contains("HttpErrorResponse") && text.contains(says),
            "{text}"
        );
    }
    assert!(sim.sessions().is_empty());
    logon(&c, &sim).await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_missing_header_is_403_reason_4_and_an_unknown_token_401_or_403_reason_5() {
    let c = client();
    let sim = start(HmcSimConfig::default()).await;
    let r = get(&c, &sim, "/rest/api/uom/ManagedSystem", None).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body = r.text().await.unwrap();
    assert_eq!(element(&body, "ReasonCode").as_deref(), Some("4"), "{body}");
    assert_eq!(
        element(&body, "RequestURI").as_deref(),
        Some("/rest/api/uom/ManagedSystem")
    );
    let r = get(&c, &sim, "/rest/api/uom/ManagedSystem", Some("bogus")).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("X-API-Session=*******"),
        "the token is masked: {body}"
    );
    assert!(!body.contains("bogus"));
    sim.shutdown().await;

    let sim = start(HmcSimConfig {
        invalid_token_status: 403,
        ..HmcSimConfig::default()
    })
    .await;
    let r = get(&c, &sim, "/rest/api/uom/ManagedSystem", Some("bogus")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        element(&r.text().await.unwrap(), "ReasonCode").as_deref(),
        Some("5")
    );
    sim.shutdown().await;
    assert!(hmcsim::start(HmcSimConfig {
        invalid_token_status: 500,
        ..HmcSimConfig::default()
    })
    .await
    .is_err());
}

#[tokio::test]
async fn the_web_session_limit_refuses_logons_with_503_until_one_logs_off() {
    let c = client();
    let sim = start(HmcSimConfig {
        max_sessions: 3,
        ..HmcSimConfig::default()
    })
    .await;
    assert_eq!(sim.leak(2, "hscroot", Some("cron")), 2);
    let third = logon(&c, &sim).await;
    let r = logon_raw(&c, &sim, "hscroot", "abc123").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("maximum number of web sessions (3)"));
    let off = c
        .delete(format!("{}{LOGON}", sim.base_url()))
        .header("X-API-Session", &third)
        .send()
        .await
        .unwrap();
    assert_eq!(off.status(), StatusCode::NO_CONTENT);
    logon(&c, &sim).await;
    assert_eq!(sim.sessions().len(), 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn idle_timeout_is_per_user_never_by_default_and_use_keeps_a_session_alive() {
    let c = client();
    let sim = start(HmcSimConfig::default()).await;
    sim.set_account("monitor", "m0n", 600);
    let forever = logon(&c, &sim).await;
    let r = logon_raw(&c, &sim, "monitor", "m0n").await;
    let brief = token_of(&r.text().await.unwrap()).unwrap();
    sim.advance_clock(599);
    let path = "/rest/api/uom/ManagedSystem";
    assert_eq!(
        get(&c, &sim, path, Some(&brief)).await.status(),
        StatusCode::OK
    );
    sim.advance_clock(599);
    assert_eq!(
        get(&c, &sim, path, Some(&brief)).await.status(),
        StatusCode::OK,
        "used 599 s ago"
    );
    sim.advance_clock(600);
    assert_eq!(
        get(&c, &sim, path, Some(&brief)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    sim.advance_clock(90 * 86400);
    assert_eq!(
        get(&c, &sim, path, Some(&forever)).await.status(),
        StatusCode::OK,
        "0 = never"
    );
    let users: Vec<String> = sim.sessions().iter().map(|s| s.user.clone()).collect();
    assert_eq!(users, ["hscroot"]);
    sim.shutdown().await;
}

#[tokio::test]
async fn logon_and_logoff_take_the_configured_latency() {
    let c = client();
    let sim = start(HmcSimConfig {
        login_latency_ms: 300,
        logoff_latency_ms: 150,
        ..HmcSimConfig::default()
    })
    .await;
    let t = Instant::now();
    let token = logon(&c, &sim).await;
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    let t = Instant::now();
    get(&c, &sim, "/rest/api/uom/ManagedSystem", Some(&token)).await;
    assert!(
        t.elapsed() < Duration::from_millis(150),
        "GETs are not slowed"
    );
    let t = Instant::now();
    c.delete(format!("{}{LOGON}", sim.base_url()))
        .header("X-API-Session", &token)
        .send()
        .await
        .unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(150),
        "{:?}",
        t.elapsed()
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn the_control_api_shows_sessions_tokens_log_and_moves_the_clock() {
    let c = client();
    let sim = start(HmcSimConfig::default()).await;
    let base = sim.base_url();
    let token = logon(&c, &sim).await;
    get(
        &c,
        &sim,
        "/rest/api/uom/ManagedSystem?group=None",
        Some(&token),
    )
    .await;
    get(&c, &sim, "/rest/api/uom/ManagedSystem", None).await;
    let sessions: Value = c
        .get(format!("{base}/_sim/sessions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sessions[0]["audit_memento"], "hmcsim-test");
    assert_eq!(sessions[0]["id"], hmcsim::session_id(&token));
    assert!(
        !sessions.to_string().contains(&token),
        "no token in the session list"
    );
    let tokens: Value = c
        .get(format!("{base}/_sim/tokens"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tokens[0], token.as_str());
    let log: Value = c
        .get(format!("{base}/_sim/log"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let lines: Vec<String> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {}",
                e["method"], e["path"], e["status"], e["api_session"]
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            "\"PUT\" \"/rest/api/web/Logon\" 200 \"absent\"",
            "\"GET\" \"/rest/api/uom/ManagedSystem?group=None\" 200 \"valid\"",
            "\"GET\" \"/rest/api/uom/ManagedSystem\" 403 \"absent\"",
        ]
    );
    let r = c
        .post(format!("{base}/_sim/users"))
        .body(r#"{"user":"m","password":"p","timeout_s":5}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = logon_raw(&c, &sim, "m", "p").await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = c
        .post(format!("{base}/_sim/clock"))
        .body(r#"{"advance_s":5}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        sim.sessions().len(),
        1,
        "m's session expired, hscroot's never does"
    );
    let r = c
        .post(format!("{base}/_sim/clock"))
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = c
        .delete(format!("{base}/_sim/sessions"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["dropped"], 1);
    assert_eq!(
        get(&c, &sim, "/rest/api/uom/ManagedSystem", Some(&token))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    sim.shutdown().await;
}

#[test]
fn the_binary_prints_one_ready_line_and_serves_there() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hmcsim"))
        .args(["--listen", "127.0.0.1:0", "--user", "u", "--password", "p"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ready: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(ready["ready"], true);
    assert_eq!(ready["cert_sha256"].as_str().unwrap().len(), 64);
    let url = ready["listen"][0].as_str().unwrap().to_string();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = rt.block_on(async {
        client()
            .put(format!("{url}{LOGON}"))
            .header("Content-Type", LOGON_REQUEST)
            .body(logon_body("u", "p"))
            .send()
            .await
            .unwrap()
            .status()
    });
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, StatusCode::OK);
}
