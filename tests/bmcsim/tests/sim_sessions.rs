//! bmcsim driven over HTTP(S) with reqwest, as clients see it: login, list, delete, expiry,
//! the limit, resets, Basic auth, dead tokens, paging and channels, for every profile.

use std::time::Duration;

use bmcsim::{Profile, SimConfig, SimHandle};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const SESSIONS: &str = "/redfish/v1/SessionService/Sessions";

fn client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .no_proxy()
        .build()
        .unwrap()
}

async fn start(profile: Profile) -> SimHandle {
    bmcsim::start(SimConfig {
        profile,
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

async fn login(c: &Client, sim: &SimHandle) -> (String, String) {
    let r = c
        .post(format!("{}{SESSIONS}", sim.base_url()))
        .json(&json!({"UserName":"admin","Password":"password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let token = r.headers()["x-auth-token"].to_str().unwrap().to_string();
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let body: Value = r.json().await.unwrap();
    assert!(
        body.is_object() && !body.as_object().unwrap().is_empty(),
        "a non-empty JSON body (ilorest needs it)"
    );
    (token, location)
}

fn path_of(location: &str) -> String {
    match location.split_once("://") {
        Some((_, rest)) => rest[rest.find('/').unwrap()..].to_string(),
        None => location.to_string(),
    }
}

async fn message_id(r: reqwest::Response) -> String {
    let body: Value = r.json().await.unwrap();
    body["error"]["@Message.ExtendedInfo"][0]["MessageId"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn login_list_get_delete_on_every_profile_with_its_id_token_and_location_style() {
    let c = client();
    for profile in Profile::ALL {
        let sim = start(profile).await;
        let (token, location) = login(&c, &sim).await;
        let path = path_of(&location);
        match profile {
            p if p.is_ilo() => {
                assert!(
                    location.starts_with("https://127.0.0.1/redfish/"),
                    "{p}: absolute, no port: {location}"
                );
                assert_eq!(token.len(), 32);
                assert!(token
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
                let id = path.trim_end_matches('/').rsplit('/').next().unwrap();
                assert!(id.starts_with("admin") && id.len() == 5 + 16 + 8, "{id}");
            }
            Profile::Idrac => assert!(
                path.rsplit('/').next().unwrap().parse::<u32>().is_ok(),
                "{path}"
            ),
            _ => {
                assert!(location.starts_with('/'), "bmcweb: relative Location");
                assert_eq!(path.rsplit('/').next().unwrap().len(), 10);
            }
        }
        let coll: Value = c
            .get(format!("{}{SESSIONS}", sim.base_url()))
            .header("X-Auth-Token", &token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(coll["Members@odata.count"], 1, "{profile}");
        let me = c
            .get(format!("{}{path}", sim.base_url()))
            .header("X-Auth-Token", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 200);
        let me: Value = me.json().await.unwrap();
        if profile.is_ilo() {
            assert_eq!(me["Oem"]["Hpe"]["MySession"], true);
            assert_eq!(me["Oem"]["Hpe"]["UserTag"], "REST");
        } else {
            assert_eq!(me["UserName"], "admin");
        }
        let del = c
            .delete(format!("{}{path}", sim.base_url()))
            .header("X-Auth-Token", &token)
            .send()
            .await
            .unwrap();
        assert!(del.status().is_success(), "{profile}: {}", del.status());
        assert!(sim.sessions().is_empty());
        let dead = c
            .get(format!("{}/redfish/v1/Systems", sim.base_url()))
            .header("X-Auth-Token", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(dead.status(), 401);
        assert!(
            message_id(dead).await.ends_with("NoValidSession"),
            "{profile}"
        );
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn idle_sessions_expire_on_the_simulated_clock_and_access_moves_access_time() {
    let c = client();
    let sim = start(Profile::Ilo6).await;
    let (token, location) = login(&c, &sim).await;
    let url = format!("{}{}", sim.base_url(), path_of(&location));
    sim.advance_clock(1000);
    let body: Value = c
        .get(&url)
        .header("X-Auth-Token", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (access, login_t) = (
        body["Oem"]["Hpe"]["AccessTime"]
            .as_str()
            .unwrap()
            .to_string(),
        body["Oem"]["Hpe"]["LoginTime"]
            .as_str()
            .unwrap()
            .to_string(),
    );
    assert_ne!(access, login_t, "AccessTime moved with the request");
    assert_eq!(
        sim.sessions()[0].access_time - sim.sessions()[0].login_time,
        1000
    );
    // 1000 s after the last access: still alive (timeout 1800).
    c.post(format!("{}/_sim/clock", sim.base_url()))
        .json(&json!({"advance_s": 1000}))
        .send()
        .await
        .unwrap();
    assert_eq!(sim.sessions().len(), 1);
    c.post(format!("{}/_sim/clock", sim.base_url()))
        .json(&json!({"advance_s": 800}))
        .send()
        .await
        .unwrap();
    assert!(sim.sessions().is_empty(), "1800 s idle: expired");
    assert_eq!(
        c.get(&url)
            .header("X-Auth-Token", &token)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn session_timeout_is_patchable_and_zero_means_never() {
    let c = client();
    let sim = start(Profile::Ilo5).await;
    let base = sim.base_url();
    let r = c
        .patch(format!("{base}/redfish/v1/SessionService/"))
        .basic_auth("admin", Some("password"))
        .json(&json!({"SessionTimeout": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ss: Value = c
        .get(format!("{base}/redfish/v1/SessionService/"))
        .basic_auth("admin", Some("password"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ss["SessionTimeout"], 0);
    login(&c, &sim).await;
    sim.advance_clock(10 * 365 * 86400);
    assert_eq!(sim.sessions().len(), 1, "never expires");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_full_table_gets_each_vendors_answer() {
    let c = client();
    for (profile, status, id) in [
        (Profile::Ilo5, 503, "Base.1.18.SessionLimitExceeded"),
        (Profile::Ilo7, 503, "Base.1.18.SessionLimitExceeded"),
        (Profile::Idrac, 503, "IDRAC.2.1.RAC0218"),
        (Profile::Bmcweb, 503, "Base.1.18.SessionLimitExceeded"),
    ] {
        let sim = start(profile).await;
        let limit = profile.default_max_sessions();
        for _ in 0..limit {
            login(&c, &sim).await;
        }
        let r = c
            .post(format!("{}{SESSIONS}", sim.base_url()))
            .json(&json!({"UserName":"admin","Password":"password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{profile}");
        assert_eq!(message_id(r).await, id, "{profile}");
        assert_eq!(sim.sessions().len(), limit);
        sim.shutdown().await;
    }
    let sim = bmcsim::start(SimConfig {
        profile: Profile::Ilo6,
        max_sessions: Some(1),
        session_limit_status: Some(400),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    login(&c, &sim).await;
    let r = c
        .post(format!("{}{SESSIONS}", sim.base_url()))
        .json(&json!({"UserName":"admin","Password":"password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "configurable status");
    sim.shutdown().await;
}

#[tokio::test]
async fn basic_auth_leaves_no_session_and_bad_credentials_are_refused() {
    let c = client();
    let sim = start(Profile::Ilo6).await;
    for _ in 0..5 {
        let r = c
            .get(format!("{}/redfish/v1/Systems/1/", sim.base_url()))
            .basic_auth("admin", Some("password"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    assert!(sim.sessions().is_empty());
    let r = c
        .get(format!("{}/redfish/v1/Systems/1/", sim.base_url()))
        .basic_auth("admin", Some("nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = c
        .post(format!("{}{SESSIONS}", sim.base_url()))
        .json(&json!({"UserName":"admin","Password":"nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(sim.sessions().is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn expand_and_next_link_paging() {
    let c = client();
    let sim = bmcsim::start(SimConfig {
        profile: Profile::Ilo5,
        page_size: Some(4),
        max_sessions: Some(50),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    sim.leak(10, bmcsim::Kind::RestHost, None);
    let mut url = format!("{}{SESSIONS}/?$expand=.", sim.base_url());
    let (mut seen, mut pages) = (Vec::new(), 0);
    loop {
        pages += 1;
        let page: Value = c
            .get(&url)
            .basic_auth("admin", Some("password"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(page["Members@odata.count"], 10);
        for m in page["Members"].as_array().unwrap() {
            assert_eq!(
                m["Oem"]["Hpe"]["UserTag"], "RESTHost",
                "expanded members are whole sessions"
            );
            seen.push(m["Id"].as_str().unwrap().to_string());
        }
        match page["Members@odata.nextLink"].as_str() {
            Some(next) => url = format!("{}{next}", sim.base_url()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    seen.dedup();
    assert_eq!(seen.len(), 10);
    assert!(seen.iter().all(|id| id.starts_with("system administrator")));
    sim.shutdown().await;
}

#[tokio::test]
async fn leaked_sessions_look_as_each_tool_leaves_them() {
    let c = client();
    let sim = start(Profile::Ilo7).await;
    let r: Value = c
        .post(format!("{}/_sim/leak", sim.base_url()))
        .json(&json!({"count": 2, "kind": "host-application"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["created"], 2);
    c.post(format!("{}/_sim/leak", sim.base_url()))
        .json(&json!({"count": 1, "kind": "web-ui", "user": "alice"}))
        .send()
        .await
        .unwrap();
    let coll: Value = c
        .get(format!("{}{SESSIONS}/?$expand=.", sim.base_url()))
        .basic_auth("admin", Some("password"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let members = coll["Members"].as_array().unwrap();
    let apps: Vec<&Value> = members
        .iter()
        .filter(|m| m["Oem"]["Hpe"]["UserIP"] == "16.1.15.2")
        .collect();
    assert_eq!(apps.len(), 2);
    assert!(apps.iter().all(|m| m["Oem"]["Hpe"]["UserTag"] == "REST"
        && ["iLORest", "AMS"].contains(&m["UserName"].as_str().unwrap())));
    let web = members.iter().find(|m| m["UserName"] == "alice").unwrap();
    assert_eq!(web["Oem"]["Hpe"]["UserTag"], "Web UI");
    let bad = c
        .post(format!("{}/_sim/leak", sim.base_url()))
        .json(&json!({"kind": "teapot"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    sim.shutdown().await;
}

#[tokio::test]
async fn chif_channel_logins_are_rest_host_system_administrator_and_need_no_credentials() {
    let c = client();
    let sim = start(Profile::Ilo5).await;
    let r = c
        .post(format!("{}{SESSIONS}/", sim.base_url()))
        .header("X-Bmcsim-Channel", "chif")
        .json(&json!({"UserName":"", "Password":""}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let s = &sim.sessions()[0];
    assert_eq!(
        (s.user.as_str(), s.kind, s.created_via.as_str()),
        ("System Administrator", bmcsim::Kind::RestHost, "login-chif")
    );
    let body: Value = c
        .get(format!("{}{SESSIONS}/?$expand=.", sim.base_url()))
        .header("X-Bmcsim-Channel", "chif")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["Members"][0]["Oem"]["Hpe"]["UserTag"], "RESTHost",
        "no session needed over CHIF"
    );
    assert!(body["Members"][0]["@odata.id"]
        .as_str()
        .unwrap()
        .contains("system%20administrator"));
    // Without the channel, the same request needs a session.
    assert_eq!(
        c.get(format!("{}{SESSIONS}/", sim.base_url()))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn inband_listener_sessions_are_host_applications_from_the_peer_address() {
    let c = client();
    let sim = bmcsim::start(SimConfig {
        profile: Profile::Ilo7,
        inband_listen: vec!["127.0.0.3:0".parse().unwrap()],
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let inband = sim.inband_url().unwrap();
    let r = c
        .post(format!("{inband}{SESSIONS}/"))
        .json(&json!({"UserName":"iLORest","Password":"password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let s = &sim.sessions()[0];
    assert_eq!(
        (s.kind, s.user.as_str(), s.user_ip.as_str()),
        (bmcsim::Kind::HostApplication, "iLORest", "127.0.0.1")
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_reset_drops_every_session_and_refuses_connections_for_a_while() {
    let c = client();
    let sim = start(Profile::Ilo6).await;
    login(&c, &sim).await;
    sim.leak(3, bmcsim::Kind::RestHost, None);
    let r: Value = c
        .post(format!("{}/_sim/reset", sim.base_url()))
        .json(&json!({"down_s": 1}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["dropped"], 4);
    assert!(sim.sessions().is_empty());
    let fresh = client();
    assert!(
        fresh
            .get(format!("{}/redfish/v1/", sim.base_url()))
            .send()
            .await
            .is_err(),
        "refused while down"
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        fresh
            .get(format!("{}/redfish/v1/", sim.base_url()))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn the_control_api_lists_every_token_issued_deleted_sessions_too() {
    let c = client();
    let sim = start(Profile::Ilo6).await;
    let (token, location) = login(&c, &sim).await;
    let r = c
        .delete(format!("{}{}", sim.base_url(), path_of(&location)))
        .header("X-Auth-Token", &token)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let (second, _) = login(&c, &sim).await;
    let tokens: Vec<String> = c
        .get(format!("{}/_sim/tokens", sim.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tokens, vec![token, second]);
    assert_eq!(sim.issued_tokens(), tokens);
    sim.shutdown().await;
}

#[tokio::test]
async fn idrac_numbers_its_sessions_again_from_2_after_a_reset() {
    let c = client();
    let sim = start(Profile::Idrac).await;
    let (_, first) = login(&c, &sim).await;
    let (_, second) = login(&c, &sim).await;
    assert_eq!(
        (first.as_str(), second.as_str()),
        (
            "/redfish/v1/SessionService/Sessions/2",
            "/redfish/v1/SessionService/Sessions/3"
        )
    );
    let r = c
        .post(format!("{}/_sim/reset", sim.base_url()))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (_, after) = login(&c, &sim).await;
    assert_eq!(
        after, "/redfish/v1/SessionService/Sessions/2",
        "the id of before the reboot names a new session"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn an_undeletable_session_answers_as_the_vendor_does() {
    let c = client();
    for (profile, status, allow) in [
        (Profile::Ilo6, StatusCode::METHOD_NOT_ALLOWED, Some("GET")),
        (Profile::Idrac, StatusCode::FORBIDDEN, None),
        (Profile::Bmcweb, StatusCode::FORBIDDEN, None),
    ] {
        let sim = start(profile).await;
        let (token, _) = login(&c, &sim).await;
        let r: Value = c
            .post(format!("{}/_sim/leak", sim.base_url()))
            .json(&json!({"count": 1, "kind": "rest", "undeletable": true}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = r["ids"][0].as_str().unwrap().to_string();
        let path = bmcsim::render::session_path(profile, &id);
        let r = c
            .delete(format!("{}{path}", sim.base_url()))
            .header("X-Auth-Token", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{profile}");
        assert_eq!(
            r.headers().get("allow").map(|v| v.to_str().unwrap()),
            allow,
            "{profile}"
        );
        assert!(sim.sessions().iter().any(|s| s.id == id && s.undeletable));
        let bad = c
            .post(format!("{}/_sim/leak", sim.base_url()))
            .json(&json!({"undeletable": "yes"}))
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        sim.shutdown().await;
    }
}
