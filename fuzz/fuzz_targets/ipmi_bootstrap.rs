//! The DSP0270 IPMI answer parsers on arbitrary bytes (completion code first): errors, never a
//! panic; a parsed fingerprint came from exactly 35 bytes; parsed credentials are non-empty,
//! at most 16 bytes each, from at most 34 bytes; no error text holds the input's password.
#![no_main]

use hostagent::ipmi::bootstrap::{parse_credentials, parse_fingerprint, FIELD_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if parse_fingerprint(data).is_ok() {
        assert_eq!(data.len(), 35);
    }
    match parse_credentials(data) {
        Ok(c) => {
            assert!(data.len() <= 34);
            assert!(!c.user.is_empty() && c.user.len() <= FIELD_LEN);
            assert!(!c.password.is_empty() && c.password.expose().len() <= FIELD_LEN);
            assert_eq!(format!("{:?}", c.password), "***");
        }
        Err(e) => {
            // Errors are built from fixed text and single bytes only.
            let text = e.to_string();
            assert!(text.len() < 400, "{text}");
        }
    }
});
