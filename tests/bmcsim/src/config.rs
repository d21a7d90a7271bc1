//! How a simulator is set up: the CLI of ARCHITECTURE.md, "Interfaces" as a plain struct.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

/// Which BMC the simulator imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    Ilo5,
    Ilo6,
    Ilo7,
    Idrac,
    Bmcweb,
}

impl Profile {
    pub const ALL: [Profile; 5] = [
        Profile::Ilo5,
        Profile::Ilo6,
        Profile::Ilo7,
        Profile::Idrac,
        Profile::Bmcweb,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Profile::Ilo5 => "ilo5",
            Profile::Ilo6 => "ilo6",
            Profile::Ilo7 => "ilo7",
            Profile::Idrac => "idrac",
            Profile::Bmcweb => "bmcweb",
        }
    }

    pub fn is_ilo(self) -> bool {
        matches!(self, Profile::Ilo5 | Profile::Ilo6 | Profile::Ilo7)
    }

    /// The session limit when `--max-sessions` is not given. NOTE(dell): iDRAC allows 8.
    pub fn default_max_sessions(self) -> usize {
        match self {
            Profile::Idrac => 8,
            _ => 16,
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Profile, String> {
        Profile::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| format!("unknown profile `{s}` (ilo5, ilo6, ilo7, idrac, bmcweb)"))
    }
}

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub profile: Profile,
    /// Out-of-band listeners; empty = 127.0.0.1:0.
    pub listen: Vec<SocketAddr>,
    /// Listeners that stand for the host-side vNIC: sessions made there are in-band.
    pub inband_listen: Vec<SocketAddr>,
    /// Plain HTTP instead of HTTPS.
    pub http: bool,
    pub max_sessions: Option<usize>,
    /// `SessionService.SessionTimeout` at start, seconds (default 1800; 0 = never).
    pub session_timeout: Option<u64>,
    pub user: String,
    pub password: String,
    pub login_latency_ms: u64,
    pub latency_ms: u64,
    /// Requests the BMC works on at once; more wait.
    pub max_concurrency: Option<usize>,
    /// A directory of JSON resources that replaces the built-in tree.
    pub tree: Option<PathBuf>,
    /// Page the Sessions collection with `Members@odata.nextLink`, this many per page.
    pub page_size: Option<usize>,
    /// The status of the full-table answer (default 503).
    pub session_limit_status: Option<u16>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            profile: Profile::Ilo6,
            listen: Vec::new(),
            inband_listen: Vec::new(),
            http: false,
            max_sessions: None,
            session_timeout: None,
            user: "admin".into(),
            password: "password".into(),
            login_latency_ms: 0,
            latency_ms: 0,
            max_concurrency: None,
            tree: None,
            page_size: None,
            session_limit_status: None,
        }
    }
}
