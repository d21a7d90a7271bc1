//! Helpers shared by the hmcsim tests: a client that talks to the simulator as HMC clients do.
#![allow(dead_code)]

use hmcsim::{HmcSimConfig, HmcSimHandle};
use reqwest::{Client, Response, StatusCode};

pub const LOGON: &str = "/rest/api/web/Logon";
pub const LOGON_REQUEST: &str = "application/vnd.ibm.powervm.web+xml; type=LogonRequest";
pub const WEB_NS: &str = "http://www.ibm.com/xmlns/systems/power/firmware/web/mc/2012_10/";

pub fn client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .no_proxy()
        .build()
        .unwrap()
}

pub async fn start(cfg: HmcSimConfig) -> HmcSimHandle {
    hmcsim::start(cfg).await.unwrap()
}

/// pypowervm's LogonRequest, the password XML-escaped as it does.
pub fn logon_body(user: &str, password: &str) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
         <LogonRequest xmlns=\"{WEB_NS}\" schemaVersion=\"V1_0\">\n  \
         <Metadata>\n    <Atom/>\n  </Metadata>\n  <UserID>{}</UserID>\n  <Password>{}</Password>\n\
         </LogonRequest>",
        esc(user),
        esc(password)
    )
}

pub async fn logon_raw(c: &Client, sim: &HmcSimHandle, user: &str, password: &str) -> Response {
    c.put(format!("{}{LOGON}", sim.base_url()))
        .header("Content-Type", LOGON_REQUEST)
        .header("X-Audit-Memento", "hmcsim-test")
        .body(logon_body(user, password))
        .send()
        .await
        .unwrap()
}

/// The `X-API-Session` of a `LogonResponse`.
pub fn token_of(body: &str) -> Option<String> {
    let start = body.find("<X-API-Session")?;
    let start = start + body[start..].find('>')? + 1;
    let end = start + body[start..].find("</X-API-Session>")?;
    Some(body[start..end].to_string())
}

pub async fn logon(c: &Client, sim: &HmcSimHandle) -> String {
    let r = logon_raw(c, sim, "hscroot", "abc123").await;
    assert_eq!(r.status(), StatusCode::OK);
    token_of(&r.text().await.unwrap()).expect("a token in the LogonResponse")
}

pub async fn get(c: &Client, sim: &HmcSimHandle, path: &str, token: Option<&str>) -> Response {
    let mut req = c.get(format!("{}{path}", sim.base_url()));
    if let Some(t) = token {
        req = req.header("X-API-Session", t);
    }
    req.send().await.unwrap()
}

/// The text of `<Tag ...>text</Tag>` in an XML answer.
pub fn element(body: &str, tag: &str) -> Option<String> {
    let start = body.find(&format!("<{tag}"))?;
    let start = start + body[start..].find('>')? + 1;
    let end = start + body[start..].find(&format!("</{tag}>"))?;
    Some(body[start..end].to_string())
}
