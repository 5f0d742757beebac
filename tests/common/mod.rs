//! Shared test helpers: build specs in memory, write outputs to temp folders, and run the
//! real tools (terraform, tfschema-check, checkov) when the machine has them. Tests that need
//! a tool skip with a loud message when it is absent; CI installs them all.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

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

fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(tool))
            .find(|p| p.is_file())
    })
}

/// The terraform CLI config that points at the offline provider mirror, if both exist.
pub fn terraform() -> Option<(PathBuf, PathBuf)> {
    static FOUND: OnceLock<Option<(PathBuf, PathBuf)>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let tf = which("terraform")?;
            let mirror = std::env::var_os("FLEETFORM_TF_MIRROR")
                .map_or_else(|| PathBuf::from("/opt/tf-plugins"), PathBuf::from);
            if !mirror.join("registry.terraform.io/hashicorp/aws").is_dir() {
                return None;
            }
            let config = std::env::temp_dir().join(format!("fleetform-tf-{}.tfrc", std::process::id()));
            std::fs::write(
                &config,
                format!(
                    "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"registry.terraform.io/hashicorp/*\"]\n  }}\n  direct {{\n    exclude = [\"registry.terraform.io/hashicorp/*\"]\n  }}\n}}\n",
                    mirror.display()
                ),
            )
            .ok()?;
            Some((tf, config))
        })
        .clone()
}

/// Announces a skipped tool check loudly; fails instead when `FLEETFORM_REQUIRE_TOOLS` is
/// set (CI sets it, so a missing tool can never pass silently there), unless the tool is
/// named in the comma-separated `FLEETFORM_ALLOW_SKIP`.
#[allow(clippy::print_stderr)]
pub fn skip(tool: &str, why: &str) {
    eprintln!("\n!!!!!!!!!! SKIPPED: {tool} checks did not run: {why} !!!!!!!!!!\n");
    let allowed = std::env::var("FLEETFORM_ALLOW_SKIP")
        .is_ok_and(|list| list.split(',').any(|t| t.trim() == tool));
    assert!(
        allowed || std::env::var_os("FLEETFORM_REQUIRE_TOOLS").is_none(),
        "FLEETFORM_REQUIRE_TOOLS is set, but {tool} is unavailable: {why}"
    );
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

/// `terraform fmt -check -recursive` on a folder.
pub fn terraform_fmt_check(dir: &Path) -> Result<(), String> {
    let Some((tf, _)) = terraform() else {
        return Ok(());
    };
    let (ok, text) = run(Command::new(tf)
        .args(["fmt", "-check", "-recursive", "-diff", "-no-color"])
        .current_dir(dir));
    if ok { Ok(()) } else { Err(text) }
}

/// `terraform init -backend=false` + `terraform validate` on a module folder.
pub fn terraform_validate(dir: &Path) -> Result<(), String> {
    let Some((tf, config)) = terraform() else {
        return Ok(());
    };
    let (ok, text) = run(Command::new(&tf)
        .args(["init", "-backend=false", "-input=false", "-no-color"])
        .env("TF_CLI_CONFIG_FILE", &config)
        .env("TF_IN_AUTOMATION", "1")
        .current_dir(dir));
    if !ok {
        return Err(format!("terraform init failed:\n{text}"));
    }
    let (ok, text) = run(Command::new(&tf)
        .args(["validate", "-no-color"])
        .env("TF_CLI_CONFIG_FILE", &config)
        .current_dir(dir));
    if ok {
        Ok(())
    } else {
        Err(format!("terraform validate failed:\n{text}"))
    }
}

/// The schema checker for azurerm, when `../shared` exists.
pub fn tfschema_check() -> Option<(PathBuf, PathBuf)> {
    let shared = root().join("../shared");
    let tool = shared.join("tools/tfschema-check");
    let schema = shared.join("oracle/azurerm.schema.json");
    (tool.is_file() && schema.is_file()).then_some((tool, schema))
}

/// Runs tfschema-check on an Azure module folder.
pub fn azurerm_schema_check(dir: &Path) -> Result<(), String> {
    let Some((tool, schema)) = tfschema_check() else {
        return Ok(());
    };
    let (ok, text) = run(Command::new(tool).arg("--schema").arg(schema).arg(dir));
    if ok {
        Ok(())
    } else {
        Err(format!("tfschema-check failed:\n{text}"))
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
