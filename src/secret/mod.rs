//! `Secret`: the one home for passwords and tokens. Zeroized on drop, printed as `***` by
//! `Debug` and `Display`, never serialized by accident (no `Serialize` impl), and kept in
//! locked memory that stays out of swap and core dumps ([`arena`]).

mod arena;
mod zero_on_free;

pub use zero_on_free::ZeroOnFree;

use std::fmt;

use zeroize::Zeroizing;

/// A password or token. The only way to read it is [`Secret::expose`], so every use is
/// greppable.
pub struct Secret(Option<arena::Slot>);

impl Secret {
    /// Moves the value into locked memory; the `String` it came in is zeroized.
    pub fn new(value: impl Into<String>) -> Self {
        let value = Zeroizing::new(value.into());
        Secret::from_bytes(value.as_bytes())
    }

    /// `bytes` must be UTF-8 (it always comes from a `str`).
    fn from_bytes(bytes: &[u8]) -> Self {
        Secret((!bytes.is_empty()).then(|| arena::store(bytes)))
    }

    pub fn expose(&self) -> &str {
        let bytes = self.0.as_ref().map(arena::Slot::bytes).unwrap_or_default();
        // SAFETY: every slot was filled from a `str` (see `new`, `clone`).
        unsafe { std::str::from_utf8_unchecked(bytes) }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// Whether the bytes sit in locked memory (an empty secret has none to lock). False when
    /// RLIMIT_MEMLOCK refused the lock.
    pub fn is_locked(&self) -> bool {
        self.0.as_ref().is_none_or(arena::is_locked)
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        if let Some(slot) = &mut self.0 {
            arena::release(slot);
        }
    }
}

impl Clone for Secret {
    fn clone(&self) -> Self {
        Secret::from_bytes(self.expose().as_bytes())
    }
}

/// Compares in time that depends on the length only, not on where the values differ.
impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.expose().as_bytes(), other.expose().as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl Eq for Secret {}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Serde for the one place a secret crosses the wire on purpose: the lease token handed to its
/// caller once (`#[serde(with = "crate::secret::exposed")]`, greppable like `expose`).
pub mod exposed {
    use super::Secret;

    pub fn serialize<S: serde::Serializer>(secret: &Secret, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(secret.expose())
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
        let text = zeroize::Zeroizing::new(<String as serde::Deserialize>::deserialize(d)?);
        Ok(Secret::new(text.as_str()))
    }
}

#[cfg(test)]
mod tests;
