//! Vendor profiles that map a session's own data to its [`Kind`] (ARCHITECTURE.md, "Session classification").

use std::net::IpAddr;

use serde_json::Value;

use super::kind::Kind;
use super::session_info::{text, time_of, SessionInfo};
use crate::subnet::in_prefix;

/// What classification needs to know about this host.
#[derive(Debug, Clone, Default)]
pub struct ClassifyContext {
    /// Addresses and prefixes of the host side of the host interface: a REST session from
    /// there is an in-band `host-application`. (16.1.15.2 on HPE iLO 7's vNIC.)
    pub in_band: Vec<(IpAddr, u8)>,
    /// iLO 7 app-account names (`HostAppName`), such as `iLORest` or `AMS`.
    pub app_accounts: Vec<String>,
}

impl ClassifyContext {
    /// NOTE(hpe): the iLO 7 vNIC gives the host 16.1.15.2/30 (openSUSE wicked-redfish(8)).
    pub fn hpe_default() -> ClassifyContext {
        ClassifyContext {
            in_band: vec![("16.1.15.0".parse().expect("literal"), 30)],
            app_accounts: Vec::new(),
        }
    }

    pub fn is_in_band(&self, origin: &str) -> bool {
        let Some(ip) = parse_origin(origin) else {
            return false;
        };
        self.in_band
            .iter()
            .any(|(net, prefix)| in_prefix(ip, *net, *prefix))
    }
}

/// `::ffff:a.b.c.d` and `a.b.c.d` are the same IPv4 client; brackets and zones are dropped.
fn parse_origin(origin: &str) -> Option<IpAddr> {
    let trimmed = origin.trim().trim_start_matches('[').trim_end_matches(']');
    let no_zone = trimmed.split('%').next().unwrap_or(trimmed);
    match no_zone.parse::<IpAddr>().ok()? {
        IpAddr::V6(v6) => Some(
            v6.to_ipv4_mapped()
                .map(IpAddr::V4)
                .unwrap_or(IpAddr::V6(v6)),
        ),
        v4 => Some(v4),
    }
}

/// HPE iLO: `Oem.Hpe.UserTag` says how the session was made.
pub(super) fn classify_hpe(info: &mut SessionInfo, hpe: &Value, ctx: &ClassifyContext) {
    let tag = text(hpe, "UserTag");
    info.origin = text(hpe, "UserIP");
    info.login_time = time_of(hpe, "LoginTime");
    info.last_access = time_of(hpe, "AccessTime");
    info.expires = time_of(hpe, "UserExpires");
    info.my_session = hpe
        .get("MySession")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if info.user.is_none() {
        info.user = text(hpe, "UserAccount");
    }
    let app_user = info
        .user
        .as_deref()
        .is_some_and(|u| ctx.app_accounts.iter().any(|a| a.eq_ignore_ascii_case(u)));
    let from_host = info.origin.as_deref().is_some_and(|o| ctx.is_in_band(o));
    info.kind = match tag.as_deref() {
        Some("RESTHost") => Kind::RestHost,
        Some("REST") if app_user || from_host => Kind::HostApplication,
        Some("REST") => Kind::Rest,
        Some("Web UI") => Kind::WebUi,
        Some("Remote Console") => Kind::Console,
        Some("SSH" | "SM-CLP" | "Telnet") => Kind::Shell,
        Some("IPMI/RMCP") => Kind::Ipmi,
        Some(_) => Kind::Other,
        None => Kind::Unknown,
    };
    info.raw_type = tag;
}

/// DMTF Session ≥ 1.2 (iDRAC, bmcweb, others): `SessionType` and the client's address.
pub(super) fn classify_dmtf(info: &mut SessionInfo, body: &Value, ctx: &ClassifyContext) {
    let session_type = text(body, "SessionType");
    info.origin = text(body, "ClientOriginIPAddress");
    info.login_time = time_of(body, "CreatedTime");
    let from_host = info.origin.as_deref().is_some_and(|o| ctx.is_in_band(o));
    info.kind = match session_type.as_deref() {
        Some("Redfish") if from_host => Kind::HostApplication,
        Some("Redfish") => Kind::Rest,
        Some("WebUI") => Kind::WebUi,
        Some("KVMIP" | "HostConsole" | "ManagerConsole") => Kind::Console,
        Some("IPMI") => Kind::Ipmi,
        Some(_) => Kind::Other,
        // Before Session 1.2 there is no SessionType: a REST session from the host side is
        // still in-band; anything else cannot be told apart.
        None if from_host => Kind::HostApplication,
        None => Kind::Unknown,
    };
    info.raw_type = session_type;
}

/// Decodes and classifies one session body. Never fails.
pub fn classify_session(body: &Value, ctx: &ClassifyContext) -> SessionInfo {
    let uri = text(body, "@odata.id").unwrap_or_default();
    let mut info = SessionInfo::unknown(&uri);
    if let Some(id) = text(body, "Id") {
        info.id = id;
    }
    if !body.is_object() {
        return info;
    }
    info.user = text(body, "UserName");
    info.context = text(body, "Context");
    if let Some(hpe) = body.pointer("/Oem/Hpe").filter(|v| v.is_object()) {
        classify_hpe(&mut info, hpe, ctx);
    } else if body.get("SessionType").is_some() || body.get("ClientOriginIPAddress").is_some() {
        classify_dmtf(&mut info, body, ctx);
    }
    info
}
