//! The service root as the session core needs it: where sessions live and what the service
//! supports. Read once, without authentication (every Redfish service allows that).

use super::SessionError;
use crate::redfish::{RedfishError, ServiceRootInfo};
use crate::transport::{Request, Transport};

pub const SERVICE_ROOT: &str = "/redfish/v1/";

#[derive(Debug, Clone)]
pub struct ServiceRoot {
    pub info: ServiceRootInfo,
    /// `Links.Sessions`, e.g. `/redfish/v1/SessionService/Sessions/`.
    pub sessions_path: String,
    /// Whether a login's `Context` is kept (DMTF Session ≥ 1.5 services such as bmcweb).
    pub supports_context: bool,
}

impl ServiceRoot {
    pub async fn fetch(transport: &dyn Transport) -> Result<ServiceRoot, SessionError> {
        let resp = transport.send(Request::get(SERVICE_ROOT)).await?;
        if !resp.status.is_success() {
            return Err(SessionError::Bmc(RedfishError::from_response(&resp)));
        }
        let body: serde_json::Value =
            serde_json::from_slice(&resp.body).map_err(|e| SessionError::Malformed {
                what: "service root".into(),
                reason: e.to_string(),
            })?;
        let info = ServiceRootInfo::decode(&body);
        Ok(ServiceRoot::from_info(info))
    }

    pub fn from_info(info: ServiceRootInfo) -> ServiceRoot {
        let sessions_path = info.sessions_path.clone();
        let supports_context = info.supports_context();
        ServiceRoot {
            info,
            sessions_path,
            supports_context,
        }
    }
}
