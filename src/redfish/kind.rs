//! What a session is: its kind, from the BMC's own data (who holds it is its owner, see
//! [`crate::ownership`]). `Kind::ALL` is the one list of kind names.

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
