//! hmcsim's resources and faults over HTTPS: the captured feeds with their ETags and 304s,
//! links naming the listener the client reached, entries, `search/(...)` 204, PCM, and the
//! injected bad answers (HTML, non-XML, a LogonResponse without a token, 5xx, a huge stream).

mod common;

use common::*;
use hmcsim::{FaultTarget, Faults, HmcSimConfig};
use reqwest::StatusCode;

#[tokio::test]
async fn feeds_carry_their_captured_etag_and_if_none_match_gets_304() {
    let c = client();
    let sim = start(HmcSimConfig::default()).await;
    let token = logon(&c, &sim).await;
    for (path, etag) in [
        ("/rest/api/uom/ManagedSystem?group=None", "449450179"),
        ("/rest/api/uom/LogicalPartition", "959374938"),
        ("/rest/api/pcm/preferences", "-215935973"),
    ] {
        let r = get(&c, &sim, path, Some(&token)).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(r.headers()["etag"], etag, "{path}");
        assert_eq!(r.headers()["content-type"], "application/atom+xml");
        assert!(r.headers().contains_key("last-modified"));
        let body = r.text().await.unwrap();
        assert!(
            body.starts_with("<feed xmlns=\"http://www.w3.org/2005/Atom\""),
            "{path}"
        );
        let again = c
            .get(format!("{}{path}", sim.base_url()))
            .header("X-API-Session", &token)
            .header("If-None-Match", etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(again.headers()["etag"], etag);
        assert!(again.bytes().await.unwrap().is_empty());
        let stale = c
            .get(format!("{}{path}", sim.base_url()))
            .header("X-API-Session", &token)
            .header("If-None-Match", "12345")
            .send()
            .await
            .unwrap();
        assert_eq!(stale.status(), StatusCode::OK);
    }
    let big = get(&c, &sim, "/rest/api/uom/ManagedSystem", Some(&token)).await;
    assert!(
        big.text().await.unwrap().len() > 200_000,
        "the whole capture is served"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn absolute_links_name_the_listener_the_client_reached() {
    let c = client();
    let sim = start(HmcSimConfig {
        listen: vec![
            "127.0.0.1:0".parse().unwrap(),
            "127.0.0.2:0".parse().unwrap(),
        ],
        ..HmcSimConfig::default()
    })
    .await;
    let token = logon(&c, &sim).await;
    for addr in sim.listen_addrs() {
        let url = format!("https://{addr}/rest/api/uom/LogicalPartition");
        let r = c
            .get(&url)
            .header("X-API-Session", &token)
            .send()
            .await
            .unwrap();
        let body = r.text().await.unwrap();
        assert!(!body.contains("9.1.2.3"), "no link names the capture HMC");
        assert!(body.contains(&format!(
            "<link rel=\"SELF\" href=\"https://{addr}/rest/api/uom/LogicalPartition\"/>"
        )));
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn entries_by_uuid_and_searches_answer_200_or_204() {
    let c = client();
    let sim = start(HmcSimConfig::default()).await;
    let token = logon(&c, &sim).await;
    let t = Some(token.as_str());
    let ms = "/rest/api/uom/ManagedSystem/caae9209-25e5-35cd-a71a-ed55c03f294d";
    let r = get(&c, &sim, ms, t).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    assert!(
        body.starts_with("<entry xmlns=\"http://www.w3.org/2005/Atom\""),
        "{}",
        &body[..80]
    );
    assert!(body.contains("<SystemName kb=\"CUR\" kxe=\"false\">HV4</SystemName>"));
    let lpar = format!("{ms}/LogicalPartition/089FFB20-5D19-4A8C-BB80-13650627D985");
    assert_eq!(get(&c, &sim, &lpar, t).await.status(), StatusCode::OK);
    let r = get(
        &c,
        &sim,
        "/rest/api/uom/ManagedSystem/search/(SystemName==HV4)",
        t,
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().contains_key("etag"));
    assert_eq!(r.text().await.unwrap().matches("<entry>").count(), 1);
    let r = get(
        &c,
        &sim,
        "/rest/api/uom/ManagedSystem/search/(SystemName%3D%3Dnone)",
        t,
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = get(
        &c,
        &sim,
        "/rest/api/uom/LogicalPartition/search/(PartitionName==linux1)",
        t,
    )
    .await;
    assert_eq!(r.text().await.unwrap().matches("<entry>").count(), 1);
    let r = get(
        &c,
        &sim,
        "/rest/api/uom/LogicalPartition/search/PartitionName",
        t,
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    for missing in [
        "/rest/api/uom/ManagedSystem/00000000-0000-0000-0000-000000000000",
        "/rest/api/uom/ManagedSystem/00000000-0000-0000-0000-000000000000/LogicalPartition",
        "/rest/api/uom/Cluster",
    ] {
        let r = get(&c, &sim, missing, t).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{missing}");
        assert!(r.text().await.unwrap().contains("HttpErrorResponse"));
    }
    let r = c
        .post(format!("{}{ms}", sim.base_url()))
        .header("X-API-Session", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    sim.shutdown().await;
}

#[tokio::test]
async fn pcm_long_term_monitor_feed_links_to_json_the_simulator_serves() {
    let c = client();
    let sim = start(HmcSimConfig::default()).await;
    let token = logon(&c, &sim).await;
    let feed = get(
        &c,
        &sim,
        "/rest/api/pcm/ManagedSystem/98498bed-c78a-3a4f-b90a-4b715418fcb6/RawMetrics/LongTermMonitor",
        Some(&token),
    )
    .await
    .text()
    .await
    .unwrap();
    let base = sim.base_url();
    let links: Vec<&str> = feed
        .split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|l| l.ends_with(".json"))
        .collect();
    assert_eq!(links.len(), 3);
    let mut served = 0;
    for link in links {
        let path = link.strip_prefix(&base).expect("links name the simulator");
        let r = get(&c, &sim, path, Some(&token)).await;
        if link.contains("_vios_") {
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "no VIOS capture");
            continue;
        }
        assert_eq!(r.status(), StatusCode::OK, "{link}");
        assert_eq!(
            r.headers()["content-type"],
            "application/vnd.ibm.powervm.pcm.json"
        );
        let json: serde_json::Value = r.json().await.unwrap();
        assert!(json.get("systemUtil").is_some() || json.get("lparUtil").is_some());
        served += 1;
    }
    assert_eq!(served, 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn faults_answer_html_non_xml_5xx_or_a_tokenless_logon_then_stop() {
    let c = client();
    let sim = start(HmcSimConfig::default()).await;
    sim.set_faults(Faults {
        target: FaultTarget::Logon,
        html_next: 1,
        logon_without_token_next: 1,
        fail_next: 1,
        fail_status: Some(503),
        ..Faults::default()
    });
    let r = logon_raw(&c, &sim, "hscroot", "abc123").await;
    let body = r.text().await.unwrap();
    assert!(
        body.contains("<LogonResponse") && token_of(&body).is_none(),
        "{body}"
    );
    let r = logon_raw(&c, &sim, "hscroot", "abc123").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let r = logon_raw(&c, &sim, "hscroot", "abc123").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(sim.sessions().is_empty(), "no fault made a session");
    let token = logon(&c, &sim).await;
    sim.set_faults(Faults {
        target: FaultTarget::Other,
        non_xml_next: 1,
        ..Faults::default()
    });
    let r = get(&c, &sim, "/rest/api/uom/ManagedSystem", None).await;
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "faults hit authenticated requests"
    );
    let r = get(&c, &sim, "/rest/api/uom/ManagedSystem", Some(&token)).await;
    assert_eq!(
        r.text().await.unwrap(),
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><id>"
    );
    let r = get(&c, &sim, "/rest/api/uom/ManagedSystem", Some(&token)).await;
    assert_eq!(r.headers()["etag"], "449450179", "the fault was used up");
    assert_eq!(sim.faults().non_xml_next, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_huge_answer_is_streamed_with_or_without_a_length() {
    use futures_util_free::drain;
    let c = client();
    let sim = start(HmcSimConfig::default()).await;
    let token = logon(&c, &sim).await;
    for declare_length in [false, true] {
        sim.set_faults(Faults {
            huge_next: 1,
            huge_bytes: Some(64 << 20),
            huge_declare_length: declare_length,
            ..Faults::default()
        });
        let r = get(&c, &sim, "/rest/api/uom/ManagedSystem", Some(&token)).await;
        assert_eq!(r.status(), StatusCode::OK);
        let length = r.content_length();
        assert_eq!(length, declare_length.then_some(64 << 20));
        assert_eq!(drain(r).await, 64 << 20);
    }
    sim.shutdown().await;
}

/// Counting a body chunk by chunk without holding it.
mod futures_util_free {
    pub async fn drain(mut r: reqwest::Response) -> u64 {
        let mut n = 0;
        while let Some(chunk) = r.chunk().await.unwrap() {
            n += chunk.len() as u64;
        }
        n
    }
}
