//! The structure walk: each structure is a formatted area (type, length, handle, fields)
//! followed by its string set (NUL-terminated strings, ended by one more NUL; an empty set is
//! two NULs). The walk stops at the end-of-table structure (type 127) or the end of the data.

use super::bytes::{u16_at, u8_at};
use super::error::{SmbiosError, TableFault};

/// One structure, borrowed from the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Structure<'a> {
    pub kind: u8,
    pub handle: u16,
    /// Where the structure starts in the table.
    pub offset: usize,
    /// The formatted area, header included (`formatted.len()` is the length byte).
    pub formatted: &'a [u8],
    /// The string set; SMBIOS string number `n` is `strings[n - 1]`.
    pub strings: Vec<&'a [u8]>,
}

impl Structure<'_> {
    /// String number `n` (1-based) as text; `None` for 0 or a number past the set.
    pub fn string(&self, n: u8) -> Option<String> {
        let i = usize::from(n).checked_sub(1)?;
        self.strings
            .get(i)
            .map(|s| String::from_utf8_lossy(s).into_owned())
    }
}

/// The structures of a table, and the fault that stopped the walk early, if any.
#[derive(Debug)]
pub struct Walk<'a> {
    pub structures: Vec<Structure<'a>>,
    pub error: Option<SmbiosError>,
}

/// Walks `table` (already cut to the entry point's length).
pub fn walk(table: &[u8]) -> Walk<'_> {
    let mut structures = Vec::new();
    let mut offset = 0usize;
    while table.len().saturating_sub(offset) >= 4 {
        match next_structure(table, offset) {
            Ok((s, end)) => {
                let last = s.kind == 127;
                structures.push(s);
                if last {
                    // Whatever follows the end-of-table structure is not ours to read.
                    return Walk {
                        structures,
                        error: None,
                    };
                }
                offset = end;
            }
            Err(error) => {
                return Walk {
                    structures,
                    error: Some(error),
                }
            }
        }
    }
    // 1 to 3 bytes left over without an end-of-table structure: a cut-off header.
    let error = (offset < table.len()).then_some(SmbiosError::Table {
        offset,
        handle: None,
        fault: TableFault::TruncatedHeader,
    });
    Walk { structures, error }
}

fn next_structure(table: &[u8], offset: usize) -> Result<(Structure<'_>, usize), SmbiosError> {
    let fail = |fault, handle| SmbiosError::Table {
        offset,
        handle,
        fault,
    };
    let kind = u8_at(table, offset).ok_or(fail(TableFault::HeaderTooShort, None))?;
    let len = u8_at(table, offset + 1).ok_or(fail(TableFault::HeaderTooShort, None))?;
    let handle = u16_at(table, offset + 2).ok_or(fail(TableFault::HeaderTooShort, None))?;
    if len < 4 {
        return Err(fail(TableFault::HeaderTooShort, Some(handle)));
    }
    let strings_at = offset + usize::from(len);
    let formatted = table
        .get(offset..strings_at)
        .ok_or(fail(TableFault::FormattedOverrun, Some(handle)))?;
    let rest = table.get(strings_at..).unwrap_or_default();
    let set_len = rest
        .windows(2)
        .position(|w| w == [0, 0])
        .ok_or(fail(TableFault::UnterminatedStrings, Some(handle)))?;
    let set = rest.get(..set_len).unwrap_or_default();
    let strings = if set.is_empty() {
        Vec::new()
    } else {
        set.split(|b| *b == 0).collect()
    };
    let end = strings_at + set_len + 2;
    Ok((
        Structure {
            kind,
            handle,
            offset,
            formatted,
            strings,
        },
        end,
    ))
}
