//! The body of a virtual session, shaped like the BMC's own sessions: the agent's session
//! resource is read once and used as the template (so iLO clients see iLO's `Oem.Hpe` shape),
//! with the id, URI and user replaced. Without an agent session (Basic fallback, CHIF in
//! Production mode) a plain DMTF `Session` is used.

use tokio::sync::OnceCell;

use super::virtual_sessions::VirtualSession;
use crate::session::AgentSession;
use crate::transport::Request;

#[derive(Default)]
pub struct Template(OnceCell<serde_json::Value>);

/// Fields of the agent's session that describe the agent, not the client.
const DROPPED: &[&str] = &[
    "ClientOriginIPAddress",
    "Context",
    "CreatedTime",
    "Token",
    "Password",
    "Actions",
];

impl Template {
    pub async fn render(
        &self,
        agent: &AgentSession,
        session: &VirtualSession,
        uri: &str,
    ) -> serde_json::Value {
        let template = self.0.get_or_init(|| fetch(agent)).await;
        let mut body = template.clone();
        if let Some(map) = body.as_object_mut() {
            for key in DROPPED {
                map.remove(*key);
            }
            map.insert("@odata.id".into(), uri.into());
            map.insert("Id".into(), session.id.clone().into());
            map.insert("UserName".into(), session.user.clone().into());
            if let Some(hpe) = map
                .get_mut("Oem")
                .and_then(|o| o.get_mut("Hpe"))
                .and_then(|h| h.as_object_mut())
            {
                hpe.insert("MySession".into(), true.into());
                hpe.remove("UserIP");
            }
        }
        body
    }
}

async fn fetch(agent: &AgentSession) -> serde_json::Value {
    let plain = serde_json::json!({
        "@odata.type": "#Session.v1_3_0.Session",
        "Name": "User Session",
        "Description": "Session held by the hostagent proxy",
    });
    let Some(uri) = agent.own_session_uri().await else {
        return plain;
    };
    match agent.send(Request::get(uri)).await {
        Ok(resp) if resp.status.is_success() => {
            match serde_json::from_slice::<serde_json::Value>(&resp.body) {
                Ok(v) if v.is_object() => v,
                _ => plain,
            }
        }
        _ => plain,
    }
}
