//! DSP0270 §7.4 protocol records, and the Redfish-over-IP record (type 04h) field by field.
//! Offsets in errors are relative to the structure's formatted area.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::bytes::{array_at, slice_at, u16_at, u32_at, u8_at};
use super::device::non_empty;
use super::error::Type42Fault;
use super::model::{Assignment, IpFormat, Protocol, RedfishOverIp};

/// Fixed part of a Redfish-over-IP record, up to and including the hostname length byte.
pub const REDFISH_FIXED_LEN: usize = 91;

/// Decodes `count` protocol records starting at `at` in the formatted area `f`.
pub(crate) fn decode_protocols(
    f: &[u8],
    mut at: usize,
    count: u8,
) -> Result<Vec<Protocol>, (usize, Type42Fault)> {
    let mut out = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let (Some(protocol_type), Some(len)) = (u8_at(f, at), u8_at(f, at + 1)) else {
            return Err((at, Type42Fault::ProtocolCount));
        };
        let data =
            slice_at(f, at + 2, usize::from(len)).ok_or((at + 1, Type42Fault::ProtocolOverrun))?;
        let protocol = match protocol_type {
            0x04 => {
                Protocol::RedfishOverIp(redfish_over_ip(data).map_err(|(o, e)| (at + 2 + o, e))?)
            }
            other => Protocol::Other {
                protocol_type: other,
                data: data.to_vec(),
            },
        };
        out.push(protocol);
        at += 2 + usize::from(len);
    }
    Ok(out)
}

/// The name of a protocol type in the JSON output.
pub fn protocol_name(protocol_type: u8) -> &'static str {
    match protocol_type {
        0x02 => "ipmi",
        0x03 => "mctp",
        0x04 => "redfish-over-ip",
        0xf0 => "oem",
        _ => "reserved",
    }
}

fn redfish_over_ip(d: &[u8]) -> Result<RedfishOverIp, (usize, Type42Fault)> {
    let short = (0, Type42Fault::RedfishRecordTooShort);
    if d.len() < REDFISH_FIXED_LEN {
        return Err(short);
    }
    let host_ip_assignment = Assignment::from_byte(u8_at(d, 16).ok_or(short)?);
    let host_ip_format = IpFormat::from_byte(u8_at(d, 17).ok_or(short)?);
    let service_ip_discovery = Assignment::from_byte(u8_at(d, 50).ok_or(short)?);
    let service_ip_format = IpFormat::from_byte(u8_at(d, 51).ok_or(short)?);
    let address = |at: usize, how: Assignment, format: IpFormat| -> Option<IpAddr> {
        ip(array_at::<16>(d, at)?, how, format)
    };
    let hostname_len = usize::from(u8_at(d, 90).ok_or(short)?);
    let hostname =
        slice_at(d, REDFISH_FIXED_LEN, hostname_len).ok_or((90, Type42Fault::HostnameOverrun))?;
    let vlan = u32_at(d, 86).ok_or(short)?;
    Ok(RedfishOverIp {
        service_uuid: smbios_uuid(array_at::<16>(d, 0).ok_or(short)?),
        host_ip_assignment,
        host_ip_format,
        host_address: address(18, host_ip_assignment, host_ip_format),
        host_mask: address(34, host_ip_assignment, host_ip_format),
        service_ip_discovery,
        service_ip_format,
        service_address: address(52, service_ip_discovery, service_ip_format),
        service_mask: address(68, service_ip_discovery, service_ip_format),
        service_port: u16_at(d, 84).ok_or(short)?,
        // NOTE(dell): iDRAC9 writes FFFFFFFFh for "no VLAN", others 0: both mean untagged.
        vlan_id: (vlan != 0 && vlan != 0xffff_ffff).then_some(vlan),
        // NOTE(nvidia): Grace counts the hostname's terminating NUL in its length.
        hostname: non_empty(String::from_utf8_lossy(hostname).into_owned()),
    })
}

/// An address field: IPv4 in the first 4 of the 16 bytes, IPv6 in all 16. `None` when the
/// assignment type does not use the field (DHCP, unknown, host-selected), the format is not
/// IPv4/IPv6, or the field is all zero (firmware leaves it zero when it has nothing to say).
fn ip(raw: [u8; 16], how: Assignment, format: IpFormat) -> Option<IpAddr> {
    if !how.carries_address() || raw == [0; 16] {
        return None;
    }
    match format {
        IpFormat::Ipv4 => {
            let [a, b, c, d, ..] = raw;
            Some(IpAddr::V4(Ipv4Addr::new(a, b, c, d)))
        }
        IpFormat::Ipv6 => Some(IpAddr::V6(Ipv6Addr::from(raw))),
        _ => None,
    }
}

/// SMBIOS UUID text: time_low, time_mid and time_hi_and_version are little-endian in the
/// table (SMBIOS 7.2.1), the rest is in network order.
pub fn smbios_uuid(b: [u8; 16]) -> String {
    let [a0, a1, a2, a3, b0, b1, c0, c1, rest @ ..] = b;
    let tail: String = rest.iter().map(|x| format!("{x:02x}")).collect();
    let (clock, node) = tail.split_at(4);
    format!("{a3:02x}{a2:02x}{a1:02x}{a0:02x}-{b1:02x}{b0:02x}-{c1:02x}{c0:02x}-{clock}-{node}")
}
