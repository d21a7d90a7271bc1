//! The Redfish routes: service root, SessionService, the Sessions collection and its members,
//! and the loaded resource tree.

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use percent_encoding::percent_decode_str;
use serde_json::{json, Value};

use crate::handler::{
    bytes_reply, error_reply, json_reply, latency, method_not_allowed, not_found, Caller, Channel,
    Ctx, Reply,
};
use crate::render::{self, SESSIONS_PATH};
use crate::state::Sim;
use crate::tree::key;

pub async fn route(
    sim: &Arc<Sim>,
    ctx: &Ctx,
    channel: Channel,
    caller: Caller,
    req: Request<Bytes>,
) -> Reply {
    let path = req.uri().path().to_string();
    let k = key(&path);
    let members = key(SESSIONS_PATH) + "/members";
    let is_login = (k == key(SESSIONS_PATH) || k == members) && req.method() == Method::POST;
    latency(if is_login {
        sim.cfg.login_latency_ms
    } else {
        sim.cfg.latency_ms
    })
    .await;
    if k == "/redfish" {
        return json_reply(StatusCode::OK, &json!({ "v1": "/redfish/v1/" }));
    }
    if k == "/redfish/v1" || k == "/redfish/v1/odata" || k == "/redfish/v1/$metadata" {
        return public(sim, &req, &k);
    }
    if is_login {
        return crate::login::login(sim, ctx, channel, &req).await;
    }
    if matches!(caller, Caller::None) {
        return error_reply(
            sim,
            StatusCode::UNAUTHORIZED,
            "NoValidSession",
            "There is no valid session established with the implementation.",
        );
    }
    if k == key("/redfish/v1/SessionService") {
        return session_service(sim, &req);
    }
    if k == key(SESSIONS_PATH) {
        return match *req.method() {
            Method::GET => sessions_collection(sim, &caller, &req),
            _ => method_not_allowed(sim, "GET, POST"),
        };
    }
    if let Some(id) = k.strip_prefix(&(key(SESSIONS_PATH) + "/")) {
        let id = percent_decode_str(path.trim_end_matches('/').rsplit('/').next().unwrap_or(id))
            .decode_utf8_lossy()
            .to_string();
        return session_member(sim, &caller, &req, &id).await;
    }
    tree_resource(sim, &req, &k)
}

/// Resources every client may read without a session.
fn public(sim: &Sim, req: &Request<Bytes>, k: &str) -> Reply {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return method_not_allowed(sim, "GET, HEAD");
    }
    if k == "/redfish/v1/odata" {
        return json_reply(
            StatusCode::OK,
            &json!({ "@odata.context": "/redfish/v1/$metadata", "value": [
            { "name": "Service", "kind": "Singleton", "url": "/redfish/v1/" },
            { "name": "Sessions", "kind": "Singleton", "url": SESSIONS_PATH } ] }),
        );
    }
    if k == "/redfish/v1/$metadata" {
        let mut resp = bytes_reply(StatusCode::OK, Bytes::from_static(METADATA.as_bytes()));
        resp.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/xml"),
        );
        return resp;
    }
    let tree = sim.tree.read().unwrap_or_else(|e| e.into_inner());
    match tree.get("/redfish/v1/") {
        Some((doc, bytes)) => resource_reply(doc, bytes, "GET, HEAD"),
        None => not_found(sim),
    }
}

const METADATA: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">
  <edmx:Reference Uri="http://redfish.dmtf.org/schemas/v1/ServiceRoot_v1.xml"><edmx:Include Namespace="ServiceRoot"/><edmx:Include Namespace="ServiceRoot.v1_11_0"/></edmx:Reference>
  <edmx:Reference Uri="http://redfish.dmtf.org/schemas/v1/Session_v1.xml"><edmx:Include Namespace="Session"/><edmx:Include Namespace="Session.v1_7_0"/></edmx:Reference>
  <edmx:Reference Uri="http://redfish.dmtf.org/schemas/v1/SessionCollection_v1.xml"><edmx:Include Namespace="SessionCollection"/></edmx:Reference>
  <edmx:DataServices><Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="Service"><EntityContainer Name="Service" Extends="ServiceRoot.v1_11_0.ServiceContainer"/></Schema></edmx:DataServices>
</edmx:Edmx>
"#;

fn session_service(sim: &Sim, req: &Request<Bytes>) -> Reply {
    match *req.method() {
        Method::GET => {
            let timeout = sim.table().timeout;
            let id = if sim.profile().is_ilo() {
                "/redfish/v1/SessionService/"
            } else {
                "/redfish/v1/SessionService"
            };
            json_reply(
                StatusCode::OK,
                &json!({
                    "@odata.id": id,
                    "@odata.type": "#SessionService.v1_1_8.SessionService",
                    "Id": "SessionService",
                    "Name": "Session Service",
                    "ServiceEnabled": true,
                    "SessionTimeout": timeout,
                    "Sessions": { "@odata.id": if sim.profile().is_ilo() { format!("{SESSIONS_PATH}/") } else { SESSIONS_PATH.to_string() } },
                    "Status": { "State": "Enabled", "Health": "OK" }
                }),
            )
        }
        Method::PATCH => {
            let Ok(body) = serde_json::from_slice::<Value>(req.body()) else {
                return error_reply(
                    sim,
                    StatusCode::BAD_REQUEST,
                    "MalformedJSON",
                    "The request body submitted was malformed JSON.",
                );
            };
            match body.get("SessionTimeout").and_then(Value::as_u64) {
                Some(t) => {
                    sim.table().timeout = t;
                    json_reply(
                        StatusCode::OK,
                        &render::error(sim.profile(), "Success", "Successfully Completed Request"),
                    )
                }
                None => error_reply(
                    sim,
                    StatusCode::BAD_REQUEST,
                    "PropertyValueTypeError",
                    "SessionTimeout must be a number of seconds.",
                ),
            }
        }
        _ => method_not_allowed(sim, "GET, PATCH"),
    }
}

fn query_param<'a>(req: &'a Request<Bytes>, name: &str) -> Option<std::borrow::Cow<'a, str>> {
    let query = req.uri().query()?;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode_str(k).decode_utf8_lossy() == name)
            .then(|| percent_decode_str(v).decode_utf8_lossy())
    })
}

fn sessions_collection(sim: &Sim, caller: &Caller, req: &Request<Bytes>) -> Reply {
    let profile = sim.profile();
    // NOTE(dell): iDRAC answers `$expand` on Sessions with references only (documented in
    // docs/SIMULATOR.md); iLO and bmcweb expand.
    let expand = profile != crate::Profile::Idrac
        && query_param(req, "$expand").is_some_and(|v| v.starts_with('.') || v.starts_with('*'));
    let skip: usize = query_param(req, "$skip")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mine_id = match caller {
        Caller::Session(s) => Some(s.id.clone()),
        _ => None,
    };
    let mut table = sim.table();
    let all = table.list();
    let timeout = table.timeout;
    drop(table);
    let page = sim.cfg.page_size.unwrap_or(usize::MAX).max(1);
    let members = all
        .iter()
        .skip(skip)
        .take(page)
        .map(|s| {
            let mine = mine_id.as_deref() == Some(s.id.as_str());
            if expand {
                render::session(profile, s, mine, timeout)
            } else {
                json!({ "@odata.id": render::session_path(profile, &s.id) })
            }
        })
        .collect();
    let next = (skip.saturating_add(page) < all.len()).then(|| {
        let base = if profile.is_ilo() {
            format!("{SESSIONS_PATH}/")
        } else {
            SESSIONS_PATH.to_string()
        };
        let expand_q = if expand { "$expand=.&" } else { "" };
        format!("{base}?{expand_q}$skip={}", skip + page)
    });
    let mine = mine_id.map(|id| render::session_path(profile, &id));
    let mut resp = json_reply(
        StatusCode::OK,
        &render::collection(profile, members, all.len(), next, mine),
    );
    resp.headers_mut().insert(
        http::header::ALLOW,
        http::HeaderValue::from_static("GET, HEAD, POST"),
    );
    resp.headers_mut().insert(
        http::header::LINK,
        http::HeaderValue::from_static(
            "<http://redfish.dmtf.org/schemas/v1/SessionCollection.json>; rel=describedby",
        ),
    );
    resp
}

async fn session_member(sim: &Sim, caller: &Caller, req: &Request<Bytes>, id: &str) -> Reply {
    let mine = matches!(caller, Caller::Session(s) if s.id.eq_ignore_ascii_case(id));
    match *req.method() {
        Method::GET => {
            let mut table = sim.table();
            let timeout = table.timeout;
            match table.get_by_id(id) {
                Some(s) => json_reply(
                    StatusCode::OK,
                    &render::session(sim.profile(), &s, mine, timeout),
                ),
                None => not_found(sim),
            }
        }
        Method::DELETE => {
            let delay = sim
                .faults
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .delete_latency_ms;
            latency(delay).await;
            let undeletable = sim.table().get_by_id(id).map(|s| s.undeletable);
            match undeletable {
                None => return not_found(sim),
                // NOTE(hpe): iLO keeps its emergency sessions: 405 with `Allow: GET`.
                Some(true) if sim.profile().is_ilo() => return method_not_allowed(sim, "GET"),
                Some(true) => {
                    return error_reply(
                        sim,
                        StatusCode::FORBIDDEN,
                        "InsufficientPrivilege",
                        "There are insufficient privileges for the account or credentials associated with the current session to perform the requested operation.",
                    )
                }
                Some(false) => {}
            }
            if sim.table().remove_by_id(id).is_none() {
                return not_found(sim);
            }
            match sim.profile() {
                p if p.is_ilo() => json_reply(StatusCode::OK, &render::ilo_success()),
                crate::Profile::Bmcweb => bytes_reply(StatusCode::NO_CONTENT, Bytes::new()),
                p => json_reply(
                    StatusCode::OK,
                    &render::error(p, "Success", "Successfully Completed Request"),
                ),
            }
        }
        _ => method_not_allowed(sim, "GET, DELETE"),
    }
}

fn tree_resource(sim: &Sim, req: &Request<Bytes>, k: &str) -> Reply {
    match *req.method() {
        Method::GET | Method::HEAD => {
            let tree = sim.tree.read().unwrap_or_else(|e| e.into_inner());
            match tree.get(k) {
                Some((doc, _)) if is_manager(doc) => {
                    // The Manager says when the BMC last booted, as Redfish Manager v1.9 does.
                    let mut doc = doc.clone();
                    doc["LastResetTime"] = render::rfc3339(sim.table().booted).into();
                    let bytes = Bytes::from(serde_json::to_vec(&doc).unwrap_or_default());
                    resource_reply(&doc, &bytes, "GET, HEAD, PATCH")
                }
                Some((doc, bytes)) => resource_reply(doc, bytes, "GET, HEAD, PATCH"),
                None => not_found(sim),
            }
        }
        Method::PATCH => patch_resource(sim, req, k),
        Method::POST | Method::PUT | Method::DELETE => {
            let exists = sim
                .tree
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .get(k)
                .is_some();
            if exists {
                method_not_allowed(sim, "GET, HEAD, PATCH")
            } else {
                not_found(sim)
            }
        }
        _ => method_not_allowed(sim, "GET, HEAD, PATCH"),
    }
}

fn is_manager(doc: &Value) -> bool {
    doc.get("@odata.type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.starts_with("#Manager."))
}

/// A tree resource with the headers a Redfish service sends: Allow, and a Link to its schema.
fn resource_reply(doc: &Value, bytes: &Bytes, allow: &'static str) -> Reply {
    let mut resp = bytes_reply(StatusCode::OK, bytes.clone());
    resp.headers_mut()
        .insert(http::header::ALLOW, http::HeaderValue::from_static(allow));
    if let Some(link) = described_by(doc) {
        resp.headers_mut().insert(http::header::LINK, link);
    }
    resp
}

/// `Link: <…/Schema.json>; rel=describedby` from `@odata.type` (`#Schema.v1_2_0.Schema`).
pub fn described_by(doc: &Value) -> Option<http::HeaderValue> {
    let ty = doc.get("@odata.type")?.as_str()?.trim_start_matches('#');
    let schema = ty.split('.').next()?;
    let version = ty
        .split('.')
        .nth(1)
        .filter(|v| v.starts_with('v'))
        .map(|v| format!(".{v}"))
        .unwrap_or_default();
    http::HeaderValue::from_str(&format!(
        "<http://redfish.dmtf.org/schemas/v1/{schema}{version}.json>; rel=describedby"
    ))
    .ok()
}

/// Merges the body's top-level properties into the resource (annotations excepted).
fn patch_resource(sim: &Sim, req: &Request<Bytes>, k: &str) -> Reply {
    let Ok(Value::Object(patch)) = serde_json::from_slice::<Value>(req.body()) else {
        return error_reply(
            sim,
            StatusCode::BAD_REQUEST,
            "MalformedJSON",
            "The request body submitted was malformed JSON.",
        );
    };
    let mut tree = sim.tree.write().unwrap_or_else(|e| e.into_inner());
    let Some((doc, bytes)) = tree.resources.get_mut(k) else {
        return not_found(sim);
    };
    if doc.get("IsPredefined").and_then(Value::as_bool) == Some(true) {
        return error_reply(
            sim,
            StatusCode::METHOD_NOT_ALLOWED,
            "PropertyNotWritable",
            "Predefined roles cannot be modified.",
        );
    }
    for (name, value) in patch {
        if !name.starts_with('@') {
            doc[name] = value;
        }
    }
    *bytes = Bytes::from(serde_json::to_vec(doc).unwrap_or_default());
    json_reply(
        StatusCode::OK,
        &render::error(sim.profile(), "Success", "Successfully Completed Request"),
    )
}
