//! Storage edge cases: archives that never expire, versioning, Kinesis retention.

mod cost_support;

use cost_support::{Fleet, estimate};
use fleetform::capacity::{BlobTier, S3StorageClass};
use fleetform::clouds::aws::cost::{
    AwsStream, AwsWorkload, Kinesis, KinesisMode, S3Archive, S3Transition, Versioning,
};
use fleetform::clouds::azure::cost::{AzureWorkload, BlobArchive, BlobTransition};
use fleetform::cost::{Batching, Cloud, CloudEstimate, Estimate, Line, PriceBook};

/// 10,000 devices × 288 × 1,500 B = 4.32e9 B = 4.0233 GB a day.
const DAILY_GB: f64 = 4_320_000_000.0 / 1_073_741_824.0;

fn run(w: &Fleet) -> Estimate {
    let book = PriceBook::embedded().expect("embedded price book");
    estimate(w, &book).expect("estimates")
}

fn line<'a>(cloud: &'a CloudEstimate, item: &str) -> &'a Line {
    cloud
        .lines
        .iter()
        .find(|l| l.item == item)
        .unwrap_or_else(|| panic!("no line {item}: {:#?}", cloud.lines))
}

fn assert_close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 1e-6,
        "expected {expected}, got {actual}"
    );
}

fn s3(expire: Option<u32>, versioning: Versioning) -> Fleet {
    let mut w = Fleet::new(10_000, 288.0, 1_500);
    w.aws = Some(AwsWorkload {
        stream: AwsStream::Firehose,
        archive: Some(S3Archive {
            batching: Batching::ObjectsPerDay(288.0),
            transitions: vec![S3Transition {
                class: S3StorageClass::GlacierDeepArchive,
                after_days: 30,
            }],
            expire_after_days: expire,
            versioning,
            small_object_transitions: false,
        }),
        ..AwsWorkload::default()
    });
    w
}

#[test]
fn archive_without_expiry_is_shown_after_a_year_and_flagged() {
    let e = run(&s3(None, Versioning::Disabled));
    let aws = e.cloud(Cloud::Aws).expect("aws");
    assert_close(
        line(aws, "Glacier Deep Archive storage").quantity,
        DAILY_GB * 335.0,
    );
    assert!(!aws.lines.iter().any(|l| l.item.contains("early deletion")));
    assert!(
        e.assumptions
            .iter()
            .any(|a| a.text.contains("never expires") && a.text.contains("365 days")),
        "{:#?}",
        e.assumptions
    );
}

#[test]
fn versioning_keeps_expired_objects_as_noncurrent() {
    let kept = run(&s3(
        Some(365),
        Versioning::Enabled {
            noncurrent_expire_after_days: Some(30),
        },
    ));
    let aws = kept.cloud(Cloud::Aws).expect("aws");
    assert_close(
        line(aws, "Glacier Deep Archive storage").quantity,
        DAILY_GB * 365.0,
    );

    let forever = run(&s3(
        Some(365),
        Versioning::Enabled {
            noncurrent_expire_after_days: None,
        },
    ));
    assert!(
        forever
            .assumptions
            .iter()
            .any(|a| a.text.contains("noncurrent versions never expire")),
        "{:#?}",
        forever.assumptions
    );
}

#[test]
fn kinesis_retention_beyond_a_day_and_a_week() {
    let mut w = Fleet::new(10_000, 288.0, 1_500);
    w.aws = Some(AwsWorkload {
        stream: AwsStream::Kinesis(Kinesis {
            mode: KinesisMode::Provisioned {
                shards: Some(2),
                shard_limit: None,
            },
            retention_hours: 240,
            consumers: 1,
        }),
        ..AwsWorkload::default()
    });
    let e = run(&w);
    let aws = e.cloud(Cloud::Aws).expect("aws");
    // 2 pinned shards × 730 h, at the shard price and again for extended retention.
    assert_close(line(aws, "shard hours").quantity, 1_460.0);
    assert_close(line(aws, "extended retention").monthly_usd, 1_460.0 * 0.02);
    // 240 h − 168 h = 3 days beyond a week, kept at $0.023 per GB-month.
    assert_close(line(aws, "long-term retention").quantity, DAILY_GB * 3.0);
}

#[test]
fn blob_archive_through_every_tier() {
    let mut w = Fleet::new(10_000, 288.0, 1_500);
    w.azure = Some(AzureWorkload {
        archive: Some(BlobArchive {
            batching: Batching::OnePerMessage,
            transitions: vec![
                BlobTransition {
                    tier: BlobTier::Cool,
                    after_days: 30,
                },
                BlobTransition {
                    tier: BlobTier::Cold,
                    after_days: 60,
                },
                BlobTransition {
                    tier: BlobTier::Archive,
                    after_days: 150,
                },
            ],
            expire_after_days: Some(400),
        }),
        ..AzureWorkload::default()
    });
    let e = run(&w);
    let azure = e.cloud(Cloud::Azure).expect("azure");
    assert_close(line(azure, "Hot storage").quantity, DAILY_GB * 30.0);
    assert_close(line(azure, "Cool storage").quantity, DAILY_GB * 30.0);
    assert_close(line(azure, "Cold storage").quantity, DAILY_GB * 90.0);
    assert_close(line(azure, "Archive storage").quantity, DAILY_GB * 250.0);
    assert!(
        !azure
            .lines
            .iter()
            .any(|l| l.item.contains("early deletion"))
    );
    // One blob per message: 87.6M writes to Hot at $0.05/10k, then one write per tier change.
    assert_close(line(azure, "write operations").quantity, 8_760.0);
    assert_close(
        line(azure, "tier changes to Cold").monthly_usd,
        8_760.0 * 0.18,
    );
}
