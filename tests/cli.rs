//! The command line: help texts, exit codes, stderr/stdout, and what `init` and `build` do
//! to the disk.

use std::path::Path;
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
fn help_lists_commands_and_exit_codes() {
    assert_cmd_snapshot!(cmd().arg("--help"));
}

#[test]
fn every_subcommand_has_help_with_examples() {
    for sub in [
        "init",
        "validate",
        "build",
        "check",
        "diff",
        "cost",
        "schema",
        "completions",
    ] {
        let out = cmd().args([sub, "--help"]).output().unwrap();
        assert!(out.status.success(), "{sub} --help");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains("Example"),
            "{sub} --help shows examples:\n{text}"
        );
    }
}

#[test]
fn validate_ok() {
    assert_cmd_snapshot!(cmd().args(["validate", "examples/minimal/fleet.yaml"]));
}

/// Each environment is summarised as `build` writes it, not as the base spec.
#[test]
fn validate_summarises_every_environment() {
    assert_cmd_snapshot!(cmd().args(["validate", "examples/environments/fleet.yaml"]));
}

#[test]
fn validate_invalid_exits_1_with_diagnostics_on_stderr() {
    assert_cmd_snapshot!(cmd().args([
        "validate",
        "tests/fixtures/invalid/many-errors-at-once.yaml"
    ]));
}

#[test]
fn validate_json_goes_to_stdout() {
    assert_cmd_snapshot!(cmd().args([
        "validate",
        "tests/fixtures/invalid/unknown-key.yaml",
        "--format",
        "json"
    ]));
}

#[test]
fn validate_reads_stdin() {
    let spec =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/minimal/fleet.yaml"))
            .unwrap();
    let mut c = cmd();
    c.args(["validate", "-"]);
    assert_cmd_snapshot!(c.pass_stdin(spec));
}

#[test]
fn missing_file_is_an_io_error_exit_2() {
    assert_cmd_snapshot!(cmd().args(["validate", "no/such/fleet.yaml"]));
}

#[test]
fn usage_error_exits_2() {
    assert_cmd_snapshot!(cmd().args(["validate"]));
}

/// A command run inside a fresh temp folder, with the minimal example copied in as
/// `fleet.yaml`, so paths in snapshots are relative and stable.
fn in_temp() -> (tempfile::TempDir, Command) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/minimal/fleet.yaml"),
        dir.path().join("fleet.yaml"),
    )
    .unwrap();
    let mut c = Command::new(get_cargo_bin("fleetform"));
    c.current_dir(dir.path()).env("NO_COLOR", "1");
    (dir, c)
}

#[test]
fn init_writes_a_valid_spec_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("fleet");
    let out = cmd()
        .args(["init"])
        .arg(&target)
        .args(["--name", "pumps", "--cloud", "both"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(target.join("fleet.schema.json").exists());
    let spec = target.join("fleet.yaml");
    let text = std::fs::read_to_string(&spec).unwrap();
    assert!(text.starts_with("# yaml-language-server: $schema=fleet.schema.json\n"));
    let out = cmd().arg("validate").arg(&spec).output().unwrap();
    assert!(
        out.status.success(),
        "the starter spec validates: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    std::fs::write(&spec, "# my edits\n").unwrap();
    let mut again = cmd();
    again.current_dir(dir.path()).args(["init", "fleet"]);
    assert_cmd_snapshot!(again);
    assert_eq!(
        std::fs::read_to_string(&spec).unwrap(),
        "# my edits\n",
        "init never overwrites"
    );
}

#[test]
fn init_from_every_example_validates() {
    let out = cmd().args(["init", "--list"]).output().unwrap();
    let list = String::from_utf8(out.stdout).unwrap();
    let examples: Vec<&str> = list
        .lines()
        .skip_while(|l| !l.starts_with("examples"))
        .skip(1)
        .map(str::trim)
        .collect();
    assert!(examples.len() >= 6, "{list}");
    for example in examples {
        let dir = tempfile::tempdir().unwrap();
        let out = cmd()
            .args(["init", "--example", example])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{example}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = cmd()
            .arg("validate")
            .arg(dir.path().join("fleet.yaml"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{example}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn build_writes_once_and_then_changes_nothing() {
    let (dir, mut first) = in_temp();
    let out = first
        .args(["build", "fleet.yaml", "--out", "out"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let main_tf = dir.path().join("out/aws/main.tf");
    let before = std::fs::metadata(&main_tf).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let (_, mut second) = in_temp();
    second
        .current_dir(dir.path())
        .args(["build", "fleet.yaml", "--out", "out"]);
    assert_cmd_snapshot!(second);
    assert_eq!(
        std::fs::metadata(&main_tf).unwrap().modified().unwrap(),
        before,
        "mtime kept"
    );
}

#[test]
fn build_refuses_to_overwrite_files_it_did_not_write() {
    let (dir, mut c) = in_temp();
    let out_dir = dir.path().join("out");
    std::fs::create_dir_all(out_dir.join("aws")).unwrap();
    std::fs::write(out_dir.join("aws/main.tf"), "# hand-written\n").unwrap();
    c.args(["build", "fleet.yaml", "--out", "out"]);
    assert_cmd_snapshot!(c);
    assert_eq!(
        std::fs::read_to_string(out_dir.join("aws/main.tf")).unwrap(),
        "# hand-written\n"
    );
    assert!(
        !out_dir.join("aws/versions.tf").exists(),
        "nothing is written on error"
    );
}

#[test]
fn invalid_spec_builds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let out = cmd()
        .args(["build", "tests/fixtures/invalid/unknown-key.yaml", "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!out_dir.exists());
}

#[test]
fn completions_for_bash() {
    let out = cmd().args(["completions", "bash"]).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8(out.stdout).unwrap().contains("fleetform"));
}

/// `--name` and `--cloud` shape the starter blueprint; with `--example` they would be ignored,
/// so clap refuses them (exit 2) instead of silently dropping them.
#[test]
fn init_refuses_starter_options_with_an_example() {
    let dir = tempfile::tempdir().unwrap();
    for flag in [["--name", "foo"], ["--cloud", "azure"]] {
        let out = cmd()
            .args(["init", "--example", "minimal"])
            .args(flag)
            .arg(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("cannot be used with"),
            "{flag:?}"
        );
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
