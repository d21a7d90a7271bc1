//! DSP0270 (Redfish Host Interface Specification, 1.3+) "Credential bootstrapping via IPMI
//! commands": two commands of NetFn 2Ch (Group Extension) with defining body 52h (Redfish).
//!
//! Byte numbers below follow the specification's tables: in an answer, byte 1 is the
//! completion code.
//!
//! - **Get Manager Certificate Fingerprint** (cmd 01h). Request: 52h, certificate number
//!   (01h = the first certificate of the service). Answer: completion code; 52h; the
//!   fingerprint hash algorithm (01h = SHA-256); the fingerprint (32 bytes for SHA-256).
//!   Completion codes: 80h bootstrapping disabled, CBh certificate number invalid.
//! - **Get Bootstrap Account Credentials** (cmd 02h). Request: 52h, "disable credential
//!   bootstrapping control" (A5h = keep bootstrapping enabled; any other value turns it off
//!   after this answer, so the agent could not ask again after a BMC reset). Answer:
//!   completion code; 52h; user name, bytes 3–18; password, bytes 19–34; each UTF-8, and
//!   when shorter than 16 bytes, NUL-terminated and NUL-padded. Completion code 80h:
//!   bootstrapping is disabled (by an administrator, or by an earlier request).
//!
//! Sources: DSP0270 1.3.0 §9 "Credential bootstrapping via IPMI commands"; the host side in
//! EDK II `RedfishPkg` (`RedfishPlatformCredentialIpmiLib`, struct
//! `IPMI_BOOTSTRAP_CREDENTIALS_RESULT_RESPONSE`: 1 + 1 + 16 + 16 bytes; 80h = disabled; A5h
//! keeps bootstrapping on, 00h turns it off); the BMC side in OpenBMC ipmid handlers by Ampere
//! Computing (fingerprint: SHA-256 of `/etc/ssl/certs/https/server.pem`, hash type 01h, 80h when
//! disabled, CBh for a certificate number other than 1).
//!
//! NOTE(openbmc): the Ampere ipmid handlers (2021, 2025) answer the credentials as
//! `user NUL password NUL`, not padded to 16 bytes. Such a shorter answer is accepted when it
//! is exactly two NUL-terminated fields of at most 16 bytes each; anything else of the wrong
//! length is refused.
//! NOTE(ami): MegaRAC firmware answers the fingerprint with hash type 01h and 50 bytes of the
//! certificate's base64 text, not a digest (as documented by ASRock Rack's OpenBMC port).
//! That is refused with a length error: pinning to it is impossible.

use std::fmt;
use std::sync::Arc;

use super::{Ipmi, IpmiError, IpmiRequest, NETFN_GROUP_EXTENSION};
use crate::credentials::{CredentialRefresh, Credentials};
use crate::secret::Secret;
use crate::transport::trust::Fingerprint;

/// Group extension (defining body) code of DMTF Redfish.
pub const GROUP_REDFISH: u8 = 0x52;
pub const CMD_GET_FINGERPRINT: u8 = 0x01;
pub const CMD_GET_BOOTSTRAP_CREDENTIALS: u8 = 0x02;
/// "Keep credential bootstrapping enabled" in the credentials request.
pub const KEEP_BOOTSTRAPPING_ENABLED: u8 = 0xa5;
/// The service's first (and usually only) certificate.
pub const CERTIFICATE_NUMBER: u8 = 0x01;
/// Fingerprint hash algorithm 01h: SHA-256.
pub const HASH_SHA256: u8 = 0x01;
/// Width of the user name and password fields.
pub const FIELD_LEN: usize = 16;
/// Completion code 80h: credential bootstrapping is disabled.
pub const CC_DISABLED: u8 = 0x80;
/// Completion code C1h: invalid command (the BMC does not implement it).
pub const CC_INVALID_COMMAND: u8 = 0xc1;
/// Completion code CBh, for the fingerprint: certificate number invalid.
pub const CC_CERTIFICATE_NUMBER: u8 = 0xcb;

/// Which of the two commands an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Fingerprint,
    Credentials,
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Fingerprint => {
                f.write_str("IPMI Get Manager Certificate Fingerprint (NetFn 2Ch, cmd 01h)")
            }
            Command::Credentials => {
                f.write_str("IPMI Get Bootstrap Account Credentials (NetFn 2Ch, cmd 02h)")
            }
        }
    }
}

/// Why bootstrapping failed. No variant holds a credential byte.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BootstrapError {
    #[error(transparent)]
    Ipmi(#[from] IpmiError),
    #[error("{command}: credential bootstrapping is disabled on the BMC (completion code 80h in byte 1); an administrator can enable it in the host interface settings")]
    Disabled { command: Command },
    #[error(
        "{command}: the BMC does not implement it (completion code C1h in byte 1, invalid command)"
    )]
    NotImplemented { command: Command },
    #[error("{command}: the BMC answered with completion code {code:02X}h in byte 1 ({meaning})")]
    Completion {
        command: Command,
        code: u8,
        meaning: &'static str,
    },
    #[error("{command}: the answer has {got} bytes; expected {expected}")]
    Length {
        command: Command,
        got: usize,
        expected: &'static str,
    },
    #[error("{command}: byte 2 (group extension) is {got:02X}h, not 52h")]
    Group { command: Command, got: u8 },
    #[error(
        "{}: byte 3 (fingerprint hash algorithm) is {got:02X}h; only 01h (SHA-256) is supported",
        Command::Fingerprint
    )]
    HashType { got: u8 },
    #[error("{}: the {field} ({bytes}) is not UTF-8", Command::Credentials)]
    NotUtf8 {
        field: &'static str,
        bytes: &'static str,
    },
    #[error("{}: the {field} ({bytes}) is empty", Command::Credentials)]
    EmptyField {
        field: &'static str,
        bytes: &'static str,
    },
}

/// What an IPMI completion code means (IPMI 2.0 table 5-2, and DSP0270 for 80h and CBh).
pub fn completion_meaning(command: Command, code: u8) -> &'static str {
    match code {
        CC_CERTIFICATE_NUMBER if command == Command::Fingerprint => "certificate number invalid",
        0xc0 => "node busy",
        0xc2 => "command invalid for this LUN",
        0xc3 => "timeout while processing the command",
        0xc4 => "out of space",
        0xc6 => "request data truncated",
        0xc7 => "request data length invalid",
        0xc9 => "parameter out of range",
        0xcc => "invalid data field in request",
        0xce => "command response could not be provided",
        0xd2 => "BMC initialization in progress",
        0xd4 => "insufficient privilege",
        0xd5 => "not supported in the present state",
        0xd6 => "sub-function disabled or unavailable",
        0xff => "unspecified error",
        _ => "not a code this agent knows",
    }
}

/// The completion code and group byte, common to both answers; returns the bytes after them.
fn header<'a>(
    command: Command,
    bytes: &'a [u8],
    expected: &'static str,
) -> Result<&'a [u8], BootstrapError> {
    let Some((&code, rest)) = bytes.split_first() else {
        return Err(BootstrapError::Length {
            command,
            got: 0,
            expected,
        });
    };
    match code {
        0x00 => {}
        CC_DISABLED => return Err(BootstrapError::Disabled { command }),
        CC_INVALID_COMMAND => return Err(BootstrapError::NotImplemented { command }),
        code => {
            return Err(BootstrapError::Completion {
                command,
                code,
                meaning: completion_meaning(command, code),
            })
        }
    }
    let Some((&group, rest)) = rest.split_first() else {
        return Err(BootstrapError::Length {
            command,
            got: bytes.len(),
            expected,
        });
    };
    if group != GROUP_REDFISH {
        return Err(BootstrapError::Group {
            command,
            got: group,
        });
    }
    Ok(rest)
}

/// Parses a `Get Manager Certificate Fingerprint` answer (completion code first).
pub fn parse_fingerprint(bytes: &[u8]) -> Result<Fingerprint, BootstrapError> {
    const EXPECTED: &str = "35 (completion code, 52h, hash algorithm, 32-byte SHA-256 digest)";
    let rest = header(Command::Fingerprint, bytes, EXPECTED)?;
    let Some((&hash, digest)) = rest.split_first() else {
        return Err(BootstrapError::Length {
            command: Command::Fingerprint,
            got: bytes.len(),
            expected: EXPECTED,
        });
    };
    if hash != HASH_SHA256 {
        return Err(BootstrapError::HashType { got: hash });
    }
    let digest: [u8; 32] = digest.try_into().map_err(|_| BootstrapError::Length {
        command: Command::Fingerprint,
        got: bytes.len(),
        expected: EXPECTED,
    })?;
    Ok(Fingerprint::from_bytes(digest))
}

/// Parses a `Get Bootstrap Account Credentials` answer (completion code first).
pub fn parse_credentials(bytes: &[u8]) -> Result<Credentials, BootstrapError> {
    const EXPECTED: &str = "34 (completion code, 52h, 16-byte user name, 16-byte password)";
    let fields = header(Command::Credentials, bytes, EXPECTED)?;
    let length = || BootstrapError::Length {
        command: Command::Credentials,
        got: bytes.len(),
        expected: EXPECTED,
    };
    let (user, password) = if fields.len() == 2 * FIELD_LEN {
        let (u, p) = fields.split_at(FIELD_LEN);
        (until_nul(u), until_nul(p))
    } else {
        unpadded(fields).ok_or_else(length)?
    };
    let user = text(user, "user name", "bytes 3-18")?;
    let password = text(password, "password", "bytes 19-34")?;
    Ok(Credentials {
        user: user.to_string(),
        password: Secret::new(password),
    })
}

/// A field up to its first NUL (all of it when it has none: exactly 16 characters).
fn until_nul(field: &[u8]) -> &[u8] {
    field
        .iter()
        .position(|b| *b == 0)
        .map_or(field, |end| &field[..end])
}

/// NOTE(openbmc): `user NUL password NUL`, each at most 16 bytes with its NUL.
fn unpadded(fields: &[u8]) -> Option<(&[u8], &[u8])> {
    let (user, rest) = fields.split_at(fields.iter().position(|b| *b == 0)?);
    let rest = &rest[1..];
    let end = rest.iter().position(|b| *b == 0)?;
    let ok = user.len() < FIELD_LEN && end < FIELD_LEN && end + 1 == rest.len();
    ok.then(|| (user, &rest[..end]))
}

fn text<'a>(
    field: &'a [u8],
    name: &'static str,
    bytes: &'static str,
) -> Result<&'a str, BootstrapError> {
    let s =
        std::str::from_utf8(field).map_err(|_| BootstrapError::NotUtf8 { field: name, bytes })?;
    if s.is_empty() {
        return Err(BootstrapError::EmptyField { field: name, bytes });
    }
    Ok(s)
}

/// Asks for the fingerprint of the BMC's (first) TLS certificate.
pub fn fetch_fingerprint(ipmi: &dyn Ipmi) -> Result<Fingerprint, BootstrapError> {
    let req = IpmiRequest {
        netfn: NETFN_GROUP_EXTENSION,
        cmd: CMD_GET_FINGERPRINT,
        data: vec![GROUP_REDFISH, CERTIFICATE_NUMBER],
    };
    parse_fingerprint(ipmi.exchange(&req)?.bytes())
}

/// Asks for a bootstrap account, keeping bootstrapping enabled (A5h) so that the agent can
/// ask again after a BMC reset. Each call makes the BMC create an account.
pub fn fetch_credentials(ipmi: &dyn Ipmi) -> Result<Credentials, BootstrapError> {
    let req = IpmiRequest {
        netfn: NETFN_GROUP_EXTENSION,
        cmd: CMD_GET_BOOTSTRAP_CREDENTIALS,
        data: vec![GROUP_REDFISH, KEEP_BOOTSTRAPPING_ENABLED],
    };
    parse_credentials(ipmi.exchange(&req)?.bytes())
}

/// Bootstrap credentials as a session's source of new credentials: after a BMC reset the
/// bootstrap account is gone, so a refused login asks IPMI again. Memory only.
pub struct IpmiCredentials(pub Arc<dyn Ipmi>);

impl CredentialRefresh for IpmiCredentials {
    fn refresh(&self) -> Result<Credentials, String> {
        tracing::info!(device = %self.0.describe(), "asking the BMC for new bootstrap credentials over IPMI");
        fetch_credentials(self.0.as_ref()).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests;
