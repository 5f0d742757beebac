//! Which argument changes make Terraform replace a resource, as the providers decide it.
//!
//! The providers mark arguments `ForceNew` (SDKv2) or `RequiresReplace` (plugin framework) in
//! their schemas, and force a new resource conditionally in `CustomizeDiff` functions. Each
//! cloud folder holds a table derived from its pinned provider's source
//! (`src/clouds/*/forcenew.json`): per resource type the file it came from, the arguments that
//! force replacement, the ones updated in place, and the conditional ones with the rule that
//! decides them, implemented here. A test checks that the tables cover every argument the
//! planners emit, so a new argument cannot silently default to "in place".

use std::collections::BTreeMap;

use hcl::Value;
use serde::Deserialize;

/// One provider's table.
#[derive(Debug, Deserialize)]
pub struct Table {
    /// `registry.terraform.io/hashicorp/aws`.
    pub provider: String,
    pub version: String,
    pub repository: String,
    /// The commit the entries were read at, unless an entry names its own.
    #[serde(default)]
    pub commit: Option<String>,
    /// How the table was derived, and what to know about it.
    #[serde(default)]
    pub note: String,
    pub resources: BTreeMap<String, Rules>,
}

/// The rules of one resource type.
#[derive(Debug, Deserialize)]
pub struct Rules {
    /// Source file in the provider repository.
    pub file: String,
    #[serde(default)]
    pub commit: Option<String>,
    /// Argument paths (`rule.transition.days`; `block.*` for everything below a block) whose
    /// change replaces the resource.
    #[serde(default)]
    pub replace: Vec<String>,
    /// Argument paths updated in place.
    #[serde(default)]
    pub update: Vec<String>,
    /// Arguments that replace the resource only for some changes.
    #[serde(default)]
    pub conditional: BTreeMap<String, Conditional>,
    /// What to know about the entry (schema overrides, helper functions).
    #[serde(default)]
    pub notes: String,
}

/// A conditional replacement, from a `CustomizeDiff` function.
#[derive(Debug, Deserialize)]
pub struct Conditional {
    /// The rule that decides it (see [`conditional_forces`]).
    pub rule: String,
    /// What the provider does, in words.
    pub when: String,
}

/// What changing one argument does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Replace,
    InPlace,
    /// The table has no entry: a gap the coverage test catches for emitted arguments.
    Unlisted,
}

/// A parsed table; panics on a malformed file, which the tests load first.
pub fn parse(json: &str) -> Table {
    serde_json::from_str(json).expect("a provider replacement table is valid JSON")
}

impl Rules {
    /// Whether the type has `tags` (and so `tags_all`, which default tags feed).
    pub fn taggable(&self) -> bool {
        self.update.iter().any(|p| p == "tags")
    }

    /// The entry that decides `path`: the path itself, else the nearest enclosing block
    /// marked `replace` or `block.*`.
    fn lookup(&self, path: &str) -> Option<Entry<'_>> {
        let has = |list: &[String], p: &str| list.iter().any(|e| e == p);
        if let Some(c) = self.conditional.get(path) {
            return Some(Entry::Conditional(c));
        }
        if has(&self.replace, path) {
            return Some(Entry::Replace);
        }
        if has(&self.update, path) {
            return Some(Entry::Update);
        }
        let mut candidate = path;
        loop {
            let wildcard = format!("{candidate}.*");
            if has(&self.replace, &wildcard) || (candidate != path && has(&self.replace, candidate))
            {
                return Some(Entry::Replace);
            }
            if has(&self.update, &wildcard) {
                return Some(Entry::Update);
            }
            candidate = candidate.rsplit_once('.')?.0;
        }
    }

    /// Whether `path` is covered by the table (for the coverage test).
    pub fn covers(&self, path: &str) -> bool {
        self.lookup(path).is_some()
    }

    /// What changing `path` from `old` to `new` does.
    pub fn effect(&self, path: &str, old: Option<&Value>, new: Option<&Value>) -> Effect {
        match self.lookup(path) {
            Some(Entry::Replace) => Effect::Replace,
            Some(Entry::Update) => Effect::InPlace,
            Some(Entry::Conditional(c)) => {
                if conditional_forces(&c.rule, old, new) {
                    Effect::Replace
                } else {
                    Effect::InPlace
                }
            }
            None => Effect::Unlisted,
        }
    }
}

enum Entry<'a> {
    Replace,
    Update,
    Conditional(&'a Conditional),
}

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// Decides a conditional replacement the way the provider's `CustomizeDiff` does. A value
/// only known after apply counts as a replacement: the provider cannot tell either.
pub fn conditional_forces(rule: &str, old: Option<&Value>, new: Option<&Value>) -> bool {
    if new.is_some_and(crate::infradiff::has_unknown) {
        return true;
    }
    let (o, n) = (text(old), text(new));
    let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    match rule {
        // azurerm storage account: an account can only be upgraded from `Storage` or to
        // `StorageV2`; anything else is re-created.
        "storage_account_kind" => !o.is_empty() && !eq(&o, "Storage") && !eq(&n, "StorageV2"),
        // azurerm storage account: moving between locally/geo-redundant and zone-redundant
        // replication re-creates the account.
        "storage_replication_zone" => {
            let zonal = |s: &str| ["ZRS", "GZRS", "RAGZRS"].iter().any(|z| eq(s, z));
            let regional = |s: &str| ["LRS", "GRS", "RAGRS"].iter().any(|z| eq(s, z));
            (regional(&o) && zonal(&n)) || (zonal(&o) && regional(&n))
        }
        // Turning the flag off re-creates the resource; turning it on is in place.
        "true_to_false" => o == "true" && n == "false",
        // Event Hubs namespace: to or from Premium is a new namespace.
        "premium_either_side" => eq(&o, "Premium") || eq(&n, "Premium"),
        // Log Analytics workspace: a SKU change is a new workspace except from a cluster
        // link, or between CapacityReservation and PerGB2018.
        "log_analytics_sku" => {
            let swap = (eq(&o, "CapacityReservation") && eq(&n, "PerGB2018"))
                || (eq(&o, "PerGB2018") && eq(&n, "CapacityReservation"));
            !(o.is_empty() || eq(&o, "LACluster") || swap)
        }
        // Cosmos DB container: `partition_key_version` may only be set from unset to 1.
        "partition_key_version" => !((o.is_empty() || o == "0") && n == "1"),
        // Removing the value re-creates the resource.
        "removed" => !o.is_empty() && n.is_empty(),
        // Depends on what the cloud holds (another resource's tier): assume the worst.
        "depends_on_cloud" => true,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        serde_json::from_str(
            r#"{
              "file": "x.go",
              "replace": ["name", "source_configuration"],
              "update": ["tags", "rule.id", "rule.transition.days", "site_config.*"],
              "conditional": {"kind": {"rule": "storage_account_kind", "when": "w"}}
            }"#,
        )
        .unwrap()
    }

    #[test]
    fn nested_paths_resolve_to_their_own_entry_or_a_replacing_block() {
        let r = rules();
        assert_eq!(r.effect("name", None, None), Effect::Replace);
        assert_eq!(
            r.effect("rule.transition.days", None, None),
            Effect::InPlace
        );
        assert_eq!(
            r.effect("source_configuration.role_arn", None, None),
            Effect::Replace
        );
        assert_eq!(
            r.effect("site_config.application_stack.python_version", None, None),
            Effect::InPlace
        );
        assert_eq!(r.effect("rule.filter.prefix", None, None), Effect::Unlisted);
        assert!(r.taggable());
    }

    #[test]
    fn conditional_rules_follow_the_provider() {
        let r = rules();
        let v = |s: &str| Value::from(s);
        assert_eq!(
            r.effect("kind", Some(&v("Storage")), Some(&v("StorageV2"))),
            Effect::InPlace
        );
        assert_eq!(
            r.effect("kind", Some(&v("BlobStorage")), Some(&v("StorageV2"))),
            Effect::InPlace
        );
        assert_eq!(
            r.effect("kind", Some(&v("StorageV2")), Some(&v("BlockBlobStorage"))),
            Effect::Replace
        );
        assert!(conditional_forces(
            "storage_replication_zone",
            Some(&v("LRS")),
            Some(&v("ZRS"))
        ));
        assert!(!conditional_forces(
            "storage_replication_zone",
            Some(&v("LRS")),
            Some(&v("GRS"))
        ));
        assert!(conditional_forces(
            "premium_either_side",
            Some(&v("Standard")),
            Some(&v("Premium"))
        ));
        assert!(!conditional_forces(
            "premium_either_side",
            Some(&v("Basic")),
            Some(&v("Standard"))
        ));
    }
}
