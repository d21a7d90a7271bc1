//! What the HMC proxy does with an HMC's answer, on arbitrary bytes: the check that it is the
//! REST API's (`check_answer`: not HTML, well-formed when it says XML), the rewriting of
//! absolute URLs naming the HMC in the Atom feed or JSON (`rewrite_text`) for a client on the
//! loopback listener and on the Unix socket, the `Location` header, and the content-type
//! tests that decide what is scanned. Byte 0 picks the content type. No panic; a rewritten
//! body differs from the answer and holds the client's base.
#![no_main]

use hostagent::hmc::proxy::check_answer;
use hostagent::proxy::rewrite::{may_name_hosts, BmcNames};
use hostagent::transport::streamed::Streamed;
use http::{header::CONTENT_TYPE, HeaderMap, HeaderValue, StatusCode};
use libfuzzer_sys::fuzz_target;

const TYPES: [&str; 6] = [
    "application/atom+xml",
    "application/vnd.ibm.powervm.uom+xml; type=ManagedSystem",
    "text/html; charset=UTF-8",
    "application/json",
    "text/event-stream",
    "text/plain",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let content_type = TYPES.get(usize::from(pick) % 8).copied();
    let _ = check_answer("prod", StatusCode::OK, content_type, body);
    let names = BmcNames::new(["https://9.1.2.3:12443", "https://[fe80::1]:12443/rest/api"]);
    for base in ["https://127.0.0.3:12443", "/hmc/prod"] {
        if let Some(out) = names.rewrite_text(body, base) {
            assert_ne!(out, body);
            assert!(memchr::memmem::find(&out, base.as_bytes()).is_some());
        }
    }
    let text = String::from_utf8_lossy(body);
    let _ = names.location(&text, Some("https://127.0.0.3:12443"));
    let _ = names.location(&text, None);
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_bytes(&body[..body.len().min(80)]) {
        headers.insert(CONTENT_TYPE, v);
    }
    let _ = (
        may_name_hosts(&headers),
        Streamed::is_event_stream(&headers),
    );
});
