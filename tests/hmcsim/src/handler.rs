//! One request, start to finish: control API or REST, faults, the `X-API-Session` check
//! (403 reason 4 without it, 401 for an unknown or expired one), latency and the request log.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};

use crate::body::SimBody;
use crate::sessions::HmcSession;
use crate::state::{Fault, LogEntry, Sim};
use crate::xml;

pub type Reply = Response<SimBody>;

pub const LOGON_PATH: &str = "/rest/api/web/Logon";
pub const ATOM: &str = "application/atom+xml";

pub struct Ctx {
    pub peer: SocketAddr,
    /// The listener's address as the client reached it: the HMC names itself by it.
    pub local: SocketAddr,
}

pub fn reply(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Reply {
    let mut resp = Response::new(SimBody::full(body));
    *resp.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(http::header::CONTENT_TYPE, v);
    }
    resp
}

pub fn empty(status: StatusCode) -> Reply {
    let mut resp = Response::new(SimBody::Full(None));
    *resp.status_mut() = status;
    resp
}

/// `x-audit-memento` → `X-Audit-Memento`, as the HMC's Java servlet writes header names.
fn title_case(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// The request's headers as the HMC echoes them in an error, the token masked.
fn echoed_headers(headers: &HeaderMap) -> String {
    let items: Vec<String> = headers
        .iter()
        .map(|(k, v)| {
            if k.as_str() == "x-api-session" {
                return "X-API-Session=*******".to_string();
            }
            format!(
                "{}={}",
                title_case(k.as_str()),
                String::from_utf8_lossy(v.as_bytes())
            )
        })
        .collect();
    format!("{{{}}}", items.join(", "))
}

/// An `HttpErrorResponse` answer.
pub fn error(
    sim: &Sim,
    status: StatusCode,
    path: &str,
    headers: &HeaderMap,
    reason: &str,
    message: &str,
) -> Reply {
    let now = sim.table().now();
    let published = time::OffsetDateTime::from_unix_timestamp(now)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    let body = xml::http_error(
        &xml::HttpError {
            status: status.as_u16(),
            request_uri: path,
            reason_code: reason,
            message,
            request_headers: &echoed_headers(headers),
        },
        &uuid_like(),
        &published,
    );
    reply(status, ATOM, body)
}

fn uuid_like() -> String {
    let h = crate::sessions::new_token();
    let d = hex::encode(&h.as_bytes()[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &d[..8],
        &d[8..12],
        &d[12..16],
        &d[16..20],
        &d[20..32]
    )
}

fn header_str(req: &Request<Bytes>, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

pub async fn handle(sim: Arc<Sim>, ctx: Ctx, req: Request<Bytes>) -> Reply {
    let path = req.uri().path().to_string();
    if path == "/_sim" || path.starts_with("/_sim/") {
        return crate::control::handle(&sim, &ctx, req);
    }
    let full_path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| path.clone());
    let method = req.method().clone();
    let token = header_str(&req, "x-api-session");
    let audit_memento = header_str(&req, "x-audit-memento");
    let if_none_match = header_str(&req, "if-none-match");
    let (resp, api_session) = rest(&sim, &ctx, &req, &path, token.as_deref()).await;
    sim.record(LogEntry {
        method: method.to_string(),
        path: full_path,
        status: resp.status().as_u16(),
        api_session,
        audit_memento,
        if_none_match,
        peer: ctx.peer.to_string(),
    });
    resp
}

async fn latency(ms: u64) {
    if ms > 0 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
}

/// The REST answer and what the `X-API-Session` header was (`absent`, `valid`, `invalid`).
async fn rest(
    sim: &Sim,
    ctx: &Ctx,
    req: &Request<Bytes>,
    path: &str,
    token: Option<&str>,
) -> (Reply, &'static str) {
    if path == LOGON_PATH && req.method() == Method::PUT {
        latency(sim.cfg.login_latency_ms).await;
        let fault = sim.faults().take(true);
        let resp = match fault {
            Some(f) => fault_reply(sim, f, path, req.headers()),
            None => crate::logon::logon(sim, ctx, req),
        };
        // A logon's X-API-Session is not looked at.
        return (resp, if token.is_some() { "present" } else { "absent" });
    }
    let Some(token) = token else {
        let resp = error(
            sim,
            StatusCode::FORBIDDEN,
            path,
            req.headers(),
            "4",
            "The request has no X-API-Session header: log on first.",
        );
        return (resp, "absent");
    };
    let Some(session) = sim.table().touch(token) else {
        return (invalid_token(sim, path, req.headers()), "invalid");
    };
    if path == LOGON_PATH && req.method() == Method::DELETE {
        latency(sim.cfg.logoff_latency_ms).await;
    } else {
        latency(sim.cfg.latency_ms).await;
    }
    if let Some(f) = sim.faults().take(false) {
        return (fault_reply(sim, f, path, req.headers()), "valid");
    }
    (authenticated(sim, ctx, req, path, &session), "valid")
}

/// 401, or 403 with reason code 5 when the simulator is set to answer as IBM documents.
pub fn invalid_token(sim: &Sim, path: &str, headers: &HeaderMap) -> Reply {
    if sim.cfg.invalid_token_status == 403 {
        return error(
            sim,
            StatusCode::FORBIDDEN,
            path,
            headers,
            "5",
            "The X-API-Session is not valid: log on again.",
        );
    }
    error(
        sim,
        StatusCode::UNAUTHORIZED,
        path,
        headers,
        "Unauthorized.",
        "The X-API-Session is unknown or has expired: log on again.",
    )
}

fn authenticated(
    sim: &Sim,
    ctx: &Ctx,
    req: &Request<Bytes>,
    path: &str,
    session: &HmcSession,
) -> Reply {
    if path == LOGON_PATH {
        if req.method() == Method::DELETE {
            sim.table().remove(&session.token);
            return empty(StatusCode::NO_CONTENT);
        }
        return method_not_allowed(sim, path, req.headers(), "PUT, DELETE");
    }
    crate::resources::route(sim, ctx, req, path)
}

pub fn method_not_allowed(
    sim: &Sim,
    path: &str,
    headers: &HeaderMap,
    allow: &'static str,
) -> Reply {
    let mut resp = error(
        sim,
        StatusCode::METHOD_NOT_ALLOWED,
        path,
        headers,
        "Method not allowed.",
        "The simulator's resources are read-only.",
    );
    resp.headers_mut()
        .insert(http::header::ALLOW, HeaderValue::from_static(allow));
    resp
}

fn fault_reply(sim: &Sim, fault: Fault, path: &str, headers: &HeaderMap) -> Reply {
    match fault {
        Fault::Fail(status) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            error(sim, status, path, headers, "Unknown internal error.", "Injected failure.")
        }
        Fault::Html => reply(
            StatusCode::OK,
            "text/html; charset=UTF-8",
            "<!DOCTYPE html>\n<html><head><title>Hardware Management Console</title></head>\n\
             <body><h1>Welcome</h1><p>Log on to the Hardware Management Console.</p></body></html>\n",
        ),
        Fault::NonXml => reply(StatusCode::OK, ATOM, "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><id>"),
        Fault::LogonWithoutToken => reply(
            StatusCode::OK,
            xml::LOGON_RESPONSE_TYPE,
            xml::logon_response(None),
        ),
        Fault::Huge {
            bytes,
            declare_length,
        } => {
            let mut resp = Response::new(SimBody::huge(bytes));
            resp.headers_mut()
                .insert(http::header::CONTENT_TYPE, HeaderValue::from_static(ATOM));
            if declare_length {
                resp.headers_mut()
                    .insert(http::header::CONTENT_LENGTH, HeaderValue::from(bytes));
            }
            resp
        }
    }
}
