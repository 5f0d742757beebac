//! What changed in a module's files besides its Terraform: the device registry, by device
//! id, and every other artifact (function code, scripts, READMEs) by lines.
//!
//! A registry edit is a `for_each` over `registry/devices.json`; Terraform shows it as
//! instances created and destroyed, a reviewer wants to read it as devices added, removed
//! and changed.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::plan::{FileContent, Module};

/// Registry changes of one module, by device id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeviceChanges {
    pub module: String,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Devices whose entry changed, with the fields that changed.
    pub changed: Vec<DeviceEdit>,
}

/// One device whose registry entry changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceEdit {
    pub id: String,
    /// Changed fields: `type`, `groups`, `attributes.firmware`.
    pub fields: Vec<String>,
}

/// A changed non-Terraform artifact (function code, registry data, scripts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArtifactChange {
    pub path: String,
    pub lines_added: usize,
    pub lines_removed: usize,
}

/// The registry a module carries (`registry/devices.json`, keyed by device id).
fn registry(module: Option<&Module>) -> Option<serde_json::Map<String, serde_json::Value>> {
    let parsed = match module?.files.get("registry/devices.json")? {
        FileContent::Text(text) => serde_json::from_str(text).ok()?,
        // A large registry's data file is streamed; the diff needs it whole, once.
        FileContent::Stream(file) => {
            let mut bytes = Vec::new();
            file.write_to(&mut bytes).ok()?;
            serde_json::from_slice(&bytes).ok()?
        }
        _ => return None,
    };
    match parsed {
        serde_json::Value::Object(map) => Some(map),
        _ => None,
    }
}

/// Registry changes by device id.
pub(super) fn devices(
    key: &str,
    old: Option<&Module>,
    new: Option<&Module>,
) -> Option<DeviceChanges> {
    let (before, after) = (registry(old), registry(new));
    if before.is_none() && after.is_none() {
        return None;
    }
    let (before, after) = (before.unwrap_or_default(), after.unwrap_or_default());
    let mut out = DeviceChanges {
        module: key.to_owned(),
        ..DeviceChanges::default()
    };
    let ids: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for id in ids {
        match (before.get(id), after.get(id)) {
            (None, Some(_)) => out.added.push(id.clone()),
            (Some(_), None) => out.removed.push(id.clone()),
            (Some(a), Some(b)) if a != b => {
                let mut fields = Vec::new();
                changed_fields(a, b, "", &mut fields);
                out.changed.push(DeviceEdit {
                    id: id.clone(),
                    fields,
                });
            }
            _ => {}
        }
    }
    let empty = out.added.is_empty() && out.removed.is_empty() && out.changed.is_empty();
    (!empty).then_some(out)
}

fn changed_fields(
    old: &serde_json::Value,
    new: &serde_json::Value,
    prefix: &str,
    out: &mut Vec<String>,
) {
    use serde_json::Value as J;
    match (old, new) {
        (J::Object(before), J::Object(after)) => {
            let keys: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
            for key in keys {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                match (before.get(key), after.get(key)) {
                    (Some(was), Some(is)) if was.is_object() && is.is_object() => {
                        changed_fields(was, is, &path, out);
                    }
                    (was, is) if was != is => out.push(path),
                    _ => {}
                }
            }
        }
        _ if old != new => out.push(prefix.to_owned()),
        _ => {}
    }
}

/// Changed non-HCL files: function code, data files, scripts, READMEs.
pub(super) fn artifacts(
    key: &str,
    old: Option<&Module>,
    new: Option<&Module>,
) -> Vec<ArtifactChange> {
    let files = |m: Option<&Module>| -> BTreeMap<String, Vec<u8>> {
        m.map(|m| {
            m.files
                .iter()
                .filter_map(|(p, c)| match c {
                    FileContent::Text(t) => Some((p.clone(), t.clone().into_bytes())),
                    FileContent::Bytes(b) => Some((p.clone(), b.clone())),
                    FileContent::Stream(s) => {
                        let mut b = Vec::new();
                        // Writing into a Vec cannot fail.
                        let _ = s.write_to(&mut b);
                        Some((p.clone(), b))
                    }
                    FileContent::Hcl(_) => None,
                })
                .collect()
        })
        .unwrap_or_default()
    };
    let (fa, fb) = (files(old), files(new));
    let paths: BTreeSet<&String> = fa.keys().chain(fb.keys()).collect();
    let mut out = Vec::new();
    for path in paths {
        let (was, now) = (fa.get(path), fb.get(path));
        if was == now {
            continue;
        }
        let text = |v: Option<&Vec<u8>>| {
            v.map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default()
        };
        let (tx, ty) = (text(was), text(now));
        let d = similar::TextDiff::from_lines(&tx, &ty);
        let (mut added, mut removed) = (0, 0);
        for op in d.iter_all_changes() {
            match op.tag() {
                similar::ChangeTag::Insert => added += 1,
                similar::ChangeTag::Delete => removed += 1,
                similar::ChangeTag::Equal => {}
            }
        }
        out.push(ArtifactChange {
            path: format!("{key}/{path}"),
            lines_added: added,
            lines_removed: removed,
        });
    }
    out
}
