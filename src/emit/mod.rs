//! Emitting: planned modules become bytes, in a stable order, formatted like `terraform fmt`.
//!
//! [`render`] is pure: modules in, a sorted map of relative path to bytes out, plus a
//! manifest that records which files fleetform owns (so later builds can update and remove
//! them without ever touching files people added). Writing it to disk, atomically, is the
//! CLI's job (`cli::output`), as is every other I/O.

pub mod hclfmt;
pub mod jsonl;
pub mod strings;
pub mod tfjson;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::plan::{FileContent, Module, Streamed};

/// Name of the manifest file at the top of the output folder.
pub const MANIFEST: &str = ".fleetform-manifest.json";

/// Generated files up to this size are held in memory; larger ones (registry data) are
/// generated again when written, so they never sit in memory whole.
pub const STREAM_ABOVE_BYTES: usize = 1024 * 1024;

/// One rendered file.
#[derive(Debug, Clone)]
pub struct RenderedFile {
    /// The content, unless the file is [`RenderedFile::streamed`] (then empty).
    pub bytes: Vec<u8>,
    pub executable: bool,
    /// A file larger than [`STREAM_ABOVE_BYTES`]: its generator, length and hash.
    pub streamed: Option<StreamedFile>,
}

/// A rendered file that is generated again whenever its bytes are needed.
#[derive(Debug, Clone)]
pub struct StreamedFile {
    pub source: Arc<dyn Streamed>,
    pub len: u64,
    pub sha256: [u8; 32],
}

impl PartialEq for RenderedFile {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
            && self.executable == other.executable
            && self.streamed.as_ref().map(|s| (s.len, s.sha256))
                == other.streamed.as_ref().map(|s| (s.len, s.sha256))
    }
}

impl Eq for RenderedFile {}

impl RenderedFile {
    /// A file held in memory.
    pub fn new(bytes: Vec<u8>, executable: bool) -> Self {
        Self {
            bytes,
            executable,
            streamed: None,
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> u64 {
        self.streamed
            .as_ref()
            .map_or(self.bytes.len() as u64, |s| s.len)
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Hex SHA-256 of the content.
    pub fn sha256_hex(&self) -> String {
        match &self.streamed {
            Some(s) => hex(&s.sha256),
            None => sha256_hex(&self.bytes),
        }
    }

    /// Writes the content.
    ///
    /// # Errors
    /// The errors of `out`.
    pub fn write_to(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        match &self.streamed {
            Some(s) => s.source.write_to(out),
            None => out.write_all(&self.bytes),
        }
    }

    /// The content in memory (generated, for a streamed file: for tests and small cases).
    pub fn contents(&self) -> Cow<'_, [u8]> {
        match &self.streamed {
            None => Cow::Borrowed(&self.bytes),
            Some(s) => {
                let mut out = Vec::with_capacity(usize::try_from(s.len).unwrap_or(0));
                // Writing into a Vec cannot fail.
                let _ = s.source.write_to(&mut out);
                Cow::Owned(out)
            }
        }
    }

    /// Whether `existing` (a file's length and SHA-256) holds exactly this content.
    pub fn matches(&self, existing: &Digest256) -> bool {
        existing.len == self.len() && existing.sha256_hex == self.sha256_hex()
    }
}

/// Length and hex SHA-256 of some bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest256 {
    pub len: u64,
    pub sha256_hex: String,
}

impl Digest256 {
    /// Reads `input` to the end, hashing it.
    ///
    /// # Errors
    /// The errors of `input`.
    pub fn of_reader(mut input: impl std::io::Read) -> std::io::Result<Self> {
        let mut h = Sha256::new();
        let mut buf = vec![0_u8; 256 * 1024];
        let mut len = 0_u64;
        loop {
            let n = input.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            len += n as u64;
        }
        Ok(Self {
            len,
            sha256_hex: hex(&h.finalize()),
        })
    }
}

/// Keeps what is written while it is small, hashes all of it.
struct Capture {
    buf: Vec<u8>,
    spilled: bool,
    len: u64,
    hash: Sha256,
}

impl std::io::Write for Capture {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.hash.update(data);
        self.len += data.len() as u64;
        if !self.spilled {
            if self.buf.len() + data.len() > STREAM_ABOVE_BYTES {
                self.spilled = true;
                self.buf = Vec::new();
            } else {
                self.buf.extend_from_slice(data);
            }
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Generates a streamed file once: held in memory if small, else its length and hash.
fn capture(source: &Arc<dyn Streamed>, executable: bool) -> std::io::Result<RenderedFile> {
    let mut c = Capture {
        buf: Vec::new(),
        spilled: false,
        len: 0,
        hash: Sha256::new(),
    };
    source.write_to(&mut std::io::BufWriter::with_capacity(256 * 1024, &mut c))?;
    if c.spilled {
        Ok(RenderedFile {
            bytes: Vec::new(),
            executable,
            streamed: Some(StreamedFile {
                source: Arc::clone(source),
                len: c.len,
                sha256: c.hash.finalize().into(),
            }),
        })
    } else {
        Ok(RenderedFile::new(c.buf, executable))
    }
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
    #[error("could not generate `{path}`: {message}")]
    Stream { path: String, message: String },
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
            RenderedFile::new(text.clone().into_bytes(), false),
        );
    }
    rendered.files.remove(MANIFEST);
    let manifest = manifest(&rendered.files);
    rendered.files.insert(
        MANIFEST.to_owned(),
        RenderedFile::new(manifest.into_bytes(), false),
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
                let executable = std::path::Path::new(&path)
                    .extension()
                    .is_some_and(|e| e == "sh");
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
                    FileContent::Stream(source) => {
                        let file = capture(source, executable).map_err(|e| EmitError::Stream {
                            path: path.clone(),
                            message: e.to_string(),
                        })?;
                        files.insert(path, file);
                        continue;
                    }
                };
                files.insert(path, RenderedFile::new(bytes, executable));
            }
        }
    }
    let manifest = manifest(&files);
    files.insert(
        MANIFEST.to_owned(),
        RenderedFile::new(manifest.into_bytes(), false),
    );
    Ok(Rendered { files })
}

/// Hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
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
            .map(|(p, f)| (p.clone(), format!("sha256:{}", f.sha256_hex())))
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
