//! The daemon keeps itself out of core dumps: `PR_SET_DUMPABLE` 0 at start, so a crash writes
//! no core and other processes of the service user cannot ptrace it or read its memory under
//! `/proc`. `HOSTAGENT_ALLOW_CORE_DUMPS=1` turns this off for debugging a crash, loudly.
//!
//! What is and is not guaranteed is in `docs/HARDENING.md`: root can still `gcore` a running
//! daemon; what that core holds is kept down by the secret arena ([`crate::secret`], never in a
//! core) and by zeroing freed memory ([`crate::secret::ZeroOnFree`]).

/// The environment variable that lets the daemon dump core (debugging only).
pub const ALLOW_ENV: &str = "HOSTAGENT_ALLOW_CORE_DUMPS";

/// Makes the process non-dumpable unless [`ALLOW_ENV`] is `1`. Call before any secret is read.
pub fn forbid_unless_allowed() {
    if std::env::var(ALLOW_ENV).as_deref() == Ok("1") {
        tracing::warn!(
            "{ALLOW_ENV}=1: core dumps are ALLOWED; a core of this daemon may hold BMC session tokens. For debugging only"
        );
        return;
    }
    if let Err(e) = nix::sys::prctl::set_dumpable(false) {
        tracing::warn!(error = %e, "cannot make the daemon non-dumpable: a core dump could hold BMC session tokens");
    }
}
