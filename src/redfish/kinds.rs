//! What a session is (its kind, from the BMC's own data) and who answers for it (its owner).

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// HPE in-band REST over CHIF ("Rest Host").
    RestHost,
    /// An in-band session from the host-side vNIC ("Host Application" on iLO 7).
    HostApplication,
    /// Out-of-band REST.
    Rest,
    WebUi,
    Console,
    Shell,
    Ipmi,
    Other,
    Unknown,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::RestHost,
        Kind::HostApplication,
        Kind::Rest,
        Kind::WebUi,
        Kind::Console,
        Kind::Shell,
        Kind::Ipmi,
        Kind::Other,
        Kind::Unknown,
    ];

    /// What a person's login makes (Web UI, remote console, SSH/serial shell, IPMI): never
    /// taken for the agent's by any orphan rule, whatever the ledger or a tag says.
    pub fn is_person(self) -> bool {
        matches!(self, Kind::WebUi | Kind::Console | Kind::Shell | Kind::Ipmi)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::RestHost => "rest-host",
            Kind::HostApplication => "host-application",
            Kind::Rest => "rest",
            Kind::WebUi => "web-ui",
            Kind::Console => "console",
            Kind::Shell => "shell",
            Kind::Ipmi => "ipmi",
            Kind::Other => "other",
            Kind::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Kind, String> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown kind `{s}` (known: {})", names.join(", "))
            })
    }
}

impl Serialize for Kind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Kind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Kind, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Owner {
    Agent,
    Lease(String),
    /// Left by an earlier run of the agent that ended without deleting it (a crash): what
    /// held it then (`agent`, `lease:<id>`) when known.
    Orphan(Option<String>),
    Foreign,
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::Agent => f.write_str("agent"),
            Owner::Lease(id) => write!(f, "lease:{id}"),
            Owner::Orphan(Some(was)) => write!(f, "orphan:{was}"),
            Owner::Orphan(None) => f.write_str("orphan"),
            Owner::Foreign => f.write_str("foreign"),
        }
    }
}

/// `hostagent/<host>/<boot-id>/<agent|lease-id>`: the `Context` the agent gives its sessions
/// (`<host>`: `agent.host_id`, so that hosts sharing a BMC tell their sessions apart).
pub fn context_tag(host: &str, boot_id: &str, who: &str) -> String {
    format!("hostagent/{host}/{boot_id}/{who}")
}

/// A hostagent `Context` tag, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextTag {
    /// `None` for the old format `hostagent/<boot-id>/<who>`, which named no host.
    pub host: Option<String>,
    pub boot: String,
    pub who: String,
}

/// Decodes `hostagent/<host>/<boot-id>/<who>` or the old `hostagent/<boot-id>/<who>`.
pub fn parse_context_tag(context: &str) -> Option<ContextTag> {
    let rest = context.strip_prefix("hostagent/")?;
    let parts: Vec<&str> = rest.split('/').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    let text = |s: &str| s.to_string();
    match parts.as_slice() {
        [host, boot, who] => Some(ContextTag {
            host: Some(text(host)),
            boot: text(boot),
            who: text(who),
        }),
        [boot, who] => Some(ContextTag {
            host: None,
            boot: text(boot),
            who: text(who),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_tags_name_the_host_and_the_old_format_still_reads() {
        let tag = context_tag(
            "a1b2c3d4e5f6",
            "6a1c0f3e-77b1-4c1e-9f0a-2b8d7e6c5a4f",
            "agent",
        );
        assert_eq!(
            tag,
            "hostagent/a1b2c3d4e5f6/6a1c0f3e-77b1-4c1e-9f0a-2b8d7e6c5a4f/agent"
        );
        let parsed = parse_context_tag(&tag).unwrap();
        assert_eq!(parsed.host.as_deref(), Some("a1b2c3d4e5f6"));
        assert_eq!(parsed.who, "agent");
        let old = parse_context_tag("hostagent/6a1c0f3e-boot/0a1b2c3d4e5f").unwrap();
        assert_eq!(
            (old.host, old.boot.as_str(), old.who.as_str()),
            (None, "6a1c0f3e-boot", "0a1b2c3d4e5f")
        );
        for bad in [
            "hostagent/",
            "hostagent/x",
            "hostagent//x/y",
            "hostagent/a/b/c/d",
            "redfishtool",
        ] {
            assert_eq!(parse_context_tag(bad), None, "{bad}");
        }
    }
}
