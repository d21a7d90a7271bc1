//! DSP0270 §7.3 device descriptions: the interface-specific data of a network (40h) host
//! interface. `data[0]` is the device type; errors carry the offset inside `data`.

use super::bytes::{array_at, slice_at, u16_at, u32_at, u8_at};
use super::error::Type42Fault;
use super::model::{Bootstrap, Device, PciIds};
use super::table::Structure;

/// A fault and the offset inside the interface-specific data where it was found.
pub(crate) type DeviceFault = (usize, Type42Fault);

/// Decodes the interface-specific data of a network host interface.
pub(crate) fn decode_device(data: &[u8], s: &Structure<'_>) -> Result<Device, DeviceFault> {
    let device_type = u8_at(data, 0).ok_or((0, Type42Fault::MissingDeviceType))?;
    let body = data.get(1..).unwrap_or_default();
    match device_type {
        0x02 => usb_v1(body).map_err(shift),
        0x03 => pci_ids(body, 0)
            .map(Device::Pci)
            .ok_or((1, Type42Fault::DeviceTooShort)),
        0x04 => usb_v2(data, s),
        0x05 => pci_v2(data),
        0x80..=0xff => {
            let iana = u32_at(body, 0).ok_or((1, Type42Fault::DeviceTooShort))?;
            let data = body.get(4..).unwrap_or_default().to_vec();
            Ok(Device::Oem {
                device_type,
                iana,
                data,
            })
        }
        _ => Ok(Device::Reserved {
            device_type,
            data: body.to_vec(),
        }),
    }
}

fn shift((at, fault): DeviceFault) -> DeviceFault {
    (at + 1, fault)
}

/// 02h: idVendor, idProduct, then a USB string descriptor (bLength, bDescriptorType 03h,
/// UTF-16LE text) holding the serial number.
fn usb_v1(body: &[u8]) -> Result<Device, DeviceFault> {
    let vendor_id = u16_at(body, 0).ok_or((0, Type42Fault::DeviceTooShort))?;
    let product_id = u16_at(body, 2).ok_or((2, Type42Fault::DeviceTooShort))?;
    let serial = match u8_at(body, 4) {
        // NOTE(hpe, dell): iLO and iDRAC publish an empty descriptor (02h 03h): no serial.
        None | Some(0) => None,
        Some(b_length) => utf16_text(string_descriptor(body, b_length)?),
    };
    Ok(Device::Usb {
        vendor_id,
        product_id,
        serial,
    })
}

/// The text of the USB string descriptor at body offset 4 (USB 2.0 §9.6.7): bLength counts
/// the 2-byte header, bDescriptorType is 03h, then UTF-16LE units. Anything else is refused
/// rather than read as text: a wrong serial would match the wrong NIC.
fn string_descriptor(body: &[u8], b_length: u8) -> Result<&[u8], DeviceFault> {
    let descriptor =
        slice_at(body, 4, usize::from(b_length)).ok_or((4, Type42Fault::SerialOverrun))?;
    match u8_at(descriptor, 1) {
        Some(0x03) | None => {}
        Some(other) => return Err((5, Type42Fault::SerialDescriptorType(other))),
    }
    if b_length < 2 || b_length % 2 != 0 {
        return Err((4, Type42Fault::SerialDescriptorOddLength(b_length)));
    }
    Ok(descriptor.get(2..).unwrap_or_default())
}

fn utf16_text(bytes: &[u8]) -> Option<String> {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| {
            u16::from_le_bytes([
                c.first().copied().unwrap_or(0),
                c.last().copied().unwrap_or(0),
            ])
        })
        .collect();
    non_empty(String::from_utf16_lossy(&units))
}

/// Strips trailing NULs; `None` when nothing is left.
pub(crate) fn non_empty(text: String) -> Option<String> {
    let trimmed = text.trim_end_matches('\0');
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

fn pci_ids(b: &[u8], at: usize) -> Option<PciIds> {
    Some(PciIds {
        vendor_id: u16_at(b, at)?,
        device_id: u16_at(b, at + 2)?,
        subsystem_vendor_id: u16_at(b, at + 4)?,
        subsystem_id: u16_at(b, at + 6)?,
    })
}

/// The v2 descriptions start with their own length (counting the device type byte); the
/// DSP0270 1.3 fields (characteristics, bootstrapping handle) are there when it is long enough.
fn v2_description(data: &[u8], minimum: usize) -> Result<&[u8], DeviceFault> {
    let len = usize::from(u8_at(data, 1).ok_or((1, Type42Fault::DeviceTooShort))?);
    if len < minimum {
        return Err((1, Type42Fault::DeviceTooShort));
    }
    data.get(..len).ok_or((1, Type42Fault::DeviceLengthOverrun))
}

fn bootstrap(d: &[u8], at: usize) -> Option<Bootstrap> {
    let characteristics = u16_at(d, at)?;
    let handle = u16_at(d, at + 2)?;
    Some(Bootstrap {
        supported: characteristics & 1 != 0,
        characteristics,
        handle: (handle != 0xffff).then_some(handle),
    })
}

/// 04h: length, idVendor, idProduct, serial-number string number, MAC, [1.3: characteristics,
/// credential bootstrapping handle].
fn usb_v2(data: &[u8], s: &Structure<'_>) -> Result<Device, DeviceFault> {
    let d = v2_description(data, 13)?;
    let short = (1, Type42Fault::DeviceTooShort);
    Ok(Device::UsbV2 {
        vendor_id: u16_at(d, 2).ok_or(short)?,
        product_id: u16_at(d, 4).ok_or(short)?,
        serial: u8_at(d, 6).and_then(|n| s.string(n)).and_then(non_empty),
        mac: array_at::<6>(d, 7).ok_or(short)?,
        bootstrap: bootstrap(d, 13),
    })
}

/// 05h: length, PCI IDs, MAC, segment group, bus, device/function (bits 7:3 device, 2:0
/// function), [1.3: characteristics, credential bootstrapping handle].
fn pci_v2(data: &[u8]) -> Result<Device, DeviceFault> {
    let d = v2_description(data, 20)?;
    let short = (1, Type42Fault::DeviceTooShort);
    let devfn = u8_at(d, 19).ok_or(short)?;
    Ok(Device::PciV2 {
        ids: pci_ids(d, 2).ok_or(short)?,
        mac: array_at::<6>(d, 10).ok_or(short)?,
        segment: u16_at(d, 16).ok_or(short)?,
        bus: u8_at(d, 18).ok_or(short)?,
        device: devfn >> 3,
        function: devfn & 0x07,
        bootstrap: bootstrap(d, 20),
    })
}
