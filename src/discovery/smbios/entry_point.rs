//! The SMBIOS entry point: the 32-bit `_SM_` (SMBIOS 2.x) or the 64-bit `_SM3_` (3.x) form.
//!
//! On Linux the kernel exposes it as `/sys/firmware/dmi/tables/smbios_entry_point` and the
//! table it points at as `.../DMI`, so the table address is not needed; the agent uses the
//! entry point for the SMBIOS version (which decides the type 42 layout) and the table length.
//!
//! Checksums: a mismatch is reported in [`EntryPoint::warnings`] and decoding goes on. The
//! kernel has already located the table, every table read is bounds-checked on its own, and
//! refusing would hide a usable host interface over one bad byte. What a bad checksum can
//! corrupt is the version: callers show the warnings next to the decode.

use super::bytes::{u16_at, u32_at, u64_at, u8_at};
use super::error::EntryPointFault;

/// Which entry point form the firmware published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryPointKind {
    /// `_SM_`, SMBIOS 2.1+, 32-bit table address.
    Bits32,
    /// `_SM3_`, SMBIOS 3.0+, 64-bit table address.
    Bits64,
}

/// The decoded entry point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPoint {
    pub kind: EntryPointKind,
    pub major: u8,
    pub minor: u8,
    /// `_SM3_` docrev; 0 for `_SM_`.
    pub docrev: u8,
    /// `_SM_`: the exact table length; `_SM3_`: the table's maximum size.
    pub table_len: u32,
    pub table_address: u64,
    /// `_SM_` only: the number of structures the table holds.
    pub structure_count: Option<u16>,
    /// Checksum mismatches and other oddities that did not stop the decode.
    pub warnings: Vec<String>,
}

impl EntryPoint {
    /// `major.minor`, as the fixtures' `smbios_version`.
    pub fn version_text(&self) -> String {
        format!("{}.{}", self.major, self.minor)
    }

    /// True from SMBIOS 3.2 on, where type 42 carries its interface-data length byte.
    pub fn at_least(&self, major: u8, minor: u8) -> bool {
        (self.major, self.minor) >= (major, minor)
    }
}

/// Decodes `smbios_entry_point`.
pub fn parse_entry_point(b: &[u8]) -> Result<EntryPoint, EntryPointFault> {
    if b.starts_with(b"_SM3_") {
        parse_64(b)
    } else if b.starts_with(b"_SM_") {
        parse_32(b)
    } else {
        Err(EntryPointFault::UnknownAnchor)
    }
}

fn checksum_ok(b: &[u8]) -> bool {
    b.iter().fold(0u8, |acc, x| acc.wrapping_add(*x)) == 0
}

fn parse_64(b: &[u8]) -> Result<EntryPoint, EntryPointFault> {
    const FIXED: usize = 0x18;
    let len = usize::from(u8_at(b, 0x06).ok_or(EntryPointFault::TooShort)?);
    if len < FIXED {
        return Err(EntryPointFault::BadLength);
    }
    let covered = b.get(..len).ok_or(EntryPointFault::TooShort)?;
    let mut warnings = Vec::new();
    if !checksum_ok(covered) {
        warnings.push("the _SM3_ entry point checksum does not add up to 0".to_string());
    }
    let field = |v: Option<u8>| v.ok_or(EntryPointFault::TooShort);
    Ok(EntryPoint {
        kind: EntryPointKind::Bits64,
        major: field(u8_at(b, 0x07))?,
        minor: field(u8_at(b, 0x08))?,
        docrev: field(u8_at(b, 0x09))?,
        table_len: u32_at(b, 0x0c).ok_or(EntryPointFault::TooShort)?,
        table_address: u64_at(b, 0x10).ok_or(EntryPointFault::TooShort)?,
        structure_count: None,
        warnings,
    })
}

fn parse_32(b: &[u8]) -> Result<EntryPoint, EntryPointFault> {
    const FIXED: usize = 0x1f;
    let len = usize::from(u8_at(b, 0x05).ok_or(EntryPointFault::TooShort)?);
    if len < FIXED {
        return Err(EntryPointFault::BadLength);
    }
    let covered = b.get(..len).ok_or(EntryPointFault::TooShort)?;
    let mut warnings = Vec::new();
    if !checksum_ok(covered) {
        warnings.push("the _SM_ entry point checksum does not add up to 0".to_string());
    }
    // The intermediate (legacy DMI) part: anchor `_DMI_` at 10h, checksum over 10h..1Fh.
    let intermediate = b.get(0x10..FIXED).ok_or(EntryPointFault::TooShort)?;
    if !intermediate.starts_with(b"_DMI_") {
        warnings.push("the _SM_ entry point has no _DMI_ intermediate anchor".to_string());
    } else if !checksum_ok(intermediate) {
        warnings.push("the _DMI_ intermediate checksum does not add up to 0".to_string());
    }
    Ok(EntryPoint {
        kind: EntryPointKind::Bits32,
        major: u8_at(b, 0x06).ok_or(EntryPointFault::TooShort)?,
        minor: u8_at(b, 0x07).ok_or(EntryPointFault::TooShort)?,
        docrev: 0,
        table_len: u32::from(u16_at(b, 0x16).ok_or(EntryPointFault::TooShort)?),
        table_address: u64::from(u32_at(b, 0x18).ok_or(EntryPointFault::TooShort)?),
        structure_count: Some(u16_at(b, 0x1c).ok_or(EntryPointFault::TooShort)?),
        warnings,
    })
}
