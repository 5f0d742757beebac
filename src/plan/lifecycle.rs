//! Lifecycle rules the planners' output gets after planning: `moved` blocks for renamed spec
//! items, and `prevent_destroy` on what holds data or identities.
//!
//! Both are post-passes over finished modules, so the planners stay unaware of them and the
//! knowledge of what is stateful stays in each cloud's folder ([`crate::clouds::holds`]).
//!
//! `moved` blocks: a renamed alert (`renamed_from`) keeps the cloud names built from its old
//! name ([`crate::model::Alert::cloud_name`]), so only its Terraform addresses change. The
//! generator sees only the new spec, and the spec keeps the old name, so the old addresses
//! are known without a second spec: the module is planned again with the old names, and the
//! two are paired block by block. The pairing is checked (same files, types and order, and
//! every label that differs is the renamed alert's own), so a `moved` block never carries a
//! resource to something else.

use std::collections::BTreeMap;

use hcl::{Block, Body, Structure};

use super::{FileContent, Module, PlanError, tf};
use crate::clouds::CloudPlanner;
use crate::model::Model;

/// What a resource holds that a replacement or destroy loses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holds {
    /// What is lost, in words: "every object in the bucket".
    pub what: &'static str,
    /// Instances expanded with `for_each` are devices of the registry: removing one is how a
    /// device is decommissioned, so `prevent_destroy` leaves them alone (diff still lists
    /// each loss).
    pub per_device: bool,
}

/// The file `moved` blocks go to.
pub const MOVED_FILE: &str = "moved.tf";

/// Applies the post-passes to a module `planner` made from `model`.
pub fn finish(
    model: &Model,
    planner: &dyn CloudPlanner,
    mut module: Module,
) -> Result<Module, PlanError> {
    let moves = moves(model, planner, &module)?;
    if !moves.is_empty() {
        let mut file = tf::TfFile::new();
        file.comment(
            "Renamed alerts keep their cloud resources: these carry them to the new addresses.",
        );
        file.comment(
            "Keep them (and `renamed_from` in the spec) until every workspace has applied them.",
        );
        for (from, to) in moves {
            file.push(
                tf::block("moved")
                    .add_attribute(("from", tf::r(&from)))
                    .add_attribute(("to", tf::r(&to)))
                    .build(),
            );
        }
        module.hcl(MOVED_FILE, file);
    }
    if model.stack.prevent_destroy {
        protect(&mut module);
    }
    Ok(module)
}

/// `(from, to)` addresses of the resources renamed alerts move.
fn moves(
    model: &Model,
    planner: &dyn CloudPlanner,
    module: &Module,
) -> Result<Vec<(String, String)>, PlanError> {
    if model.alerts.iter().all(|a| a.renamed_from.is_none()) {
        return Ok(Vec::new());
    }
    let mut before = model.clone();
    for a in &mut before.alerts {
        if let Some(old) = &a.renamed_from {
            a.name.clone_from(old);
        }
    }
    let renames: Vec<(String, String)> = model
        .alerts
        .iter()
        .filter_map(|a| Some((a.renamed_from.clone()?, a.name.clone())))
        .collect();
    let old = planner.plan(&before)?;
    let (was, is) = (resources(&old), resources(module));
    let mismatch = |why: String| PlanError::Moved {
        module: module.dir().to_owned(),
        why,
    };
    if was.len() != is.len() {
        return Err(mismatch(format!(
            "{} resources before the rename, {} after",
            was.len(),
            is.len()
        )));
    }
    let mut pairs = BTreeMap::new();
    for ((file_a, a), (file_b, b)) in was.iter().zip(&is) {
        let (ty, from, to) = (label(a, 0), label(a, 1), label(b, 1));
        if file_a != file_b || ty != label(b, 0) || a.identifier != b.identifier {
            return Err(mismatch(format!(
                "`{ty}.{from}` in {file_a} pairs with `{}.{to}` in {file_b}",
                label(b, 0)
            )));
        }
        if from != to {
            // Only a renamed alert's own labels may differ: `alert_<old>...` → `alert_<new>...`.
            let explained = renames.iter().any(|(old, new)| {
                from.contains(old.as_str()) && from.replacen(old.as_str(), new, 1) == to
            });
            if !explained {
                return Err(mismatch(format!(
                    "`{ty}.{from}` pairs with `{ty}.{to}`, which no rename explains"
                )));
            }
            let data = if a.identifier.as_str() == "data" {
                "data."
            } else {
                ""
            };
            pairs.insert(format!("{data}{ty}.{from}"), format!("{data}{ty}.{to}"));
        }
    }
    // Data sources are read again under their new address; only resources have state.
    Ok(pairs
        .into_iter()
        .filter(|(from, _)| !from.starts_with("data."))
        .collect())
}

/// The resources and data sources of a module, with their file, in order.
fn resources(module: &Module) -> Vec<(&str, &Block)> {
    let mut out = Vec::new();
    for (path, content) in &module.files {
        if let FileContent::Hcl(body) = content {
            out.extend(
                body.blocks()
                    .filter(|b| {
                        matches!(b.identifier.as_str(), "resource" | "data") && b.labels.len() == 2
                    })
                    .map(|b| (path.as_str(), b)),
            );
        }
    }
    out
}

fn label(b: &Block, i: usize) -> &str {
    b.labels.get(i).map_or("", hcl::BlockLabel::as_str)
}

/// Adds `prevent_destroy = true` to the lifecycle of every resource that holds data or
/// identities (a registry's per-device instances excepted: removing one is how a device is
/// decommissioned).
pub fn protect(module: &mut Module) {
    for content in module.files.values_mut() {
        let FileContent::Hcl(body) = content else {
            continue;
        };
        let structures: Vec<Structure> = std::mem::take(body).into_iter().collect();
        *body = structures
            .into_iter()
            .map(|s| match s {
                Structure::Block(b) if stateful(&b) => Structure::Block(prevent_destroy(b)),
                other => other,
            })
            .collect();
    }
}

fn stateful(b: &Block) -> bool {
    if b.identifier.as_str() != "resource" {
        return false;
    }
    let for_each = b.body.attributes().any(|a| a.key.as_str() == "for_each");
    crate::clouds::holds(label(b, 0)).is_some_and(|h| !(h.per_device && for_each))
}

fn prevent_destroy(mut b: Block) -> Block {
    let setting = || hcl::Attribute::new("prevent_destroy", tf::boolean(true));
    let structures: Vec<Structure> = std::mem::take(&mut b.body).into_iter().collect();
    let mut merged = false;
    let mut body: Vec<Structure> = structures
        .into_iter()
        .map(|s| match s {
            Structure::Block(mut l) if l.identifier.as_str() == "lifecycle" && !merged => {
                merged = true;
                if !l
                    .body
                    .attributes()
                    .any(|a| a.key.as_str() == "prevent_destroy")
                {
                    let mut inner: Vec<Structure> =
                        std::mem::take(&mut l.body).into_iter().collect();
                    inner.insert(0, Structure::Attribute(setting()));
                    l.body = Body::from_iter(inner);
                }
                Structure::Block(l)
            }
            other => other,
        })
        .collect();
    if !merged {
        body.push(Structure::Block(
            tf::block("lifecycle").add_attribute(setting()).build(),
        ));
    }
    b.body = Body::from_iter(body);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prevent_destroy_merges_into_an_existing_lifecycle() {
        let b: Body = hcl::from_str(
            "resource \"aws_s3_bucket\" \"a\" {\n  bucket = \"x\"\n  lifecycle {\n    ignore_changes = [tags]\n  }\n}\nresource \"aws_sns_topic_policy\" \"p\" {\n  arn = \"x\"\n}\n",
        )
        .unwrap();
        let mut m = Module::new(super::super::Cloud::Aws);
        m.files.insert("main.tf".to_owned(), FileContent::Hcl(b));
        protect(&mut m);
        let FileContent::Hcl(body) = &m.files["main.tf"] else {
            unreachable!()
        };
        let text = hcl::format::to_string(body).unwrap();
        assert_eq!(text.matches("lifecycle {").count(), 1, "{text}");
        assert!(
            text.contains("lifecycle {\n    prevent_destroy = true\n    ignore_changes"),
            "{text}"
        );
        // A policy holds nothing: it is left alone.
        assert_eq!(text.matches("prevent_destroy").count(), 1, "{text}");
    }
}
