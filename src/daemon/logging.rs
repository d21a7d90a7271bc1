//! Logging: journald when systemd started us (`JOURNAL_STREAM` names our stderr), plain stderr
//! otherwise (no timestamps under systemd: the journal has them). `-v` raises the level;
//! `HOSTAGENT_LOG` (a tracing filter) overrides it.

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

fn under_journald() -> bool {
    let Ok(stream) = std::env::var("JOURNAL_STREAM") else {
        return false;
    };
    let Some((dev, ino)) = stream.split_once(':') else {
        return false;
    };
    let Ok(meta) = nix::sys::stat::fstat(2) else {
        return false;
    };
    dev.parse::<u64>().ok() == Some(meta.st_dev) && ino.parse::<u64>().ok() == Some(meta.st_ino)
}

pub fn init(verbose: u8) {
    let level = ["info", "debug", "trace"][usize::from(verbose.min(2))];
    let filter = EnvFilter::try_from_env("HOSTAGENT_LOG").unwrap_or_else(|_| EnvFilter::new(level));
    if under_journald() {
        if let Ok(journald) = tracing_journald::layer() {
            let _ = tracing_subscriber::registry()
                .with(filter)
                .with(journald.with_field_prefix(None))
                .try_init();
            return;
        }
    }
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .try_init();
}
