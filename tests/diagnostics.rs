//! Bad input: every fixture in `fixtures/invalid/` fails validation with the diagnostics
//! pinned in its snapshot (human rendering and JSON), and nothing panics.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use fleetform::diagnostics::{render_human, render_json};
use fleetform::validate::{Files, validate};

struct Dir(PathBuf);

impl Files for Dir {
    fn read(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.0.join(path)).map_err(|e| e.kind().to_string())
    }
}

fn check(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let name = format!(
        "fixtures/invalid/{}",
        path.file_name().unwrap().to_string_lossy()
    );
    let outcome = validate(&name, &text, &Dir(path.parent().unwrap().to_path_buf()));
    assert!(outcome.validated.is_none(), "{name} should be invalid");
    assert!(
        outcome.diagnostics.has_errors(),
        "{name} should report an error"
    );
    for d in &outcome.diagnostics {
        assert!(
            d.location.is_some(),
            "{name}: every diagnostic has a location: {d:?}"
        );
        assert!(
            !d.hints.is_empty(),
            "{name}: every diagnostic says how to fix it: {d:?}"
        );
    }
    let human = render_human(&outcome.diagnostics, &outcome.sources, false);
    let json = render_json(&outcome.diagnostics, &outcome.sources);
    format!("{human}\n----- json -----\n{json}")
}

#[test]
fn invalid_fixtures() {
    let count =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/invalid"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "yaml")
            })
            .count();
    assert!(count >= 25, "at least 25 invalid fixtures, found {count}");
    insta::glob!("fixtures/invalid/*.yaml", |path| {
        insta::assert_snapshot!(check(path));
    });
}

#[test]
fn ten_megabyte_spec_is_refused_without_parsing() {
    let mut text = String::from("version: 1\n");
    while text.len() < 10 * 1024 * 1024 {
        text.push_str(
            "# padding padding padding padding padding padding padding padding padding\n",
        );
    }
    let outcome = validate("big.yaml", &text, &fleetform::validate::NoFiles);
    let d: Vec<_> = outcome.diagnostics.iter().collect();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].code, "input-too-large");
    insta::assert_snapshot!(render_human(&outcome.diagnostics, &outcome.sources, false));
}

#[test]
fn every_example_is_valid_without_warnings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        let spec = dir.join("fleet.yaml");
        if !spec.exists() {
            continue;
        }
        seen += 1;
        let text = std::fs::read_to_string(&spec).unwrap();
        assert!(
            text.starts_with("# yaml-language-server: $schema=../../schemas/fleet.schema.json\n"),
            "{} starts with the schema modeline",
            spec.display()
        );
        let outcome = validate("fleet.yaml", &text, &Dir(dir.clone()));
        let rendered = render_human(&outcome.diagnostics, &outcome.sources, false);
        assert!(
            outcome.validated.is_some(),
            "{}:\n{rendered}",
            spec.display()
        );
        // `tier-mapped` only says that Azure has no Deep Archive; the cost examples need it.
        assert!(
            outcome.diagnostics.iter().all(|d| d.code == "tier-mapped"),
            "{} has warnings:\n{rendered}",
            spec.display()
        );
    }
    assert!(seen >= 6, "at least six examples");
}

/// Files held in memory, by name.
struct Memory(Vec<(&'static str, String)>);

impl Files for Memory {
    fn read(&self, path: &str) -> Result<String, String> {
        self.0
            .iter()
            .find(|(name, _)| *name == path)
            .map(|(_, text)| text.clone())
            .ok_or_else(|| "not found".to_owned())
    }
}

const REGISTRY_SPEC: &str = "version: 1\nstack: {name: registry}\nclouds:\n  aws:\n    region: us-east-1\n    provisioning: {method: manual}\nfleet:\n  devices: 100000\n  device_types:\n    - name: meter\n  registry:\n    file: devices.csv\n";

#[test]
fn registry_diagnostics_are_capped_per_kind_with_a_summary() {
    let rows = 50_000;
    let mut csv = String::from("id,type,groups\n");
    for i in 0..rows {
        // Half the rows have a bad id, the other half an undeclared device type.
        let _ = if i % 2 == 0 {
            writeln!(csv, "bad/{i},meter,")
        } else {
            writeln!(csv, "meter-{i},metre,")
        };
    }
    let files = Memory(vec![("devices.csv", csv)]);
    let outcome = validate("fleet.yaml", REGISTRY_SPEC, &files);
    let of = |code: &str| -> Vec<&fleetform::diagnostics::Diagnostic> {
        outcome
            .diagnostics
            .iter()
            .filter(|d| d.code == code)
            .collect()
    };
    let cap = fleetform::validate::registry::MAX_DIAGNOSTICS_PER_KIND;
    for (code, what) in [
        ("bad-device-id", "invalid device ids"),
        (
            "unknown-reference",
            "references to undeclared device types or groups",
        ),
    ] {
        let found = of(code);
        assert_eq!(found.len(), cap + 1, "{code}: {found:#?}");
        let summaries: Vec<_> = found
            .iter()
            .filter(|d| d.message.starts_with("…and "))
            .collect();
        assert_eq!(summaries.len(), 1, "{code}");
        assert_eq!(
            summaries[0].message,
            format!("…and {} more {what} in `devices.csv`", rows / 2 - cap)
        );
        assert!(summaries[0].location.is_some() && !summaries[0].hints.is_empty());
    }
    // Rendering stays cheap: a handful of diagnostics, each located by binary search.
    let json = render_json(&outcome.diagnostics, &outcome.sources);
    assert!(json.contains("\"line\": 42,"), "{json}");
    let human = render_human(&outcome.diagnostics, &outcome.sources, false);
    assert!(
        human.contains("and 24980 more invalid device ids"),
        "{human}"
    );
}

#[test]
fn registry_larger_than_fleet_is_reported_once_for_file_and_inline_devices() {
    let spec = "version: 1\nstack: {name: registry}\nclouds:\n  aws:\n    region: us-east-1\n    provisioning: {method: manual}\nfleet:\n  devices: 1\n  registry:\n    file: devices.csv\n    devices:\n      - id: inline-1\n      - id: inline-2\n";
    let files = Memory(vec![(
        "devices.csv",
        "id\nfile-1\nfile-2\nfile-3\n".to_owned(),
    )]);
    let outcome = validate("fleet.yaml", spec, &files);
    let found: Vec<_> = outcome
        .diagnostics
        .iter()
        .filter(|d| d.code == "registry-larger-than-fleet")
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(
        found,
        ["the registry lists 5 devices, more than `fleet.devices` (1)"]
    );
}

/// Files that must not be read.
struct Untouchable;

impl Files for Untouchable {
    fn read(&self, path: &str) -> Result<String, String> {
        panic!("`{path}` was read")
    }
}

#[test]
fn registry_paths_outside_the_spec_folder_are_never_read() {
    for path in ["/proc/self/environ", "../../.env", "registry/../../x.csv"] {
        let spec = format!(
            "version: 1\nstack: {{name: outside}}\nclouds:\n  aws: {{region: us-east-1}}\nfleet:\n  devices: 4\n  registry:\n    file: {path}\n"
        );
        let outcome = validate("fleet.yaml", &spec, &Untouchable);
        let d: Vec<_> = outcome.diagnostics.iter().collect();
        assert_eq!(d.len(), 1, "{path}: {d:#?}");
        assert_eq!(d[0].code, "bad-path", "{path}");
        let json = render_json(&outcome.diagnostics, &outcome.sources);
        assert!(
            json.contains("\"line\": 8,\n      \"column\": 11,"),
            "{json}"
        );
    }
}
