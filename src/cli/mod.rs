//! Command-line definitions of both binaries, kept in the library so that the man pages and
//! shell completions are generated from the same clap definitions (and a test notices when the
//! committed pages are stale).

pub mod agentctl;
pub mod hostagentd;

use std::time::Duration;

/// Parses durations such as `90s`, `15m`, `1h 30m` for flags.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("`{text}` is not a duration like 90s or 15m: {e}"))
}
