//! A scripted IPMI stand-in for tests: answers are queued per (NetFn, command) and used once,
//! then a standing answer (if any) is repeated; every request is recorded. The builders
//! produce the DSP0270 byte layouts of a well-behaved BMC.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use super::bootstrap::{
    CMD_GET_BOOTSTRAP_CREDENTIALS, CMD_GET_FINGERPRINT, FIELD_LEN, GROUP_REDFISH, HASH_SHA256,
};
use super::{Ipmi, IpmiError, IpmiRequest, IpmiResponse, NETFN_GROUP_EXTENSION};

type Key = (u8, u8);

#[derive(Default)]
pub struct FakeIpmi {
    queued: Mutex<HashMap<Key, VecDeque<Vec<u8>>>>,
    standing: Mutex<HashMap<Key, Vec<u8>>>,
    sent: Mutex<Vec<IpmiRequest>>,
}

impl FakeIpmi {
    pub fn new() -> FakeIpmi {
        FakeIpmi::default()
    }

    /// Answers the next request for `cmd` of NetFn 2Ch with `bytes` (completion code first).
    pub fn answer_once(&self, cmd: u8, bytes: Vec<u8>) -> &Self {
        self.queued
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((NETFN_GROUP_EXTENSION, cmd))
            .or_default()
            .push_back(bytes);
        self
    }

    /// Answers every request for `cmd` of NetFn 2Ch with `bytes` once the queue is empty.
    pub fn answer_always(&self, cmd: u8, bytes: Vec<u8>) -> &Self {
        self.standing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((NETFN_GROUP_EXTENSION, cmd), bytes);
        self
    }

    /// A BMC with credential bootstrapping on: this fingerprint, then these credentials.
    pub fn bootstrapping(fingerprint: &[u8; 32], user: &str, password: &str) -> FakeIpmi {
        let fake = FakeIpmi::new();
        fake.answer_always(CMD_GET_FINGERPRINT, fingerprint_answer(fingerprint));
        fake.answer_always(
            CMD_GET_BOOTSTRAP_CREDENTIALS,
            credentials_answer(user, password),
        );
        fake
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<IpmiRequest> {
        self.sent.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// How many requests for `cmd` of NetFn 2Ch were sent.
    pub fn count(&self, cmd: u8) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.netfn == NETFN_GROUP_EXTENSION && r.cmd == cmd)
            .count()
    }
}

impl Ipmi for FakeIpmi {
    fn exchange(&self, req: &IpmiRequest) -> Result<IpmiResponse, IpmiError> {
        self.sent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(req.clone());
        let key = (req.netfn, req.cmd);
        let once = self
            .queued
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(&key)
            .and_then(VecDeque::pop_front);
        let bytes = once.or_else(|| {
            self.standing
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&key)
                .cloned()
        });
        bytes.map(IpmiResponse::new).ok_or(IpmiError::Unscripted {
            netfn: req.netfn,
            cmd: req.cmd,
        })
    }

    fn describe(&self) -> String {
        "fake".into()
    }
}

/// `Get Manager Certificate Fingerprint` success: 00h, 52h, 01h (SHA-256), the digest.
pub fn fingerprint_answer(digest: &[u8; 32]) -> Vec<u8> {
    let mut out = vec![0x00, GROUP_REDFISH, HASH_SHA256];
    out.extend_from_slice(digest);
    out
}

/// `Get Bootstrap Account Credentials` success: 00h, 52h, then user name and password, each
/// NUL-padded to 16 bytes (longer values are cut, as a BMC could not send them).
pub fn credentials_answer(user: &str, password: &str) -> Vec<u8> {
    let mut out = vec![0x00, GROUP_REDFISH];
    for field in [user, password] {
        let mut padded = [0u8; FIELD_LEN];
        let bytes = field.as_bytes();
        let n = bytes.len().min(FIELD_LEN);
        padded[..n].copy_from_slice(&bytes[..n]);
        out.extend_from_slice(&padded);
    }
    out
}
