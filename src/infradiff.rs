//! What a spec change does to the infrastructure, at the level reviewers think in.
//!
//! A pull request that edits a fleet spec should say which Terraform addresses appear,
//! disappear or change (and in which arguments), and above all which resources Terraform
//! would *replace*: a renamed bucket, a repartitioned event hub or a new endpoint encoding
//! destroys data or identities. This module compares the planned modules of two specs
//! structurally (the hcl-rs bodies, not text), so formatting never shows up as a change.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use hcl::{Body, Expression, Structure};
use serde::Serialize;

use crate::plan::tf::COMMENT_SENTINEL;
use crate::plan::{FileContent, Module};

/// One argument that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArgChange {
    /// Path inside the resource: `bucket`, `rule[0].transition[1].days`.
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
}

/// A changed Terraform address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddressChange {
    /// Module folder (`aws`, `azure`).
    pub module: String,
    /// Terraform address: `aws_s3_bucket.archive`, `data.aws_iam_policy_document.device`.
    pub address: String,
    pub action: Action,
    /// Argument changes (for updates and replacements).
    pub changes: Vec<ArgChange>,
}

/// A changed non-Terraform artifact (function code, registry data, scripts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArtifactChange {
    pub path: String,
    pub lines_added: usize,
    pub lines_removed: usize,
}

/// The infrastructure difference between two builds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InfraDiff {
    pub addresses: Vec<AddressChange>,
    pub artifacts: Vec<ArtifactChange>,
}

impl InfraDiff {
    pub fn is_empty(&self) -> bool {
        self.addresses.is_empty() && self.artifacts.is_empty()
    }

    /// How many addresses take `action`.
    pub fn count(&self, action: Action) -> usize {
        self.addresses.iter().filter(|a| a.action == action).count()
    }
}

/// Flattened arguments of a resource: path → HCL source of the value.
type Args = BTreeMap<String, String>;

fn flatten(body: &Body, prefix: &str, out: &mut Args) {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for s in body {
        match s {
            Structure::Attribute(a) if a.key.as_str() == COMMENT_SENTINEL => {}
            Structure::Attribute(a) => {
                out.insert(format!("{prefix}{}", a.key.as_str()), source(&a.expr));
            }
            Structure::Block(b) => {
                let name = b.identifier.as_str();
                let n = seen.entry(name).or_default();
                let mut label = String::new();
                for l in &b.labels {
                    let _ = write!(label, "[{:?}]", l.as_str());
                }
                let inner = format!("{prefix}{name}{label}[{n}].");
                *n += 1;
                flatten(&b.body, &inner, out);
            }
        }
    }
}

fn source(e: &Expression) -> String {
    hcl::format::to_string(e).unwrap_or_default()
}

/// Resources and data sources of a module, by address.
fn addresses(module: &Module) -> BTreeMap<String, Args> {
    let mut out = BTreeMap::new();
    for content in module.files.values() {
        let FileContent::Hcl(body) = content else {
            continue;
        };
        for s in body {
            let Structure::Block(b) = s else { continue };
            let labels: Vec<&str> = b.labels.iter().map(hcl::BlockLabel::as_str).collect();
            let address = match (b.identifier.as_str(), labels.as_slice()) {
                ("resource", [ty, name]) => format!("{ty}.{name}"),
                ("data", [ty, name]) => format!("data.{ty}.{name}"),
                ("module", [name]) => format!("module.{name}"),
                ("output", [name]) => format!("output.{name}"),
                ("variable", [name]) => format!("var.{name}"),
                _ => continue,
            };
            let mut args = Args::new();
            flatten(&b.body, "", &mut args);
            out.insert(address, args);
        }
    }
    out
}

/// Whether changing `arg` (a top-level argument or block of a resource of type `ty`) makes
/// Terraform replace the resource. Covers the resources fleetform generates.
pub fn forces_replacement(ty: &str, arg: &str) -> bool {
    let top = arg.split(['.', '[']).next().unwrap_or(arg);
    if ty.starts_with("azurerm_") && matches!(top, "name" | "location" | "resource_group_name") {
        return true;
    }
    matches!(
        (ty, top),
        (
            "aws_s3_bucket",
            "bucket" | "bucket_prefix" | "object_lock_enabled"
        ) | (
            "aws_kinesis_stream"
                | "aws_iot_topic_rule"
                | "aws_iot_thing_group"
                | "aws_iot_thing"
                | "aws_iot_policy"
                | "aws_cloudwatch_log_group"
                | "aws_iam_role"
                | "aws_iam_policy"
                | "aws_glue_catalog_database"
                | "aws_athena_workgroup",
            "name"
        ) | (
            "aws_kinesis_firehose_delivery_stream",
            "name" | "destination" | "kinesis_source_configuration"
        ) | ("aws_iot_thing_type", "name" | "properties")
            | ("aws_iot_role_alias", "alias")
            | ("aws_iot_provisioning_template", "name" | "type")
            | (
                "aws_iot_ca_certificate",
                "ca_certificate_pem" | "verification_certificate_pem" | "certificate_mode"
            )
            | ("aws_iot_certificate", "csr" | "certificate_pem" | "ca_pem")
            | ("aws_dynamodb_table", "name" | "hash_key" | "range_key")
            | ("aws_lambda_function", "function_name")
            | ("aws_sns_topic", "name" | "fifo_topic")
            | ("aws_glue_catalog_table", "name" | "database_name")
            | (
                "aws_signer_signing_profile",
                "name" | "name_prefix" | "platform_id"
            )
            | ("aws_apigatewayv2_api", "protocol_type")
            | ("azurerm_eventhub", "namespace_id")
            | ("azurerm_eventhub_namespace", "zone_redundant")
            | (
                "azurerm_iothub_endpoint_storage_container",
                "encoding" | "iothub_id"
            )
            | ("azurerm_iothub_endpoint_eventhub", "iothub_id")
            | ("azurerm_iothub_dps", "data_residency_enabled")
            | (
                "azurerm_iothub_consumer_group",
                "iothub_name" | "eventhub_endpoint_name"
            )
            | (
                "azurerm_storage_account",
                "is_hns_enabled" | "infrastructure_encryption_enabled" | "account_kind"
            )
            | (
                "azurerm_storage_container",
                "storage_account_id" | "storage_account_name"
            )
            | ("azurerm_cosmosdb_sql_container", "partition_key_paths")
            | ("azurerm_kusto_cluster", "sku")
    )
}

/// Compares the modules two specs plan to.
pub fn diff(old: &[Module], new: &[Module]) -> InfraDiff {
    diff_sets(
        &[(String::new(), old.to_vec())],
        &[(String::new(), new.to_vec())],
    )
}

/// Compares sets of modules (one set per environment), matched by environment and cloud.
pub fn diff_sets(old: &[(String, Vec<Module>)], new: &[(String, Vec<Module>)]) -> InfraDiff {
    let mut out = InfraDiff::default();
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
    let (old_owned, new_owned) = (index(old), index(new));
    let old_m: BTreeMap<String, &Module> = old_owned.iter().map(|(k, m)| (k.clone(), m)).collect();
    let new_m: BTreeMap<String, &Module> = new_owned.iter().map(|(k, m)| (k.clone(), m)).collect();
    let clouds: std::collections::BTreeSet<&String> = old_m.keys().chain(new_m.keys()).collect();
    for cloud in clouds {
        let before = old_m.get(cloud).map(|m| addresses(m)).unwrap_or_default();
        let after = new_m.get(cloud).map(|m| addresses(m)).unwrap_or_default();
        let keys: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
        for address in keys {
            let ty = address
                .strip_prefix("data.")
                .unwrap_or(address)
                .split('.')
                .next()
                .unwrap_or("");
            let change = |action, changes| AddressChange {
                module: cloud.clone(),
                address: address.clone(),
                action,
                changes,
            };
            match (before.get(address), after.get(address)) {
                (None, Some(_)) => out.addresses.push(change(Action::Create, Vec::new())),
                (Some(_), None) => out.addresses.push(change(Action::Destroy, Vec::new())),
                (Some(x), Some(y)) if x != y => {
                    let paths: std::collections::BTreeSet<&String> =
                        x.keys().chain(y.keys()).collect();
                    let changes: Vec<ArgChange> = paths
                        .into_iter()
                        .filter(|p| x.get(*p) != y.get(*p))
                        .map(|p| ArgChange {
                            path: p.clone(),
                            old: x.get(p).cloned(),
                            new: y.get(p).cloned(),
                            forces_replacement: !address.starts_with("data.")
                                && forces_replacement(ty, p),
                        })
                        .collect();
                    let action = if changes.iter().any(|c| c.forces_replacement) {
                        Action::Replace
                    } else {
                        Action::Update
                    };
                    out.addresses.push(change(action, changes));
                }
                _ => {}
            }
        }
        // Non-HCL artifacts: function code, data files, scripts, READMEs.
        let artifacts = |m: Option<&&Module>| -> BTreeMap<String, Vec<u8>> {
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
        let (fa, fb) = (artifacts(old_m.get(cloud)), artifacts(new_m.get(cloud)));
        let files: std::collections::BTreeSet<&String> = fa.keys().chain(fb.keys()).collect();
        for path in files {
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
            out.artifacts.push(ArtifactChange {
                path: format!("{cloud}/{path}"),
                lines_added: added,
                lines_removed: removed,
            });
        }
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

fn symbol(a: Action) -> &'static str {
    match a {
        Action::Create => "+",
        Action::Replace => "-/+",
        Action::Update => "~",
        Action::Destroy => "-",
    }
}

fn short(v: Option<&String>) -> String {
    match v {
        None => "(none)".to_owned(),
        Some(s) if s.chars().count() > 80 => format!("{}…", s.chars().take(79).collect::<String>()),
        Some(s) => s.clone(),
    }
}

/// The summary line: `3 to add, 1 to replace, 2 to change, 0 to destroy`.
pub fn summary(d: &InfraDiff) -> String {
    format!(
        "{} to add, {} to replace, {} to change, {} to destroy",
        d.count(Action::Create),
        d.count(Action::Replace),
        d.count(Action::Update),
        d.count(Action::Destroy)
    )
}

/// Plain-text rendering, like a condensed `terraform plan`.
pub fn text(d: &InfraDiff) -> String {
    let mut s = format!("Infrastructure: {}\n", summary(d));
    for a in &d.addresses {
        let _ = writeln!(s, "  {:>3} {}/{}", symbol(a.action), a.module, a.address);
        for c in &a.changes {
            let _ = writeln!(
                s,
                "        {}: {} -> {}{}",
                c.path,
                short(c.old.as_ref()),
                short(c.new.as_ref()),
                if c.forces_replacement {
                    "  # forces replacement"
                } else {
                    ""
                }
            );
        }
    }
    for f in &d.artifacts {
        let _ = writeln!(
            s,
            "    ~ {} (+{} -{} lines)",
            f.path, f.lines_added, f.lines_removed
        );
    }
    s
}

/// Markdown rendering for a pull-request comment.
pub fn markdown(d: &InfraDiff) -> String {
    let mut s = format!("## Infrastructure change\n\n**{}**\n\n", summary(d));
    let replaced: Vec<&AddressChange> = d
        .addresses
        .iter()
        .filter(|a| a.action == Action::Replace)
        .collect();
    if !replaced.is_empty() {
        s.push_str("> [!WARNING]\n> These resources would be **destroyed and re-created**:\n");
        for a in &replaced {
            let why: Vec<&str> = a
                .changes
                .iter()
                .filter(|c| c.forces_replacement)
                .map(|c| c.path.as_str())
                .collect();
            let _ = writeln!(
                s,
                "> - `{}/{}` (because of `{}`)",
                a.module,
                a.address,
                why.join("`, `")
            );
        }
        s.push('\n');
    }
    if !d.addresses.is_empty() {
        s.push_str("| | address | changed arguments |\n|---|---|---|\n");
        for a in &d.addresses {
            let args: Vec<String> = a
                .changes
                .iter()
                .map(|c| {
                    format!(
                        "`{}`{}",
                        c.path,
                        if c.forces_replacement {
                            " (forces replacement)"
                        } else {
                            ""
                        }
                    )
                })
                .collect();
            let _ = writeln!(
                s,
                "| `{}` | `{}/{}` | {} |",
                symbol(a.action),
                a.module,
                a.address,
                args.join(", ")
            );
        }
        s.push('\n');
    }
    if !d.artifacts.is_empty() {
        s.push_str("Artifacts: ");
        let items: Vec<String> = d
            .artifacts
            .iter()
            .map(|f| format!("`{}` (+{} −{})", f.path, f.lines_added, f.lines_removed))
            .collect();
        s.push_str(&items.join(", "));
        s.push_str("\n\n");
    }
    s
}
