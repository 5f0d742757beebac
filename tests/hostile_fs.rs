//! Hostile folders: what a pull request can plant where fleetform reads and writes.
//!
//! In CI on a fork's pull request, the output folder, the certificate folders, the spec and
//! its registry are all files of the pull request. Each test plants a symlink (or a folder)
//! where fleetform would look and checks that nothing outside the folder is written, moved,
//! deleted or printed:
//!
//! - `build` stages into a folder with an unpredictable name, never writes through a link on
//!   the way to `--out` or inside it, and never deletes what it did not write;
//! - `certs` never writes a key through a symlinked `--out` or a link inside it;
//! - `check` reports a link as a difference instead of printing what it points to;
//! - `validate`, `check` and `diff` do not read a spec or registry through a link.
#![cfg(unix)]

mod common;

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Output};

use insta_cmd::get_cargo_bin;

const MINIMAL: &str = include_str!("../examples/minimal/fleet.yaml");

/// What an attacker wants printed in a public log: the contents of a file outside.
const SECRET: &str = "TOP-SECRET-0xC0FFEE";

fn fleetform(dir: &Path, args: &[&str]) -> Output {
    Command::new(get_cargo_bin("fleetform"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every path under `dir`, relative, sorted (links are listed, not followed).
fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            out.push(p.strip_prefix(dir).unwrap().display().to_string());
            if std::fs::symlink_metadata(&p).unwrap().is_dir() {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A folder outside the project holding one secret file.
fn outside() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("secret.txt"), SECRET).unwrap();
    dir
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fleet.yaml"), MINIMAL).unwrap();
    dir
}

// ---------------------------------------------------------------------------------------------
// build

fn rendered(owner: &str) -> fleetform::emit::Rendered {
    let spec = MINIMAL.replace("owner: platform-team", &format!("owner: {owner}"));
    common::build_text("fleet.yaml", &spec, Path::new("."))
}

/// The staging folder used to be `.fleetform-staging-<pid>`: a link planted under that name
/// received the staged files (and the backups of replaced ones) outside `--out`.
#[test]
fn build_does_not_stage_through_a_planted_link() {
    let dir = tempfile::tempdir().unwrap();
    let away = tempfile::tempdir().unwrap();
    let out = dir.path().join("terraform");
    fleetform::cli::output::write(&out, &rendered("a"), false).unwrap();
    let planted = out.join(format!(".fleetform-staging-{}", std::process::id()));
    symlink(away.path(), &planted).unwrap();
    fleetform::cli::output::write(&out, &rendered("b"), false).unwrap();
    assert!(
        listing(away.path()).is_empty(),
        "written outside --out: {:?}",
        listing(away.path())
    );
    assert!(
        std::fs::symlink_metadata(&planted).is_ok(),
        "not ours to delete"
    );
}

/// ... and a folder planted under that name was deleted with everything in it.
#[test]
fn build_never_deletes_a_folder_it_did_not_write() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("terraform");
    fleetform::cli::output::write(&out, &rendered("a"), false).unwrap();
    let planted = out.join(format!(".fleetform-staging-{}", std::process::id()));
    std::fs::create_dir(&planted).unwrap();
    std::fs::write(planted.join("keep.txt"), "mine").unwrap();
    fleetform::cli::output::write(&out, &rendered("b"), false).unwrap();
    assert_eq!(
        std::fs::read_to_string(planted.join("keep.txt")).unwrap(),
        "mine"
    );
    let staging: Vec<String> = listing(&out)
        .into_iter()
        .filter(|p| {
            p.starts_with(".fleetform-staging")
                && !p.starts_with(&planted.file_name().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    assert!(staging.is_empty(), "staging left behind: {staging:?}");
}

#[test]
fn build_refuses_a_link_on_the_way_to_out() {
    let dir = project();
    let away = outside();
    symlink(away.path(), dir.path().join("generated")).unwrap();
    let out = fleetform(
        dir.path(),
        &["build", "fleet.yaml", "--out", "generated/terraform"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("`generated` is a symlink"),
        "{}",
        text(&out)
    );
    assert_eq!(listing(away.path()), ["secret.txt"]);
}

#[test]
fn build_refuses_a_symlinked_out() {
    let dir = project();
    let away = outside();
    symlink(away.path(), dir.path().join("terraform")).unwrap();
    let out = fleetform(dir.path(), &["build", "fleet.yaml", "--out", "terraform"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("`terraform` is a symlink"),
        "{}",
        text(&out)
    );
    assert_eq!(listing(away.path()), ["secret.txt"]);
}

// ---------------------------------------------------------------------------------------------
// certs

#[test]
fn certs_init_refuses_a_symlinked_out() {
    let dir = project();
    let away = outside();
    symlink(away.path(), dir.path().join("certs")).unwrap();
    let out = fleetform(dir.path(), &["certs", "init", "--out", "certs"]);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("is a symlink"), "{}", text(&out));
    assert_eq!(listing(away.path()), ["secret.txt"], "no key lands outside");
}

#[test]
fn certs_refuse_a_link_above_out_inside_the_working_folder() {
    let dir = project();
    let away = outside();
    symlink(away.path(), dir.path().join("keys")).unwrap();
    let out = fleetform(dir.path(), &["certs", "init", "--out", "keys/ca"]);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(listing(away.path()), ["secret.txt"], "no key lands outside");
}

#[test]
fn certs_device_refuses_a_link_inside_out() {
    let dir = project();
    let away = outside();
    let ok = fleetform(dir.path(), &["certs", "init", "--out", "certs"]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    std::fs::create_dir(dir.path().join("devices")).unwrap();
    symlink(away.path(), dir.path().join("devices/sensor-1")).unwrap();
    let out = fleetform(
        dir.path(),
        &["certs", "device", "--id", "sensor-1", "--out", "devices"],
    );
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("is a symlink"), "{}", text(&out));
    assert_eq!(listing(away.path()), ["secret.txt"], "no key lands outside");
}

// ---------------------------------------------------------------------------------------------
// check

fn built() -> tempfile::TempDir {
    let dir = project();
    let out = fleetform(dir.path(), &["build", "fleet.yaml", "--out", "terraform"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    dir
}

#[test]
fn check_reports_a_linked_file_without_reading_it() {
    let dir = built();
    let away = outside();
    let main = dir.path().join("terraform/aws/main.tf");
    std::fs::remove_file(&main).unwrap();
    symlink(away.path().join("secret.txt"), &main).unwrap();
    let out = fleetform(dir.path(), &["check", "fleet.yaml", "--out", "terraform"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!text(&out).contains(SECRET), "{}", text(&out));
    assert!(
        text(&out).contains("symlink: aws/main.tf"),
        "the link is the difference: {}",
        text(&out)
    );
}

#[test]
fn check_reports_a_linked_folder_without_reading_it() {
    let dir = built();
    let away = outside();
    std::fs::write(away.path().join("main.tf"), SECRET).unwrap();
    std::fs::remove_dir_all(dir.path().join("terraform/aws")).unwrap();
    symlink(away.path(), dir.path().join("terraform/aws")).unwrap();
    let out = fleetform(dir.path(), &["check", "fleet.yaml", "--out", "terraform"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!text(&out).contains(SECRET), "{}", text(&out));
    assert!(
        text(&out).contains("symlink: aws/main.tf"),
        "{}",
        text(&out)
    );
}

// ---------------------------------------------------------------------------------------------
// specs and registries

const REGISTRY_SPEC: &str = "version: 1\nstack: {name: linked}\nclouds:\n  aws:\n    region: us-east-1\n    provisioning: {method: manual}\nfleet:\n  devices: 10\n  registry:\n    file: devices.csv\n";

#[test]
fn a_linked_registry_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let away = outside();
    std::fs::write(dir.path().join("fleet.yaml"), REGISTRY_SPEC).unwrap();
    symlink(
        away.path().join("secret.txt"),
        dir.path().join("devices.csv"),
    )
    .unwrap();
    let out = fleetform(dir.path(), &["validate", "fleet.yaml"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!text(&out).contains(SECRET), "{}", text(&out));
    assert!(text(&out).contains("is a symlink"), "{}", text(&out));
}

#[test]
fn a_registry_in_a_linked_folder_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let away = outside();
    std::fs::copy(
        away.path().join("secret.txt"),
        away.path().join("devices.csv"),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("spec")).unwrap();
    std::fs::write(
        dir.path().join("spec/fleet.yaml"),
        REGISTRY_SPEC.replace("file: devices.csv", "file: data/devices.csv"),
    )
    .unwrap();
    symlink(away.path(), dir.path().join("spec/data")).unwrap();
    let out = fleetform(dir.path(), &["validate", "spec/fleet.yaml"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!text(&out).contains(SECRET), "{}", text(&out));
}

#[test]
fn diff_does_not_read_a_linked_spec() {
    let dir = project();
    let away = outside();
    symlink(away.path().join("secret.txt"), dir.path().join("new.yaml")).unwrap();
    let out = fleetform(dir.path(), &["diff", "fleet.yaml", "new.yaml"]);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains(SECRET), "{}", text(&out));
    assert!(text(&out).contains("is a symlink"), "{}", text(&out));
}

// ---------------------------------------------------------------------------------------------
// private keys near git

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", text(&out));
    String::from_utf8(out.stdout).unwrap()
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// One `git add .` must not publish a key: every key folder gets a `.gitignore`.
#[test]
fn keys_written_into_a_repository_are_ignored_by_git() {
    let dir = project();
    git(dir.path(), &["init", "-q"]);
    let ok = fleetform(dir.path(), &["certs", "init", "--out", "certs"]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    let ok = fleetform(
        dir.path(),
        &["certs", "device", "--id", "sensor-1", "--out", "devices"],
    );
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    git(dir.path(), &["add", "."]);
    let staged = git(dir.path(), &["ls-files"]);
    let keys: Vec<&str> = staged.lines().filter(|l| l.ends_with(".key")).collect();
    assert!(keys.is_empty(), "keys staged by `git add .`: {keys:?}");
    // The certificates stay committable: Terraform reads the CA certificate.
    assert!(
        staged.lines().any(|l| l == "certs/signing-ca.pem"),
        "{staged}"
    );
    assert!(dir.path().join("certs/.gitignore").is_file());
    assert!(dir.path().join("devices/.gitignore").is_file());
}

/// A `.gitignore` someone else wrote is kept, and gains the key rule when it lacks one.
#[test]
fn an_existing_gitignore_is_extended_not_replaced() {
    let dir = project();
    git(dir.path(), &["init", "-q"]);
    std::fs::create_dir(dir.path().join("certs")).unwrap();
    std::fs::write(dir.path().join("certs/.gitignore"), "notes.txt\n").unwrap();
    let ok = fleetform(dir.path(), &["certs", "init", "--out", "certs"]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    let ignore = std::fs::read_to_string(dir.path().join("certs/.gitignore")).unwrap();
    assert!(ignore.starts_with("notes.txt\n"), "{ignore}");
    assert!(ignore.lines().any(|l| l == "*.key"), "{ignore}");
    git(dir.path(), &["add", "."]);
    assert!(!git(dir.path(), &["ls-files"]).contains(".key"));
}

/// `.gitignore` does not apply to tracked files: a key written where git tracks a file would
/// be committed with the next `git commit -a`. Refused unless `--force`.
#[test]
fn keys_are_not_written_to_a_path_git_tracks_unless_forced() {
    let dir = project();
    git(dir.path(), &["init", "-q"]);
    let ok = fleetform(dir.path(), &["certs", "init", "--out", "certs"]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    std::fs::create_dir_all(dir.path().join("devices/sensor-1")).unwrap();
    std::fs::write(
        dir.path().join("devices/sensor-1/device.key"),
        "placeholder",
    )
    .unwrap();
    git(dir.path(), &["add", "-f", "devices/sensor-1/device.key"]);
    git(dir.path(), &["commit", "-q", "-m", "oops"]);
    std::fs::remove_file(dir.path().join("devices/sensor-1/device.key")).unwrap();
    let args = ["certs", "device", "--id", "sensor-1", "--out", "devices"];
    let refused = fleetform(dir.path(), &args);
    assert_ne!(refused.status.code(), Some(0), "{}", text(&refused));
    assert!(text(&refused).contains("git tracks"), "{}", text(&refused));
    assert!(!dir.path().join("devices/sensor-1/device.key").exists());
    let forced = fleetform(dir.path(), &[&args[..], &["--force"]].concat());
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced));
    assert!(dir.path().join("devices/sensor-1/device.key").exists());
}

#[test]
fn key_files_are_0600_and_the_folders_fleetform_creates_for_them_0700() {
    let dir = project();
    let ok = fleetform(dir.path(), &["certs", "init", "--out", "certs"]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    let ok = fleetform(
        dir.path(),
        &[
            "certs",
            "device",
            "--id",
            "sensor-1",
            "--out",
            "fleet/devices",
        ],
    );
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    for folder in ["certs", "fleet", "fleet/devices", "fleet/devices/sensor-1"] {
        assert_eq!(mode(&dir.path().join(folder)), 0o700, "{folder}");
    }
    for key in [
        "certs/root-ca.key",
        "certs/signing-ca.key",
        "fleet/devices/sensor-1/device.key",
    ] {
        assert_eq!(mode(&dir.path().join(key)), 0o600, "{key}");
    }
    assert_eq!(mode(&dir.path().join("certs/signing-ca.pem")), 0o644);
}
