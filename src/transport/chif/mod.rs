//! The `chif` transport (iLO 5/6): HTTP requests as raw HTTP/1.1 text in CHIF blobstore
//! packets, through HPE's CHIF library loaded at run time (`ffi`), over one channel kept for
//! the transport's life (`channel`). `packet` parses the firmware's replies and `http_text`
//! the HTTP text; both are fuzzed. See docs/CHIF.md.
//!
//! In Production mode CHIF needs no session ([`Transport::sessionless`]); in FIPS /
//! HighSecurity mode the library must verify credentials first, else every request fails
//! with [`TransportError::CredentialsRequired`].

mod channel;
pub mod ffi;
pub mod http_text;
pub mod packet;

use std::ffi::CString;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use http::Method;

use self::channel::Channel;
use self::ffi::ChifLib;
use super::{Request, SendFuture, Transport, TransportError};
use crate::secret::Secret;

/// Where the `hpilo` driver puts its CHIF channel devices (`/dev/hpilo/dXccbN`).
pub const DEVICE_DIR: &str = "/dev/hpilo";

/// Whether this host has the iLO CHIF device, without loading any library: `transport =
/// "auto"` can skip CHIF cheaply when it is absent (the library would answer `ChifPing` 19).
pub fn device_present() -> bool {
    std::path::Path::new(DEVICE_DIR).exists()
}

/// Credentials for CHIF in FIPS / HighSecurity mode.
#[derive(Debug, Clone)]
pub struct ChifCredentials {
    pub user: String,
    pub password: Secret,
}

/// How to open the transport.
#[derive(Debug, Clone)]
pub struct ChifConfig {
    /// The library to load; `None`: the first found on [`ffi::SEARCH_PATH`]. A configured path
    /// is the only one tried.
    pub library: Option<PathBuf>,
    /// Used only when the library reports that security is required.
    pub credentials: Option<ChifCredentials>,
    /// Receive timeout of one exchange (HPE's client uses 60 s).
    pub recv_timeout: Duration,
    /// Resends after a transient exchange error (never for POST/PATCH requests).
    pub retries: u32,
}

impl Default for ChifConfig {
    fn default() -> Self {
        ChifConfig {
            library: None,
            credentials: None,
            recv_timeout: Duration::from_secs(60),
            retries: 2,
        }
    }
}

/// The CHIF transport. Cheap to share; every exchange runs under one mutex, on tokio's
/// blocking pool, and a request holds it from its first packet to its last (request blob,
/// REST command, response blob, deletes). One process has at most one channel per library:
/// opening again while a transport on that library lives shares its channel and mutex. The
/// last reference dropped closes the channel (`ChifClose`).
pub struct ChifTransport {
    shared: Arc<Shared>,
    default_timeout: Duration,
}

/// The one channel of a library in this process and what its opening learned.
struct Shared {
    channel: Mutex<Channel>,
    library: PathBuf,
    sessionless: bool,
}

/// The channels open in this process, by the library's canonical path. The CHIF device's
/// channels are scarce (8-24 per host) and a second channel of ours would let two of our
/// exchanges overlap on the device; the library's global state (`ChifInitialize`, security)
/// must not change under an open channel either.
static OPEN: Mutex<Vec<(PathBuf, Weak<Shared>)>> = Mutex::new(Vec::new());

impl ChifTransport {
    /// Loads the library and opens the channel, or shares the channel this process already
    /// has on that library (then `config`'s credentials, retries and timeout of the first
    /// opening hold; a request's own timeout still applies). Blocking: call from a blocking
    /// context, or use [`ChifTransport::connect`].
    pub fn open(config: &ChifConfig) -> Result<Self, TransportError> {
        // Held through the opening, so that two at once cannot both make a channel.
        let mut open = OPEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        open.retain(|(_, weak)| weak.strong_count() > 0);
        let lib = ChifLib::locate(config.library.as_deref())?;
        let library = lib.path().to_path_buf();
        let key = std::fs::canonicalize(&library).unwrap_or_else(|_| library.clone());
        if let Some(shared) = open
            .iter()
            .find(|(path, _)| *path == key)
            .and_then(|(_, weak)| weak.upgrade())
        {
            tracing::debug!(library = %library.display(), "sharing this process's CHIF channel");
            return Ok(ChifTransport {
                shared,
                default_timeout: config.recv_timeout,
            });
        }
        // SAFETY: ChifInitialize takes a reserved pointer that HPE's client passes as NULL.
        unsafe { (lib.fns.initialize)(std::ptr::null_mut()) };
        let sessionless = establish_security(&lib, config.credentials.as_ref())?;
        let channel = Channel::create(lib, config.retries, config.recv_timeout)?;
        tracing::info!(library = %library.display(), sessionless, "CHIF channel open");
        let shared = Arc::new(Shared {
            channel: Mutex::new(channel),
            library,
            sessionless,
        });
        open.push((key, Arc::downgrade(&shared)));
        Ok(ChifTransport {
            shared,
            default_timeout: config.recv_timeout,
        })
    }

    /// [`ChifTransport::open`] on the blocking pool.
    pub async fn connect(config: ChifConfig) -> Result<Self, TransportError> {
        tokio::task::spawn_blocking(move || Self::open(&config))
            .await
            .map_err(|e| TransportError::Chif(format!("opening the CHIF channel panicked: {e}")))?
    }

    fn send_blocking(
        shared: &Shared,
        text: &[u8],
        idempotent: bool,
        timeout: Duration,
    ) -> Result<Vec<u8>, TransportError> {
        let mut ch = shared
            .channel
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        ch.set_timeout(timeout);
        ch.rest(text, idempotent)
    }
}

/// Checks whether the iLO requires credentials on CHIF and supplies them if so.
/// Returns whether requests need no session (Production mode).
fn establish_security(
    lib: &ChifLib,
    creds: Option<&ChifCredentials>,
) -> Result<bool, TransportError> {
    // SAFETY: argument-less queries of the loaded library.
    if unsafe { (lib.fns.is_security_required)() } <= 0 {
        // NOTE(vendor): HPE's client disables CHIF security when the iLO does not require it
        // (python-ilorest-library risblobstore2.py `initializecreds`).
        // SAFETY: an argument-less call of the loaded library.
        unsafe { (lib.fns.disable_security)() };
        return Ok(true);
    }
    let Some(creds) = creds else {
        return Err(TransportError::CredentialsRequired);
    };
    let invalid = |_| TransportError::Chif("CHIF credentials contain a NUL byte".into());
    let user = CString::new(creds.user.as_bytes()).map_err(invalid)?;
    if creds.password.expose().contains('\0') {
        return Err(TransportError::Chif(
            "CHIF credentials contain a NUL byte".into(),
        ));
    }
    // A NUL-terminated copy that is wiped when dropped.
    let mut password =
        zeroize::Zeroizing::new(Vec::with_capacity(creds.password.expose().len() + 1));
    password.extend_from_slice(creds.password.expose().as_bytes());
    password.push(0);
    // SAFETY: two NUL-terminated strings; the returned library buffer is not needed.
    unsafe { (lib.fns.initiate_credentials)(user.as_ptr(), password.as_ptr().cast()) };
    // SAFETY: an argument-less query of the loaded library.
    match unsafe { (lib.fns.verify_credentials)() } {
        0 => Ok(false),
        13 => Err(TransportError::Chif(format!(
            "the iLO refused the CHIF credentials of user {:?}",
            creds.user
        ))),
        rc => Err(TransportError::Chif(format!(
            "ChifVerifyCredentials failed with error {rc}"
        ))),
    }
}

impl Transport for ChifTransport {
    fn send(&self, req: Request) -> SendFuture<'_> {
        Box::pin(async move {
            let text = http_text::encode_request(&req)?;
            let idempotent = !matches!(req.method, Method::POST | Method::PATCH);
            let head = req.method == Method::HEAD;
            let timeout = req.timeout.unwrap_or(self.default_timeout);
            let shared = Arc::clone(&self.shared);
            let raw = tokio::task::spawn_blocking(move || {
                Self::send_blocking(&shared, &text, idempotent, timeout)
            })
            .await
            .map_err(|e| TransportError::Chif(format!("CHIF exchange panicked: {e}")))??;
            http_text::parse_response(&raw, head)
                .map_err(|e| TransportError::Malformed(format!("HTTP response over CHIF: {e}")))
        })
    }

    fn kind(&self) -> &'static str {
        "chif"
    }

    fn endpoint(&self) -> String {
        format!("chif:{}", self.shared.library.display())
    }

    fn sessionless(&self) -> bool {
        self.shared.sessionless
    }
}

impl std::fmt::Debug for ChifTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChifTransport")
            .field("library", &self.shared.library)
            .field("sessionless", &self.shared.sessionless)
            .finish()
    }
}

/// Re-exported for tests and the fuzz target.
pub use channel::MAX_RESPONSE;
