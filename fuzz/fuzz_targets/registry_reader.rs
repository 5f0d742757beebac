//! libFuzzer target: a registry file, read as CSV (first byte even) or YAML (odd), never
//! breaks `fleetform::invariants::registry`. Seed with `examples/*/devices.csv`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    if let Ok(text) = std::str::from_utf8(rest) {
        fleetform::invariants::registry(text, first % 2 == 0);
    }
});
