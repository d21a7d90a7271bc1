//! The CHIF reply parsers and the raw HTTP/1.1 response parser on arbitrary bytes: they must
//! return errors, never panic, and never hand out more bytes than they were given.
#![no_main]

use hostagent::transport::chif::{http_text, packet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let sent = data
        .get(2..4)
        .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]));
    let _ = packet::reply_status(data, sent ^ (data.len() as u16 & 1));
    let _ = packet::info_size(data);
    if let Ok(part) = packet::read_data(data, data.len() / 2) {
        assert!(part.len() <= data.len() / 2);
    }
    if let Ok(reply) = packet::rest_reply(data) {
        if let packet::RestBody::Inline(body) = reply.body {
            assert!(body.len() + packet::REST_FIXED <= data.len());
            let _ = http_text::parse_response(body, false);
        }
    }
    for head in [false, true] {
        if let Ok(rsp) = http_text::parse_response(data, head) {
            assert!(rsp.body.len() <= data.len());
        }
    }
});
