//! The device fleet analytics pipeline: topic rules from the model's routes into Kinesis Data
//! Streams and/or Firehose, and the DynamoDB latest-state writes.
//!
//! Every rule is `SELECT *, <device> AS device_id, timestamp() AS received_at FROM '<filter>'
//! WHERE <condition>` with SQL 2016-03-23 and an error action into an encrypted log group, so
//! a failing action is visible (and alarmed) instead of silently dropping telemetry. The
//! Kinesis shard count comes from the model's capacity math (1 MiB/s and 1,000 records/s per
//! shard), so Terraform and `fleetform cost` agree. Firehose lands newline-delimited JSON,
//! GZIP-compressed, dynamically partitioned by day and device under `raw/`, which is the
//! layout the Glue table in `analytics.tf` projects.

use hcl::Block;

use super::hcl::{BlockExt, named, rf, t, tpl, under};
use super::iam::{Role, Stmt};
use super::intent::eq_all;
use super::{Ctx, Flags};
use crate::model::condition::Dialect;
use crate::model::{Destination, KinesisCapacity, Route, RouteSource};
use crate::plan::intent::{eq, length};
use crate::plan::tf::{self, lit, r};

const FILE: &str = "pipeline.tf";
const PURPOSE: &str =
    "The telemetry pipeline: IoT topic rules, Kinesis Data Streams and Firehose into the archive.";

/// Firehose prefix for small fleets: day first, then device, so fleet-wide queries prune by
/// day and device queries by both.
pub(super) const FIREHOSE_PREFIX: &str =
    "raw/!{timestamp:yyyy/MM/dd}/!{partitionKeyFromQuery:device_id}/";
/// Firehose prefix for larger fleets: day, then the hour the rule received the message.
pub(super) const FIREHOSE_PREFIX_HOURLY: &str =
    "raw/!{timestamp:yyyy/MM/dd}/!{partitionKeyFromQuery:hour}/";

fn firehose_prefix(by_device: bool) -> &'static str {
    if by_device {
        FIREHOSE_PREFIX
    } else {
        FIREHOSE_PREFIX_HOURLY
    }
}
const FIREHOSE_ERROR_PREFIX: &str = "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/";

/// Name of a route's topic rule (IoT rule names allow no `-`).
pub(super) fn route_rule_name(cx: &Ctx, route: &str) -> String {
    format!("{}_{route}", cx.prefix_underscored())
}

/// Name of an alert's topic rule.
pub(super) fn alert_rule_name(cx: &Ctx, alert: &str) -> String {
    format!("{}_alert_{alert}", cx.prefix_underscored())
}

/// Rules that read device telemetry (routes and alerts): the Basic Ingest targets.
pub(super) fn telemetry_rule_names(cx: &Ctx) -> Vec<String> {
    cx.m.routes
        .iter()
        .filter(|r| r.source == RouteSource::Telemetry)
        .map(|r| route_rule_name(cx, &r.name))
        .chain(
            cx.m.alerts
                .iter()
                .map(|a| alert_rule_name(cx, &a.cloud_name)),
        )
        .collect()
}

/// The topic filter and the expression of the device id for a route source.
pub(super) fn source(cx: &Ctx, source: RouteSource) -> (String, String) {
    match source {
        RouteSource::Telemetry => {
            let topic = &cx.m.messaging.telemetry_topic;
            let device = topic
                .device_id_level()
                .map_or_else(|| "clientid()".to_owned(), |i| format!("topic({})", i + 1));
            (topic.filter(), device)
        }
        RouteSource::StateChanges => (
            "$aws/things/+/shadow/update/documents".to_owned(),
            "topic(3)".to_owned(),
        ),
        RouteSource::Lifecycle => ("$aws/events/thing/+/+".to_owned(), "topic(4)".to_owned()),
        RouteSource::ConnectionState => {
            ("$aws/events/presence/+/+".to_owned(), "topic(5)".to_owned())
        }
    }
}

/// `SELECT *, ... FROM '<filter>' [WHERE ...]`.
pub(super) fn sql(
    cx: &Ctx,
    source_kind: RouteSource,
    condition: Option<&crate::model::condition::Expr>,
) -> String {
    let (filter, device) = source(cx, source_kind);
    let mut sql =
        format!("SELECT *, {device} AS device_id, timestamp() AS received_at FROM '{filter}'");
    if let Some(c) = condition {
        sql.push_str(" WHERE ");
        sql.push_str(&c.render(Dialect::AwsIotSql));
    }
    sql
}

/// The error action every rule carries.
pub(super) fn error_action() -> Block {
    tf::block("error_action")
        .child(
            tf::block("cloudwatch_logs")
                .attr(
                    "log_group_name",
                    r("aws_cloudwatch_log_group.rule_errors.name"),
                )
                .attr("role_arn", r("aws_iam_role.iot_rules.arn"))
                .build(),
        )
        .build()
}

/// What a route's destination becomes: the action its IoT topic rule carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Action {
    /// `kinesis`: a put to the Kinesis data stream.
    Kinesis,
    /// `firehose`: a put to the Firehose delivery stream into the archive.
    Firehose,
    /// `dynamodbv2`: the latest state into the DynamoDB table.
    State,
}

impl Action {
    /// The rule's action block.
    pub(crate) fn block_name(self) -> &'static str {
        match self {
            Action::Kinesis => "kinesis",
            Action::Firehose => "firehose",
            Action::State => "dynamodbv2",
        }
    }

    /// What the action delivers to, in words.
    pub(crate) fn words(self) -> &'static str {
        match self {
            Action::Kinesis => "the Kinesis data stream",
            Action::Firehose => "Firehose (into the archive)",
            Action::State => "the DynamoDB state table",
        }
    }
}

/// The actions of a route's topic rule, sorted and without repeats. With
/// `kinesis_and_firehose`, archiving goes through the stream (Firehose reads it).
pub(crate) fn route_actions(flags: &Flags, route: &Route) -> Vec<Action> {
    let mut out: Vec<Action> = route
        .to
        .iter()
        .map(|d| match d {
            Destination::Stream if flags.kinesis => Action::Kinesis,
            Destination::Stream => Action::Firehose,
            Destination::Archive if flags.firehose_reads_kinesis => Action::Kinesis,
            Destination::Archive => Action::Firehose,
            Destination::StateStore => Action::State,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

pub(super) fn plan(cx: &mut Ctx) {
    rules_role_and_errors(cx);
    if cx.flags.kinesis {
        kinesis(cx);
    }
    if cx.flags.firehose {
        firehose(cx);
    }
    routes(cx);
}

fn rules_role_and_errors(cx: &mut Ctx) {
    let flags = cx.flags;
    let days = cx.m.monitoring.log_retention_days;
    let mut stmts = vec![
        // The CloudWatch Logs rule action needs all three (AWS IoT developer guide,
        // "CloudWatch Logs" rule action); without DescribeLogStreams, failed deliveries vanish.
        Stmt::allow(
            "WriteRuleErrors",
            &[
                "logs:CreateLogStream",
                "logs:DescribeLogStreams",
                "logs:PutLogEvents",
            ],
            vec![
                r("aws_cloudwatch_log_group.rule_errors.arn"),
                under("aws_cloudwatch_log_group.rule_errors.arn", ":*"),
            ],
        ),
        Stmt::allow(
            "UseStackKey",
            &["kms:GenerateDataKey", "kms:Decrypt"],
            vec![r("aws_kms_key.fleet.arn")],
        ),
    ];
    if flags.kinesis {
        stmts.push(Stmt::allow(
            "PutToStream",
            &["kinesis:PutRecord"],
            vec![r("aws_kinesis_stream.telemetry.arn")],
        ));
    }
    if flags.firehose && !flags.firehose_reads_kinesis {
        stmts.push(Stmt::allow(
            "PutToFirehose",
            &["firehose:PutRecord", "firehose:PutRecordBatch"],
            vec![r("aws_kinesis_firehose_delivery_stream.archive.arn")],
        ));
    }
    if flags.state_table {
        stmts.push(Stmt::allow(
            "WriteLatestState",
            &["dynamodb:PutItem"],
            vec![r("aws_dynamodb_table.state.arn")],
        ));
    }
    if cx.m.alerts.iter().any(|a| a.notify && !a.function) {
        stmts.push(Stmt::allow(
            "NotifyAlerts",
            &["sns:Publish"],
            vec![r("aws_sns_topic.alerts.arn")],
        ));
    }
    super::intent::log_retention(cx, "rule_errors", days);
    let f = cx.tf(FILE, PURPOSE);
    f.push(
        tf::resource("aws_cloudwatch_log_group", "rule_errors")
            .when(days < 365, |b| {
                b.skip(
                    "CKV_AWS_338",
                    &format!("retention is monitoring.log_retention_days from the spec ({days} days), chosen for cost"),
                )
            })
            .note("Messages a rule action could not deliver land here (every rule's error action).")
            .attr("name", tpl([t("/aws/iot/rules/"), rf("local.name_prefix"), t("/errors")]))
            .attr("retention_in_days", tf::num(days))
            .attr("kms_key_id", r("aws_kms_key.fleet.arn"))
            .build(),
    );
    Role {
        label: "iot_rules",
        name: super::hcl::named("iot-rules"),
        description: "Lets this stack's IoT topic rules deliver to their destinations.",
        service: "iot.amazonaws.com",
        source_account: true,
        statements: stmts,
        max_session_seconds: None,
        managed: Vec::new(),
    }
    .write(f);
}

fn kinesis(cx: &mut Ctx) {
    let s = &cx.aws.stream;
    let tr = cx.m.traffic;
    let provisioned = s.kinesis_capacity == KinesisCapacity::Provisioned;
    let shards = s.kinesis_shards;
    let retention = s.kinesis_retention_hours;
    cx.fact(
        "kinesis",
        serde_json::json!({
            "provisioned": provisioned,
            "shards": shards,
            "retention_hours": retention,
            "peak_messages_per_second": (tr.peak_messages_per_second * 10.0).round() / 10.0,
            "peak_kib_per_second": (tr.peak_bytes_per_second / 1024.0 * 10.0).round() / 10.0,
        }),
    );
    let f = cx.tf(FILE, PURPOSE);
    let mut b = tf::resource("aws_kinesis_stream", "telemetry")
        .attr("name", named("telemetry"))
        .attr("retention_period", tf::num(retention))
        .attr("encryption_type", lit("KMS"))
        .attr("kms_key_id", r("aws_kms_key.fleet.arn"));
    if provisioned {
        b = b
            .note(&format!(
                "Sized for {:.1} messages/s and {:.1} KiB/s at peak a year ahead (growth and headroom included);",
                tr.peak_messages_per_second,
                tr.peak_bytes_per_second / 1024.0
            ))
            .note("each shard takes 1 MiB/s or 1,000 records/s. fleetform cost uses the same figure.")
            .attr("shard_count", tf::num(shards))
            .child(
                tf::block("stream_mode_details")
                    .attr("stream_mode", lit("PROVISIONED"))
                    .build(),
            );
    } else {
        b = b.child(
            tf::block("stream_mode_details")
                .attr("stream_mode", lit("ON_DEMAND"))
                .build(),
        );
    }
    f.push(b.build());
    let stream = |a: &str| r(&format!("aws_kinesis_stream.telemetry.{a}"));
    cx.intent.assert(
        "clouds.aws.stream.kinesis_retention_hours",
        format!("{retention} hours of retention, encrypted with KMS"),
        eq_all([
            (stream("retention_period"), tf::num(retention)),
            (stream("encryption_type"), lit("KMS")),
        ]),
    );
    cx.intent.assert(
        "clouds.aws.stream.kinesis_capacity",
        if provisioned {
            format!("a provisioned stream of {shards} shard(s) (fleetform sized it for the planned peak unless clouds.aws.stream.kinesis_shards pins it)")
        } else {
            "an on-demand stream".to_owned()
        },
        if provisioned {
            eq_all([
                (stream("stream_mode_details.0.stream_mode"), lit("PROVISIONED")),
                (stream("shard_count"), tf::num(shards)),
            ])
        } else {
            eq(stream("stream_mode_details.0.stream_mode"), lit("ON_DEMAND"))
        },
    );
    cx.out(
        "kinesis_stream_name",
        "Kinesis data stream of device telemetry (consumers read it; retention as in the spec).",
        r("aws_kinesis_stream.telemetry.name"),
    );
    cx.out(
        "kinesis_stream_arn",
        "ARN of the telemetry stream, for consumers' IAM policies.",
        r("aws_kinesis_stream.telemetry.arn"),
    );
}

fn firehose(cx: &mut Ctx) {
    let flags = cx.flags;
    let s = &cx.aws.stream;
    let (seconds, mib) = (s.firehose_buffer_seconds, s.firehose_buffer_mib);
    let days = cx.m.monitoring.log_retention_days;
    let from_kinesis = flags.firehose_reads_kinesis;
    cx.fact(
        "firehose",
        serde_json::json!({
            "prefix": firehose_prefix(flags.partition_by_device),
            "partition_by_device": flags.partition_by_device,
            "buffer_seconds": seconds,
            "buffer_mib": mib,
            "reads_kinesis": from_kinesis,
        }),
    );
    let mut stmts = vec![
        Stmt::allow(
            "WriteArchive",
            &[
                "s3:AbortMultipartUpload",
                "s3:GetBucketLocation",
                "s3:GetObject",
                "s3:ListBucket",
                "s3:ListBucketMultipartUploads",
                "s3:PutObject",
            ],
            vec![
                r("aws_s3_bucket.archive.arn"),
                under("aws_s3_bucket.archive.arn", "/*"),
            ],
        ),
        Stmt::allow(
            "UseStackKey",
            &["kms:GenerateDataKey", "kms:Decrypt"],
            vec![r("aws_kms_key.fleet.arn")],
        ),
        Stmt::allow(
            "WriteDeliveryLogs",
            &["logs:PutLogEvents"],
            vec![under("aws_cloudwatch_log_group.firehose.arn", ":*")],
        ),
    ];
    if from_kinesis {
        stmts.push(Stmt::allow(
            "ReadStream",
            &[
                "kinesis:DescribeStream",
                "kinesis:DescribeStreamSummary",
                "kinesis:GetShardIterator",
                "kinesis:GetRecords",
                "kinesis:ListShards",
            ],
            vec![r("aws_kinesis_stream.telemetry.arn")],
        ));
    }
    let planned_devices = cx.m.traffic.planned_devices;
    super::intent::log_retention(cx, "firehose", days);
    let s3_attr = |a: &str| {
        r(&format!(
            "aws_kinesis_firehose_delivery_stream.archive.extended_s3_configuration.0.{a}"
        ))
    };
    cx.intent.assert(
        "clouds.aws.stream.firehose_buffer_seconds / firehose_buffer_mib",
        format!(
            "Firehose batches of {mib} MiB or {seconds} s, GZIP, under `{}`",
            firehose_prefix(flags.partition_by_device)
        ),
        eq_all([
            (s3_attr("buffering_size"), tf::num(mib)),
            (s3_attr("buffering_interval"), tf::num(seconds)),
            (s3_attr("compression_format"), lit("GZIP")),
            (
                s3_attr("prefix"),
                lit(firehose_prefix(flags.partition_by_device)),
            ),
        ]),
    );
    let f = cx.tf(FILE, PURPOSE);
    f.push(
        tf::resource("aws_cloudwatch_log_group", "firehose")
            .when(days < 365, |b| {
                b.skip(
                    "CKV_AWS_338",
                    &format!("retention is monitoring.log_retention_days from the spec ({days} days), chosen for cost"),
                )
            })
            .attr(
                "name",
                tpl([t("/aws/kinesisfirehose/"), rf("local.name_prefix"), t("-archive")]),
            )
            .attr("retention_in_days", tf::num(days))
            .attr("kms_key_id", r("aws_kms_key.fleet.arn"))
            .build(),
    );
    f.push(
        tf::resource("aws_cloudwatch_log_stream", "firehose")
            .attr("name", lit("DestinationDelivery"))
            .attr(
                "log_group_name",
                r("aws_cloudwatch_log_group.firehose.name"),
            )
            .build(),
    );
    Role {
        label: "firehose",
        name: super::hcl::named("firehose"),
        description: "Lets Firehose write the archive (and read the stream it is fed by).",
        service: "firehose.amazonaws.com",
        source_account: true,
        statements: stmts,
        max_session_seconds: None,
        managed: Vec::new(),
    }
    .write(f);
    let param = |name: &str, value: &str| {
        tf::block("parameters")
            .attr("parameter_name", lit(name))
            .attr("parameter_value", lit(value))
            .build()
    };
    let processing = tf::block("processing_configuration")
        .attr("enabled", tf::boolean(true))
        .child(
            tf::block("processors")
                .attr("type", lit("MetadataExtraction"))
                .child(param("JsonParsingEngine", "JQ-1.6"))
                .child(param(
                    "MetadataExtractionQuery",
                    if flags.partition_by_device {
                        "{device_id:.device_id}"
                    } else {
                        "{hour:(.received_at / 1000 | floor | strftime(\"%H\"))}"
                    },
                ))
                .build(),
        )
        .child(
            tf::block("processors")
                .attr("type", lit("AppendDelimiterToRecord"))
                .child(param("Delimiter", "\\n"))
                .build(),
        )
        .build();
    let s3 = tf::block("extended_s3_configuration")
        .attr("role_arn", r("aws_iam_role.firehose.arn"))
        .attr("bucket_arn", r("aws_s3_bucket.archive.arn"))
        .when(flags.partition_by_device, |b| {
            b.note("Newline-delimited JSON by day and device: raw/yyyy/MM/dd/<device_id>/...json.gz")
        })
        .when(!flags.partition_by_device, |b| {
            b.note(&format!(
                "Newline-delimited JSON by day and hour: raw/yyyy/MM/dd/HH/...json.gz. Partitioning by device would make every one of the fleet's {} planned devices an active partition (Firehose allows {} by default) and write objects too small for S3 to transition.",
                planned_devices,
                super::FIREHOSE_DEVICE_PARTITIONS_MAX
            ))
        })
        .attr("prefix", lit(firehose_prefix(flags.partition_by_device)))
        .attr("error_output_prefix", lit(FIREHOSE_ERROR_PREFIX))
        .note("Dynamic partitioning needs a buffer of at least 64 MiB; it can add about half the interval to latency.")
        .attr("buffering_size", tf::num(mib))
        .attr("buffering_interval", tf::num(seconds))
        .attr("compression_format", lit("GZIP"))
        .attr("file_extension", lit(".json.gz"))
        .when(flags.archive_cmk, |b| b.attr("kms_key_arn", r("aws_kms_key.fleet.arn")))
        .child(
            tf::block("dynamic_partitioning_configuration")
                .attr("enabled", tf::boolean(true))
                .build(),
        )
        .child(processing)
        .child(
            tf::block("cloudwatch_logging_options")
                .attr("enabled", tf::boolean(true))
                .attr("log_group_name", r("aws_cloudwatch_log_group.firehose.name"))
                .attr("log_stream_name", r("aws_cloudwatch_log_stream.firehose.name"))
                .build(),
        )
        .build();
    let stream = tf::resource("aws_kinesis_firehose_delivery_stream", "archive")
        .attr("name", named("archive"))
        .attr("destination", lit("extended_s3"))
        .when(from_kinesis, |b| {
            b.child(
                tf::block("kinesis_source_configuration")
                    .attr("kinesis_stream_arn", r("aws_kinesis_stream.telemetry.arn"))
                    .attr("role_arn", r("aws_iam_role.firehose.arn"))
                    .build(),
            )
        })
        .when(!from_kinesis, |b| {
            b.child(
                tf::block("server_side_encryption")
                    .attr("enabled", tf::boolean(true))
                    .attr("key_type", lit("CUSTOMER_MANAGED_CMK"))
                    .attr("key_arn", r("aws_kms_key.fleet.arn"))
                    .build(),
            )
        })
        .child(s3)
        .attr("depends_on", tf::list([r("aws_iam_role_policy.firehose")]))
        .build();
    f.push(stream);
    cx.out(
        "firehose_delivery_stream_name",
        "Firehose delivery stream that lands telemetry in the archive.",
        r("aws_kinesis_firehose_delivery_stream.archive.name"),
    );
}

fn routes(cx: &mut Ctx) {
    let m = cx.m;
    let mut docs = Vec::new();
    let mut rules = Vec::new();
    for (i, route) in m.routes.iter().enumerate() {
        let name = route_rule_name(cx, &route.name);
        let sql = sql(cx, route.source, route.condition.as_ref());
        let (_, device) = source(cx, route.source);
        let acts = route_actions(&cx.flags, route);
        let description = match &route.condition_text {
            Some(c) => format!("Route {} ({c})", route.name),
            None => format!("Route {}", route.name),
        };
        let mut b = tf::resource(
            "aws_iot_topic_rule",
            &format!("route_{}", super::hcl::label(&route.name)),
        )
        .attr("name", lit(&name))
        .attr("description", lit(&description))
        .attr("enabled", tf::boolean(true))
        .attr("sql", lit(&sql))
        .attr("sql_version", lit("2016-03-23"));
        let label = format!("route_{}", super::hcl::label(&route.name));
        cx.intent.assert(
            &format!("pipeline.routes[{i}] (`{}`)", route.name),
            format!("topic rule SQL `{sql}`"),
            super::intent::rule_sql(&label, &sql),
        );
        let rule = |a: &str| r(&format!("aws_iot_topic_rule.{label}.{a}"));
        cx.intent.assert(
            &format!("pipeline.routes[{i}].to (`{}`)", route.name),
            format!(
                "delivery to {}",
                if acts.is_empty() {
                    "nothing but the error action".to_owned()
                } else {
                    acts.iter()
                        .map(|a| a.words())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
            eq_all([Action::Kinesis, Action::Firehose, Action::State].map(|a| {
                (
                    length(rule(a.block_name())),
                    tf::num(u32::from(acts.contains(&a))),
                )
            })),
        );
        for a in &acts {
            b = b.child(action_block(*a, &device));
        }
        b = b.child(error_action());
        rules.push(b.build());
        docs.push(serde_json::json!({
            "name": name,
            "route": route.name,
            "sql": sql,
            "actions": acts.iter().map(|a| match a {
                Action::Kinesis => "Kinesis Data Streams",
                Action::Firehose => "Firehose to the archive",
                Action::State => "DynamoDB latest state",
            }).collect::<Vec<_>>(),
            "basic_ingest": route.source == RouteSource::Telemetry && cx.aws.basic_ingest,
        }));
    }
    cx.fact("rules", docs);
    cx.fact("basic_ingest", cx.aws.basic_ingest);
    let f = cx.tf(FILE, PURPOSE);
    for rule in rules {
        f.push(rule);
    }
}

fn action_block(a: Action, device: &str) -> Block {
    match a {
        Action::Kinesis => tf::block("kinesis")
            .attr("stream_name", r("aws_kinesis_stream.telemetry.name"))
            .note("One partition key per device keeps each device's messages in order.")
            .attr("partition_key", lit(format!("${{{device}}}")))
            .attr("role_arn", r("aws_iam_role.iot_rules.arn"))
            .build(),
        Action::Firehose => tf::block("firehose")
            .attr(
                "delivery_stream_name",
                r("aws_kinesis_firehose_delivery_stream.archive.name"),
            )
            .attr("role_arn", r("aws_iam_role.iot_rules.arn"))
            .build(),
        Action::State => tf::block("dynamodbv2")
            .attr("role_arn", r("aws_iam_role.iot_rules.arn"))
            .child(
                tf::block("put_item")
                    .attr("table_name", r("aws_dynamodb_table.state.name"))
                    .build(),
            )
            .build(),
    }
}
