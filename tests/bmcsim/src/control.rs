//! The control API under `/_sim/` (ARCHITECTURE.md, "Interfaces"): ground truth, leaks, the clock, resets,
//! faults and the request log. Loopback peers only, no authentication.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use serde_json::{json, Value};

use crate::config::Profile;
use crate::handler::{json_reply, Ctx, Reply};
use crate::sessions::Kind;
use crate::state::{Faults, Sim};

fn bad(message: &str) -> Reply {
    json_reply(StatusCode::BAD_REQUEST, &json!({ "error": message }))
}

fn body(req: &Request<Bytes>) -> Result<Value, Reply> {
    if req.body().is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(req.body()).map_err(|e| bad(&format!("malformed JSON: {e}")))
}

pub async fn handle(sim: &Sim, ctx: &Ctx, req: Request<Bytes>) -> Reply {
    if !ctx.peer.ip().is_loopback() {
        return json_reply(
            StatusCode::FORBIDDEN,
            &json!({ "error": "the control API answers loopback peers only" }),
        );
    }
    let path = req.uri().path().trim_end_matches('/');
    let result = match (req.method().clone(), path) {
        (Method::GET, "/_sim/sessions") => {
            Ok(json_reply(StatusCode::OK, &json!(sim.table().list())))
        }
        (Method::GET, "/_sim/tokens") => Ok(json_reply(
            StatusCode::OK,
            &json!(sim.table().issued_tokens()),
        )),
        (Method::POST, "/_sim/leak") => body(&req).map(|b| leak(sim, &b)),
        (Method::POST, "/_sim/clock") => body(&req).map(|b| clock(sim, &b)),
        (Method::POST, "/_sim/reset") => body(&req).map(|b| reset(sim, &b)),
        (Method::POST, "/_sim/revoke") => body(&req).map(|b| revoke(sim, &b)),
        (Method::POST, "/_sim/account") => body(&req).map(|b| account(sim, &b)),
        (Method::GET, "/_sim/faults") => Ok(json_reply(
            StatusCode::OK,
            &json!(*sim.faults.lock().unwrap_or_else(|e| e.into_inner())),
        )),
        (Method::POST, "/_sim/faults") => body(&req).and_then(|b| faults(sim, b)),
        (Method::GET, "/_sim/log") => Ok(json_reply(
            StatusCode::OK,
            &json!(*sim.log.lock().unwrap_or_else(|e| e.into_inner())),
        )),
        (Method::DELETE, "/_sim/log") => {
            sim.log.lock().unwrap_or_else(|e| e.into_inner()).clear();
            Ok(json_reply(StatusCode::OK, &json!({ "cleared": true })))
        }
        (Method::GET, "/_sim/config") => Ok(config(sim)),
        (Method::POST, "/_sim/event") => {
            body(&req).map(|b| json_reply(StatusCode::OK, &crate::streams::emit_request(sim, &b)))
        }
        _ => Ok(json_reply(
            StatusCode::NOT_FOUND,
            &json!({ "error": format!("no control endpoint {} {path}", req.method()) }),
        )),
    };
    result.unwrap_or_else(|e| e)
}

fn config(sim: &Sim) -> Reply {
    let table = sim.table();
    json_reply(
        StatusCode::OK,
        &json!({
            "profile": sim.profile().name(),
            "max_sessions": table.max_sessions,
            "session_timeout": table.timeout,
            "clock_offset_s": table.clock_offset,
            "now": table.now(),
            "revocations": sim.revocations.lock().unwrap_or_else(|e| e.into_inner()).1,
        }),
    )
}

/// Who a tool's leaked session belongs to and where it seems to come from, per profile.
fn leak_identity(profile: Profile, kind: Kind, n: usize, user: Option<&str>) -> (String, String) {
    let dmtf_host_ip = if profile == Profile::Bmcweb {
        "::ffff:169.254.0.2"
    } else {
        "169.254.0.2"
    };
    match kind {
        Kind::RestHost => ("System Administrator".into(), "::ffff:0.0.0.0".into()),
        Kind::HostApplication if profile.is_ilo() => {
            let apps = crate::tree_dmtf::ILO7_APP_ACCOUNTS;
            let name = user
                .map(str::to_string)
                .unwrap_or_else(|| apps[n % apps.len()].1.to_string());
            (name, "16.1.15.2".into())
        }
        Kind::HostApplication => (user.unwrap_or("root").into(), dmtf_host_ip.into()),
        Kind::Rest => (user.unwrap_or("admin").into(), "192.168.1.45".into()),
        Kind::WebUi | Kind::Console => (user.unwrap_or("student").into(), "192.168.1.45".into()),
    }
}

fn leak(sim: &Sim, b: &Value) -> Reply {
    match leak_sessions(sim, b) {
        Ok((ids, refused)) => json_reply(
            StatusCode::OK,
            &json!({ "created": ids.len(), "refused": refused, "ids": ids }),
        ),
        Err(message) => bad(message),
    }
}

/// `leak` for in-process callers ([`crate::SimHandle::leak`]): how many were made.
pub fn leak_direct(sim: &Sim, b: &Value) -> usize {
    leak_sessions(sim, b).map(|(ids, _)| ids.len()).unwrap_or(0)
}

/// `leak` for in-process callers that need the ids ([`crate::SimHandle::leak_with`]).
pub fn leak_ids(sim: &Sim, b: &Value) -> Vec<String> {
    leak_sessions(sim, b)
        .map(|(ids, _)| ids)
        .unwrap_or_default()
}

fn leak_sessions(sim: &Sim, b: &Value) -> Result<(Vec<String>, usize), &'static str> {
    let count = b.get("count").and_then(Value::as_u64).unwrap_or(1) as usize;
    let kind = match b.get("kind") {
        None => Kind::RestHost,
        Some(v) => match v.as_str().and_then(Kind::parse) {
            Some(kind) => kind,
            None => {
                return Err(
                    "kind must be one of rest-host, host-application, rest, web-ui, console",
                )
            }
        },
    };
    let user = b.get("user").and_then(Value::as_str);
    let undeletable = match b.get("undeletable") {
        None => false,
        Some(v) => v.as_bool().ok_or("undeletable must be true or false")?,
    };
    let profile = sim.profile();
    let mut table = sim.table();
    let mut ids = Vec::new();
    for n in 0..count {
        if table.is_full() {
            break;
        }
        let (name, ip) = leak_identity(profile, kind, n, user);
        let id = table.create(&name, kind, "leak", &ip, None).id;
        if undeletable {
            table.set_undeletable(&id);
        }
        ids.push(id);
    }
    let refused = count - ids.len();
    Ok((ids, refused))
}

fn clock(sim: &Sim, b: &Value) -> Reply {
    let Some(advance) = b.get("advance_s").and_then(Value::as_i64) else {
        return bad("advance_s (seconds) is required");
    };
    let mut table = sim.table();
    table.clock_offset += advance;
    let now = table.now();
    table.sweep();
    json_reply(
        StatusCode::OK,
        &json!({ "now": now, "clock_offset_s": table.clock_offset }),
    )
}

fn reset(sim: &Sim, b: &Value) -> Reply {
    let down = b
        .get("down_s")
        .and_then(Value::as_f64)
        .unwrap_or(0.0)
        .clamp(0.0, 3600.0);
    let dropped = {
        let mut table = sim.table();
        let n = table.len();
        table.reboot();
        n
    };
    *sim.down_until.lock().unwrap_or_else(|e| e.into_inner()) =
        Some(Instant::now() + Duration::from_secs_f64(down));
    json_reply(
        StatusCode::OK,
        &json!({ "dropped": dropped, "down_s": down }),
    )
}

/// Drops one session by id, as a BMC's administrator deleting it or the BMC expiring it: its
/// token is refused from then on.
fn revoke(sim: &Sim, b: &Value) -> Reply {
    let Some(id) = b.get("id").and_then(Value::as_str) else {
        return bad("id (a session id) is required");
    };
    match sim.table().remove_by_id(id) {
        Some(s) => json_reply(StatusCode::OK, &json!({ "revoked": s.id })),
        None => json_reply(
            StatusCode::NOT_FOUND,
            &json!({ "error": format!("no session {id}") }),
        ),
    }
}

/// Replaces the account's user and/or password (the old ones stop working at once; sessions
/// stay). The answer does not echo the password.
fn account(sim: &Sim, b: &Value) -> Reply {
    let user = b.get("user").and_then(Value::as_str);
    let password = b.get("password").and_then(Value::as_str);
    if user.is_none() && password.is_none() {
        return bad("user and/or password (strings) are required");
    }
    let mut account = sim.account.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(user) = user {
        account.0 = user.to_string();
    }
    if let Some(password) = password {
        account.1 = password.to_string();
    }
    json_reply(StatusCode::OK, &json!({ "user": account.0 }))
}

fn faults(sim: &Sim, b: Value) -> Result<Reply, Reply> {
    let f: Faults = serde_json::from_value(b).map_err(|e| bad(&format!("faults: {e}")))?;
    *sim.faults.lock().unwrap_or_else(|e| e.into_inner()) = f.clone();
    Ok(json_reply(StatusCode::OK, &json!(f)))
}
