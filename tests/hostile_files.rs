//! Hostile input files (issue 16, point 6): a registry, spec or certificate input that names a
//! FIFO, a device, a folder, a link or a huge file is refused promptly, with the path, what it
//! is, and a hint; nothing blocks and nothing is read until memory runs out.
#![cfg(unix)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use insta_cmd::get_cargo_bin;

/// Runs fleetform with a deadline: a blocked read fails the test instead of hanging it.
fn run(dir: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(get_cargo_bin("fleetform"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("fleetform {args:?} did not finish within 30 s (blocked on input?)");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn spec(dir: &Path, registry: &str) {
    std::fs::write(
        dir.join("fleet.yaml"),
        format!(
            "version: 1\nstack: {{name: hostile, environment: test}}\nclouds:\n  aws:\n    region: us-east-1\n    provisioning: {{method: manual}}\nfleet:\n  devices: 10\n  registry: {{file: {registry}}}\n"
        ),
    )
    .unwrap();
}

fn mkfifo(path: &Path) {
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
}

/// The registry diagnostic names the file, says what it is, and carries a hint; exit 1.
fn refused(dir: &Path, registry: &str, what: &str) {
    spec(dir, registry);
    let out = run(dir, &["validate", "fleet.yaml"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("cannot read the registry `{registry}`")),
        "{err}"
    );
    assert!(err.contains(what), "expected `{what}` in:\n{err}");
    assert!(err.contains("help:"), "a hint:\n{err}");
}

#[test]
fn a_registry_fifo_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    mkfifo(&dir.path().join("devices.csv"));
    refused(dir.path(), "devices.csv", "not a regular file");
}

#[test]
fn a_registry_link_to_a_device_or_outside_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.csv")).unwrap();
    refused(dir.path(), "zero.csv", "symlink");
    std::os::unix::fs::symlink("/etc/hostname", dir.path().join("host.csv")).unwrap();
    refused(dir.path(), "host.csv", "symlink");
    // A linked folder on the way out of the spec's folder, too.
    std::os::unix::fs::symlink("/etc", dir.path().join("etc")).unwrap();
    refused(dir.path(), "etc/hostname", "symlink");
}

#[test]
fn a_registry_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("devices.csv")).unwrap();
    refused(dir.path(), "devices.csv", "not a regular file");
}

#[test]
fn a_huge_registry_is_refused_with_its_size_and_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    // Sparse: 600 MiB on paper, nothing on disk.
    let f = std::fs::File::create(dir.path().join("devices.csv")).unwrap();
    f.set_len(600 * 1024 * 1024).unwrap();
    refused(
        dir.path(),
        "devices.csv",
        "it is 600.0 MiB; fleetform reads at most 512 MiB",
    );
}

#[test]
fn a_spec_fifo_or_device_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    mkfifo(&dir.path().join("fleet.yaml"));
    let out = run(dir.path(), &["validate", "fleet.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a regular file"),
        "{}",
        stderr(&out)
    );
    let out = run(dir.path(), &["build", "/dev/zero", "--out", "out"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a regular file"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("out").exists(), "nothing is written");
}

#[test]
fn an_endless_spec_on_stdin_is_cut_off() {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} validate - < /dev/zero",
            get_cargo_bin("fleetform").display()
        ))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("longer than 1 MiB"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_certs_registry_fifo_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    mkfifo(&dir.path().join("devices.csv"));
    let out = run(
        dir.path(),
        &[
            "certs",
            "device",
            "--registry",
            "devices.csv",
            "--out",
            "devices",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not a regular file"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("devices").exists());
}
