//! Parsing the firmware's answers to CHIF blobstore packets (pure functions; fuzzed by the
//! `chif_response` target). Layout, little-endian: u16 length at 0..2, the echoed u16
//! sequence at 2..4, u32 status at 8..12; REST replies add the receive mode at 12..16 and the
//! inline body length at 16..20, body from 20; info replies the blob size at 12..16; read
//! replies the byte count at 12..16, data from 16.

/// Bytes of the fixed header every reply starts with.
pub const HEADER: usize = 12;
/// `size_of_restResponseFixed` of the real library.
pub const REST_FIXED: usize = 20;

/// Blobstore status codes (HPE python-ilorest-library `BlobReturnCodes`).
pub const SUCCESS: u32 = 0;
pub const BAD_PARAMETER: u32 = 2;
pub const NOT_FOUND: u32 = 12;
pub const NOT_MODIFIED: u32 = 20;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    #[error("reply is {len} bytes, shorter than the {need}-byte {what}")]
    Short {
        what: &'static str,
        len: usize,
        need: usize,
    },
    #[error("reply sequence {got:#06x} does not match request sequence {sent:#06x}")]
    Sequence { sent: u16, got: u16 },
    #[error("REST reply has unknown receive mode {0} (expected 0 inline or 1 blob)")]
    Mode(u32),
    #[error("{what} claims {claimed} bytes but only {available} follow")]
    Overrun {
        what: &'static str,
        claimed: usize,
        available: usize,
    },
}

fn u32_at(buf: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]])
}

fn need(buf: &[u8], what: &'static str, n: usize) -> Result<(), PacketError> {
    if buf.len() < n {
        return Err(PacketError::Short {
            what,
            len: buf.len(),
            need: n,
        });
    }
    Ok(())
}

/// The sequence number at bytes 2..4 of a packet.
pub fn sequence(buf: &[u8]) -> Option<u16> {
    buf.get(2..4).map(|b| u16::from_le_bytes([b[0], b[1]]))
}

/// Writes a sequence number into bytes 2..4 of a request packet.
pub fn set_sequence(buf: &mut [u8], seq: u16) {
    if buf.len() >= 4 {
        buf[2..4].copy_from_slice(&seq.to_le_bytes());
    }
}

/// Checks the echoed sequence and returns the blobstore status.
pub fn reply_status(buf: &[u8], sent: u16) -> Result<u32, PacketError> {
    need(buf, "reply header", HEADER)?;
    let got = sequence(buf).unwrap_or_default();
    if got != sent {
        return Err(PacketError::Sequence { sent, got });
    }
    Ok(u32_at(buf, 8))
}

/// Where a REST reply's HTTP response is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestBody<'a> {
    /// Receive mode 0: in the reply packet.
    Inline(&'a [u8]),
    /// Receive mode 1: in the response blob.
    Blob,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestReply<'a> {
    pub status: u32,
    pub body: RestBody<'a>,
}

/// Parses a reply to REST command 7 (after [`reply_status`] checked its sequence).
pub fn rest_reply(buf: &[u8]) -> Result<RestReply<'_>, PacketError> {
    need(buf, "REST reply header", REST_FIXED)?;
    let status = u32_at(buf, 8);
    let body = match u32_at(buf, 12) {
        0 => {
            let claimed = u32_at(buf, 16) as usize;
            let available = buf.len() - REST_FIXED;
            if claimed > available {
                return Err(PacketError::Overrun {
                    what: "inline REST body",
                    claimed,
                    available,
                });
            }
            RestBody::Inline(&buf[REST_FIXED..REST_FIXED + claimed])
        }
        1 => RestBody::Blob,
        other => return Err(PacketError::Mode(other)),
    };
    Ok(RestReply { status, body })
}

/// The blob size in a reply to `get_info`.
pub fn info_size(buf: &[u8]) -> Result<u32, PacketError> {
    need(buf, "info reply", HEADER + 4)?;
    Ok(u32_at(buf, HEADER))
}

/// The data in a reply to `read_fragment` that asked for `asked` bytes.
pub fn read_data(buf: &[u8], asked: usize) -> Result<&[u8], PacketError> {
    need(buf, "read reply", HEADER + 4)?;
    let claimed = u32_at(buf, HEADER) as usize;
    let available = (buf.len() - HEADER - 4).min(asked);
    if claimed > available {
        return Err(PacketError::Overrun {
            what: "blob fragment",
            claimed,
            available,
        });
    }
    Ok(&buf[HEADER + 4..HEADER + 4 + claimed])
}

/// A readable name for a blobstore status.
pub fn status_name(status: u32) -> &'static str {
    match status {
        SUCCESS => "success",
        BAD_PARAMETER => "bad parameter (blobstore busy)",
        NOT_FOUND => "not found",
        NOT_MODIFIED => "not modified",
        _ => "unknown",
    }
}

/// Success or "not modified", the two statuses HPE's client accepts.
pub fn is_ok(status: u32) -> bool {
    status == SUCCESS || status == NOT_MODIFIED
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(seq: u16, status: u32, rest: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; 12];
        b[2..4].copy_from_slice(&seq.to_le_bytes());
        b[8..12].copy_from_slice(&status.to_le_bytes());
        b.extend_from_slice(rest);
        b
    }

    #[test]
    fn sequence_mismatch_is_named() {
        let err = reply_status(&reply(7, 0, &[]), 8).unwrap_err();
        assert_eq!(
            err.to_string(),
            "reply sequence 0x0007 does not match request sequence 0x0008"
        );
    }

    #[test]
    fn inline_body_is_bounded_by_the_packet() {
        let mut rest = vec![0, 0, 0, 0, 5, 0, 0, 0];
        rest.extend_from_slice(b"hello, and padding");
        let buf = reply(1, 0, &rest);
        assert_eq!(rest_reply(&buf).unwrap().body, RestBody::Inline(b"hello"));
        let over = reply(1, 0, &[0, 0, 0, 0, 200, 0, 0, 0, b'x']);
        assert!(matches!(
            rest_reply(&over),
            Err(PacketError::Overrun {
                claimed: 200,
                available: 1,
                ..
            })
        ));
    }

    #[test]
    fn blob_mode_and_unknown_mode() {
        assert_eq!(
            rest_reply(&reply(1, 0, &[1, 0, 0, 0, 0, 0, 0, 0]))
                .unwrap()
                .body,
            RestBody::Blob
        );
        assert_eq!(
            rest_reply(&reply(1, 0, &[9, 0, 0, 0, 0, 0, 0, 0])),
            Err(PacketError::Mode(9))
        );
        assert!(matches!(
            rest_reply(&[0; 10]),
            Err(PacketError::Short { need: 20, .. })
        ));
    }

    #[test]
    fn read_data_never_exceeds_what_was_asked() {
        let buf = reply(1, 0, &[10, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(read_data(&buf, 10).unwrap().len(), 10);
        assert!(read_data(&buf, 4).is_err());
    }
}
