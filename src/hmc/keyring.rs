//! Where an HMC token survives a crash without touching a disk: the kernel keyring. A
//! SIGKILLed agent cannot log off, and HMC sessions often never expire, so each crash would
//! leak one session; the token is kept as a `user` key in the daemon's uid's *persistent*
//! keyring (kernel memory, never swapped to a file, outliving the process), found again at the
//! next start, checked and reused — or forgotten when the HMC no longer knows it.
//!
//! Without persistent keyrings (a kernel built without `CONFIG_PERSISTENT_KEYRINGS`, or
//! [`NO_PERSISTENT_ENV`] set for a test) the uid's user keyring is used (docs/HMC.md says
//! what then survives a crash, as measured).
//!
//! What a key holds is [`super::kept::Kept`]; this file only moves payloads in and out.
//!
//! Why not a crate: the few `keyctl(2)` calls needed are a few lines over `libc`, which is
//! already a dependency; the key's payload is read straight into a [`Secret`].

use crate::secret::Secret;

// The kernel's keyctl ABI (include/uapi/linux/keyctl.h).
const KEYCTL_DESCRIBE: libc::c_long = 6;
const KEYCTL_LINK: libc::c_long = 8;
const KEYCTL_SEARCH: libc::c_long = 10;
const KEYCTL_READ: libc::c_long = 11;
const KEYCTL_INVALIDATE: libc::c_long = 21;
const KEYCTL_GET_PERSISTENT: libc::c_long = 22;
const KEY_SPEC_THREAD_KEYRING: libc::c_long = -1;
const KEY_SPEC_USER_KEYRING: libc::c_long = -4;

/// Which keyring holds the tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The uid's persistent keyring: survives the daemon (the kernel expires it after
    /// `/proc/sys/kernel/keys/persistent_keyring_expiry` seconds unused; every store and
    /// [`Keyring::touch`] renews it).
    Persistent,
    /// The uid's user keyring: since Linux 5.3 it is kept by the user namespace and survives
    /// the daemon even when no other process of the uid lives (measured, docs/HMC.md).
    User,
}

impl Kind {
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Persistent => "persistent keyring",
            Kind::User => "user keyring",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Keyring {
    id: libc::c_long,
    pub kind: Kind,
}

/// Links the uid's persistent keyring into the calling thread's keyring and returns its id.
/// Why the thread's: a process keyring made on first use exists only in the creds of the
/// thread that made it, and tokio runs this on any of its threads; so each thread that
/// touches the keyring links it for itself (its keys are usable only by a possessor).
fn possess_persistent() -> libc::c_long {
    keyctl(
        KEYCTL_GET_PERSISTENT,
        -1,
        KEY_SPEC_THREAD_KEYRING as usize,
        0,
        0,
    )
}

fn keyctl(op: libc::c_long, a: libc::c_long, b: usize, c: usize, d: usize) -> libc::c_long {
    // SAFETY: keyctl takes integers and, for the ops used here, pointers to NUL-terminated
    // strings or a buffer with its length, all valid for the duration of the call.
    unsafe { libc::syscall(libc::SYS_keyctl, op, a, b, c, d) }
}

/// Set to `1`, the agent behaves as on a kernel without persistent keyrings: it uses the uid's
/// user keyring. For tests that measure that fallback only; never set it in production.
pub const NO_PERSISTENT_ENV: &str = "HOSTAGENT_TEST_NO_PERSISTENT_KEYRING";

impl Keyring {
    /// The persistent keyring of this uid, else the user keyring; `None` when the kernel has
    /// no keyrings at all.
    pub fn open() -> Option<Keyring> {
        if std::env::var_os(NO_PERSISTENT_ENV).is_some_and(|v| v == "1") {
            tracing::warn!(
                "{NO_PERSISTENT_ENV}=1: TEST MODE, the persistent keyring is NOT used; the HMC tokens go to the uid's user keyring as on a kernel without persistent keyrings"
            );
            return Keyring::user();
        }
        let id = possess_persistent();
        if id >= 0 {
            return Some(Keyring {
                id,
                kind: Kind::Persistent,
            });
        }
        Keyring::user()
    }

    /// The uid's user keyring (the fallback; tests use it directly).
    pub fn user() -> Option<Keyring> {
        // KEYCTL_GET_KEYRING_ID (0) with create = 1.
        let id = keyctl(0, KEY_SPEC_USER_KEYRING, 1, 0, 0);
        (id >= 0).then_some(Keyring {
            id,
            kind: Kind::User,
        })
    }

    /// Makes the keyring possessed by the calling thread (its keys are writable and readable
    /// only by a possessor), and renews the persistent keyring's expiry.
    ///
    /// The user keyring needs the link too: a service's session keyring is its own
    /// (systemd's `KeyringMode=private`) and does not lead to it, so without the link a
    /// restarted daemon finds its key but may not read it, and logs on again — measured: one
    /// session leaked per SIGKILL (tests/hmc_keyring_fallback.rs).
    pub fn touch(&self) {
        match self.kind {
            Kind::Persistent => {
                possess_persistent();
            }
            Kind::User => {
                keyctl(KEYCTL_LINK, self.id, KEY_SPEC_THREAD_KEYRING as usize, 0, 0);
            }
        }
    }

    fn search(&self, description: &str) -> Option<libc::c_long> {
        self.touch();
        let desc = std::ffi::CString::new(description).ok()?;
        let key = keyctl(
            KEYCTL_SEARCH,
            self.id,
            c"user".as_ptr() as usize,
            desc.as_ptr() as usize,
            0,
        );
        (key >= 0).then_some(key)
    }

    /// The descriptions of this keyring's `user` keys that start with `prefix`.
    pub fn list(&self, prefix: &str) -> Vec<String> {
        self.touch();
        let mut ids = vec![0i32; 256];
        let n = keyctl(
            KEYCTL_READ,
            self.id,
            ids.as_mut_ptr() as usize,
            ids.len() * 4,
            0,
        );
        if n < 0 {
            return Vec::new();
        }
        let count = (n as usize / 4).min(ids.len());
        ids[..count]
            .iter()
            .filter_map(|&id| describe(id as libc::c_long))
            .filter_map(|d| d.strip_prefix("user;").map(str::to_string))
            .filter_map(|d| Some(d.splitn(4, ';').nth(3)?.to_string()))
            .filter(|d| d.starts_with(prefix))
            .collect()
    }

    /// The payload stored under `description`, if any.
    pub fn find(&self, description: &str) -> Option<Secret> {
        let key = self.search(description)?;
        let mut buf = zeroize::Zeroizing::new(vec![0u8; 4096]);
        let n = keyctl(KEYCTL_READ, key, buf.as_mut_ptr() as usize, buf.len(), 0);
        if n <= 0 || n as usize > buf.len() {
            return None;
        }
        let text = std::str::from_utf8(&buf[..n as usize]).ok()?;
        Some(Secret::new(text))
    }

    /// Stores (or replaces) the payload under `description`; the error is the kernel's.
    pub fn store(&self, description: &str, payload: &Secret) -> std::io::Result<()> {
        self.touch();
        let desc = std::ffi::CString::new(description).map_err(std::io::Error::other)?;
        let payload = payload.expose().as_bytes();
        // SAFETY: add_key reads the type and description strings and `payload.len()` bytes of
        // the payload, all valid for the call.
        let key = unsafe {
            libc::syscall(
                libc::SYS_add_key,
                c"user".as_ptr(),
                desc.as_ptr(),
                payload.as_ptr(),
                payload.len(),
                self.id,
            )
        };
        if key < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }

    /// Forgets the token (after a logoff, or when the HMC no longer knows it).
    pub fn remove(&self, description: &str) {
        if let Some(key) = self.search(description) {
            keyctl(KEYCTL_INVALIDATE, key, 0, 0, 0);
        }
    }
}

/// `type;uid;gid;perm;description` of a key, as the kernel describes it.
fn describe(key: libc::c_long) -> Option<String> {
    let mut buf = vec![0u8; 512];
    let n = keyctl(
        KEYCTL_DESCRIBE,
        key,
        buf.as_mut_ptr() as usize,
        buf.len(),
        0,
    );
    if n <= 0 || n as usize > buf.len() {
        return None;
    }
    let text = buf[..n as usize]
        .strip_suffix(&[0])
        .unwrap_or(&buf[..n as usize]);
    String::from_utf8(text.to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_stored_is_found_again_until_removed() {
        let Some(ring) = Keyring::open() else {
            eprintln!("SKIPPED: this kernel has no keyrings");
            return;
        };
        let desc = format!("hostagent:unit:{}", std::process::id());
        let token = Secret::new("A".repeat(236));
        ring.store(&desc, &token).unwrap();
        assert_eq!(ring.find(&desc), Some(token));
        ring.store(&desc, &Secret::new("B=")).unwrap();
        assert_eq!(ring.find(&desc).unwrap().expose(), "B=");
        assert_eq!(ring.list(&desc), vec![desc.clone()], "listed by its prefix");
        ring.remove(&desc);
        assert_eq!(ring.find(&desc), None);
        assert!(
            ring.list(&desc).is_empty(),
            "an invalidated key is not listed"
        );
    }
}
