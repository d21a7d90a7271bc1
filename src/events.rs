//! Fixed journald `MESSAGE_ID`s for the events operators alert on. Emitted as the
//! `message_id` field of a tracing event.

/// A stale session was deleted.
pub const SESSION_CLEANED: &str = "5c0a1d0b6f3e4f2a9d7b8e1c2a3f4b5d";
/// The session table is near its limit.
pub const TABLE_NEAR_FULL: &str = "8e2f7c1d9a4b4c3e8f1a2b3c4d5e6f70";
/// The BMC did not answer.
pub const BMC_UNREACHABLE: &str = "1f9e8d7c6b5a49382716a5b4c3d2e1f0";
/// The BMC's certificate is not the pinned one.
pub const CERTIFICATE_CHANGED: &str = "a1b2c3d4e5f647389a0b1c2d3e4f5061";
/// Sessions left by an earlier run of the agent (it was killed) were found: they are deleted.
pub const ORPHANS_FOUND: &str = "3d6b9f0e2c8a4e71b5f4a09c7d1e2b36";
/// The ledger could not be read: moved aside, and the agent starts with an empty one.
pub const LEDGER_UNREADABLE: &str = "e7c4a2b9d0f14c6a8b3e5f7091d2c4a8";
