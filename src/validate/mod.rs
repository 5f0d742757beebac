//! Validation: YAML text in, a checked [`Model`] (or every problem at once) out.
//!
//! The steps run in order, and each collects all of its diagnostics before the next decides
//! whether it can run: parse (spans kept) → JSON-Schema check → typed spec → semantic checks
//! and registry file → lowering (topics, conditions, capacity). A later step never runs on
//! input an earlier one rejected, so its messages never cascade from someone else's error.

mod accounts;
pub mod cloud_values;
pub mod registry;
pub mod schema;
pub mod semantic;

use std::collections::HashMap;
use std::sync::Arc;

use serde_path_to_error::Segment;

use crate::diagnostics::{Diagnostic, Diagnostics, SourceId, Sources};
use crate::model::registry::Registry;
use crate::model::{Model, lower};
use crate::spec::FleetSpec;
use crate::spec::load::{DocKind, parse_yaml};
use crate::spec::node::{Node, Seg, SpecPath};

/// Reads files the spec refers to (the device registry), relative to the spec's folder.
/// The CLI reads the disk; tests hand in strings.
pub trait Files {
    /// Reads `path` (relative to the spec) as UTF-8; the error's text is shown to the user.
    fn read(&self, path: &str) -> Result<String, String>;

    /// Opens `path` for reading as a stream (CSV registries are read row by row, never
    /// whole). The default reads the whole text with [`Files::read`].
    fn open(&self, path: &str) -> Result<Box<dyn std::io::Read + '_>, String> {
        self.read(path)
            .map(|t| Box::new(std::io::Cursor::new(t.into_bytes())) as Box<dyn std::io::Read>)
    }
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
    /// One checked spec per environment overlay, in spec order (empty without overlays).
    pub environments: Vec<(String, Validated)>,
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
    let mut environments = Vec::new();
    let validated = run(
        &mut sources,
        spec_source,
        files,
        &mut diagnostics,
        &mut environments,
    );
    diagnostics.sort_and_dedupe_across_environments();
    let ok = !diagnostics.has_errors();
    Outcome {
        sources,
        spec_source,
        validated: validated.filter(|_| ok),
        environments: if ok { environments } else { Vec::new() },
        diagnostics,
    }
}

/// A registry file, read and parsed once per run: the base spec and every environment that
/// name the same path share it, down to one `Arc` of its devices in their models.
struct LoadedRegistry {
    loaded: registry::Loaded,
    /// The file's text among the sources, once a problem needs it shown (a CSV file is
    /// otherwise never held whole); `Err` when it could not be read again unchanged.
    source: Option<Result<SourceId, Box<Diagnostic>>>,
}

/// Registry files by path; `Err` says why the file could not be read.
type Registries = HashMap<String, Result<LoadedRegistry, Unreadable>>;

/// Why a registry could not be read: an I/O reason, or a located problem in it.
enum Unreadable {
    Io(String),
    Problem(Box<Diagnostic>),
}

fn is_csv(file: &str) -> bool {
    std::path::Path::new(file)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

fn load_registry(
    sources: &mut Sources,
    files: &dyn Files,
    file: &str,
) -> Result<LoadedRegistry, Unreadable> {
    if is_csv(file) {
        let input = files.open(file).map_err(Unreadable::Io)?;
        let limit = crate::spec::load::MAX_REGISTRY_BYTES as u64;
        match registry::read_csv(input, limit) {
            Ok(loaded) => Ok(LoadedRegistry {
                loaded,
                source: None,
            }),
            Err(registry::Unreadable::Io(why)) => Err(Unreadable::Io(why)),
            Err(registry::Unreadable::Problem(p)) => {
                // The header or the size: the problem is at the top of the file, so its first
                // lines are all the snippet needs (the whole may be too large to hold).
                let head = if p.diag.code == "input-too-large" {
                    String::new()
                } else {
                    first_lines(files, file)
                };
                let source = sources.add(file, head);
                Err(Unreadable::Problem(Box::new(p.located(source))))
            }
        }
    } else {
        let text = files.read(file).map_err(Unreadable::Io)?;
        let source = sources.add(file, text);
        match registry::read_yaml(sources, source) {
            Ok(loaded) => Ok(LoadedRegistry {
                loaded,
                source: Some(Ok(source)),
            }),
            Err(registry::Unreadable::Io(why)) => Err(Unreadable::Io(why)),
            Err(registry::Unreadable::Problem(p)) => {
                Err(Unreadable::Problem(Box::new(p.located(source))))
            }
        }
    }
}

/// Up to the first 64 KiB of a file, cut after its last complete line.
fn first_lines(files: &dyn Files, file: &str) -> String {
    let mut head = Vec::new();
    if let Ok(input) = files.open(file) {
        let _ = std::io::Read::read_to_end(&mut std::io::Read::take(input, 64 * 1024), &mut head);
    }
    if let Some(end) = head.iter().rposition(|&b| b == b'\n') {
        head.truncate(end + 1);
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// The registry's text among the sources, read again when a problem needs showing; the same
/// text that was checked, or a diagnostic saying it changed.
fn registry_source(
    reg: &mut LoadedRegistry,
    sources: &mut Sources,
    files: &dyn Files,
    file: &str,
) -> Result<SourceId, Box<Diagnostic>> {
    reg.source
        .get_or_insert_with(|| {
            let changed = || {
                Box::new(
                    Diagnostic::error(
                        "registry-changed",
                        format!("`{file}` changed while fleetform read it"),
                    )
                    .at(SpecPath::parse("fleet.registry.file"))
                    .hint("let whatever writes the registry finish, then validate again"),
                )
            };
            let text = files.read(file).map_err(|_| changed())?;
            if registry::fingerprint(text.as_bytes()) != reg.loaded.fingerprint {
                return Err(changed());
            }
            Ok(sources.add(file, text))
        })
        .clone()
}

fn run(
    sources: &mut Sources,
    spec_source: SourceId,
    files: &dyn Files,
    diags: &mut Diagnostics,
    environments: &mut Vec<(String, Validated)>,
) -> Option<Validated> {
    let mut registries = Registries::new();
    let root = match parse_yaml(sources, spec_source, DocKind::Spec) {
        Ok(root) => root,
        Err(d) => {
            diags.extend(d);
            return None;
        }
    };
    // Shape first, for the whole file; problems inside one environment's overlay only skip
    // that environment, so the others are still checked.
    let mut shape = schema::check(&root);
    shape.locate(sources, spec_source, &root);
    let in_env = |d: &Diagnostic| -> Option<String> {
        match d.path.as_ref().map(|p| p.0.as_slice()) {
            Some([Seg::Key(k), Seg::Key(env), ..]) if k == "environments" => Some(env.clone()),
            _ => None,
        }
    };
    let broken_envs: std::collections::BTreeSet<String> = shape
        .iter()
        .filter(|d| d.is_error())
        .filter_map(in_env)
        .collect();
    let base_broken = shape.iter().any(|d| d.is_error() && in_env(d).is_none());
    diags.extend(shape);
    if base_broken {
        return None;
    }
    let plain = root.without("environments");
    let base = check_document(sources, spec_source, files, &mut registries, &plain, diags)?;
    // Each environment: the base with the overlay laid over it, checked like a spec of its
    // own. Its diagnostics point at the base or the overlay, wherever the value was written.
    let overlays = match root.get(&SpecPath::parse("environments")).map(|n| &n.value) {
        Some(crate::spec::node::Value::Map(entries)) => entries.clone(),
        _ => Vec::new(),
    };
    for (key, overlay) in &overlays {
        if broken_envs.contains(&key.name) {
            continue;
        }
        if let Some(n) = overlay.get(&SpecPath::parse("stack.environment")) {
            diags.push(
                Diagnostic::error("environment-name", "an environment's name is the key under `environments`; it cannot set `stack.environment`")
                    .in_source(spec_source, n.span)
                    .hint(format!("remove `stack.environment`: this environment is `{}`", key.name)),
            );
            continue;
        }
        let mut merged = plain.merged(overlay);
        merged.set(
            &["stack", "environment"],
            crate::spec::node::Value::Str(key.name.clone()),
            key.span,
        );
        let mut found = Diagnostics::new();
        let checked = check_document(
            sources,
            spec_source,
            files,
            &mut registries,
            &merged,
            &mut found,
        );
        // What the base already reported stays reported once; the rest names the environment.
        for mut d in found {
            let repeat = diags
                .iter()
                .any(|x| (x.location, x.code, &x.message) == (d.location, d.code, &d.message));
            if !repeat {
                d.message = format!("{} (environment `{}`)", d.message, key.name);
                diags.push(d);
            }
        }
        if let Some(v) = checked {
            environments.push((key.name.clone(), v));
        }
    }
    let keys: Vec<_> = overlays.iter().map(|(k, _)| k.clone()).collect();
    accounts::check(spec_source, &keys, environments, diags);
    Some(base)
}

/// Checks one complete document tree (the spec, or the spec with an overlay merged in):
/// typed spec, semantic checks, registry file, lowering.
fn check_document(
    sources: &mut Sources,
    spec_source: SourceId,
    files: &dyn Files,
    registries: &mut Registries,
    root: &Node,
    diags: &mut Diagnostics,
) -> Option<Validated> {
    let mut found = schema::check(root);
    if found.has_errors() {
        found.locate(sources, spec_source, root);
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
            found.locate(sources, spec_source, root);
            diags.extend(found);
            return None;
        }
    };
    found.extend(semantic::check(&spec));
    found.extend(cloud_values::check(&spec));
    let mut file_devices: Arc<Registry> = Arc::default();
    let mut registry_errors = false;
    // A path semantic checks refused is never read.
    if let Some(file) = spec
        .fleet
        .registry
        .as_ref()
        .and_then(|r| r.file.as_ref())
        .filter(|f| semantic::read_path_problem(f).is_none())
    {
        let loaded = registries
            .entry(file.clone())
            .or_insert_with(|| load_registry(sources, files, file));
        match loaded {
            Ok(reg) => {
                // The spec's types, groups and inline devices may differ per environment.
                let mut problems = reg.loaded.problems.clone();
                problems.merge(&registry::check(&spec, &reg.loaded));
                registry_errors = problems.has_errors();
                if !problems.is_empty() {
                    match registry_source(reg, sources, files, file) {
                        Ok(source) => diags.extend(
                            problems
                                .finish(file)
                                .into_iter()
                                .map(|p| p.located(source)),
                        ),
                        Err(d) => found.push(*d),
                    }
                }
                file_devices = Arc::clone(&reg.loaded.registry);
            }
            Err(Unreadable::Problem(d)) => {
                registry_errors = true;
                diags.push((**d).clone());
            }
            Err(Unreadable::Io(why)) => found.push(
                Diagnostic::error(
                    "unreadable-file",
                    format!("cannot read the registry `{file}`: {why}"),
                )
                .at(SpecPath::parse("fleet.registry.file"))
                .hint(format!(
                    "the path is relative to the spec file and names a regular UTF-8 text file of at most {} (not a link, pipe, device or folder)",
                    registry::size_text(crate::spec::load::MAX_REGISTRY_BYTES as u64)
                )),
            ),
        }
    }
    // One count of the whole registry: the file's devices and the inline ones.
    let registered =
        file_devices.len() + spec.fleet.registry.as_ref().map_or(0, |r| r.devices.len());
    if registered as u64 > spec.fleet.devices {
        found.push(
            Diagnostic::warning(
                "registry-larger-than-fleet",
                format!(
                    "the registry lists {registered} devices, more than `fleet.devices` ({})",
                    spec.fleet.devices
                ),
            )
            .at(SpecPath::parse("fleet.devices"))
            .hint("capacity and cost follow `fleet.devices`; raise it to at least the registry's size"),
        );
    }
    if found.has_errors() || registry_errors {
        found.locate(sources, spec_source, root);
        diags.extend(found);
        return None;
    }
    let (model, lowered) = lower::lower(&spec, file_devices);
    // What each cloud rejects only at apply, counted on what its planner would build.
    let limits = !lowered.has_errors();
    found.extend(lowered);
    found.extend(archive_prefixes(&spec, &model));
    if limits {
        for planner in crate::clouds::targeted_planners(&model) {
            found.extend(planner.check(&model));
        }
    }
    found.locate(sources, spec_source, root);
    let failed = found.has_errors();
    diags.extend(found);
    (!failed).then(|| Validated {
        spec,
        model,
        root: root.clone(),
    })
}

/// `storage.archive.prefixes` filter the archive's lifecycle by object name: a prefix that
/// no writer's objects can start with tiers and expires nothing. A prefix matches a writer
/// when one of the two starts with the other (`raw/` and `raw/2026/` both narrow Firehose's
/// `raw/...`); on every targeted cloud, each prefix must match some writer there.
fn archive_prefixes(spec: &FleetSpec, model: &crate::model::Model) -> Diagnostics {
    let mut d = Diagnostics::new();
    if !spec.storage.archive.enabled {
        return d;
    }
    for planner in crate::clouds::targeted_planners(model) {
        let writers = planner.archive_writers(model);
        if writers.is_empty() {
            continue;
        }
        for (i, prefix) in spec.storage.archive.prefixes.iter().enumerate() {
            let matches = writers
                .iter()
                .any(|(fixed, _)| fixed.starts_with(prefix.as_str()) || prefix.starts_with(fixed));
            if !matches {
                let mut where_: Vec<String> = writers
                    .iter()
                    .map(|(fixed, who)| format!("`{fixed}` ({who})"))
                    .collect();
                where_.dedup();
                d.push(
                    Diagnostic::error(
                        "prefix-matches-nothing",
                        format!(
                            "no object in the {} archive starts with `{prefix}`, so the lifecycle would tier and expire nothing under it; objects land under {}",
                            planner.cloud().title(),
                            where_.join(", ")
                        ),
                    )
                    .at(SpecPath::parse("storage.archive.prefixes").index(i))
                    .hint("use a prefix the writers produce (such as `raw/`), or remove `prefixes` so the whole archive follows the lifecycle"),
                );
            }
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    /// One registry file, counting how often it is read.
    struct Counted(Cell<usize>, &'static str);

    impl Files for Counted {
        fn read(&self, path: &str) -> Result<String, String> {
            self.0.set(self.0.get() + 1);
            assert_eq!(path, "devices.csv");
            Ok(self.1.to_owned())
        }
    }

    #[test]
    fn environments_share_one_read_of_the_registry_file() {
        let spec = "version: 1\nstack: {name: shared}\nclouds:\n  aws:\n    region: us-east-1\n    provisioning: {method: manual}\nfleet:\n  devices: 10\n  device_types: [{name: meter}]\n  registry: {file: devices.csv}\nenvironments:\n  dev:\n    fleet: {devices: 5}\n  prod:\n    fleet: {devices: 50}\n    clouds: {aws: {account_id: '222222222222'}}\n";
        let files = Counted(Cell::new(0), "id,type\nmeter-1,meter\nmeter-2,meter\n");
        let outcome = validate("fleet.yaml", spec, &files);
        assert!(outcome.diagnostics.is_empty(), "{:?}", outcome.diagnostics);
        assert_eq!(
            files.0.get(),
            1,
            "read once for the base and both environments"
        );
        let base = &outcome.validated.unwrap().model.fleet.registry;
        assert_eq!(base.len(), 2);
        assert_eq!(outcome.environments.len(), 2);
        for (name, env) in &outcome.environments {
            assert!(Arc::ptr_eq(base, &env.model.fleet.registry), "{name}");
        }
    }

    /// A registry whose text changes between the streamed read and the read for snippets.
    struct Changing(Cell<usize>);

    impl Files for Changing {
        fn read(&self, _: &str) -> Result<String, String> {
            self.0.set(self.0.get() + 1);
            Ok(if self.0.get() == 1 {
                "id\nbad/1\n".to_owned()
            } else {
                "id\nbad/2\nok\n".to_owned()
            })
        }
    }

    #[test]
    fn a_registry_that_changes_while_read_is_reported_not_misquoted() {
        let spec = "version: 1\nstack: {name: changing}\nclouds:\n  aws:\n    region: us-east-1\n    provisioning: {method: manual}\nfleet:\n  devices: 10\n  registry: {file: devices.csv}\n";
        let outcome = validate("fleet.yaml", spec, &Changing(Cell::new(0)));
        let codes: Vec<_> = outcome.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["registry-changed"], "{:?}", outcome.diagnostics);
        assert!(outcome.validated.is_none());
    }
}
