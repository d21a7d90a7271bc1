//! What agentctl reads from the local daemon, on arbitrary bytes: the `/metrics` exposition
//! that `agentctl top` draws (`Frame::parse`, `draw`), and `clean`'s NDJSON progress lines
//! (`NdjsonLines`) cut into frames at the positions the input's first bytes give. No panic;
//! the lines seen are at most the line ends sent.
#![no_main]

use hostagent::agentctl::client::NdjsonLines;
use hostagent::agentctl::top::frame::Frame;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        let frame = Frame::parse(&String::from_utf8_lossy(rest));
        let _ = frame.draw(1_000.0, Some(f64::from(mode)));
        let _ = frame.draw(f64::MAX, None);
        return;
    }
    let (mut lines, mut seen, mut at) = (NdjsonLines::default(), 0usize, 0);
    for cut in rest.chunks(1 + usize::from(mode >> 1)) {
        if lines.push(cut, &mut |_| seen += 1).is_err() {
            return;
        }
        at += cut.len();
    }
    let ends = rest[..at].iter().filter(|b| **b == b'\n').count();
    assert!(seen < ends.max(1));
    let _ = lines.finish();
});
