//! One open CHIF channel and the blocking packet flow over it: exchange with sequence check
//! and bounded retries, blobs in namespace `volatile`, and REST command 7.

use std::ffi::{c_int, CString};
use std::time::Duration;

use rand::distr::{Alphanumeric, SampleString};

use super::ffi::{ChifLib, Handle};
use super::packet::{self, RestBody};
use crate::transport::TransportError;

/// Namespace of the request and response blobs (as HPE's client uses).
const NAMESPACE: &str = "volatile";
/// Largest HTTP response accepted from a response blob.
pub const MAX_RESPONSE: usize = 64 << 20;
/// Retries of a blobstore command answered "bad parameter" (the firmware's "busy").
const BUSY_RETRIES: u32 = 10;

/// `ChifPacketExchange` / `ChifPing` error numbers (errno values on Linux).
const ERR_SECURITY: c_int = 8;
const ERR_ACCESS_DENIED: c_int = 13;
const ERR_NO_DEVICE: c_int = 19;

pub struct Channel {
    lib: ChifLib,
    handle: Handle,
    /// Exchange attempts after the first for transient errors.
    retries: u32,
    recv_timeout: Duration,
    ns: CString,
}

// SAFETY: the handle is an opaque token of the library, used only under the transport's mutex.
unsafe impl Send for Channel {}

/// Maps a `ChifCreate`/`ChifPing` error to what an operator needs to hear.
pub fn open_error(lib: &ChifLib, call: &str, rc: c_int) -> TransportError {
    let endpoint = format!("chif:{}", lib.path().display());
    let reason = match rc {
        ERR_NO_DEVICE => format!("no iLO CHIF device ({call} returned 19: /dev/hpilo is missing, not an HPE server with iLO 5/6 or the hpilo driver is not loaded)"),
        ERR_ACCESS_DENIED => format!("access to the iLO CHIF device denied ({call} returned 13): run as root"),
        rc => format!("{call} returned error {rc}"),
    };
    TransportError::Connect { endpoint, reason }
}

impl Channel {
    /// `ChifCreate`, `ChifPing`, `ChifSetRecvTimeout`: one channel for the transport's life.
    pub fn create(
        lib: ChifLib,
        retries: u32,
        recv_timeout: Duration,
    ) -> Result<Self, TransportError> {
        let mut handle: Handle = std::ptr::null_mut();
        // SAFETY: ChifCreate fills in the handle slot.
        let rc = unsafe { (lib.fns.create)(&mut handle) };
        if rc != 0 {
            return Err(open_error(&lib, "ChifCreate", rc));
        }
        let ns = CString::new(NAMESPACE).expect("no NUL in a constant");
        let mut ch = Channel {
            lib,
            handle,
            retries,
            recv_timeout: Duration::ZERO,
            ns,
        };
        // SAFETY: a handle ChifCreate returned.
        let rc = unsafe { (ch.lib.fns.ping)(ch.handle) };
        if rc != 0 {
            return Err(open_error(&ch.lib, "ChifPing", rc)); // Drop closes the channel.
        }
        ch.set_timeout(recv_timeout);
        Ok(ch)
    }

    pub fn set_timeout(&mut self, timeout: Duration) {
        if timeout != self.recv_timeout {
            let ms = u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX);
            // SAFETY: an open handle.
            unsafe { (self.lib.fns.set_recv_timeout)(self.handle, ms) };
            self.recv_timeout = timeout;
        }
    }

    /// Sends one packet under a fresh random sequence number and returns the reply after
    /// checking the echoed sequence. `retry`: whether a transient failure may resend it.
    fn exchange(&mut self, pkt: &[u8], retry: bool) -> Result<Vec<u8>, TransportError> {
        let size = self.lib.sizes.max_buffer;
        // The send buffer is a full packet buffer: the length field of some packets (read
        // requests) exceeds the bytes their builder returns.
        let mut send = vec![0u8; size.max(pkt.len())];
        send[..pkt.len()].copy_from_slice(pkt);
        let seq: u16 = rand::random();
        packet::set_sequence(&mut send, seq);
        let mut recv = vec![0u8; size];
        let attempts = if retry { self.retries + 1 } else { 1 };
        for attempt in 1..=attempts {
            recv.fill(0);
            // SAFETY: both buffers are max_buffer bytes long, the size the library expects.
            let rc = unsafe {
                (self.lib.fns.exchange)(self.handle, send.as_ptr(), recv.as_mut_ptr(), size as u32)
            };
            match rc {
                0 => {
                    packet::reply_status(&recv, seq)
                        .map_err(|e| TransportError::Chif(e.to_string()))?;
                    return Ok(recv);
                }
                ERR_SECURITY => return Err(TransportError::CredentialsRequired),
                ERR_NO_DEVICE | ERR_ACCESS_DENIED => {
                    return Err(open_error(&self.lib, "ChifPacketExchange", rc))
                }
                rc if attempt < attempts => {
                    tracing::debug!(rc, attempt, "CHIF exchange failed, retrying");
                    std::thread::sleep(Duration::from_millis(100 * u64::from(attempt)));
                }
                rc => {
                    return Err(TransportError::Chif(format!(
                        "ChifPacketExchange failed with error {rc} ({attempts} attempt(s))"
                    )))
                }
            }
        }
        unreachable!("the loop returns on its last attempt")
    }

    /// A blobstore command: exchange, then require success / not modified. "Bad parameter"
    /// (firmware busy) is retried a bounded number of times.
    fn blob_command(&mut self, what: &str, pkt: &[u8]) -> Result<Vec<u8>, TransportError> {
        for attempt in 0..=BUSY_RETRIES {
            let reply = self.exchange(pkt, true)?;
            let status = u32::from_le_bytes([reply[8], reply[9], reply[10], reply[11]]);
            if packet::is_ok(status) {
                return Ok(reply);
            }
            // NOTE(vendor): HPE's client retries get_info/delete on BADPARAMETER up to 44 times
            // with a growing delay (python-ilorest-library risblobstore2.py).
            if status != packet::BAD_PARAMETER || attempt == BUSY_RETRIES {
                return Err(TransportError::Chif(format!(
                    "blobstore {what} failed: status {status} ({})",
                    packet::status_name(status)
                )));
            }
            std::thread::sleep(Duration::from_millis(50 + 25 * u64::from(attempt)));
        }
        unreachable!("the loop returns on its last attempt")
    }

    fn random_key() -> CString {
        CString::new(Alphanumeric.sample_string(&mut rand::rng(), 10))
            .expect("alphanumeric has no NUL")
    }

    /// Stores `data` in a new finalized blob.
    fn write_blob(&mut self, key: &CString, data: &[u8]) -> Result<(), TransportError> {
        let pkt = self.lib.create_not_blobentry(key, &self.ns)?;
        self.blob_command("create", &pkt)?;
        let chunk = self.lib.sizes.max_write - self.lib.sizes.write_request;
        for (i, part) in data.chunks(chunk).enumerate() {
            let offset = u32::try_from(i * chunk)
                .map_err(|_| TransportError::Chif("request too large".into()))?;
            let mut pkt = self
                .lib
                .write_fragment(offset, part.len() as u32, key, &self.ns)?;
            pkt.extend_from_slice(part);
            self.blob_command("write", &pkt)?;
        }
        let pkt = self.lib.finalize_blob(key, &self.ns)?;
        self.blob_command("finalize", &pkt).map(drop)
    }

    /// Reads a whole blob: `get_info` for its size, then fragments of `max_read_size`.
    fn read_blob(&mut self, key: &CString) -> Result<Vec<u8>, TransportError> {
        let pkt = self.lib.get_info(key, &self.ns)?;
        let size =
            packet::info_size(&self.blob_command("info", &pkt)?).map_err(malformed)? as usize;
        if size > MAX_RESPONSE {
            return Err(TransportError::Malformed(format!(
                "response blob of {size} bytes exceeds {MAX_RESPONSE}"
            )));
        }
        let chunk = self.lib.sizes.max_read - self.lib.sizes.read_request;
        let mut data = Vec::with_capacity(size);
        while data.len() < size {
            let count = chunk.min(size - data.len());
            let pkt = self
                .lib
                .read_fragment(data.len() as u32, count as u32, key, &self.ns)?;
            let reply = self.blob_command("read", &pkt)?;
            let part = packet::read_data(&reply, count).map_err(malformed)?;
            if part.is_empty() {
                return Err(TransportError::Malformed(format!(
                    "response blob read returned 0 bytes at {} of {size}",
                    data.len()
                )));
            }
            data.extend_from_slice(part);
        }
        Ok(data)
    }

    fn delete_quietly(&mut self, key: &CString) {
        let result = self
            .lib
            .delete_blob(key, &self.ns)
            .and_then(|pkt| self.blob_command("delete", &pkt));
        if let Err(e) = result {
            tracing::debug!(error = %e, "deleting a CHIF blob failed");
        }
    }

    /// REST command 7: sends raw HTTP request text, returns raw HTTP response text.
    /// `idempotent`: whether a transient exchange failure may resend the request.
    pub fn rest(&mut self, request: &[u8], idempotent: bool) -> Result<Vec<u8>, TransportError> {
        let rsp_key = Self::random_key();
        let sizes = self.lib.sizes;
        let mut req_key = None;
        let pkt = if request.len() <= sizes.max_write - sizes.rest_immediate_request {
            let mut pkt = self
                .lib
                .rest_immediate(request.len() as u32, &rsp_key, &self.ns)?;
            pkt.extend_from_slice(request);
            pkt
        } else {
            let key = req_key.insert(Self::random_key()).clone();
            self.write_blob(&key, request)?;
            self.lib.rest_immediate_blobdesc(&key, &rsp_key, &self.ns)?
        };
        let reply = self.exchange(&pkt, idempotent);
        if let Some(key) = req_key {
            self.delete_quietly(&key);
        }
        let body = reply.and_then(|reply| self.response_text(&reply, &rsp_key));
        // NOTE(vendor): HPE's client deletes the response blob after inline replies too; we
        // also delete it after a failed exchange (best effort) so no blob is left behind.
        self.delete_quietly(&rsp_key);
        body
    }

    /// The HTTP response text of a REST reply: inline, or read from the response blob.
    fn response_text(
        &mut self,
        reply: &[u8],
        rsp_key: &CString,
    ) -> Result<Vec<u8>, TransportError> {
        let rest = packet::rest_reply(reply).map_err(malformed)?;
        if !packet::is_ok(rest.status) {
            let name = packet::status_name(rest.status);
            return Err(TransportError::Chif(format!(
                "REST command failed: blobstore status {} ({name})",
                rest.status
            )));
        }
        match rest.body {
            RestBody::Inline(b) => Ok(b.to_vec()),
            RestBody::Blob => self.read_blob(rsp_key),
        }
    }
}

fn malformed(e: packet::PacketError) -> TransportError {
    TransportError::Malformed(format!("CHIF reply: {e}"))
}

impl Drop for Channel {
    fn drop(&mut self) {
        // SAFETY: the handle came from ChifCreate and is closed exactly once.
        unsafe { (self.lib.fns.close)(self.handle) };
    }
}
