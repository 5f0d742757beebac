//! libFuzzer target: a spec text (and its registry file, after the first NUL byte) never
//! breaks `fleetform::invariants::spec`. Seed the corpus with `examples/*/fleet.yaml`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (spec, registry) = text.split_once('\0').unwrap_or((text, "id\n"));
    fleetform::invariants::spec(spec, registry);
});
