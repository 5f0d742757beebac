//! The AWS bill of materials: what the planner builds, from its decisions, as the estimator
//! prices it ([`super::cost::AwsWorkload`]).

use std::sync::Arc;

use super::cost::{
    AwsStream, AwsWorkload, DynamoDbWorkload, Kinesis, KinesisMode, LambdaWorkload, S3Archive,
    S3Transition, Versioning, class_label,
};
use super::hcl::label;
use super::{Flags, route_actions};
use crate::capacity;
use crate::clouds::Cloud;
use crate::cost::from_model::{
    alert_functions, bytes_per_day, state_reads_per_month, state_writes_per_month, telemetry_routes,
};
use crate::cost::{Batching, Workload};
use crate::design::{Bill, BillItem};
use crate::model::{Aws, KinesisCapacity, Model};

/// The bill of `m` on AWS, from the planner's `flags`.
pub(super) fn bill(m: &Model, aws: &Aws, flags: &Flags) -> Bill {
    let w = crate::cost::from_model::workload(m);
    let meter = workload(m, aws, flags, &w);
    Bill {
        cloud: Cloud::Aws,
        region: aws.region.clone(),
        items: items(m, flags, &meter),
        catalog: super::catalog::CATALOG,
        meter: Arc::new(meter),
    }
}

/// The priced resources, with the addresses the planner gives them.
fn items(m: &Model, flags: &Flags, meter: &AwsWorkload) -> Vec<BillItem> {
    let mut out = Vec::new();
    let rules: Vec<String> = telemetry_routes(m)
        .map(|r| format!("aws_iot_topic_rule.route_{}", label(&r.name)))
        .chain(
            m.alerts
                .iter()
                .map(|a| format!("aws_iot_topic_rule.alert_{}", label(&a.name))),
        )
        .collect();
    out.push(BillItem {
        resource_type: "aws_iot_topic_rule",
        addresses: rules,
        size: format!(
            "{} telemetry rule(s), {} action(s) each on average{}",
            meter.rules_per_message,
            crate::cost::format::num(meter.actions_per_rule),
            if meter.basic_ingest {
                ", Basic Ingest"
            } else {
                ""
            }
        ),
        drivers: vec![
            "connection-minutes",
            "messages (5 KB blocks)",
            "shadow operations (1 KB blocks)",
            "rules triggered (5 KB blocks)",
            "actions applied",
        ],
    });
    let kinesis = match &meter.stream {
        AwsStream::Kinesis(k)
        | AwsStream::KinesisToFirehose(k)
        | AwsStream::KinesisBesideFirehose(k) => Some(k),
        AwsStream::None | AwsStream::Firehose => None,
    };
    if let Some(k) = kinesis {
        let (size, drivers) = match k.mode {
            KinesisMode::Provisioned { shards, .. } => (
                format!(
                    "{} shard(s), provisioned, {} h retention",
                    shards.unwrap_or_default(),
                    k.retention_hours
                ),
                vec!["shard-hours", "PUT payload units (25 KB)"],
            ),
            KinesisMode::OnDemand => (
                format!("on-demand, {} h retention", k.retention_hours),
                vec![
                    "stream-hours",
                    "GB in (1 KB records)",
                    "GB out per consumer",
                ],
            ),
        };
        out.push(BillItem {
            resource_type: "aws_kinesis_stream",
            addresses: vec!["aws_kinesis_stream.telemetry".to_owned()],
            size,
            drivers,
        });
    }
    if flags.firehose {
        out.push(BillItem {
            resource_type: "aws_kinesis_firehose_delivery_stream",
            addresses: vec!["aws_kinesis_firehose_delivery_stream.archive".to_owned()],
            size: if flags.firehose_reads_kinesis {
                "reads the Kinesis stream".to_owned()
            } else {
                "Direct PUT from the topic rules".to_owned()
            },
            drivers: vec!["GB ingested (5 KB records)"],
        });
    }
    if let Some(lambda) = &meter.lambda {
        out.push(BillItem {
            resource_type: "aws_lambda_function",
            addresses: m
                .alerts
                .iter()
                .filter(|a| a.function)
                .map(|a| format!("aws_lambda_function.alert_{}", label(&a.name)))
                .collect(),
            size: format!(
                "{}, {} MB",
                lambda.architecture.as_str(),
                lambda.function.memory_mb
            ),
            drivers: vec!["requests", "GB-seconds"],
        });
    }
    if meter.dynamodb.is_some() {
        out.push(BillItem {
            resource_type: "aws_dynamodb_table",
            addresses: vec!["aws_dynamodb_table.state".to_owned()],
            size: "on-demand".to_owned(),
            drivers: vec!["write request units", "read request units", "GB-months"],
        });
    }
    if let Some(archive) = &meter.archive {
        let mut classes = vec!["S3 Standard".to_owned()];
        classes.extend(
            archive
                .transitions
                .iter()
                .map(|t| format!("S3 {} after {} d", class_label(t.class), t.after_days)),
        );
        out.push(BillItem {
            resource_type: "aws_s3_bucket",
            addresses: vec!["aws_s3_bucket.archive".to_owned()],
            size: classes.join(", "),
            drivers: vec!["GB-months per class", "PUT requests", "transition requests"],
        });
    }
    out
}

/// What the AWS stack of `model` bills, from the planner's `flags`, for today's fleet `w`.
fn workload(model: &Model, aws: &Aws, flags: &Flags, w: &Workload) -> AwsWorkload {
    let kinesis = || Kinesis {
        mode: match aws.stream.kinesis_capacity {
            KinesisCapacity::Provisioned => KinesisMode::Provisioned {
                shards: Some(aws.stream.kinesis_shards),
                shard_limit: None,
            },
            KinesisCapacity::OnDemand => KinesisMode::OnDemand,
        },
        retention_hours: aws.stream.kinesis_retention_hours,
        // A Firehose reading the stream is its consumer.
        consumers: u32::from(flags.firehose_reads_kinesis),
    };
    // The streams the planner builds, whatever the spec's stream service says: a stream no
    // route feeds is not created, so it is not billed.
    let stream = match (flags.kinesis, flags.firehose, flags.firehose_reads_kinesis) {
        (true, true, true) => AwsStream::KinesisToFirehose(kinesis()),
        (true, true, false) => AwsStream::KinesisBesideFirehose(kinesis()),
        (true, false, _) => AwsStream::Kinesis(kinesis()),
        (false, true, _) => AwsStream::Firehose,
        (false, false, _) => AwsStream::None,
    };
    // One rule per telemetry route and per alert; each action its topic rule carries counts,
    // at least one per rule. A Firehose reading the Kinesis stream needs no action of its own.
    let mut rules = 0u32;
    let mut actions = 0.0;
    for route in telemetry_routes(model) {
        rules += 1;
        actions += route_actions(flags, route).len().max(1) as f64;
    }
    // An alert rule has one action: the function (which also notifies) or the SNS topic.
    let alerts = u32::try_from(model.alerts.len()).unwrap_or(u32::MAX);
    rules += alerts;
    actions += f64::from(alerts);
    // The archive is billed when Firehose writes telemetry into it; with the archive turned
    // off in the spec, a Firehose stream still lands in a bucket, with no lifecycle.
    let archive = flags.firehose.then(|| {
        let a = model.archive.as_ref();
        let buffer_bytes = f64::from(aws.stream.firehose_buffer_mib) * capacity::MIB as f64;
        let intervals = capacity::SECONDS_PER_DAY / f64::from(aws.stream.firehose_buffer_seconds);
        // Small fleets are partitioned by device: one object per device per buffer interval.
        let per_partition = if flags.partition_by_device {
            w.devices as f64 * intervals
        } else {
            // By hour: about one object per interval (an interval that straddles an hour
            // writes two, which the estimate leaves out: at most 24 a day).
            intervals.max(bytes_per_day(w) / buffer_bytes)
        };
        S3Archive {
            batching: Batching::ObjectsPerDay(per_partition.max(1.0)),
            transitions: a
                .map(|a| {
                    a.lifecycle
                        .iter()
                        .map(|t| S3Transition {
                            class: t.tier.s3_class(),
                            after_days: t.after_days,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            expire_after_days: a.and_then(|a| a.expire_after_days),
            versioning: match a {
                Some(a) if !a.versioning => Versioning::Disabled,
                Some(a) => Versioning::Enabled {
                    noncurrent_expire_after_days: Some(a.noncurrent_versions_expire_after_days),
                },
                None => Versioning::Enabled {
                    noncurrent_expire_after_days: None,
                },
            },
            small_object_transitions: false,
        }
    });
    AwsWorkload {
        rules_per_message: f64::from(rules),
        actions_per_rule: if rules == 0 {
            1.0
        } else {
            (actions / f64::from(rules)).max(1.0)
        },
        basic_ingest: aws.basic_ingest,
        shadow_replies_subscribed: false,
        stream,
        lambda: alert_functions(model, flags.lambda_memory_mb).map(|function| LambdaWorkload {
            function,
            architecture: flags.lambda_architecture,
        }),
        dynamodb: model.features.state_store.then(|| DynamoDbWorkload {
            writes_per_month: state_writes_per_month(model, w),
            reads_per_month: state_reads_per_month(model, w),
            item_bytes: w.message_bytes.max(w.shadow_document_bytes),
            items: w.devices,
            eventually_consistent_reads: true,
        }),
        archive,
    }
}
