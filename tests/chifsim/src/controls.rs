//! Test controls: exported `chifsim_*` symbols that tests call through the same loaded copy
//! of the library the agent uses. Each copy of the .so file loaded from its own path has its
//! own state, so parallel tests copy the library and never share these settings.

use std::ffi::{c_char, CStr};

use crate::state::state;

fn text(p: *const c_char) -> Option<String> {
    // SAFETY: NUL-terminated string from the test.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// Overrides `CHIFSIM_TARGET` (null: back to the environment).
#[no_mangle]
pub extern "C" fn chifsim_set_target(url: *const c_char) {
    state().target = text(url);
}

/// Overrides `CHIFSIM_MODE` (null: back to the environment); resets verified credentials.
#[no_mangle]
pub extern "C" fn chifsim_set_mode(mode: *const c_char) {
    let mut st = state();
    st.mode = text(mode);
    st.verified = false;
}

/// Overrides `CHIFSIM_LOG` (null: back to the environment).
#[no_mangle]
pub extern "C" fn chifsim_set_log(path: *const c_char) {
    *crate::state::LOG_PATH
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = text(path);
}

/// Overrides `CHIFSIM_DEVICE` (null: back to the environment): the directory standing for the
/// host's `/dev/hpilo`, shared with every process that names it. Channels open before keep
/// the device they were opened on.
#[no_mangle]
pub extern "C" fn chifsim_set_device(dir: *const c_char) {
    state().device = text(dir);
}

/// Corrupts the sequence number of the next `n` responses.
#[no_mangle]
pub extern "C" fn chifsim_corrupt_sequences(n: u32) {
    state().corrupt_sequences = n;
}

/// Fails the next `n` exchanges with a transient error (110, timed out).
#[no_mangle]
pub extern "C" fn chifsim_fail_exchanges(n: u32) {
    state().fail_exchanges = n;
}

/// A counter: create, close, exchange, overlap (exchanges refused because their channel had
/// one in flight), rest_request_inline, rest_request_blob, rest_response_inline,
/// rest_response_blob; `blobs` = blobs now in the store; `channels` = channels this copy has
/// open; `device_channels` = channels of the device open by any process (0 without a
/// device); `recv_timeout_ms` = the last receive timeout set.
#[no_mangle]
pub extern "C" fn chifsim_counter(name: *const c_char) -> u64 {
    let Some(name) = text(name) else { return 0 };
    if name == "blobs" {
        return crate::firmware::blob_count() as u64;
    }
    let st = state();
    match name.as_str() {
        "channels" => return st.channels.len() as u64,
        "device_channels" => {
            return st
                .device()
                .map_or(0, |d| crate::device::in_use(std::path::Path::new(&d)))
        }
        "recv_timeout_ms" => return st.recv_timeout_ms,
        _ => {}
    }
    st.counters.get(name.as_str()).copied().unwrap_or(0)
}
