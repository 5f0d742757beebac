//! What a spec change does to the infrastructure, at the level reviewers think in.
//!
//! A pull request that edits a fleet spec should say which Terraform resources appear,
//! disappear or change (and in which arguments), and above all which ones Terraform would
//! *replace* or destroy, losing data or device identities. Both builds are evaluated
//! ([`eval`]: locals, variable defaults, `for_each` instances, templates), so a renamed stack
//! shows every name it changes, and compared instance by instance. Whether a change replaces
//! a resource comes from the providers' own rules (the tables in `src/clouds/*/forcenew.json`,
//! read by [`crate::plan::forcenew`]); what a replacement loses from the cloud folders. `moved`
//! blocks in the new build pair old and new addresses, as Terraform does. Rendering lives in
//! `render.rs`.

pub mod causes;
pub mod eval;
mod files;
mod funcs;
mod refs;
mod render;

use std::collections::{BTreeMap, BTreeSet};

use hcl::Value;
use serde::Serialize;

pub use funcs::{UNKNOWN, has_unknown};
pub use render::{markdown_destructive, markdown_rest, summary, text};

use crate::clouds;
use crate::plan::Module;
use crate::plan::forcenew::Effect;
use eval::{Arg, Args, Evaluated, Identity, Instance, Known, Mode};
pub use files::{ArtifactChange, DeviceChanges, DeviceEdit};
use files::{artifacts, devices};

/// One argument that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArgChange {
    /// Path inside the resource: `bucket`, `rule[0].transition[1].days`, `tags["owner"]`.
    pub path: String,
    pub old: Option<String>,
    pub new: Option<String>,
    /// Changing this argument makes Terraform destroy and re-create the resource.
    pub forces_replacement: bool,
}

/// What happens to one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Replace,
    Update,
    Destroy,
    /// A data source read with new arguments (Terraform does not count these).
    Read,
    /// Only the address changes (a `moved` block): Terraform keeps the resource as it is.
    Move,
}

/// A changed Terraform address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddressChange {
    /// Module folder (`aws`, `prod/azure`).
    pub module: String,
    /// Instance address: `aws_s3_bucket.archive`, `aws_iot_thing.registry["sensor-1"]`.
    pub address: String,
    pub action: Action,
    /// Argument changes (for updates, replacements and reads).
    pub changes: Vec<ArgChange>,
    /// The address this instance had, when a `moved` block carries it over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moved_from: Option<String>,
    /// What this replacement or destroy loses (only set for those actions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loses: Option<&'static str>,
    /// `prevent_destroy` in the new build makes `terraform plan` fail on this replacement.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub blocked_by_prevent_destroy: bool,
}

impl AddressChange {
    /// A replacement or destroy of something that holds data or identities.
    pub fn is_loss(&self) -> bool {
        self.loses.is_some() && matches!(self.action, Action::Replace | Action::Destroy)
    }
}

/// The infrastructure difference between two builds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InfraDiff {
    pub addresses: Vec<AddressChange>,
    /// Registry changes by device, per module that has a registry.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<DeviceChanges>,
    pub artifacts: Vec<ArtifactChange>,
}

/// How serious a diff is, for exit statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    None,
    Changes,
    /// Something that holds data or device identities is replaced or destroyed.
    Loss,
}

impl InfraDiff {
    pub fn is_empty(&self) -> bool {
        self.addresses.is_empty() && self.artifacts.is_empty()
    }

    /// How many addresses take `action`.
    pub fn count(&self, action: Action) -> usize {
        self.addresses.iter().filter(|a| a.action == action).count()
    }

    /// Replacements and destroys of what holds data or identities, in address order.
    pub fn losses(&self) -> impl Iterator<Item = &AddressChange> {
        self.addresses.iter().filter(|a| a.is_loss())
    }

    pub fn severity(&self) -> Severity {
        if self.losses().next().is_some() {
            Severity::Loss
        } else if self.is_empty() {
            Severity::None
        } else {
            Severity::Changes
        }
    }
}

/// Compares the modules two specs plan to.
pub fn diff(old: &[Module], new: &[Module]) -> InfraDiff {
    diff_sets(
        &[(String::new(), old.to_vec())],
        &[(String::new(), new.to_vec())],
    )
}

/// Compares sets of modules (one set per environment), matched by environment and folder.
pub fn diff_sets(old: &[(String, Vec<Module>)], new: &[(String, Vec<Module>)]) -> InfraDiff {
    let index = |sets: &[(String, Vec<Module>)]| -> BTreeMap<String, Module> {
        let mut map = BTreeMap::new();
        for (prefix, modules) in sets {
            for m in modules {
                let key = if prefix.is_empty() {
                    m.dir().to_owned()
                } else {
                    format!("{prefix}/{}", m.dir())
                };
                map.insert(key, m.clone());
            }
        }
        map
    };
    let (before, after) = (index(old), index(new));
    let keys: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let mut out = InfraDiff::default();
    for key in keys {
        let (o, n) = (before.get(key), after.get(key));
        diff_module(key, o, n, &mut out);
        if let Some(devices) = devices(key, o, n) {
            out.devices.push(devices);
        }
        out.artifacts.extend(artifacts(key, o, n));
    }
    out.addresses.sort_by(|a, b| {
        (a.module.as_str(), a.action, a.address.as_str()).cmp(&(
            b.module.as_str(),
            b.action,
            b.address.as_str(),
        ))
    });
    out
}

/// The resource address an instance address belongs to: `aws_x.y["k"]` → `aws_x.y`.
fn resource_of(address: &str) -> &str {
    address.split_once('[').map_or(address, |(r, _)| r)
}

/// Decides the identity of new instances from the old build, as the comparison goes.
struct Decider<'a> {
    old: &'a Evaluated,
    /// `moved` blocks of the new build: (from, to).
    moved: &'a [(String, String)],
    /// Old addresses matched by a new instance.
    matched: BTreeSet<String>,
    changes: Vec<AddressChange>,
    /// Resources (not instances) with any planned change, for `depends_on`.
    changing: BTreeSet<String>,
    module: String,
}

impl Decider<'_> {
    /// The old address of a new instance: where a `moved` block says it came from, when the
    /// old build has it there.
    fn old_address(&self, address: &str) -> String {
        for (from, to) in self.moved {
            let candidate = if address == to {
                Some(from.clone())
            } else {
                address
                    .strip_prefix(to.as_str())
                    .filter(|rest| rest.starts_with('['))
                    .map(|rest| format!("{from}{rest}"))
            };
            if let Some(c) = candidate
                && self.old.instances.contains_key(&c)
                && !self.old.instances.contains_key(address)
            {
                return c;
            }
        }
        address.to_owned()
    }

    fn record(
        &mut self,
        address: &str,
        action: Action,
        changes: Vec<ArgChange>,
        moved_from: Option<String>,
        inst: &Instance,
    ) {
        if action != Action::Read {
            self.changing.insert(inst.resource.clone());
        }
        let loses = (inst.mode == Mode::Managed
            && matches!(action, Action::Replace | Action::Destroy))
        .then(|| clouds::holds(&inst.ty))
        .flatten();
        self.changes.push(AddressChange {
            module: self.module.clone(),
            address: address.to_owned(),
            action,
            changes,
            moved_from,
            loses: loses.map(|h| h.what),
            blocked_by_prevent_destroy: action == Action::Replace && inst.lifecycle.prevent_destroy,
        });
    }
}

impl Identity for Decider<'_> {
    fn identity(&mut self, address: &str, inst: &Instance) -> Known {
        let old_address = self.old_address(address);
        let old = self.old.instances.get(&old_address);
        if old.is_some() {
            self.matched.insert(old_address.clone());
        }
        let moved_from = (old_address != address && old.is_some()).then(|| old_address.clone());
        match inst.mode {
            Mode::Managed => {
                let Some(old) = old else {
                    self.record(address, Action::Create, Vec::new(), None, inst);
                    return Known::Unknown;
                };
                let changes = compare(old, inst);
                let replace = changes.iter().any(|c| c.forces_replacement);
                if replace {
                    self.record(address, Action::Replace, changes, moved_from, inst);
                    Known::Unknown
                } else {
                    if !changes.is_empty() {
                        self.record(address, Action::Update, changes, moved_from, inst);
                    } else if moved_from.is_some() {
                        self.record(address, Action::Move, changes, moved_from, inst);
                    }
                    Known::Same(old_address)
                }
            }
            Mode::Data => {
                let deferred = args_unknown(&inst.args)
                    || inst
                        .depends_on
                        .iter()
                        .any(|d| self.changing.contains(resource_of(d)));
                let changes = old.map(|o| compare(o, inst)).unwrap_or_default();
                // A data source under a new address that reads what an old one read (its
                // label renamed with an alert) gives the same values at plan time.
                let same_read = || {
                    self.old.instances.iter().find(|(_, o)| {
                        o.mode == Mode::Data && o.ty == inst.ty && compare(o, inst).is_empty()
                    })
                };
                if deferred {
                    self.record(address, Action::Read, changes, moved_from, inst);
                    Known::Unknown
                } else if old.is_none()
                    && let Some((was, _)) = same_read()
                {
                    Known::Same(was.clone())
                } else if old.is_none() || !changes.is_empty() {
                    if old.is_some() {
                        self.record(address, Action::Read, changes, moved_from, inst);
                    }
                    Known::Reread(old_address)
                } else {
                    Known::Same(old_address)
                }
            }
        }
    }
}

fn args_unknown(args: &Args) -> bool {
    args.values().any(|a| match a {
        Arg::Value(v) => has_unknown(v),
        Arg::Blocks(blocks) => blocks.iter().any(args_unknown),
    })
}

fn diff_module(key: &str, old: Option<&Module>, new: Option<&Module>, out: &mut InfraDiff) {
    let old_eval = old
        .map(|m| eval::evaluate(m, &mut eval::Baseline))
        .unwrap_or_default();
    let moved = new.map(eval::moved_blocks).unwrap_or_default();
    let mut decider = Decider {
        old: &old_eval,
        moved: &moved,
        matched: BTreeSet::new(),
        changes: Vec::new(),
        changing: BTreeSet::new(),
        module: key.to_owned(),
    };
    let new_eval = new
        .map(|m| eval::evaluate(m, &mut decider))
        .unwrap_or_default();
    let mut changes = std::mem::take(&mut decider.changes);
    let matched = std::mem::take(&mut decider.matched);
    for (address, inst) in &old_eval.instances {
        if inst.mode == Mode::Managed && !matched.contains(address) {
            changes.push(AddressChange {
                module: key.to_owned(),
                address: address.clone(),
                action: Action::Destroy,
                changes: Vec::new(),
                moved_from: None,
                loses: clouds::holds(&inst.ty).map(|h| h.what),
                // A resource gone from the configuration takes its lifecycle with it; one
                // still configured (with fewer instances) keeps protecting the rest.
                blocked_by_prevent_destroy: new_eval.protected.contains(resource_of(address)),
            });
        }
    }
    default_tags(&old_eval, &new_eval, key, &mut changes);
    out.addresses.extend(changes);
}

/// A change of the AWS provider's `default_tags` changes `tags_all` on every taggable
/// resource Terraform keeps: it plans an update for each.
fn default_tags(old: &Evaluated, new: &Evaluated, module: &str, changes: &mut Vec<AddressChange>) {
    let tags = |e: &Evaluated| -> Option<Value> {
        let Some(Arg::Blocks(blocks)) = e.providers.get("aws")?.get("default_tags") else {
            return None;
        };
        match blocks.first()?.get("tags")? {
            Arg::Value(v) => Some(v.clone()),
            Arg::Blocks(_) => None,
        }
    };
    let (before, after) = (tags(old), tags(new));
    if before == after || new.providers.is_empty() || old.providers.is_empty() {
        return;
    }
    let mut leaves = Vec::new();
    compare_values(
        before.as_ref(),
        after.as_ref(),
        "tags_all",
        "tags_all",
        &mut leaves,
    );
    let arg_changes: Vec<ArgChange> = leaves
        .into_iter()
        .map(|l| ArgChange {
            path: l.display,
            old: l.old.as_ref().map(render::value),
            new: l.new.as_ref().map(render::value),
            forces_replacement: false,
        })
        .collect();
    for (address, inst) in &new.instances {
        let taggable = inst.mode == Mode::Managed
            && clouds::rules(&inst.ty).is_some_and(crate::plan::forcenew::Rules::taggable);
        if !taggable {
            continue;
        }
        let existing = changes
            .iter_mut()
            .find(|c| c.module == module && &c.address == address);
        match existing {
            Some(c) if c.action == Action::Update => c.changes.extend(arg_changes.iter().cloned()),
            Some(_) => {}
            None if old.instances.contains_key(address) => changes.push(AddressChange {
                module: module.to_owned(),
                address: address.clone(),
                action: Action::Update,
                changes: arg_changes.clone(),
                moved_from: None,
                loses: None,
                blocked_by_prevent_destroy: false,
            }),
            None => {}
        }
    }
}

/// One differing leaf: its schema path (for the provider's rules) and where it shows.
struct Leaf {
    schema: String,
    display: String,
    old: Option<Value>,
    new: Option<Value>,
}

/// The argument changes between two instances, with what each one forces.
fn compare(old: &Instance, new: &Instance) -> Vec<ArgChange> {
    let mut leaves = Vec::new();
    compare_args(&old.args, &new.args, "", "", &mut leaves);
    let rules = if new.mode == Mode::Managed {
        clouds::rules(&new.ty)
    } else {
        None
    };
    let ignored = |leaf: &Leaf| {
        new.lifecycle.ignore_all
            || new.lifecycle.ignore_changes.iter().any(|i| {
                let top = i.split(['.', '[']).next().unwrap_or(i);
                leaf.schema == top || leaf.schema.starts_with(&format!("{top}."))
            })
    };
    leaves
        .into_iter()
        .filter(|l| !ignored(l))
        .map(|l| {
            let forces = rules.is_some_and(|r| {
                r.effect(&l.schema, l.old.as_ref(), l.new.as_ref()) == Effect::Replace
            });
            ArgChange {
                path: l.display,
                old: l.old.as_ref().map(render::value),
                new: l.new.as_ref().map(render::value),
                forces_replacement: forces,
            }
        })
        .collect()
}

fn compare_args(old: &Args, new: &Args, schema: &str, display: &str, out: &mut Vec<Leaf>) {
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let empty = Args::new();
    for key in keys {
        let (path, shown) = (format!("{schema}{key}"), format!("{display}{key}"));
        let (before, after) = (old.get(key), new.get(key));
        if let (Some(was), Some(is)) = (blocks_of(before), blocks_of(after)) {
            // Adding or removing a block is a change of its count, which some providers
            // mark ForceNew on its own ("block.#").
            if was.len() != is.len() {
                out.push(Leaf {
                    schema: format!("{path}.#"),
                    display: shown.clone(),
                    old: (!was.is_empty()).then(|| Value::from(was.len() as u64)),
                    new: (!is.is_empty()).then(|| Value::from(is.len() as u64)),
                });
            }
            for i in 0..was.len().max(is.len()) {
                compare_args(
                    was.get(i).unwrap_or(&empty),
                    is.get(i).unwrap_or(&empty),
                    &format!("{path}."),
                    &format!("{shown}[{i}]."),
                    out,
                );
            }
            continue;
        }
        let value = |x: Option<&Arg>| match x {
            Some(Arg::Value(v)) => Some(v.clone()),
            Some(Arg::Blocks(blocks)) => {
                Some(Value::Array(blocks.iter().map(eval::args_value).collect()))
            }
            None => None,
        };
        compare_values(
            value(before).as_ref(),
            value(after).as_ref(),
            &path,
            &shown,
            out,
        );
    }
}

/// The blocks under a key (none when it is absent); `None` when the key holds a value.
fn blocks_of(arg: Option<&Arg>) -> Option<&[Args]> {
    match arg {
        Some(Arg::Blocks(list)) => Some(list.as_slice()),
        None => Some(&[]),
        Some(Arg::Value(_)) => None,
    }
}

/// Compares two values; maps (tags, attributes) compare key by key, so the change shows
/// which key moved.
fn compare_values(
    old: Option<&Value>,
    new: Option<&Value>,
    schema: &str,
    display: &str,
    out: &mut Vec<Leaf>,
) {
    let old = old.filter(|v| !v.is_null());
    let new = new.filter(|v| !v.is_null());
    if old == new {
        return;
    }
    if let (Some(Value::Object(a)), Some(Value::Object(b))) = (old, new) {
        let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        for k in keys {
            let (x, y) = (
                a.get(k).filter(|v| !v.is_null()),
                b.get(k).filter(|v| !v.is_null()),
            );
            if x != y {
                out.push(Leaf {
                    schema: schema.to_owned(),
                    display: format!("{display}[{}]", eval::quote(k)),
                    old: x.cloned(),
                    new: y.cloned(),
                });
            }
        }
        return;
    }
    out.push(Leaf {
        schema: schema.to_owned(),
        display: display.to_owned(),
        old: old.cloned(),
        new: new.cloned(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Cloud, FileContent};

    fn module(src: &str) -> Module {
        let mut m = Module::new(Cloud::Aws);
        m.files.insert(
            "main.tf".to_owned(),
            FileContent::Hcl(hcl::from_str(src).unwrap()),
        );
        m
    }

    #[test]
    fn prevent_destroy_blocks_what_stays_configured_not_what_is_removed() {
        let old = module("resource \"aws_s3_bucket\" \"a\" {\n  count = 1\n  bucket = \"a\"\n}\n");
        let fewer = module(
            "resource \"aws_s3_bucket\" \"a\" {\n  count = 0\n  bucket = \"a\"\n  lifecycle {\n    prevent_destroy = true\n  }\n}\n",
        );
        let d = diff(std::slice::from_ref(&old), &[fewer]);
        assert_eq!(d.addresses.len(), 1);
        assert_eq!(d.addresses[0].action, Action::Destroy);
        assert!(d.addresses[0].blocked_by_prevent_destroy);
        let gone = module("");
        let d = diff(&[old], &[gone]);
        assert_eq!(d.addresses[0].action, Action::Destroy);
        assert!(!d.addresses[0].blocked_by_prevent_destroy);
        assert_eq!(d.severity(), Severity::Loss);
    }
}
