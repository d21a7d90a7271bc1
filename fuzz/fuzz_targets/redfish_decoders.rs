//! The decoders of what a BMC answers, on arbitrary bytes: Redfish errors, the service root,
//! the Sessions collection, and session classification (each profile). No panic, and a
//! classified session always has an id no longer than the input.
#![no_main]

use hostagent::redfish::{
    classify_session, decode_collection, ClassifyContext, RedfishError, ServiceRootInfo,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let status = data.first().map(|b| 400 + u16::from(*b)).unwrap_or(500);
    let err = RedfishError::from_body(status, data);
    let _ = (
        err.is_session_limit(),
        err.is_no_valid_session(),
        err.to_string(),
    );
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let _ = ServiceRootInfo::decode(&json);
    if let Ok(page) = decode_collection(&json) {
        for member in page.members {
            if let hostagent::redfish::Member::Expanded(body) = member {
                let _ = classify_session(&body, &ClassifyContext::hpe_default());
            }
        }
    }
    let mut ctx = ClassifyContext::hpe_default();
    ctx.app_accounts.push("iLORest".into());
    ctx.in_band.push(("169.254.0.0".parse().unwrap(), 16));
    let info = classify_session(&json, &ctx);
    assert!(info.id.len() <= data.len());
    let _ = info.idle(time::OffsetDateTime::UNIX_EPOCH);
});
