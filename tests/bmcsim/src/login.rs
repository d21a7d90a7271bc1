//! `POST /redfish/v1/SessionService/Sessions`: the login, and the session kind the BMC
//! records for it from the channel it came in on.

use bytes::Bytes;
use http::{HeaderValue, Request, StatusCode};
use serde_json::Value;

use crate::config::Profile;
use crate::handler::{credentials_ok, error_reply, json_reply, Channel, Ctx, Reply};
use crate::render;
use crate::sessions::Kind;
use crate::state::Sim;

pub async fn login(sim: &Sim, ctx: &Ctx, channel: Channel, req: &Request<Bytes>) -> Reply {
    let Ok(body) = serde_json::from_slice::<Value>(req.body()) else {
        return error_reply(
            sim,
            StatusCode::BAD_REQUEST,
            "MalformedJSON",
            "The request body submitted was malformed JSON.",
        );
    };
    let user = body.get("UserName").and_then(Value::as_str);
    let password = body.get("Password").and_then(Value::as_str);
    let profile = sim.profile();
    let chif = channel == Channel::Chif && profile.is_ilo();
    let (Some(user), Some(password)) = (user, password) else {
        if !chif {
            return error_reply(
                sim,
                StatusCode::BAD_REQUEST,
                "PropertyMissing",
                "UserName and Password are required.",
            );
        }
        return create(sim, ctx, channel, "System Administrator", None);
    };
    if !chif && !credentials_ok(sim, user, password) {
        return error_reply(
            sim,
            StatusCode::UNAUTHORIZED,
            "NoValidSession",
            "Invalid username or password.",
        );
    }
    // NOTE(hpe): CHIF sessions are the "System Administrator" whatever the account.
    let user = if chif { "System Administrator" } else { user };
    let context = body
        .get("Context")
        .and_then(Value::as_str)
        .filter(|_| profile == Profile::Bmcweb)
        .map(str::to_string);
    create(sim, ctx, channel, user, context)
}

fn create(sim: &Sim, ctx: &Ctx, channel: Channel, user: &str, context: Option<String>) -> Reply {
    let profile = sim.profile();
    let peer_ip = peer_ip(ctx);
    let (kind, via, ip) = match channel {
        Channel::Chif => (Kind::RestHost, "login-chif", "::ffff:0.0.0.0".to_string()),
        Channel::InBand => (Kind::HostApplication, "login-inband", peer_ip),
        Channel::OutOfBand => (Kind::Rest, "login", peer_ip),
    };
    let mut table = sim.table();
    if table.is_full() {
        let status = StatusCode::from_u16(sim.cfg.session_limit_status.unwrap_or(503))
            .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return json_reply(status, &render::session_limit(profile));
    }
    let session = table.create(user, kind, via, &ip, context);
    let timeout = table.timeout;
    drop(table);
    let path = render::session_path(profile, &session.id);
    let mut resp = json_reply(
        StatusCode::CREATED,
        &render::session(profile, &session, false, timeout),
    );
    let location = match profile {
        // NOTE(hpe): iLO's Location is absolute and names the BMC's own address without the
        // port the client used (HPE docs, "Redfish authentication").
        p if p.is_ilo() => format!("https://{}{path}", own_host(ctx)),
        _ => path.clone(),
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&session.token) {
        h.insert("X-Auth-Token", v);
    }
    if let Ok(v) = HeaderValue::from_str(&location) {
        h.insert(http::header::LOCATION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("<{path}>; rel=self")) {
        h.insert(http::header::LINK, v);
    }
    resp
}

/// DMTF services write IPv4 clients as IPv4-mapped IPv6 (bmcweb) or plain (others).
fn peer_ip(ctx: &Ctx) -> String {
    ctx.peer.ip().to_string()
}

/// The address the client reached, without the port.
fn own_host(ctx: &Ctx) -> String {
    match ctx.local.ip() {
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    }
}
