//! HPE's real CHIF library (from the `ilorest` wheel on PyPI), on a host without an iLO: the
//! transport binds every symbol, its sizes and packets equal chifsim's, `ChifCreate` works,
//! `ChifPing` returns 19 and the transport says "no iLO CHIF device".
//!
//! Safety: the library probes the in-band network path, so everything that loads it runs in a
//! child process inside a private network namespace (`unshare -n`).

mod chif_support;

use std::ffi::{c_int, c_void};
use std::path::{Path, PathBuf};
use std::process::Command;

use chif_support::{build, chifsim_path};
use hostagent::transport::chif::ffi::ChifLib;
use hostagent::transport::chif::{ChifConfig, ChifTransport};
use hostagent::transport::TransportError;

const CHILD_LIB: &str = "HOSTAGENT_CHIF_CHILD_REAL_LIB";
const CHILD_SIM: &str = "HOSTAGENT_CHIF_CHILD_CHIFSIM";
const CHILD_NETNS: &str = "HOSTAGENT_CHIF_CHILD_PARENT_NETNS";

/// Env `HOSTAGENT_REAL_CHIF_LIB`, else the `ilorest` package in its venv
/// (`HOSTAGENT_ILOREST_VENV` or `<repo>/.venv-ilorest`, made by `.ci/run`).
fn real_library() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("HOSTAGENT_REAL_CHIF_LIB") {
        return Some(PathBuf::from(p));
    }
    let venv = std::env::var_os("HOSTAGENT_ILOREST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-ilorest"));
    let lib = std::fs::read_dir(venv.join("lib")).ok()?;
    lib.flatten()
        .map(|py| {
            py.path()
                .join("site-packages/ilorest/chiflibrary/ilorest_chif.so")
        })
        .find(|p| p.exists())
}

fn skip(reason: &str) {
    if std::env::var("HOSTAGENT_REQUIRE_PRIVILEGED").as_deref() == Ok("1") {
        panic!("required test cannot run: {reason}");
    }
    eprintln!("SKIPPED: {reason}");
}

#[test]
fn real_hpe_library_in_private_netns() {
    let Some(real) = real_library() else {
        return skip("HPE's ilorest_chif.so not found (set HOSTAGENT_REAL_CHIF_LIB or install ilorest in .venv-ilorest)");
    };
    assert!(real.exists(), "{} does not exist", real.display());
    match Command::new("unshare").args(["-n", "true"]).status() {
        Ok(s) if s.success() => {}
        other => return skip(&format!("`unshare -n` unavailable (needs root): {other:?}")),
    }
    let sim = chifsim_path(); // built here: the child has no network
    let out = Command::new("unshare")
        .arg("-n")
        .arg("--")
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_real_library",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_LIB, &real)
        .env(CHILD_SIM, sim)
        .env(CHILD_NETNS, netns_id())
        .output()
        .expect("running the child test");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "child failed:\n{text}");
    assert!(
        text.contains("1 passed"),
        "the child test did not run:\n{text}"
    );
    eprintln!("{text}");
}

fn netns_id() -> PathBuf {
    std::fs::read_link("/proc/self/ns/net").expect("reading /proc/self/ns/net")
}

/// The child must be in another network namespace than the test, one with only `lo`.
fn assert_private_netns() {
    let parent = std::env::var_os(CHILD_NETNS).expect("parent netns id");
    assert_ne!(
        netns_id().as_os_str(),
        parent,
        "refusing to load HPE's library in the host's network namespace"
    );
    let ifaces: Vec<String> = nix::net::if_::if_nameindex()
        .expect("listing interfaces")
        .iter()
        .map(|i| i.name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        ifaces,
        ["lo"],
        "refusing to load HPE's library where it could reach a network"
    );
}

#[test]
#[ignore = "run by real_hpe_library_in_private_netns inside unshare -n"]
fn child_real_library() {
    let (Some(real), Some(sim)) = (std::env::var_os(CHILD_LIB), std::env::var_os(CHILD_SIM)) else {
        panic!("run through real_hpe_library_in_private_netns");
    };
    assert_private_netns();
    let (real, sim) = (PathBuf::from(real), PathBuf::from(sim));

    let bound = ChifLib::load(&real).expect("the transport binds every symbol of the real library");
    assert_eq!(
        bound.sizes,
        ChifLib::load(&sim).unwrap().sizes,
        "sizes the transport uses"
    );
    drop(bound);

    let real_lib = unsafe { libloading::Library::new(&real) }.unwrap();
    let sim_lib = unsafe { libloading::Library::new(&sim) }.unwrap();
    for name in SIZE_QUERIES {
        let query = |lib: &libloading::Library| unsafe {
            lib.get::<unsafe extern "C" fn() -> c_int>(name.as_bytes())
                .unwrap()()
        };
        assert_eq!(query(&real_lib), query(&sim_lib), "{name}");
    }
    for (name, size) in BUILDER_CALLS {
        let (r, s) = (build(&real_lib, name, size), build(&sim_lib, name, size));
        assert_eq!((&r[..2], &r[4..]), (&s[..2], &s[4..]), "{name}");
    }

    unsafe {
        // ChifCreate returns 84 unless ChifInitialize ran first.
        real_lib
            .get::<unsafe extern "C" fn(*mut c_void) -> c_int>(b"ChifInitialize")
            .unwrap()(std::ptr::null_mut());
        let create = real_lib
            .get::<unsafe extern "C" fn(*mut *mut c_void) -> c_int>(b"ChifCreate")
            .unwrap();
        let ping = real_lib
            .get::<unsafe extern "C" fn(*mut c_void) -> c_int>(b"ChifPing")
            .unwrap();
        let close = real_lib
            .get::<unsafe extern "C" fn(*mut c_void) -> c_int>(b"ChifClose")
            .unwrap();
        let mut handle = std::ptr::null_mut();
        assert_eq!(create(&mut handle), 0, "ChifCreate");
        assert_eq!(ping(handle), 19, "ChifPing without /dev/hpilo");
        close(handle);
    }

    let cfg = ChifConfig {
        library: Some(real.clone()),
        ..Default::default()
    };
    let err = ChifTransport::open(&cfg).unwrap_err();
    assert!(
        matches!(&err, TransportError::Connect { reason, .. } if reason.contains("no iLO CHIF device")),
        "{err:?}"
    );
    println!("real library: {err}");
}

const SIZE_QUERIES: [&str; 26] = [
    "get_max_buffer_size",
    "max_read_size",
    "max_write_size",
    "size_of_restImmediateRequest",
    "size_of_restBlobRequest",
    "size_of_restResponseFixed",
    "size_of_restResponse",
    "size_of_responseHeaderBlob",
    "size_of_createRequest",
    "size_of_createResponse",
    "size_of_writeRequest",
    "size_of_writeResponse",
    "size_of_readRequest",
    "size_of_readResponse",
    "size_of_infoRequest",
    "size_of_infoResponse",
    "size_of_deleteRequest",
    "size_of_deleteResponse",
    "size_of_finalizeRequest",
    "size_of_finalizeResponse",
    "size_of_listRequest",
    "size_of_listResponse",
    "size_of_listResponseFixed",
    "size_of_chifCredentialsBuffer",
    "size_of_securityStateRequest",
    "size_of_securityStateResponse",
];

const BUILDER_CALLS: [(&str, usize); 9] = [
    ("rest_immediate(100,RSPKEY1234,volatile)", 68),
    ("rest_immediate(0x1234,KKKKKKKKKK,volatile)", 68),
    ("rest_immediate_blobdesc", 116),
    ("get_info", 60),
    ("read_fragment(0x10,0x200)", 132),
    ("delete_blob", 124),
    ("create_not_blobentry", 492),
    ("write_fragment(0x20,0x300)", 196),
    ("finalize_blob", 124),
];
