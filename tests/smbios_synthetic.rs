//! Quirks and layouts the fixtures lack, on synthetic tables built with `smbios_support`:
//! IPv6, several protocol records, the 32-bit entry point, OEM devices, USB v1 UTF-16
//! serials, v2 devices with and without the DSP0270 1.3 fields, malformed records.

mod smbios_support;

use hostagent::discovery::smbios::{
    choose_endpoint, decode, discover_report, Endpoint, MemorySource, SmbiosError, Type42Fault,
    LEGACY_NOTE,
};
use serde_json::{json, Value};
use smbios_support::*;

#[test]
fn ipv6_addresses_print_in_rfc5952_form() {
    let rf = Rf {
        host: (1, 2, "fe80::2", "ffff:ffff:ffff:ffff::"),
        service: (1, 2, "fe80::1", "ffff:ffff:ffff:ffff::"),
        ..Rf::default()
    };
    let v = json_of(3, 3, &[usb_net(0x30, &[rf.bytes()])]);
    let p = &v["records"][0]["protocols"][0];
    assert_eq!(p["host_ip_format"], "ipv6");
    assert_eq!(p["host_address"], "fe80::2");
    assert_eq!(p["host_mask"], "ffff:ffff:ffff:ffff::");
    assert_eq!(p["service_address"], "fe80::1");
    assert_eq!(v["endpoint"]["url"], "https://[fe80::1]:443");
    assert_eq!(
        v["endpoint"]["needs_interface_scope"], true,
        "link-local needs %ifname"
    );
}

#[test]
fn global_ipv6_service_needs_no_scope() {
    let rf = Rf {
        service: (1, 2, "2001:db8::1", "ffff:ffff:ffff:ffff::"),
        ..Rf::default()
    };
    let v = json_of(3, 3, &[usb_net(0x30, &[rf.bytes()])]);
    assert_eq!(v["endpoint"]["url"], "https://[2001:db8::1]:443");
    assert_eq!(v["endpoint"]["needs_interface_scope"], false);
}

#[test]
fn several_protocol_records_in_one_structure() {
    let v4 = Rf::default();
    let v6 = Rf {
        service: (1, 2, "fd00::1", "ffff:ffff:ffff:ffff::"),
        ..Rf::default()
    };
    let ipmi = vec![0x02, 0x00];
    let oem = vec![0xf0, 0x03, 0xaa, 0xbb, 0xcc];
    let v = json_of(3, 4, &[usb_net(0x31, &[ipmi, v4.bytes(), oem, v6.bytes()])]);
    let ps = v["records"][0]["protocols"].as_array().expect("protocols");
    assert_eq!(ps.len(), 4);
    assert_eq!(
        ps[0],
        json!({"protocol": "ipmi", "protocol_type": 2, "data": ""})
    );
    assert_eq!(ps[1]["service_address"], "10.0.0.1");
    assert_eq!(
        ps[2],
        json!({"protocol": "oem", "protocol_type": 240, "data": "aabbcc"})
    );
    assert_eq!(ps[3]["service_address"], "fd00::1");
    assert_eq!(
        v["endpoint"]["url"], "https://10.0.0.1:443",
        "first known address wins"
    );
}

#[test]
fn two_structures_for_one_usb_device_ipv4_and_ipv6() {
    // NOTE: some firmware publishes one type 42 per address family for the same vNIC.
    let v6 = Rf {
        host: (2, 2, "", ""),
        service: (1, 2, "fe80::9", "ffff:ffff:ffff:ffff::"),
        ..Rf::default()
    };
    let v4 = Rf {
        service: (2, 1, "", ""),
        ..Rf::default()
    };
    let d = decode_v(
        3,
        3,
        &[usb_net(0x40, &[v4.bytes()]), usb_net(0x41, &[v6.bytes()])],
    );
    assert_eq!(d.records.len(), 2);
    assert!(d.errors.is_empty());
    // The IPv4 record learns its service by DHCP; the IPv6 one names it: the known one wins.
    match choose_endpoint(&d.records) {
        Some(Endpoint::Address {
            handle,
            address,
            needs_scope,
            ..
        }) => {
            assert_eq!(handle, 0x41);
            assert_eq!(address.to_string(), "fe80::9");
            assert!(needs_scope);
        }
        other => panic!("unexpected endpoint {other:?}"),
    }
}

#[test]
fn kcs_beside_network_is_named_not_decoded() {
    let kcs = type42(
        0x50,
        0x02,
        &[1, 0, 0xa2, 0x0c, 0, 0, 0, 0],
        &[vec![0x02, 0x00]],
        &[],
    );
    let v = json_of(3, 3, &[kcs, usb_net(0x51, &[Rf::default().bytes()])]);
    assert_eq!(
        v["records"][0],
        json!({"handle": 0x50, "interface_type": "kcs", "device": null, "protocols": []})
    );
    assert_eq!(v["records"][1]["interface_type"], "network");
    assert_eq!(v["endpoint"]["handle"], 0x51);
}

#[test]
fn entry_point_32bit_sm() {
    let t = table(&[usb_net(0x60, &[Rf::default().bytes()])]);
    let d = decode(&raw(ep32(3, 2, t.len(), 4), t)).expect("decodes");
    assert_eq!(d.version(), "3.2");
    assert!(
        d.entry_point.warnings.is_empty(),
        "{:?}",
        d.entry_point.warnings
    );
    assert_eq!(d.entry_point.structure_count, Some(4));
    assert_eq!(d.records.len(), 1);
    assert!(d.records[0].note.is_none());
}

#[test]
fn entry_point_32bit_old_version_is_legacy() {
    let t = table(&[usb_net(0x60, &[Rf::default().bytes()])]);
    let report = discover_report(&MemorySource(raw(ep32(2, 8, t.len(), 4), t)));
    let v = report.decode_json();
    assert_eq!(v["smbios_version"], "2.8");
    assert_eq!(v["records"][0]["note"], LEGACY_NOTE);
    assert_eq!(v["records"][0]["protocols"], json!([]));
    assert!(report.endpoint.is_none(), "no guessing on pre-3.2 layouts");
}

#[test]
fn bad_checksum_warns_and_goes_on() {
    let t = table(&[usb_net(0x60, &[Rf::default().bytes()])]);
    let mut ep = ep64(3, 3, t.len());
    ep[5] = ep[5].wrapping_add(1);
    let d = decode(&raw(ep, t)).expect("decodes despite checksum");
    assert_eq!(d.records.len(), 1);
    assert_eq!(
        d.entry_point.warnings.len(),
        1,
        "{:?}",
        d.entry_point.warnings
    );
    assert!(d.entry_point.warnings[0].contains("checksum"));
}

#[test]
fn unknown_anchor_is_an_error_with_null_version() {
    let report = discover_report(&MemorySource(raw(
        b"_XX_ nothing here".to_vec(),
        table(&[]),
    )));
    assert!(!report.ok());
    assert_eq!(
        report.decode_json(),
        json!({"error": "the entry point has neither the _SM_ nor the _SM3_ anchor", "smbios_version": null})
    );
}

#[test]
fn oem_device_type_keeps_iana_and_data() {
    let mut data = vec![0x85];
    data.extend(11u32.to_le_bytes()); // IANA 11: Hewlett-Packard
    data.extend([0xde, 0xad]);
    let v = json_of(
        3,
        3,
        &[type42(0x70, 0x40, &data, &[Rf::default().bytes()], &[])],
    );
    assert_eq!(
        v["records"][0]["device"],
        json!({"type": "oem", "device_type": 0x85, "iana": 11, "data": "dead"})
    );
    assert_eq!(
        v["records"][0]["protocols"][0]["service_address"],
        "10.0.0.1"
    );
}

#[test]
fn usb_v1_serial_is_utf16_with_trailing_nuls_stripped() {
    let serial: Vec<u16> = "SN-Äß7\0".encode_utf16().collect();
    let v = json_of(
        3,
        3,
        &[type42(
            0x71,
            0x40,
            &usb_v1(0x046b, 0xffb0, &serial),
            &[Rf::default().bytes()],
            &[],
        )],
    );
    assert_eq!(
        v["records"][0]["device"],
        json!({"type": "usb", "vendor_id": "046b", "product_id": "ffb0", "serial": "SN-Äß7"})
    );
}

#[test]
fn usb_v1_without_serial_descriptor() {
    // Only idVendor/idProduct (the malformed-protocol-overrun fixture has this 5-byte form too).
    let data = [0x02, 0x34, 0x12, 0x78, 0x56];
    let v = json_of(
        3,
        3,
        &[type42(0x72, 0x40, &data, &[Rf::default().bytes()], &[])],
    );
    assert_eq!(v["records"][0]["device"]["serial"], Value::Null);
    assert_eq!(v["records"][0]["device"]["vendor_id"], "1234");
}

#[test]
fn usb_v1_serial_descriptor_overrun_is_an_error() {
    let data = [0x02, 0x34, 0x12, 0x78, 0x56, 0x20, 0x03, 0x41, 0x00];
    let d = decode_v(
        3,
        3,
        &[type42(0x73, 0x40, &data, &[Rf::default().bytes()], &[])],
    );
    assert!(d.records.is_empty());
    assert!(
        matches!(
            d.errors[0],
            SmbiosError::Type42 {
                handle: 0x73,
                fault: Type42Fault::SerialOverrun,
                ..
            }
        ),
        "{:?}",
        d.errors
    );
}

#[test]
fn usb_v2_before_dsp0270_1_3_has_no_bootstrap_fields() {
    let v = json_of(
        3,
        3,
        &[type42(
            0x74,
            0x40,
            &usb_v2(13, 1, &[]),
            &[Rf::default().bytes()],
            &["SER1"],
        )],
    );
    assert_eq!(
        v["records"][0]["device"],
        json!({"type": "usb-v2", "vendor_id": "0525", "product_id": "a4a2", "serial": "SER1", "mac": "4a:b1:c2:d3:e4:f5"})
    );
}

#[test]
fn usb_v2_bootstrap_handle_ffff_is_none() {
    let v = json_of(
        3,
        5,
        &[type42(
            0x75,
            0x40,
            &usb_v2(17, 0, &[0, 0, 0xff, 0xff]),
            &[Rf::default().bytes()],
            &[],
        )],
    );
    let dev = &v["records"][0]["device"];
    assert_eq!(dev["serial"], Value::Null, "string number 0 = no serial");
    assert_eq!(dev["credential_bootstrapping"], false);
    assert_eq!(dev["credential_bootstrapping_handle"], Value::Null);
}

#[test]
fn pci_v2_with_dsp0270_1_3_fields() {
    let mut d = vec![0x05, 24];
    for id in [0x14e4u16, 0x1657, 0x103c, 0x22be] {
        d.extend(id.to_le_bytes());
    }
    d.extend([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
    d.extend(1u16.to_le_bytes()); // segment
    d.push(0x81); // bus
    d.push((0x1c << 3) | 5); // device 1ch, function 5
    d.extend(1u16.to_le_bytes());
    d.extend(0x0026u16.to_le_bytes());
    let v = json_of(
        3,
        6,
        &[type42(0x76, 0x40, &d, &[Rf::default().bytes()], &[])],
    );
    assert_eq!(
        v["records"][0]["device"],
        json!({"type": "pci-v2", "vendor_id": "14e4", "device_id": "1657", "subsystem_vendor_id": "103c",
               "subsystem_id": "22be", "mac": "02:11:22:33:44:55", "segment": 1, "bus": 129, "device": 28,
               "function": 5, "credential_bootstrapping": true, "credential_bootstrapping_handle": 38})
    );
}

#[test]
fn v2_length_byte_past_the_data_is_an_error() {
    let d = decode_v(
        3,
        3,
        &[type42(
            0x77,
            0x40,
            &usb_v2(40, 0, &[]),
            &[Rf::default().bytes()],
            &[],
        )],
    );
    assert!(
        matches!(
            d.errors[0],
            SmbiosError::Type42 {
                fault: Type42Fault::DeviceLengthOverrun,
                ..
            }
        ),
        "{:?}",
        d.errors
    );
}

#[test]
fn vlan_zero_and_all_ones_are_untagged() {
    for (vlan, want) in [
        (0u32, Value::Null),
        (0xffff_ffff, Value::Null),
        (7, json!(7)),
        (4094, json!(4094)),
    ] {
        let rf = Rf {
            vlan,
            ..Rf::default()
        };
        let v = json_of(3, 3, &[usb_net(0x80, &[rf.bytes()])]);
        assert_eq!(
            v["records"][0]["protocols"][0]["vlan_id"], want,
            "vlan {vlan:#x}"
        );
    }
}

#[test]
fn hostname_empty_nul_terminated_and_ip_literal() {
    for (raw, want) in [
        (&b""[..], Value::Null),
        (b"\0", Value::Null),
        (b"legoc1\0", json!("legoc1")),
        (b"bmc\0\0\0", json!("bmc")),
        (b"169.254.3.254", json!("169.254.3.254")),
    ] {
        let rf = Rf {
            hostname: raw.to_vec(),
            ..Rf::default()
        };
        let v = json_of(3, 3, &[usb_net(0x81, &[rf.bytes()])]);
        assert_eq!(v["records"][0]["protocols"][0]["hostname"], want, "{raw:?}");
    }
}

#[test]
fn uuid_smbios_byte_order_zero_and_shared() {
    let uuid = [
        0x2c, 0x1a, 0x8e, 0x3b, 0x4f, 0x5d, 0x6b, 0x4a, 0x8c, 0x9d, 0x0e, 0x1f, 0x2a, 0x3b, 0x4c,
        0x5d,
    ];
    let shared = Rf {
        uuid,
        ..Rf::default()
    };
    let zero = Rf {
        uuid: [0; 16],
        ..Rf::default()
    };
    let v = json_of(
        3,
        3,
        &[
            usb_net(0x82, &[shared.bytes()]),
            usb_net(0x83, &[shared.bytes()]),
            usb_net(0x84, &[zero.bytes()]),
        ],
    );
    let uuid_of = |i: usize| v["records"][i]["protocols"][0]["service_uuid"].clone();
    assert_eq!(uuid_of(0), "3b8e1a2c-5d4f-4a6b-8c9d-0e1f2a3b4c5d");
    assert_eq!(
        uuid_of(1),
        uuid_of(0),
        "a shared UUID is kept, not treated as an error"
    );
    assert_eq!(uuid_of(2), "00000000-0000-0000-0000-000000000000");
}

#[test]
fn dhcp_host_with_static_service() {
    let rf = Rf {
        host: (2, 1, "10.9.9.9", "255.0.0.0"),
        ..Rf::default()
    };
    let v = json_of(3, 3, &[usb_net(0x85, &[rf.bytes()])]);
    let p = &v["records"][0]["protocols"][0];
    assert_eq!(p["host_ip_assignment"], "dhcp");
    assert_eq!(
        p["host_address"],
        Value::Null,
        "DSP0270: the host fields are for Static/AutoConfigure only"
    );
    assert_eq!(p["service_address"], "10.0.0.1");
    assert_eq!(v["endpoint"]["url"], "https://10.0.0.1:443");
}

#[test]
fn malformed_structure_does_not_stop_the_others() {
    let bad = Rf {
        hostname: b"bmc".to_vec(),
        ..Rf::default()
    };
    let mut bad_bytes = bad.bytes();
    let len_at = 2 + 90;
    bad_bytes[len_at] = 60; // hostname length past the record
    let good = Rf {
        service: (1, 1, "10.7.7.1", "255.255.255.0"),
        ..Rf::default()
    };
    let t = table(&[usb_net(0x90, &[bad_bytes]), usb_net(0x91, &[good.bytes()])]);
    let report = discover_report(&MemorySource(raw(ep64(3, 3, t.len()), t)));
    let d = report.decode.as_ref().expect("decode");
    assert_eq!(d.records.len(), 1);
    assert_eq!(d.records[0].handle, 0x91);
    assert_eq!(report.errors.len(), 1);
    let text = report.errors[0].to_string();
    assert!(
        text.contains("handle 0x0090") && text.contains("hostname length"),
        "{text}"
    );
    assert_eq!(
        report.decode_json()["error"],
        "the hostname length runs past the protocol record"
    );
    assert_eq!(
        report.endpoint.as_ref().and_then(Endpoint::url).as_deref(),
        Some("https://10.7.7.1:443")
    );
}

#[test]
fn redfish_record_shorter_than_fixed_part() {
    let short = vec![0x04, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let d = decode_v(3, 3, &[usb_net(0x92, &[short])]);
    assert!(
        matches!(
            d.errors[0],
            SmbiosError::Type42 {
                fault: Type42Fault::RedfishRecordTooShort,
                ..
            }
        ),
        "{:?}",
        d.errors
    );
}

#[test]
fn other_interface_and_device_types_are_named() {
    let uart = type42(0x93, 0x05, &[0; 4], &[], &[]);
    let reserved_dev = type42(0x94, 0x40, &[0x07, 1, 2], &[], &[]);
    let v = json_of(3, 3, &[uart, reserved_dev]);
    assert_eq!(v["records"][0]["interface_type"], "16550-uart");
    assert_eq!(
        v["records"][1]["device"],
        json!({"type": "reserved", "device_type": 7, "data": "0102"})
    );
    assert_eq!(v["endpoint"], Value::Null);
}

/// A USB v1 description whose serial-number "descriptor" is not a USB string descriptor.
fn usb_v1_with_descriptor(descriptor: &[u8]) -> Vec<u8> {
    let mut d = vec![0x02, 0x6b, 0x04, 0xb0, 0xff];
    d.extend_from_slice(descriptor);
    d
}

/// Decodes `bad` (handle 0x74, first in the table) next to a good record (0x75) and checks
/// that the bad one is an error naming its handle, the byte and the fault, that the good one
/// still decodes and is the endpoint, and that no record (so no NIC match) comes from 0x74.
fn assert_bad_serial_descriptor(bad: &[u8], fault: Type42Fault, byte: usize, words: &str) {
    let good = Rf {
        service: (1, 1, "10.7.7.2", "255.255.255.0"),
        ..Rf::default()
    };
    let t = table(&[
        type42(0x74, 0x40, bad, &[Rf::default().bytes()], &[]),
        usb_net(0x75, &[good.bytes()]),
    ]);
    let report = discover_report(&MemorySource(raw(ep64(3, 3, t.len()), t)));
    let d = report.decode.as_ref().expect("decode");
    let handles: Vec<u16> = d.records.iter().map(|r| r.handle).collect();
    assert_eq!(handles, vec![0x75], "the malformed record is not used");
    assert!(
        matches!(
            report.errors.as_slice(),
            [SmbiosError::Type42 { handle: 0x74, offset, fault: f, .. }] if *offset == byte && *f == fault
        ),
        "{:?}",
        report.errors
    );
    let text = report.errors[0].to_string();
    assert!(
        text.contains("handle 0x0074")
            && text.contains(&format!("byte {byte} "))
            && text.contains(words),
        "{text}"
    );
    assert_eq!(
        report.endpoint.as_ref().and_then(Endpoint::url).as_deref(),
        Some("https://10.7.7.2:443")
    );
}

#[test]
fn usb_v1_serial_descriptor_of_another_type_is_an_error() {
    // bLength 5 (odd), bDescriptorType 07h, "A\0" and a stray byte: once decoded as serial "A".
    // The structure starts at table offset 0: its data at 6, the descriptor at 11, its type at 12.
    let bad = usb_v1_with_descriptor(&[0x05, 0x07, 0x41, 0x00, 0x42]);
    assert_bad_serial_descriptor(&bad, Type42Fault::SerialDescriptorType(0x07), 12, "07h");
}

#[test]
fn usb_v1_serial_descriptor_of_odd_length_is_an_error() {
    let bad = usb_v1_with_descriptor(&[0x05, 0x03, 0x41, 0x00, 0x42]);
    assert_bad_serial_descriptor(&bad, Type42Fault::SerialDescriptorOddLength(5), 11, "odd");
}

#[test]
fn usb_v1_serial_descriptor_shorter_than_its_header_is_an_error() {
    let bad = usb_v1_with_descriptor(&[0x01, 0x03]);
    assert_bad_serial_descriptor(&bad, Type42Fault::SerialDescriptorOddLength(1), 11, "odd");
}
