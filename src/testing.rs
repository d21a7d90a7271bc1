//! What the unit tests share (test builds only).

/// One step of Marsaglia's xorshift64: the fixed-seed generator of the "random and mutated
/// input never panics" tests, so that each run mutates the same inputs.
pub fn xorshift(x: &mut u64) {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
}
