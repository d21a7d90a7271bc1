//! What a hostile local client controls in the proxy, on arbitrary bytes: the request target
//! (path and query, ilorest's `/None:PORT/` form), the session-collection checks, the client's
//! `Host` as a base, and the BMC's answer bodies that the proxy rewrites. No panic; an accepted
//! path is under `/redfish` with no dot segment; a rewritten body is still JSON.
#![no_main]

use hostagent::proxy::path::{is_session_collection, parse, session_member};
use hostagent::proxy::rewrite::BmcNames;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (path, query) = match text.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (text.as_ref(), None),
    };
    if let Ok(target) = parse(path, query) {
        let key = target.key();
        assert!(key == "/redfish" || key.starts_with("/redfish/v1"), "{key}");
        assert!(!key.split('/').any(|s| s == ".." || s == "."), "{key}");
        let _ = is_session_collection(&target, "/redfish/v1/SessionService/Sessions/");
        if let Some(id) = session_member(&target, "/redfish/v1/SessionService/Sessions/") {
            assert!(!id.contains('/'));
        }
        let _ = target.path_and_query();
    }
    let names = BmcNames::new(["https://16.1.15.1", "https://[fe80::1]:443/redfish/v1/"]);
    if let Some(out) = names.rewrite_body(data) {
        assert!(serde_json::from_slice::<serde_json::Value>(&out).is_ok());
    }
    let _ = names.location(&text, Some("https://127.0.0.2"));
});
