//! What the kernel keyring keeps of one HMC session between runs ([`Kept`]), and the key's
//! description. The payload holds all a later run needs to log the session off without the
//! `[[hmc]]` table that made it — the endpoint, the fingerprint of the certificate the agent
//! trusted there, and the token — so that a table removed while the agent was down still gets
//! its session logged off at the next start ([`super::orphans`]), pinned to that certificate.
//!
//! The description names the agent (a hash of its API socket's path: one daemon per socket),
//! the HMC, and a hash of endpoint and user: two agents on one host (tests run many) never
//! touch each other's keys, and a changed endpoint or account makes a new key.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::secret::Secret;
use crate::transport::trust::Fingerprint;

/// The first line of a payload: its format and version.
const MAGIC: &str = "hostagent-hmc 1";

/// This agent's part of every description: `hostagent:hmc:<hash of the socket path>:`.
pub fn prefix(socket: &Path) -> String {
    let digest = Sha256::digest(socket.as_os_str().as_encoded_bytes());
    format!("hostagent:hmc:{}:", hex::encode(&digest[..8]))
}

/// The description of one HMC's key: `<prefix><name>:<hash of endpoint and user>`.
pub fn description(prefix: &str, name: &str, endpoint: &str, user: &str) -> String {
    let digest = Sha256::digest(format!("{endpoint}\n{user}").as_bytes());
    format!("{prefix}{name}:{}", hex::encode(&digest[..8]))
}

/// The HMC's name in a description made by [`description`] with `prefix`.
pub fn name_of<'a>(prefix: &str, description: &'a str) -> Option<&'a str> {
    let (name, _hash) = description.strip_prefix(prefix)?.split_once(':')?;
    Some(name)
}

/// One HMC session as the keyring keeps it.
#[derive(Debug)]
pub struct Kept {
    pub endpoint: String,
    /// The certificate the agent trusted at `endpoint` (`None` when no handshake recorded
    /// one: such a session cannot be logged off without its table).
    pub fingerprint: Option<Fingerprint>,
    pub token: Secret,
}

impl Kept {
    /// The payload, in a [`Secret`] as it holds the token.
    pub fn encode(&self) -> Secret {
        let fingerprint = self
            .fingerprint
            .as_ref()
            .map_or("-".to_string(), Fingerprint::to_string);
        Secret::new(format!(
            "{MAGIC}\nendpoint {}\nfingerprint {fingerprint}\ntoken {}\n",
            self.endpoint,
            self.token.expose()
        ))
    }

    /// Reads a payload made by [`Kept::encode`]; the error says what is wrong, never the token.
    pub fn parse(payload: &Secret) -> Result<Kept, String> {
        let mut lines = payload.expose().lines();
        if lines.next() != Some(MAGIC) {
            return Err(format!("the key is not in the format `{MAGIC}`"));
        }
        let mut field = |key: &str| {
            lines
                .next()
                .and_then(|l| l.strip_prefix(key))
                .and_then(|l| l.strip_prefix(' '))
                .ok_or_else(|| format!("the key has no `{key}` line where expected"))
        };
        let endpoint = field("endpoint")?.to_string();
        let fingerprint = match field("fingerprint")? {
            "-" => None,
            text => Some(Fingerprint::parse(text)?),
        };
        let token = field("token")?;
        if token.is_empty() {
            return Err("the key's token is empty".into());
        }
        Ok(Kept {
            endpoint,
            fingerprint,
            token: Secret::new(token),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_reads_back_as_it_was_written() {
        let kept = Kept {
            endpoint: "https://hmc1:12443".into(),
            fingerprint: Some(Fingerprint::from_bytes([7; 32])),
            token: Secret::new("T0k=".repeat(59)),
        };
        let back = Kept::parse(&kept.encode()).unwrap();
        assert_eq!(back.endpoint, kept.endpoint);
        assert_eq!(back.fingerprint, kept.fingerprint);
        assert_eq!(back.token, kept.token);
        let none = Kept {
            fingerprint: None,
            ..back
        };
        assert_eq!(Kept::parse(&none.encode()).unwrap().fingerprint, None);
    }

    #[test]
    fn a_foreign_or_broken_payload_is_refused_without_echoing_it() {
        let err = Kept::parse(&Secret::new("just-a-token=")).unwrap_err();
        assert!(
            err.contains("format") && !err.contains("just-a-token"),
            "{err}"
        );
        let err = Kept::parse(&Secret::new(format!("{MAGIC}\nendpoint x\n"))).unwrap_err();
        assert!(err.contains("fingerprint"), "{err}");
    }

    #[test]
    fn descriptions_are_per_agent_and_give_back_the_name() {
        let a = prefix(Path::new("/run/hostagent/agent.sock"));
        let b = prefix(Path::new("/tmp/x/agent.sock"));
        assert_ne!(a, b);
        let d = description(&a, "prod-1", "https://hmc1:12443", "hscroot");
        assert_eq!(name_of(&a, &d), Some("prod-1"));
        assert_eq!(name_of(&b, &d), None, "another agent's key");
        assert_ne!(
            d,
            description(&a, "prod-1", "https://hmc2:12443", "hscroot")
        );
    }
}
