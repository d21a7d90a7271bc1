//! chifsim must be indistinguishable from HPE's real CHIF library at the ABI: same sizes,
//! byte-identical packets (except the random sequence number), as recorded from the real
//! `ilorest_chif.so` 7.4 in tests/fixtures/chif/.

mod chif_support;

use std::ffi::c_int;

use chif_support::{build, ChifSim};
use hostagent::transport::chif::ffi::ChifLib;

const PACKETS: &str = include_str!("fixtures/chif/real-library-packets.txt");
const SIZES: &str = include_str!("fixtures/chif/real-library-sizes.txt");
const SIZES_EXTRA: &str = include_str!("fixtures/chif/real-library-sizes-extra.txt");

#[test]
fn chifsim_builds_the_real_librarys_packets_byte_for_byte() {
    let sim = ChifSim::new();
    let mut checked = 0;
    for line in PACKETS.lines().filter(|l| l.split_whitespace().count() > 2) {
        let mut parts = line.split_whitespace();
        let name = parts.next().unwrap();
        let size: usize = parts.next().unwrap().parse().unwrap();
        let want: Vec<u8> = parts.map(|h| u8::from_str_radix(h, 16).unwrap()).collect();
        assert_eq!(want.len(), size, "fixture line {name}");
        let got = build(sim.lib(), name, size);
        // Bytes 2..4 are the library's random sequence number.
        assert_eq!(got[..2], want[..2], "{name}: length field");
        assert_eq!(
            got[4..],
            want[4..],
            "{name}: bytes after the sequence number"
        );
        checked += 1;
    }
    assert_eq!(checked, 9, "every builder of the fixture was compared");
}

#[test]
fn sequence_numbers_are_random_per_packet() {
    let sim = ChifSim::new();
    let seqs: std::collections::HashSet<[u8; 2]> = (0..8)
        .map(|_| build(sim.lib(), "get_info", 60)[2..4].try_into().unwrap())
        .collect();
    assert!(seqs.len() > 1, "eight packets all had sequence {seqs:?}");
}

/// `name = value` or `name value` lines of the size fixtures that are numbers.
fn fixture_sizes() -> Vec<(String, i64)> {
    SIZES
        .lines()
        .chain(SIZES_EXTRA.lines())
        .chain(
            PACKETS
                .lines()
                .filter(|l| l.split_whitespace().count() == 2),
        )
        .filter_map(|l| {
            let l = l.replace('=', " ");
            let mut p = l.split_whitespace();
            let (name, value) = (p.next()?, p.next()?);
            let is_query = name.starts_with("size_of_")
                || name.starts_with("max_")
                || name == "get_max_buffer_size";
            Some((name.to_string(), value.parse().ok()?)).filter(|_| is_query)
        })
        .collect()
}

#[test]
fn chifsim_answers_every_size_query_like_the_real_library() {
    let sim = ChifSim::new();
    let sizes = fixture_sizes();
    assert!(sizes.len() >= 20, "size fixtures parsed: {sizes:?}");
    for (name, want) in sizes {
        let f = unsafe {
            sim.lib()
                .get::<unsafe extern "C" fn() -> c_int>(name.as_bytes())
        }
        .unwrap_or_else(|e| panic!("chifsim lacks {name}: {e}"));
        assert_eq!(i64::from(unsafe { f() }), want, "{name}");
    }
}

#[test]
fn the_transport_binds_every_symbol_of_chifsim() {
    let sim = ChifSim::new();
    let lib = ChifLib::load(&sim.path).expect("binding chifsim");
    assert_eq!(
        (
            lib.sizes.max_buffer,
            lib.sizes.max_read,
            lib.sizes.max_write
        ),
        (4096, 4000, 3500)
    );
    assert_eq!(lib.sizes.rest_immediate_request, 68);
}
