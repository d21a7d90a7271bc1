//! CHIF is one channel per process and one exchange at a time on it. chifsim refuses an
//! exchange that overlaps another on its channel (error 16, counted as `overlap`) and hands out
//! the channels of a device directory shared between processes exclusively, like the `hpilo`
//! driver (docs/CHIF.md, "One channel, one exchange at a time"). These tests check that model
//! with raw calls of the ABI, and that hostagent opens one channel per library per process.

mod chif_support;

use std::ffi::{c_int, c_void};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use chif_support::{c, ChifSim, FakeBmc};
use hostagent::transport::chif::ChifTransport;
use hostagent::transport::{Request, Transport};

type Create = unsafe extern "C" fn(*mut *mut c_void) -> c_int;
type Exchange = unsafe extern "C" fn(*mut c_void, *const u8, *mut u8, u32) -> c_int;
type Imm = unsafe extern "C" fn(u32, *const std::ffi::c_char, *const std::ffi::c_char) -> *const u8;

/// A handle as a plain number, so that threads may share it (chifsim's handles are numbers).
#[derive(Clone, Copy)]
struct Handle(usize);

fn create(sim: &ChifSim) -> Result<Handle, c_int> {
    let lib = sim.lib();
    let mut h: *mut c_void = std::ptr::null_mut();
    // SAFETY: chifsim's exports with the ABI of HPE's library.
    let rc = unsafe {
        lib.get::<unsafe extern "C" fn(*mut c_void) -> c_int>(b"ChifInitialize")
            .unwrap()(std::ptr::null_mut());
        lib.get::<Create>(b"ChifCreate").unwrap()(&mut h)
    };
    if rc == 0 {
        Ok(Handle(h as usize))
    } else {
        Err(rc)
    }
}

fn close(sim: &ChifSim, h: Handle) {
    // SAFETY: a handle ChifCreate returned.
    let rc = unsafe {
        sim.lib()
            .get::<unsafe extern "C" fn(*mut c_void) -> c_int>(b"ChifClose")
            .unwrap()(h.0 as *mut c_void)
    };
    assert_eq!(rc, 0);
}

/// One REST exchange (`GET path`, inline) on `h`: the library's return code.
fn raw_get(sim: &ChifSim, h: Handle, path: &str) -> c_int {
    let text = format!("GET {path} HTTP/1.1\r\nHost: \r\n\r\n");
    let lib = sim.lib();
    let (key, ns) = (c("RSPKEY0001"), c("volatile"));
    // SAFETY: the builder returns a library buffer of size_of_restImmediateRequest (68) bytes.
    let mut pkt = unsafe {
        let p = lib.get::<Imm>(b"rest_immediate").unwrap()(
            text.len() as u32,
            key.as_ptr(),
            ns.as_ptr(),
        );
        std::slice::from_raw_parts(p, 68).to_vec()
    };
    pkt.extend_from_slice(text.as_bytes());
    pkt.resize(4096, 0);
    let mut recv = vec![0u8; 4096];
    // SAFETY: both buffers are get_max_buffer_size() (4096) bytes.
    unsafe {
        lib.get::<Exchange>(b"ChifPacketExchange").unwrap()(
            h.0 as *mut c_void,
            pkt.as_ptr(),
            recv.as_mut_ptr(),
            4096,
        )
    }
}

/// A loopback HTTP server that answers every request `200 {}`, except that a request for a
/// path containing `/hold` is reported on `arrived` and answered only after `release` says so.
fn holding_bmc() -> (String, mpsc::Receiver<()>, mpsc::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (arrived_tx, arrived) = mpsc::channel();
    let (release, release_rx) = mpsc::channel::<()>();
    let release_rx = std::sync::Arc::new(std::sync::Mutex::new(release_rx));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (arrived_tx, release_rx) = (arrived_tx.clone(), release_rx.clone());
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap() == 0 || header == "\r\n" {
                        break;
                    }
                }
                if line.contains("/hold") {
                    arrived_tx.send(()).unwrap();
                    release_rx.lock().unwrap().recv().unwrap();
                }
                let mut stream = stream;
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
            });
        }
    });
    (url, arrived, release)
}

#[test]
fn an_exchange_overlapping_another_on_its_channel_fails_with_16_and_is_counted() {
    let sim = ChifSim::new();
    let (url, arrived, release) = holding_bmc();
    sim.set_target(&url);
    let h = create(&sim).expect("a channel");
    std::thread::scope(|s| {
        let first = s.spawn(|| raw_get(&sim, h, "/redfish/v1/hold"));
        arrived
            .recv_timeout(Duration::from_secs(10))
            .expect("the first exchange reached the BMC");
        assert_eq!(
            raw_get(&sim, h, "/redfish/v1/small"),
            16,
            "a second exchange while the first is in flight on the same channel"
        );
        assert_eq!(sim.counter("overlap"), 1);
        release.send(()).unwrap();
        assert_eq!(first.join().unwrap(), 0, "the first exchange is answered");
    });
    assert_eq!(
        raw_get(&sim, h, "/redfish/v1/small"),
        0,
        "the channel is idle again"
    );
    // Another channel is another queue: it may exchange while the first is busy.
    let other = create(&sim).expect("a second channel");
    std::thread::scope(|s| {
        let held = s.spawn(|| raw_get(&sim, h, "/redfish/v1/hold"));
        arrived.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(raw_get(&sim, other, "/redfish/v1/small"), 0);
        release.send(()).unwrap();
        assert_eq!(held.join().unwrap(), 0);
    });
    assert_eq!(sim.counter("overlap"), 1, "no other overlap");
}

#[test]
fn the_device_hands_out_its_eight_channels_exclusively_across_loaded_copies() {
    let dir = tempfile::tempdir().unwrap();
    // Two copies of the library have separate state, as two processes do; the device
    // directory is all they share.
    let (a, b) = (ChifSim::new(), ChifSim::new());
    a.set_device(dir.path());
    b.set_device(dir.path());
    let first = create(&a).expect("a's channel");
    assert_eq!(b.counter("device_channels"), 1, "b sees a's channel taken");
    let mut taken: Vec<Handle> = (0..7).map(|_| create(&b).expect("free channel")).collect();
    assert_eq!(create(&b).err(), Some(16), "all 8 channels are open: EBUSY");
    assert_eq!(a.counter("device_channels"), 8);
    close(&a, first);
    taken.push(create(&b).expect("a's closed channel is free again"));
    assert_eq!(a.counter("device_channels"), 8);
    for h in taken {
        close(&b, h);
    }
    assert_eq!(a.counter("device_channels"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_transport_on_the_same_library_shares_the_one_channel() {
    let sim = ChifSim::new();
    let bmc = FakeBmc::start();
    sim.set_target(&bmc.url);
    let t1 = ChifTransport::connect(sim.config()).await.unwrap();
    let t2 = ChifTransport::connect(sim.config()).await.unwrap();
    assert_eq!(
        (sim.counter("create"), sim.counter("channels")),
        (1, 1),
        "one channel in the process"
    );
    let sends = (0..16).map(|i| {
        let t = if i % 2 == 0 { &t1 } else { &t2 };
        t.send(Request::get("/redfish/v1/large"))
    });
    for rsp in futures::future::join_all(sends).await {
        assert_eq!(rsp.unwrap().body.len(), 10_000);
    }
    assert_eq!(sim.counter("overlap"), 0, "their exchanges took turns");
    drop(t1);
    assert_eq!(sim.counter("close"), 0, "t2 still uses the channel");
    assert_eq!(
        t2.send(Request::get("/redfish/v1/small"))
            .await
            .unwrap()
            .status,
        200
    );
    drop(t2);
    assert_eq!(sim.counter("close"), 1, "the last one closed it");
    let t3 = ChifTransport::connect(sim.config()).await.unwrap();
    assert_eq!(
        sim.counter("create"),
        2,
        "a new opening after that opens anew"
    );
    drop(t3);
}
