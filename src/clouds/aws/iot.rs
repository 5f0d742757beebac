//! AWS IoT Core: the registry (thing types, nested thing groups, pre-registered things), the
//! device policy, logging, fleet indexing, the credentials provider (role alias) and the
//! endpoints devices connect to.
//!
//! The device policy is the security boundary of the fleet, so it is built from the model's
//! topics with policy variables: a device connects only as its own thing name, publishes and
//! subscribes only on its own topics, and touches only its own shadow and jobs. Pre-registered
//! devices come from a data file the planner writes (`registry/devices.json`) through ONE
//! `for_each`, so a registry of 100,000 devices is one small block, not 100,000.

use hcl::Expression;
use hcl::expr::ForExpr;

use super::hcl::{BlockExt, rf, t, tpl, unique_labels};
use super::iam::{self, Role, Stmt};
use super::{Ctx, pipeline};
use crate::model::registry::DeviceRange;
use crate::model::topic::Topic;
use crate::model::{AwsLogLevel, CredentialGrant, RouteSource};
use crate::plan::tf::{self, lit, r};

const FILE: &str = "iot.tf";
const PURPOSE: &str = "AWS IoT Core: thing types and groups, the device policy, logging, indexing, role alias and endpoints.";

pub(super) fn plan(cx: &mut Ctx) {
    thing_types_and_groups(cx);
    registry(cx);
    device_policy(cx);
    logging(cx);
    indexing_and_events(cx);
    role_alias(cx);
    endpoints(cx);
}

fn thing_types_and_groups(cx: &mut Ctx) {
    let m = cx.m;
    if m.fleet.device_types.is_empty() && m.fleet.groups.is_empty() {
        return;
    }
    let (types, groups) = labels(cx);
    let f = cx.tf(FILE, PURPOSE);
    if !m.fleet.device_types.is_empty() {
        f.comment("Thing types. AWS IoT only deletes a type 5 minutes after it is deprecated, so removing one takes two applies.");
    }
    for ty in &m.fleet.device_types {
        f.push(
            tf::resource("aws_iot_thing_type", &types[&ty.name])
                .attr("name", lit(&ty.name))
                .child(
                    tf::block("properties")
                        .when(ty.description.is_some(), |b| {
                            b.attr(
                                "description",
                                lit(ty.description.clone().unwrap_or_default()),
                            )
                        })
                        .attr(
                            "searchable_attributes",
                            tf::strings(&ty.searchable_attributes),
                        )
                        .build(),
                )
                .build(),
        );
    }
    for g in &m.fleet.groups {
        f.push(
            tf::resource("aws_iot_thing_group", &groups[&g.name])
                .attr("name", lit(&g.name))
                .when(g.parent.is_some(), |b| {
                    let parent = g.parent.clone().unwrap_or_default();
                    b.attr(
                        "parent_group_name",
                        r(&format!(
                            "aws_iot_thing_group.{}.name",
                            groups.get(&parent).map_or("missing_parent", String::as_str)
                        )),
                    )
                })
                .when(g.description.is_some(), |b| {
                    b.child(
                        tf::block("properties")
                            .attr(
                                "description",
                                lit(g.description.clone().unwrap_or_default()),
                            )
                            .build(),
                    )
                })
                .build(),
        );
    }
    cx.out(
        "thing_group_names",
        "Thing groups of the fleet (parents first).",
        tf::strings(m.fleet.groups.iter().map(|g| &g.name)),
    );
}

/// Terraform labels of the thing types and groups, by name.
fn labels(
    cx: &Ctx,
) -> (
    std::collections::BTreeMap<String, String>,
    std::collections::BTreeMap<String, String>,
) {
    let f = &cx.m.fleet;
    (
        unique_labels("type", f.device_types.iter().map(|t| t.name.as_str())),
        unique_labels("group", f.groups.iter().map(|g| g.name.as_str())),
    )
}

/// Every thing type and group, for `depends_on` of things that reference them by name.
fn registry_dependencies(cx: &Ctx) -> Vec<Expression> {
    let (types, groups) = labels(cx);
    let f = &cx.m.fleet;
    f.device_types
        .iter()
        .map(|ty| r(&format!("aws_iot_thing_type.{}", types[&ty.name])))
        .chain(
            f.groups
                .iter()
                .map(|g| r(&format!("aws_iot_thing_group.{}", groups[&g.name]))),
        )
        .collect()
}

fn registry(cx: &mut Ctx) {
    let m = cx.m;
    if m.registry_shards > 0 {
        cx.fact("registry_shards", m.registry_shards);
        return;
    }
    // Bulk registration (bulk.rs) and methods that register devices on their first
    // connection need no per-device resources.
    if super::bulk::registration(m) != super::bulk::Registration::Terraform {
        return;
    }
    if m.fleet.registry.is_empty() {
        return;
    }
    let deps = registry_dependencies(cx);
    registry_resources(cx, &DeviceRange::all(&m.fleet.registry), deps);
}

/// The registry data file and the things (and group memberships) from it, with one
/// `for_each`. Used by the main stack and by registry shard stacks.
pub(super) fn registry_resources(cx: &mut Ctx, devices: &DeviceRange, deps: Vec<Expression>) {
    cx.stream(
        "registry/devices.json",
        "The pre-registered devices (id, type, groups, attributes), read by registry.tf.",
        std::sync::Arc::new(DevicesJson(devices.clone())),
    );
    cx.fact("registry_devices", devices.len());
    // [for id, d in local.registry : [for g in d.groups : { key = "id/g", thing = id, group = g }]]
    let inner = tf::for_list(
        "group",
        r("device.groups"),
        tf::obj([
            ("key", tpl([rf("id"), t("/"), rf("group")])),
            ("thing", r("id")),
            ("group", r("group")),
        ]),
    );
    let outer = Expression::ForExpr(Box::new(
        ForExpr::new(tf::ident("device"), r("local.registry"), inner).with_key_var(tf::ident("id")),
    ));
    let memberships = tf::for_object(
        "_",
        "pair",
        tf::call("flatten", [outer]),
        r("pair.key"),
        r("pair"),
    );
    let memberships = match memberships {
        Expression::ForExpr(fe) => {
            let mut fe = *fe;
            fe.key_var = None;
            Expression::ForExpr(Box::new(fe))
        }
        other => other,
    };
    let f = cx.tf(
        "registry.tf",
        "Pre-registered things from registry/devices.json, with one for_each (no block per device).",
    );
    f.push(
        tf::block("locals")
            .note("Devices registered up front, keyed by thing name; written by fleetform from the spec's registry.")
            .attr(
                "registry",
                tf::call(
                    "jsondecode",
                    [tf::call("file", [super::hcl::module_path("registry/devices.json")])],
                ),
            )
            .note("One entry per (device, group) pair, keyed \"device/group\".")
            .attr("registry_memberships", memberships)
            .build(),
    );
    f.push(
        tf::resource("aws_iot_thing", "registry")
            .attr("for_each", r("local.registry"))
            .attr("name", r("each.key"))
            .attr("thing_type_name", r("each.value.type"))
            .attr("attributes", r("each.value.attributes"))
            .when(!deps.is_empty(), |b| {
                b.attr("depends_on", tf::list(deps.clone()))
            })
            .build(),
    );
    if devices.any_groups() {
        f.push(
            tf::resource("aws_iot_thing_group_membership", "registry")
                .attr("for_each", r("local.registry_memberships"))
                .attr(
                    "thing_name",
                    tf::r_index("aws_iot_thing.registry", r("each.value.thing"), &["name"]),
                )
                .attr("thing_group_name", r("each.value.group"))
                .when(!deps.is_empty(), |b| b.attr("depends_on", tf::list(deps)))
                .build(),
        );
    }
}

/// `registry/devices.json`: one device per line, so a registry change is a one-line diff, and
/// written straight from the registry as a stream, so a million devices take well under a
/// second and never sit in memory as text.
#[derive(Debug)]
struct DevicesJson(DeviceRange);

impl crate::plan::Streamed for DevicesJson {
    fn write_to(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        use crate::emit::jsonl;
        out.write_all(b"{\n")?;
        let mut line = Vec::with_capacity(256);
        let last = self.0.len().saturating_sub(1);
        for (i, d) in self.0.iter().enumerate() {
            line.clear();
            line.extend_from_slice(b"  ");
            jsonl::push_str(&mut line, d.id());
            line.extend_from_slice(b": {\"type\":");
            match d.device_type() {
                Some(t) => jsonl::push_str(&mut line, t),
                None => line.extend_from_slice(b"null"),
            }
            line.extend_from_slice(b",\"groups\":");
            jsonl::push_array(&mut line, d.groups());
            line.extend_from_slice(b",\"attributes\":");
            jsonl::push_object(&mut line, d.attributes());
            line.push(b'}');
            if i != last {
                line.push(b',');
            }
            line.push(b'\n');
            out.write_all(&line)?;
        }
        out.write_all(b"}\n")
    }
}

/// The topics a device may publish to, in IoT policy form, one per rule for Basic Ingest.
fn publish_topics(cx: &Ctx) -> Vec<String> {
    let m = cx.m;
    let mut topics: Vec<String> = m.access.publish.iter().map(Topic::aws_policy).collect();
    if cx.aws.basic_ingest {
        let telemetry = m.messaging.telemetry_topic.aws_policy();
        for rule in pipeline::telemetry_rule_names(cx) {
            topics.push(format!("$aws/rules/{rule}/{telemetry}"));
        }
    }
    topics
}

fn device_policy(cx: &mut Ctx) {
    let m = cx.m;
    let flags = cx.flags;
    let publish = publish_topics(cx);
    let subscribe: Vec<String> = m.access.subscribe.iter().map(Topic::aws_policy).collect();
    let topic_arns = |local: &str, kind: &'static str| {
        tf::for_list(
            "topic",
            r(local),
            tpl([rf("local.iot_arn"), t(format!(":{kind}/")), rf("topic")]),
        )
    };
    let own = |kind: &str, rest: &str| {
        tpl([
            rf("local.iot_arn"),
            t(format!(":{kind}/$aws/things/")),
            rf("local.thing_name"),
            t(rest),
        ])
    };
    let mut stmts = vec![
        Stmt::allow(
            "ConnectAsOwnThingOnly",
            &["iot:Connect"],
            vec![tpl([
                rf("local.iot_arn"),
                t(":client/"),
                rf("local.thing_name"),
            ])],
        )
        .cond("Bool", "iot:Connection.Thing.IsAttached", vec![lit("true")]),
        Stmt::allow_each(
            "PublishOwnTopics",
            &["iot:Publish"],
            topic_arns("local.device_publish_topics", "topic"),
        ),
    ];
    if !subscribe.is_empty() {
        stmts.push(Stmt::allow_each(
            "SubscribeOwnTopics",
            &["iot:Subscribe"],
            topic_arns("local.device_subscribe_filters", "topicfilter"),
        ));
        stmts.push(Stmt::allow_each(
            "ReceiveOwnTopics",
            &["iot:Receive"],
            topic_arns("local.device_subscribe_filters", "topic"),
        ));
    }
    if flags.shadow {
        stmts.push(Stmt::allow(
            "OwnShadow",
            &["iot:Publish", "iot:Receive"],
            vec![own("topic", "/shadow/*")],
        ));
        stmts.push(Stmt::allow(
            "OwnShadowSubscribe",
            &["iot:Subscribe"],
            vec![own("topicfilter", "/shadow/*")],
        ));
    }
    if flags.ota {
        stmts.push(Stmt::allow(
            "OwnJobs",
            &["iot:Publish", "iot:Receive"],
            vec![own("topic", "/jobs/*")],
        ));
        stmts.push(Stmt::allow(
            "OwnJobsSubscribe",
            &["iot:Subscribe"],
            vec![own("topicfilter", "/jobs/*")],
        ));
    }
    if flags.role_alias {
        stmts.push(Stmt::allow(
            "CloudCredentials",
            &["iot:AssumeRoleWithCertificate"],
            vec![r("aws_iot_role_alias.devices.arn")],
        ));
    }
    let policy_name = format!("{}-device", cx.prefix());
    cx.fact("device_policy", &policy_name);
    cx.fact("publish_topics", &publish);
    cx.fact("subscribe_filters", &subscribe);
    let f = cx.tf(FILE, PURPOSE);
    f.push(
        tf::block("locals")
            .note(
                "Topics each device may publish to and subscribe to, with AWS IoT policy variables",
            )
            .note("(written $${iot:...} so that Terraform leaves them to AWS IoT).")
            .attr("device_publish_topics", tf::strings(&publish))
            .attr("device_subscribe_filters", tf::strings(&subscribe))
            .build(),
    );
    f.push(iam::document("device_policy", stmts));
    f.comment(
        "The one policy every device certificate carries: each device acts only as its own thing.",
    );
    f.comment("AWS IoT keeps at most 5 versions of a policy; after 5 changes delete old versions (aws iot delete-policy-version).");
    f.push(
        tf::resource("aws_iot_policy", "device")
            .attr("name", lit(&policy_name))
            .attr(
                "policy",
                r("data.aws_iam_policy_document.device_policy.json"),
            )
            .build(),
    );
    cx.out(
        "device_policy_name",
        "IoT policy attached to every device certificate.",
        r("aws_iot_policy.device.name"),
    );
}

fn logging(cx: &mut Ctx) {
    let level = match cx.aws.log_level {
        AwsLogLevel::Debug => "DEBUG",
        AwsLogLevel::Info => "INFO",
        AwsLogLevel::Warn => "WARN",
        AwsLogLevel::Error => "ERROR",
        AwsLogLevel::Disabled => "DISABLED",
    };
    let days = cx.m.monitoring.log_retention_days;
    let iot_logs_arn = tpl([
        rf("local.arn_prefix"),
        t("logs:"),
        rf("var.region"),
        t(":"),
        rf("local.account_id"),
        t(":log-group:AWSIoTLogsV2:*"),
    ]);
    let f = cx.tf(FILE, PURPOSE);
    f.comment("AWS IoT logs to the account-wide AWSIoTLogsV2 group. Account-wide settings are managed only when");
    f.comment("var.manage_account_iot_settings is true (import an existing group: terraform import 'aws_cloudwatch_log_group.iot[0]' AWSIoTLogsV2).");
    f.push(
        tf::resource("aws_cloudwatch_log_group", "iot")
            .when(days < 365, |b| {
                b.skip(
                    "CKV_AWS_338",
                    &format!("retention is monitoring.log_retention_days from the spec ({days} days), chosen for cost"),
                )
            })
            .attr("count", manage())
            .attr("name", lit("AWSIoTLogsV2"))
            .attr("retention_in_days", tf::num(days))
            .attr("kms_key_id", r("aws_kms_key.fleet.arn"))
            .build(),
    );
    Role {
        label: "iot_logging",
        name: "iot-logging",
        description: "Lets AWS IoT write its logs to CloudWatch Logs.",
        service: "iot.amazonaws.com",
        source_account: true,
        statements: vec![Stmt::allow(
            "WriteIotLogs",
            &[
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "logs:PutMetricFilter",
                "logs:PutRetentionPolicy",
            ],
            vec![iot_logs_arn],
        )],
        max_session_seconds: None,
        managed: Vec::new(),
    }
    .write(f);
    f.push(
        tf::resource("aws_iot_logging_options", "this")
            .attr("count", manage())
            .attr("default_log_level", lit(level))
            .attr("disable_all_logs", tf::boolean(level == "DISABLED"))
            .attr("role_arn", r("aws_iam_role.iot_logging.arn"))
            .attr(
                "depends_on",
                tf::list([
                    r("aws_iam_role_policy.iot_logging"),
                    r("aws_cloudwatch_log_group.iot"),
                ]),
            )
            .build(),
    );
}

/// `var.manage_account_iot_settings ? 1 : 0`.
fn manage() -> Expression {
    tf::cond(r("var.manage_account_iot_settings"), tf::num(1), tf::num(0))
}

fn indexing_and_events(cx: &mut Ctx) {
    let shadow = cx.flags.shadow;
    let lifecycle_routes =
        cx.m.routes
            .iter()
            .any(|r| r.source == RouteSource::Lifecycle);
    if cx.aws.fleet_indexing {
        let f = cx.tf(FILE, PURPOSE);
        f.comment(
            "Fleet indexing (account-wide): search things by attributes, connectivity and shadow.",
        );
        f.push(
            tf::resource("aws_iot_indexing_configuration", "this")
                .attr("count", manage())
                .child(
                    tf::block("thing_indexing_configuration")
                        .attr(
                            "thing_indexing_mode",
                            lit(if shadow {
                                "REGISTRY_AND_SHADOW"
                            } else {
                                "REGISTRY"
                            }),
                        )
                        .attr("thing_connectivity_indexing_mode", lit("STATUS"))
                        .build(),
                )
                .child(
                    tf::block("thing_group_indexing_configuration")
                        .attr("thing_group_indexing_mode", lit("ON"))
                        .build(),
                )
                .build(),
        );
    }
    if lifecycle_routes {
        let f = cx.tf(FILE, PURPOSE);
        f.comment(
            "Registry events ($aws/events/thing/...) feed the lifecycle route (account-wide).",
        );
        f.push(
            tf::resource("aws_iot_event_configurations", "this")
                .attr("count", manage())
                .attr(
                    "event_configurations",
                    tf::obj([
                        ("THING", tf::boolean(true)),
                        ("THING_GROUP_MEMBERSHIP", tf::boolean(true)),
                    ]),
                )
                .build(),
        );
    }
}

fn role_alias(cx: &mut Ctx) {
    let Some(creds) = cx.m.access.cloud_credentials.clone() else {
        return;
    };
    let flags = cx.flags;
    let mut stmts = Vec::new();
    for grant in &creds.grants {
        match grant {
            CredentialGrant::FirmwareRead if flags.ota => {
                stmts.push(Stmt::allow(
                    "ReadFirmware",
                    &["s3:GetObject"],
                    vec![super::hcl::under("aws_s3_bucket.firmware.arn", "/*")],
                ));
                stmts.push(Stmt::allow(
                    "DecryptFirmware",
                    &["kms:Decrypt"],
                    vec![r("aws_kms_key.fleet.arn")],
                ));
            }
            CredentialGrant::ArchiveUpload if flags.archive => {
                stmts.push(Stmt::allow(
                    "UploadUnderOwnPrefix",
                    &["s3:PutObject"],
                    vec![tpl([
                        rf("aws_s3_bucket.archive.arn"),
                        t("/uploads/"),
                        rf("local.credentials_thing_name"),
                        t("/*"),
                    ])],
                ));
                if flags.archive_cmk {
                    stmts.push(Stmt::allow(
                        "EncryptUploads",
                        &["kms:GenerateDataKey"],
                        vec![r("aws_kms_key.fleet.arn")],
                    ));
                }
            }
            CredentialGrant::StateRead if flags.state_table => {
                stmts.push(
                    Stmt::allow(
                        "ReadOwnStateItem",
                        &["dynamodb:GetItem"],
                        vec![r("aws_dynamodb_table.state.arn")],
                    )
                    .cond(
                        "ForAllValues:StringEquals",
                        "dynamodb:LeadingKeys",
                        vec![r("local.credentials_thing_name")],
                    ),
                );
                stmts.push(Stmt::allow(
                    "DecryptState",
                    &["kms:Decrypt"],
                    vec![r("aws_kms_key.fleet.arn")],
                ));
            }
            _ => {}
        }
    }
    let f = cx.tf(FILE, PURPOSE);
    f.comment("Temporary AWS credentials for devices (credentials provider): a device presents its certificate");
    f.comment("to the credentials endpoint and gets this role's permissions, scoped to its own thing name.");
    Role {
        label: "device_credentials",
        name: "device-credentials",
        description: "Assumed by devices through the AWS IoT credentials provider (role alias).",
        service: "credentials.iot.amazonaws.com",
        source_account: false,
        statements: stmts,
        max_session_seconds: Some(creds.duration_seconds),
        managed: Vec::new(),
    }
    .write(f);
    f.push(
        tf::resource("aws_iot_role_alias", "devices")
            .attr("alias", lit(&creds.role_alias))
            .attr("role_arn", r("aws_iam_role.device_credentials.arn"))
            .attr("credential_duration", tf::num(creds.duration_seconds))
            .build(),
    );
    cx.fact("role_alias", &creds.role_alias);
    cx.out(
        "role_alias",
        "Role alias devices name when they ask the credentials endpoint for AWS credentials.",
        r("aws_iot_role_alias.devices.alias"),
    );
}

fn endpoints(cx: &mut Ctx) {
    let role_alias = cx.flags.role_alias;
    let f = cx.tf(FILE, PURPOSE);
    f.push(
        tf::data("aws_iot_endpoint", "data")
            .attr("endpoint_type", lit("iot:Data-ATS"))
            .build(),
    );
    if role_alias {
        f.push(
            tf::data("aws_iot_endpoint", "credentials")
                .attr("endpoint_type", lit("iot:CredentialProvider"))
                .build(),
        );
    }
    cx.out(
        "iot_data_endpoint",
        "MQTT endpoint devices connect to (port 8883, or 443 with ALPN x-amzn-mqtt-ca).",
        r("data.aws_iot_endpoint.data.endpoint_address"),
    );
    if role_alias {
        cx.out(
            "iot_credentials_endpoint",
            "Credentials provider endpoint: https://<endpoint>/role-aliases/<alias>/credentials with the device certificate.",
            r("data.aws_iot_endpoint.credentials.endpoint_address"),
        );
    }
}
