//! SMBIOS type 42 (DSP0270 Redfish Host Interface) decoding.
//!
//! [`SmbiosSource`] yields the raw entry point and table; [`decode`] walks the table and
//! decodes every type 42 structure into [`HostInterface`] records; [`choose_endpoint`] picks
//! the Redfish service the agent would use; [`report`] renders the JSON of `agentctl discover`.
//!
//! Every read is bounds-checked. A structure that cannot be decoded yields an error naming its
//! handle and offset while the other structures still decode ([`SmbiosDecode::errors`]).

mod bytes;
mod device;
pub mod endpoint;
pub mod entry_point;
pub mod error;
pub mod json;
pub mod model;
mod protocol;
pub mod report;
pub mod source;
pub mod table;
mod type42;

pub use endpoint::{choose_endpoint, Endpoint};
pub use entry_point::{parse_entry_point, EntryPoint, EntryPointKind};
pub use error::{EntryPointFault, SmbiosError, TableFault, Type42Fault};
pub use model::*;
pub use protocol::{smbios_uuid, REDFISH_FIXED_LEN};
pub use report::{discover_report, DiscoverReport};
pub use source::{DirSource, MemorySource, RawTables, SmbiosSource};
pub use type42::{decode_type42, LEGACY_NOTE};

/// SMBIOS structure type of the Management Controller Host Interface.
pub const TYPE_HOST_INTERFACE: u8 = 42;

/// The decode of one SMBIOS table.
#[derive(Debug)]
pub struct SmbiosDecode {
    pub entry_point: EntryPoint,
    /// The type 42 records that decoded, in table order.
    pub records: Vec<HostInterface>,
    /// Type 42 structures that did not decode, and a broken table framing (which stops the
    /// walk: the structures after it cannot be located).
    pub errors: Vec<SmbiosError>,
}

impl SmbiosDecode {
    /// `major.minor` of the entry point.
    pub fn version(&self) -> String {
        self.entry_point.version_text()
    }
}

/// Decodes the entry point and every type 42 structure of the table. Only an unusable entry
/// point is an `Err`; faults in the table are collected in [`SmbiosDecode::errors`].
pub fn decode(raw: &RawTables) -> Result<SmbiosDecode, SmbiosError> {
    let entry_point = parse_entry_point(&raw.entry_point).map_err(SmbiosError::EntryPoint)?;
    let limit = usize::try_from(entry_point.table_len).unwrap_or(usize::MAX);
    let table = raw
        .table
        .get(..limit.min(raw.table.len()))
        .unwrap_or_default();
    let walk = table::walk(table);
    let at_least_3_2 = entry_point.at_least(3, 2);
    let mut records = Vec::new();
    let mut errors = Vec::new();
    for s in walk
        .structures
        .iter()
        .filter(|s| s.kind == TYPE_HOST_INTERFACE)
    {
        match decode_type42(s, at_least_3_2) {
            Ok(r) => records.push(r),
            Err(e) => errors.push(e),
        }
    }
    errors.extend(walk.error);
    Ok(SmbiosDecode {
        entry_point,
        records,
        errors,
    })
}
