//! Waiting for a process to exit, by pidfd (Linux ≥ 5.3): no polling and no PID-reuse race —
//! the pidfd names the process that existed when it was opened.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use tokio::io::unix::AsyncFd;

/// A handle on a live process; [`PidWatch::exited`] resolves when it exits.
pub struct PidWatch {
    fd: AsyncFd<OwnedFd>,
    pid: i32,
}

impl PidWatch {
    /// Opens a pidfd for `pid`. Fails with `ESRCH` when no such process exists.
    pub fn open(pid: i32) -> io::Result<PidWatch> {
        if pid <= 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{pid} is not a process id"),
            ));
        }
        // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
        let raw = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the syscall returned a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw as i32) };
        // SAFETY: the AsyncFd owns the OwnedFd, so the descriptor stays open and names the
        // same pidfd for as long as it is registered.
        let fd = unsafe { AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) }?;
        Ok(PidWatch { fd, pid })
    }

    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Resolves once the process has exited (a pidfd becomes readable then).
    pub async fn exited(&self) {
        if let Err(e) = self.fd.readable().await {
            tracing::warn!(pid = self.pid, fd = self.fd.as_raw_fd(), error = %e, "pidfd wait failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn resolves_when_the_child_exits_and_not_before() {
        let mut child = std::process::Command::new("sleep")
            .arg("0.3")
            .spawn()
            .unwrap();
        let watch = PidWatch::open(child.id() as i32).unwrap();
        let early = tokio::time::timeout(Duration::from_millis(50), watch.exited()).await;
        assert!(early.is_err(), "resolved while the child was alive");
        tokio::time::timeout(Duration::from_secs(5), watch.exited())
            .await
            .expect("never resolved");
        child.wait().unwrap();
    }

    #[test]
    fn a_missing_process_is_an_error() {
        assert!(PidWatch::open(0).is_err());
        assert!(PidWatch::open(i32::MAX).is_err());
    }
}
