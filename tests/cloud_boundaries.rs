//! A cloud is one folder: outside `src/clouds/`, code chooses a cloud (iterates
//! `clouds::CLOUDS`, dispatches on the `Cloud` id) but never describes one. This test fails
//! when `Cloud::Aws` / `Cloud::Azure`, a model's per-cloud section (`model.aws`,
//! `m.azure`) or a cloud folder's module path appears outside `src/clouds/`, except at the
//! sites listed below, each with the reason it may stay.

use std::path::{Path, PathBuf};

/// Sites outside `src/clouds/` that may name a cloud: (file, what it names, how many times,
/// why). A count that grows fails the test, so a new site is a conscious addition here.
const ALLOWED: &[(&str, Pattern, usize, &str)] = &[
    (
        "src/cli/certs.rs",
        Pattern::Variant,
        2,
        "dispatch: `certs verify-aws` / `verify-azure` choose the cloud by subcommand; the \
         code's format, its file name and the next step come from that cloud's device side",
    ),
    (
        "src/cost/pricebook.rs",
        Pattern::Section,
        7,
        "the price book's YAML has an `aws:` and an `azure:` section; their items are declared \
         in clouds/<cloud>/cost/prices.rs, the loader only checks both",
    ),
    (
        "src/cost/pricebook.rs",
        Pattern::Module,
        2,
        "the loader names the two section types it deserializes",
    ),
    (
        "src/capacity.rs",
        Pattern::Module,
        2,
        "re-exports each cloud's sizing rules, so validation, planners and the estimate read one path",
    ),
    (
        "src/cost/mod.rs",
        Pattern::Module,
        2,
        "the doc example builds an AWS and an Azure bill by hand",
    ),
    (
        "src/infradiff/eval.rs",
        Pattern::Variant,
        1,
        "a unit-test fixture module; the cloud is only its label",
    ),
    (
        "src/infradiff/mod.rs",
        Pattern::Variant,
        1,
        "a unit-test fixture module; the cloud is only its label",
    ),
    (
        "src/plan/lifecycle.rs",
        Pattern::Variant,
        1,
        "a unit-test fixture module; the cloud is only its label",
    ),
    (
        "src/invariants.rs",
        Pattern::Module,
        1,
        "the fuzz invariants check that a condition renders in Azure's SAQL dialect",
    ),
];

/// Folders that define, lower or validate the spec's per-cloud sections: the model's `aws`
/// and `azure` fields are theirs to read.
const MODEL_LAYERS: &[&str] = &["src/model/", "src/spec/", "src/validate/"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pattern {
    /// `Cloud::Aws`, `Cloud::Azure`.
    Variant,
    /// `.aws` / `.azure` as a field: a model's (or price book's) per-cloud section.
    Section,
    /// `clouds::aws` / `clouds::azure`: reaching into a cloud folder.
    Module,
}

impl Pattern {
    const ALL: [Pattern; 3] = [Pattern::Variant, Pattern::Section, Pattern::Module];

    /// Occurrences in one line of code.
    fn count(self, line: &str) -> usize {
        match self {
            Pattern::Variant => {
                line.matches("Cloud::Aws").count() + line.matches("Cloud::Azure").count()
            }
            Pattern::Section => [".aws", ".azure"]
                .iter()
                .map(|field| {
                    line.match_indices(field)
                        .filter(|(i, _)| {
                            let after = line[i + field.len()..].chars().next();
                            !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                        })
                        .count()
                })
                .sum(),
            Pattern::Module => {
                line.matches("clouds::aws").count() + line.matches("clouds::azure").count()
            }
        }
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn only_cloud_folders_describe_a_cloud() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    let mut found = Vec::new();
    for path in &files {
        let rel = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if rel.starts_with("src/clouds/") {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        for pattern in Pattern::ALL {
            if pattern == Pattern::Section && MODEL_LAYERS.iter().any(|dir| rel.starts_with(dir)) {
                continue;
            }
            let n: usize = text.lines().map(|line| pattern.count(line)).sum();
            if n > 0 {
                found.push((rel.clone(), pattern, n));
            }
        }
    }
    let mut problems = Vec::new();
    for (file, pattern, n) in &found {
        match ALLOWED
            .iter()
            .find(|(f, p, _, _)| f == file && p == pattern)
        {
            Some((_, _, allowed, _)) if n <= allowed => {}
            Some((_, _, allowed, _)) => problems.push(format!(
                "{file}: {n} × {pattern:?}, {allowed} allowed; describe the cloud in its folder instead"
            )),
            None => problems.push(format!(
                "{file}: {n} × {pattern:?}; outside src/clouds/ choose a cloud through \
                 clouds::CLOUDS or its CloudPlanner, and describe it in its folder"
            )),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The allow-list shrinks with the code: an entry nothing needs any more is stale.
    for (file, pattern, allowed, _) in ALLOWED {
        let n = found
            .iter()
            .find(|(f, p, _)| f == file && p == pattern)
            .map_or(0, |(_, _, n)| *n);
        assert_eq!(
            n, *allowed,
            "{file}: {pattern:?} is allowed {allowed} times but appears {n}; update ALLOWED"
        );
    }
}

#[test]
fn every_cloud_has_its_folder_and_its_line() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let registry = std::fs::read_to_string(root.join("src/clouds/mod.rs")).unwrap();
    for planner in fleetform::clouds::CLOUDS {
        let dir = planner.cloud().dir();
        assert!(
            root.join("src/clouds").join(dir).join("mod.rs").is_file(),
            "{dir}: no src/clouds/{dir}/mod.rs"
        );
        assert!(
            registry.contains(&format!("pub mod {dir};")),
            "{dir}: not declared in src/clouds/mod.rs"
        );
        for part in ["explain/provisioning.md.j2", "explain/access.md.j2"] {
            assert!(
                root.join("blueprints").join(dir).join(part).is_file(),
                "{dir}: no blueprints/{dir}/{part}"
            );
        }
    }
}
