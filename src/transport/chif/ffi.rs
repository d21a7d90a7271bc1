//! HPE's CHIF library bound at run time: where to find it, the `extern "C"` signatures (read
//! from HPE's python-ilorest-library, `risblobstore2.py` / `rishpilo.py`), and safe wrappers
//! that copy every library-owned packet buffer at once.

use std::ffi::{c_char, c_int, c_void, CString};
use std::path::{Path, PathBuf};

use libloading::Library;

use crate::transport::TransportError;

/// Where the library is looked for when no path is configured, in this order (ARCHITECTURE.md, "Transports").
pub const SEARCH_PATH: &[&str] = &[
    "/opt/ilorest/lib64/libilorestchif.so",
    "/usr/lib64/ilorest_chif.so",
    "/usr/local/lib64/ilorest_chif.so",
    "/usr/lib/ilorest_chif.so",
    "/usr/local/lib/ilorest_chif.so",
];

/// An opaque channel handle (`ChifCreate` fills one in).
pub type Handle = *mut c_void;

type Builder2 = unsafe extern "C" fn(*const c_char, *const c_char) -> *const u8;
type Builder3 = unsafe extern "C" fn(*const c_char, *const c_char, *const c_char) -> *const u8;
type Fragment = unsafe extern "C" fn(u32, u32, *const c_char, *const c_char) -> *const u8;
type Query = unsafe extern "C" fn() -> c_int;

/// The symbols hostagent uses. Functions whose result HPE's client ignores are declared
/// returning `c_int` and their result is ignored too.
pub struct Fns {
    pub initialize: unsafe extern "C" fn(*mut c_void) -> c_int,
    pub create: unsafe extern "C" fn(*mut Handle) -> c_int,
    pub ping: unsafe extern "C" fn(Handle) -> c_int,
    pub set_recv_timeout: unsafe extern "C" fn(Handle, u32) -> c_int,
    pub exchange: unsafe extern "C" fn(Handle, *const u8, *mut u8, u32) -> c_int,
    pub close: unsafe extern "C" fn(Handle) -> c_int,
    pub is_security_required: Query,
    pub disable_security: Query,
    pub initiate_credentials: Builder2,
    pub verify_credentials: Query,
    pub rest_immediate: unsafe extern "C" fn(u32, *const c_char, *const c_char) -> *const u8,
    pub rest_immediate_blobdesc: Builder3,
    pub create_not_blobentry: Builder2,
    pub write_fragment: Fragment,
    pub finalize_blob: Builder2,
    pub get_info: Builder2,
    pub read_fragment: Fragment,
    pub delete_blob: Builder2,
}

/// The size queries hostagent relies on, read once at load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    pub max_buffer: usize,
    pub max_read: usize,
    pub max_write: usize,
    pub rest_immediate_request: usize,
    pub rest_blob_request: usize,
    pub rest_response_fixed: usize,
    pub response_header_blob: usize,
    pub create_request: usize,
    pub write_request: usize,
    pub read_request: usize,
    pub info_request: usize,
    pub delete_request: usize,
    pub finalize_request: usize,
}

/// A loaded CHIF library. Not thread-safe by itself (the packet builders share one buffer):
/// the transport calls it only under its channel mutex.
pub struct ChifLib {
    pub fns: Fns,
    pub sizes: Sizes,
    path: PathBuf,
    _lib: Library,
}

fn load_error(path: &Path, why: impl std::fmt::Display) -> TransportError {
    TransportError::Chif(format!(
        "cannot load CHIF library {}: {why}",
        path.display()
    ))
}

/// Copies a function pointer out of the library.
///
/// # Safety
/// `T` must be the symbol's true type.
unsafe fn sym<T: Copy>(lib: &Library, path: &Path, name: &str) -> Result<T, TransportError> {
    // SAFETY: the caller guarantees `T` is the symbol's true type; the pointer is copied out
    // while `lib` (which outlives every use, being kept in `ChifLib`) is loaded.
    let s = unsafe { lib.get::<T>(name.as_bytes()) }
        .map_err(|e| load_error(path, format!("symbol {name}: {e}")))?;
    Ok(*s)
}

impl ChifLib {
    /// Loads the configured library, or the first one found on [`SEARCH_PATH`].
    /// A configured path is the only one tried: an explicit choice is never silently replaced.
    pub fn locate(configured: Option<&Path>) -> Result<Self, TransportError> {
        if let Some(path) = configured {
            return Self::load(path);
        }
        let mut tried = Vec::new();
        for candidate in SEARCH_PATH.iter().map(Path::new) {
            if !candidate.exists() {
                tried.push(format!("{} (absent)", candidate.display()));
                continue;
            }
            match Self::load(candidate) {
                Ok(lib) => return Ok(lib),
                Err(e) => tried.push(e.to_string()),
            }
        }
        Err(TransportError::Chif(format!(
            "no usable CHIF library; tried: {}",
            tried.join("; ")
        )))
    }

    /// Loads the library at `path` and binds every symbol hostagent uses.
    pub fn load(path: &Path) -> Result<Self, TransportError> {
        // SAFETY: loading runs the library's initializers; it is HPE's CHIF library or the
        // test stand-in, chosen by the administrator.
        let lib = unsafe { Library::new(path) }.map_err(|e| load_error(path, e))?;
        // SAFETY: the types are the signatures HPE's own client declares for these names.
        let fns = unsafe { bind(&lib, path)? };
        // SAFETY: every size query is `int f(void)` in HPE's client and the stand-in.
        let sizes = unsafe { query_sizes(&lib, path)? };
        check_sizes(&sizes).map_err(|why| load_error(path, why))?;
        Ok(ChifLib {
            fns,
            sizes,
            path: path.to_path_buf(),
            _lib: lib,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// # Safety
/// `lib` must be a CHIF library whose symbols have the signatures declared in [`Fns`].
unsafe fn bind(lib: &Library, p: &Path) -> Result<Fns, TransportError> {
    // SAFETY: the caller vouches for the library; each field's type is the signature HPE's
    // own client declares for that name.
    unsafe {
        Ok(Fns {
            initialize: sym(lib, p, "ChifInitialize")?,
            create: sym(lib, p, "ChifCreate")?,
            ping: sym(lib, p, "ChifPing")?,
            set_recv_timeout: sym(lib, p, "ChifSetRecvTimeout")?,
            exchange: sym(lib, p, "ChifPacketExchange")?,
            close: sym(lib, p, "ChifClose")?,
            is_security_required: sym(lib, p, "ChifIsSecurityRequired")?,
            disable_security: sym(lib, p, "ChifDisableSecurity")?,
            initiate_credentials: sym(lib, p, "initiate_credentials")?,
            verify_credentials: sym(lib, p, "ChifVerifyCredentials")?,
            rest_immediate: sym(lib, p, "rest_immediate")?,
            rest_immediate_blobdesc: sym(lib, p, "rest_immediate_blobdesc")?,
            create_not_blobentry: sym(lib, p, "create_not_blobentry")?,
            write_fragment: sym(lib, p, "write_fragment")?,
            finalize_blob: sym(lib, p, "finalize_blob")?,
            get_info: sym(lib, p, "get_info")?,
            read_fragment: sym(lib, p, "read_fragment")?,
            delete_blob: sym(lib, p, "delete_blob")?,
        })
    }
}

/// # Safety
/// `lib` must export the `size_of_*`/`max_*` queries as `int f(void)`.
unsafe fn query_sizes(lib: &Library, p: &Path) -> Result<Sizes, TransportError> {
    let q = |name: &str| -> Result<usize, TransportError> {
        // SAFETY: every size query is `int f(void)`.
        let f: Query = unsafe { sym(lib, p, name)? };
        // SAFETY: `f` is an argument-less query of the loaded library.
        let v = unsafe { f() };
        usize::try_from(v).map_err(|_| load_error(p, format!("{name}() returned {v}")))
    };
    Ok(Sizes {
        max_buffer: q("get_max_buffer_size")?,
        max_read: q("max_read_size")?,
        max_write: q("max_write_size")?,
        rest_immediate_request: q("size_of_restImmediateRequest")?,
        rest_blob_request: q("size_of_restBlobRequest")?,
        rest_response_fixed: q("size_of_restResponseFixed")?,
        response_header_blob: q("size_of_responseHeaderBlob")?,
        create_request: q("size_of_createRequest")?,
        write_request: q("size_of_writeRequest")?,
        read_request: q("size_of_readRequest")?,
        info_request: q("size_of_infoRequest")?,
        delete_request: q("size_of_deleteRequest")?,
        finalize_request: q("size_of_finalizeRequest")?,
    })
}

/// The flow relies on these relations (true of the real library: 4096/4000/3500).
fn check_sizes(s: &Sizes) -> Result<(), String> {
    let packets = [
        s.rest_immediate_request,
        s.rest_blob_request,
        s.create_request,
        s.write_request,
    ]
    .into_iter()
    .chain([
        s.read_request,
        s.info_request,
        s.delete_request,
        s.finalize_request,
    ]);
    let ok = s.max_buffer <= 1 << 20
        && s.max_read <= s.max_buffer
        && s.max_write <= s.max_buffer
        && s.max_write > s.rest_immediate_request.max(s.write_request)
        && s.max_read > s.read_request.max(s.rest_response_fixed)
        && s.response_header_blob >= 12
        && packets
            .into_iter()
            .all(|n| (12..=s.max_buffer).contains(&n));
    if ok {
        Ok(())
    } else {
        Err(format!("implausible packet sizes {s:?}"))
    }
}

/// Serializes builder calls process-wide: the library builds every packet in one buffer of its
/// own, shared by all channels (and by every `ChifLib` loaded from the same file).
static BUILDER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Packet builders: each returns a copy of the library's buffer, `size` bytes long.
impl ChifLib {
    fn built(
        &self,
        what: &str,
        size: usize,
        call: impl FnOnce() -> *const u8,
    ) -> Result<Vec<u8>, TransportError> {
        let _guard = BUILDER
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let ptr = call();
        if ptr.is_null() {
            return Err(TransportError::Chif(format!("{what} returned no packet")));
        }
        // SAFETY: the library returns a buffer of at least `size_of_*` bytes; copied at once,
        // before any other call can overwrite it.
        Ok(unsafe { std::slice::from_raw_parts(ptr, size) }.to_vec())
    }

    pub fn rest_immediate(
        &self,
        len: u32,
        rsp: &CString,
        ns: &CString,
    ) -> Result<Vec<u8>, TransportError> {
        self.built(
            "rest_immediate",
            self.sizes.rest_immediate_request,
            // SAFETY: NUL-terminated strings that outlive the call; `built` copies the result.
            || unsafe { (self.fns.rest_immediate)(len, rsp.as_ptr(), ns.as_ptr()) },
        )
    }

    pub fn rest_immediate_blobdesc(
        &self,
        req: &CString,
        rsp: &CString,
        ns: &CString,
    ) -> Result<Vec<u8>, TransportError> {
        self.built(
            "rest_immediate_blobdesc",
            self.sizes.rest_blob_request,
            // SAFETY: NUL-terminated strings that outlive the call; `built` copies the result.
            || unsafe {
                (self.fns.rest_immediate_blobdesc)(req.as_ptr(), rsp.as_ptr(), ns.as_ptr())
            },
        )
    }

    pub fn create_not_blobentry(
        &self,
        key: &CString,
        ns: &CString,
    ) -> Result<Vec<u8>, TransportError> {
        self.built(
            "create_not_blobentry",
            self.sizes.create_request,
            // SAFETY: NUL-terminated strings that outlive the call; `built` copies the result.
            || unsafe { (self.fns.create_not_blobentry)(key.as_ptr(), ns.as_ptr()) },
        )
    }

    pub fn write_fragment(
        &self,
        off: u32,
        n: u32,
        key: &CString,
        ns: &CString,
    ) -> Result<Vec<u8>, TransportError> {
        // SAFETY: NUL-terminated strings that outlive the call; `built` copies the result.
        self.built("write_fragment", self.sizes.write_request, || unsafe {
            (self.fns.write_fragment)(off, n, key.as_ptr(), ns.as_ptr())
        })
    }

    pub fn read_fragment(
        &self,
        off: u32,
        n: u32,
        key: &CString,
        ns: &CString,
    ) -> Result<Vec<u8>, TransportError> {
        // SAFETY: NUL-terminated strings that outlive the call; `built` copies the result.
        self.built("read_fragment", self.sizes.read_request, || unsafe {
            (self.fns.read_fragment)(off, n, key.as_ptr(), ns.as_ptr())
        })
    }

    pub fn finalize_blob(&self, key: &CString, ns: &CString) -> Result<Vec<u8>, TransportError> {
        // SAFETY: NUL-terminated strings that outlive the call; `built` copies the result.
        self.built("finalize_blob", self.sizes.finalize_request, || unsafe {
            (self.fns.finalize_blob)(key.as_ptr(), ns.as_ptr())
        })
    }

    pub fn get_info(&self, key: &CString, ns: &CString) -> Result<Vec<u8>, TransportError> {
        // SAFETY: NUL-terminated strings that outlive the call; `built` copies the result.
        self.built("get_info", self.sizes.info_request, || unsafe {
            (self.fns.get_info)(key.as_ptr(), ns.as_ptr())
        })
    }

    pub fn delete_blob(&self, key: &CString, ns: &CString) -> Result<Vec<u8>, TransportError> {
        // SAFETY: NUL-terminated strings that outlive the call; `built` copies the result.
        self.built("delete_blob", self.sizes.delete_request, || unsafe {
            (self.fns.delete_blob)(key.as_ptr(), ns.as_ptr())
        })
    }
}
