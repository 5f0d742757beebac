//! Large registries: read as a stream, held compactly, and written out as streams.
//!
//! The figures (a million devices in well under a second and 200 MB) are measured by
//! `cargo bench --bench build`; these tests pin the behaviour the figures rely on: a registry
//! data file above `emit::STREAM_ABOVE_BYTES` is never held in memory, yet it is written,
//! hashed, checked for drift and left untouched when unchanged exactly like any other file.

mod common;

use std::fmt::Write as _;
use std::process::Command;

use insta_cmd::get_cargo_bin;

fn spec(devices: usize, registry: &str) -> String {
    format!(
        "version: 1\nstack: {{name: scale, environment: test}}\nclouds:\n  aws:\n    region: us-east-1\n    provisioning: {{method: manual}}\nfleet:\n  devices: {devices}\n  device_types: [{{name: meter}}]\n  groups: [{{name: north}}, {{name: south}}]\n  registry: {{file: {registry}, bulk_threshold: 1000000}}\n"
    )
}

fn csv(devices: usize) -> String {
    let mut s = String::from("id,type,groups,site,serial\n");
    for i in 0..devices {
        let g = if i % 2 == 0 { "north" } else { "north;south" };
        let _ = writeln!(s, "m-{i:07},meter,{g},site/{},SN{i}", i % 13);
    }
    s
}

#[test]
fn a_large_registry_data_file_is_streamed_and_still_exact() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fleet.yaml"), spec(20_000, "devices.csv")).unwrap();
    std::fs::write(dir.path().join("devices.csv"), csv(20_000)).unwrap();
    let rendered = common::build_file(&dir.path().join("fleet.yaml"));
    let file = &rendered.files["aws/registry/devices.json"];
    let streamed = file
        .streamed
        .as_ref()
        .expect("above the threshold: streamed");
    assert!(file.bytes.is_empty(), "not held in memory");
    assert!(streamed.len > fleetform::emit::STREAM_ABOVE_BYTES as u64);
    // Generated again, it is the same bytes, with the hash the manifest records.
    let contents = file.contents();
    assert_eq!(contents.len() as u64, file.len());
    assert_eq!(fleetform::emit::sha256_hex(&contents), file.sha256_hex());
    let manifest: serde_json::Value =
        serde_json::from_slice(&rendered.files[".fleetform-manifest.json"].bytes).unwrap();
    assert_eq!(
        manifest["files"]["aws/registry/devices.json"],
        format!("sha256:{}", file.sha256_hex())
    );
    // It is the JSON registry.tf reads, with every device, its values, and its type and groups
    // under their AWS IoT names (with the environment's prefix).
    let json: serde_json::Value = serde_json::from_slice(&contents).unwrap();
    let devices = json.as_object().unwrap();
    assert_eq!(devices.len(), 20_000);
    assert_eq!(
        devices["m-0000001"],
        serde_json::json!({"type": "scale-test-meter", "groups": ["scale-test-north", "scale-test-south"], "attributes": {"serial": "SN1", "site": "site/1"}})
    );
}

fn fleetform(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(get_cargo_bin("fleetform"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn streamed_files_are_written_checked_and_left_alone_when_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("fleet.yaml"), spec(20_000, "devices.csv")).unwrap();
    std::fs::write(d.join("devices.csv"), csv(20_000)).unwrap();
    let out = fleetform(d, &["build", "fleet.yaml", "--out", "tf"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read(d.join("tf/aws/registry/devices.json")).unwrap();
    let expected = common::build_file(&d.join("fleet.yaml")).files["aws/registry/devices.json"]
        .contents()
        .into_owned();
    assert_eq!(written, expected);
    let mtime = || {
        std::fs::metadata(d.join("tf/aws/registry/devices.json"))
            .unwrap()
            .modified()
            .unwrap()
    };
    let before = mtime();
    let out = fleetform(d, &["check", "fleet.yaml", "--out", "tf"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = fleetform(d, &["build", "fleet.yaml", "--out", "tf"]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("0 created, 0 updated"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        mtime(),
        before,
        "an unchanged streamed file is not rewritten"
    );
    // One more device: the file changes, `check` reports it without a 1 MB text diff, and a
    // build replaces it (it is still what fleetform wrote).
    std::fs::write(d.join("devices.csv"), csv(20_001)).unwrap();
    let out = fleetform(d, &["check", "fleet.yaml", "--out", "tf"]);
    assert_eq!(out.status.code(), Some(1));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains("Files a/aws/registry/devices.json (") && report.len() < 10_000,
        "{report}"
    );
    let out = fleetform(d, &["build", "fleet.yaml", "--out", "tf"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("tf/aws/registry/devices.json")).unwrap())
            .unwrap();
    assert_eq!(json.as_object().unwrap().len(), 20_001);
    // Edited by hand: kept, and the build says so instead of overwriting.
    let mut edited = std::fs::read(d.join("tf/aws/registry/devices.json")).unwrap();
    edited.push(b'\n');
    std::fs::write(d.join("tf/aws/registry/devices.json"), &edited).unwrap();
    std::fs::write(d.join("devices.csv"), csv(20_002)).unwrap();
    let out = fleetform(d, &["build", "fleet.yaml", "--out", "tf"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("edited since"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn registry_problems_show_the_file_text_only_when_there_are_some() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut text = csv(5_000);
    text.push_str("bad/id,meter,north,x,y\nm-0000007,meter,east,x,y\n");
    std::fs::write(d.join("fleet.yaml"), spec(10_000, "devices.csv")).unwrap();
    std::fs::write(d.join("devices.csv"), &text).unwrap();
    let out = fleetform(d, &["validate", "fleet.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("╭─[devices.csv:5002:1]"), "{err}");
    assert!(err.contains("`bad/id` is not a valid device id"), "{err}");
    assert!(
        err.contains("device `m-0000007` is registered twice (first on line 9)"),
        "{err}"
    );
    assert!(
        err.contains("`east`, which the spec does not declare"),
        "{err}"
    );
}
