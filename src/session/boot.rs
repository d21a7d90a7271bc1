//! When the BMC last booted: the first Manager's `LastResetTime` (Redfish Manager ≥ 1.9). A
//! reboot drops every session, so a session recorded before it is gone, whatever id the BMC
//! gives a new one (iDRAC numbers sessions 2, 3, … again after a reboot).

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::AgentSession;
use crate::transport::Request;

const MANAGERS: &str = "/redfish/v1/Managers";

/// `None` when the BMC does not say (or cannot be asked now): then only the other checks hold.
pub async fn last_boot(agent: &AgentSession) -> Option<OffsetDateTime> {
    let managers = get_json(agent, MANAGERS).await?;
    let first = managers
        .pointer("/Members/0/@odata.id")?
        .as_str()?
        .to_string();
    let manager = get_json(agent, &first).await?;
    OffsetDateTime::parse(manager.get("LastResetTime")?.as_str()?, &Rfc3339).ok()
}

async fn get_json(agent: &AgentSession, path: &str) -> Option<serde_json::Value> {
    let resp = agent.send(Request::get(path)).await.ok()?;
    if !resp.status.is_success() {
        return None;
    }
    serde_json::from_slice(&resp.body).ok()
}
