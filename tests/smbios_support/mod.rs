//! A small SMBIOS table builder for the smbios_* tests: entry points with correct checksums,
//! structures with string sets, type 42 records and Redfish-over-IP protocol records.
#![allow(dead_code)]

use std::net::IpAddr;

use hostagent::discovery::smbios::{
    decode, discover_report, MemorySource, RawTables, SmbiosDecode,
};
use serde_json::Value;

pub fn checksum_fix(b: &mut [u8], at: usize, range: std::ops::Range<usize>) {
    b[at] = 0;
    let sum = b[range].iter().fold(0u8, |a, x| a.wrapping_add(*x));
    b[at] = 0u8.wrapping_sub(sum);
}

/// `_SM3_` entry point for SMBIOS `major.minor`.
pub fn ep64(major: u8, minor: u8, table_len: usize) -> Vec<u8> {
    let mut b = vec![0u8; 24];
    b[..5].copy_from_slice(b"_SM3_");
    b[6] = 24;
    b[7] = major;
    b[8] = minor;
    b[10] = 1;
    b[12..16].copy_from_slice(&(table_len as u32).to_le_bytes());
    b[16..24].copy_from_slice(&0x000f_0000u64.to_le_bytes());
    checksum_fix(&mut b, 5, 0..24);
    b
}

/// `_SM_` (32-bit) entry point with its `_DMI_` intermediate part.
pub fn ep32(major: u8, minor: u8, table_len: usize, count: u16) -> Vec<u8> {
    let mut b = vec![0u8; 31];
    b[..4].copy_from_slice(b"_SM_");
    b[5] = 31;
    b[6] = major;
    b[7] = minor;
    b[8..10].copy_from_slice(&0x100u16.to_le_bytes());
    b[16..21].copy_from_slice(b"_DMI_");
    b[22..24].copy_from_slice(&(table_len as u16).to_le_bytes());
    b[24..28].copy_from_slice(&0x000f_0000u32.to_le_bytes());
    b[28..30].copy_from_slice(&count.to_le_bytes());
    b[30] = (major << 4) | minor;
    checksum_fix(&mut b, 21, 16..31);
    checksum_fix(&mut b, 4, 0..31);
    b
}

pub fn structure(kind: u8, handle: u16, body: &[u8], strings: &[&str]) -> Vec<u8> {
    let mut b = vec![kind, (4 + body.len()) as u8];
    b.extend_from_slice(&handle.to_le_bytes());
    b.extend_from_slice(body);
    if strings.is_empty() {
        b.extend_from_slice(&[0, 0]);
    } else {
        for s in strings {
            b.extend_from_slice(s.as_bytes());
            b.push(0);
        }
        b.push(0);
    }
    b
}

/// A 3.2+ type 42 structure.
pub fn type42(
    handle: u16,
    interface_type: u8,
    data: &[u8],
    protocols: &[Vec<u8>],
    strings: &[&str],
) -> Vec<u8> {
    let mut body = vec![interface_type, data.len() as u8];
    body.extend_from_slice(data);
    body.push(protocols.len() as u8);
    for p in protocols {
        body.extend_from_slice(p);
    }
    structure(42, handle, &body, strings)
}

pub fn table(structures: &[Vec<u8>]) -> Vec<u8> {
    let mut t: Vec<u8> = structures.concat();
    t.extend(structure(
        0,
        0x0000,
        &[1, 2, 0xf0, 0x00, 3, 0xff, 0, 0, 0, 0, 0, 0, 0, 0],
        &["Vendor", "1.0"],
    ));
    t.extend(structure(127, 0xfeff, &[], &[]));
    t
}

pub fn ip16(a: IpAddr) -> [u8; 16] {
    let mut b = [0u8; 16];
    match a {
        IpAddr::V4(v4) => b[..4].copy_from_slice(&v4.octets()),
        IpAddr::V6(v6) => b = v6.octets(),
    }
    b
}

/// A Redfish-over-IP protocol record (type 04h).
#[derive(Clone)]
pub struct Rf {
    pub uuid: [u8; 16],
    pub host: (u8, u8, &'static str, &'static str),
    pub service: (u8, u8, &'static str, &'static str),
    pub port: u16,
    pub vlan: u32,
    pub hostname: Vec<u8>,
}

impl Default for Rf {
    fn default() -> Self {
        Rf {
            uuid: [0x11; 16],
            host: (1, 1, "10.0.0.2", "255.255.255.0"),
            service: (1, 1, "10.0.0.1", "255.255.255.0"),
            port: 443,
            vlan: 0,
            hostname: b"bmc".to_vec(),
        }
    }
}

pub fn addr(s: &str) -> [u8; 16] {
    if s.is_empty() {
        [0; 16]
    } else {
        ip16(s.parse().expect("address"))
    }
}

impl Rf {
    pub fn bytes(&self) -> Vec<u8> {
        let mut d = self.uuid.to_vec();
        // DSP0270 order: assignment, format, address, mask; host first, then service.
        for (how, fmt, a, m) in [self.host, self.service] {
            d.extend([how, fmt]);
            d.extend(addr(a));
            d.extend(addr(m));
        }
        d.extend(self.port.to_le_bytes());
        d.extend(self.vlan.to_le_bytes());
        d.push(self.hostname.len() as u8);
        d.extend(&self.hostname);
        let mut p = vec![0x04, d.len() as u8];
        p.extend(d);
        p
    }
}

pub fn usb_v1(vid: u16, pid: u16, serial_utf16: &[u16]) -> Vec<u8> {
    let mut d = vec![0x02];
    d.extend(vid.to_le_bytes());
    d.extend(pid.to_le_bytes());
    d.push((2 + serial_utf16.len() * 2) as u8);
    d.push(0x03);
    for u in serial_utf16 {
        d.extend(u.to_le_bytes());
    }
    d
}

pub fn raw(ep: Vec<u8>, t: Vec<u8>) -> RawTables {
    RawTables {
        entry_point: ep,
        table: t,
    }
}

pub fn decode_v(major: u8, minor: u8, structures: &[Vec<u8>]) -> SmbiosDecode {
    let t = table(structures);
    decode(&raw(ep64(major, minor, t.len()), t)).expect("entry point decodes")
}

pub fn json_of(major: u8, minor: u8, structures: &[Vec<u8>]) -> Value {
    let t = table(structures);
    discover_report(&MemorySource(raw(ep64(major, minor, t.len()), t))).to_json()
}

pub fn usb_net(handle: u16, protocols: &[Vec<u8>]) -> Vec<u8> {
    type42(handle, 0x40, &usb_v1(0x03f0, 0x2927, &[]), protocols, &[])
}

pub fn usb_v2(len: u8, serial_index: u8, tail: &[u8]) -> Vec<u8> {
    let mut d = vec![0x04, len];
    d.extend(0x0525u16.to_le_bytes());
    d.extend(0xa4a2u16.to_le_bytes());
    d.push(serial_index);
    d.extend([0x4a, 0xb1, 0xc2, 0xd3, 0xe4, 0xf5]);
    d.extend(tail);
    d
}
