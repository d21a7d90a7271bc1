//! Explicit trust in a BMC's self-signed certificate: `pin` (a known SHA-256), `tofu` (learned
//! on first contact, then pinned), `ca` (a CA bundle) or `insecure` (anything, warned).

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};

use crate::state::write_atomic;

/// A SHA-256 certificate fingerprint.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    pub fn of_der(der: &[u8]) -> Fingerprint {
        Fingerprint(Sha256::digest(der).into())
    }

    /// A digest received as bytes (IPMI "Get Manager Certificate Fingerprint").
    pub fn from_bytes(digest: [u8; 32]) -> Fingerprint {
        Fingerprint(digest)
    }

    /// Accepts `sha256:AB:CD:…`, `AB:CD:…` or plain hex, any case.
    pub fn parse(text: &str) -> Result<Fingerprint, String> {
        let t = text.trim();
        let t = t
            .strip_prefix("sha256:")
            .or_else(|| t.strip_prefix("SHA256:"))
            .unwrap_or(t);
        let hex_digits: String = t.chars().filter(|c| *c != ':').collect();
        let bytes = hex::decode(&hex_digits)
            .map_err(|_| format!("`{text}` is not a hex SHA-256 fingerprint"))?;
        let array: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            format!(
                "`{text}` has {} bytes; a SHA-256 fingerprint has 32",
                b.len()
            )
        })?;
        Ok(Fingerprint(array))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|b| format!("{b:02X}")).collect();
        write!(f, "sha256:{}", parts.join(":"))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Where TOFU fingerprints are kept, by endpoint.
pub trait PinStore: Send + Sync {
    fn get(&self, endpoint: &str) -> Option<Fingerprint>;
    fn put(&self, endpoint: &str, fp: &Fingerprint) -> std::io::Result<()>;
}

/// For the process lifetime (memory-only mode).
#[derive(Default)]
pub struct MemoryPins(Mutex<HashMap<String, Fingerprint>>);

impl PinStore for MemoryPins {
    fn get(&self, endpoint: &str) -> Option<Fingerprint> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(endpoint)
            .cloned()
    }

    fn put(&self, endpoint: &str, fp: &Fingerprint) -> std::io::Result<()> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(endpoint.to_string(), fp.clone());
        Ok(())
    }
}

/// `<state dir>/pins.json`, written atomically (temp file, fsync, rename), mode 0600.
pub struct FilePins {
    path: PathBuf,
    pins: MemoryPins,
}

impl FilePins {
    /// Loads the file; a missing file is empty, a garbage one is moved aside to
    /// `pins.json.bad-<time>` (kept for a person to read), reported, and treated as empty.
    pub fn open(path: &Path) -> FilePins {
        let pins = MemoryPins::default();
        match std::fs::read(path) {
            Ok(bytes) => match serde_json::from_slice::<HashMap<String, String>>(&bytes) {
                Ok(map) => {
                    for (endpoint, text) in map {
                        match Fingerprint::parse(&text) {
                            Ok(fp) => drop(pins.put(&endpoint, &fp)),
                            Err(e) => {
                                tracing::warn!(path = %path.display(), %endpoint, error = %e, "ignoring a bad pin")
                            }
                        }
                    }
                }
                Err(e) => match crate::state::move_aside(path) {
                    Ok(aside) => {
                        tracing::warn!(path = %path.display(), moved_to = %aside.display(), error = %e, "the pin file is not valid JSON: moved aside, starting with no pins")
                    }
                    Err(m) => {
                        tracing::warn!(path = %path.display(), error = %e, move_error = %m, "the pin file is not valid JSON and cannot be moved aside: starting with no pins")
                    }
                },
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot read the pin file: starting with no pins")
            }
        }
        FilePins {
            path: path.to_path_buf(),
            pins,
        }
    }
}

impl PinStore for FilePins {
    fn get(&self, endpoint: &str) -> Option<Fingerprint> {
        self.pins.get(endpoint)
    }

    fn put(&self, endpoint: &str, fp: &Fingerprint) -> std::io::Result<()> {
        self.pins.put(endpoint, fp)?;
        let map: HashMap<String, String> = self
            .pins
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect();
        write_atomic(
            &self.path,
            &serde_json::to_vec_pretty(&map).unwrap_or_default(),
        )
    }
}

/// How a certificate is judged.
#[derive(Clone)]
pub enum Trust {
    Pin(Fingerprint),
    Tofu(Arc<dyn PinStore>),
    /// PEM bundle of CAs; chain and name are checked as usual.
    Ca(PathBuf),
    Insecure,
}

impl fmt::Debug for Trust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trust::Pin(fp) => write!(f, "pin({fp})"),
            Trust::Tofu(_) => f.write_str("tofu"),
            Trust::Ca(p) => write!(f, "ca({})", p.display()),
            Trust::Insecure => f.write_str("insecure"),
        }
    }
}

/// The last refusal of a changed certificate, so the transport can report both fingerprints
/// (reqwest wraps verifier errors into text).
pub type Mismatch = Arc<Mutex<Option<(Fingerprint, Fingerprint)>>>;

/// The fingerprint of the last certificate a handshake accepted: what the agent trusted for
/// an endpoint, whatever the trust mode (the HMC keyring entry keeps it, so that a later run
/// can log off that session pinned to that certificate).
pub type Seen = Arc<Mutex<Option<Fingerprint>>>;

/// Wraps a verifier and records, in [`Seen`], each certificate it accepts.
#[derive(Debug)]
pub struct Recording {
    pub inner: Arc<dyn ServerCertVerifier>,
    pub seen: Seen,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified =
            self.inner
                .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)?;
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Fingerprint::of_der(end_entity.as_ref()));
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// A verifier for pin, tofu and insecure: the handshake's signatures are checked; the chain
/// and name are not (BMC certificates are self-signed); the leaf's fingerprint decides.
#[derive(Debug)]
pub struct FingerprintVerifier {
    pub endpoint: String,
    pub trust: Trust,
    pub mismatch: Mismatch,
    pub provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for FingerprintVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let actual = Fingerprint::of_der(end_entity.as_ref());
        let expected = match &self.trust {
            Trust::Pin(fp) => fp.clone(),
            Trust::Tofu(store) => match store.get(&self.endpoint) {
                Some(fp) => fp,
                None => {
                    tracing::warn!(endpoint = %self.endpoint, fingerprint = %actual, "trusting the BMC's certificate on first use");
                    if let Err(e) = store.put(&self.endpoint, &actual) {
                        tracing::warn!(error = %e, "cannot save the learned pin");
                    }
                    actual.clone()
                }
            },
            Trust::Insecure | Trust::Ca(_) => return Ok(ServerCertVerified::assertion()),
        };
        if expected == actual {
            return Ok(ServerCertVerified::assertion());
        }
        *self.mismatch.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((expected.clone(), actual.clone()));
        Err(rustls::Error::General(format!(
            "certificate changed: expected {expected}, got {actual}"
        )))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
