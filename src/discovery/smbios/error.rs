//! What can be wrong with SMBIOS data, and where.
//!
//! Two layers: a *fault* says what was wrong in the words the JSON output uses (the
//! fixtures' `expected.json` fix the text of the three faults they exercise), and
//! [`SmbiosError`] adds where: the structure handle and the byte offset in the table. The
//! JSON `error` field carries only [`SmbiosError::fault_text`]; logs and `Display` carry all.

use std::path::PathBuf;

/// The entry point (`smbios_entry_point`) could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EntryPointFault {
    #[error("the entry point has neither the _SM_ nor the _SM3_ anchor")]
    UnknownAnchor,
    #[error("the entry point is shorter than its anchor's fixed fields")]
    TooShort,
    #[error("the entry point length field is smaller than its anchor's fixed fields")]
    BadLength,
}

/// The structure walk could not go on: the table's framing is broken at this point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TableFault {
    #[error("the table ends inside a structure header")]
    TruncatedHeader,
    #[error("a structure's length is smaller than its 4-byte header")]
    HeaderTooShort,
    #[error("a structure's formatted area runs past the end of the table")]
    FormattedOverrun,
    #[error("a structure's string set has no double-NUL end before the end of the table")]
    UnterminatedStrings,
}

/// A type 42 structure could not be decoded; the other structures still are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Type42Fault {
    #[error("the structure is shorter than its interface type and data length fields")]
    TooShort,
    #[error("the interface-specific data length runs past the end of the structure")]
    InterfaceDataOverrun,
    #[error("the network interface data has no device type")]
    MissingDeviceType,
    #[error("the device description is shorter than its device type requires")]
    DeviceTooShort,
    #[error("the device description length byte runs past the interface-specific data")]
    DeviceLengthOverrun,
    #[error("the USB serial-number descriptor runs past the device description")]
    SerialOverrun,
    #[error("the USB serial-number descriptor has bDescriptorType {0:02x}h, not 03h (a string descriptor)")]
    SerialDescriptorType(u8),
    #[error("the USB serial-number descriptor has bLength {0}: odd or shorter than its 2-byte header, so it is not UTF-16 text")]
    SerialDescriptorOddLength(u8),
    #[error("the protocol count promises more records than the structure holds")]
    ProtocolCount,
    #[error("a protocol record's length runs past the end of the structure")]
    ProtocolOverrun,
    #[error("the Redfish-over-IP record is shorter than its 91 fixed bytes")]
    RedfishRecordTooShort,
    #[error("the hostname length runs past the protocol record")]
    HostnameOverrun,
}

/// Any failure to read or decode the SMBIOS tables.
#[derive(Debug, thiserror::Error)]
pub enum SmbiosError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is larger than {limit} bytes")]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("SMBIOS entry point: {0}")]
    EntryPoint(EntryPointFault),
    #[error("SMBIOS table at offset {offset}{}: {fault}", handle_text(*handle))]
    Table {
        offset: usize,
        handle: Option<u16>,
        fault: TableFault,
    },
    #[error("SMBIOS type 42 structure handle {handle:#06x} (table offset {structure_offset}), byte {offset} of the table: {fault}")]
    Type42 {
        handle: u16,
        structure_offset: usize,
        offset: usize,
        fault: Type42Fault,
    },
}

fn handle_text(handle: Option<u16>) -> String {
    handle
        .map(|h| format!(" (structure handle {h:#06x})"))
        .unwrap_or_default()
}

impl SmbiosError {
    /// What was wrong, without where: the text of the JSON `error` field.
    pub fn fault_text(&self) -> String {
        match self {
            SmbiosError::EntryPoint(f) => f.to_string(),
            SmbiosError::Table { fault, .. } => fault.to_string(),
            SmbiosError::Type42 { fault, .. } => fault.to_string(),
            other => other.to_string(),
        }
    }
}
