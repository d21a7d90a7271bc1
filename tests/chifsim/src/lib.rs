//! chifsim: a stand-in for HPE's CHIF library (`ilorest_chif.so`). It exports the same C ABI
//! with the same sizes and packet layout, and plays iLO's firmware behind
//! `ChifPacketExchange`: an in-memory blobstore plus REST command 7, whose HTTP requests it
//! forwards to the simulator named by `CHIFSIM_TARGET` with the header `X-Bmcsim-Channel: chif`.
//!
//! `CHIFSIM_MODE`: `production` (default, no credentials), `fips` (`ChifIsSecurityRequired`
//! returns 1 and exchanges fail with error 8 until `ChifVerifyCredentials` succeeds for
//! `CHIFSIM_USER`/`CHIFSIM_PASSWORD`, default admin/password), `nodevice` (`ChifPing` 19).
//! `CHIFSIM_LOG`: a file that gets one line per event. `CHIFSIM_DEVICE`: a directory standing
//! for `/dev/hpilo`, shared by every process that names it (`device`): `ChifCreate` takes one
//! of its channels exclusively. An exchange on a channel that already has one in flight fails
//! with error 16 and is counted (`overlap`). The `chifsim_*` symbols are test controls (they
//! override the environment for this loaded copy of the library).

mod builders;
mod controls;
mod device;
mod firmware;
mod forward;
mod layout;
mod sizes;
mod state;

use std::ffi::{c_char, c_int, c_void, CStr};

use layout::*;
use state::{log_event, state, Mode};

/// The real library's error numbers are errno values.
const ERR_NO_DEVICE: c_int = 19;
const ERR_ACCESS_DENIED: c_int = 13;
const ERR_INVALID: c_int = 22;
const ERR_SECURITY: c_int = 8;
const ERR_TOO_BIG: c_int = 90;
const ERR_TRANSIENT: c_int = 110;
const ERR_IO: c_int = 5;

#[no_mangle]
pub extern "C" fn ChifInitialize(_reserved: *mut c_void) -> c_int {
    0
}

/// # Safety
/// `out` is null or points to a writable handle slot.
#[no_mangle]
pub unsafe extern "C" fn ChifCreate(out: *mut *mut c_void) -> c_int {
    if out.is_null() {
        return ERR_INVALID;
    }
    let mut st = state();
    let slot = match st.device() {
        Some(dir) => match device::claim(std::path::Path::new(&dir)) {
            Ok(slot) => Some(slot),
            Err(rc) => {
                log_event(&format!("create refused: error {rc} (device {dir})"));
                return rc;
            }
        },
        None => None,
    };
    st.next_channel += 1;
    let id = st.next_channel;
    if let Some((n, _)) = &slot {
        log_event(&format!("channel {id} is d0ccb{n}"));
    }
    st.channels.insert(id, slot);
    st.count("create");
    // SAFETY: the caller passes a pointer to a handle slot.
    unsafe { *out = id as *mut c_void };
    0
}

#[no_mangle]
pub extern "C" fn ChifClose(handle: *mut c_void) -> c_int {
    let mut st = state();
    // Dropping the channel's locked file frees it on the device.
    if st.channels.remove(&(handle as usize)).is_none() {
        return ERR_INVALID;
    }
    st.count("close");
    0
}

#[no_mangle]
pub extern "C" fn ChifPing(handle: *mut c_void) -> c_int {
    let st = state();
    if st.mode() == Mode::NoDevice {
        return ERR_NO_DEVICE;
    }
    if st.channels.contains_key(&(handle as usize)) {
        0
    } else {
        ERR_INVALID
    }
}

#[no_mangle]
pub extern "C" fn ChifSetRecvTimeout(_handle: *mut c_void, ms: u32) -> c_int {
    state().recv_timeout_ms = u64::from(ms);
    0
}

#[no_mangle]
pub extern "C" fn ChifIsSecurityRequired() -> c_int {
    c_int::from(state().security_required())
}

#[no_mangle]
pub extern "C" fn ChifDisableSecurity() -> c_int {
    0
}

/// Remembers the credentials for `ChifVerifyCredentials`; returns a library-owned buffer
/// like the real one (contents not meaningful here).
///
/// # Safety
/// Both arguments are null or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn initiate_credentials(
    user: *const c_char,
    password: *const c_char,
) -> *const u8 {
    static BUF: [u8; CREDENTIALS_BUFFER] = [0; CREDENTIALS_BUFFER];
    if !user.is_null() && !password.is_null() {
        // SAFETY: NUL-terminated strings from the caller.
        let (u, p) = unsafe { (CStr::from_ptr(user), CStr::from_ptr(password)) };
        state().credentials = Some((u.to_bytes().to_vec(), p.to_bytes().to_vec()));
    }
    BUF.as_ptr()
}

#[no_mangle]
pub extern "C" fn ChifVerifyCredentials() -> c_int {
    let want_user = std::env::var("CHIFSIM_USER").unwrap_or_else(|_| "admin".into());
    let want_pass = std::env::var("CHIFSIM_PASSWORD").unwrap_or_else(|_| "password".into());
    let mut st = state();
    let ok = matches!(&st.credentials, Some((u, p)) if *u == want_user.as_bytes() && *p == want_pass.as_bytes());
    st.verified = ok;
    if ok {
        0
    } else {
        ERR_ACCESS_DENIED
    }
}

/// Sends one packet and receives the answer into `recv` (`recv_len` bytes available).
///
/// # Safety
/// `send` holds a packet made by one of the builders (plus its payload); `recv` has
/// `recv_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn ChifPacketExchange(
    handle: *mut c_void,
    send: *const u8,
    recv: *mut u8,
    recv_len: u32,
) -> c_int {
    if send.is_null() || recv.is_null() {
        return ERR_INVALID;
    }
    let channel = handle as usize;
    {
        let mut st = state();
        if !st.channels.contains_key(&channel) {
            return ERR_INVALID;
        }
        if st.security_required() {
            return ERR_SECURITY;
        }
        st.count("exchange");
        if st.fail_exchanges > 0 {
            st.fail_exchanges -= 1;
            return ERR_TRANSIENT;
        }
        if !st.busy.insert(channel) {
            st.count("overlap");
            log_event(&format!(
                "overlap on channel {channel}: error {}",
                device::ERR_BUSY
            ));
            return device::ERR_BUSY;
        }
    }
    let _in_flight = InFlight(channel);
    let Ok(mut response) = std::panic::catch_unwind(|| firmware_answer(send)) else {
        return ERR_IO;
    };
    {
        let mut st = state();
        if st.corrupt_sequences > 0 {
            st.corrupt_sequences -= 1;
            response[2] ^= 0x5A;
        }
    }
    if response.len() > recv_len as usize {
        return ERR_TOO_BIG;
    }
    // SAFETY: recv has recv_len >= response.len() bytes.
    unsafe { std::ptr::copy_nonoverlapping(response.as_ptr(), recv, response.len()) };
    0
}

/// Marks `channel` idle again when the exchange ends, however it ends.
struct InFlight(usize);

impl Drop for InFlight {
    fn drop(&mut self) {
        state().busy.remove(&self.0);
    }
}

/// Reads the request packet at `send` (exactly the size its command has) and answers it.
fn firmware_answer(send: *const u8) -> Vec<u8> {
    // SAFETY: the caller's buffer holds a packet one of the builders made: its fixed part
    // first, then the size that fixed part announces (checked against the buffer limit).
    let head = unsafe { std::slice::from_raw_parts(send, HEADER) };
    let Some(fixed) = firmware::fixed_size(get_u32(head, 8)) else {
        return firmware::reply(head, ST_BADPARAMETER, &[]);
    };
    let head = unsafe { std::slice::from_raw_parts(send, fixed) };
    let size = firmware::packet_size(head);
    if size > MAX_BUFFER {
        return firmware::reply(head, ST_BADPARAMETER, &[]);
    }
    firmware::handle(unsafe { std::slice::from_raw_parts(send, size) })
}
