//! IPMI over the host's system interface, for one purpose: DSP0270 credential bootstrapping
//! (the certificate fingerprint and a bootstrap account, see [`bootstrap`]).
//!
//! [`Ipmi`] sends one request and returns the raw answer (completion code first). It has two
//! implementations: [`dev::DevIpmi`], the Linux `ipmi_devintf` character device
//! (`/dev/ipmi0`, ioctls of `linux/ipmi.h`), and [`fake::FakeIpmi`], a scripted stand-in for
//! tests (hosts here have no IPMI device). Calls block (the kernel answers within seconds);
//! async callers use `spawn_blocking`.

pub mod bootstrap;
pub mod dev;
pub mod fake;

use std::path::PathBuf;
use std::time::Duration;

use zeroize::Zeroizing;

/// NetFn 2Ch, "Group Extension" (IPMI 2.0 §5.1): the first data byte names the defining body.
pub const NETFN_GROUP_EXTENSION: u8 = 0x2c;

/// One IPMI request to the BMC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpmiRequest {
    pub netfn: u8,
    pub cmd: u8,
    pub data: Vec<u8>,
}

/// The BMC's answer: the completion code followed by the response data, as the kernel hands
/// it over. May hold a password: zeroized on drop, and its `Debug` shows only the length.
#[derive(Clone, PartialEq, Eq)]
pub struct IpmiResponse(pub Zeroizing<Vec<u8>>);

impl IpmiResponse {
    pub fn new(bytes: Vec<u8>) -> IpmiResponse {
        IpmiResponse(Zeroizing::new(bytes))
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for IpmiResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IpmiResponse({} bytes)", self.0.len())
    }
}

/// Why a request got no answer. An answer with a non-zero completion code is not an error
/// here: [`bootstrap`] judges it per command.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IpmiError {
    #[error("cannot open the IPMI device {path}: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("IPMI {what} on {path} failed: {reason}")]
    Io {
        path: PathBuf,
        what: &'static str,
        reason: String,
    },
    #[error("no IPMI answer to NetFn {netfn:02X}h command {cmd:02X}h on {path} within {after:?}")]
    Timeout {
        path: PathBuf,
        netfn: u8,
        cmd: u8,
        after: Duration,
    },
    #[error("the scripted IPMI stand-in has no answer for NetFn {netfn:02X}h command {cmd:02X}h")]
    Unscripted { netfn: u8, cmd: u8 },
}

/// Sends one request over the system interface and waits for its answer.
pub trait Ipmi: Send + Sync {
    fn exchange(&self, req: &IpmiRequest) -> Result<IpmiResponse, IpmiError>;

    /// Where requests go, for errors and logs (a device path, or `fake`).
    fn describe(&self) -> String;
}
