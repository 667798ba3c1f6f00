//! A small deterministic generator (xorshift) for the generated-value tests, so that a failure
//! names a reproducible seed.

pub(crate) trait Xorshift {
    fn state(&mut self) -> &mut u64;

    fn next(&mut self) -> u64 {
        let state = self.state();
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    fn below(&mut self, n: u64) -> usize {
        (self.next() % n) as usize
    }
}

/// A well-mixed, non-zero starting state for test case `seed`.
pub(crate) fn seed_state(seed: u64) -> u64 {
    seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1
}
