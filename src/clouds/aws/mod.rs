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
//! variables and outputs (documented in the README as they are declared), the artifacts and
//! the parity rows. Which optional parts exist is decided once, in `Flags`, from the model
//! alone, so every concern agrees on what the others create.

mod alerts;
mod analytics;
mod bootstrap;
pub mod bulk;
mod fleet;
mod functions;
mod hcl;
mod iam;
mod iot;
pub mod lifecycle;
mod ota;
mod pipeline;
mod provisioning;
mod shard;
mod storage;
mod tables;
mod web;

use std::collections::BTreeMap;

use ::hcl::{Block, Expression};
use serde::Serialize;

use self::hcl::BlockExt;
use self::iam::Stmt;
use crate::blueprint;
use crate::model::{Aws, AwsProvisioningMethod, Destination, Encryption, Model};
use crate::plan::tf::{self, Part, TfFile, lit, obj, r};
use crate::plan::{Cloud, Mapping, Module, PlanError, Planner};

/// Version constraint on hashicorp/aws; 5.100.0 qualifies.
pub use bootstrap::plan_bootstrap;
pub(crate) use pipeline::{Action, route_actions};
pub use shard::{RemoteState, Shard, plan_registry_shard};

pub const AWS_PROVIDER_VERSION: &str = "~> 5.100";

/// Python runtime of the generated functions.
const PYTHON_RUNTIME: &str = "python3.12";

/// Plans AWS.
pub struct AwsPlanner;

impl Planner for AwsPlanner {
    fn cloud(&self) -> Cloud {
        Cloud::Aws
    }

    fn plan(&self, model: &Model) -> Result<Module, PlanError> {
        let Some(aws) = &model.aws else {
            return Ok(Module::new(Cloud::Aws));
        };
        let mut cx = Ctx::new(model, aws);
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
        web::plan(&mut cx)?;
        alerts::monitoring(&mut cx);
        cx.finish()
    }
}

/// What the stack contains, decided once from the model. The diagram and `fleetform
/// explain` read the same decisions, so they describe what the build writes.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct Flags {
    /// A Kinesis data stream carries telemetry.
    pub kinesis: bool,
    /// A Firehose delivery stream lands telemetry in the archive bucket.
    pub firehose: bool,
    /// Firehose reads the Kinesis stream (instead of taking direct puts from rules).
    pub firehose_reads_kinesis: bool,
    /// Glue tables and an Athena workgroup query the archive: asked for, and Firehose lands
    /// telemetry in the archive for them to read.
    pub analytics: bool,
    /// The archive bucket exists.
    pub archive: bool,
    /// The archive bucket is encrypted with the stack's customer-managed key.
    pub archive_cmk: bool,
    /// The latest-state DynamoDB table exists.
    pub state_table: bool,
    /// The SNS topic for alerts and alarms exists.
    pub sns: bool,
    /// Alarms are created.
    pub alarms: bool,
    /// A CA certificate is registered with AWS IoT.
    pub ca: bool,
    /// The CA is registered in DEFAULT mode (needs a verification certificate).
    pub ca_verified: bool,
    /// Devices keep shadows.
    pub shadow: bool,
    /// A role alias hands devices temporary credentials.
    pub role_alias: bool,
    /// Firmware bucket and signing exist.
    pub ota: bool,
    /// At least one Lambda function is generated.
    pub functions: bool,
    /// Firehose partitions the archive by device (small fleets); larger fleets are partitioned
    /// by hour, because every device would be an active partition (Firehose allows 500 by
    /// default) and a stream of tiny objects too small to ever change storage class.
    pub partition_by_device: bool,
}

/// Planned fleets up to this size get one archive folder per device per day.
pub const FIREHOSE_DEVICE_PARTITIONS_MAX: u64 = 500;

impl Flags {
    pub(crate) fn new(m: &Model, aws: &Aws) -> Self {
        let archive_route = m
            .routes
            .iter()
            .any(|r| r.to.contains(&Destination::Archive));
        let stream_route = m.routes.iter().any(|r| r.to.contains(&Destination::Stream));
        let service = aws.stream.service;
        let both = service == crate::model::AwsStreamService::KinesisAndFirehose;
        // The stream exists when a route feeds it (with `kinesis_and_firehose`, archiving
        // goes through it too).
        let kinesis = aws.stream.uses_kinesis() && (stream_route || (archive_route && both));
        // Firehose is how telemetry reaches S3 in batches: for the `firehose` stream, for
        // every archiving route, and behind the Kinesis stream with `kinesis_and_firehose`.
        let firehose = (stream_route && service == crate::model::AwsStreamService::Firehose)
            || archive_route
            || (kinesis && both);
        let firehose_reads_kinesis = both;
        let archive = m.archive.is_some() || firehose;
        let method = aws.provisioning.method;
        let ca = matches!(
            method,
            AwsProvisioningMethod::Jitp
                | AwsProvisioningMethod::Jitr
                | AwsProvisioningMethod::Manual
        );
        let alert_function = m.alerts.iter().any(|a| a.function);
        Self {
            kinesis,
            firehose,
            firehose_reads_kinesis: firehose && firehose_reads_kinesis && kinesis,
            analytics: m.features.analytics && firehose,
            archive,
            archive_cmk: archive
                && m.archive
                    .as_ref()
                    .is_none_or(|a| a.encryption == Encryption::CustomerManaged),
            state_table: m.features.state_store,
            sns: m.monitoring.alarms || m.alerts.iter().any(|a| a.notify),
            alarms: m.monitoring.alarms,
            ca,
            ca_verified: ca
                && aws.provisioning.certificate_mode == crate::model::CertificateMode::Default,
            shadow: m.messaging.state,
            partition_by_device: m.traffic.planned_devices <= FIREHOSE_DEVICE_PARTITIONS_MAX,
            role_alias: m.access.cloud_credentials.is_some(),
            ota: m.features.ota,
            functions: alert_function
                || method == AwsProvisioningMethod::Jitr
                || aws.provisioning.pre_provisioning_hook
                || m.features.web_api,
        }
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
        validations: Vec<Block>,
    ) {
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
                .each(validations, BlockExt::child)
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

    /// A parity row.
    pub fn map(&mut self, feature: &'static str, mapping: Mapping) {
        self.module.map(feature, mapping);
    }

    /// Name prefix of the stack, as a plain string (for docs and IoT names).
    pub fn prefix(&self) -> &str {
        &self.m.stack.prefix
    }

    /// `prefix` with `_` for `-`, for names that allow no hyphen (IoT rules, Glue).
    pub fn prefix_underscored(&self) -> String {
        self.m.stack.prefix.replace('-', "_")
    }

    fn finish(mut self) -> Result<Module, PlanError> {
        parity(&mut self);
        let readme = self.readme()?;
        self.module.text("README.md", readme);
        let mut module = self.module;
        module.hcl("variables.tf", self.vars);
        for (name, file) in self.files {
            module.hcl(name, file);
        }
        module.hcl("outputs.tf", self.outs);
        Ok(module)
    }

    fn readme(&mut self) -> Result<String, PlanError> {
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
                "diagram": crate::diagram::mermaid(m, Cloud::Aws),
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
        Some(tf::boolean(true)),
        Vec::new(),
    );
    }

    let m = cx.m;
    let tags = obj(m.stack.tags.iter().map(|(k, v)| (k.as_str(), lit(v))));
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

/// The stack's customer-managed key: logs, SNS, SQS, DynamoDB, Kinesis, Firehose and, when
/// the spec asks for it, the archive.
fn kms(cx: &mut Ctx) {
    let flags = cx.flags;
    let region_logs = self::hcl::tpl([
        self::hcl::t("logs."),
        self::hcl::rf("var.region"),
        self::hcl::t(".amazonaws.com"),
    ]);
    let mut stmts = vec![
        Stmt::allow(
            "AccountAdministersKeyThroughIam",
            &["kms:*"],
            vec![lit("*")],
        )
        .principal(
            "AWS",
            vec![self::hcl::tpl([
                self::hcl::rf("local.arn_prefix"),
                self::hcl::t("iam::"),
                self::hcl::rf("local.account_id"),
                self::hcl::t(":root"),
            ])],
        ),
        Stmt::allow(
            "CloudWatchLogsEncryptsThisStacksLogs",
            &[
                "kms:Encrypt*",
                "kms:Decrypt*",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:Describe*",
            ],
            vec![lit("*")],
        )
        .principal("Service", vec![region_logs])
        .cond(
            "ArnLike",
            "kms:EncryptionContext:aws:logs:arn",
            vec![self::hcl::tpl([
                self::hcl::rf("local.arn_prefix"),
                self::hcl::t("logs:"),
                self::hcl::rf("var.region"),
                self::hcl::t(":"),
                self::hcl::rf("local.account_id"),
                self::hcl::t(":log-group:*"),
            ])],
        ),
        iam::same_account(
            Stmt::allow(
                "S3ServerAccessLogDelivery",
                &["kms:GenerateDataKey*", "kms:Decrypt"],
                vec![lit("*")],
            )
            .principal("Service", iam::service("logging.s3.amazonaws.com")),
        ),
    ];
    if flags.sns {
        stmts.push(iam::same_account(
            Stmt::allow(
                "AlarmsAndBudgetsPublishToEncryptedTopic",
                &["kms:GenerateDataKey*", "kms:Decrypt"],
                vec![lit("*")],
            )
            .principal(
                "Service",
                vec![
                    lit("cloudwatch.amazonaws.com"),
                    lit("budgets.amazonaws.com"),
                ],
            ),
        ));
    }
    let f = cx.tf(
        "kms.tf",
        "The stack's customer-managed KMS key (rotated yearly) and its policy.",
    );
    f.comment("Key policy: the account administers the key through IAM; services get only the grants they need.");
    f.comment("In a key policy, Resource \"*\" means this key.");
    f.push(iam::document_with_skips(
        "kms_key",
        stmts,
        &[
            ("CKV_AWS_109", "key policy: Resource \"*\" is this key, and the account root must administer it or the key becomes unmanageable"),
            ("CKV_AWS_111", "key policy: Resource \"*\" is this key; write actions go to the account root and named services only"),
            ("CKV_AWS_356", "key policy: Resource \"*\" is this key, not every resource"),
        ],
    ));
    f.push(
        tf::resource("aws_kms_key", "fleet")
            .attr(
                "description",
                self::hcl::tpl([
                    self::hcl::t("Encrypts data of the "),
                    self::hcl::rf("local.name_prefix"),
                    self::hcl::t(" IoT fleet"),
                ]),
            )
            .attr("enable_key_rotation", tf::boolean(true))
            .attr("deletion_window_in_days", tf::num(30))
            .attr("policy", r("data.aws_iam_policy_document.kms_key.json"))
            .build(),
    );
    f.push(
        tf::resource("aws_kms_alias", "fleet")
            .attr(
                "name",
                self::hcl::tpl([self::hcl::t("alias/"), self::hcl::rf("local.name_prefix")]),
            )
            .attr("target_key_id", r("aws_kms_key.fleet.key_id"))
            .build(),
    );
}

/// The parity rows: every requested feature and what it became.
fn parity(cx: &mut Ctx) {
    let m = cx.m;
    let aws = cx.aws;
    let flags = cx.flags;
    let method = match aws.provisioning.method {
        AwsProvisioningMethod::Manual => {
            "manual registration: things and certificates from the registry"
        }
        AwsProvisioningMethod::Jitp => "just-in-time provisioning: CA with a provisioning template",
        AwsProvisioningMethod::Jitr => {
            "just-in-time registration: CA with auto-registration and an activator Lambda"
        }
        AwsProvisioningMethod::FleetByClaim => "fleet provisioning by claim certificate",
        AwsProvisioningMethod::TrustedUser => "fleet provisioning by trusted user",
    };
    cx.map(
        "identity",
        Mapping::Mapped(if flags.ca {
            "X.509 certificates chained to the fleet CA registered with AWS IoT".to_owned()
        } else {
            "X.509 certificates issued by AWS IoT at provisioning".to_owned()
        }),
    );
    cx.map("provisioning", Mapping::Mapped(method.to_owned()));
    bulk::parity(cx);
    cx.map(
        "authorization",
        Mapping::Mapped("IoT policy scoped to ${iot:Connection.Thing.ThingName}".to_owned()),
    );
    if let Some(c) = &m.access.cloud_credentials {
        cx.map(
            "cloud_credentials",
            Mapping::Mapped(format!(
                "IoT role alias `{}` (credentials provider)",
                c.role_alias
            )),
        );
    }
    if m.messaging.state {
        cx.map("device_state", Mapping::Mapped("device shadows".to_owned()));
    }
    if m.messaging.commands {
        cx.map(
            "cloud_to_device",
            Mapping::Mapped(format!(
                "MQTT command topic `{}`",
                m.messaging.command_topic
            )),
        );
    } else if m.messaging.direct_methods {
        cx.map(
            "cloud_to_device",
            Mapping::NotMapped(
                "no direct methods on AWS IoT; use request/response topics".to_owned(),
            ),
        );
    }
    cx.map(
        "routes",
        Mapping::Mapped(format!(
            "{} IoT topic rule(s), SQL 2016-03-23",
            m.routes.len()
        )),
    );
    let stream = match (flags.kinesis, flags.firehose, flags.firehose_reads_kinesis) {
        (true, true, true) => "Kinesis Data Streams read by Firehose".to_owned(),
        (true, true, false) => "Kinesis Data Streams, plus Firehose for the archive".to_owned(),
        (true, false, _) => "Kinesis Data Streams".to_owned(),
        _ => "Amazon Data Firehose".to_owned(),
    };
    let stream = if !flags.kinesis && !flags.firehose {
        "no route sends to `stream` or `archive`, so no stream is created".to_owned()
    } else if flags.kinesis {
        match aws.stream.kinesis_capacity {
            crate::model::KinesisCapacity::Provisioned => {
                format!("{stream} ({} shard(s))", aws.stream.kinesis_shards)
            }
            crate::model::KinesisCapacity::OnDemand => format!("{stream} (on-demand)"),
        }
    } else {
        stream
    };
    cx.map("stream", Mapping::Mapped(stream));
    if let Some(a) = &m.archive {
        cx.map(
            "archive",
            Mapping::Mapped(if flags.partition_by_device {
                "S3 bucket, partitioned by day and device".to_owned()
            } else {
                "S3 bucket, partitioned by day and hour".to_owned()
            }),
        );
        if !a.lifecycle.is_empty() || a.expire_after_days.is_some() {
            cx.map(
                "lifecycle",
                Mapping::Mapped("S3 lifecycle configuration".to_owned()),
            );
        }
    }
    if !m.alerts.is_empty() {
        cx.map(
            "alerts",
            Mapping::Mapped("IoT topic rules to Lambda and/or SNS".to_owned()),
        );
    }
    if m.features.state_store {
        cx.map(
            "state_store",
            Mapping::Mapped("DynamoDB table (on-demand, PITR)".to_owned()),
        );
    }
    if m.features.ota {
        cx.map(
            "ota",
            Mapping::Mapped(
                "firmware bucket, AWS Signer profile, IoT job document and script".to_owned(),
            ),
        );
    }
    if m.features.analytics {
        cx.map(
            "analytics",
            if flags.analytics {
                Mapping::Mapped(
                    "Glue table with partition projection and an Athena workgroup".to_owned(),
                )
            } else {
                Mapping::NotMapped(
                    "Glue and Athena query what Firehose archives, and no route sends to `archive` (or to a Firehose `stream`), so they are not created".to_owned(),
                )
            },
        );
    }
    if m.features.web_api {
        cx.map(
            "web_api",
            Mapping::Mapped(
                "API Gateway HTTP API (IAM auth) + Lambda, Cognito identity pool".to_owned(),
            ),
        );
    }
    cx.map(
        "monitoring",
        Mapping::Mapped(if m.monitoring.alarms {
            "CloudWatch logs and alarms to SNS".to_owned()
        } else {
            "CloudWatch logs".to_owned()
        }),
    );
    if m.cost.monthly_budget_usd.is_some() {
        cx.map(
            "budget",
            Mapping::Mapped("AWS Budgets monthly cost budget".to_owned()),
        );
    }
}
