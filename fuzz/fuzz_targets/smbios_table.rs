//! Fuzzes the SMBIOS entry point + table parser and everything built on its output (JSON,
//! endpoint choice, human summary).
//!
//! Input: byte 0 = entry point length n (mod 64), then n entry point bytes, then the table.
//! `fuzz/seed.sh` builds seeds in this form from tests/fixtures/smbios.
#![no_main]

use hostagent::discovery::smbios::{
    discover_report, report::human_summary, MemorySource, RawTables,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(n % 64).min(rest.len());
    let (entry_point, table) = rest.split_at(n);
    let source = MemorySource(RawTables {
        entry_point: entry_point.to_vec(),
        table: table.to_vec(),
    });
    let report = discover_report(&source);
    let _ = serde_json_len(&report.to_json());
    let _ = human_summary(&report);
    for e in &report.errors {
        let _ = e.to_string();
    }
});

fn serde_json_len(v: &impl ToString) -> usize {
    v.to_string().len()
}
