//! Progress on a terminal (stderr only, never in `--json` output): a spinner while the daemon
//! works, a bar while a standalone clean deletes.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Shows `cleaning… 12s` on a terminal while `work` runs.
pub async fn with_spinner<T>(what: &str, work: impl std::future::Future<Output = T>) -> T {
    if !std::io::stderr().is_terminal() {
        return work.await;
    }
    let start = Instant::now();
    tokio::pin!(work);
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            out = &mut work => {
                clear();
                return out;
            }
            _ = tick.tick() => {
                let frame = ["|", "/", "-", "\\"][(start.elapsed().as_millis() / 500 % 4) as usize];
                eprint!("\r{frame} {what}… {}s", start.elapsed().as_secs());
                let _ = std::io::stderr().flush();
            }
        }
    }
}

/// `deleting [#####     ] 120/300` on stderr, only when stderr is a terminal.
pub fn bar(done: usize, total: usize) {
    let mut err = std::io::stderr();
    if total < 20 || !err.is_terminal() {
        return;
    }
    let filled = done * 30 / total.max(1);
    let _ = write!(
        err,
        "\rdeleting [{}{}] {done}/{total}",
        "#".repeat(filled),
        " ".repeat(30 - filled)
    );
    let _ = err.flush();
}

/// Clears the progress line.
pub fn clear() {
    if std::io::stderr().is_terminal() {
        eprint!("\r\x1b[2K");
    }
}
