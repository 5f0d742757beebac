//! The AWS bill of materials: what the planner builds, from its decisions, as the estimator
//! prices it ([`super::cost::AwsWorkload`]).

use std::sync::Arc;

use super::cost::{
    AwsStream, AwsWorkload, DynamoDbWorkload, Kinesis, KinesisMode, LambdaWorkload, S3Archive,
    S3Transition, Versioning,
};
use super::{Flags, route_actions};
use crate::capacity;
use crate::clouds::Cloud;
use crate::cost::from_model::{
    alert_functions, bytes_per_day, state_reads_per_month, state_writes_per_month, telemetry_routes,
};
use crate::cost::{Batching, Workload};
use crate::design::Bill;
use crate::model::{Aws, KinesisCapacity, Model};

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
