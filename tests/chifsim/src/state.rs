//! chifsim's process-wide state: configuration (env, overridable through the exported test
//! controls), FIPS credentials, open channels (each on a channel of the shared device, when
//! one is set: `device`), the exchanges in flight, counters and the optional event log.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Write;
use std::sync::{Mutex, MutexGuard, OnceLock};

#[derive(Default)]
pub struct State {
    /// Set by `chifsim_set_target`; otherwise env `CHIFSIM_TARGET`.
    pub target: Option<String>,
    /// Set by `chifsim_set_mode`; otherwise env `CHIFSIM_MODE`.
    pub mode: Option<String>,
    pub credentials: Option<(Vec<u8>, Vec<u8>)>,
    pub verified: bool,
    /// Set by `chifsim_set_device`; otherwise env `CHIFSIM_DEVICE`.
    pub device: Option<String>,
    /// Open channels: handle → the device channel it holds (number and locked file), if any.
    pub channels: HashMap<usize, Option<(u32, File)>>,
    pub next_channel: usize,
    /// Channels with an exchange in flight (the firmware answers one at a time per channel).
    pub busy: HashSet<usize>,
    /// Number of upcoming responses whose sequence number is corrupted (test control).
    pub corrupt_sequences: u32,
    /// Number of upcoming exchanges that fail with a transient error (test control).
    pub fail_exchanges: u32,
    pub counters: HashMap<&'static str, u64>,
    /// The last `ChifSetRecvTimeout` value.
    pub recv_timeout_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Production,
    Fips,
    /// As on a host without `/dev/hpilo`: `ChifPing` returns 19.
    NoDevice,
}

pub fn state() -> MutexGuard<'static, State> {
    static STATE: OnceLock<Mutex<State>> = OnceLock::new();
    let m = STATE.get_or_init(|| Mutex::new(State::default()));
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl State {
    pub fn mode(&self) -> Mode {
        let raw = self
            .mode
            .clone()
            .or_else(|| std::env::var("CHIFSIM_MODE").ok())
            .unwrap_or_default();
        match raw.to_ascii_lowercase().as_str() {
            "fips" | "highsecurity" => Mode::Fips,
            "nodevice" => Mode::NoDevice,
            _ => Mode::Production,
        }
    }

    pub fn target(&self) -> Option<String> {
        self.target
            .clone()
            .or_else(|| std::env::var("CHIFSIM_TARGET").ok())
    }

    pub fn device(&self) -> Option<String> {
        self.device
            .clone()
            .or_else(|| std::env::var("CHIFSIM_DEVICE").ok())
            .filter(|d| !d.is_empty())
    }

    pub fn security_required(&self) -> bool {
        self.mode() == Mode::Fips && !self.verified
    }

    pub fn count(&mut self, name: &'static str) {
        *self.counters.entry(name).or_insert(0) += 1;
        log_event(name);
    }
}

/// Set by `chifsim_set_log`; otherwise env `CHIFSIM_LOG`. Separate from [`State`] because
/// events are logged while the state is locked.
pub static LOG_PATH: Mutex<Option<String>> = Mutex::new(None);

/// Appends one line to the event log file, if one is set.
pub fn log_event(line: &str) {
    let configured = LOG_PATH.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let Some(path) = configured.or_else(|| std::env::var("CHIFSIM_LOG").ok()) else {
        return;
    };
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(f, "{line}");
    }
}
