//! Shared by the tests/chif_*.rs tests: builds libchifsim.so once per test process, gives
//! each test its own loaded copy (own state) with the test controls, and a tiny HTTP/1.1
//! server standing in for bmcsim that records what CHIF forwarded.
#![allow(dead_code)]

use std::ffi::{c_char, CString};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

/// Builds chifsim into its own target directory (a nested `cargo build` into the running
/// test's target directory could wait forever on its lock) and returns the .so path.
pub fn chifsim_path() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let outer = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target"));
        let target_dir = outer.join("chifsim-build");
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "-p", "chifsim", "--manifest-path"])
            .arg(root.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&target_dir)
            .env_remove("CARGO_TARGET_DIR")
            .status()
            .expect("running cargo to build chifsim");
        assert!(status.success(), "building chifsim failed: {status}");
        let so = target_dir.join("debug/libchifsim.so");
        assert!(so.exists(), "{} missing after the build", so.display());
        so
    })
}

/// One private copy of libchifsim.so: the dynamic loader shares a library loaded twice from
/// one file, so each test copies it to get its own simulated iLO.
pub struct ChifSim {
    pub path: PathBuf,
    lib: libloading::Library,
    _dir: tempfile::TempDir,
}

impl ChifSim {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("libchifsim.so");
        std::fs::copy(chifsim_path(), &path).expect("copy libchifsim.so");
        // SAFETY: our own test library.
        let lib = unsafe { libloading::Library::new(&path) }.expect("load chifsim copy");
        ChifSim {
            path,
            lib,
            _dir: dir,
        }
    }

    /// The loaded library, to call its exports directly.
    pub fn lib(&self) -> &libloading::Library {
        &self.lib
    }

    fn call_str(&self, sym: &str, value: Option<&str>) {
        let f: libloading::Symbol<unsafe extern "C" fn(*const c_char)> =
            unsafe { self.lib.get(sym.as_bytes()) }.expect("chifsim control symbol");
        let c = value.map(|v| CString::new(v).unwrap());
        unsafe { f(c.as_ref().map_or(std::ptr::null(), |c| c.as_ptr())) };
    }

    pub fn set_target(&self, url: &str) {
        self.call_str("chifsim_set_target", Some(url));
    }

    pub fn set_log(&self, path: &Path) {
        self.call_str("chifsim_set_log", Some(path.to_str().unwrap()));
    }

    /// The directory standing for `/dev/hpilo`, shared with other processes (and copies).
    pub fn set_device(&self, dir: &Path) {
        self.call_str("chifsim_set_device", Some(dir.to_str().unwrap()));
    }

    pub fn set_mode(&self, mode: &str) {
        self.call_str("chifsim_set_mode", Some(mode));
    }

    fn call_u32(&self, sym: &str, n: u32) {
        let f: libloading::Symbol<unsafe extern "C" fn(u32)> =
            unsafe { self.lib.get(sym.as_bytes()) }.unwrap();
        unsafe { f(n) };
    }

    pub fn corrupt_sequences(&self, n: u32) {
        self.call_u32("chifsim_corrupt_sequences", n);
    }

    pub fn fail_exchanges(&self, n: u32) {
        self.call_u32("chifsim_fail_exchanges", n);
    }

    pub fn counter(&self, name: &str) -> u64 {
        let f: libloading::Symbol<unsafe extern "C" fn(*const c_char) -> u64> =
            unsafe { self.lib.get(b"chifsim_counter") }.unwrap();
        let c = CString::new(name).unwrap();
        unsafe { f(c.as_ptr()) }
    }

    /// A transport config that loads this copy.
    pub fn config(&self) -> hostagent::transport::chif::ChifConfig {
        hostagent::transport::chif::ChifConfig {
            library: Some(self.path.clone()),
            ..Default::default()
        }
    }
}

type B2 = unsafe extern "C" fn(*const c_char, *const c_char) -> *const u8;
type B3 = unsafe extern "C" fn(*const c_char, *const c_char, *const c_char) -> *const u8;
type Frag = unsafe extern "C" fn(u32, u32, *const c_char, *const c_char) -> *const u8;
type Imm = unsafe extern "C" fn(u32, *const c_char, *const c_char) -> *const u8;

pub fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

/// Calls the builder a fixture line of real-library-packets.txt names, with the arguments it was recorded with.
pub fn build(lib: &libloading::Library, name: &str, size: usize) -> Vec<u8> {
    let ns = c("volatile");
    let (req, rsp2) = (c("REQKEY0001"), c("RSPKEY0002"));
    let ptr = unsafe {
        match name {
            "rest_immediate(100,RSPKEY1234,volatile)" => {
                lib.get::<Imm>(b"rest_immediate").unwrap()(
                    100,
                    c("RSPKEY1234").as_ptr(),
                    ns.as_ptr(),
                )
            }
            "rest_immediate(0x1234,KKKKKKKKKK,volatile)" => {
                lib.get::<Imm>(b"rest_immediate").unwrap()(
                    0x1234,
                    c("KKKKKKKKKK").as_ptr(),
                    ns.as_ptr(),
                )
            }
            "rest_immediate_blobdesc" => lib.get::<B3>(b"rest_immediate_blobdesc").unwrap()(
                req.as_ptr(),
                rsp2.as_ptr(),
                ns.as_ptr(),
            ),
            "get_info" => lib.get::<B2>(b"get_info").unwrap()(rsp2.as_ptr(), ns.as_ptr()),
            "read_fragment(0x10,0x200)" => {
                lib.get::<Frag>(b"read_fragment").unwrap()(0x10, 0x200, rsp2.as_ptr(), ns.as_ptr())
            }
            "delete_blob" => lib.get::<B2>(b"delete_blob").unwrap()(rsp2.as_ptr(), ns.as_ptr()),
            "create_not_blobentry" => {
                lib.get::<B2>(b"create_not_blobentry").unwrap()(req.as_ptr(), ns.as_ptr())
            }
            "write_fragment(0x20,0x300)" => {
                lib.get::<Frag>(b"write_fragment").unwrap()(0x20, 0x300, req.as_ptr(), ns.as_ptr())
            }
            "finalize_blob" => lib.get::<B2>(b"finalize_blob").unwrap()(req.as_ptr(), ns.as_ptr()),
            other => panic!("fixture names an unknown builder call {other:?}"),
        }
    };
    unsafe { std::slice::from_raw_parts(ptr, size) }.to_vec()
}

/// What the fake BMC received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub request_line: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A body of `n` bytes that is valid JSON and not periodic.
pub fn big_json(n: usize) -> Vec<u8> {
    let mut s = String::from("{\"pad\":\"");
    let mut i = 0u64;
    while s.len() < n - 2 {
        s.push(char::from(b'a' + (i.wrapping_mul(7919) % 26) as u8));
        i += 1;
    }
    s.push_str("\"}");
    s.into_bytes()
}

/// A plain-HTTP stand-in for bmcsim on 127.0.0.1. Routes: `/redfish/v1/small` (short JSON),
/// `/redfish/v1/large` (10,000 bytes), `/redfish/v1/chunked`, `/redfish/v1/echo` (returns the
/// request body). Requests without `X-Bmcsim-Channel: chif` get 400.
pub struct FakeBmc {
    pub url: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl FakeBmc {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || serve(stream, &log));
            }
        });
        FakeBmc { url, seen }
    }

    /// The same fake BMC behind TLS with a self-signed certificate (as bmcsim serves).
    pub fn start_tls() -> Self {
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let key =
            rustls::pki_types::PrivateKeyDer::try_from(ck.signing_key.serialize_der()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![ck.cert.der().clone()], key)
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                let (log, config) = (log.clone(), config.clone());
                std::thread::spawn(move || {
                    let conn = rustls::ServerConnection::new(config).unwrap();
                    let mut tls = rustls::StreamOwned::new(conn, tcp);
                    let seen = read_request(&mut BufReader::new(&mut tls));
                    let response = respond(&seen);
                    log.lock().unwrap().push(seen);
                    tls.write_all(&response).unwrap();
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                });
            }
        });
        FakeBmc { url, seen }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(stream: std::net::TcpStream, log: &Mutex<Vec<Seen>>) {
    let seen = read_request(&mut BufReader::new(stream.try_clone().unwrap()));
    let response = respond(&seen);
    log.lock().unwrap().push(seen);
    let mut stream = stream;
    stream.write_all(&response).unwrap();
}

fn read_request(reader: &mut impl BufRead) -> Seen {
    let mut request_line = String::new();
    reader.read_line(&mut request_line).unwrap();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (n, v) = line.split_once(':').unwrap();
        headers.push((n.trim().to_string(), v.trim().to_string()));
    }
    let len = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0; len];
    reader.read_exact(&mut body).unwrap();
    Seen {
        request_line: request_line.trim_end().to_string(),
        headers,
        body,
    }
}

fn respond(seen: &Seen) -> Vec<u8> {
    let reply = |status: &str, body: &[u8]| {
        let mut r = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(body);
        r
    };
    if seen.header("x-bmcsim-channel") != Some("chif") {
        return reply(
            "400 Bad Request",
            b"{\"error\":\"missing X-Bmcsim-Channel: chif\"}",
        );
    }
    let path = seen.request_line.split(' ').nth(1).unwrap_or_default();
    match path {
        "/redfish/v1/small" => reply("200 OK", b"{\"Name\":\"small\"}"),
        "/redfish/v1/large" => reply("200 OK", &big_json(10_000)),
        "/redfish/v1/echo" => reply("201 Created", &seen.body),
        "/redfish/v1/chunked" => b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n".to_vec(),
        _ => reply("404 Not Found", b"{}"),
    }
}
