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

/// `hostagent/<boot-id>/<agent|lease-id>`: the `Context` the agent gives its sessions.
pub fn context_tag(boot_id: &str, who: &str) -> String {
    format!("hostagent/{boot_id}/{who}")
}

/// The (boot id, who) of a hostagent `Context` tag.
pub fn parse_context_tag(context: &str) -> Option<(String, String)> {
    let rest = context.strip_prefix("hostagent/")?;
    let (boot, who) = rest.split_once('/')?;
    (!boot.is_empty() && !who.is_empty()).then(|| (boot.to_string(), who.to_string()))
}
