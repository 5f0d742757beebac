//! `fleetform explain` on the command line: a snapshot of the walk-through of every
//! example, one cloud of a two-cloud spec, help, exit codes, and stable output.

mod common;

use std::process::Command;

use insta_cmd::{assert_cmd_snapshot, get_cargo_bin};

fn cmd() -> Command {
    let mut c = Command::new(get_cargo_bin("fleetform"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE");
    c
}

#[test]
fn every_example_is_explained() {
    for (name, _) in common::examples() {
        let mut c = cmd();
        c.args(["explain", &format!("examples/{name}/fleet.yaml")]);
        assert_cmd_snapshot!(format!("explain-{name}"), c);
    }
}

#[test]
fn one_cloud_of_a_multicloud_spec() {
    let mut c = cmd();
    c.args([
        "explain",
        "examples/multicloud/fleet.yaml",
        "--cloud",
        "aws",
    ]);
    assert_cmd_snapshot!(c);
}

#[test]
fn every_section_is_there_for_every_cloud() {
    for (name, path) in common::examples() {
        let out = cmd().arg("explain").arg(&path).output().unwrap();
        assert!(out.status.success(), "{name}");
        let text = String::from_utf8(out.stdout).unwrap();
        let clouds = text.matches("\n## AWS (").count() + text.matches("\n## Azure (").count();
        assert!(clouds >= 1, "{name}");
        for section in [
            "### 1. Identity and provisioning",
            "### 2. What each device may do",
            "### 3. Where messages go",
            "### 4. How the stream is sized",
            "### 5. How long data is kept",
            "### 6. Alerts and monitoring",
            "### 7. Optional features",
            "### 8. Around `terraform apply`",
        ] {
            assert_eq!(text.matches(section).count(), clouds, "{name}: {section}");
        }
        // Fits a terminal: no line is wider than the wrap width unless it cannot break.
        for line in text.lines() {
            assert!(
                line.chars().count() <= fleetform::explain::WIDTH || !line.trim().contains(' '),
                "{name}: too wide: {line}"
            );
        }
        // Deterministic.
        let again = cmd().arg("explain").arg(&path).output().unwrap();
        assert_eq!(again.stdout, text.as_bytes(), "{name}");
    }
}

#[test]
fn invalid_spec_prints_diagnostics_and_exits_1() {
    let mut c = cmd();
    c.args(["explain", "tests/fixtures/invalid/many-errors-at-once.yaml"]);
    assert_cmd_snapshot!(c);
}

#[test]
fn a_cloud_the_spec_does_not_target_is_a_usage_error() {
    let mut c = cmd();
    c.args([
        "explain",
        "examples/industrial-cranes/fleet.yaml",
        "--cloud",
        "aws",
    ]);
    assert_cmd_snapshot!(c);
}

#[test]
fn help_has_examples() {
    let mut c = cmd();
    c.args(["explain", "--help"]);
    assert_cmd_snapshot!(c);
}
