//! The control API under `/_sim/`: ground truth (sessions, tokens, the request log), leaks,
//! the clock, accounts and faults. Loopback peers only, no authentication.

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use serde_json::{json, Value};

use crate::handler::{reply, Ctx, Reply};
use crate::state::{Faults, Sim};

fn json_reply(status: StatusCode, body: &Value) -> Reply {
    reply(
        status,
        "application/json",
        serde_json::to_vec(body).unwrap_or_default(),
    )
}

fn bad(message: &str) -> Reply {
    json_reply(StatusCode::BAD_REQUEST, &json!({ "error": message }))
}

fn body(req: &Request<Bytes>) -> Result<Value, Reply> {
    if req.body().is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(req.body()).map_err(|e| bad(&format!("malformed JSON: {e}")))
}

pub fn handle(sim: &Sim, ctx: &Ctx, req: Request<Bytes>) -> Reply {
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
        (Method::DELETE, "/_sim/sessions") => {
            let dropped = sim.table().clear();
            Ok(json_reply(StatusCode::OK, &json!({ "dropped": dropped })))
        }
        (Method::GET, "/_sim/tokens") => Ok(json_reply(
            StatusCode::OK,
            &json!(sim.table().issued_tokens()),
        )),
        (Method::POST, "/_sim/leak") => body(&req).map(|b| leak(sim, &b)),
        (Method::POST, "/_sim/clock") => body(&req).map(|b| clock(sim, &b)),
        (Method::POST, "/_sim/users") => body(&req).map(|b| users(sim, &b)),
        (Method::GET, "/_sim/faults") => Ok(json_reply(StatusCode::OK, &json!(*sim.faults()))),
        (Method::POST, "/_sim/faults") => body(&req).and_then(|b| faults(sim, b)),
        (Method::GET, "/_sim/log") => Ok(json_reply(StatusCode::OK, &json!(*sim.log()))),
        (Method::DELETE, "/_sim/log") => {
            sim.log().clear();
            Ok(json_reply(StatusCode::OK, &json!({ "cleared": true })))
        }
        (Method::GET, "/_sim/config") => Ok(config(sim)),
        _ => Ok(json_reply(
            StatusCode::NOT_FOUND,
            &json!({ "error": format!("no control endpoint {} {path}", req.method()) }),
        )),
    };
    result.unwrap_or_else(|e| e)
}

fn config(sim: &Sim) -> Reply {
    let table = sim.table();
    let users: serde_json::Map<String, Value> = table
        .accounts
        .iter()
        .map(|(u, a)| (u.clone(), json!({ "timeout_s": a.timeout_s })))
        .collect();
    json_reply(
        StatusCode::OK,
        &json!({
            "max_sessions": table.max_sessions,
            "users": users,
            "clock_offset_s": table.clock_offset,
            "now": table.now(),
            "login_latency_ms": sim.cfg.login_latency_ms,
            "logoff_latency_ms": sim.cfg.logoff_latency_ms,
            "latency_ms": sim.cfg.latency_ms,
            "invalid_token_status": sim.cfg.invalid_token_status,
        }),
    )
}

/// Makes sessions as a script that never logs off would, up to the limit.
pub fn leak_sessions(sim: &Sim, count: usize, user: &str, memento: Option<&str>) -> usize {
    let mut table = sim.table();
    let mut made = 0;
    while made < count && !table.is_full() {
        table.create(user, memento.map(str::to_string), "127.0.0.1", "leak");
        made += 1;
    }
    made
}

fn leak(sim: &Sim, b: &Value) -> Reply {
    let count = b.get("count").and_then(Value::as_u64).unwrap_or(1) as usize;
    let user = b
        .get("user")
        .and_then(Value::as_str)
        .unwrap_or(&sim.cfg.user)
        .to_string();
    let memento = b.get("audit_memento").and_then(Value::as_str);
    let created = leak_sessions(sim, count, &user, memento);
    json_reply(
        StatusCode::OK,
        &json!({ "created": created, "refused": count - created }),
    )
}

fn clock(sim: &Sim, b: &Value) -> Reply {
    let Some(advance) = b.get("advance_s").and_then(Value::as_i64) else {
        return bad("advance_s (seconds, an integer) is required");
    };
    let mut table = sim.table();
    table.clock_offset += advance;
    table.sweep();
    json_reply(
        StatusCode::OK,
        &json!({ "now": table.now(), "clock_offset_s": table.clock_offset }),
    )
}

/// Adds or replaces an account: `{"user", "password", "timeout_s"}` (timeout 0 = never, the
/// default). The answer does not echo the password.
fn users(sim: &Sim, b: &Value) -> Reply {
    let (Some(user), Some(password)) = (
        b.get("user").and_then(Value::as_str),
        b.get("password").and_then(Value::as_str),
    ) else {
        return bad("user and password (strings) are required");
    };
    if user.is_empty() {
        return bad("user must not be empty");
    }
    let timeout_s = match b.get("timeout_s") {
        None => 0,
        Some(v) => match v.as_u64() {
            Some(t) => t,
            None => return bad("timeout_s must be a whole number of seconds"),
        },
    };
    sim.table().set_account(user, password, timeout_s);
    json_reply(
        StatusCode::OK,
        &json!({ "user": user, "timeout_s": timeout_s }),
    )
}

fn faults(sim: &Sim, b: Value) -> Result<Reply, Reply> {
    let f: Faults = serde_json::from_value(b).map_err(|e| bad(&format!("faults: {e}")))?;
    *sim.faults() = f.clone();
    Ok(json_reply(StatusCode::OK, &json!(f)))
}
