//! Finding the BMC's in-band path.
//!
//! - [`link`]: bringing that NIC up over rtnetlink (static addressing, VLAN).
//! - [`netdev`]: which host network device is the host interface (sysfs match).
//! - [`watch`]: re-applying the bring-up when the NIC comes back after a BMC reset.
//! - [`smbios`]: reads the SMBIOS tables and decodes the type 42 (DSP0270) host interface
//!   records, then picks the Redfish endpoint the agent would use.

pub mod dhcp;
pub mod dhcp_lease;
pub mod host_interface;
pub mod ipv4ll;
pub mod link;
pub mod netdev;
pub mod smbios;
pub mod watch;
