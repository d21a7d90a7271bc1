//! The decoded type 42 records (DSP0270 names), independent of any output format.

use std::net::IpAddr;

/// One type 42 structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostInterface {
    pub handle: u16,
    pub interface_type: InterfaceType,
    /// Network interfaces (40h) only.
    pub device: Option<Device>,
    /// Network interfaces (40h) only; other interface types are reported, not decoded.
    pub protocols: Vec<Protocol>,
    /// Why the record is not (fully) decoded, e.g. a pre-3.2 table.
    pub note: Option<&'static str>,
}

/// SMBIOS 7.43.1, Management Controller Host Interface types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterfaceType {
    Kcs,
    Uart8250,
    Uart16450,
    Uart16550,
    Uart16650,
    Uart16750,
    Uart16850,
    Network,
    Oem,
    Reserved(u8),
}

impl InterfaceType {
    pub fn from_byte(b: u8) -> Self {
        match b {
            0x02 => Self::Kcs,
            0x03 => Self::Uart8250,
            0x04 => Self::Uart16450,
            0x05 => Self::Uart16550,
            0x06 => Self::Uart16650,
            0x07 => Self::Uart16750,
            0x08 => Self::Uart16850,
            0x40 => Self::Network,
            0xf0 => Self::Oem,
            other => Self::Reserved(other),
        }
    }

    /// The name in the JSON output.
    pub fn name(&self) -> String {
        match self {
            Self::Kcs => "kcs".into(),
            Self::Uart8250 => "8250-uart".into(),
            Self::Uart16450 => "16450-uart".into(),
            Self::Uart16550 => "16550-uart".into(),
            Self::Uart16650 => "16650-uart".into(),
            Self::Uart16750 => "16750-uart".into(),
            Self::Uart16850 => "16850-uart".into(),
            Self::Network => "network".into(),
            Self::Oem => "oem".into(),
            Self::Reserved(b) => format!("reserved-{b:#04x}"),
        }
    }
}

/// DSP0270 §7.3 device descriptions of a network host interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Device {
    /// 02h: USB network interface (v1); the serial is a UTF-16 string descriptor.
    Usb {
        vendor_id: u16,
        product_id: u16,
        serial: Option<String>,
    },
    /// 03h: PCI/PCIe network interface (v1).
    Pci(PciIds),
    /// 04h: USB network interface v2.
    UsbV2 {
        vendor_id: u16,
        product_id: u16,
        serial: Option<String>,
        mac: [u8; 6],
        bootstrap: Option<Bootstrap>,
    },
    /// 05h: PCI/PCIe network interface v2.
    PciV2 {
        ids: PciIds,
        mac: [u8; 6],
        segment: u16,
        bus: u8,
        device: u8,
        function: u8,
        bootstrap: Option<Bootstrap>,
    },
    /// 80h–FFh: OEM; the first four bytes are the vendor's IANA enterprise number.
    Oem {
        device_type: u8,
        iana: u32,
        data: Vec<u8>,
    },
    /// Any other device type: kept raw.
    Reserved { device_type: u8, data: Vec<u8> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PciIds {
    pub vendor_id: u16,
    pub device_id: u16,
    pub subsystem_vendor_id: u16,
    pub subsystem_id: u16,
}

/// DSP0270 1.3 fields of the v2 device descriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bootstrap {
    /// Device characteristics bit 0: credential bootstrapping over IPMI is supported.
    pub supported: bool,
    pub characteristics: u16,
    /// The type 38 (IPMI device) structure to bootstrap through; `None` for FFFFh.
    pub handle: Option<u16>,
}

/// One protocol record of a network host interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protocol {
    RedfishOverIp(RedfishOverIp),
    /// IPMI (02h), MCTP (03h), OEM (F0h) or reserved: reported with their type, not decoded.
    Other {
        protocol_type: u8,
        data: Vec<u8>,
    },
}

/// DSP0270 Table 8 "Redfish over IP" protocol-specific data (protocol type 04h).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedfishOverIp {
    /// Already in text form (SMBIOS byte order: the first three fields are little-endian).
    pub service_uuid: String,
    pub host_ip_assignment: Assignment,
    pub host_ip_format: IpFormat,
    pub host_address: Option<IpAddr>,
    pub host_mask: Option<IpAddr>,
    pub service_ip_discovery: Assignment,
    pub service_ip_format: IpFormat,
    pub service_address: Option<IpAddr>,
    pub service_mask: Option<IpAddr>,
    pub service_port: u16,
    /// `None` for untagged (0 and FFFFFFFFh both occur in the field).
    pub vlan_id: Option<u32>,
    /// Trailing NULs stripped; `None` when empty.
    pub hostname: Option<String>,
}

/// Host IP assignment type / service IP discovery type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignment {
    Unknown,
    Static,
    Dhcp,
    AutoConfigure,
    HostSelected,
    Reserved(u8),
}

impl Assignment {
    pub fn from_byte(b: u8) -> Self {
        match b {
            0 => Self::Unknown,
            1 => Self::Static,
            2 => Self::Dhcp,
            3 => Self::AutoConfigure,
            4 => Self::HostSelected,
            other => Self::Reserved(other),
        }
    }

    pub fn name(&self) -> String {
        match self {
            Self::Unknown => "unknown".into(),
            Self::Static => "static".into(),
            Self::Dhcp => "dhcp".into(),
            Self::AutoConfigure => "autoconfigure".into(),
            Self::HostSelected => "host-selected".into(),
            Self::Reserved(b) => format!("reserved-{b:#04x}"),
        }
    }

    /// DSP0270: the address and mask fields are used for Static and AutoConfigure only.
    pub fn carries_address(&self) -> bool {
        matches!(self, Self::Static | Self::AutoConfigure)
    }
}

/// Host IP address format / service IP address format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpFormat {
    Unknown,
    Ipv4,
    Ipv6,
    Reserved(u8),
}

impl IpFormat {
    pub fn from_byte(b: u8) -> Self {
        match b {
            0 => Self::Unknown,
            1 => Self::Ipv4,
            2 => Self::Ipv6,
            other => Self::Reserved(other),
        }
    }

    pub fn name(&self) -> String {
        match self {
            Self::Unknown => "unknown".into(),
            Self::Ipv4 => "ipv4".into(),
            Self::Ipv6 => "ipv6".into(),
            Self::Reserved(b) => format!("reserved-{b:#04x}"),
        }
    }
}
