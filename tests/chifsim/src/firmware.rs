//! What iLO's firmware does with a CHIF blobstore packet: an in-memory blobstore
//! (create / write / finalize / info / read / delete) and REST command 7, inline or with the
//! request in a blob, answered inline (receive mode 0) or through a response blob (mode 1).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock};

use crate::layout::*;
use crate::state::{log_event, state};

#[derive(Default)]
struct Blob {
    data: Vec<u8>,
    finalized: bool,
}

type Store = HashMap<(Vec<u8>, Vec<u8>), Blob>;

fn store() -> MutexGuard<'static, Store> {
    static STORE: OnceLock<Mutex<Store>> = OnceLock::new();
    let m = STORE.get_or_init(|| Mutex::new(HashMap::new()));
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub fn blob_count() -> usize {
    store().len()
}

/// The fixed part of a request with `command` (bytes 8..12), or None if unknown.
pub fn fixed_size(command: u32) -> Option<usize> {
    match command {
        CMD_REST => Some(REST_IMMEDIATE_REQ),
        CMD_WRITE => Some(WRITE_REQ),
        CMD_CREATE => Some(CREATE_REQ),
        CMD_INFO => Some(INFO_REQ),
        CMD_READ => Some(READ_REQ),
        CMD_DELETE => Some(DELETE_REQ),
        CMD_FINALIZE => Some(FINALIZE_REQ),
        _ => None,
    }
}

/// The whole size of the packet whose fixed part is `head`. The length field is not trusted
/// for this (read requests carry the count there).
pub fn packet_size(head: &[u8]) -> usize {
    match get_u32(head, 8) {
        CMD_REST if get_u32(head, 12) == 1 => REST_BLOB_REQ,
        CMD_REST => REST_IMMEDIATE_REQ + get_u32(head, 64) as usize,
        CMD_WRITE => WRITE_REQ + get_u32(head, 128) as usize,
        _ => head.len(),
    }
}

/// A response: header (length, echoed sequence, service word, status) then `body`.
pub fn reply(req: &[u8], status: u32, body: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; HEADER + body.len()];
    let len = out.len() as u16;
    put_u16(&mut out, 0, len);
    out[2..8].copy_from_slice(&req[2..8]);
    put_u32(&mut out, 8, status);
    out[HEADER..].copy_from_slice(body);
    out
}

fn blob_id(pkt: &[u8], at: usize) -> (Vec<u8>, Vec<u8>) {
    (get_str(pkt, at, NS_LEN), get_str(pkt, at + NS_LEN, KEY_LEN))
}

/// Interprets one complete request packet.
pub fn handle(pkt: &[u8]) -> Vec<u8> {
    let id = blob_id(pkt, 12);
    let mut blobs = store();
    match get_u32(pkt, 8) {
        CMD_CREATE => {
            blobs.insert(id, Blob::default());
            reply(pkt, ST_SUCCESS, &[0; 4])
        }
        CMD_WRITE => write(&mut blobs, id, pkt),
        CMD_FINALIZE => match blobs.get_mut(&id) {
            Some(blob) => {
                blob.finalized = true;
                reply(pkt, ST_SUCCESS, &[0; 4])
            }
            None => reply(pkt, ST_NOTFOUND, &[0; 4]),
        },
        CMD_INFO => match blobs.get(&id) {
            Some(blob) => reply(pkt, ST_SUCCESS, &(blob.data.len() as u32).to_le_bytes()),
            None => reply(pkt, ST_NOTFOUND, &[0; 4]),
        },
        CMD_READ => read(&blobs, id, pkt),
        CMD_DELETE => match blobs.remove(&id) {
            Some(_) => reply(pkt, ST_SUCCESS, &[0; 4]),
            None => reply(pkt, ST_NOTFOUND, &[0; 4]),
        },
        CMD_REST => {
            drop(blobs);
            rest(pkt)
        }
        _ => reply(pkt, ST_BADPARAMETER, &[]),
    }
}

fn write(blobs: &mut Store, id: (Vec<u8>, Vec<u8>), pkt: &[u8]) -> Vec<u8> {
    let (offset, count) = (get_u32(pkt, 124) as usize, get_u32(pkt, 128) as usize);
    if get_u16(pkt, 0) as usize != WRITE_REQ + count {
        return reply(pkt, ST_BADPARAMETER, &[]);
    }
    let Some(blob) = blobs.get_mut(&id).filter(|b| !b.finalized) else {
        return reply(pkt, ST_NOTFOUND, &[]);
    };
    if offset > blob.data.len() {
        return reply(pkt, ST_BADPARAMETER, &[]);
    }
    let data = &pkt[WRITE_REQ..WRITE_REQ + count];
    blob.data.truncate(offset);
    blob.data.extend_from_slice(data);
    reply(pkt, ST_SUCCESS, &[])
}

fn read(blobs: &Store, id: (Vec<u8>, Vec<u8>), pkt: &[u8]) -> Vec<u8> {
    let Some(blob) = blobs.get(&id) else {
        return reply(pkt, ST_NOTFOUND, &[0; 4]);
    };
    let offset = (get_u32(pkt, 60) as usize).min(blob.data.len());
    let count = (get_u32(pkt, 64) as usize).min(MAX_BUFFER - HEADER - 4);
    let data = &blob.data[offset..(offset + count).min(blob.data.len())];
    let mut body = (data.len() as u32).to_le_bytes().to_vec();
    body.extend_from_slice(data);
    reply(pkt, ST_SUCCESS, &body)
}

/// REST command 7: fetch the request (inline or from its blob), forward it, answer inline
/// when it fits one read packet, else through the response blob.
fn rest(pkt: &[u8]) -> Vec<u8> {
    let blobdesc = get_u32(pkt, 12) == 1;
    let request = if blobdesc {
        let req_id = blob_id(pkt, 68);
        match store().get(&req_id).filter(|b| b.finalized) {
            Some(blob) => blob.data.clone(),
            None => return reply(pkt, ST_NOTFOUND, &[0; 8]),
        }
    } else {
        if get_u16(pkt, 0) as usize != pkt.len() {
            return reply(pkt, ST_BADPARAMETER, &[0; 8]);
        }
        pkt[REST_IMMEDIATE_REQ..].to_vec()
    };
    state().count(if blobdesc {
        "rest_request_blob"
    } else {
        "rest_request_inline"
    });
    let target = state().target();
    let response = match target {
        Some(t) => crate::forward::forward(&t, &request).unwrap_or_else(|e| gateway_error(&e)),
        None => gateway_error("CHIFSIM_TARGET is not set"),
    };
    let inline = response.len() <= MAX_READ - REST_RESPONSE_FIXED;
    state().count(if inline {
        "rest_response_inline"
    } else {
        "rest_response_blob"
    });
    log_event(&format!(
        "rest request_bytes={} response_bytes={}",
        request.len(),
        response.len()
    ));
    // The firmware leaves the response in its blob either way; clients delete it.
    let rsp_id = blob_id(pkt, 16);
    let body_len = if inline { response.len() } else { 0 };
    let mut body = Vec::with_capacity(8 + body_len);
    body.extend_from_slice(&u32::from(!inline).to_le_bytes());
    body.extend_from_slice(&(body_len as u32).to_le_bytes());
    if inline {
        body.extend_from_slice(&response);
    }
    store().insert(
        rsp_id,
        Blob {
            data: response,
            finalized: true,
        },
    );
    reply(pkt, ST_SUCCESS, &body)
}

fn gateway_error(why: &str) -> Vec<u8> {
    log_event(&format!("forward error: {why}"));
    let body = format!("chifsim: {why}");
    format!(
        "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
