//! hostagent: the on-host agent for servers with a BMC.
//!
//! It finds the BMC's in-band Redfish path (SMBIOS type 42 and the host-side NIC, or HPE's
//! CHIF channel), holds the few sessions that local tools need, and cleans the sessions that
//! tools leave behind before the BMC's session table fills up.
//!
//! Modules:
//! - [`discovery`]: the in-band path: SMBIOS type 42 (DSP0270) decoding and the endpoint choice.
//! - [`secret`]: `Secret`, the zeroizing, redacting, memory-locked home of passwords and tokens.
//! - [`transport`]: the `Transport` trait (one HTTP request to the BMC) and its implementations;
//!   [`transport::chif`] speaks HPE CHIF through the vendor library loaded at run time.
//! - [`config`]: layered TOML config (defaults, file, drop-ins, flags) → validated `Settings`.
//! - [`state`]: files kept between runs in `state.dir` — the ledger of the agent's own sessions
//!   and TOFU pins — written atomically, mode 0600; none in memory-only mode.
//! - [`ipmi`]: DSP0270 credential bootstrapping over `/dev/ipmi0` (certificate fingerprint and
//!   a bootstrap account), behind the `Ipmi` trait with a scripted stand-in for tests.
//! - [`cli`]: clap definitions of `hostagentd` and `agentctl` (man pages are generated from them).

// Every `unsafe` block says why it is sound (checked by clippy in CI).
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod cli;
pub mod config;
pub mod credentials;
pub mod ctl;
pub mod daemon;
#[cfg(feature = "demo")]
pub mod demo;
pub mod discovery;
pub mod events;
pub mod ipmi;
pub mod ipnet;
pub mod proxy;
pub mod reaper;
pub mod redfish;
pub mod render;
pub mod secret;
pub mod service;
pub mod session;
pub mod state;
pub mod transport;
