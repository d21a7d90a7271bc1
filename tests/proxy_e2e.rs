//! The Redfish proxy end to end: hostagentd in front of bmcsim, clients on its Unix socket and
//! its loopback HTTPS listener. Clients log in and out without any BMC session appearing, get
//! the BMC's data, cannot reach the BMC with their own credentials or outside `/redfish/v1`,
//! cannot end the shared session, and get roles from the kernel on TCP as on the socket.

mod common;

use std::process::Command;
use std::time::Duration;

use bmcsim::{Profile, SimConfig};
use common::daemon::{free_port, started, unix_request};
use serde_json::Value;

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
}

async fn sim_log(sim: &bmcsim::SimHandle) -> Vec<Value> {
    let log: Value = common::http()
        .get(format!("{}/_sim/log", sim.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    log.as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_login_through_the_proxy_is_virtual_and_its_token_reads_the_bmc() {
    for profile in [Profile::Ilo6, Profile::Bmcweb] {
        let sim = common::sim(profile).await;
        let daemon = started(&sim, "").await;
        let s = &daemon.socket;
        let before = sim.sessions();
        assert_eq!(before.len(), 1, "{profile}: the agent's own session");

        let (status, headers, body) = unix_request(
            s,
            "POST",
            "/redfish/v1/SessionService/Sessions/",
            &[("content-type", "application/json")],
            r#"{"UserName":"admin","Password":"whatever"}"#,
        )
        .await;
        assert_eq!(status, 201, "{profile}: {}", String::from_utf8_lossy(&body));
        let token = headers["x-auth-token"].to_str().unwrap().to_string();
        let location = headers["location"].to_str().unwrap().to_string();
        let session = json(&body);
        assert!(
            location.starts_with("/redfish/v1/SessionService/Sessions/hostagent-"),
            "{profile}: a path on the socket: {location}"
        );
        assert_eq!(session["@odata.id"], location.as_str(), "{profile}");
        assert_eq!(session["UserName"], "admin");
        assert!(
            session["@odata.type"]
                .as_str()
                .unwrap()
                .starts_with("#Session."),
            "{profile}: shaped like a session: {session}"
        );
        if profile == Profile::Ilo6 {
            assert!(
                session["Oem"]["Hpe"].is_object(),
                "iLO clients see iLO's shape: {session}"
            );
        }
        assert_eq!(
            sim.sessions().len(),
            1,
            "{profile}: no BMC session for the client"
        );
        let socket = s.to_path_buf();
        let (_, status, _) =
            tokio::task::spawn_blocking(move || common::daemon::agentctl(&socket, &["status"]))
                .await
                .unwrap();
        assert_eq!(
            status["proxy"]["virtual_sessions"], 1,
            "{profile}: status counts it: {status}"
        );
        assert_eq!(
            status["sessions"]["total"], 1,
            "{profile}: and the BMC holds one session: {status}"
        );

        // The client's own credentials never reach the BMC: the agent's session does the work.
        let auth = [
            ("x-auth-token", token.as_str()),
            ("authorization", "Basic YWRtaW46cGFzc3dvcmQ="),
        ];
        let (status, _, body) = unix_request(s, "GET", "/redfish/v1/Systems", &auth, "").await;
        assert_eq!(status, 200, "{profile}");
        assert!(
            json(&body)["Members"][0]["@odata.id"]
                .as_str()
                .unwrap()
                .starts_with("/redfish/v1/Systems/"),
            "{profile}: the BMC's data"
        );
        let log = sim_log(&sim).await;
        let last = log
            .iter()
            .rev()
            .find(|e| e["path"] == "/redfish/v1/Systems")
            .unwrap();
        assert_eq!(last["auth"], "session", "{profile}: {last}");

        let (status, _, body) =
            unix_request(s, "GET", &location, &[("x-auth-token", &token)], "").await;
        assert_eq!(
            (status, json(&body)["Id"].clone()),
            (200, session["Id"].clone()),
            "{profile}"
        );
        let (status, _, _) =
            unix_request(s, "DELETE", &location, &[("x-auth-token", &token)], "").await;
        assert_eq!(status, 200, "{profile}: logout");
        let (status, headers, body) = unix_request(
            s,
            "GET",
            "/redfish/v1/Systems/1/",
            &[("x-auth-token", &token)],
            "",
        )
        .await;
        assert_eq!(status, 401, "{profile}: the token ended with the logout");
        assert_eq!(json(&body)["error"]["code"], "Base.1.8.NoValidSession");
        assert!(headers.contains_key("www-authenticate"));
        let (status, _, _) = unix_request(
            s,
            "GET",
            "/redfish/v1/Systems/1/",
            &[("x-auth-token", "forged")],
            "",
        )
        .await;
        assert_eq!(
            status, 401,
            "{profile}: an unknown token is refused, not forwarded"
        );
        assert_eq!(sim.sessions().len(), 1, "{profile}: the table never moved");
        drop(daemon);
        sim.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_shared_session_and_paths_outside_redfish_v1_are_out_of_reach() {
    let sim = common::sim(Profile::Ilo6).await;
    let daemon = started(&sim, "").await;
    let s = &daemon.socket;
    let agent_uri = format!(
        "/redfish/v1/SessionService/Sessions/{}/",
        sim.sessions()[0].id
    );
    let (status, _, body) = unix_request(s, "DELETE", &agent_uri, &[], "").await;
    assert_eq!(status, 409, "{}", String::from_utf8_lossy(&body));
    assert_eq!(sim.sessions().len(), 1, "the agent's session survives");
    // iLO finds a session by id whatever its case, and under `Members/` too: every spelling
    // of the agent's session is refused, none reaches the BMC.
    let id = sim.sessions()[0].id.clone();
    let encoded: String = id.chars().map(|c| format!("%{:02X}", c as u32)).collect();
    for path in [
        format!("/redfish/v1/SessionService/Sessions/{}/", id.to_uppercase()),
        format!("/redfish/v1/SessionService/Sessions/Members/{id}/"),
        format!(
            "/redfish/v1/SessionService/Sessions/members/{}",
            id.to_uppercase()
        ),
        format!("/redfish/v1/SessionService/Sessions/{id}"),
        format!("/redfish/v1/sessionservice/sessions/{encoded}/"),
        format!(
            "/None:8443/redfish/v1/SessionService/Sessions/{}/",
            id.to_uppercase()
        ),
    ] {
        for method in ["DELETE", "PATCH"] {
            let (status, _, body) = unix_request(s, method, &path, &[], "{}").await;
            assert_eq!(
                status,
                409,
                "{method} {path}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        assert_eq!(
            sim.sessions().len(),
            1,
            "{path}: the agent's session survives"
        );
    }
    for path in [
        "/redfish/v1/../../_sim/sessions",
        "/redfish/v1/%2e%2e/%2e%2e/_sim/log",
        "/redfish/v1/Systems%2F1",
        "/redfish/v2/",
    ] {
        let (status, _, body) = unix_request(s, "GET", path, &[], "").await;
        assert_eq!(status, 404, "{path}: {}", String::from_utf8_lossy(&body));
        assert!(json(&body)["error"]["message"].as_str().is_some(), "{path}");
    }
    let before = sim_log(&sim).await.len();
    let (status, _, _) = unix_request(s, "GET", "/_sim/sessions", &[], "").await;
    assert_eq!(
        status, 404,
        "the simulator's control API is not the proxy's"
    );
    let after = sim_log(&sim).await;
    let reached: Vec<&Value> = after[before..]
        .iter()
        .filter(|e| {
            !e["path"]
                .as_str()
                .unwrap_or_default()
                .starts_with("/redfish/v1/SessionService")
        })
        .collect();
    assert!(
        reached.is_empty(),
        "nothing but the agent's keep-alive reached the BMC: {reached:?}"
    );
    // agentctl's raw commands go by the same proxy.
    let socket = daemon.socket.clone();
    let (patch, bad_path, bad_data) = tokio::task::spawn_blocking(move || {
        (
            common::daemon::agentctl(
                &socket,
                &[
                    "patch",
                    "/redfish/v1/Systems/1/",
                    "--data",
                    r#"{"AssetTag":"rack-9"}"#,
                ],
            ),
            common::daemon::agentctl(&socket, &["get", "/v1/status"]),
            common::daemon::agentctl(
                &socket,
                &["patch", "/redfish/v1/Systems/1/", "--data", "{not json"],
            ),
        )
    })
    .await
    .unwrap();
    assert_eq!(patch.0, Some(0), "{patch:?}");
    assert_eq!(bad_path.0, Some(2), "only Redfish paths: {bad_path:?}");
    assert_eq!(bad_data.0, Some(2), "--data must be JSON: {bad_data:?}");
    let big = "x".repeat(2 << 20);
    let (status, _, _) = unix_request(
        s,
        "PATCH",
        "/redfish/v1/Systems/1/",
        &[("content-type", "application/json")],
        &big,
    )
    .await;
    assert_eq!(status, 413, "bodies are bounded");
    drop(daemon);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ilorest_malformed_logout_ends_its_virtual_session() {
    let sim = common::sim(Profile::Ilo6).await;
    let daemon = started(&sim, "").await;
    let s = &daemon.socket;
    let (_, headers, _) = unix_request(
        s,
        "POST",
        "/redfish/v1/SessionService/Sessions/",
        &[],
        r#"{"UserName":"admin","Password":"x"}"#,
    )
    .await;
    let token = headers["x-auth-token"].to_str().unwrap().to_string();
    let location = headers["location"].to_str().unwrap().to_string();
    let (status, _, _) = unix_request(
        s,
        "DELETE",
        &format!("/None:8443{location}"),
        &[("x-auth-token", &token)],
        "",
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, _) = unix_request(s, "GET", &location, &[], "").await;
    assert_eq!(status, 404, "gone");
    drop(daemon);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_get_cache_answers_repeats_and_forgets_on_write() {
    let sim = common::sim(Profile::Ilo6).await;
    let daemon = started(&sim, "[api]\ncache_ttl = \"60s\"\n").await;
    let s = &daemon.socket;
    let count = |log: &[Value]| {
        log.iter()
            .filter(|e| e["method"] == "GET" && e["path"] == "/redfish/v1/Systems/1/")
            .count()
    };
    for _ in 0..3 {
        let (status, _, _) = unix_request(s, "GET", "/redfish/v1/Systems/1/", &[], "").await;
        assert_eq!(status, 200);
    }
    assert_eq!(
        count(&sim_log(&sim).await),
        1,
        "one BMC GET for three client GETs"
    );
    let (status, _, body) = unix_request(
        s,
        "PATCH",
        "/redfish/v1/Systems/1/",
        &[("content-type", "application/json")],
        r#"{"AssetTag":"rack-7"}"#,
    )
    .await;
    assert!(status < 500, "{status} {}", String::from_utf8_lossy(&body));
    let (_, _, body) = unix_request(s, "GET", "/redfish/v1/Systems/1/", &[], "").await;
    assert_eq!(
        count(&sim_log(&sim).await),
        2,
        "the write dropped the cached answer"
    );
    if status == 200 || status == 204 {
        assert_eq!(
            json(&body)["AssetTag"],
            "rack-7",
            "and the client reads the new value"
        );
    }
    drop(daemon);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn many_concurrent_clients_queue_toward_the_bmc_instead_of_failing() {
    let sim = common::sim_with(SimConfig {
        profile: Profile::Ilo6,
        max_concurrency: Some(2),
        latency_ms: 5,
        ..SimConfig::default()
    })
    .await;
    let daemon = started(&sim, "").await;
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let s = daemon.socket.clone();
            tokio::spawn(async move {
                unix_request(&s, "GET", "/redfish/v1/Systems/1/", &[], "")
                    .await
                    .0
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    assert_eq!(sim.sessions().len(), 1);
    drop(daemon);
    sim.shutdown().await;
}

/// curl as `nobody` (uid 65534, group nogroup) on the HTTPS listener: the kernel says who it is.
fn curl_as_nobody(url: &str, args: &[&str]) -> (u16, String) {
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
            "curl",
            "-sk",
            "--max-time",
            "20",
            "-o",
            "-",
            "-w",
            "\n%{http_code}",
        ])
        .args(args)
        .arg(url)
        .output()
        .expect("setpriv and curl run");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn on_the_https_listener_nobody_gets_403_and_a_reader_reads_but_does_not_write() {
    let curl = Command::new("curl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !common::require(
        common::is_root() && curl,
        "root (to run curl as nobody) and curl",
    ) {
        return;
    }
    let port = free_port();
    let base = format!("https://127.0.0.1:{port}");
    // nobody's primary group is nogroup (65534); with reader group root it has no role.
    for (reader_group, reads) in [("root", false), ("nogroup", true)] {
        let sim = common::sim(Profile::Ilo6).await;
        let daemon = started(
            &sim,
            &format!(
                "[api]\nlisten_https = \"127.0.0.1:{port}\"\nreader_group = \"{reader_group}\"\n"
            ),
        )
        .await;
        let base = base.clone();
        let (get, patch, login, lease) = tokio::task::spawn_blocking(move || {
            (
                curl_as_nobody(&format!("{base}/redfish/v1/Systems/1/"), &[]),
                curl_as_nobody(
                    &format!("{base}/redfish/v1/Systems/1/"),
                    &[
                        "-X",
                        "PATCH",
                        "-H",
                        "content-type: application/json",
                        "-d",
                        r#"{"AssetTag":"x"}"#,
                    ],
                ),
                curl_as_nobody(
                    &format!("{base}/redfish/v1/SessionService/Sessions/"),
                    &[
                        "-i",
                        "-H",
                        "content-type: application/json",
                        "-d",
                        r#"{"UserName":"u","Password":"p"}"#,
                    ],
                ),
                curl_as_nobody(&format!("{base}/v1/leases"), &["-X", "POST", "-d", "{}"]),
            )
        })
        .await
        .unwrap();
        assert_eq!(
            patch.0, 403,
            "{reader_group}: writes need admin: {}",
            patch.1
        );
        assert_eq!(
            lease.0, 403,
            "{reader_group}: leases need admin: {}",
            lease.1
        );
        if reads {
            assert_eq!(get.0, 200, "a reader reads: {}", get.1);
            assert_eq!(json(get.1.as_bytes())["Id"], "1");
            assert_eq!(
                login.0, 201,
                "a reader may hold a virtual session: {}",
                login.1
            );
            let location = login
                .1
                .lines()
                .find_map(|l| {
                    l.strip_prefix("location: ")
                        .or_else(|| l.strip_prefix("Location: "))
                })
                .unwrap()
                .trim();
            assert!(
                location.starts_with(&format!(
                    "https://127.0.0.1:{port}/redfish/v1/SessionService/Sessions/hostagent-"
                )),
                "the client's own base: {location}"
            );
        } else {
            assert_eq!(get.0, 403, "no role, no read: {}", get.1);
            assert!(
                get.1.contains("uid 65534"),
                "the reason names the uid: {}",
                get.1
            );
            assert_eq!(login.0, 403);
        }
        assert_eq!(sim.sessions().len(), 1, "{reader_group}");
        drop(daemon);
        sim.shutdown().await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn absolute_urls_naming_the_bmc_come_back_as_paths() {
    // A resource whose links name the BMC absolutely, as some firmware writes them.
    let tree = tempfile::tempdir().unwrap();
    let doc = serde_json::json!({
        "@odata.id": "/redfish/v1/Chassis/9/",
        "@odata.type": "#Chassis.v1_10_0.Chassis",
        "Id": "9",
        "Links": { "ComputerSystems": [{ "@odata.id": "https://127.0.0.1/redfish/v1/Systems/1/" }] },
        "Oem": { "Vendor": { "Manual": "https://www.example.com/manual.pdf" } }
    });
    std::fs::write(tree.path().join("chassis9.json"), doc.to_string()).unwrap();
    let sim = common::sim_with(SimConfig {
        profile: Profile::Ilo6,
        tree: Some(tree.path().to_path_buf()),
        ..SimConfig::default()
    })
    .await;
    let daemon = started(&sim, "").await;
    let (status, _, body) =
        unix_request(&daemon.socket, "GET", "/redfish/v1/Chassis/9/", &[], "").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let body = json(&body);
    assert_eq!(
        body["Links"]["ComputerSystems"][0]["@odata.id"], "/redfish/v1/Systems/1/",
        "the BMC's own URL became a path: {body}"
    );
    assert_eq!(
        body["Oem"]["Vendor"]["Manual"], "https://www.example.com/manual.pdf",
        "other sites' URLs stay"
    );
    drop(daemon);
    sim.shutdown().await;
}
