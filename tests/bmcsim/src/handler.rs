//! One request, start to finish: control API or Redfish, the BMC's latency and concurrency,
//! injected faults, authentication, and the request log.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use serde_json::Value;

use crate::render;
use crate::sessions::SimSession;
use crate::state::{Cut, LogEntry, Sim};

pub type Reply = Response<Bytes>;

/// Where a request came from, as the BMC tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    OutOfBand,
    /// The host-side vNIC (`--inband-listen`, or `X-Bmcsim-Channel: inband`).
    InBand,
    /// HPE CHIF (the CHIF stand-in sets `X-Bmcsim-Channel: chif`).
    Chif,
}

impl Channel {
    pub fn name(self) -> &'static str {
        match self {
            Channel::OutOfBand => "oob",
            Channel::InBand => "inband",
            Channel::Chif => "chif",
        }
    }
}

pub struct Ctx {
    pub peer: SocketAddr,
    /// The listener's address as the client reached it.
    pub local: SocketAddr,
    pub channel: Channel,
}

/// Who is asking.
pub enum Caller {
    Session(SimSession),
    /// Basic auth: a valid account, no session.
    Basic,
    /// CHIF in Production mode: no credentials needed.
    Chif,
    None,
}

impl Caller {
    fn name(&self) -> &'static str {
        match self {
            Caller::Session(_) => "session",
            Caller::Basic => "basic",
            Caller::Chif => "chif",
            Caller::None => "none",
        }
    }
}

pub fn json_reply(status: StatusCode, body: &Value) -> Reply {
    let bytes = Bytes::from(serde_json::to_vec(body).unwrap_or_default());
    bytes_reply(status, bytes)
}

pub fn bytes_reply(status: StatusCode, body: Bytes) -> Reply {
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    h.insert("OData-Version", HeaderValue::from_static("4.0"));
    h.insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    resp
}

pub fn error_reply(sim: &Sim, status: StatusCode, key: &str, message: &str) -> Reply {
    let mut resp = json_reply(status, &render::error(sim.profile(), key, message));
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            http::header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"bmcsim\""),
        );
    }
    resp
}

pub fn not_found(sim: &Sim) -> Reply {
    error_reply(
        sim,
        StatusCode::NOT_FOUND,
        "ResourceMissingAtURI",
        "The requested resource was not found.",
    )
}

pub fn method_not_allowed(sim: &Sim, allow: &'static str) -> Reply {
    let mut resp = error_reply(
        sim,
        StatusCode::METHOD_NOT_ALLOWED,
        "OperationNotAllowed",
        "The HTTP method is not allowed on this resource.",
    );
    resp.headers_mut()
        .insert(http::header::ALLOW, HeaderValue::from_static(allow));
    resp
}

pub async fn handle(sim: Arc<Sim>, ctx: Ctx, req: Request<Bytes>) -> Reply {
    let path = req.uri().path().to_string();
    if path.starts_with("/_sim/") || path == "/_sim" {
        return crate::control::handle(&sim, &ctx, req).await;
    }
    if sim.is_down() {
        let mut resp = error_reply(
            &sim,
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceTemporarilyUnavailable",
            "The BMC is resetting.",
        );
        resp.headers_mut()
            .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
        return resp;
    }
    let _permit = match &sim.concurrency {
        Some(sem) => sem.acquire().await.ok(),
        None => None,
    };
    let method = req.method().clone();
    if let Some(v) = req.headers().get("odata-version") {
        if v.as_bytes() != b"4.0" {
            return error_reply(
                &sim,
                StatusCode::PRECONDITION_FAILED,
                "HeaderInvalid",
                "Only OData-Version 4.0 is supported.",
            );
        }
    }
    let channel = effective_channel(&ctx, &req);
    let caller = authenticate(&sim, channel, &req);
    let auth_name = caller.name();
    let session_id = match &caller {
        Caller::Session(s) => Some(s.id.clone()),
        _ => None,
    };
    latency(injected_latency(&sim)).await;
    let mut resp = match injected_fault(&sim, &method, &path) {
        Some(resp) => resp,
        None => crate::redfish::route(&sim, &ctx, channel, caller, req).await,
    };
    if let Some(id) = session_id {
        revoke_every(&sim, &id);
    }
    if let Some(cut) = injected_cut(&sim) {
        resp.extensions_mut().insert(cut);
    }
    add_etag(&mut resp);
    add_date(&sim, &mut resp);
    sim.record(LogEntry {
        method: method.to_string(),
        path,
        status: resp.status().as_u16(),
        channel: channel.name(),
        auth: auth_name,
        peer: ctx.peer.to_string(),
    });
    resp
}

/// The channel header is honoured only from loopback peers (tests and the CHIF stand-in).
pub fn effective_channel(ctx: &Ctx, req: &Request<Bytes>) -> Channel {
    if !ctx.peer.ip().is_loopback() {
        return ctx.channel;
    }
    match req
        .headers()
        .get("x-bmcsim-channel")
        .and_then(|v| v.to_str().ok())
    {
        Some("chif") => Channel::Chif,
        Some("inband") => Channel::InBand,
        _ => ctx.channel,
    }
}

/// The BMC's own clock (simulated time) in the `Date` header, as clients measure idle time
/// against it.
fn add_date(sim: &Sim, resp: &mut Reply) {
    let now = sim.table().now();
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let text = time::OffsetDateTime::from_unix_timestamp(now)
        .ok()
        .and_then(|t| t.format(&format).ok());
    if let Some(v) = text.and_then(|t| HeaderValue::from_str(&t).ok()) {
        resp.headers_mut().insert(http::header::DATE, v);
    }
}

/// NOTE(hpe): iLO sends an ETag with every resource, and ilorest reads it after login.
fn add_etag(resp: &mut Reply) {
    use std::hash::{Hash, Hasher};
    if resp.status() != StatusCode::OK || resp.headers().contains_key(http::header::ETAG) {
        return;
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    resp.body().hash(&mut h);
    if let Ok(v) = HeaderValue::from_str(&format!("W/\"{:08X}\"", h.finish() as u32)) {
        resp.headers_mut().insert(http::header::ETAG, v);
    }
}

/// `latency_ms` for every request, plus `slow_ms` for the next `slow_next`.
fn injected_latency(sim: &Sim) -> u64 {
    let mut faults = sim.faults.lock().unwrap_or_else(|e| e.into_inner());
    let mut ms = faults.latency_ms;
    if faults.slow_next > 0 {
        faults.slow_next -= 1;
        ms += faults.slow_ms;
    }
    ms
}

fn injected_cut(sim: &Sim) -> Option<Cut> {
    let mut faults = sim.faults.lock().unwrap_or_else(|e| e.into_inner());
    if faults.reset_next > 0 {
        faults.reset_next -= 1;
        return Some(Cut::Reset);
    }
    if faults.truncate_next > 0 {
        faults.truncate_next -= 1;
        return Some(Cut::Truncate);
    }
    None
}

/// Under `revoke_every` N: the Nth request authenticated by a session drops that session.
fn revoke_every(sim: &Sim, id: &str) {
    let every = sim
        .faults
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .revoke_every;
    if every == 0 {
        return;
    }
    let mut counts = sim.revocations.lock().unwrap_or_else(|e| e.into_inner());
    counts.0 += 1;
    if counts.0.is_multiple_of(u64::from(every)) && sim.table().remove_by_id(id).is_some() {
        counts.1 += 1;
    }
}

fn injected_fault(sim: &Sim, method: &http::Method, path: &str) -> Option<Reply> {
    let mut faults = sim.faults.lock().unwrap_or_else(|e| e.into_inner());
    let session_delete =
        method == http::Method::DELETE && crate::tree::key(path).contains("/sessions/");
    if faults.fail_delete_next > 0 && session_delete {
        faults.fail_delete_next -= 1;
        let status = StatusCode::from_u16(faults.fail_status.unwrap_or(500))
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return Some(error_reply(
            sim,
            status,
            "InternalError",
            "The request failed due to an internal service error.",
        ));
    }
    if faults.fail_next > 0 {
        faults.fail_next -= 1;
        let status = StatusCode::from_u16(faults.fail_status.unwrap_or(500))
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return Some(error_reply(
            sim,
            status,
            "InternalError",
            "The request failed due to an internal service error.",
        ));
    }
    if faults.malformed_next > 0 {
        faults.malformed_next -= 1;
        return Some(bytes_reply(
            StatusCode::OK,
            Bytes::from_static(b"{\"Members\": [ {\"@odata.id\": "),
        ));
    }
    None
}

pub fn authenticate(sim: &Sim, channel: Channel, req: &Request<Bytes>) -> Caller {
    if let Some(token) = req
        .headers()
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok())
    {
        return match sim.table().touch(token) {
            Some(s) => Caller::Session(s),
            None => Caller::None,
        };
    }
    if let Some(auth) = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        return if basic_ok(sim, auth) {
            Caller::Basic
        } else {
            Caller::None
        };
    }
    // NOTE(hpe): over CHIF in Production mode iLO needs no credentials at all.
    if channel == Channel::Chif && sim.profile().is_ilo() {
        return Caller::Chif;
    }
    Caller::None
}

fn basic_ok(sim: &Sim, header: &str) -> bool {
    let Some(encoded) = header.strip_prefix("Basic ") else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let Ok(text) = String::from_utf8(decoded) else {
        return false;
    };
    let Some((user, password)) = text.split_once(':') else {
        return false;
    };
    credentials_ok(sim, user, password)
}

/// The configured account; on iLO 7 also its host application accounts with the same password.
pub fn credentials_ok(sim: &Sim, user: &str, password: &str) -> bool {
    let (account_user, account_password) = sim
        .account
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    if password != account_password {
        return false;
    }
    user == account_user
        || (sim.profile() == crate::Profile::Ilo7
            && crate::tree_dmtf::ILO7_APP_ACCOUNTS
                .iter()
                .any(|(_, n)| n.eq_ignore_ascii_case(user)))
}

pub async fn latency(ms: u64) {
    if ms > 0 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
}
