//! Who answers for a session ([`Owner`]), and the `Context` tag the agent marks its own
//! sessions with where the BMC keeps one ([`ContextTag`]), so that it knows them again after a
//! crash, and tells them from another host's on a shared BMC, without any file.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Owner {
    Agent,
    Lease(String),
    /// Left by an earlier run of the agent that ended without deleting it (a crash): what
    /// held it then (`agent`, `lease:<id>`) when known.
    Orphan(Option<String>),
    Foreign,
}

impl Owner {
    /// The owner without the lease id: `agent`, `lease`, `orphan`, `foreign` (the metrics'
    /// `owner` label, which must take few values).
    pub fn class(&self) -> &'static str {
        match self {
            Owner::Agent => "agent",
            Owner::Lease(_) => "lease",
            Owner::Orphan(_) => "orphan",
            Owner::Foreign => "foreign",
        }
    }
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

/// `hostagent/<host>/<boot-id>/<who>`: the `Context` the agent gives its sessions. `<host>` is
/// `agent.host_id`, so that hosts sharing a BMC tell their sessions apart; `<who>` is `agent`
/// or a lease id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextTag {
    /// `None` for the old format `hostagent/<boot-id>/<who>`, which named no host.
    pub host: Option<String>,
    pub boot: String,
    pub who: String,
}

impl ContextTag {
    /// `hostagent/<host>/<boot-id>`: the prefix of this boot's tags (`None` where the kernel
    /// gives no boot id).
    pub fn prefix(host_id: &str) -> Option<String> {
        let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
        Some(format!("hostagent/{host_id}/{}", boot.trim()))
    }

    /// Decodes `hostagent/<host>/<boot-id>/<who>` or the old `hostagent/<boot-id>/<who>`.
    pub fn parse(context: &str) -> Option<ContextTag> {
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
}

impl fmt::Display for ContextTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Some(host) => write!(f, "hostagent/{host}/{}/{}", self.boot, self.who),
            None => write!(f, "hostagent/{}/{}", self.boot, self.who),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_tags_name_the_host_and_the_old_format_still_reads() {
        let tag = ContextTag {
            host: Some("a1b2c3d4e5f6".into()),
            boot: "6a1c0f3e-77b1-4c1e-9f0a-2b8d7e6c5a4f".into(),
            who: "agent".into(),
        }
        .to_string();
        assert_eq!(
            tag,
            "hostagent/a1b2c3d4e5f6/6a1c0f3e-77b1-4c1e-9f0a-2b8d7e6c5a4f/agent"
        );
        let parsed = ContextTag::parse(&tag).unwrap();
        assert_eq!(parsed.host.as_deref(), Some("a1b2c3d4e5f6"));
        assert_eq!(parsed.who, "agent");
        let old = ContextTag::parse("hostagent/6a1c0f3e-boot/0a1b2c3d4e5f").unwrap();
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
            assert_eq!(ContextTag::parse(bad), None, "{bad}");
        }
    }
}
