//! The AWS planner: the model becomes a Terraform root module for hashicorp/aws 5.x.
//!
//! One file per concern, as a DevOps engineer would lay it out: `versions.tf`,
//! `providers.tf`, `variables.tf`, `main.tf` (locals and account data), `kms.tf`, then the
//! IoT, registry, provisioning, pipeline, storage, state, alerts, monitoring, analytics, OTA
//! and web files, and `outputs.tf`. Only the hashicorp/aws provider is used, so the output
//! applies wherever Terraform and AWS credentials exist; no private key is ever created by,
//! passed to or stored in Terraform.
//!
//! Each concern lives in its own submodule and writes into a shared `Ctx`: the files, the
//! variables and outputs (documented in the README as they are declared) and the artifacts.
//! Which optional parts exist is decided once, in `Flags`, from the model alone, so every
//! concern agrees on what the others create; the design ([`crate::design::Design`]: the
//! dataflow, the explanation, the parity rows and the bill) is filled from the same `Flags`
//! (`dataflow.rs`, `story.rs`, `parity.rs`, `bill.rs`), and so is the README that shows it.
//!
//! A little over 600 lines: the `CloudPlanner` registration, the `Ctx` every concern writes
//! into, and the files every root has (versions, providers, variables, outputs, README); each
//! concern is a file of its own.

mod alerts;
mod analytics;
mod bill;
mod bootstrap;
pub mod bulk;
pub mod capacity;
mod catalog;
pub mod cost;
mod dataflow;
mod device;
mod flags;
mod fleet;
mod functions;
mod hcl;
mod iam;
mod intent;
mod iot;
mod kms;
pub mod lifecycle;
mod names;
mod ota;
mod parity;
mod pipeline;
mod provisioning;
pub mod regions;
mod shard;
mod storage;
mod story;
mod tables;
mod teardown;
#[cfg(test)]
mod tests;
mod web;
pub mod words;

use std::collections::BTreeMap;

use ::hcl::Expression;
use serde::Serialize;

use self::hcl::BlockExt;
use crate::blueprint;
use crate::clouds::{Backend, Cloud, CloudPlanner, Shard};
use crate::design::Design;
use crate::model::Stacks;
use crate::model::{Aws, Model};
use crate::plan::tf::{self, Part, TfFile, lit, obj, r};
use crate::plan::{Module, PlanError};

/// Version constraint on hashicorp/aws; 5.100.0 qualifies.
pub use bootstrap::plan_bootstrap;
pub use flags::FIREHOSE_DEVICE_PARTITIONS_MAX;
pub(crate) use flags::Flags;
use kms::kms;
pub(crate) use pipeline::{Action, route_actions};
pub use shard::{RemoteState, plan_registry_shard};

pub const AWS_PROVIDER_VERSION: &str = "~> 5.100";

/// Python runtime of the generated functions.
const PYTHON_RUNTIME: &str = "python3.12";

/// AWS, as [`crate::clouds::CLOUDS`] lists it.
pub struct AwsPlanner;

impl CloudPlanner for AwsPlanner {
    fn cloud(&self) -> Cloud {
        Cloud::Aws
    }

    fn device_side(&self) -> &'static dyn crate::clouds::DeviceSide {
        &device::AwsDevices
    }

    fn archive_writers(&self, model: &Model) -> Vec<(&'static str, &'static str)> {
        pipeline::archive_writers(model)
    }

    fn check(&self, model: &Model) -> crate::diagnostics::Diagnostics {
        let mut out = regions::check(model);
        out.extend(ota::check(model));
        out
    }

    fn targets(&self, model: &Model) -> bool {
        model.aws.is_some()
    }

    fn resource_prefix(&self) -> &'static str {
        "aws_"
    }

    fn replacement_rules(&self, ty: &str) -> Option<&'static crate::plan::forcenew::Rules> {
        lifecycle::replacement_rules().resources.get(ty)
    }

    fn holds(&self, ty: &str) -> Option<crate::plan::lifecycle::Holds> {
        lifecycle::holds(ty)
    }

    fn region(&self, model: &Model) -> String {
        model
            .aws
            .as_ref()
            .map(|a| a.region.clone())
            .unwrap_or_default()
    }

    fn design(&self, model: &Model) -> Option<Design> {
        let aws = model.aws.as_ref()?;
        Some(design(model, aws, &Flags::new(model, aws)))
    }

    fn plan(&self, model: &Model) -> Result<Module, PlanError> {
        let Some(aws) = &model.aws else {
            return Ok(Module::new(Cloud::Aws));
        };
        plan_with(model, aws, Flags::new(model, aws))
    }

    fn state_region(&self, stacks: &Stacks) -> Option<String> {
        stacks.aws.as_ref().map(|s| s.region.clone())
    }

    fn backend(&self, stacks: &Stacks, key: String) -> Option<Backend> {
        let s = stacks.aws.as_ref()?;
        Some(Backend {
            kind: "s3".to_owned(),
            settings: vec![
                ("bucket".to_owned(), s.bucket.clone()),
                ("key".to_owned(), key),
                ("region".to_owned(), s.region.clone()),
                ("encrypt".to_owned(), "true".to_owned()),
                ("use_lockfile".to_owned(), "true".to_owned()),
            ],
        })
    }

    fn plan_bootstrap(&self, model: &Model, stacks: &Stacks) -> Result<Module, PlanError> {
        let state = stacks
            .aws
            .as_ref()
            .ok_or(PlanError::NoStateStorage { cloud: "AWS" })?;
        plan_bootstrap(model, state)
    }

    fn bulk_commands(&self, model: &Model, module: &str) -> Option<String> {
        bulk::commands(model, module)
    }

    fn bulk_why_not(&self, model: &Model) -> Option<String> {
        bulk::why_not(model)
    }

    fn shards_registry(&self, model: &Model) -> bool {
        // Every device Terraform registers is a thing and a certificate: large registries are
        // split. Bulk registration and first-connection methods need no per-device resources.
        bulk::registration(model) == bulk::Registration::Terraform
    }

    fn plan_registry_shard(
        &self,
        model: &Model,
        shard: &Shard,
        main: &Backend,
    ) -> Result<Module, PlanError> {
        // A shard reads the main stack's outputs: the S3 backend needs its bucket, key and
        // region, not the write settings.
        let main = RemoteState {
            backend: main.kind.clone(),
            config: main
                .settings
                .iter()
                .filter(|(k, _)| matches!(k.as_str(), "bucket" | "key" | "region"))
                .cloned()
                .collect(),
        };
        plan_registry_shard(model, shard, &main)
    }
}

/// The main module of `m` on AWS, rendered from the decisions `flags`.
fn plan_with(m: &Model, aws: &Aws, flags: Flags) -> Result<Module, PlanError> {
    let mut cx = Ctx::new(m, aws);
    cx.flags = flags;
    let design = design(m, aws, &cx.flags);
    core(&mut cx, true);
    kms(&mut cx);
    iot::plan(&mut cx);
    bulk::plan(&mut cx)?;
    provisioning::plan(&mut cx)?;
    storage::plan(&mut cx);
    pipeline::plan(&mut cx);
    alerts::plan(&mut cx)?;
    analytics::plan(&mut cx);
    ota::plan(&mut cx)?;
    teardown::plan(&mut cx)?;
    web::plan(&mut cx)?;
    alerts::monitoring(&mut cx);
    cx.finish(&design)
}

/// The views of the AWS decisions `flags` for `m`.
fn design(m: &Model, aws: &Aws, flags: &Flags) -> Design {
    Design {
        cloud: Cloud::Aws,
        dataflow: dataflow::dataflow(m, aws, flags),
        parity: parity::rows(m, aws, flags),
        story: story::story(m, aws, flags),
        bill: bill::bill(m, aws, flags),
    }
}

/// A documented input variable.
#[derive(Debug, Clone, Serialize)]
struct VarDoc {
    name: String,
    description: String,
    default: Option<String>,
}

/// A documented output.
#[derive(Debug, Clone, Serialize)]
struct OutDoc {
    name: String,
    description: String,
}

/// The planning context every concern writes into.
pub(super) struct Ctx<'a> {
    pub m: &'a Model,
    pub aws: &'a Aws,
    pub flags: Flags,
    files: BTreeMap<&'static str, TfFile>,
    vars: TfFile,
    outs: TfFile,
    module: Module,
    var_docs: Vec<VarDoc>,
    out_docs: Vec<OutDoc>,
    /// Facts for the README, by key; each concern adds its own.
    facts: serde_json::Map<String, serde_json::Value>,
    /// What each file is for, for the README.
    purposes: BTreeMap<String, String>,
    /// Terraform labels and names of the generated Lambda functions, for alarms.
    pub lambdas: Vec<(String, String)>,
    /// What the shipped tests assert, recorded where each resource is emitted.
    pub intent: crate::plan::intent::Intent,
}

impl<'a> Ctx<'a> {
    fn new(m: &'a Model, aws: &'a Aws) -> Self {
        Self {
            m,
            aws,
            flags: Flags::new(m, aws),
            files: BTreeMap::new(),
            vars: TfFile::new(),
            outs: TfFile::new(),
            module: Module::new(Cloud::Aws),
            var_docs: Vec::new(),
            out_docs: Vec::new(),
            facts: serde_json::Map::new(),
            purposes: BTreeMap::new(),
            lambdas: Vec::new(),
            intent: crate::plan::intent::Intent::default(),
        }
    }

    /// The HCL file `name`, created on first use with `purpose` for the README.
    pub fn tf(&mut self, name: &'static str, purpose: &str) -> &mut TfFile {
        self.purposes
            .entry(name.to_owned())
            .or_insert_with(|| purpose.to_owned());
        self.files.entry(name).or_default()
    }

    /// Declares an input variable (documented in the README).
    pub fn var(
        &mut self,
        name: &str,
        ty: &str,
        description: &str,
        default: Option<Expression>,
        validations: Vec<tf::Validation>,
    ) {
        for v in &validations {
            self.intent.rejects(name, v.rejects.clone());
        }
        self.var_docs.push(VarDoc {
            name: name.to_owned(),
            description: description.to_owned(),
            default: default.as_ref().map(|d| {
                ::hcl::format::to_string(d)
                    .unwrap_or_default()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            }),
        });
        self.vars.push(
            tf::variable(name)
                .attr("description", lit(description))
                .attr("type", tf::type_expr(ty))
                .when(default.is_some(), |b| {
                    b.attr("default", default.unwrap_or(tf::null()))
                })
                .each(validations, |b, v| b.child(v.block()))
                .build(),
        );
    }

    /// Declares an output (documented in the README).
    pub fn out(&mut self, name: &str, description: &str, value: Expression) {
        self.out_docs.push(OutDoc {
            name: name.to_owned(),
            description: description.to_owned(),
        });
        self.outs.push(tf::output(name, description, value));
    }

    /// A README fact.
    pub fn fact(&mut self, key: &str, value: impl Serialize) {
        self.facts.insert(
            key.to_owned(),
            serde_json::to_value(value).unwrap_or(serde_json::Value::Null),
        );
    }

    /// Whether a README fact is set.
    pub fn facts_has(&self, key: &str) -> bool {
        self.facts.contains_key(key)
    }

    /// A text artifact.
    pub fn text(&mut self, path: &str, purpose: &str, text: String) {
        self.purposes.insert(path.to_owned(), purpose.to_owned());
        self.module.text(path, text);
    }

    /// An artifact generated on demand and written as a stream (registry data).
    pub fn stream(
        &mut self,
        path: &str,
        purpose: &str,
        file: std::sync::Arc<dyn crate::plan::Streamed>,
    ) {
        self.purposes.insert(path.to_owned(), purpose.to_owned());
        self.module.stream(path, file);
    }

    /// A binary artifact.
    pub fn bytes(&mut self, path: &str, purpose: &str, bytes: Vec<u8>) {
        self.purposes.insert(path.to_owned(), purpose.to_owned());
        self.module.bytes(path, bytes);
    }

    /// Name prefix of the stack, as a plain string (for docs and IoT names).
    pub fn prefix(&self) -> &str {
        &self.m.stack.prefix
    }

    /// `<prefix>-<suffix>` within `max` characters (see [`names`]): interpolates
    /// `local.name_prefix` when it fits, else the shortened name as text.
    pub fn name(&self, suffix: &str, max: usize) -> Expression {
        let full = format!("{}-{suffix}", self.prefix());
        if full.len() <= max {
            self::hcl::named(suffix)
        } else {
            lit(names::fit(&full, max, '-'))
        }
    }

    /// The text of [`Ctx::name`], for names that other names repeat (a function's log group).
    pub fn name_text(&self, suffix: &str, max: usize) -> String {
        names::fit(&format!("{}-{suffix}", self.prefix()), max, '-')
    }

    /// `<prefix>-<suffix>-<account id>`, within S3's 63 characters: bucket names are global.
    pub fn bucket_name(&self, suffix: &str) -> Expression {
        let full = format!("{}-{suffix}", self.prefix());
        if full.len() <= names::S3_STEM {
            self::hcl::named_global(suffix)
        } else {
            self::hcl::tpl([
                self::hcl::t(format!("{}-", names::fit(&full, names::S3_STEM, '-'))),
                self::hcl::rf("local.account_id"),
            ])
        }
    }

    /// AWS IoT name of a device type's thing type: per environment, because thing types are
    /// one namespace per account and region.
    pub fn thing_type_name(&self, ty: &str) -> String {
        self.name_text(ty, names::IOT_NAME)
    }

    /// AWS IoT name of a spec thing group (per environment, like thing types).
    pub fn thing_group_name(&self, group: &str) -> String {
        self.name_text(group, names::IOT_NAME)
    }

    /// `prefix` with `_` for `-`, for names that allow no hyphen (IoT rules, Glue).
    pub fn prefix_underscored(&self) -> String {
        self.m.stack.prefix.replace('-', "_")
    }

    fn finish(mut self, design: &Design) -> Result<Module, PlanError> {
        self.write_tests();
        self.module.parity.clone_from(&design.parity);
        let readme = self.readme(design)?;
        self.module.text("README.md", readme);
        let mut module = self.module;
        module.hcl("variables.tf", self.vars);
        for (name, file) in self.files {
            module.hcl(name, file);
        }
        module.hcl("outputs.tf", self.outs);
        Ok(module)
    }

    fn readme(&mut self, design: &Design) -> Result<String, PlanError> {
        let m = self.m;
        let mut files: Vec<(String, String)> = self
            .purposes
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        files.insert(
            0,
            (
                "outputs.tf".to_owned(),
                "What the stack exports: endpoints, ARNs and names.".to_owned(),
            ),
        );
        files.insert(
            0,
            (
                "variables.tf".to_owned(),
                "Inputs, with descriptions, defaults and validation.".to_owned(),
            ),
        );
        files.sort();
        blueprint::render(
            "aws/README.md.j2",
            serde_json::json!({
                "stack": m.stack.prefix,
                "name": m.stack.name,
                "environment": m.stack.environment,
                "owner": m.stack.owner,
                "description": m.stack.description,
                "region": self.aws.region,
                "devices": m.fleet.devices,
                "planned_devices": m.traffic.planned_devices,
                "flags": self.flags,
                "files": files,
                "inputs": self.var_docs,
                "outputs": self.out_docs,
                "facts": self.facts,
                "parity": self.module.parity,
                "diagram": crate::diagram::mermaid_of(m, &design.dataflow),
            }),
        )
    }
}

/// versions, providers, the base variables, locals and the account data. `main` is false for
/// registry shard stacks, which leave account-wide settings to the main stack.
fn core(cx: &mut Ctx, main: bool) {
    let mut versions = TfFile::new();
    versions.push(
        tf::block("terraform")
            .attr("required_version", lit(">= 1.6.0"))
            .child(
                tf::block("required_providers")
                    .attr(
                        "aws",
                        obj([
                            ("source", lit("hashicorp/aws")),
                            ("version", lit(AWS_PROVIDER_VERSION)),
                        ]),
                    )
                    .build(),
            )
            .build(),
    );
    cx.files.insert("versions.tf", versions);
    cx.purposes.insert(
        "versions.tf".to_owned(),
        "Terraform and provider version constraints (hashicorp/aws only).".to_owned(),
    );
    let mut providers = TfFile::new();
    providers.push(
        tf::block("provider")
            .add_label("aws")
            .attr("region", r("var.region"))
            .each(cx.aws.account_id.as_deref(), |b, account| {
                b.note("The spec's `clouds.aws.account_id`: credentials for any other account make Terraform stop")
                    .note("before it changes anything, so this environment never lands in another's account.")
                    .attr("allowed_account_ids", tf::list([lit(account)]))
            })
            .child(
                tf::block("default_tags")
                    .attr("tags", r("local.tags"))
                    .build(),
            )
            .build(),
    );
    cx.files.insert("providers.tf", providers);
    cx.purposes.insert(
        "providers.tf".to_owned(),
        "The AWS provider, with the stack's tags on every resource.".to_owned(),
    );

    cx.var(
        "region",
        "string",
        "AWS region to deploy the fleet into.",
        Some(lit(&cx.aws.region)),
        vec![tf::validation(
            tf::call(
                "can",
                [tf::call(
                    "regex",
                    [
                        lit("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$"),
                        r("var.region"),
                    ],
                )],
            ),
            "The region must look like us-east-1.",
            lit("Frankfurt"),
        )],
    );
    cx.var(
        "extra_tags",
        "map(string)",
        "Tags added to every resource, on top of the ones from the fleet spec.",
        Some(obj::<&str>([])),
        Vec::new(),
    );
    if main {
        cx.var(
        "manage_account_iot_settings",
        "bool",
        "Manage the account-wide AWS IoT settings of this region (logging options, the AWSIoTLogsV2 log group, fleet indexing, event configurations). Set to false when another stack in the same account and region already manages them.",
        Some(tf::boolean(cx.aws.account_settings)),
        Vec::new(),
    );
    }

    let m = cx.m;
    // `fleetform-stack` tells this stack's costs apart from the other environments' (budget).
    let tags = obj(m
        .stack
        .tags
        .iter()
        .filter(|(k, _)| k.as_str() != alerts::STACK_TAG)
        .map(|(k, v)| (k.as_str(), lit(v)))
        .chain([(alerts::STACK_TAG, lit(&m.stack.prefix))]));
    let mut main = TfFile::new();
    main.push(
        tf::block("locals")
            .attr("name_prefix", lit(&m.stack.prefix))
            .attr("tags", tf::call("merge", [tags, r("var.extra_tags")]))
            .attr(
                "account_id",
                r("data.aws_caller_identity.current.account_id"),
            )
            .attr("partition", r("data.aws_partition.current.partition"))
            .attr(
                "arn_prefix",
                tf::interp([
                    Part::Lit("arn:"),
                    Part::Ref(r("local.partition")),
                    Part::Lit(":"),
                ]),
            )
            .note("ARN prefix of this account's AWS IoT resources (client/, topic/, thing/, ...).")
            .attr(
                "iot_arn",
                tf::interp([
                    Part::Ref(r("local.arn_prefix")),
                    Part::Lit("iot:"),
                    Part::Ref(r("var.region")),
                    Part::Lit(":"),
                    Part::Ref(r("local.account_id")),
                ]),
            )
            .note(
                "IoT policy variables: literal text for AWS IoT, escaped from Terraform with $${.",
            )
            .attr("thing_name", lit("${iot:Connection.Thing.ThingName}"))
            .attr(
                "credentials_thing_name",
                lit("${credentials-iot:ThingName}"),
            )
            .build(),
    );
    main.push(tf::data("aws_caller_identity", "current").build());
    cx.out(
        "region",
        "Region the fleet is deployed in.",
        r("var.region"),
    );
    main.push(tf::data("aws_partition", "current").build());
    cx.files.insert("main.tf", main);
    cx.purposes.insert(
        "main.tf".to_owned(),
        "Locals shared by every file: names, tags, ARN prefixes and IoT policy variables."
            .to_owned(),
    );
}
