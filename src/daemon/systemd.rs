//! sd_notify without libsystemd: READY, STATUS, STOPPING and WATCHDOG datagrams to
//! `$NOTIFY_SOCKET` (a path, or `@name` for the abstract namespace). A no-op without it.

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

pub struct Notifier {
    socket: Option<(UnixDatagram, String)>,
}

impl Notifier {
    pub fn from_env() -> Notifier {
        let Some(path) = std::env::var_os("NOTIFY_SOCKET").and_then(|p| p.into_string().ok())
        else {
            return Notifier { socket: None };
        };
        Notifier {
            socket: UnixDatagram::unbound().ok().map(|s| (s, path)),
        }
    }

    fn send(&self, text: &str) {
        let Some((socket, path)) = &self.socket else {
            return;
        };
        let sent = match path.strip_prefix('@') {
            Some(name) => {
                use std::os::linux::net::SocketAddrExt;
                std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
                    .and_then(|a| socket.send_to_addr(text.as_bytes(), &a))
            }
            None => socket.send_to(text.as_bytes(), path),
        };
        if let Err(e) = sent {
            tracing::debug!(error = %e, "sd_notify failed");
        }
    }

    pub fn ready(&self) {
        self.send("READY=1");
    }

    pub fn status(&self, status: &str) {
        self.send(&format!("STATUS={status}"));
    }

    pub fn stopping(&self) {
        self.send("STOPPING=1");
    }

    pub fn watchdog(&self) {
        self.send("WATCHDOG=1");
    }

    /// Half of `WATCHDOG_USEC` when the watchdog is on for this process.
    pub fn watchdog_interval() -> Option<Duration> {
        let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
        if let Ok(pid) = std::env::var("WATCHDOG_PID") {
            if pid.parse::<u32>().ok()? != std::process::id() {
                return None;
            }
        }
        Some(Duration::from_micros(usec / 2))
    }
}
