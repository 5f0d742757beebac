//! Shared test helpers: build specs in memory, write outputs to temp folders, and run the
//! real tools (terraform with the real providers, see [`terraform`]; checkov) when the
//! machine has them. Tests that need a tool skip with a message `cargo test` shows when it is
//! absent, and fail instead under `FLEETFORM_REQUIRE_TOOLS` (CI installs them all).
#![allow(dead_code)]

pub mod moto;
mod terraform;

#[allow(unused_imports)]
pub use terraform::{
    Cloud, RootCheck, Terraform, check_all, cloud_of, jobs, parallel, readme_test_commands, roots,
    terraform, terraform_or_skip,
};

use std::path::{Path, PathBuf};
use std::process::Command;

use fleetform::emit::Rendered;
use fleetform::validate::{Files, validate};

/// Reads registry files relative to a folder.
pub struct Dir(pub PathBuf);

impl Files for Dir {
    fn read(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.0.join(path)).map_err(|e| e.kind().to_string())
    }
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every example spec, as (name, path), sorted.
pub fn examples() -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(root().join("examples"))
        .unwrap()
        .filter_map(|e| {
            let dir = e.ok()?.path();
            let spec = dir.join("fleet.yaml");
            spec.exists().then(|| {
                (
                    dir.file_name().unwrap().to_string_lossy().into_owned(),
                    spec,
                )
            })
        })
        .collect();
    out.sort();
    out
}

/// Validates, plans and renders a spec text; panics with the rendered diagnostics if invalid.
pub fn build_text(name: &str, text: &str, base: &Path) -> Rendered {
    let outcome = validate(name, text, &Dir(base.to_path_buf()));
    let Some(v) = &outcome.validated else {
        panic!(
            "{name} is invalid:\n{}",
            fleetform::diagnostics::render_human(&outcome.diagnostics, &outcome.sources, false)
        );
    };
    let _ = v;
    let planned = fleetform::plan_sets(&outcome).expect("planning never fails on valid input");
    fleetform::emit::render_planned(&planned, fleetform::emit::Syntax::Hcl)
        .expect("rendering never fails")
}

pub fn build_file(spec: &Path) -> Rendered {
    let text = std::fs::read_to_string(spec).unwrap();
    build_text(&spec.display().to_string(), &text, spec.parent().unwrap())
}

/// Every module folder for `cloud` in a written output (`aws/`, or `<env>/aws/` per
/// environment), sorted.
pub fn module_dirs(out: &Path, cloud: &str) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if out.join(cloud).is_dir() {
        dirs.push(out.join(cloud));
    }
    if let Ok(entries) = std::fs::read_dir(out) {
        for e in entries.flatten() {
            let candidate = e.path().join(cloud);
            if e.path().is_dir() && candidate.is_dir() {
                dirs.push(candidate);
            }
        }
    }
    dirs.sort();
    dirs
}

/// Writes a rendering into a fresh temp folder.
pub fn write_temp(rendered: &Rendered) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, file) in &rendered.files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, &file.bytes).unwrap();
    }
    dir
}

pub fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(tool))
            .find(|p| p.is_file())
    })
}

/// Announces a skipped tool check where `cargo test` shows it: on the process's real
/// standard error, which libtest does not capture (it captures only `print!`/`eprint!`),
/// once per tool and process. Fails instead when `FLEETFORM_REQUIRE_TOOLS` is set (CI sets
/// it, so a missing tool can never pass silently there).
pub fn skip(tool: &str, why: &str) {
    use std::io::Write as _;
    static SHOWN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let first = SHOWN.lock().map_or(true, |mut shown| {
        let first = !shown.iter().any(|t| t == tool);
        if first {
            shown.push(tool.to_owned());
        }
        first
    });
    if first {
        let _ = writeln!(
            std::io::stderr(),
            "\n!!!!!!!!!! SKIPPED: {tool} checks did not run: {why} !!!!!!!!!!\n"
        );
    }
    assert!(
        std::env::var_os("FLEETFORM_REQUIRE_TOOLS").is_none(),
        "FLEETFORM_REQUIRE_TOOLS is set, but {tool} is unavailable: {why}"
    );
}

/// A line for the person running the tests, on the real standard error (see [`skip`]).
pub fn announce(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// `terraform fmt -check -recursive` on a folder (nothing without terraform).
pub fn terraform_fmt_check(dir: &Path) -> Result<(), String> {
    terraform().map_or(Ok(()), |tf| tf.fmt_check(dir))
}

/// `terraform init -backend=false` + `terraform validate` with the real provider on a root
/// module, AWS or Azure (nothing without terraform).
pub fn terraform_validate(dir: &Path) -> Result<(), String> {
    match terraform() {
        Some(tf) if tf.can_check(dir) => tf.validate(dir),
        _ => Ok(()),
    }
}

/// checkov, if installed (`checkov` on PATH or `FLEETFORM_CHECKOV`).
pub fn checkov() -> Option<PathBuf> {
    std::env::var_os("FLEETFORM_CHECKOV")
        .map(PathBuf::from)
        .or_else(|| which("checkov"))
}

/// Runs checkov on a folder; returns the failed checks.
pub fn checkov_failures(dir: &Path) -> Result<Vec<String>, String> {
    let Some(tool) = checkov() else {
        return Ok(Vec::new());
    };
    let out = Command::new(tool)
        .args(["--directory"])
        .arg(dir)
        .args([
            "--framework",
            "terraform",
            "--output",
            "json",
            "--quiet",
            "--compact",
            "--skip-download",
        ])
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "checkov output is not JSON ({e}):\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let reports = if value.is_array() {
        value.as_array().unwrap().clone()
    } else {
        vec![value]
    };
    let mut failed = Vec::new();
    for report in reports {
        if let Some(checks) = report
            .pointer("/results/failed_checks")
            .and_then(|v| v.as_array())
        {
            for c in checks {
                failed.push(format!(
                    "{} {} {}",
                    c["check_id"].as_str().unwrap_or("?"),
                    c["resource"].as_str().unwrap_or("?"),
                    c["check_name"].as_str().unwrap_or("?")
                ));
            }
        }
    }
    Ok(failed)
}

/// Arguments a rendering sets that the providers' replacement tables
/// (`src/clouds/*/forcenew.json`) do not cover, as `type: path`.
pub fn uncovered_arguments(rendered: &Rendered) -> Vec<String> {
    let mut out = std::collections::BTreeSet::new();
    for (path, file) in &rendered.files {
        if !path.ends_with(".tf") {
            continue;
        }
        let body: hcl::Body = hcl::from_slice(&file.bytes).expect("generated HCL parses");
        for (ty, arg) in fleetform::infradiff::eval::argument_paths(&body) {
            if !fleetform::clouds::rules(&ty).is_some_and(|r| r.covers(&arg)) {
                out.insert(format!("{ty}: {arg}"));
            }
        }
    }
    out.into_iter().collect()
}

/// Runs the built `fleetform` binary in `dir`, without colour, and returns what it did.
pub fn fleetform<S: AsRef<std::ffi::OsStr>>(dir: &Path, args: &[S]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_fleetform"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}
