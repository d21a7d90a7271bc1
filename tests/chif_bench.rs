//! Cost of the CHIF path against its baseline, printed as ratios (no timed assertions):
//! the same requests to the same fake BMC, once through ChifTransport → libchifsim.so and
//! once as a plain HTTP/1.1 exchange over a new TCP connection (what chifsim does inside).
//! Run: `cargo test --release --test chif_bench -- --ignored --nocapture`.

mod chif_support;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use chif_support::{ChifSim, FakeBmc};
use hostagent::transport::chif::ChifTransport;
use hostagent::transport::{Request, Transport};

const ROUNDS: u32 = 300;

fn direct(url: &str, path: &str) -> usize {
    let mut s = std::net::TcpStream::connect(url.trim_start_matches("http://")).unwrap();
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Bmcsim-Channel: chif\r\n\r\n"
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    out.len()
}

#[tokio::test]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn chif_overhead_against_direct_http() {
    let sim = ChifSim::new();
    let bmc = FakeBmc::start();
    sim.set_target(&bmc.url);
    let t = ChifTransport::connect(sim.config()).await.unwrap();
    for path in ["/redfish/v1/small", "/redfish/v1/large"] {
        let started = Instant::now();
        for _ in 0..ROUNDS {
            assert!(direct(&bmc.url, path) > 0);
        }
        let base = started.elapsed();
        let exchanges = sim.counter("exchange");
        let started = Instant::now();
        for _ in 0..ROUNDS {
            assert_eq!(t.send(Request::get(path)).await.unwrap().status, 200);
        }
        let chif = started.elapsed();
        let per = |d: Duration| d.as_secs_f64() * 1e6 / f64::from(ROUNDS);
        println!(
            "{path}: direct {:.0} µs/req, chif {:.0} µs/req, ratio {:.2}, {} exchanges/req",
            per(base),
            per(chif),
            chif.as_secs_f64() / base.as_secs_f64(),
            (sim.counter("exchange") - exchanges) / u64::from(ROUNDS)
        );
    }
}
