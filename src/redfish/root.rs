//! The service root, decoded for what the agent needs: where sessions live, who made the
//! service, and what it supports.

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    Hpe,
    Dell,
    Openbmc,
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceRootInfo {
    pub vendor: Vendor,
    /// `Links.Sessions`, or the standard path when the root does not say.
    pub sessions_path: String,
    /// "iLO 5", "iLO 6", "iLO 7" from `Oem.Hpe.Manager[0].ManagerType`.
    pub manager_type: Option<String>,
    pub expand_all: bool,
    pub redfish_version: Option<String>,
}

pub const DEFAULT_SESSIONS_PATH: &str = "/redfish/v1/SessionService/Sessions";

impl ServiceRootInfo {
    pub fn decode(root: &Value) -> ServiceRootInfo {
        let sessions_path = root
            .pointer("/Links/Sessions/@odata.id")
            .and_then(Value::as_str)
            .map(super::uri::path_of)
            .unwrap_or_else(|| DEFAULT_SESSIONS_PATH.to_string());
        let vendor_text = root
            .get("Vendor")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_ascii_lowercase();
        let vendor = if root.pointer("/Oem/Hpe").is_some() || root.pointer("/Oem/Hp").is_some() {
            Vendor::Hpe
        } else if root.pointer("/Oem/Dell").is_some() || vendor_text.contains("dell") {
            Vendor::Dell
        } else if vendor_text.contains("openbmc")
            || root
                .get("Product")
                .and_then(Value::as_str)
                .is_some_and(|p| p.contains("OpenBMC"))
        {
            Vendor::Openbmc
        } else {
            Vendor::Other
        };
        let expand_all = root
            .pointer("/ProtocolFeaturesSupported/ExpandQuery/ExpandAll")
            .and_then(Value::as_bool)
            .unwrap_or(false)
            || root
                .pointer("/ProtocolFeaturesSupported/ExpandQuery/NoLinks")
                .and_then(Value::as_bool)
                .unwrap_or(false);
        ServiceRootInfo {
            vendor,
            sessions_path,
            manager_type: root
                .pointer("/Oem/Hpe/Manager/0/ManagerType")
                .and_then(Value::as_str)
                .map(str::to_string),
            expand_all,
            redfish_version: root
                .get("RedfishVersion")
                .and_then(Value::as_str)
                .map(str::to_string),
        }
    }

    /// `$expand=.` on the Sessions collection. NOTE(hpe): iLO supports it without
    /// advertising `ProtocolFeaturesSupported`.
    pub fn supports_expand(&self) -> bool {
        self.expand_all || self.vendor == Vendor::Hpe
    }

    /// A login's `Context` is kept by DMTF Session ≥ 1.5 services; iLO ignores it, and iDRAC
    /// refuses unknown properties on some firmware, so only OpenBMC and generic services get it.
    pub fn supports_context(&self) -> bool {
        matches!(self.vendor, Vendor::Openbmc | Vendor::Other)
    }
}
