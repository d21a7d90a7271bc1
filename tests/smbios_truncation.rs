//! Truncation and mutation: the decoder never panics, and a table cut inside a structure is
//! always reported as an error.

mod smbios_support;

use hostagent::discovery::smbios::{discover_report, MemorySource};
use smbios_support::*;

/// Decodes every prefix of `t` (and of the entry point): never a panic, and a cut inside a
/// structure is always reported as an error.
fn check_every_cut(ep: &[u8], t: &[u8]) {
    let boundaries = structure_ends(t);
    for cut in 0..=t.len() {
        let report = discover_report(&MemorySource(raw(ep.to_vec(), t[..cut].to_vec())));
        let _ = report.to_json();
        if !boundaries.contains(&cut) {
            assert!(
                !report.ok(),
                "cut at {cut} of {} decoded without error",
                t.len()
            );
        }
    }
    for cut in 0..ep.len() {
        let report = discover_report(&MemorySource(raw(ep[..cut].to_vec(), t.to_vec())));
        assert!(!report.ok(), "entry point cut at {cut} accepted");
    }
}

/// Offsets where a structure ends (a cut there loses whole structures only).
fn structure_ends(t: &[u8]) -> Vec<usize> {
    let mut ends = vec![0];
    let mut at = 0;
    while at + 4 <= t.len() {
        let len = t[at + 1] as usize;
        let mut end = at + len;
        while !(t[end] == 0 && t[end + 1] == 0) {
            end += 1;
        }
        at = end + 2;
        ends.push(at);
    }
    ends
}

#[test]
fn truncation_at_every_byte_never_panics() {
    let rf6 = Rf {
        service: (1, 2, "fe80::1", "ffff::"),
        ..Rf::default()
    };
    let t = table(&[
        type42(
            0x50,
            0x02,
            &[1, 0, 0xa2, 0x0c, 0, 0, 0, 0],
            &[vec![0x02, 0x00]],
            &[],
        ),
        type42(
            0xa0,
            0x40,
            &usb_v2(17, 1, &[1, 0, 0x26, 0]),
            &[Rf::default().bytes(), rf6.bytes()],
            &["SERIAL"],
        ),
    ]);
    check_every_cut(&ep64(3, 6, t.len()), &t);
    check_every_cut(&ep32(3, 2, t.len(), 4), &t);
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smbios");
    for entry in std::fs::read_dir(fixtures).expect("fixtures") {
        let dir = entry.expect("entry").path();
        let (Ok(ep), Ok(t)) = (
            std::fs::read(dir.join("smbios_entry_point")),
            std::fs::read(dir.join("DMI")),
        ) else {
            continue;
        };
        for cut in 0..=t.len() {
            let _ = discover_report(&MemorySource(raw(ep.clone(), t[..cut].to_vec()))).to_json();
        }
    }
}

#[test]
fn every_value_of_every_type42_byte_never_panics() {
    let t = table(&[type42(
        0xa0,
        0x40,
        &usb_v2(17, 1, &[1, 0, 0x26, 0]),
        &[Rf::default().bytes()],
        &["S"],
    )]);
    let ep = ep64(3, 6, t.len());
    let type42_len = t[1] as usize;
    for at in 1..type42_len {
        for value in 0..=255u8 {
            let mut m = t.clone();
            m[at] = value;
            let report = discover_report(&MemorySource(raw(ep.clone(), m)));
            let _ = (
                report.to_json(),
                report.errors.iter().map(ToString::to_string).count(),
            );
        }
    }
}
