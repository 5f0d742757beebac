//! Properties of the loader: no input makes it panic, and a spec survives being written out
//! and read back (JSON is YAML 1.2, so the serialized spec is a valid spec document).

mod common;

use fleetform::validate::{NoFiles, validate};
use proptest::prelude::*;

fn example_texts() -> Vec<String> {
    common::examples()
        .into_iter()
        .map(|(_, p)| std::fs::read_to_string(p).unwrap())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Arbitrary text never panics, and a rejected input always says where and why.
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        let outcome = validate("fuzz.yaml", &text, &NoFiles);
        if outcome.validated.is_none() {
            prop_assert!(outcome.diagnostics.has_errors());
            for d in &outcome.diagnostics {
                prop_assert!(d.location.is_some());
            }
        }
    }

    /// Examples with a slice cut out, or a line repeated, or junk inserted, never panic.
    #[test]
    fn mutated_examples_never_panic(
        which in 0usize..64,
        at in 0usize..10_000,
        len in 0usize..200,
        junk in "[ -~\\n\\t{}\\[\\]:&*!|>'\"%$#-]{0,40}",
        op in 0u8..3,
    ) {
        let texts = example_texts();
        let text = &texts[which % texts.len()];
        let mut bytes = text.as_bytes().to_vec();
        let at = at % (bytes.len() + 1);
        match op {
            0 => { let end = (at + len).min(bytes.len()); bytes.drain(at..end); }
            1 => { bytes.splice(at..at, junk.bytes()); }
            _ => {
                let line_start = text[..at.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
                let line_end = text[line_start..].find('\n').map_or(text.len(), |i| line_start + i + 1);
                let line = bytes[line_start..line_end].to_vec();
                bytes.splice(line_start..line_start, line);
            }
        }
        let mutated = String::from_utf8_lossy(&bytes).into_owned();
        let outcome = validate("mutated.yaml", &mutated, &NoFiles);
        if outcome.validated.is_none() {
            prop_assert!(outcome.diagnostics.has_errors());
        }
    }

    /// Changing numbers in a valid spec and writing it back out keeps the loader consistent:
    /// the reloaded spec equals the written one whenever it is valid.
    #[test]
    fn specs_round_trip_through_serialization(
        devices in 1u64..1_000_000,
        bytes in 1u64..100_000,
        rate in 0.0f64..1000.0,
    ) {
        let minimal = std::fs::read_to_string(common::root().join("examples/minimal/fleet.yaml")).unwrap();
        let base = validate("minimal.yaml", &minimal, &NoFiles).validated.unwrap().spec;
        let mut spec = base.clone();
        spec.fleet.devices = devices;
        spec.messaging.message_bytes = bytes;
        spec.messaging.messages_per_device_per_hour = rate;
        let text = serde_json::to_string_pretty(&spec).unwrap();
        let again = validate("roundtrip.yaml", &text, &NoFiles);
        if let Some(v) = again.validated {
            prop_assert_eq!(v.spec, spec);
        } else {
            // Only limits that depend on the numbers may reject it (e.g. messages over 128 KiB
            // on AWS); never a parse or schema error.
            for d in &again.diagnostics {
                prop_assert!(!matches!(d.code, "yaml-syntax" | "unknown-key" | "wrong-type" | "missing-key"), "{:?}", d);
            }
        }
    }
}

#[test]
fn every_example_round_trips() {
    for (name, path) in common::examples() {
        let text = std::fs::read_to_string(&path).unwrap();
        let dir = common::Dir(path.parent().unwrap().to_path_buf());
        let spec = validate(&name, &text, &dir).validated.unwrap().spec;
        let written = serde_json::to_string(&spec).unwrap();
        let again = validate(&name, &written, &dir)
            .validated
            .unwrap_or_else(|| panic!("{name} round trip"))
            .spec;
        assert_eq!(again, spec, "{name}");
    }
}
