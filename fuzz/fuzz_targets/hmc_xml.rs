//! The HMC's XML as the agent reads it, on arbitrary bytes: a hostile local client's
//! `LogonRequest` body (`client_logon`), and what an HMC answering garbage sends back — the
//! `LogonResponse` (`token_of`), an error's `Message` (`message_of`) and `ReasonCode`, and the
//! well-formedness check of every XML answer. No panic; a token is a non-empty header value; a
//! user is non-empty; a message is one line of at most `MESSAGE_MAX` characters.
#![no_main]

use hostagent::hmc::xml::{
    client_logon, message_of, reason_code, token_of, well_formed, MESSAGE_MAX,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(token) = token_of(data) {
        assert!(!token.is_empty());
        assert!(token.expose().bytes().all(|b| b.is_ascii_graphic()));
        assert_eq!(format!("{token:?}").matches("***").count(), 1);
    }
    if let Ok(user) = client_logon(data) {
        assert!(!user.is_empty());
        assert!(user.len() <= data.len());
    }
    let msg = message_of(data);
    assert!(msg.chars().count() <= MESSAGE_MAX, "{msg}");
    assert!(!msg.contains(char::is_control), "{msg:?}");
    if let Some(code) = reason_code(data) {
        assert!(code.len() <= data.len() * 3);
    }
    let _ = well_formed(data);
});
