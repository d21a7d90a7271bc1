//! How a simulator is set up: the CLI as a plain struct.

use std::net::SocketAddr;

/// The web-session limit when none is given. NOTE(ibm): the real limit is a console setting;
/// reports show HMCs holding 3,000 and 8,000 sessions before they refused REST calls.
pub const DEFAULT_MAX_SESSIONS: usize = 8192;

#[derive(Debug, Clone)]
pub struct HmcSimConfig {
    /// Listeners; empty = 127.0.0.1:0. A real HMC listens on 12443.
    pub listen: Vec<SocketAddr>,
    /// Plain HTTP instead of HTTPS (the HMC's 12080 port, for debugging only).
    pub http: bool,
    /// The account a `LogonRequest` must name (more with `/_sim/users`).
    pub user: String,
    pub password: String,
    /// The account's idle timeout in seconds on the simulated clock; 0 = never, the HMC's
    /// default (its user property is in minutes).
    pub session_timeout_s: u64,
    /// How many web sessions the HMC holds at once; a logon past it gets 503.
    pub max_sessions: usize,
    /// Time a logon takes (a real HMC: 563 ms median).
    pub login_latency_ms: u64,
    /// Time a logoff takes (a real HMC: 182 ms median).
    pub logoff_latency_ms: u64,
    /// Time every other REST request takes.
    pub latency_ms: u64,
    /// The status for an unknown or expired `X-API-Session`: 401 (what clients re-logon on)
    /// or 403 (reason code 5, as IBM documents for an invalid token).
    pub invalid_token_status: u16,
}

impl Default for HmcSimConfig {
    fn default() -> Self {
        HmcSimConfig {
            listen: Vec::new(),
            http: false,
            user: "hscroot".into(),
            password: "abc123".into(),
            session_timeout_s: 0,
            max_sessions: DEFAULT_MAX_SESSIONS,
            login_latency_ms: 0,
            logoff_latency_ms: 0,
            latency_ms: 0,
            invalid_token_status: 401,
        }
    }
}

impl HmcSimConfig {
    /// Refuses settings the simulator cannot honour, naming the setting.
    pub fn validate(&self) -> Result<(), String> {
        if self.user.is_empty() {
            return Err("user must not be empty".into());
        }
        if self.max_sessions == 0 {
            return Err("max_sessions must be at least 1".into());
        }
        if !matches!(self.invalid_token_status, 401 | 403) {
            return Err(format!(
                "invalid_token_status must be 401 or 403, not {}",
                self.invalid_token_status
            ));
        }
        Ok(())
    }
}
