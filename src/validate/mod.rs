//! Validation: YAML text in, a checked [`Model`] (or every problem at once) out.
//!
//! The steps run in order, and each collects all of its diagnostics before the next decides
//! whether it can run: parse (spans kept) → JSON-Schema check → typed spec → semantic checks
//! and registry file → lowering (topics, conditions, capacity). A later step never runs on
//! input an earlier one rejected, so its messages never cascade from someone else's error.

pub mod registry;
pub mod schema;
pub mod semantic;

use serde_path_to_error::Segment;

use crate::diagnostics::{Diagnostic, Diagnostics, SourceId, Sources};
use crate::model::{Model, lower};
use crate::spec::FleetSpec;
use crate::spec::load::{DocKind, parse_yaml};
use crate::spec::node::{Node, SpecPath};

/// Reads files the spec refers to (the device registry), relative to the spec's folder.
/// The CLI reads the disk; tests hand in strings.
pub trait Files {
    /// Reads `path` (relative to the spec) as UTF-8; the error's text is shown to the user.
    fn read(&self, path: &str) -> Result<String, String>;
}

/// A [`Files`] with no files, for specs that refer to none.
pub struct NoFiles;

impl Files for NoFiles {
    fn read(&self, path: &str) -> Result<String, String> {
        Err(format!("`{path}` is not available here"))
    }
}

/// A spec that passed validation.
#[derive(Debug, Clone)]
pub struct Validated {
    pub spec: FleetSpec,
    pub model: Model,
    pub root: Node,
}

/// Everything validation found out.
#[derive(Debug)]
pub struct Outcome {
    /// Every text read (the spec and its registry), for rendering snippets.
    pub sources: Sources,
    pub spec_source: SourceId,
    /// Present when there are no errors.
    pub validated: Option<Validated>,
    /// Errors and warnings, sorted.
    pub diagnostics: Diagnostics,
}

/// Converts a serde path into a spec path, below `base`.
pub fn path_from_serde(path: &serde_path_to_error::Path, base: &SpecPath) -> SpecPath {
    let mut out = base.clone();
    for seg in path {
        out = match seg {
            Segment::Seq { index } => out.index(*index),
            Segment::Map { key } => out.key(key.clone()),
            Segment::Enum { variant } => out.key(variant.clone()),
            Segment::Unknown => out,
        };
    }
    out
}

/// Validates a spec text. `name` is how the file is shown in diagnostics.
pub fn validate(name: &str, text: &str, files: &dyn Files) -> Outcome {
    let mut sources = Sources::default();
    let spec_source = sources.add(name, text);
    let mut diagnostics = Diagnostics::new();
    let validated = run(&mut sources, spec_source, files, &mut diagnostics);
    diagnostics.sort();
    let validated = validated.filter(|_| !diagnostics.has_errors());
    Outcome {
        sources,
        spec_source,
        validated,
        diagnostics,
    }
}

fn run(
    sources: &mut Sources,
    spec_source: SourceId,
    files: &dyn Files,
    diags: &mut Diagnostics,
) -> Option<Validated> {
    let root = match parse_yaml(sources, spec_source, DocKind::Spec) {
        Ok(root) => root,
        Err(d) => {
            diags.extend(d);
            return None;
        }
    };
    let mut found = schema::check(&root);
    if found.has_errors() {
        found.locate(sources, spec_source, &root);
        diags.extend(found);
        return None;
    }
    let spec = match serde_path_to_error::deserialize::<_, FleetSpec>(root.to_json()) {
        Ok(spec) => spec,
        Err(e) => {
            // The schema and the types agree, so this is a fleetform bug; still say where.
            let path = path_from_serde(e.path(), &SpecPath::root());
            found.push(
                Diagnostic::error("invalid-value", e.inner().to_string())
                    .at(path)
                    .hint(
                        "this value passed the schema check but not the parser; please report it",
                    ),
            );
            found.locate(sources, spec_source, &root);
            diags.extend(found);
            return None;
        }
    };
    found.extend(semantic::check(&spec));
    let mut file_devices = Vec::new();
    if let Some(file) = spec.fleet.registry.as_ref().and_then(|r| r.file.as_ref()) {
        match files.read(file) {
            Ok(text) => {
                let reg_source = sources.add(file.clone(), text);
                let (entries, problems) = registry::parse(sources, reg_source);
                diags.extend(problems);
                diags.extend(registry::check(&spec, &entries, reg_source));
                file_devices = entries.into_iter().map(|e| e.device).collect();
            }
            Err(why) => found.push(
                Diagnostic::error(
                    "unreadable-file",
                    format!("cannot read the registry `{file}`: {why}"),
                )
                .at(SpecPath::parse("fleet.registry.file"))
                .hint(
                    "the path is relative to the spec file; check that it exists and is UTF-8 text",
                ),
            ),
        }
    }
    if found.has_errors() || diags.has_errors() {
        found.locate(sources, spec_source, &root);
        diags.extend(found);
        return None;
    }
    let (model, lowered) = lower::lower(&spec, file_devices);
    found.extend(lowered);
    found.locate(sources, spec_source, &root);
    diags.extend(found);
    Some(Validated { spec, model, root })
}
