//! SMBIOS type 42, Management Controller Host Interface (DSP0134 §7.43, DSP0270 §7):
//!
//! ```text
//! 00h type (42) | 01h length | 02h handle | 04h interface type | 05h data length n
//! 06h interface-specific data (n) | 06h+n protocol count | 07h+n protocol records
//! ```
//!
//! Before SMBIOS 3.2 the structure had no data-length byte, so nothing after the interface
//! type can be located: such records are reported with [`LEGACY_NOTE`], not guessed at.

use super::bytes::u8_at;
use super::device::decode_device;
use super::error::{SmbiosError, Type42Fault};
use super::model::{HostInterface, InterfaceType};
use super::protocol::decode_protocols;
use super::table::Structure;

/// The note on pre-3.2 records (text fixed by the `legacy-smbios30` fixture).
pub const LEGACY_NOTE: &str =
    "SMBIOS older than 3.2: the interface-specific data has no length byte; report, do not guess";

/// Decodes one type 42 structure of a table whose entry point says `major.minor`.
pub fn decode_type42(s: &Structure<'_>, at_least_3_2: bool) -> Result<HostInterface, SmbiosError> {
    let f = s.formatted;
    let fail = |at: usize, fault: Type42Fault| SmbiosError::Type42 {
        handle: s.handle,
        structure_offset: s.offset,
        offset: s.offset.saturating_add(at),
        fault,
    };
    let interface_type =
        InterfaceType::from_byte(u8_at(f, 4).ok_or(fail(4, Type42Fault::TooShort))?);
    let mut record = HostInterface {
        handle: s.handle,
        interface_type,
        device: None,
        protocols: Vec::new(),
        note: None,
    };
    if !at_least_3_2 {
        record.note = Some(LEGACY_NOTE);
        return Ok(record);
    }
    let data_len = usize::from(u8_at(f, 5).ok_or(fail(5, Type42Fault::TooShort))?);
    let data = f
        .get(6..6 + data_len)
        .ok_or(fail(5, Type42Fault::InterfaceDataOverrun))?;
    if interface_type != InterfaceType::Network {
        // KCS, UARTs and OEM interfaces are named, not decoded (the agent only uses 40h).
        return Ok(record);
    }
    record.device = Some(decode_device(data, s).map_err(|(at, fault)| fail(6 + at, fault))?);
    let count_at = 6 + data_len;
    let count = u8_at(f, count_at).ok_or(fail(count_at, Type42Fault::ProtocolCount))?;
    record.protocols =
        decode_protocols(f, count_at + 1, count).map_err(|(at, fault)| fail(at, fault))?;
    Ok(record)
}
