//! libFuzzer target: a route or alert condition never breaks
//! `fleetform::invariants::condition` (one line in every dialect, the canonical form parses
//! back, each dialect reads its strings back).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        fleetform::invariants::condition(text);
    }
});
