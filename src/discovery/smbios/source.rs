//! Where the SMBIOS bytes come from (STYLE item 3: one trait per outside world).

use std::io::Read;
use std::path::{Path, PathBuf};

use super::error::SmbiosError;

/// The raw entry point and table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawTables {
    pub entry_point: Vec<u8>,
    pub table: Vec<u8>,
}

/// A provider of the raw SMBIOS entry point and table.
pub trait SmbiosSource {
    /// Reads both; an error names the file.
    fn read(&self) -> Result<RawTables, SmbiosError>;
    /// Where the bytes come from, for messages.
    fn describe(&self) -> String;
}

/// The two files `smbios_entry_point` and `DMI` in one directory: the kernel's
/// `<sysfs-root>/firmware/dmi/tables`, or a fixture directory (`--dmi-dir`).
#[derive(Debug, Clone)]
pub struct DirSource {
    dir: PathBuf,
}

/// The SMBIOS 3 maximum table size is a u32; real tables are a few KiB. Refuse anything
/// absurd rather than read it into memory.
const MAX_TABLE: u64 = 16 * 1024 * 1024;

impl DirSource {
    /// A directory that holds `smbios_entry_point` and `DMI` directly.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        DirSource { dir: dir.into() }
    }

    /// `<root>/firmware/dmi/tables` (root is `/sys` on a real host).
    pub fn from_sysfs_root(root: impl AsRef<Path>) -> Self {
        DirSource::new(root.as_ref().join("firmware/dmi/tables"))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

fn read_bounded(path: PathBuf, limit: u64) -> Result<Vec<u8>, SmbiosError> {
    let file = std::fs::File::open(&path).map_err(|source| SmbiosError::Read {
        path: path.clone(),
        source,
    })?;
    let mut buf = Vec::new();
    // sysfs reports a size of 4096 or 0 for these files: read, do not trust metadata.
    file.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|source| SmbiosError::Read {
            path: path.clone(),
            source,
        })?;
    if buf.len() as u64 > limit {
        return Err(SmbiosError::TooLarge { path, limit });
    }
    Ok(buf)
}

impl SmbiosSource for DirSource {
    fn read(&self) -> Result<RawTables, SmbiosError> {
        Ok(RawTables {
            entry_point: read_bounded(self.dir.join("smbios_entry_point"), 256)?,
            table: read_bounded(self.dir.join("DMI"), MAX_TABLE)?,
        })
    }

    fn describe(&self) -> String {
        self.dir.display().to_string()
    }
}

/// Bytes already in memory (tests, the fuzzer, a dump read elsewhere).
#[derive(Debug, Clone)]
pub struct MemorySource(pub RawTables);

impl SmbiosSource for MemorySource {
    fn read(&self) -> Result<RawTables, SmbiosError> {
        Ok(self.0.clone())
    }

    fn describe(&self) -> String {
        "in-memory tables".to_string()
    }
}
