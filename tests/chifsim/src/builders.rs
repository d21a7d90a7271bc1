//! The packet builders: byte-identical to the real library's (except the random sequence).
//! Like the real library they return a pointer to a library-owned buffer that the next call
//! overwrites (here one buffer per thread).

use std::cell::RefCell;
use std::ffi::{c_char, CStr};

use crate::layout::*;

thread_local! {
    static PACKET: RefCell<Box<[u8; MAX_BUFFER]>> = RefCell::new(Box::new([0; MAX_BUFFER]));
}

/// Bytes of a C string argument; a null pointer reads as empty.
fn arg(p: *const c_char) -> Vec<u8> {
    if p.is_null() {
        return Vec::new();
    }
    // SAFETY: the caller passes a NUL-terminated string, as with the real library.
    unsafe { CStr::from_ptr(p) }.to_bytes().to_vec()
}

/// Clears the thread's packet buffer, lets `fill` write it, returns its address.
fn build(length: usize, command: u32, fill: impl FnOnce(&mut [u8])) -> *const u8 {
    PACKET.with(|cell| {
        let mut buf = cell.borrow_mut();
        buf.fill(0);
        put_u16(&mut buf[..], 0, length as u16);
        put_u16(&mut buf[..], 2, rand::random::<u16>());
        put_u32(&mut buf[..], 4, SERVICE);
        put_u32(&mut buf[..], 8, command);
        fill(&mut buf[..]);
        buf.as_ptr()
    })
}

fn ns_key(buf: &mut [u8], at: usize, ns: &[u8], key: &[u8]) {
    put_str(buf, at, NS_LEN, ns);
    put_str(buf, at + NS_LEN, KEY_LEN, key);
}

#[no_mangle]
pub extern "C" fn rest_immediate(len: u32, rsp_key: *const c_char, ns: *const c_char) -> *const u8 {
    let (key, ns) = (arg(rsp_key), arg(ns));
    build(REST_IMMEDIATE_REQ + len as usize, CMD_REST, |b| {
        put_u32(b, 12, 0);
        ns_key(b, 16, &ns, &key);
        put_u32(b, 64, len);
    })
}

#[no_mangle]
pub extern "C" fn rest_immediate_blobdesc(
    req_key: *const c_char,
    rsp_key: *const c_char,
    ns: *const c_char,
) -> *const u8 {
    let (req, rsp, ns) = (arg(req_key), arg(rsp_key), arg(ns));
    build(REST_BLOB_REQ, CMD_REST, |b| {
        put_u32(b, 12, 1);
        ns_key(b, 16, &ns, &rsp);
        ns_key(b, 68, &ns, &req);
    })
}

#[no_mangle]
pub extern "C" fn create_not_blobentry(key: *const c_char, ns: *const c_char) -> *const u8 {
    let (key, ns) = (arg(key), arg(ns));
    build(CREATE_REQ, CMD_CREATE, |b| {
        ns_key(b, 12, &ns, &key);
        // NOTE(vendor): the real library fills the blob entry with these constants
        // (measured: tests/fixtures/chif/real-library-packets.txt).
        put_u32(b, 60, 2);
        put_str(b, 64, 64, b"text/plain");
        put_str(b, 128, 32, b"ascii");
        put_str(b, 160, 64, b"12345");
        put_str(b, 224, 64, b"python");
        put_str(b, 288, 64, b"test data");
    })
}

#[no_mangle]
pub extern "C" fn write_fragment(
    offset: u32,
    count: u32,
    key: *const c_char,
    ns: *const c_char,
) -> *const u8 {
    let (key, ns) = (arg(key), arg(ns));
    build(WRITE_REQ + count as usize, CMD_WRITE, |b| {
        ns_key(b, 12, &ns, &key);
        put_u32(b, 124, offset);
        put_u32(b, 128, count);
    })
}

#[no_mangle]
pub extern "C" fn read_fragment(
    offset: u32,
    count: u32,
    key: *const c_char,
    ns: *const c_char,
) -> *const u8 {
    let (key, ns) = (arg(key), arg(ns));
    // NOTE(vendor): the real library's length field is the request size plus the count asked
    // for, although the packet is only 132 bytes long.
    build(READ_REQ + count as usize, CMD_READ, |b| {
        ns_key(b, 12, &ns, &key);
        put_u32(b, 60, offset);
        put_u32(b, 64, count);
    })
}

#[no_mangle]
pub extern "C" fn get_info(key: *const c_char, ns: *const c_char) -> *const u8 {
    let (key, ns) = (arg(key), arg(ns));
    build(INFO_REQ, CMD_INFO, |b| ns_key(b, 12, &ns, &key))
}

#[no_mangle]
pub extern "C" fn delete_blob(key: *const c_char, ns: *const c_char) -> *const u8 {
    let (key, ns) = (arg(key), arg(ns));
    // NOTE(vendor): length field 64 in a 124-byte packet, as the real library builds it.
    build(64, CMD_DELETE, |b| ns_key(b, 12, &ns, &key))
}

#[no_mangle]
pub extern "C" fn finalize_blob(key: *const c_char, ns: *const c_char) -> *const u8 {
    let (key, ns) = (arg(key), arg(ns));
    build(64, CMD_FINALIZE, |b| ns_key(b, 12, &ns, &key))
}

/// The real library seeds its sequence numbers with this; chifsim draws them at random anyway.
#[no_mangle]
pub extern "C" fn updaterandval(_seed: u16) {}
