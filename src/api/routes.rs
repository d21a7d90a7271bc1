//! The local API's routes (ARCHITECTURE.md, "Local API and roles" and "Interfaces"): `GET /v1/status`, `GET /v1/sessions`,
//! `POST /v1/clean`, `/v1/leases`. JSON in and out; errors are `{"error":{"code","message"}}`.
//! Paths under `/redfish` go to the Redfish proxy ([`crate::proxy`]).

use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};

use super::Core;
use crate::lease::{LeaseGranted, LeaseList, LeaseRequest};
use crate::peer::{Peer, Role};
use crate::reaper::CleanRequest;
use crate::redfish::Kind;
use crate::session::SessionError;

use super::reply::{error, json, Reply};

fn bmc_error(e: SessionError) -> Reply {
    if e.is_unreachable() {
        return error(StatusCode::BAD_GATEWAY, "bmc_unreachable", e);
    }
    error(StatusCode::BAD_GATEWAY, "bmc_error", e)
}

fn forbidden(peer: &Peer, what: &str) -> Reply {
    let message = format!("uid {} may not {what}: it needs the {} role (root or the admin group for changes, the reader group to read)",
        peer.uid, if what.starts_with("read") { "reader" } else { "admin" });
    error(StatusCode::FORBIDDEN, "forbidden", message)
}

/// Whether `path` is the Redfish proxy's: `/redfish...`, or ilorest's malformed logout
/// target `/None:PORT/redfish/...`.
pub fn is_proxy_path(path: &str) -> bool {
    let path = crate::proxy::path::strip_ilorest_prefix(path);
    path == "/redfish" || path.starts_with("/redfish/")
}

/// `/hmc/<name>/<rest>` on the socket → `(name, rest)` (rest without its leading `/`).
pub fn hmc_path(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("/hmc/")?;
    Some(rest.split_once('/').unwrap_or((rest, "")))
}

/// A request for an HMC's REST API: on the socket under `/hmc/<name>/`, or anything on an
/// HMC's own listener. Served whether or not the BMC is connected (each HMC is independent).
pub async fn hmc(api: &super::Api, peer: &Peer, scope: super::Scope, req: Request<Bytes>) -> Reply {
    let path = req.uri().path().to_string();
    let query = req
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let (found, base, sub) = match scope {
        super::Scope::Hmc(name) => {
            let hmc = api.hmcs.get(&name);
            let base = listener_base(req.headers())
                .or_else(|| {
                    let listen = hmc.as_ref().and_then(|h| h.settings.listen);
                    listen.map(|a| format!("https://{a}"))
                })
                .unwrap_or_default();
            (hmc, base, path.clone())
        }
        super::Scope::Api => {
            let (name, sub) = hmc_path(&path).unwrap_or_default();
            (
                api.hmcs.get(name),
                format!("/hmc/{name}"),
                format!("/{sub}"),
            )
        }
    };
    let Some(hmc) = found else {
        let names = api.hmcs.names();
        return error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!(
                "no HMC at {path} (configured: {})",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ),
        );
    };
    let reply = hmc.handle(peer, &base, &format!("{sub}{query}"), req).await;
    tracing::debug!(uid = peer.uid, pid = peer.pid, hmc = %hmc.settings.name, path = %sub, status = reply.status().as_u16(), "HMC proxy request");
    reply
}

/// `https://<Host>` when the client's `Host` header is a plain host[:port].
fn listener_base(headers: &http::HeaderMap) -> Option<String> {
    let host = headers.get(http::header::HOST)?.to_str().ok()?;
    let plain = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    plain.then(|| format!("https://{host}"))
}

pub async fn handle(
    daemon: &Core,
    peer: Peer,
    via: crate::proxy::Via,
    req: Request<Bytes>,
) -> crate::proxy::Answer {
    if is_proxy_path(req.uri().path()) {
        // For the debug lines only: no copy of the path per request when they are off.
        let path = tracing::enabled!(tracing::Level::DEBUG)
            .then(|| req.uri().path().to_string())
            .unwrap_or_default();
        let method = req.method().clone();
        let start = std::time::Instant::now();
        let Some(_slot) = daemon.proxy_queue.admit() else {
            tracing::debug!(uid = peer.uid, pid = peer.pid, %method, %path, "proxy request refused: the queue is full");
            return daemon
                .proxy_queue
                .refuse()
                .map(crate::proxy::body::Body::from);
        };
        let reply = daemon.proxy.handle(&peer, via, req).await;
        let listener = match via {
            crate::proxy::Via::Unix => "unix",
            crate::proxy::Via::Https => "https",
        };
        crate::metrics::global().proxied(
            listener,
            reply.status().as_u16(),
            start.elapsed().as_secs_f64(),
        );
        tracing::debug!(uid = peer.uid, pid = peer.pid, %method, %path, status = reply.status().as_u16(), "proxy request");
        return reply;
    }
    Box::pin(api(daemon, peer, req))
        .await
        .map(crate::proxy::body::Body::from)
}

async fn api(daemon: &Core, peer: Peer, req: Request<Bytes>) -> Reply {
    let path = req.uri().path().to_string();
    let reply = match (req.method().clone(), path.as_str()) {
        (Method::GET, "/v1/status") if peer.role >= Role::Reader => {
            match daemon.service.status().await {
                Ok(mut report) => {
                    report.proxy = Some(crate::service::ProxyStatus {
                        virtual_sessions: daemon.proxy.virtual_sessions().len(),
                        leases: daemon.service.leases.len().await,
                        cached: daemon.proxy.cached(),
                        https: daemon.settings.api.listen_https.map(|a| a.to_string()),
                    });
                    report.state = Some(super::connecting::READY.into());
                    report.reaper_cycles = Some(
                        daemon
                            .reaper_cycles
                            .load(std::sync::atomic::Ordering::Relaxed),
                    );
                    report.hmc = daemon.hmcs.status().await;
                    json(StatusCode::OK, &report)
                }
                Err(e) => bmc_error(e),
            }
        }
        (Method::GET, "/v1/sessions") if peer.role >= Role::Reader => list(daemon, &req).await,
        (Method::POST, "/v1/clean") if peer.role >= Role::Admin => clean(daemon, &req).await,
        (Method::POST, "/v1/leases") if peer.role >= Role::Admin => {
            open_lease(daemon, &peer, &req).await
        }
        (Method::GET, "/v1/leases") if peer.role >= Role::Admin => json(
            StatusCode::OK,
            &LeaseList {
                leases: daemon.service.leases.list().await,
            },
        ),
        (Method::DELETE, p) if p.starts_with("/v1/leases/") && peer.role >= Role::Admin => {
            close_lease(daemon, &p["/v1/leases/".len()..]).await
        }
        (_, p) if p == "/v1/leases" || p.starts_with("/v1/leases/") => {
            forbidden(&peer, "use leases")
        }
        (Method::GET, "/v1/status" | "/v1/sessions") => forbidden(&peer, "read the BMC's sessions"),
        (Method::POST, "/v1/clean") => forbidden(&peer, "clean sessions"),
        (_, "/v1/status" | "/v1/sessions" | "/v1/clean") => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("{} is not allowed on {path}", req.method()),
        ),
        _ => error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no API endpoint {path}"),
        ),
    };
    tracing::debug!(uid = peer.uid, pid = peer.pid, method = %req.method(), %path, status = reply.status().as_u16(), "api request");
    reply
}

async fn list(daemon: &Core, req: &Request<Bytes>) -> Reply {
    let mut kinds = Vec::new();
    for pair in req
        .uri()
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        match pair.split_once('=') {
            Some(("kind", value)) => match value.parse::<Kind>() {
                Ok(k) => kinds.push(k),
                Err(e) => return error(StatusCode::BAD_REQUEST, "bad_request", e),
            },
            _ => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    format!("unknown query parameter `{pair}`"),
                )
            }
        }
    }
    match daemon.service.list(&kinds).await {
        Ok(report) => json(StatusCode::OK, &report),
        Err(e) => bmc_error(e),
    }
}

async fn clean(daemon: &Core, req: &Request<Bytes>) -> Reply {
    let body: CleanRequest = match super::reply::body_of(req, "clean request") {
        Ok(b) => b,
        Err(reply) => return reply,
    };
    let (policy, opts) = body.policy(&daemon.settings.reaper);
    match daemon.service.clean(&policy, &opts, &|_, _| {}).await {
        Ok(report) => json(StatusCode::OK, &report),
        Err(e) => bmc_error(e),
    }
}

async fn open_lease(daemon: &Core, peer: &Peer, req: &Request<Bytes>) -> Reply {
    let body: LeaseRequest = match super::reply::body_of(req, "lease request") {
        Ok(b) => b,
        Err(reply) => return reply,
    };
    let pid = body.pid.or(peer.pid);
    let ttl = body.ttl_s.map(Duration::from_secs);
    let max = daemon.settings.api.max_leases;
    let limit = *daemon.service.limit.lock().await;
    let cap = crate::lease::cap(max, limit);
    match daemon.service.leases.open(ttl, pid, peer.uid, cap).await {
        Ok(grant) => {
            let url = daemon.service.agent.transport().endpoint();
            // The token goes to this caller once; it is never logged or listed.
            let granted = LeaseGranted {
                location: format!("{url}{}", grant.info.uri),
                url,
                info: grant.info,
                token: grant.token,
            };
            json(StatusCode::CREATED, &granted)
        }
        Err(crate::lease::LeaseError::Pid { pid, reason }) => error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("process {pid}: {reason}"),
        ),
        Err(crate::lease::LeaseError::Cap(cap)) => lease_limit(cap, max, limit),
        Err(crate::lease::LeaseError::Session(e)) => bmc_error(e),
        Err(e) => error(StatusCode::BAD_GATEWAY, "bmc_error", e),
    }
}

/// 429 when the lease cap is reached: what the cap is, why, and how to raise it.
fn lease_limit(cap: usize, max: usize, limit: Option<usize>) -> Reply {
    let why = match limit {
        Some(limit) if cap < max => format!(
            "half of the BMC's session limit of {limit}, to leave room for people; api.max_leases is {max}"
        ),
        _ => format!("api.max_leases = {max}"),
    };
    error(
        StatusCode::TOO_MANY_REQUESTS,
        "lease_limit",
        format!("{cap} leases are open, the most this agent allows ({why}): close one (agentctl session list, agentctl session close ID) or raise api.max_leases in a drop-in in /etc/hostagent/conf.d/"),
    )
}

async fn close_lease(daemon: &Core, id: &str) -> Reply {
    match daemon.service.leases.close(id, "closed by request").await {
        Ok(info) => json(StatusCode::OK, &info),
        Err(crate::lease::LeaseError::NotFound(id)) => {
            error(StatusCode::NOT_FOUND, "not_found", format!("no lease {id}"))
        }
        Err(e) => error(StatusCode::BAD_GATEWAY, "bmc_error", e),
    }
}
