//! The generated function code, executed: every Lambda and Azure Functions package that a
//! real spec builds runs under its pytest file in `tests/functions/`, against the events its
//! cloud sends, with the cloud faked by moto (AWS) and by the `azure-functions` package's
//! own trigger types (Azure).
//!
//! This test builds the examples and the specs in `tests/functions/specs/` (together they
//! cover every provisioning method and alert engine), writes each output as `build` would,
//! parses every generated `.tf` file into JSON (so the Python side can check the code against
//! the Terraform that deploys it: environment variables, IAM grants, triggers, routes), makes
//! a CA and a device certificate with `fleetform certs` for the JITR flow, and runs pytest on
//! the result. The packages are taken from the built zips, never copied by hand.
//!
//! The interpreter is `FLEETFORM_FUNCTIONS_PYTHON`, a venv with
//! `tests/functions/requirements.txt` (`.ci/run` makes it). Without it the test skips loudly,
//! and fails under `FLEETFORM_REQUIRE_TOOLS`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{build_file, examples, root};

/// The specs whose functions are executed: every example plus the function test specs.
fn specs() -> Vec<(String, PathBuf)> {
    let mut out = examples();
    let dir = root().join("tests/functions/specs");
    let mut extra: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let path = e.ok()?.path();
            (path.extension()? == "yaml").then(|| {
                let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
                (format!("spec-{stem}"), path)
            })
        })
        .collect();
    extra.sort();
    out.extend(extra);
    out
}

/// Writes a build into `dir` and returns its module folders as (cloud, folder).
fn write_build(spec: &Path, dir: &Path) -> Vec<(String, PathBuf)> {
    let rendered = build_file(spec);
    for (path, file) in &rendered.files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, &file.bytes).unwrap();
    }
    let mut modules = Vec::new();
    for cloud in ["aws", "azure"] {
        for m in common::module_dirs(dir, cloud) {
            modules.push((cloud.to_owned(), m));
        }
    }
    modules
}

/// Every `.tf` file of a module, parsed into JSON (blocks become nested objects, expressions
/// `${...}` strings), by file name.
fn terraform_json(module: &Path) -> serde_json::Map<String, serde_json::Value> {
    let mut files = serde_json::Map::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(module)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tf"))
        .collect();
    names.sort();
    for path in names {
        let text = std::fs::read_to_string(&path).unwrap();
        let value: serde_json::Value = hcl::from_str(&text)
            .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
        files.insert(
            path.file_name().unwrap().to_string_lossy().into_owned(),
            value,
        );
    }
    files
}

/// A fleet CA and one device certificate, made the way a user makes them.
fn certificates(dir: &Path) -> serde_json::Value {
    // `certs` never overwrites keys; a kept work folder gets fresh ones.
    let _ = std::fs::remove_dir_all(dir);
    let bin = env!("CARGO_BIN_EXE_fleetform");
    let ca_dir = dir.join("certs");
    let devices = dir.join("devices");
    let run = |args: &[&str]| {
        let out = Command::new(bin).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "fleetform {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ca = ca_dir.to_string_lossy().into_owned();
    let dev = devices.to_string_lossy().into_owned();
    run(&[
        "certs",
        "init",
        "--out",
        &ca,
        "--organization",
        "Acme",
        "--country",
        "DE",
    ]);
    run(&[
        "certs",
        "device",
        "--id",
        "sensor-0042",
        "--ca-dir",
        &ca,
        "--out",
        &dev,
    ]);
    // A device of a fleet with several types: its type is the certificate's dnQualifier.
    run(&[
        "certs",
        "device",
        "--id",
        "valve-0007",
        "--type",
        "valve",
        "--ca-dir",
        &ca,
        "--out",
        &dev,
    ]);
    serde_json::json!({
        "ca": ca_dir.join("signing-ca.pem"),
        "device": devices.join("sensor-0042/device.pem"),
        "device_id": "sensor-0042",
        "typed_device": {
            "pem": devices.join("valve-0007/device.pem"),
            "device_id": "valve-0007",
            "type": "valve",
        },
    })
}

#[test]
#[allow(clippy::print_stderr)]
fn generated_functions_pass_their_tests() {
    let Some(python) = std::env::var_os("FLEETFORM_FUNCTIONS_PYTHON") else {
        return common::skip(
            "function tests",
            "FLEETFORM_FUNCTIONS_PYTHON is not set (a python with tests/functions/requirements.txt; .ci/run makes one)",
        );
    };
    // FLEETFORM_FUNCTIONS_KEEP=DIR keeps the builds and the manifest there, to rerun pytest
    // by hand: FLEETFORM_FUNCTIONS_MANIFEST=DIR/manifest.json python -m pytest tests/functions
    let temp = tempfile::tempdir().unwrap();
    let work = std::env::var_os("FLEETFORM_FUNCTIONS_KEEP")
        .map_or_else(|| temp.path().to_path_buf(), PathBuf::from);
    let mut modules = Vec::new();
    for (name, spec) in specs() {
        for (cloud, dir) in write_build(&spec, &work.join("builds").join(&name)) {
            modules.push(serde_json::json!({
                "spec": name,
                "cloud": cloud,
                "path": dir,
                "terraform": terraform_json(&dir),
            }));
        }
    }
    let manifest = serde_json::json!({
        "certificates": certificates(&work.join("pki")),
        "modules": modules,
    });
    let manifest_path = work.join("manifest.json");
    std::fs::write(
        &manifest_path,
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
    let out = Command::new(&python)
        .args([
            "-m",
            "pytest",
            "tests/functions",
            "-q",
            "-ra",
            "-p",
            "no:cacheprovider",
        ])
        .env("FLEETFORM_FUNCTIONS_MANIFEST", &manifest_path)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", Path::new(&python).display()));
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the function tests failed:\n{report}");
    eprintln!("{report}");
}
