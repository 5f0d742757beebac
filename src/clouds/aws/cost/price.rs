//! The AWS bill: IoT Core, the stream behind the topic rule, and where telemetry lands.
//!
//! Metering follows AWS's published rules: messages in 5 KB blocks counting the device's
//! publish and each delivery to a subscriber, shadow updates as one message plus 1 KB shadow
//! operations, rules and actions in 5 KB blocks, Kinesis PUT units of 25 KB (on-demand: records
//! rounded to 1 KB), Firehose records rounded to 5 KB, and S3 storage per class under the
//! lifecycle at steady state ([`super::s3`]).

use super::{
    AwsStream, AwsWorkload, DynamoDbWorkload, Kinesis, KinesisMode, LambdaArchitecture,
    LambdaWorkload,
};
use crate::capacity::{self, HOURS_PER_MONTH};
use crate::clouds::Cloud;
use crate::cost::pricebook::{Price, PriceBook};
use crate::cost::{CloudRun, Error, Lines, Traffic, Workload, format, gib};

const IOT: &str = "IoT Core";
const KDS: &str = "Kinesis Data Streams";
const FIREHOSE: &str = "Data Firehose";

pub(crate) fn estimate(
    w: &Workload,
    aws: &AwsWorkload,
    book: &PriceBook,
) -> Result<CloudRun, Error> {
    let traffic = Traffic::of(w);
    let mut lines = Lines::default();
    let mut notes = Vec::new();
    iot_core(w, aws, &traffic, book, &mut lines, &mut notes);
    match &aws.stream {
        AwsStream::None => {}
        AwsStream::Kinesis(kinesis) => {
            kinesis_stream(w, kinesis, &traffic, book, &mut lines, &mut notes)?;
            if aws.archive.is_some() {
                notes.push(
                    "The archive is fed from the Kinesis stream by a consumer that is not priced \
                     here (no Firehose in the architecture)."
                        .to_owned(),
                );
            }
        }
        AwsStream::Firehose => firehose(w, &traffic, book, &mut lines, "the topic rule"),
        AwsStream::KinesisBesideFirehose(kinesis) => {
            kinesis_stream(w, kinesis, &traffic, book, &mut lines, &mut notes)?;
            firehose(w, &traffic, book, &mut lines, "the topic rule");
        }
        AwsStream::KinesisToFirehose(kinesis) => {
            kinesis_stream(w, kinesis, &traffic, book, &mut lines, &mut notes)?;
            firehose(w, &traffic, book, &mut lines, "the Kinesis stream");
        }
    }
    if let Some(lambda) = &aws.lambda {
        lambda_functions(lambda, &traffic, book, &mut lines);
    }
    if let Some(table) = &aws.dynamodb {
        dynamodb(table, book, &mut lines);
    }
    if let Some(archive) = &aws.archive {
        super::s3::s3_archive(w, archive, &traffic, &book.aws.s3, &mut lines, &mut notes)?;
    }
    Ok(CloudRun {
        estimate: lines.finish(Cloud::Aws, &book.meta.regions.aws),
        notes,
    })
}

fn iot_core(
    w: &Workload,
    aws: &AwsWorkload,
    t: &Traffic,
    book: &PriceBook,
    lines: &mut Lines,
    notes: &mut Vec<String>,
) {
    let prices = &book.aws.iot_core;
    let minutes = w.devices as f64 * w.hours_connected_per_day * 60.0 * capacity::DAYS_PER_MONTH;
    lines.add(
        IOT,
        "connectivity",
        minutes / 1e6,
        &prices.connectivity,
        &format!(
            "{} devices × {} h/day × 60 min × {} days = {} connection-minutes",
            format::int(w.devices),
            format::num(w.hours_connected_per_day),
            format::num(capacity::DAYS_PER_MONTH),
            format::num(minutes)
        ),
    );

    let telemetry_units = capacity::aws_iot_message_units(w.message_bytes);
    let mut parts = Vec::new();
    let mut messages = 0.0;
    let mut part = |count: f64, factor: u64, what: String| {
        if count > 0.0 {
            messages += count * factor as f64;
            parts.push(format!("{} {what} × {factor}", format::num(count)));
        }
    };
    let blocks = |bytes: u64| format!("{} B in 5 KB blocks", format::int(bytes));
    if !aws.basic_ingest {
        part(
            t.messages_per_month,
            telemetry_units,
            format!("telemetry publishes ({})", blocks(w.message_bytes)),
        );
    }
    part(
        t.messages_per_month * w.subscriber_deliveries_per_message,
        telemetry_units,
        "deliveries to subscribers".to_owned(),
    );
    let shadow_units = capacity::aws_iot_message_units(w.shadow_document_bytes);
    part(
        t.shadow_per_month,
        shadow_units,
        "shadow update publishes".to_owned(),
    );
    if aws.shadow_replies_subscribed {
        part(
            t.shadow_per_month,
            shadow_units,
            "shadow update/accepted replies".to_owned(),
        );
    }
    part(
        t.c2d_per_month * 2.0,
        capacity::aws_iot_message_units(w.c2d_message_bytes),
        "cloud-to-device publishes and deliveries".to_owned(),
    );
    part(
        t.methods_per_month * 2.0,
        capacity::aws_iot_message_units(w.method_request_bytes),
        "command requests (publish + delivery)".to_owned(),
    );
    part(
        t.methods_per_month * 2.0,
        capacity::aws_iot_message_units(w.method_response_bytes),
        "command responses (publish + delivery)".to_owned(),
    );
    lines.add(
        IOT,
        "messaging",
        messages / 1e6,
        &prices.messaging,
        &format!("{} = {} messages", parts.join(" + "), format::num(messages)),
    );
    if messages > 1e9 {
        notes.push(
            "IoT Core messaging volume tiers apply account-wide; they are applied here to this \
             fleet's messages alone."
                .to_owned(),
        );
    }
    if aws.basic_ingest {
        notes.push(
            "Telemetry is published to Basic Ingest topics ($aws/rules/…): no messaging charge, \
             rules still billed."
                .to_owned(),
        );
    }
    if t.c2d_per_month > 0.0 || t.methods_per_month > 0.0 {
        notes.push(
            "Cloud-to-device messages and commands are published by the back end and delivered \
             to the device: two messages each way."
                .to_owned(),
        );
    }

    let shadow_ops = capacity::aws_shadow_ops(w.shadow_document_bytes);
    lines.add(
        IOT,
        "shadow operations",
        t.shadow_per_month * shadow_ops as f64 / 1e6,
        &prices.device_shadow_and_registry,
        &format!(
            "{} updates × {shadow_ops} ({} B in 1 KB blocks)",
            format::num(t.shadow_per_month),
            format::int(w.shadow_document_bytes)
        ),
    );

    let rule_units = capacity::aws_rules_units(w.message_bytes);
    let triggered = t.messages_per_month * aws.rules_per_message * rule_units as f64;
    lines.add(
        IOT,
        "rules triggered",
        triggered / 1e6,
        &prices.rules_triggered,
        &format!(
            "{} messages × {} rules × {rule_units} ({} B in 5 KB blocks)",
            format::num(t.messages_per_month),
            format::num(aws.rules_per_message),
            format::int(w.message_bytes)
        ),
    );
    let actions = aws.actions_per_rule.max(1.0);
    lines.add(
        IOT,
        "actions applied",
        triggered * actions / 1e6,
        &prices.actions_applied,
        &format!(
            "{} rules triggered × {} actions",
            format::num(triggered),
            format::num(actions)
        ),
    );
}

fn kinesis_stream(
    w: &Workload,
    kinesis: &Kinesis,
    t: &Traffic,
    book: &PriceBook,
    lines: &mut Lines,
    notes: &mut Vec<String>,
) -> Result<(), Error> {
    let prices = &book.aws.kinesis_data_streams;
    let retention = kinesis.retention_hours;
    let daily_gb = gib(t.bytes_per_day);
    match kinesis.mode {
        KinesisMode::Provisioned {
            shards,
            shard_limit,
        } => {
            let needed =
                capacity::kinesis_shards(t.peak_bytes_per_s, t.peak_messages_per_s, shard_limit);
            let rate = format!(
                "peak {} records/s, {} B/s ({} MiB/s)",
                format::num(t.peak_messages_per_s),
                format::num(t.peak_bytes_per_s),
                format::num(t.peak_bytes_per_s / capacity::MIB as f64)
            );
            let (count, why) = if let Some(pinned) = shards {
                if let Ok(needed) = &needed
                    && *needed > pinned
                {
                    notes.push(format!(
                        "The stream has {pinned} shards but the peak rate needs {needed}: \
                         writes above the shard limits are throttled."
                    ));
                }
                (pinned, format!("{pinned} shards as configured ({rate})"))
            } else {
                let needed = needed?;
                (
                    needed,
                    format!(
                        "{rate} → max(1, ceil(B/s ÷ 1 MiB), ceil(records/s ÷ 1,000)) = {needed} {}",
                        if needed == 1 { "shard" } else { "shards" }
                    ),
                )
            };
            let shard_hours = f64::from(count) * HOURS_PER_MONTH;
            lines.add(
                KDS,
                "shard hours",
                shard_hours,
                &prices.shard_hour,
                &format!("{why}; {count} × 730 h"),
            );
            let put_units = capacity::kinesis_put_units(w.message_bytes);
            lines.add(
                KDS,
                "PUT payload units",
                t.messages_per_month * put_units as f64 / 1e6,
                &prices.put_payload_units,
                &format!(
                    "{} records × {put_units} ({} B in 25 KB units)",
                    format::num(t.messages_per_month),
                    format::int(w.message_bytes)
                ),
            );
            if retention > 24 {
                lines.add(
                    KDS,
                    "extended retention",
                    shard_hours,
                    &prices.extended_retention,
                    &format!("{retention} h retention: {count} shards × 730 h"),
                );
            }
        }
        KinesisMode::OnDemand => {
            lines.add(
                KDS,
                "on-demand stream hours",
                HOURS_PER_MONTH,
                &prices.on_demand_stream_hour,
                "1 stream × 730 h",
            );
            let billed = capacity::kinesis_on_demand_billed_bytes(w.message_bytes);
            let data_in = t.messages_per_month * billed as f64;
            lines.add(
                KDS,
                "on-demand data in",
                gib(data_in),
                &prices.on_demand_data_in,
                &format!(
                    "{} records × {} B (rounded up to 1 KB) = {} GB",
                    format::num(t.messages_per_month),
                    format::int(billed),
                    format::num(gib(data_in))
                ),
            );
            let data_out =
                t.messages_per_month * w.message_bytes as f64 * f64::from(kinesis.consumers);
            lines.add(
                KDS,
                "on-demand data out",
                gib(data_out),
                &prices.on_demand_data_out,
                &format!(
                    "{} consumers × {} records × {} B = {} GB",
                    kinesis.consumers,
                    format::num(t.messages_per_month),
                    format::int(w.message_bytes),
                    format::num(gib(data_out))
                ),
            );
            if retention > 24 {
                let days = f64::from(retention.min(168) - 24) / 24.0;
                lines.add(
                    KDS,
                    "extended retention",
                    daily_gb * days,
                    &prices.on_demand_extended_retention,
                    &format!(
                        "{} GB/day × {} days kept beyond 24 h",
                        format::num(daily_gb),
                        format::num(days)
                    ),
                );
            }
        }
    }
    if retention > 168 {
        let days = f64::from(retention - 168) / 24.0;
        lines.add(
            KDS,
            "long-term retention",
            daily_gb * days,
            &prices.long_term_retention,
            &format!(
                "{} GB/day × {} days kept beyond 7 days",
                format::num(daily_gb),
                format::num(days)
            ),
        );
    }
    Ok(())
}

fn firehose(w: &Workload, t: &Traffic, book: &PriceBook, lines: &mut Lines, source: &str) {
    let billed = capacity::firehose_billed_bytes(w.message_bytes);
    let volume = t.messages_per_month * billed as f64;
    lines.add(
        FIREHOSE,
        "ingestion",
        gib(volume),
        &book.aws.data_firehose.ingestion,
        &format!(
            "delivery from {source} to S3: {} records × {} B (rounded up to 5 KB) = {} GB",
            format::num(t.messages_per_month),
            format::int(billed),
            format::num(gib(volume))
        ),
    );
}

fn lambda_functions(lambda: &LambdaWorkload, t: &Traffic, book: &PriceBook, lines: &mut Lines) {
    let prices = &book.aws.lambda;
    let f = &lambda.function;
    let invocations = t.messages_per_month * f.invocation_fraction * f64::from(f.functions);
    lines.add(
        "Lambda",
        "requests",
        invocations / 1e6,
        &prices.requests,
        &format!(
            "{} messages × {} matching × {} functions = {} invocations",
            format::num(t.messages_per_month),
            format::num(f.invocation_fraction),
            f.functions,
            format::num(invocations)
        ),
    );
    let gb_seconds = invocations * f64::from(f.memory_mb) / 1024.0 * f.avg_duration_ms / 1000.0;
    let (item, price): (&str, &Price) = match lambda.architecture {
        LambdaArchitecture::X86_64 => ("duration (x86_64)", &prices.duration_x86),
        LambdaArchitecture::Arm64 => ("duration (arm64)", &prices.duration_arm64),
    };
    lines.add(
        "Lambda",
        item,
        gb_seconds,
        price,
        &format!(
            "{} invocations × {} MB ÷ 1,024 × {} ms",
            format::num(invocations),
            f.memory_mb,
            format::num(f.avg_duration_ms)
        ),
    );
}

fn dynamodb(table: &DynamoDbWorkload, book: &PriceBook, lines: &mut Lines) {
    let prices = &book.aws.dynamodb;
    let wru = capacity::dynamodb_write_units(table.item_bytes);
    lines.add(
        "DynamoDB",
        "write request units",
        table.writes_per_month * wru as f64 / 1e6,
        &prices.on_demand_writes,
        &format!(
            "{} writes × {wru} ({} B items in 1 KB units)",
            format::num(table.writes_per_month),
            format::int(table.item_bytes)
        ),
    );
    let rru = capacity::dynamodb_read_units(table.item_bytes) as f64
        * if table.eventually_consistent_reads {
            0.5
        } else {
            1.0
        };
    lines.add(
        "DynamoDB",
        "read request units",
        table.reads_per_month * rru / 1e6,
        &prices.on_demand_reads,
        &format!(
            "{} reads × {} ({} B items in 4 KB units{})",
            format::num(table.reads_per_month),
            format::num(rru),
            format::int(table.item_bytes),
            if table.eventually_consistent_reads {
                ", eventually consistent"
            } else {
                ""
            }
        ),
    );
    let stored = table.items as f64 * (table.item_bytes + 100) as f64;
    lines.add(
        "DynamoDB",
        "storage",
        gib(stored),
        &prices.storage,
        &format!(
            "{} items × ({} B + 100 B overhead)",
            format::int(table.items),
            format::int(table.item_bytes)
        ),
    );
}
