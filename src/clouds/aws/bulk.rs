//! Bulk registration: a large registry registered by AWS IoT's own bulk thing registration
//! task, not by Terraform resources per device.
//!
//! A Terraform-managed device is a thing, a certificate, a policy attachment and a principal
//! attachment (and a membership per group): four or five resources in state, each read back
//! on every plan. From `fleet.registry.bulk_threshold` devices on, this stack instead builds
//! what `StartThingRegistrationTask` needs and lets AWS IoT do the rest:
//!
//! - one provisioning template per *shape* of device (with or without a type, the number of
//!   groups, the attribute names), since a template's parameters are fixed strings: most
//!   registries have one shape, so one task;
//! - each task's input in S3, as the documented newline-delimited JSON: one object per line,
//!   one string value per template parameter (`ThingName`, `ThingTypeName`, `ThingGroup1`...,
//!   `Attribute1`...), written by fleetform as a stream and uploaded by Terraform;
//! - the role AWS IoT assumes (trusting iot.amazonaws.com from this account): AWS's managed
//!   `AWSIoTThingsRegistration`, which AWS documents as the grant for
//!   `StartThingRegistrationTask`, plus read access to exactly the registration objects;
//! - `scripts/register-devices.sh`, which starts the tasks one after the other (AWS runs one
//!   bulk task per account at a time), reports progress and saves each task's error and result
//!   reports; `fleetform bulk` prints the same commands.
//!
//! Device certificates join in a second task with the certificate template (thing left as it
//! is, certificate registered ACTIVE against the fleet CA, device policy attached), whose input
//! `fleetform certs device --aws-bulk` writes next to the certificates it issues.
//!
//! Sources: docs.aws.amazon.com/iot/latest/developerguide/bulk-provisioning.html (input format,
//! one task at a time), provision-template.html (template sections, properties, override
//! settings), API_StartThingRegistrationTask (template body at most 10,240 characters).
//!
//! Over 600 lines because the bulk path is one unit: the registration template, its IAM role,
//! the input object, the streamed JSON-lines writer and the script that runs the task share
//! the names and limits above.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};

use super::Ctx;
use super::hcl::{BlockExt, module_path, named, rf, t, tpl, under};
use super::iam::{Role, Stmt};
use super::storage::{self, Bucket};
use crate::emit::jsonl;
use crate::model::registry::{NameId, Registry};
use crate::model::{AwsProvisioningMethod, Model};
use crate::plan::tf::{self, lit, r};
use crate::plan::{Mapping, PlanError, Streamed};

const FILE: &str = "bulk.tf";
const PURPOSE: &str = "Bulk registration: templates, inputs in S3 and the role AWS IoT uses to register the registry's devices.";

/// Longest provisioning template `StartThingRegistrationTask` accepts.
pub const TEMPLATE_MAX_CHARS: usize = 10_240;

/// How the AWS stack registers the spec's devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    /// Nothing to register.
    Empty,
    /// The provisioning method registers devices on their first connection; the registry is
    /// not pre-registered.
    OnFirstConnection(AwsProvisioningMethod),
    /// Terraform resources per device (`registry.tf`, or registry shard stacks).
    Terraform,
    /// Bulk registration tasks.
    Bulk,
}

/// How `m`'s AWS stack registers its devices.
pub fn registration(m: &Model) -> Registration {
    let Some(aws) = &m.aws else {
        return Registration::Empty;
    };
    if m.fleet.registry.is_empty() {
        return Registration::Empty;
    }
    match aws.provisioning.method {
        AwsProvisioningMethod::Manual => {
            if m.fleet.registry.len() as u64 >= m.fleet.bulk_threshold {
                Registration::Bulk
            } else {
                Registration::Terraform
            }
        }
        other => Registration::OnFirstConnection(other),
    }
}

/// The parity row for the registry.
pub(super) fn parity(m: &Model) -> Option<Mapping> {
    if m.registry_shards > 0 {
        let shards = m.registry_shards;
        return Some(Mapping::Mapped(format!(
            "registered by Terraform in {shards} registry shard stacks (aws-registry-NN)"
        )));
    }
    let n = m.fleet.registry.len();
    Some(match registration(m) {
        Registration::Empty => return None,
        Registration::Terraform => Mapping::Mapped(format!(
            "{n} device(s) registered by Terraform (one for_each over registry/devices.json)"
        )),
        Registration::Bulk => Mapping::Mapped(format!(
            "{n} devices registered in bulk by AWS IoT (StartThingRegistrationTask; scripts/register-devices.sh)"
        )),
        Registration::OnFirstConnection(method) => Mapping::NotMapped(format!(
            "{} registers each device on its first connection, so the {n} registry device(s) are not pre-registered",
            match method {
                AwsProvisioningMethod::Jitp => "just-in-time provisioning",
                AwsProvisioningMethod::Jitr => "just-in-time registration",
                AwsProvisioningMethod::FleetByClaim => "fleet provisioning by claim",
                AwsProvisioningMethod::TrustedUser => "fleet provisioning by trusted user",
                AwsProvisioningMethod::Manual => "manual registration",
            }
        )),
    })
}

/// One bulk registration task: the devices of one shape.
#[derive(Debug, Clone)]
pub struct Task {
    /// `things-01`, ...
    pub name: String,
    pub has_type: bool,
    pub groups: usize,
    /// Attribute names, sorted (the `AttributeN` parameters, in order).
    pub attributes: Vec<String>,
    /// The devices, by registry index (`None`: all of them).
    devices: Option<Arc<Vec<u32>>>,
    pub count: usize,
}

impl Task {
    /// Path of the task's input in the module.
    pub fn input_path(&self) -> String {
        format!("registry/bulk/{}.jsonl", self.name)
    }

    /// Path of the task's template in the module.
    pub fn template_path(&self) -> String {
        format!("registry/bulk/{}.template.json", self.name)
    }

    /// Key of the input object in the registration bucket.
    pub fn input_key(&self) -> String {
        format!("things/{}.jsonl", self.name)
    }

    /// The provisioning template (documented JITP / bulk template format). `fleet_group`: a
    /// thing group every device joins besides its own (the OTA fleet group).
    pub fn template(&self, fleet_group: Option<&str>) -> Value {
        let mut params = serde_json::Map::new();
        params.insert("ThingName".into(), json!({"Type": "String"}));
        let mut props = serde_json::Map::new();
        props.insert("ThingName".into(), json!({"Ref": "ThingName"}));
        if self.has_type {
            params.insert("ThingTypeName".into(), json!({"Type": "String"}));
            props.insert("ThingTypeName".into(), json!({"Ref": "ThingTypeName"}));
        }
        let groups: Vec<Value> = (1..=self.groups)
            .map(|i| {
                params.insert(format!("ThingGroup{i}"), json!({"Type": "String"}));
                json!({"Ref": format!("ThingGroup{i}")})
            })
            .chain(fleet_group.map(|g| json!(g)))
            .collect();
        if !groups.is_empty() {
            props.insert("ThingGroups".into(), Value::Array(groups));
        }
        if !self.attributes.is_empty() {
            let mut payload = serde_json::Map::new();
            for (i, name) in self.attributes.iter().enumerate() {
                let p = format!("Attribute{}", i + 1);
                params.insert(p.clone(), json!({"Type": "String"}));
                payload.insert(name.clone(), json!({"Ref": p}));
            }
            props.insert("AttributePayload".into(), Value::Object(payload));
        }
        json!({
            "Parameters": params,
            "Resources": {
                "thing": {
                    "Type": "AWS::IoT::Thing",
                    "Properties": props,
                    // The registry is the source of truth: running a task again makes existing
                    // things match it.
                    "OverrideSettings": {
                        "AttributePayload": "REPLACE",
                        "ThingTypeName": "REPLACE",
                        "ThingGroups": "REPLACE",
                    },
                },
            },
        })
    }
}

/// Splits the registry into tasks, one per shape, in order of first appearance.
pub fn tasks(registry: &Arc<Registry>) -> Vec<Task> {
    // Shape: [has type, group count, attribute name ids...].
    let mut shapes: HashMap<Vec<u32>, usize> = HashMap::new();
    let mut members: Vec<Vec<u32>> = Vec::new();
    let mut keys: Vec<Vec<u32>> = Vec::new();
    let mut scratch: Vec<u32> = Vec::new();
    for d in registry.iter() {
        scratch.clear();
        let (kind, groups) = d.name_ids();
        scratch.push(u32::from(kind.is_some()));
        scratch.push(u32::try_from(groups.len()).unwrap_or(u32::MAX));
        scratch.extend(
            d.attribute_ids()
                .map(|k| u32::try_from(k.index()).unwrap_or(u32::MAX)),
        );
        let i = if let Some(&i) = shapes.get(scratch.as_slice()) {
            i
        } else {
            shapes.insert(scratch.clone(), members.len());
            keys.push(scratch.clone());
            members.push(Vec::new());
            members.len() - 1
        };
        members[i].push(u32::try_from(d.index()).unwrap_or(u32::MAX));
    }
    let one = members.len() == 1;
    let names = registry.names();
    keys.into_iter()
        .zip(members)
        .enumerate()
        .map(|(i, (key, devices))| {
            let attribute_ids: Vec<NameId> = key[2..]
                .iter()
                .map(|&k| registry.name_id(k as usize))
                .collect();
            Task {
                name: format!("things-{:02}", i + 1),
                has_type: key[0] == 1,
                groups: key[1] as usize,
                attributes: attribute_ids
                    .iter()
                    .map(|k| names[k.index()].to_string())
                    .collect(),
                count: devices.len(),
                devices: (!one).then(|| Arc::new(devices)),
            }
        })
        .collect()
}

/// A task's input: one JSON object per line with the template's parameters.
#[derive(Debug)]
pub struct Input {
    pub registry: Arc<Registry>,
    pub task: Task,
    /// The AWS IoT name (with the environment's prefix) of each interned registry name, as a
    /// thing type and as a thing group, by [`NameId`] index.
    pub type_names: Arc<Vec<String>>,
    pub group_names: Arc<Vec<String>>,
}

/// For each interned name of `registry`, its AWS IoT name under `names` (spec name to AWS
/// name), or the name itself.
pub(super) fn aws_names(
    registry: &Registry,
    names: &std::collections::BTreeMap<String, String>,
) -> Vec<String> {
    registry
        .names()
        .iter()
        .map(|n| names.get(&**n).cloned().unwrap_or_else(|| n.to_string()))
        .collect()
}

impl Input {
    fn line(&self, i: usize, out: &mut Vec<u8>) {
        let d = self.registry.get(i);
        let (kind, groups) = d.name_ids();
        out.push(b'{');
        jsonl::push_key(out, "ThingName");
        jsonl::push_str(out, d.id());
        if let Some(t) = kind {
            out.push(b',');
            jsonl::push_key(out, "ThingTypeName");
            jsonl::push_str(out, &self.type_names[t.index()]);
        }
        for (n, g) in groups.enumerate() {
            out.extend_from_slice(b",\"ThingGroup");
            out.extend_from_slice((n + 1).to_string().as_bytes());
            out.extend_from_slice(b"\":");
            jsonl::push_str(out, &self.group_names[g.index()]);
        }
        for (n, (_, v)) in d.attributes().enumerate() {
            out.extend_from_slice(b",\"Attribute");
            out.extend_from_slice((n + 1).to_string().as_bytes());
            out.extend_from_slice(b"\":");
            jsonl::push_str(out, v);
        }
        out.extend_from_slice(b"}\n");
    }
}

impl Streamed for Input {
    fn write_to(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let mut buf = Vec::with_capacity(64 * 1024);
        let flush = |buf: &mut Vec<u8>, out: &mut dyn std::io::Write| {
            let r = out.write_all(buf);
            buf.clear();
            r
        };
        match &self.task.devices {
            None => {
                for i in 0..self.registry.len() {
                    self.line(i, &mut buf);
                    if buf.len() > 60 * 1024 {
                        flush(&mut buf, out)?;
                    }
                }
            }
            Some(devices) => {
                for &i in devices.iter() {
                    self.line(i as usize, &mut buf);
                    if buf.len() > 60 * 1024 {
                        flush(&mut buf, out)?;
                    }
                }
            }
        }
        flush(&mut buf, out)
    }
}

/// The certificate template: the thing left as the things task made it, the device's
/// certificate registered ACTIVE (issued by the fleet CA), the device policy attached. Its
/// input (`ThingName`, `CertificatePem` per line) comes from `fleetform certs device --aws-bulk`.
fn certificate_template() -> hcl::Expression {
    let certificate = tf::call(
        "merge",
        [
            tf::obj([
                ("CertificatePem", tf::obj([("Ref", lit("CertificatePem"))])),
                ("Status", lit("ACTIVE")),
            ]),
            tf::cond(
                r("local.register_ca"),
                tf::obj([(
                    "CACertificatePem",
                    r("aws_iot_ca_certificate.fleet.0.ca_certificate_pem"),
                )]),
                tf::obj::<&str>([]),
            ),
        ],
    );
    tf::call(
        "jsonencode",
        [tf::obj([
            (
                "Parameters",
                tf::obj([
                    ("ThingName", tf::obj([("Type", lit("String"))])),
                    ("CertificatePem", tf::obj([("Type", lit("String"))])),
                ]),
            ),
            (
                "Resources",
                tf::obj([
                    (
                        "thing",
                        tf::obj([
                            ("Type", lit("AWS::IoT::Thing")),
                            (
                                "Properties",
                                tf::obj([("ThingName", tf::obj([("Ref", lit("ThingName"))]))]),
                            ),
                            (
                                "OverrideSettings",
                                tf::obj([
                                    ("AttributePayload", lit("DO_NOTHING")),
                                    ("ThingTypeName", lit("DO_NOTHING")),
                                    ("ThingGroups", lit("DO_NOTHING")),
                                ]),
                            ),
                        ]),
                    ),
                    (
                        "certificate",
                        tf::obj([
                            ("Type", lit("AWS::IoT::Certificate")),
                            ("Properties", certificate),
                        ]),
                    ),
                    (
                        "policy",
                        tf::obj([
                            ("Type", lit("AWS::IoT::Policy")),
                            (
                                "Properties",
                                tf::obj([("PolicyName", r("aws_iot_policy.device.name"))]),
                            ),
                        ]),
                    ),
                ]),
            ),
        ])],
    )
}

/// Plans bulk registration of the whole registry, when the registry is registered in bulk.
pub(super) fn plan(cx: &mut Ctx) -> Result<(), PlanError> {
    if registration(cx.m) != Registration::Bulk {
        return Ok(());
    }
    let registry = Arc::clone(&cx.m.fleet.registry);
    let tasks = tasks(&registry);
    // Thing types and groups carry the environment's prefix in AWS (iot.rs names them).
    let (types, groups) = super::iot::iot_names(cx);
    let type_names = Arc::new(aws_names(&registry, &types));
    let group_names = Arc::new(aws_names(&registry, &groups));
    cx.fact(
        "bulk_registration",
        json!({
            "devices": registry.len(),
            "threshold": cx.m.fleet.bulk_threshold,
            "tasks": tasks.iter().map(|t| json!({"name": t.name, "devices": t.count})).collect::<Vec<_>>(),
        }),
    );
    let fleet_group = super::ota::fleet_group(cx);
    for task in &tasks {
        let mut template = serde_json::to_string_pretty(&task.template(fleet_group.as_deref()))
            .unwrap_or_default();
        template.push('\n');
        cx.text(
            &task.template_path(),
            "Provisioning template of one bulk registration task (its devices' shape).",
            template,
        );
        cx.stream(
            &task.input_path(),
            "Input of one bulk registration task: one JSON object per device and line.",
            Arc::new(Input {
                registry: Arc::clone(&registry),
                task: task.clone(),
                type_names: Arc::clone(&type_names),
                group_names: Arc::clone(&group_names),
            }),
        );
    }
    // The access-log bucket comes from storage.rs, which every stack runs.
    storage::bucket(
        cx,
        Bucket {
            label: "registration",
            name: cx.bucket_name("registration"),
            file: FILE,
            purpose: PURPOSE,
            cmk: Ok(()),
            versioning: Ok(()),
            access_logs: true,
            lifecycle: Vec::new(),
            policy: Vec::new(),
            lifecycle_note: None,
        },
    );
    let task_map = tf::obj(tasks.iter().map(|task| {
        (
            task.name.clone(),
            tf::obj([
                ("key", lit(task.input_key())),
                (
                    "template",
                    tf::call("file", [module_path(&task.template_path())]),
                ),
                ("devices", tf::num(task.count as u64)),
            ]),
        )
    }));
    let bucket_arn = "aws_s3_bucket.registration.arn";
    let f = cx.tf(FILE, PURPOSE);
    f.push(
        tf::block("locals")
            .note("One task per shape of device; AWS IoT runs one bulk task per account at a time.")
            .attr("bulk_registration_tasks", task_map)
            .note("Registers each device's certificate once `fleetform certs device --aws-bulk` wrote them.")
            .attr("bulk_certificate_template", certificate_template())
            .build(),
    );
    f.push(
        tf::resource("aws_s3_object", "bulk_registration")
            .note("Each task's input; replaced when the registry changes (source_hash).")
            .attr("for_each", r("local.bulk_registration_tasks"))
            .attr("bucket", r("aws_s3_bucket.registration.id"))
            .attr("key", r("each.value.key"))
            .attr("source", input_path())
            .attr("source_hash", tf::call("filemd5", [input_path()]))
            .attr("content_type", lit("application/x-ndjson"))
            .attr("server_side_encryption", lit("aws:kms"))
            .attr("kms_key_id", r("aws_kms_key.fleet.arn"))
            .child(
                tf::block("lifecycle")
                    .child(
                        tf::block("precondition")
                            .attr(
                                "condition",
                                hcl::Expression::from(hcl::expr::BinaryOp::new(
                                    tf::call("length", [r("each.value.template")]),
                                    hcl::expr::BinaryOperator::LessEq,
                                    tf::num(TEMPLATE_MAX_CHARS as u64),
                                )),
                            )
                            .attr(
                                "error_message",
                                lit("A bulk registration template is longer than the 10,240 characters StartThingRegistrationTask accepts; register fewer attributes per device."),
                            )
                            .build(),
                    )
                    .build(),
            )
            .attr(
                "depends_on",
                tf::list([r("aws_s3_bucket_policy.registration")]),
            )
            .build(),
    );
    Role {
        label: "bulk_registration",
        name: named("bulk-registration"),
        description: "Lets AWS IoT register this stack's devices from the registration inputs (StartThingRegistrationTask).",
        service: "iot.amazonaws.com",
        source_account: true,
        statements: vec![
            Stmt::allow(
                "ReadRegistrationInputs",
                &["s3:GetObject"],
                vec![under(bucket_arn, "/things/*"), under(bucket_arn, "/certificates/*")],
            ),
            Stmt::allow(
                "DecryptRegistrationInputs",
                &["kms:Decrypt"],
                vec![r("aws_kms_key.fleet.arn")],
            )
            .cond(
                "StringEquals",
                "kms:ViaService",
                vec![tpl([t("s3."), rf("var.region"), t(".amazonaws.com")])],
            ),
        ],
        max_session_seconds: None,
        managed: vec!["service-role/AWSIoTThingsRegistration"],
    }
    .write(cx.tf(FILE, PURPOSE));
    operator_policy(cx);
    cx.out(
        "bulk_registration",
        "What scripts/register-devices.sh needs: bucket, role, region, the tasks (input key, template, device count) and the certificate template.",
        tf::obj([
            ("bucket", r("aws_s3_bucket.registration.id")),
            ("role_arn", r("aws_iam_role.bulk_registration.arn")),
            ("region", r("var.region")),
            ("tasks", r("local.bulk_registration_tasks")),
            ("certificate_template", r("local.bulk_certificate_template")),
        ]),
    );
    cx.out(
        "bulk_registration_bucket",
        "S3 bucket of the bulk registration inputs (--input-file-bucket).",
        r("aws_s3_bucket.registration.id"),
    );
    cx.out(
        "bulk_registration_role_arn",
        "Role AWS IoT assumes for the bulk registration tasks (--role-arn).",
        r("aws_iam_role.bulk_registration.arn"),
    );
    cx.out(
        "bulk_certificate_template",
        "Provisioning template of the certificate task (scripts/register-devices.sh certificates).",
        r("local.bulk_certificate_template"),
    );
    cx.out(
        "bulk_registration_operator_policy_arn",
        "IAM policy for whoever runs scripts/register-devices.sh: start and watch the tasks, pass the role, upload certificate inputs.",
        r("aws_iam_policy.bulk_registration_operator.arn"),
    );
    let script = crate::blueprint::render(
        "aws/scripts/register-devices.sh.j2",
        json!({
            "stack": cx.prefix(),
            "tasks": tasks.iter().map(|t| json!({"name": t.name, "devices": t.count})).collect::<Vec<_>>(),
        }),
    )?;
    cx.text(
        "scripts/register-devices.sh",
        "Starts the bulk registration tasks one after the other, reports progress, saves the error and result reports.",
        script,
    );
    Ok(())
}

/// `"${path.module}/registry/bulk/${each.key}.jsonl"`: the input of the task `each.key`.
fn input_path() -> hcl::Expression {
    tpl([
        rf("path.module"),
        t("/registry/bulk/"),
        rf("each.key"),
        t(".jsonl"),
    ])
}

/// The policy for people and pipelines that run the registration script.
fn operator_policy(cx: &mut Ctx) {
    let f = cx.tf(FILE, PURPOSE);
    f.push(super::iam::document(
        "bulk_registration_operator",
        vec![
            Stmt::allow(
                "RunRegistrationTasks",
                &[
                    "iot:StartThingRegistrationTask",
                    "iot:DescribeThingRegistrationTask",
                    "iot:ListThingRegistrationTasks",
                    "iot:ListThingRegistrationTaskReports",
                    "iot:StopThingRegistrationTask",
                ],
                vec![lit("*")],
            ),
            Stmt::allow(
                "PassTheRegistrationRole",
                &["iam:PassRole"],
                vec![r("aws_iam_role.bulk_registration.arn")],
            )
            .cond(
                "StringEquals",
                "iam:PassedToService",
                vec![lit("iot.amazonaws.com")],
            ),
            Stmt::allow(
                "UploadCertificateInputs",
                &["s3:PutObject"],
                vec![under("aws_s3_bucket.registration.arn", "/certificates/*")],
            ),
            Stmt::allow(
                "EncryptCertificateInputs",
                &["kms:GenerateDataKey"],
                vec![r("aws_kms_key.fleet.arn")],
            )
            .cond(
                "StringEquals",
                "kms:ViaService",
                vec![tpl([t("s3."), rf("var.region"), t(".amazonaws.com")])],
            ),
        ],
    ));
    f.push(
        tf::resource("aws_iam_policy", "bulk_registration_operator")
            .skip(
                "CKV_AWS_355",
                "the thing registration task actions take no resource ARN; the role they pass and the objects they write are named exactly",
            )
            .attr("name", named("bulk-registration-operator"))
            .attr(
                "description",
                lit("Runs this stack's bulk registration tasks (scripts/register-devices.sh)"),
            )
            .attr(
                "policy",
                r("data.aws_iam_policy_document.bulk_registration_operator.json"),
            )
            .build(),
    );
}

/// The AWS CLI commands that run the bulk registration of `m`, from the AWS module's folder
/// `module` (what `fleetform bulk` prints); `None` unless the registry is registered in bulk.
pub fn commands(m: &Model, module: &str) -> Option<String> {
    use std::fmt::Write as _;
    if registration(m) != Registration::Bulk {
        return None;
    }
    let region = &m.aws.as_ref()?.region;
    let tasks = tasks(&m.fleet.registry);
    let dir = crate::blueprint::shell_quote(module);
    let file = |rel: &str| crate::blueprint::shell_quote(&format!("file://{module}/{rel}"));
    let mut s = String::new();
    let _ = write!(
        s,
        "# AWS ({region}): {} devices in {} bulk registration task(s), after `terraform apply`.\n# AWS IoT runs one task per account at a time: start each when the one before is Completed.\nbucket=$(terraform -chdir={dir} output -raw bulk_registration_bucket)\nrole=$(terraform -chdir={dir} output -raw bulk_registration_role_arn)\n",
        m.fleet.registry.len(),
        tasks.len(),
    );
    for t in &tasks {
        let _ = write!(
            s,
            "\n# {}: {} devices\ntask=$(aws iot start-thing-registration-task --region {region} --template-body {} --input-file-bucket \"$bucket\" --input-file-key {} --role-arn \"$role\" --query taskId --output text)\naws iot describe-thing-registration-task --region {region} --task-id \"$task\" --query '[status, percentageProgress, successCount, failureCount]' --output text\naws iot list-thing-registration-task-reports --region {region} --task-id \"$task\" --report-type ERRORS\naws iot list-thing-registration-task-reports --region {region} --task-id \"$task\" --report-type RESULTS\n",
            t.name,
            t.count,
            file(&t.template_path()),
            t.input_key(),
        );
    }
    let _ = write!(
        s,
        "\n# Certificates, once `fleetform certs device --spec <spec> --aws-bulk certificates.jsonl` wrote them:\naws s3api put-object --region {region} --bucket \"$bucket\" --key certificates/certificates.jsonl --body certificates.jsonl --server-side-encryption aws:kms\nterraform -chdir={dir} output -raw bulk_certificate_template > certificate-template.json\ntask=$(aws iot start-thing-registration-task --region {region} --template-body file://certificate-template.json --input-file-bucket \"$bucket\" --input-file-key certificates/certificates.jsonl --role-arn \"$role\" --query taskId --output text)\n"
    );
    Some(s)
}

/// Why the AWS stack registers none of `m`'s registry in bulk, for `fleetform bulk`.
pub fn why_not(m: &Model) -> Option<String> {
    let n = m.fleet.registry.len();
    match registration(m) {
        Registration::Terraform => Some(format!(
            "on AWS, Terraform registers the {n} devices (below `fleet.registry.bulk_threshold`, {})",
            m.fleet.bulk_threshold
        )),
        Registration::OnFirstConnection(_) => Some(
            "on AWS, the provisioning method registers each device on its first connection"
                .to_owned(),
        ),
        Registration::Empty | Registration::Bulk => None,
    }
}
