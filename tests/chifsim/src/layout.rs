//! The packet layout and sizes of HPE's CHIF library, as measured on the real
//! `ilorest_chif.so` 7.4 (tests/fixtures/chif/). Every request starts with a 12-byte header:
//! u16 length, u16 sequence, u32 0x11C, u32 blobstore command.

pub const MAX_BUFFER: usize = 4096;
pub const MAX_READ: usize = 4000;
pub const MAX_WRITE: usize = 3500;

pub const HEADER: usize = 12;
pub const NS_LEN: usize = 16;
pub const KEY_LEN: usize = 32;

pub const REST_IMMEDIATE_REQ: usize = 68;
pub const REST_BLOB_REQ: usize = 116;
pub const REST_RESPONSE_FIXED: usize = 20;
pub const REST_RESPONSE: usize = 4020;
pub const RESPONSE_HEADER_BLOB: usize = 12;
pub const CREATE_REQ: usize = 492;
pub const CREATE_RSP: usize = 16;
pub const WRITE_REQ: usize = 196;
pub const WRITE_RSP: usize = 12;
pub const READ_REQ: usize = 132;
pub const READ_RSP: usize = 4000;
pub const INFO_REQ: usize = 60;
pub const INFO_RSP: usize = 384;
pub const DELETE_REQ: usize = 124;
pub const DELETE_RSP: usize = 16;
pub const FINALIZE_REQ: usize = 124;
pub const FINALIZE_RSP: usize = 16;
pub const LIST_REQ: usize = 41;
pub const LIST_RSP: usize = 4000;
pub const LIST_RSP_FIXED: usize = 44;
pub const CREDENTIALS_BUFFER: usize = 128;
pub const SECURITY_STATE_REQ: usize = 8;
pub const SECURITY_STATE_RSP: usize = 100;

/// Bytes 4..8 of every request packet.
pub const SERVICE: u32 = 0x11C;

pub const CMD_CREATE: u32 = 1;
pub const CMD_WRITE: u32 = 2;
pub const CMD_INFO: u32 = 3;
pub const CMD_READ: u32 = 4;
pub const CMD_DELETE: u32 = 5;
pub const CMD_FINALIZE: u32 = 6;
pub const CMD_REST: u32 = 7;

/// Blobstore status codes (risblobstore2.py `BlobReturnCodes`).
pub const ST_SUCCESS: u32 = 0;
pub const ST_BADPARAMETER: u32 = 2;
pub const ST_NOTFOUND: u32 = 12;

pub fn put_u16(buf: &mut [u8], at: usize, v: u16) {
    buf[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

pub fn put_u32(buf: &mut [u8], at: usize, v: u32) {
    buf[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

pub fn get_u16(buf: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([buf[at], buf[at + 1]])
}

pub fn get_u32(buf: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]])
}

/// Copies `s` into a fixed NUL-padded field, truncating like the real library (no terminator
/// when the field is full).
pub fn put_str(buf: &mut [u8], at: usize, width: usize, s: &[u8]) {
    let n = s.len().min(width);
    buf[at..at + n].copy_from_slice(&s[..n]);
    buf[at + n..at + width].fill(0);
}

/// Reads a NUL-padded field back.
pub fn get_str(buf: &[u8], at: usize, width: usize) -> Vec<u8> {
    let field = &buf[at..at + width];
    let end = field.iter().position(|&b| b == 0).unwrap_or(width);
    field[..end].to_vec()
}
