//! hostagent: the on-host agent for servers with a BMC.
//!
//! It finds the BMC's in-band Redfish path (SMBIOS type 42 and the host-side NIC, or HPE's
//! CHIF channel), holds the few sessions that local tools need, and cleans the sessions that
//! tools leave behind before the BMC's session table fills up.
//!
//! Modules:
//! - [`discovery`]: the in-band path: SMBIOS type 42 (DSP0270) decoding and the endpoint choice.
//! - [`secret`]: `Secret`, the zeroizing, redacting home of passwords and tokens.
//! - [`transport`]: the `Transport` trait (one HTTP request to the BMC) and its implementations.

pub mod discovery;
pub mod secret;
pub mod transport;
