//! AWS advice, each candidate priced by re-running the AWS bill with it: trim a message to a
//! 5 KB block, batch readings, Basic Ingest, another Kinesis mode or Firehose alone, and the
//! S3 lifecycle (batch objects past 128 KB, let small objects reach Glacier, drop a move that
//! costs more than it saves).

use super::s3::{class_label, effective_s3_transitions};
use super::{AwsStream, AwsWorkload, Kinesis, KinesisMode};
use crate::capacity::{
    self, AWS_IOT_MESSAGE_BLOCK_BYTES, KIB, MIB, S3_TRANSITION_MIN_OBJECT_BYTES, StorageClass,
};
use crate::cost::advice::{Collector, MIN_SAVING_USD, scale_invocations};
use crate::cost::storage::{self, Objects};
use crate::cost::{Advice, Batching, CloudRun, PriceBook, Traffic, Workload, format};

/// Largest MQTT message AWS IoT Core accepts.
const AWS_MAX_MESSAGE_BYTES: u64 = 128 * KIB;

pub(super) fn advice(
    w: &Workload,
    aws: &AwsWorkload,
    book: &PriceBook,
    run: &CloudRun,
) -> Vec<Advice> {
    let mut c = Collector::new(w, aws, book, run);
    c.metering_boundary(
        AWS_IOT_MESSAGE_BLOCK_BYTES,
        "by IoT Core messaging and rules",
    );
    c.batching(AWS_MAX_MESSAGE_BYTES, |bill, k| {
        if let Some(lambda) = bill.lambda.as_mut() {
            scale_invocations(&mut lambda.function, k);
        }
    });

    if !aws.basic_ingest
        && w.subscriber_deliveries_per_message == 0.0
        && aws.rules_per_message > 0.0
        && aws.rules_per_message <= 1.0
    {
        c.offer_bill(
            "Publish telemetry to Basic Ingest topics".to_owned(),
            |a| a.basic_ingest = true,
            |saving| {
                format!(
                    "Nothing subscribes to telemetry, so devices can publish to \
                     `$aws/rules/<rule>/…` and skip the messaging charge; rules and actions are \
                     still billed. The device policy must allow iot:Publish on `$aws/rules/*`, and \
                     the message reaches only that rule. Saves {} a month.",
                    format::usd(saving)
                )
            },
        );
    }

    stream_alternatives(&mut c, aws);
    s3_lifecycle(&mut c, aws);
    c.advice
}

fn other_mode(kinesis: &Kinesis) -> (Kinesis, &'static str) {
    let mode = match kinesis.mode {
        KinesisMode::Provisioned { .. } => KinesisMode::OnDemand,
        KinesisMode::OnDemand => KinesisMode::Provisioned {
            shards: None,
            shard_limit: None,
        },
    };
    let name = match mode {
        KinesisMode::OnDemand => "on-demand",
        KinesisMode::Provisioned { .. } => "provisioned",
    };
    (
        Kinesis {
            mode,
            ..kinesis.clone()
        },
        name,
    )
}

fn stream_alternatives(c: &mut Collector<'_, AwsWorkload>, aws: &AwsWorkload) {
    let (kinesis, with_firehose) = match &aws.stream {
        AwsStream::Kinesis(k) => (k, false),
        AwsStream::KinesisToFirehose(k) => (k, true),
        AwsStream::KinesisBesideFirehose(k) => {
            // Routes ask for the stream and Firehose archives beside it: only the mode can change.
            let (switched, mode) = other_mode(k);
            c.offer_bill(
                format!("Run the Kinesis stream in {mode} mode"),
                |a| a.stream = AwsStream::KinesisBesideFirehose(switched),
                |saving| {
                    format!(
                        "At this volume {mode} capacity is cheaper for the same records. Saves {} \
                         a month.",
                        format::usd(saving)
                    )
                },
            );
            return;
        }
        AwsStream::None | AwsStream::Firehose => return,
    };
    let (switched, mode) = other_mode(kinesis);
    c.offer_bill(
        format!("Run the Kinesis stream in {mode} mode"),
        |a| {
            a.stream = if with_firehose {
                AwsStream::KinesisToFirehose(switched)
            } else {
                AwsStream::Kinesis(switched)
            };
        },
        |saving| {
            format!(
                "At this volume {mode} capacity is cheaper for the same records. Saves {} a month.",
                format::usd(saving)
            )
        },
    );
    if kinesis.consumers <= 1 && (with_firehose || aws.archive.is_some()) {
        c.offer_bill(
            "Let the topic rule write to Firehose directly".to_owned(),
            |a| a.stream = AwsStream::Firehose,
            |saving| {
                format!(
                    "The Kinesis stream only carries telemetry to S3. A Firehose action on the \
                     rule delivers it without the stream (Firehose bills records rounded up to \
                     5 KB). Keep the stream if you need replay, several consumers or sub-second \
                     processing. Saves {} a month.",
                    format::usd(saving)
                )
            },
        );
    }
}

fn s3_lifecycle(c: &mut Collector<'_, AwsWorkload>, aws: &AwsWorkload) {
    let Some(archive) = &aws.archive else {
        return;
    };
    let traffic = Traffic::of(c.w);
    let objects = Objects::of(archive.batching, &traffic, c.w.message_bytes);
    let effective = effective_s3_transitions(archive, objects.avg_bytes);
    let small = objects.avg_bytes < S3_TRANSITION_MIN_OBJECT_BYTES as f64;

    if small && effective.len() < archive.transitions.len() {
        // Try the lifecycle minimum and two common buffer sizes (Firehose defaults to 5 MB).
        let best = [S3_TRANSITION_MIN_OBJECT_BYTES, MIB, 5 * MIB]
            .into_iter()
            .filter(|size| traffic.bytes_per_day >= *size as f64)
            .filter_map(|size| {
                c.bill_saving(|a| {
                    if let Some(archive) = a.archive.as_mut() {
                        archive.batching = Batching::ObjectBytes(size);
                    }
                })
                .map(|saving| (size, saving))
            })
            .reduce(|best, next| {
                if next.1 > best.1 + MIN_SAVING_USD {
                    next
                } else {
                    best
                }
            });
        if let Some((size, saving)) = best {
            c.push(
                format!(
                    "Batch archive objects to {} or more",
                    format::bytes(size as f64)
                ),
                format!(
                    "Archive objects average {}. S3 lifecycle rules skip objects under 128 KB, so \
                     they never leave S3 Standard, and every object costs a PUT. Objects of {} \
                     (e.g. a larger Firehose buffer) let the lifecycle work. Saves {} a month.",
                    format::bytes(objects.avg_bytes),
                    format::bytes(size as f64),
                    format::usd(saving)
                ),
                saving,
            );
        }
        if !archive.small_object_transitions
            && archive
                .transitions
                .iter()
                .any(|t| t.class.accepts_small_objects_when_allowed())
        {
            c.offer_bill(
                "Let the lifecycle move small objects to Glacier".to_owned(),
                |a| {
                    if let Some(archive) = a.archive.as_mut() {
                        archive.small_object_transitions = true;
                    }
                },
                |saving| {
                    format!(
                        "Set `transition_default_minimum_object_size = varies_by_storage_class` so \
                         objects under 128 KB still move to the Glacier classes (each then carries \
                         40 KB of overhead, priced in). Saves {} a month.",
                        format::usd(saving)
                    )
                },
            );
        }
    }

    let end = archive.expire_after_days;
    let Ok(plan) = storage::lifecycle(capacity::S3StorageClass::Standard, &effective, end) else {
        return;
    };
    for (index, &(class, day)) in effective.iter().enumerate() {
        let span = plan
            .spans
            .iter()
            .find(|s| s.class == class && s.from_day == day);
        let title = match span {
            Some(span) if span.early_days > 0 => format!(
                "Drop the move to {}: its {}-day minimum is longer than the {} days objects stay",
                class_label(class),
                class.minimum_storage_days(),
                span.days
            ),
            _ => format!(
                "Drop the move to {}: it costs more than it saves",
                class_label(class)
            ),
        };
        let kept: Vec<_> = effective
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != index)
            .map(|(_, t)| *t)
            .collect();
        c.offer_bill(
            title,
            |a| {
                if let Some(archive) = a.archive.as_mut() {
                    archive
                        .transitions
                        .retain(|t| kept.contains(&(t.class, t.after_days)));
                }
            },
            |saving| {
                format!(
                    "Transition requests ({} objects a month), early-deletion fees and per-object \
                     overhead outweigh the cheaper storage at day {day}. Keeping objects in the \
                     previous class saves {} a month.",
                    format::num(objects.per_month()),
                    format::usd(saving)
                )
            },
        );
    }
}
