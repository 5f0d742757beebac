//! AWS IoT Core: the registry (thing types, nested thing groups, pre-registered things), the
//! device policy, logging, fleet indexing, the credentials provider (role alias) and the
//! endpoints devices connect to.
//!
//! The device policy is the security boundary of the fleet, so it is built from the model's
//! topics with policy variables: a device connects only as its own thing name, publishes and
//! subscribes only on its own topics, and touches only its own shadow and jobs. Pre-registered
//! devices come from a data file the planner writes (`registry/devices.json`) through ONE
//! `for_each`, so a registry of 100,000 devices is one small block, not 100,000.
//!
//! A little over 600 lines: every IoT Core resource a device touches is here, one function
//! each (registry, policy, logging, indexing and events, role alias, endpoints); how
//! certificates become things is in `provisioning.rs` and `fleet.rs`.

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
    let (type_names, group_names) = iot_names(cx);
    let f = cx.tf(FILE, PURPOSE);
    if !m.fleet.device_types.is_empty() {
        f.comment("Thing types. AWS IoT only deletes a type 5 minutes after it is deprecated, so removing one takes two applies.");
    }
    for ty in &m.fleet.device_types {
        f.push(
            tf::resource("aws_iot_thing_type", &types[&ty.name])
                .attr("name", lit(&type_names[&ty.name]))
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
                .attr("name", lit(&group_names[&g.name]))
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
        tf::strings(m.fleet.groups.iter().map(|g| &group_names[&g.name])),
    );
}

/// AWS IoT names of the thing types and groups, by spec name. Both are one namespace per
/// account and region, so each environment's carry its prefix.
pub(super) fn iot_names(
    cx: &Ctx,
) -> (
    std::collections::BTreeMap<String, String>,
    std::collections::BTreeMap<String, String>,
) {
    let f = &cx.m.fleet;
    (
        f.device_types
            .iter()
            .map(|t| (t.name.clone(), cx.thing_type_name(&t.name)))
            .collect(),
        f.groups
            .iter()
            .map(|g| (g.name.clone(), cx.thing_group_name(&g.name)))
            .collect(),
    )
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
    let mut deps = registry_dependencies(cx);
    let fleet_group = super::ota::fleet_group(cx);
    if fleet_group.is_some() {
        deps.push(r("aws_iot_thing_group.fleet"));
    }
    registry_resources(
        cx,
        &DeviceRange::all(&m.fleet.registry),
        deps,
        fleet_group.as_deref(),
    );
}

/// The registry data file and the things (and group memberships) from it, with one
/// `for_each`. Used by the main stack and by registry shard stacks.
/// `fleet_group`: a thing group every device joins besides its own (OTA's target).
pub(super) fn registry_resources(
    cx: &mut Ctx,
    devices: &DeviceRange,
    deps: Vec<Expression>,
    fleet_group: Option<&str>,
) {
    let (types, groups) = iot_names(cx);
    cx.stream(
        "registry/devices.json",
        "The pre-registered devices (id, type, groups, attributes), read by registry.tf.",
        std::sync::Arc::new(DevicesJson {
            devices: devices.clone(),
            types,
            groups,
        }),
    );
    cx.fact("registry_devices", devices.len());
    // [for id, d in local.registry : [for g in d.groups : { key = "id/g", thing = id, group = g }]]
    let groups = match fleet_group {
        Some(g) => tf::call("concat", [r("device.groups"), tf::strings([g])]),
        None => r("device.groups"),
    };
    let inner = tf::for_list(
        "group",
        groups,
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
    registry_intent(cx, devices, fleet_group);
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
    if devices.any_groups() || fleet_group.is_some() {
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

/// Registries larger than this are planned by the shipped tests through a sample (the first
/// and the last device): each instance costs a plan tens of milliseconds and megabytes, so
/// a shard of 1,000 devices would take minutes per run.
const REGISTRY_PLAN_SAMPLE_ABOVE: usize = 50;

/// The registry as the tests see it: its size (from the data file the `for_each` reads),
/// and each device's thing, type, attributes and groups (every device, or a sample).
fn registry_intent(cx: &mut Ctx, devices: &DeviceRange, fleet_group: Option<&str>) {
    use crate::plan::intent::{eq, length};
    cx.intent.assert(
        "fleet.registry",
        format!("{} pre-registered things", devices.len()),
        eq(length(r("local.registry")), tf::num(devices.len() as u64)),
    );
    let sample: Vec<crate::model::registry::Device<'_>> =
        if devices.len() > REGISTRY_PLAN_SAMPLE_ABOVE {
            devices.first().into_iter().chain(devices.last()).collect()
        } else {
            devices.iter().collect()
        };
    let thing = |id: &str, attr: &str| tf::r_index("aws_iot_thing.registry", lit(id), &[attr]);
    let mut targets = Vec::new();
    for d in &sample {
        let id = d.id();
        let mut checks = vec![(thing(id, "name"), lit(id))];
        if let Some(ty) = d.device_type() {
            checks.push((thing(id, "thing_type_name"), lit(cx.thing_type_name(ty))));
        }
        if d.attributes().len() > 0 {
            checks.push((
                thing(id, "attributes"),
                tf::call("tomap", [tf::obj(d.attributes().map(|(k, v)| (k, lit(v))))]),
            ));
        }
        let spec_groups = d.groups().map(|g| cx.thing_group_name(g));
        for group in spec_groups.chain(fleet_group.map(str::to_owned)) {
            let key = format!("{id}/{group}");
            checks.push((
                tf::r_index(
                    "aws_iot_thing_group_membership.registry",
                    lit(&key),
                    &["thing_group_name"],
                ),
                lit(group),
            ));
            targets.push(tf::r_index(
                "aws_iot_thing_group_membership.registry",
                lit(&key),
                &[],
            ));
        }
        targets.push(tf::r_index("aws_iot_thing.registry", lit(id), &[]));
        let groups: Vec<&str> = d.groups().collect();
        cx.intent.assert(
            "fleet.registry",
            format!(
                "thing `{id}`{}{}",
                d.device_type()
                    .map_or(String::new(), |t| format!(" of type `{t}`")),
                if groups.is_empty() {
                    String::new()
                } else {
                    format!(" in {}", groups.join(", "))
                }
            ),
            super::intent::eq_all(checks),
        );
    }
    if devices.len() > REGISTRY_PLAN_SAMPLE_ABOVE {
        cx.intent.plan_only(
            targets,
            &format!(
                "{} devices: the runs plan the first and the last; planning every one would take minutes.",
                devices.len()
            ),
        );
    }
}

/// `registry/devices.json`: one device per line, so a registry change is a one-line diff, and
/// written straight from the registry as a stream, so a million devices take well under a
/// second and never sit in memory as text. Types and groups are their AWS IoT names (with
/// the environment's prefix).
#[derive(Debug)]
struct DevicesJson {
    devices: DeviceRange,
    /// Spec name to AWS IoT name, for thing types and for thing groups.
    types: std::collections::BTreeMap<String, String>,
    groups: std::collections::BTreeMap<String, String>,
}

impl crate::plan::Streamed for DevicesJson {
    fn write_to(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        use crate::emit::jsonl;
        fn aws<'a>(names: &'a std::collections::BTreeMap<String, String>, n: &'a str) -> &'a str {
            names.get(n).map_or(n, String::as_str)
        }
        out.write_all(b"{\n")?;
        let mut line = Vec::with_capacity(256);
        let mut groups: Vec<&str> = Vec::new();
        let last = self.devices.len().saturating_sub(1);
        for (i, d) in self.devices.iter().enumerate() {
            line.clear();
            line.extend_from_slice(b"  ");
            jsonl::push_str(&mut line, d.id());
            line.extend_from_slice(b": {\"type\":");
            match d.device_type() {
                Some(t) => jsonl::push_str(&mut line, aws(&self.types, t)),
                None => line.extend_from_slice(b"null"),
            }
            line.extend_from_slice(b",\"groups\":");
            groups.clear();
            groups.extend(d.groups().map(|g| aws(&self.groups, g)));
            jsonl::push_array(&mut line, groups.iter().copied());
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
    // Each statement with the spec key it serves and its resources as the plan must show
    // them, policy variables and all (`None`: computed at apply).
    let arn = super::intent::iot_arn(cx);
    let thing = "${iot:Connection.Thing.ThingName}";
    let own_arn = |kind: &str, rest: &str| vec![format!("{arn}:{kind}/$aws/things/{thing}{rest}")];
    let arns = |kind: &str, topics: &[String]| -> Vec<String> {
        topics.iter().map(|p| format!("{arn}:{kind}/{p}")).collect()
    };
    let mut stmts: Vec<(&str, Stmt, Option<Vec<String>>)> = vec![
        (
            "authorization.device",
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
            Some(vec![format!("{arn}:client/{thing}")]),
        ),
        (
            "authorization.device.publish",
            Stmt::allow_each(
                "PublishOwnTopics",
                &["iot:Publish"],
                topic_arns("local.device_publish_topics", "topic"),
            ),
            Some(arns("topic", &publish)),
        ),
    ];
    if !subscribe.is_empty() {
        stmts.push((
            "authorization.device.subscribe",
            Stmt::allow_each(
                "SubscribeOwnTopics",
                &["iot:Subscribe"],
                topic_arns("local.device_subscribe_filters", "topicfilter"),
            ),
            Some(arns("topicfilter", &subscribe)),
        ));
        stmts.push((
            "authorization.device.subscribe",
            Stmt::allow_each(
                "ReceiveOwnTopics",
                &["iot:Receive"],
                topic_arns("local.device_subscribe_filters", "topic"),
            ),
            Some(arns("topic", &subscribe)),
        ));
    }
    if flags.shadow {
        stmts.push((
            "messaging.state",
            Stmt::allow(
                "OwnShadow",
                &["iot:Publish", "iot:Receive"],
                vec![own("topic", "/shadow/*")],
            ),
            Some(own_arn("topic", "/shadow/*")),
        ));
        stmts.push((
            "messaging.state",
            Stmt::allow(
                "OwnShadowSubscribe",
                &["iot:Subscribe"],
                vec![own("topicfilter", "/shadow/*")],
            ),
            Some(own_arn("topicfilter", "/shadow/*")),
        ));
    }
    if flags.ota {
        stmts.push((
            "pipeline.ota",
            Stmt::allow(
                "OwnJobs",
                &["iot:Publish", "iot:Receive"],
                vec![own("topic", "/jobs/*")],
            ),
            Some(own_arn("topic", "/jobs/*")),
        ));
        stmts.push((
            "pipeline.ota",
            Stmt::allow(
                "OwnJobsSubscribe",
                &["iot:Subscribe"],
                vec![own("topicfilter", "/jobs/*")],
            ),
            Some(own_arn("topicfilter", "/jobs/*")),
        ));
    }
    if flags.role_alias {
        stmts.push((
            "authorization.cloud_credentials",
            Stmt::allow(
                "CloudCredentials",
                &["iot:AssumeRoleWithCertificate"],
                vec![r("aws_iot_role_alias.devices.arn")],
            ),
            None,
        ));
    }
    cx.intent.assert(
        "authorization",
        format!("a device policy of exactly {} statements", stmts.len()),
        crate::plan::intent::eq(
            crate::plan::intent::length(r("data.aws_iam_policy_document.device_policy.statement")),
            tf::num(stmts.len() as u64),
        ),
    );
    for (key, stmt, resources) in &stmts {
        super::intent::statement(cx, key, "device_policy", stmt, resources.as_deref());
    }
    let stmts: Vec<Stmt> = stmts.into_iter().map(|(_, s, _)| s).collect();
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
    f.comment("AWS IoT keeps at most 5 versions of a policy; the provider deletes the oldest before it adds a sixth.");
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
    super::intent::log_retention(cx, "iot", days);
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
        name: super::hcl::named("iot-logging"),
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

/// Device credentials use the stack key only through S3, for objects of one bucket: the
/// encryption context S3 passes to KMS is the bucket's ARN with an S3 Bucket Key (the
/// stack's buckets enable it), the object's ARN for objects written before.
fn via_s3(stmt: Stmt, bucket_arn: &str) -> Stmt {
    stmt.cond(
        "StringEquals",
        "kms:ViaService",
        vec![tpl([t("s3."), rf("var.region"), t(".amazonaws.com")])],
    )
    .cond(
        "StringLike",
        "kms:EncryptionContext:aws:s3:arn",
        vec![r(bucket_arn), super::hcl::under(bucket_arn, "/*")],
    )
}

fn role_alias(cx: &mut Ctx) {
    let Some(creds) = cx.m.access.cloud_credentials.clone() else {
        return;
    };
    let flags = cx.flags;
    // Role aliases are one namespace per account and region: each environment has its own.
    let alias = cx.name_text(&creds.role_alias, super::names::IOT_NAME);
    let mut stmts = Vec::new();
    for grant in &creds.grants {
        match grant {
            CredentialGrant::FirmwareRead if flags.ota => {
                stmts.push(Stmt::allow(
                    "ReadFirmware",
                    &["s3:GetObject"],
                    vec![super::hcl::under("aws_s3_bucket.firmware.arn", "/*")],
                ));
                stmts.push(via_s3(
                    Stmt::allow(
                        "DecryptFirmware",
                        &["kms:Decrypt"],
                        vec![r("aws_kms_key.fleet.arn")],
                    ),
                    "aws_s3_bucket.firmware.arn",
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
                    stmts.push(via_s3(
                        Stmt::allow(
                            "EncryptUploads",
                            &["kms:GenerateDataKey"],
                            vec![r("aws_kms_key.fleet.arn")],
                        ),
                        "aws_s3_bucket.archive.arn",
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
                stmts.push(
                    Stmt::allow(
                        "DecryptState",
                        &["kms:Decrypt"],
                        vec![r("aws_kms_key.fleet.arn")],
                    )
                    .cond(
                        "StringEquals",
                        "kms:ViaService",
                        vec![tpl([t("dynamodb."), rf("var.region"), t(".amazonaws.com")])],
                    )
                    .cond(
                        "StringEquals",
                        "kms:EncryptionContext:aws:dynamodb:tableName",
                        vec![r("aws_dynamodb_table.state.name")],
                    ),
                );
            }
            _ => {}
        }
    }
    let f = cx.tf(FILE, PURPOSE);
    f.comment("Temporary AWS credentials for devices (credentials provider): a device presents its certificate");
    f.comment("to the credentials endpoint and gets this role's permissions, scoped to its own thing name.");
    Role {
        label: "device_credentials",
        name: super::hcl::named("device-credentials"),
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
            .attr("alias", lit(&alias))
            .attr("role_arn", r("aws_iam_role.device_credentials.arn"))
            .attr("credential_duration", tf::num(creds.duration_seconds))
            .build(),
    );
    cx.fact("role_alias", &alias);
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
