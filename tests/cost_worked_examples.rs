//! The two worked examples of the pricing reference, reproduced from a `Workload`.
//!
//! Fleet: 10,000 devices, always connected, one telemetry message every 5 minutes (288 a day),
//! 24 shadow/twin updates a day of at most 1 KB, no C2D or methods, no subscribers.
//! AWS: one topic rule with one action → Kinesis Data Streams (provisioned) → S3 Standard for
//! 30 days, then Glacier Deep Archive, expired at 365 days, one object per 5 minutes.
//! Azure: Standard IoT Hub (twins) → route to Event Hubs Standard → Blob Hot for 30 days, then
//! Archive, deleted at 365 days, one blob per 5 minutes.
//!
//! "Glue" is how the stream reaches storage. The pipeline-in-scope totals leave it out (AWS:
//! `AwsStream::Kinesis`, some consumer outside the estimate writes S3; Azure: Capture off, IoT
//! Hub routes to storage for free). The totals with glue add it (AWS:
//! `AwsStream::KinesisToFirehose`, Firehose reads the stream into S3; Azure: Capture on).
//!
//! Shared monthly quantities (730 h, 730 / 24 = 30.4167 days):
//!   telemetry   10,000 × 288 × 30.4167 =  87,600,000 messages
//!   shadows     10,000 ×  24 × 30.4167 =   7,300,000 updates
//!   connection  10,000 × 730 × 60      = 438,000,000 minutes
//!
//! AWS A (1,500 B)
//!   connectivity     438M min × $0.08/M                                   35.04
//!   messaging        (87.6M × 1 + 7.3M) = 94.9M × $1.00/M                  94.90
//!   shadow ops       7.3M × 1 × $1.25/M                                     9.125
//!   rules triggered  87.6M × 1 × $0.15/M                                   13.14
//!   actions          87.6M × 1 × $0.15/M                                   13.14
//!   KDS shards       1 shard × 730 h × $0.015                              10.95
//!   KDS PUT units    87.6M × 1 × $0.014/M                                   1.2264
//!   S3 Standard      4.0233 GiB/day × 30 d = 120.70 GiB × $0.023            2.7761
//!   S3 Deep Archive  4.0233 × 335 = 1,347.81 GiB × $0.00099                  1.3343
//!   DA overhead      288 × 335 = 96,480 objects × (8 KB × 0.023 + 32 KB × 0.00099) 0.0198
//!   S3 PUT           8,760 × $0.005/1k                                      0.0438
//!   → Deep Archive   8,760 × $0.05/1k                                       0.4380
//!   total                                                                182.1334 → $182.13
//!   glue: Firehose   87.6M × 5,120 B = 417.70 GiB × $0.029                 12.1136 → $194.25
//!
//! Azure A (1,500 B)
//!   hub              2,880,000 × 1 + 240,000 = 3,120,000/day → S1 × 8    200.00
//!   EH TUs           1 TU × 730 h × $0.03                                  21.90
//!   EH ingress       87.6M × 1 × $0.028/M                                   2.4528
//!   Blob Hot         120.70 GiB × $0.0208                                   2.5105
//!   Blob Archive     1,347.81 GiB × $0.00099                                1.3343
//!   writes           8,760 × $0.05/10k                                      0.0438
//!   → Archive        8,760 × $0.10/10k                                      0.0876
//!   total                                                                228.3290 → $228.33
//!   glue: Capture    1 TU × 730 h × $0.10                                  73.00   → $301.33
//!
//! AWS B (8,192 B): messaging (87.6M × 2 + 7.3M) = 182.5M → 182.50; rules and actions
//!   175.2M each → 26.28 + 26.28; KDS unchanged 12.1764; S3 21.9727 GiB/day: Standard
//!   659.18 GiB → 15.1611, Deep Archive 7,360.84 GiB → 7.2872, requests + overhead 0.5016;
//!   total 35.04 + 182.5 + 9.125 + 52.56 + 12.1764 + 22.9499 = 314.3513 → $314.35;
//!   Firehose 87.6M × 10,240 B = 835.40 GiB × $0.029 = 24.2271 → $338.58.
//!
//! Azure B (8,192 B): 2,880,000 × 2 + 240,000 = 6,000,000/day → S2 × 1 (exactly full;
//!   S1 × 15 would be $375) 250.00; Event Hubs 24.3528; Blob Hot 659.18 GiB → 13.7109,
//!   Archive 7,360.84 GiB → 7.2872, operations 0.1314; total 295.4823 → $295.48;
//!   Capture +73.00 → $368.48.

mod cost_support;

use cost_support::{Fleet, estimate};
use fleetform::capacity::{BlobTier, EventHubsTier, S3StorageClass};
use fleetform::clouds::aws::cost::{
    AwsStream, AwsWorkload, Kinesis, S3Archive, S3Transition, Versioning,
};
use fleetform::clouds::azure::cost::{AzureWorkload, BlobArchive, BlobTransition, EventHubs};
use fleetform::cost::{Batching, Cloud, CloudEstimate, Estimate, PriceBook};

fn fleet(message_bytes: u64, glue: bool) -> Fleet {
    let mut w = Fleet::new(10_000, 288.0, message_bytes);
    w.shadow_updates_per_device_per_day = 24.0;
    w.shadow_document_bytes = 1024;
    w.aws = Some(AwsWorkload {
        rules_per_message: 1.0,
        actions_per_rule: 1.0,
        stream: if glue {
            AwsStream::KinesisToFirehose(Kinesis::default())
        } else {
            AwsStream::Kinesis(Kinesis::default())
        },
        archive: Some(S3Archive {
            batching: Batching::ObjectsPerDay(288.0),
            transitions: vec![S3Transition {
                class: S3StorageClass::GlacierDeepArchive,
                after_days: 30,
            }],
            expire_after_days: Some(365),
            versioning: Versioning::Disabled,
            small_object_transitions: false,
        }),
        ..AwsWorkload::default()
    });
    w.azure = Some(AzureWorkload {
        event_hubs: Some(EventHubs {
            tier: EventHubsTier::Standard,
            units: None,
            capture: glue,
        }),
        archive: Some(BlobArchive {
            batching: Batching::ObjectsPerDay(288.0),
            transitions: vec![BlobTransition {
                tier: BlobTier::Archive,
                after_days: 30,
            }],
            expire_after_days: Some(365),
        }),
        ..AzureWorkload::default()
    });
    w
}

fn run(message_bytes: u64, glue: bool) -> Estimate {
    let book = PriceBook::embedded().expect("embedded price book");
    estimate(&fleet(message_bytes, glue), &book).expect("worked example estimates")
}

/// The total as displayed, rounded to the cent.
fn total(cloud: &CloudEstimate) -> String {
    fleetform::cost::format::usd(cloud.total_usd)
}

fn cloud(estimate: &Estimate, cloud: Cloud) -> &CloudEstimate {
    estimate.cloud(cloud).expect("cloud estimated")
}

fn line<'a>(cloud: &'a CloudEstimate, service: &str, item: &str) -> &'a fleetform::cost::Line {
    cloud
        .lines
        .iter()
        .find(|l| l.service == service && l.item == item)
        .unwrap_or_else(|| panic!("no line {service} / {item}"))
}

fn assert_close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 5e-5,
        "expected {expected}, got {actual}"
    );
}

#[test]
fn example_a_pipeline_in_scope() {
    let a = run(1_500, false);
    let aws = cloud(&a, Cloud::Aws);
    let azure = cloud(&a, Cloud::Azure);
    assert_eq!(total(aws), "$182.13", "AWS A: {}", aws.total_usd);
    assert_eq!(total(azure), "$228.33", "Azure A: {}", azure.total_usd);

    assert_close(line(aws, "IoT Core", "connectivity").monthly_usd, 35.04);
    assert_close(line(aws, "IoT Core", "messaging").monthly_usd, 94.90);
    assert_close(
        line(aws, "IoT Core", "shadow operations").monthly_usd,
        9.125,
    );
    assert_close(line(aws, "IoT Core", "rules triggered").monthly_usd, 13.14);
    assert_close(line(aws, "IoT Core", "actions applied").monthly_usd, 13.14);
    assert_close(
        line(aws, "Kinesis Data Streams", "shard hours").monthly_usd,
        10.95,
    );
    assert_close(
        line(aws, "Kinesis Data Streams", "PUT payload units").monthly_usd,
        1.2264,
    );
    assert_close(line(aws, "S3", "Standard storage").monthly_usd, 2.7761);
    assert_close(
        line(aws, "S3", "Glacier Deep Archive storage").monthly_usd,
        1.3343,
    );
    assert_close(line(aws, "S3", "PUT requests").monthly_usd, 0.0438);
    assert_close(
        line(aws, "S3", "transitions to Glacier Deep Archive").monthly_usd,
        0.438,
    );
    let overhead = line(
        aws,
        "S3",
        "Glacier Deep Archive per-object index (Standard rate)",
    )
    .monthly_usd
        + line(aws, "S3", "Glacier Deep Archive per-object metadata").monthly_usd;
    assert_close(overhead, 0.0198);

    let hub = line(azure, "IoT Hub", "hub units");
    assert_eq!(hub.unit, "S1 unit-month");
    assert_close(hub.quantity, 8.0);
    assert_close(hub.monthly_usd, 200.0);
    assert_close(
        line(azure, "Event Hubs", "throughput unit hours").monthly_usd,
        21.90,
    );
    assert_close(
        line(azure, "Event Hubs", "ingress events").monthly_usd,
        2.4528,
    );
    assert_close(
        line(azure, "Blob Storage", "Hot storage").monthly_usd,
        2.5105,
    );
    assert_close(
        line(azure, "Blob Storage", "Archive storage").monthly_usd,
        1.3343,
    );
    assert_close(
        line(azure, "Blob Storage", "write operations").monthly_usd,
        0.0438,
    );
    assert_close(
        line(azure, "Blob Storage", "tier changes to Archive").monthly_usd,
        0.0876,
    );
}

#[test]
fn example_a_with_glue() {
    let a = run(1_500, true);
    let aws = cloud(&a, Cloud::Aws);
    let azure = cloud(&a, Cloud::Azure);
    assert_eq!(total(aws), "$194.25", "AWS A + Firehose: {}", aws.total_usd);
    assert_eq!(
        total(azure),
        "$301.33",
        "Azure A + Capture: {}",
        azure.total_usd
    );
    assert_close(line(aws, "Data Firehose", "ingestion").monthly_usd, 12.1136);
    assert_close(line(azure, "Event Hubs", "Capture").monthly_usd, 73.0);
}

#[test]
fn example_b_pipeline_in_scope() {
    let b = run(8_192, false);
    let aws = cloud(&b, Cloud::Aws);
    let azure = cloud(&b, Cloud::Azure);
    assert_eq!(total(aws), "$314.35", "AWS B: {}", aws.total_usd);
    assert_eq!(total(azure), "$295.48", "Azure B: {}", azure.total_usd);

    assert_close(line(aws, "IoT Core", "messaging").monthly_usd, 182.50);
    assert_close(line(aws, "IoT Core", "rules triggered").monthly_usd, 26.28);
    assert_close(line(aws, "IoT Core", "actions applied").monthly_usd, 26.28);
    assert_close(line(aws, "S3", "Standard storage").monthly_usd, 15.1611);
    assert_close(
        line(aws, "S3", "Glacier Deep Archive storage").monthly_usd,
        7.2872,
    );

    let hub = line(azure, "IoT Hub", "hub units");
    assert_eq!(hub.unit, "S2 unit-month");
    assert_close(hub.quantity, 1.0);
    assert_close(
        line(azure, "Blob Storage", "Hot storage").monthly_usd,
        13.7109,
    );
    assert_close(
        line(azure, "Blob Storage", "Archive storage").monthly_usd,
        7.2872,
    );
}

#[test]
fn example_b_with_glue() {
    let b = run(8_192, true);
    let aws = cloud(&b, Cloud::Aws);
    let azure = cloud(&b, Cloud::Azure);
    assert_eq!(total(aws), "$338.58", "AWS B + Firehose: {}", aws.total_usd);
    assert_eq!(
        total(azure),
        "$368.48",
        "Azure B + Capture: {}",
        azure.total_usd
    );
    assert_close(line(aws, "Data Firehose", "ingestion").monthly_usd, 24.2271);
}

#[test]
fn example_b_sits_exactly_on_the_hub_quota() {
    let b = run(8_192, false);
    assert!(
        b.assumptions
            .iter()
            .any(|a| a.cloud == Some(Cloud::Azure) && a.text.contains("runs at 100%")),
        "{:#?}",
        b.assumptions
    );
}

#[test]
fn sensitivity_checks_from_the_reference() {
    let book = PriceBook::embedded().expect("embedded price book");
    let base = run(1_500, false);
    let base_aws = cloud(&base, Cloud::Aws).total_usd;

    // Subscribing to shadow update/accepted adds 7.3M messages: +$7.30.
    let mut w = fleet(1_500, false);
    w.aws.as_mut().expect("aws").shadow_replies_subscribed = true;
    let with_replies = estimate(&w, &book).expect("estimates");
    assert_close(cloud(&with_replies, Cloud::Aws).total_usd - base_aws, 7.30);

    // Basic Ingest removes $87.60 of messaging in A, and the advice says so.
    let advice = base
        .advice
        .iter()
        .find(|a| a.title.contains("Basic Ingest"))
        .expect("basic ingest advice");
    assert_close(advice.monthly_saving_usd, 87.60);

    // Glacier Flexible Retrieval instead of Deep Archive: storage $4.85, transitions $0.26.
    let mut w = fleet(1_500, false);
    w.aws
        .as_mut()
        .expect("aws")
        .archive
        .as_mut()
        .expect("archive")
        .transitions[0]
        .class = S3StorageClass::GlacierFlexibleRetrieval;
    let flexible = estimate(&w, &book).expect("estimates");
    let aws = cloud(&flexible, Cloud::Aws);
    let usd = fleetform::cost::format::usd;
    assert_eq!(
        usd(line(aws, "S3", "Glacier Flexible Retrieval storage").monthly_usd),
        "$4.85"
    );
    assert_eq!(
        usd(line(aws, "S3", "transitions to Glacier Flexible Retrieval").monthly_usd),
        "$0.26"
    );

    // One object per message: +$438 of PUTs, and the 1,500 B objects never transition.
    let mut w = fleet(1_500, false);
    w.aws
        .as_mut()
        .expect("aws")
        .archive
        .as_mut()
        .expect("archive")
        .batching = Batching::OnePerMessage;
    let unbatched = estimate(&w, &book).expect("estimates");
    let aws = cloud(&unbatched, Cloud::Aws);
    assert_close(line(aws, "S3", "PUT requests").monthly_usd, 438.0);
    assert!(
        !aws.lines.iter().any(|l| l.item.starts_with("transitions")),
        "small objects must not transition"
    );
    assert!(
        unbatched
            .advice
            .iter()
            .any(|a| a.title.contains("Batch archive objects to")),
        "{:#?}",
        unbatched.advice
    );
}
