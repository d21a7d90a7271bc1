//! The JSON form of the decode: exactly the schema of the SMBIOS fixtures' `expected.json`
//! (field names after DSP0270, addresses as text, IDs as 4-digit lower-case hex).

use serde_json::{json, Map, Value};

use super::bytes::hex;
use super::model::{Bootstrap, Device, HostInterface, PciIds, Protocol, RedfishOverIp};
use super::protocol::protocol_name;

pub fn record_json(r: &HostInterface) -> Value {
    let mut v = json!({
        "handle": r.handle,
        "interface_type": r.interface_type.name(),
        "device": r.device.as_ref().map(device_json),
        "protocols": r.protocols.iter().map(protocol_json).collect::<Vec<_>>(),
    });
    if let (Some(note), Some(m)) = (r.note, v.as_object_mut()) {
        m.insert("note".into(), note.into());
    }
    v
}

fn id(x: u16) -> Value {
    format!("{x:04x}").into()
}

pub fn mac_text(mac: &[u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn pci_fields(m: &mut Map<String, Value>, ids: &PciIds) {
    m.insert("vendor_id".into(), id(ids.vendor_id));
    m.insert("device_id".into(), id(ids.device_id));
    m.insert("subsystem_vendor_id".into(), id(ids.subsystem_vendor_id));
    m.insert("subsystem_id".into(), id(ids.subsystem_id));
}

fn bootstrap_fields(m: &mut Map<String, Value>, b: &Option<Bootstrap>) {
    if let Some(b) = b {
        m.insert("credential_bootstrapping".into(), b.supported.into());
        m.insert("credential_bootstrapping_handle".into(), b.handle.into());
    }
}

pub fn device_json(d: &Device) -> Value {
    let mut m = Map::new();
    match d {
        Device::Usb {
            vendor_id,
            product_id,
            serial,
        } => {
            m.insert("type".into(), "usb".into());
            m.insert("vendor_id".into(), id(*vendor_id));
            m.insert("product_id".into(), id(*product_id));
            m.insert("serial".into(), serial.clone().into());
        }
        Device::Pci(ids) => {
            m.insert("type".into(), "pci".into());
            pci_fields(&mut m, ids);
        }
        Device::UsbV2 {
            vendor_id,
            product_id,
            serial,
            mac,
            bootstrap,
        } => {
            m.insert("type".into(), "usb-v2".into());
            m.insert("vendor_id".into(), id(*vendor_id));
            m.insert("product_id".into(), id(*product_id));
            m.insert("serial".into(), serial.clone().into());
            m.insert("mac".into(), mac_text(mac).into());
            bootstrap_fields(&mut m, bootstrap);
        }
        Device::PciV2 {
            ids,
            mac,
            segment,
            bus,
            device,
            function,
            bootstrap,
        } => {
            m.insert("type".into(), "pci-v2".into());
            pci_fields(&mut m, ids);
            m.insert("mac".into(), mac_text(mac).into());
            m.insert("segment".into(), (*segment).into());
            m.insert("bus".into(), (*bus).into());
            m.insert("device".into(), (*device).into());
            m.insert("function".into(), (*function).into());
            bootstrap_fields(&mut m, bootstrap);
        }
        Device::Oem {
            device_type,
            iana,
            data,
        } => {
            m.insert("type".into(), "oem".into());
            m.insert("device_type".into(), (*device_type).into());
            m.insert("iana".into(), (*iana).into());
            m.insert("data".into(), hex(data).into());
        }
        Device::Reserved { device_type, data } => {
            m.insert("type".into(), "reserved".into());
            m.insert("device_type".into(), (*device_type).into());
            m.insert("data".into(), hex(data).into());
        }
    }
    Value::Object(m)
}

pub fn protocol_json(p: &Protocol) -> Value {
    match p {
        Protocol::RedfishOverIp(r) => redfish_json(r),
        Protocol::Other {
            protocol_type,
            data,
        } => json!({
            "protocol": protocol_name(*protocol_type),
            "protocol_type": protocol_type,
            "data": hex(data),
        }),
    }
}

fn text<T: ToString>(x: &Option<T>) -> Value {
    x.as_ref().map(|a| a.to_string()).into()
}

fn redfish_json(r: &RedfishOverIp) -> Value {
    json!({
        "protocol": "redfish-over-ip",
        "service_uuid": r.service_uuid,
        "host_ip_assignment": r.host_ip_assignment.name(),
        "host_ip_format": r.host_ip_format.name(),
        "host_address": text(&r.host_address),
        "host_mask": text(&r.host_mask),
        "service_ip_discovery": r.service_ip_discovery.name(),
        "service_ip_format": r.service_ip_format.name(),
        "service_address": text(&r.service_address),
        "service_mask": text(&r.service_mask),
        "service_port": r.service_port,
        "vlan_id": r.vlan_id,
        "hostname": r.hostname,
    })
}
