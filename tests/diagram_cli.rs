//! `fleetform diagram` on the command line: each format for an AWS, an Azure and a
//! two-cloud example, `--cloud`, `--out` with the format taken from the extension, help,
//! and exit codes for invalid specs and clouds the spec does not target.

use std::process::Command;

use insta_cmd::{assert_cmd_snapshot, get_cargo_bin};

fn cmd() -> Command {
    let mut c = Command::new(get_cargo_bin("fleetform"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE");
    c
}

/// One snapshot per example and format: `minimal` (AWS), `industrial-cranes` (Azure, two
/// linked hubs) and `multicloud` (both clouds in one picture).
#[test]
fn every_format_for_aws_azure_and_both() {
    for example in ["minimal", "industrial-cranes", "multicloud"] {
        for format in ["mermaid", "dot", "svg"] {
            let mut c = cmd();
            c.args([
                "diagram",
                &format!("examples/{example}/fleet.yaml"),
                "--format",
                format,
            ]);
            assert_cmd_snapshot!(format!("diagram-{example}-{format}"), c);
        }
    }
}

#[test]
fn one_cloud_of_a_multicloud_spec() {
    let mut c = cmd();
    c.args([
        "diagram",
        "examples/multicloud/fleet.yaml",
        "--cloud",
        "azure",
    ]);
    assert_cmd_snapshot!(c);
}

#[test]
fn a_cloud_the_spec_does_not_target_is_a_usage_error() {
    let mut c = cmd();
    c.args(["diagram", "examples/minimal/fleet.yaml", "--cloud", "azure"]);
    assert_cmd_snapshot!(c);
}

#[test]
fn invalid_spec_prints_diagnostics_and_exits_1() {
    let mut c = cmd();
    c.args(["diagram", "tests/fixtures/invalid/unknown-key.yaml"]);
    assert_cmd_snapshot!(c);
}

#[test]
fn help_has_examples() {
    let mut c = cmd();
    c.args(["diagram", "--help"]);
    assert_cmd_snapshot!(c);
}

#[test]
fn out_takes_the_format_from_the_extension_and_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    for (file, starts) in [
        ("a.svg", "<?xml"),
        ("a.dot", "digraph"),
        ("a.gv", "digraph"),
        ("a.mmd", "%%"),
        ("a.txt", "%%"),
    ] {
        let path = dir.path().join(file);
        let out = cmd()
            .args(["diagram", "examples/home-security/fleet.yaml", "--out"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "nothing on stdout with --out");
        let first = std::fs::read_to_string(&path).unwrap();
        assert!(first.starts_with(starts), "{file}: {}", &first[..20]);
        // Same input, same bytes.
        let again = cmd()
            .args(["diagram", "examples/home-security/fleet.yaml", "--out"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(again.status.success());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), first, "{file}");
    }
    // An explicit --format wins over the extension.
    let path = dir.path().join("b.svg");
    let out = cmd()
        .args([
            "diagram",
            "examples/minimal/fleet.yaml",
            "--format",
            "dot",
            "--out",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .starts_with("digraph")
    );
}

#[test]
fn stdin_works() {
    let spec = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/minimal/fleet.yaml"),
    )
    .unwrap();
    let out = cmd()
        .args(["diagram", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(&spec)?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("flowchart LR")
    );
}

/// A spec with environments gives one document in every format (three `digraph fleet` in
/// one file are rejected by `dot`): every environment in one picture, or the one
/// `--environment` picks.
#[test]
fn environments_draw_one_document_in_every_format() {
    for (format, start) in [
        ("mermaid", "flowchart LR"),
        ("dot", "digraph fleet"),
        ("svg", "<svg "),
    ] {
        let out = cmd()
            .args([
                "diagram",
                "examples/environments/fleet.yaml",
                "--format",
                format,
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{format}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(text.matches(start).count(), 1, "{format}: one document");
        for stack in ["pumps-dev", "pumps-staging", "pumps-prod"] {
            assert!(text.contains(stack), "{format}: {stack} is drawn");
        }
        // Graphviz accepts the DOT output, where it is installed (it is not a required tool:
        // the count above already pins one document).
        if format == "dot"
            && let Ok(mut child) = Command::new("dot")
                .arg("-Tsvg")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
        {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
            let done = child.wait_with_output().unwrap();
            assert!(
                done.status.success(),
                "dot rejects the output: {}",
                String::from_utf8_lossy(&done.stderr)
            );
        }

        let out = cmd()
            .args([
                "diagram",
                "examples/environments/fleet.yaml",
                "--environment",
                "prod",
                "--format",
                format,
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{format}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(text.matches(start).count(), 1, "{format}: one document");
        assert!(
            text.contains("pumps-prod"),
            "{format}: the chosen environment"
        );
        assert!(
            !text.contains("pumps-dev"),
            "{format}: only the chosen environment"
        );
    }
}
