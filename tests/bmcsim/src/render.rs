//! What each profile's answers look like: session resources, the Sessions collection, and
//! error envelopes (fixtures in tests/fixtures/redfish-sessions/).

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::config::Profile;
use crate::sessions::{Kind, SimSession};

pub const SESSIONS_PATH: &str = "/redfish/v1/SessionService/Sessions";

pub fn rfc3339(epoch: i64) -> String {
    OffsetDateTime::from_unix_timestamp(epoch)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

/// The session's path; NOTE(hpe): iLO percent-encodes spaces and ends with a slash.
pub fn session_path(profile: Profile, id: &str) -> String {
    if profile.is_ilo() {
        format!("{SESSIONS_PATH}/{}/", id.replace(' ', "%20"))
    } else {
        format!("{SESSIONS_PATH}/{id}")
    }
}

fn user_tag(kind: Kind) -> &'static str {
    match kind {
        Kind::RestHost => "RESTHost",
        Kind::HostApplication | Kind::Rest => "REST",
        Kind::WebUi => "Web UI",
        Kind::Console => "Remote Console",
    }
}

fn session_type(kind: Kind) -> &'static str {
    match kind {
        Kind::WebUi => "WebUI",
        Kind::Console => "KVMIP",
        _ => "Redfish",
    }
}

pub fn session(profile: Profile, s: &SimSession, mine: bool, timeout: u64) -> Value {
    let path = session_path(profile, &s.id);
    match profile {
        Profile::Ilo5 | Profile::Ilo6 | Profile::Ilo7 => ilo_session(s, &path, mine, timeout),
        Profile::Idrac => json!({
            "@odata.context": "/redfish/v1/$metadata#Session.Session",
            "@odata.id": path,
            "@odata.type": "#Session.v1_6_0.Session",
            "ClientOriginIPAddress": s.user_ip,
            "CreatedTime": rfc3339(s.login_time),
            "Description": "User Session",
            "Id": s.id,
            "Name": "User Session",
            "Password": null,
            "SessionType": session_type(s.kind),
            "UserName": s.user,
        }),
        Profile::Bmcweb => {
            let mut v = json!({
                "@odata.id": path,
                "@odata.type": "#Session.v1_7_0.Session",
                "ClientOriginIPAddress": s.user_ip,
                "Description": "Manager User Session",
                "Id": s.id,
                "Name": "User Session",
                "Roles": ["Administrator"],
                "UserName": s.user,
            });
            if let Some(context) = &s.context {
                v["Context"] = json!(context);
            }
            v
        }
    }
}

fn ilo_session(s: &SimSession, path: &str, mine: bool, timeout: u64) -> Value {
    let user_type = if s.kind == Kind::RestHost {
        "System"
    } else {
        "Local"
    };
    let expires = if timeout == 0 {
        s.access_time + 365 * 86400
    } else {
        s.access_time + timeout as i64
    };
    json!({
        "@odata.context": "/redfish/v1/$metadata#Session.Session",
        "@odata.etag": format!("W/\"{:08X}\"", s.access_time as u32),
        "@odata.id": path,
        "@odata.type": "#Session.v1_0_0.Session",
        "Description": "Manager User Session",
        "Id": s.id,
        "Name": "User Session",
        "Oem": { "Hpe": {
            "@odata.type": "#HpeiLOSession.v2_1_0.HpeiLOSession",
            "AccessTime": rfc3339(s.access_time),
            "LoginTime": rfc3339(s.login_time),
            "MySession": mine,
            "UserAccount": s.user,
            "UserExpires": rfc3339(expires),
            "UserIP": s.user_ip,
            "UserTag": user_tag(s.kind),
            "UserType": user_type,
        }},
        "UserName": s.user,
    })
}

/// A page of the Sessions collection; `expand` puts whole sessions in `Members`.
pub fn collection(
    profile: Profile,
    members: Vec<Value>,
    total: usize,
    next: Option<String>,
    mine: Option<String>,
) -> Value {
    let mut v = json!({
        "@odata.id": if profile.is_ilo() { format!("{SESSIONS_PATH}/") } else { SESSIONS_PATH.to_string() },
        "@odata.type": "#SessionCollection.SessionCollection",
        "Description": "Manager User Sessions",
        "Name": "Sessions",
        "Members": members,
        "Members@odata.count": total,
    });
    if let Some(next) = next {
        v["Members@odata.nextLink"] = json!(next);
    }
    if let (true, Some(mine)) = (profile.is_ilo(), mine) {
        v["Oem"] = json!({ "Hpe": {
            "@odata.type": "#HpeiLOSessionsSummary.v2_0_0.HpeiLOSessionsSummary",
            "Links": { "MySession": { "@odata.id": mine } }
        }});
    }
    v
}

/// The profile's error body for a Base registry message.
pub fn error(profile: Profile, message_key: &str, message: &str) -> Value {
    let id = format!("Base.1.18.{message_key}");
    if profile.is_ilo() {
        // NOTE(hpe): iLO wraps every message in the iLO.0.10.ExtendedInfo code.
        return json!({"error": {
            "code": "iLO.0.10.ExtendedInfo",
            "message": "See @Message.ExtendedInfo for more information.",
            "@Message.ExtendedInfo": [{ "MessageId": id }]
        }});
    }
    json!({"error": {
        "code": if profile == Profile::Idrac { "Base.1.5.GeneralError".to_string() } else { id.clone() },
        "message": message,
        "@Message.ExtendedInfo": [{
            "@odata.type": "#Message.v1_1_1.Message",
            "MessageId": id,
            "Message": message,
            "MessageArgs": [],
            "Severity": "Critical",
            "Resolution": "None."
        }]
    }})
}

/// The full-table answer. NOTE(dell): iDRAC says RAC0218 (gofish issue #75).
pub fn session_limit(profile: Profile) -> Value {
    if profile == Profile::Idrac {
        return json!({"error":{"@Message.ExtendedInfo":[{"Message":"The maximum number of user sessions is reached.","MessageArgs":[],"MessageArgs@odata.count":0,"MessageId":"IDRAC.2.1.RAC0218","RelatedProperties":[],"RelatedProperties@odata.count":0,"Resolution":"Close one or more sessions and retry the operation.","Severity":"Critical"}],"code":"Base.1.5.GeneralError","message":"A general error has occurred. See ExtendedInfo for more information"}});
    }
    error(profile, "SessionLimitExceeded", "The session establishment failed due to the number of simultaneous sessions exceeding the limit of the implementation.")
}

/// What iLO answers to a successful DELETE (200 with a Success message).
pub fn ilo_success() -> Value {
    json!({"error":{"code":"iLO.0.10.ExtendedInfo","message":"See @Message.ExtendedInfo for more information.","@Message.ExtendedInfo":[{"MessageId":"Base.1.0.Success"}]}})
}
