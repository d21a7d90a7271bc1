//! Where an HMC token survives a crash without touching a disk: the kernel keyring. A
//! SIGKILLed agent cannot log off, and HMC sessions often never expire, so each crash would
//! leak one session; the token is kept as a `user` key in the daemon's uid's *persistent*
//! keyring (kernel memory, never swapped to a file, outliving the process), found again at the
//! next start, checked and reused — or forgotten when the HMC no longer knows it.
//!
//! Without persistent keyrings (a kernel built without `CONFIG_PERSISTENT_KEYRINGS`) the
//! uid's user keyring is used: it outlives the daemon only while another process of that uid
//! runs (root always has one; a dedicated service user usually does not), so a crash there
//! may still leak one session (docs/HMC.md).
//!
//! Why not a crate: the four `keyctl(2)` calls needed are a few lines over `libc`, which is
//! already a dependency; the key's payload is read straight into a [`Secret`].

use crate::secret::Secret;

// The kernel's keyctl ABI (include/uapi/linux/keyctl.h).
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
    /// The uid's user keyring: survives the daemon while another process of the uid lives.
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

impl Keyring {
    /// The persistent keyring of this uid, else the user keyring; `None` when the kernel has
    /// no keyrings at all.
    pub fn open() -> Option<Keyring> {
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

    /// Renews the persistent keyring's expiry, and makes it possessed by the calling thread:
    /// its keys are writable and readable only by a possessor.
    pub fn touch(&self) {
        if self.kind == Kind::Persistent {
            possess_persistent();
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

    /// The token stored under `description`, if any.
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

    /// Stores (or replaces) the token under `description`; the error is the kernel's.
    pub fn store(&self, description: &str, token: &Secret) -> std::io::Result<()> {
        self.touch();
        let desc = std::ffi::CString::new(description).map_err(std::io::Error::other)?;
        let payload = token.expose().as_bytes();
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

/// The description a token is stored under: unique per HMC, endpoint and user, so that two
/// agents' HMCs (or a changed account) never share a key.
pub fn description(name: &str, endpoint: &str, user: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{endpoint}\n{user}").as_bytes());
    format!("hostagent:hmc:{name}:{}", hex::encode(&digest[..8]))
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
        let desc = description("unit", &format!("https://x:{}", std::process::id()), "u");
        let token = Secret::new("A".repeat(236));
        ring.store(&desc, &token).unwrap();
        assert_eq!(ring.find(&desc), Some(token));
        ring.store(&desc, &Secret::new("B=")).unwrap();
        assert_eq!(ring.find(&desc).unwrap().expose(), "B=");
        ring.remove(&desc);
        assert_eq!(ring.find(&desc), None);
    }
}
