//! The AWS bill of materials: what the planner builds, from its decisions, as the estimator
//! prices it ([`super::cost::AwsWorkload`]).

use std::sync::Arc;

use super::Flags;
use super::cost::{
    AwsStream, AwsWorkload, DynamoDbWorkload, Kinesis, KinesisMode, LambdaWorkload, S3Archive,
    S3Transition, Versioning,
};
use crate::capacity;
use crate::clouds::Cloud;
use crate::cost::from_model::{
    alert_functions, bytes_per_day, state_reads_per_month, state_writes_per_month, telemetry_routes,
};
use crate::cost::{Batching, Workload};
use crate::design::Bill;
use crate::model::{Aws, AwsStreamService, Destination, KinesisCapacity, Model};

/// The bill of `m` on AWS, from the planner's `flags`.
pub(super) fn bill(m: &Model, aws: &Aws, flags: &Flags) -> Bill {
    let w = crate::cost::from_model::workload(m);
    Bill {
        cloud: Cloud::Aws,
        region: aws.region.clone(),
        meter: Arc::new(workload(m, aws, flags, &w)),
    }
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
        consumers: u32::from(aws.stream.uses_firehose()),
    };
    let stream = match aws.stream.service {
        AwsStreamService::Firehose => AwsStream::Firehose,
        AwsStreamService::Kinesis => AwsStream::Kinesis(kinesis()),
        AwsStreamService::KinesisAndFirehose => AwsStream::KinesisToFirehose(kinesis()),
    };
    // One rule per telemetry route and per alert; each action a rule writes counts, at least
    // one per rule. A Firehose reading the Kinesis stream needs no action of its own.
    let mut rules = 0u32;
    let mut actions = 0.0;
    for route in telemetry_routes(model) {
        rules += 1;
        let mut targets = std::collections::BTreeSet::new();
        for d in &route.to {
            targets.insert(match (d, aws.stream.service) {
                (Destination::StateStore, _) => "dynamodb",
                (_, AwsStreamService::Firehose) => "firehose",
                (Destination::Stream, _) => "kinesis",
                (Destination::Archive, AwsStreamService::KinesisAndFirehose)
                    if route.to.contains(&Destination::Stream) =>
                {
                    "kinesis"
                }
                (Destination::Archive, _) => "firehose",
            });
        }
        actions += targets.len().max(1) as f64;
    }
    // An alert rule has one action: the function (which also notifies) or the SNS topic.
    let alerts = u32::try_from(model.alerts.len()).unwrap_or(u32::MAX);
    rules += alerts;
    actions += f64::from(alerts);
    let archive = model.archive.as_ref().map(|a| {
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
                .lifecycle
                .iter()
                .map(|t| S3Transition {
                    class: t.tier.s3_class(),
                    after_days: t.after_days,
                })
                .collect(),
            expire_after_days: a.expire_after_days,
            versioning: if a.versioning {
                Versioning::Enabled {
                    noncurrent_expire_after_days: Some(a.noncurrent_versions_expire_after_days),
                }
            } else {
                Versioning::Disabled
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
