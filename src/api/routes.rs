//! The local API's routes (DESIGN §8, §13): `GET /v1/status`, `GET /v1/sessions`,
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
    let message = format!("uid {} may not {what}: it needs the {} role (DESIGN §8: root or the admin group for changes, the reader group to read)",
        peer.uid, if what.starts_with("read") { "reader" } else { "admin" });
    error(StatusCode::FORBIDDEN, "forbidden", message)
}

/// Whether `path` is the Redfish proxy's: `/redfish...`, or ilorest's malformed logout
/// target `/None:PORT/redfish/...`.
pub fn is_proxy_path(path: &str) -> bool {
    let path = crate::proxy::path::strip_ilorest_prefix(path);
    path == "/redfish" || path.starts_with("/redfish/")
}

pub async fn handle(
    daemon: &Core,
    peer: Peer,
    via: crate::proxy::Via,
    req: Request<Bytes>,
) -> crate::proxy::Answer {
    if is_proxy_path(req.uri().path()) {
        let path = req.uri().path().to_string();
        let method = req.method().clone();
        let reply = daemon.proxy.handle(&peer, via, req).await;
        tracing::debug!(uid = peer.uid, pid = peer.pid, %method, %path, status = reply.status().as_u16(), "proxy request");
        return reply;
    }
    api(daemon, peer, req)
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
    let body: CleanRequest = if req.body().is_empty() {
        CleanRequest::default()
    } else {
        match serde_json::from_slice(req.body()) {
            Ok(b) => b,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    format!("clean request body: {e}"),
                )
            }
        }
    };
    let (policy, opts) = body.policy(&daemon.settings.reaper);
    match daemon.service.clean(&policy, &opts, &|_, _| {}).await {
        Ok(report) => json(StatusCode::OK, &report),
        Err(e) => bmc_error(e),
    }
}

async fn open_lease(daemon: &Core, peer: &Peer, req: &Request<Bytes>) -> Reply {
    let body: LeaseRequest = if req.body().is_empty() {
        LeaseRequest::default()
    } else {
        match serde_json::from_slice(req.body()) {
            Ok(b) => b,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    format!("lease request body: {e}"),
                )
            }
        }
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
