//! Which spec keys make a change lose data: the warnings of `validate --base REV`.
//!
//! A spec alone cannot say what a change replaces; compared with its committed version it
//! can. The two are planned and diffed, and for every key whose value changed, the old spec
//! is planned once more with only that key changed: the losses it causes on its own are the
//! key's doing, and the warning points at it (file, line and column). Where that spec is not
//! valid (the key needs another change), the new spec is planned with the key's old value
//! put back instead, and the losses that disappear are the key's. Losses that no single key
//! explains (a registry file that drops devices) are reported at the registry, or at the top
//! of the spec.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use super::InfraDiff;
use crate::diagnostics::Diagnostic;
use crate::plan::PlanError;
use crate::spec::node::{Seg, SpecPath};
use crate::validate::{Files, Outcome, validate};

/// At most this many changed keys are tried one by one; the rest are reported together.
const MAX_KEYS: usize = 24;
/// Losses named in one warning before "and N more".
const NAMED: usize = 3;

/// One loss: module folder and address, and what is lost.
type Loss = ((String, String), &'static str);
/// Every loss of a spec, by module folder and address.
type Losses = BTreeMap<(String, String), &'static str>;

/// Warnings for every changed key of `head` (named `name`, its registry files read through
/// `head_files`) that replaces or destroys something holding data compared with `base` (its
/// files read through `base_files`). Both must be valid; otherwise there is nothing to
/// compare and no warning.
pub fn loss_warnings(
    base: &Outcome,
    base_files: &dyn Files,
    name: &str,
    head: &Outcome,
    head_files: &dyn Files,
) -> Result<Vec<Diagnostic>, PlanError> {
    let (Some(old), Some(new)) = (&base.validated, &head.validated) else {
        return Ok(Vec::new());
    };
    let base_sets = crate::plan_sets(base)?.sets;
    let losses =
        |outcome: &Outcome| -> Result<BTreeMap<(String, String), &'static str>, PlanError> {
            let d = super::diff_sets(&base_sets, &crate::plan_sets(outcome)?.sets);
            Ok(lost(&d).into_iter().collect())
        };
    let all = losses(head)?;
    if all.is_empty() {
        return Ok(Vec::new());
    }
    let (old_json, new_json) = (old.root.to_json(), new.root.to_json());
    let mut keys = Vec::new();
    changed(&old_json, &new_json, &SpecPath::root(), &mut keys);

    let mut explained = BTreeSet::new();
    let mut out = Vec::new();
    for key in keys.iter().take(MAX_KEYS) {
        // What this key's change does on its own: the base spec with only this key changed
        // (read with the base's registry files) ...
        let mut alone = old_json.clone();
        revert(&mut alone, &key.0, lookup(&new_json, &key.0));
        let caused: BTreeSet<(String, String)> =
            if let Some(caused) = spec_losses(&alone, name, base_files, &losses)? {
                caused.into_keys().collect()
            } else {
                // ... or, where that is not a valid spec (the key needs another change),
                // what putting its old value back into the new spec saves.
                let mut reverted = new_json.clone();
                revert(&mut reverted, &key.0, lookup(&old_json, &key.0));
                let Some(remaining) = spec_losses(&reverted, name, head_files, &losses)? else {
                    continue;
                };
                all.keys()
                    .filter(|k| !remaining.contains_key(*k))
                    .cloned()
                    .collect()
            };
        let fixed: Vec<Loss> = all
            .iter()
            .filter(|(k, _)| caused.contains(*k))
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        if fixed.is_empty() {
            continue;
        }
        explained.extend(fixed.iter().map(|(k, _)| k.clone()));
        out.push(warning(key, &fixed, &old_json));
    }
    let rest: Vec<Loss> = all
        .iter()
        .filter(|(k, _)| !explained.contains(*k))
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    if !rest.is_empty() {
        let registry = SpecPath::parse("fleet.registry");
        let in_registry = lookup(&new_json, &registry.0).is_some();
        let d = Diagnostic::warning(
            "replaces-stateful",
            format!("this change {}", losses_text(&rest)),
        );
        let d = if in_registry {
            d.at_key(registry).hint(
                "a device dropped from the registry loses its registry entry: keep it listed unless it is decommissioned",
            )
        } else {
            d.at_key(SpecPath::root())
        };
        out.push(d.hint("`fleetform diff --base REV` lists every replacement and why"));
    }
    Ok(out)
}

/// The losses of the spec `json`, or `None` when it is not valid.
fn spec_losses(
    json: &Json,
    name: &str,
    files: &dyn Files,
    losses: &dyn Fn(&Outcome) -> Result<Losses, PlanError>,
) -> Result<Option<Losses>, PlanError> {
    let text = serde_json::to_string(json).unwrap_or_default();
    let outcome = validate(name, &text, files);
    if outcome.validated.is_none() {
        return Ok(None);
    }
    losses(&outcome).map(Some)
}

/// Replacements and destroys that lose data, by module and address.
fn lost(d: &InfraDiff) -> Vec<Loss> {
    d.losses()
        .map(|a| {
            (
                (a.module.clone(), a.address.clone()),
                a.loses.unwrap_or_default(),
            )
        })
        .collect()
}

fn losses_text(losses: &[Loss]) -> String {
    let named: Vec<String> = losses
        .iter()
        .take(NAMED)
        .map(|((module, address), what)| format!("`{module}/{address}` ({what})"))
        .collect();
    let more = match losses.len().saturating_sub(NAMED) {
        0 => String::new(),
        n => format!(", and {n} more"),
    };
    format!(
        "replaces or destroys what holds data or device identities: {}{more}",
        named.join(", ")
    )
}

/// The path of a changed key.
struct Changed(Vec<Seg>);

fn warning(key: &Changed, losses: &[Loss], old: &Json) -> Diagnostic {
    let path = SpecPath(key.0.clone());
    let shown = path.to_string();
    let d = Diagnostic::warning(
        "replaces-stateful",
        format!("changing `{shown}` {}", losses_text(losses)),
    );
    let d = match (key.0.as_slice(), lookup(old, &key.0)) {
        ([Seg::Key(p), Seg::Key(a), Seg::Index(_), Seg::Key(n)], Some(Json::String(was)))
            if p == "pipeline" && a == "alerts" && n == "name" =>
        {
            d.hint(format!("to rename the alert and keep its resources, add `renamed_from: {was}` next to its name"))
        }
        ([Seg::Key(s), Seg::Key(n)], _) if s == "stack" && n == "name" => d.hint(
            "every cloud name is built from the stack's name: renaming it re-creates the stack; keep the name, or move the data first",
        ),
        _ => d.hint("keep the old value, or move the data out first"),
    };
    let d = d.hint("`stack.prevent_destroy: true` makes Terraform refuse such a plan");
    // A key that is new or gone has no old value to point at: point at its key.
    if lookup(old, &key.0).is_none() {
        d.at_key(path)
    } else {
        d.at(path)
    }
}

/// Paths of every leaf that differs; lists of different lengths count as one leaf.
fn changed(old: &Json, new: &Json, at: &SpecPath, out: &mut Vec<Changed>) {
    match (old, new) {
        (Json::Object(a), Json::Object(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => changed(x, y, &at.key(k.clone()), out),
                    _ => out.push(Changed(at.key(k.clone()).0)),
                }
            }
        }
        (Json::Array(a), Json::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                changed(x, y, &at.index(i), out);
            }
        }
        _ if old != new => out.push(Changed(at.0.clone())),
        _ => {}
    }
}

fn lookup<'a>(v: &'a Json, path: &[Seg]) -> Option<&'a Json> {
    path.iter().try_fold(v, |v, seg| match (seg, v) {
        (Seg::Key(k), Json::Object(m)) => m.get(k),
        (Seg::Index(i), Json::Array(a)) => a.get(*i),
        _ => None,
    })
}

/// Puts `old` back at `path` (or removes the key when the old spec had none).
fn revert(v: &mut Json, path: &[Seg], old: Option<&Json>) {
    let Some((last, parents)) = path.split_last() else {
        if let Some(old) = old {
            *v = old.clone();
        }
        return;
    };
    let mut cur = v;
    for seg in parents {
        let next = match (seg, cur) {
            (Seg::Key(k), Json::Object(m)) => m.get_mut(k),
            (Seg::Index(i), Json::Array(a)) => a.get_mut(*i),
            _ => None,
        };
        let Some(next) = next else { return };
        cur = next;
    }
    match (last, cur, old) {
        (Seg::Key(k), Json::Object(m), Some(old)) => {
            m.insert(k.clone(), old.clone());
        }
        (Seg::Key(k), Json::Object(m), None) => {
            m.remove(k);
        }
        (Seg::Index(i), Json::Array(a), Some(old)) if *i < a.len() => a[*i] = old.clone(),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_keys_and_their_reverts() {
        let old = serde_json::json!({"stack": {"name": "a", "env": "x"}, "l": [1, 2], "gone": 1});
        let new = serde_json::json!({"stack": {"name": "b", "env": "x"}, "l": [1, 2, 3], "new": 2});
        let mut keys = Vec::new();
        changed(&old, &new, &SpecPath::root(), &mut keys);
        let shown: Vec<String> = keys
            .iter()
            .map(|k| SpecPath(k.0.clone()).to_string())
            .collect();
        assert_eq!(shown, ["gone", "l", "new", "stack.name"]);
        let mut v = new.clone();
        for k in &keys {
            revert(&mut v, &k.0, lookup(&old, &k.0));
        }
        assert_eq!(v, old);
    }
}
