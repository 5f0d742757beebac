//! Emitting: planned modules become bytes, in a stable order, formatted like `terraform fmt`.
//!
//! [`render`] is pure: modules in, a sorted map of relative path to bytes out, plus a
//! manifest that records which files fleetform owns (so later builds can update and remove
//! them without ever touching files people added). Writing it to disk, atomically, is the
//! CLI's job (`cli::output`), as is every other I/O.

pub mod hclfmt;
pub mod strings;
pub mod tfjson;

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::plan::{FileContent, Module};

/// Name of the manifest file at the top of the output folder.
pub const MANIFEST: &str = ".fleetform-manifest.json";

/// One rendered file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    pub bytes: Vec<u8>,
    pub executable: bool,
}

/// Every file of a build, by path relative to the output folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    pub files: BTreeMap<String, RenderedFile>,
}

/// An emitter error: always a fleetform bug.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmitError {
    #[error("generated path `{0}` is not a safe relative path")]
    UnsafePath(String),
    #[error("could not format `{path}` as HCL: {message}")]
    Format { path: String, message: String },
}

/// Formats an HCL body the way `terraform fmt` would.
pub fn format_hcl(body: &hcl::Body) -> Result<String, String> {
    let raw = hcl::format::to_string(&strings::escape_literals(body)).map_err(|e| e.to_string())?;
    Ok(hclfmt::terraform_fmt(&raw))
}

/// Whether `path` is a plain relative path fleetform may write: normal components of
/// letters, digits, `.`, `_` and `-`, no `..`, no leading `/`.
pub fn safe_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() < 512
        && path.split('/').all(|c| {
            !c.is_empty()
                && c != "."
                && c != ".."
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
}

/// Which syntax Terraform files are written in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Syntax {
    /// `*.tf`, formatted like `terraform fmt`.
    #[default]
    Hcl,
    /// `*.tf.json`, Terraform's JSON syntax.
    Json,
}

/// Renders modules into files under `<cloud>/`, plus the manifest, in HCL.
pub fn render(modules: &[Module]) -> Result<Rendered, EmitError> {
    render_with(modules, Syntax::Hcl)
}

/// Renders modules into files under `<cloud>/`, plus the manifest, in the given syntax.
pub fn render_with(modules: &[Module], syntax: Syntax) -> Result<Rendered, EmitError> {
    render_sets(&[(String::new(), modules.to_vec())], syntax)
}

/// Renders a whole build: every module set plus the top-level files, and the manifest.
pub fn render_planned(planned: &crate::Planned, syntax: Syntax) -> Result<Rendered, EmitError> {
    let mut rendered = render_sets(&planned.sets, syntax)?;
    for (path, text) in &planned.files {
        if !safe_path(path) {
            return Err(EmitError::UnsafePath(path.clone()));
        }
        rendered.files.insert(
            path.clone(),
            RenderedFile {
                bytes: text.clone().into_bytes(),
                executable: false,
            },
        );
    }
    rendered.files.remove(MANIFEST);
    let manifest = manifest(&rendered.files);
    rendered.files.insert(
        MANIFEST.to_owned(),
        RenderedFile {
            bytes: manifest.into_bytes(),
            executable: false,
        },
    );
    Ok(rendered)
}

/// Renders several sets of modules, each under its own folder (`<prefix>/<cloud>/`; an empty
/// prefix means `<cloud>/`), plus one manifest for them all. Environments and stacks use it.
pub fn render_sets(sets: &[(String, Vec<Module>)], syntax: Syntax) -> Result<Rendered, EmitError> {
    let mut files = BTreeMap::new();
    for (prefix, modules) in sets {
        for module in modules {
            for (rel, content) in &module.files {
                let mut path = if prefix.is_empty() {
                    format!("{}/{rel}", module.dir())
                } else {
                    format!("{prefix}/{}/{rel}", module.dir())
                };
                if syntax == Syntax::Json && matches!(content, FileContent::Hcl(_)) {
                    // `main.tf` becomes `main.tf.json`; a test file `x.tftest.hcl` becomes
                    // `x.tftest.json`, the name `terraform test` looks for.
                    match path.strip_suffix(".tftest.hcl") {
                        Some(stem) => path = format!("{stem}.tftest.json"),
                        None => path.push_str(".json"),
                    }
                }
                if !safe_path(&path) {
                    return Err(EmitError::UnsafePath(path));
                }
                let format_error = |message: String| EmitError::Format {
                    path: path.clone(),
                    message,
                };
                let bytes = match content {
                    FileContent::Hcl(body) if syntax == Syntax::Json => {
                        let mut s = serde_json::to_string_pretty(&tfjson::body_to_json(body))
                            .map_err(|e| format_error(e.to_string()))?;
                        s.push('\n');
                        s.into_bytes()
                    }
                    FileContent::Hcl(body) => format_hcl(body).map_err(format_error)?.into_bytes(),
                    FileContent::Text(t) => t.clone().into_bytes(),
                    FileContent::Bytes(b) => b.clone(),
                };
                let executable = std::path::Path::new(&path)
                    .extension()
                    .is_some_and(|e| e == "sh");
                files.insert(path, RenderedFile { bytes, executable });
            }
        }
    }
    let manifest = manifest(&files);
    files.insert(
        MANIFEST.to_owned(),
        RenderedFile {
            bytes: manifest.into_bytes(),
            executable: false,
        },
    );
    Ok(Rendered { files })
}

/// Hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The manifest: generator and the hash of every file fleetform owns.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub generator: String,
    pub files: BTreeMap<String, String>,
}

fn manifest(files: &BTreeMap<String, RenderedFile>) -> String {
    let m = Manifest {
        generator: "fleetform".to_owned(),
        files: files
            .iter()
            .map(|(p, f)| (p.clone(), format!("sha256:{}", sha256_hex(&f.bytes))))
            .collect(),
    };
    let mut s = serde_json::to_string_pretty(&m).unwrap_or_default();
    s.push('\n');
    s
}

/// Reads a manifest's file list; `None` when it is not a fleetform manifest.
pub fn parse_manifest(text: &str) -> Option<Manifest> {
    serde_json::from_str::<Manifest>(text)
        .ok()
        .filter(|m| m.generator == "fleetform")
}
