//! Advice is priced by re-running the estimate: each test builds a workload where one change
//! should pay off and checks the saving against the arithmetic.

mod cost_support;

use cost_support::{Fleet, estimate};
use fleetform::capacity::{BlobTier, EventHubsTier, HubPin, HubSku, S3StorageClass};
use fleetform::clouds::aws::cost::{
    AwsStream, AwsWorkload, Kinesis, KinesisMode, S3Archive, S3Transition, Versioning,
};
use fleetform::clouds::azure::cost::{AzureWorkload, BlobArchive, BlobTransition, EventHubs};
use fleetform::cost::{Advice, Batching, Cloud, Error, Estimate, PriceBook};

fn book() -> PriceBook {
    PriceBook::embedded().expect("embedded price book")
}

fn run(w: &Fleet) -> Estimate {
    estimate(w, &book()).expect("estimates")
}

fn find<'a>(e: &'a Estimate, cloud: Cloud, title: &str) -> Option<&'a Advice> {
    e.advice
        .iter()
        .find(|a| a.cloud == cloud && a.title.contains(title))
}

fn assert_close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 1e-6,
        "expected {expected}, got {actual}"
    );
}

/// 10,000 devices, 288 messages a day, rule → nothing; a plain Standard hub.
fn fleet(message_bytes: u64) -> Fleet {
    let mut w = Fleet::new(10_000, 288.0, message_bytes);
    w.aws = Some(AwsWorkload::default());
    w.azure = Some(AzureWorkload::default());
    w
}

#[test]
fn azure_quota_boundary_just_over_8_kb() {
    // 8,192 B payload + 100 B of properties: 3 quota blocks (12 KB) on Azure, still 2 on AWS.
    let e = run(&fleet(8_292));
    let trim = find(
        &e,
        Cloud::Azure,
        "Trim telemetry messages by 100 B to 8,192 B",
    )
    .expect("azure trim advice");
    // 2,880,000 × 3 = 8,640,000/day → S2 × 2 ($500); at 8,192 B: 5,760,000/day → S2 × 1 ($250).
    assert_close(trim.monthly_saving_usd, 250.0);
    assert!(trim.detail.contains("3 × 4 KB = 12 KB"), "{}", trim.detail);
    assert!(find(&e, Cloud::Aws, "Trim").is_none(), "{:#?}", e.advice);
}

#[test]
fn aws_message_boundary_just_over_5_kb() {
    // 5,200 B: 2 message blocks; 80 B less fits one. Messaging, rules and actions each halve.
    let e = run(&fleet(5_200));
    let trim = find(&e, Cloud::Aws, "Trim telemetry messages by 80 B to 5,120 B")
        .expect("aws trim advice");
    // 87.6M messages × $1.00/M + 87.6M rules × $0.15/M + 87.6M actions × $0.15/M.
    assert_close(trim.monthly_saving_usd, 87.6 + 13.14 + 13.14);
    // Azure meters 4 KB blocks: 5,200 B is 2 blocks and 5,120 B still is.
    assert!(find(&e, Cloud::Azure, "Trim").is_none(), "{:#?}", e.advice);
}

#[test]
fn no_trim_advice_far_from_a_boundary() {
    // 8,192 B on AWS would need 3,072 B trimmed to drop a block: not "just over".
    let e = run(&fleet(8_192));
    assert!(find(&e, Cloud::Aws, "Trim").is_none(), "{:#?}", e.advice);
}

#[test]
fn basic_hub_when_no_standard_features() {
    let e = run(&fleet(1_500));
    // 2,880,000/day: S1 × 8 ($200) today; B2 × 1 ($50) fits.
    let basic = find(&e, Cloud::Azure, "Use a Basic IoT Hub (B2 × 1)").expect("basic advice");
    assert_close(basic.monthly_saving_usd, 150.0);

    let mut twins = fleet(1_500);
    twins.shadow_updates_per_device_per_day = 1.0;
    twins.shadow_document_bytes = 500;
    let e = run(&twins);
    assert!(find(&e, Cloud::Azure, "Basic IoT Hub").is_none());
}

#[test]
fn pinned_hub_larger_than_needed() {
    let mut w = fleet(1_500);
    w.azure.as_mut().expect("azure").pin_hubs(Some(HubPin {
        sku: HubSku::S2,
        units: Some(3),
    }));
    let e = run(&w);
    let advice =
        find(&e, Cloud::Azure, "Size the hub as S1 × 8 instead of S2 × 3").expect("sizing advice");
    assert_close(advice.monthly_saving_usd, 750.0 - 200.0);
}

#[test]
fn pinned_hub_too_small_is_billed_and_throttles() {
    // The plan builds a pinned hub even when it is too small (validation warns): the bill is
    // its units, and the estimate says devices are throttled.
    let mut w = fleet(1_500);
    w.azure.as_mut().expect("azure").pin_hubs(Some(HubPin {
        sku: HubSku::S1,
        units: Some(2),
    }));
    let e = run(&w);
    let hub = &e.cloud(Cloud::Azure).expect("azure").lines[0];
    assert_eq!((hub.item.as_str(), hub.quantity), ("hub units", 2.0));
    assert_close(hub.monthly_usd, 50.0);
    let note = e
        .assumptions
        .iter()
        .find(|a| {
            a.text
                .contains("are throttled once the daily quota is used up")
        })
        .expect("throttling note");
    assert!(
        note.text
            .contains("S1 × 2 carries 800,000 quota messages a day")
            && note.text.contains("fleet sends 2,880,000")
            && note.text.contains("unless it moves to S1 × 8"),
        "{}",
        note.text
    );
}

#[test]
fn basic_ingest_only_without_subscribers() {
    let e = run(&fleet(1_500));
    let advice = find(&e, Cloud::Aws, "Basic Ingest").expect("basic ingest advice");
    assert_close(advice.monthly_saving_usd, 87.6);

    let mut w = fleet(1_500);
    w.subscriber_deliveries_per_message = 1.0;
    let e = run(&w);
    assert!(find(&e, Cloud::Aws, "Basic Ingest").is_none());
}

#[test]
fn basic_ingest_with_subscribers_is_rejected() {
    let mut w = fleet(1_500);
    w.subscriber_deliveries_per_message = 1.0;
    w.aws.as_mut().expect("aws").basic_ingest = true;
    let err = estimate(&w, &book()).expect_err("contradiction");
    assert!(
        matches!(
            err,
            Error::Workload {
                field: "aws.basic_ingest",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn batching_saves_per_message_charges() {
    let e = run(&fleet(1_000));
    let batch = find(&e, Cloud::Aws, "Batch 4 readings").expect("batching advice");
    // 4 × 1,000 B = 4,000 B, still one 5 KB block: messaging, rules and actions drop to 1/4.
    assert_close(batch.monthly_saving_usd, (87.6 + 13.14 + 13.14) * 0.75);
    assert!(
        batch.detail.contains("batching 2 saves"),
        "{}",
        batch.detail
    );
}

fn archive_fleet(transition: S3StorageClass, after: u32, expire: u32, object: u64) -> Fleet {
    let mut w = fleet(1_500);
    w.aws.as_mut().expect("aws").stream = AwsStream::Firehose;
    w.aws.as_mut().expect("aws").archive = Some(S3Archive {
        batching: Batching::ObjectBytes(object),
        transitions: vec![S3Transition {
            class: transition,
            after_days: after,
        }],
        expire_after_days: Some(expire),
        versioning: Versioning::Disabled,
        small_object_transitions: false,
    });
    w
}

#[test]
fn small_objects_do_not_transition_and_advice_says_batch() {
    let w = archive_fleet(S3StorageClass::GlacierDeepArchive, 30, 365, 64 * 1024);
    let e = run(&w);
    let aws = e.cloud(Cloud::Aws).expect("aws");
    assert!(!aws.lines.iter().any(|l| l.item.contains("Deep Archive")));
    assert!(
        e.assumptions
            .iter()
            .any(|a| a.text.contains("under S3's 128 KB lifecycle minimum")),
        "{:#?}",
        e.assumptions
    );
    let batch = find(&e, Cloud::Aws, "Batch archive objects to").expect("batch advice");
    assert!(batch.detail.contains("average 64 KB"), "{}", batch.detail);
    // Opting small objects in would cost more: a $0.05/1k transition and 40 KB of overhead per
    // 64 KB object outweigh eleven months of cheaper storage, so there is no such advice.
    assert!(find(&e, Cloud::Aws, "small objects to Glacier").is_none());
    // With 100 KB objects and ten years in Deep Archive the opt-in pays off.
    let mut long = archive_fleet(S3StorageClass::GlacierDeepArchive, 0, 3_650, 100 * 1024);
    long.aws
        .as_mut()
        .expect("aws")
        .archive
        .as_mut()
        .expect("archive")
        .transitions[0]
        .after_days = 1;
    let e = run(&long);
    assert!(
        find(&e, Cloud::Aws, "small objects to Glacier").is_some(),
        "{:#?}",
        e.advice
    );
}

#[test]
fn minimum_duration_longer_than_the_stay() {
    // 128 KB objects moved to Deep Archive at day 30 and deleted at day 90: 60 days in a class
    // billed for 180. Requests and the 40 KB per-object overhead outweigh the saving.
    let w = archive_fleet(S3StorageClass::GlacierDeepArchive, 30, 90, 128 * 1024);
    let e = run(&w);
    let aws = e.cloud(Cloud::Aws).expect("aws");
    let early = aws
        .lines
        .iter()
        .find(|l| l.item == "Glacier Deep Archive early deletion")
        .expect("early deletion line");
    // 4.0233 GB/day × (180 − 60) days × $0.00099.
    assert_close(
        early.quantity,
        4_320_000_000.0 / f64::from(1u32 << 30) * 120.0,
    );
    let drop = find(
        &e,
        Cloud::Aws,
        "its 180-day minimum is longer than the 60 days objects stay",
    )
    .expect("drop advice");
    assert!(drop.monthly_saving_usd > 0.0);
}

#[test]
fn transition_that_costs_more_than_it_saves() {
    // Standard-IA for the last 15 days of 45, in 128 KB objects: 30-day minimum, transition
    // requests and the lower price do not pay off.
    let w = archive_fleet(S3StorageClass::StandardIa, 30, 45, 128 * 1024);
    let e = run(&w);
    let drop = find(&e, Cloud::Aws, "Drop the move to Standard-IA").expect("drop advice");
    let base = e.cloud(Cloud::Aws).expect("aws").total_usd;
    let mut without = w.clone();
    without
        .aws
        .as_mut()
        .expect("aws")
        .archive
        .as_mut()
        .expect("archive")
        .transitions
        .clear();
    let alternative = run(&without).cloud(Cloud::Aws).expect("aws").total_usd;
    assert_close(drop.monthly_saving_usd, base - alternative);
}

#[test]
fn standard_ia_before_30_days_is_rejected() {
    let w = archive_fleet(S3StorageClass::StandardIa, 10, 90, 1 << 20);
    let err = estimate(&w, &book()).expect_err("S3 rejects it");
    assert!(matches!(err, Error::Workload { .. }), "{err:?}");
}

#[test]
fn stream_alternatives_are_priced() {
    let mut w = fleet(1_500);
    w.aws.as_mut().expect("aws").stream = AwsStream::KinesisToFirehose(Kinesis {
        mode: KinesisMode::OnDemand,
        retention_hours: 24,
        consumers: 1,
    });
    let e = run(&w);
    // On-demand: 730 h × $0.04 = 29.20; data in 87.6M × 2,048 B = 167.08 GB × $0.08 = 13.3667;
    // data out 87.6M × 1,500 B = 122.38 GB × $0.04 = 4.895; total 47.4617.
    // Provisioned: 1 shard × 730 h × $0.015 = 10.95 + 87.6M PUT units × $0.014/M = 1.2264.
    let gb = f64::from(1u32 << 30);
    let on_demand = 29.2 + 87.6e6 * 2_048.0 / gb * 0.08 + 87.6e6 * 1_500.0 / gb * 0.04;
    let provisioned =
        find(&e, Cloud::Aws, "Run the Kinesis stream in provisioned mode").expect("mode advice");
    assert_close(provisioned.monthly_saving_usd, on_demand - (10.95 + 1.2264));
    // Firehose stays either way; dropping the stream saves all of it.
    let firehose = find(&e, Cloud::Aws, "Firehose directly").expect("firehose advice");
    assert_close(firehose.monthly_saving_usd, on_demand);
}

#[test]
fn capture_and_event_hubs_tier() {
    let mut w = fleet(1_500);
    w.azure.as_mut().expect("azure").event_hubs = Some(EventHubs {
        tier: EventHubsTier::Standard,
        units: None,
        capture: true,
    });
    let e = run(&w);
    let capture = find(&e, Cloud::Azure, "instead of Event Hubs Capture").expect("capture advice");
    assert_close(capture.monthly_saving_usd, 73.0);

    w.azure
        .as_mut()
        .expect("azure")
        .event_hubs
        .as_mut()
        .expect("event hubs")
        .capture = false;
    let e = run(&w);
    let basic = find(&e, Cloud::Azure, "Use Event Hubs Basic").expect("basic tier advice");
    assert_close(basic.monthly_saving_usd, 10.95);
}

#[test]
fn blob_tier_with_early_deletion() {
    let mut w = fleet(1_500);
    w.azure.as_mut().expect("azure").archive = Some(BlobArchive {
        batching: Batching::ObjectsPerDay(288.0),
        transitions: vec![BlobTransition {
            tier: BlobTier::Cool,
            after_days: 20,
        }],
        expire_after_days: Some(35),
    });
    let e = run(&w);
    let azure = e.cloud(Cloud::Azure).expect("azure");
    let early = azure
        .lines
        .iter()
        .find(|l| l.item == "Cool early deletion")
        .expect("early deletion line");
    // 15 days in Cool, billed for 30.
    assert_close(
        early.quantity,
        4_320_000_000.0 / f64::from(1u32 << 30) * 15.0,
    );
    let drop = find(
        &e,
        Cloud::Azure,
        "its 30-day minimum is longer than the 15 days blobs stay",
    )
    .expect("drop advice");
    // Hot for 15 more days ($0.0208) beats Cool for 30 billed days ($0.0152) plus tier writes.
    assert!(drop.monthly_saving_usd > 0.0);
}

#[test]
fn peak_factor_sizes_shards_and_throughput_units() {
    let mut w = fleet(1_500);
    // 33.3 messages/s average; a peak 40 times higher is 1,333 records/s.
    w.peak_factor = 40.0;
    w.aws.as_mut().expect("aws").stream = AwsStream::Kinesis(Kinesis::default());
    w.azure.as_mut().expect("azure").event_hubs = Some(EventHubs {
        tier: EventHubsTier::Standard,
        units: None,
        capture: false,
    });
    let e = run(&w);
    let shards = e
        .cloud(Cloud::Aws)
        .expect("aws")
        .lines
        .iter()
        .find(|l| l.item == "shard hours")
        .expect("shards");
    assert_close(shards.quantity, 2.0 * 730.0);
    let tus = e
        .cloud(Cloud::Azure)
        .expect("azure")
        .lines
        .iter()
        .find(|l| l.item == "throughput unit hours")
        .expect("TUs");
    assert_close(tus.quantity, 2.0 * 730.0);
    assert!(
        e.assumptions
            .iter()
            .any(|a| a.text.contains("send throttle")),
        "{:#?}",
        e.assumptions
    );
}

#[test]
fn invalid_workloads_are_errors_not_panics() {
    let mut w = fleet(1_500);
    w.peak_factor = 0.5;
    assert!(estimate(&w, &book()).is_err());
    let mut w = fleet(1_500);
    w.hours_connected_per_day = 25.0;
    assert!(estimate(&w, &book()).is_err());
    let mut w = fleet(1_500);
    w.messages_per_device_per_day = f64::NAN;
    assert!(estimate(&w, &book()).is_err());
    let mut w = fleet(1_500);
    w.azure.as_mut().expect("azure").event_hubs = Some(EventHubs {
        tier: EventHubsTier::Basic,
        units: None,
        capture: true,
    });
    assert!(estimate(&w, &book()).is_err());
    let mut w = Fleet::new(100_000_000, 100_000.0, 1_000);
    w.azure = Some(AzureWorkload::default());
    let err = estimate(&w, &book()).expect_err("no hub fits");
    assert!(err.to_string().contains("no IoT Hub tier fits"), "{err}");
}

/// A hub near its daily quota gets a note naming the next size up and what it would cost: at
/// the price book's unit price (here an override of $30 per S1 unit, not the $25 list default),
/// for every hub. 1,000 devices × 780 messages of 1 KB = 780,000 a day over 2 hubs is 390,000
/// per hub, 97.5% of S1 × 1; the next size, S1 × 2 per hub × 2 hubs, is 4 × $30 = $120.
#[test]
fn the_headroom_note_prices_the_next_size_from_the_book_for_every_hub() {
    let mut w = Fleet::new(1_000, 780.0, 1_000);
    let mut azure = AzureWorkload {
        hubs: AzureWorkload::even_hubs(2),
        ..AzureWorkload::default()
    };
    azure.pin_hubs(Some(HubPin {
        sku: HubSku::S1,
        units: Some(1),
    }));
    w.azure = Some(azure);
    let book = PriceBook::with_overrides("azure.iot_hub.standard_s1.price_usd: 30\n", "p.yaml")
        .expect("valid override");
    let e = estimate(&w, &book).expect("estimates");
    let hub = &e.clouds[0].lines[0];
    assert_close(hub.monthly_usd, 60.0);
    let note = e
        .assumptions
        .iter()
        .find(|a| a.text.contains("of its daily quota"))
        .expect("a headroom note");
    assert!(
        note.text
            .contains("unless it moves to S1 × 2 per hub × 2 hubs ($120.00 a month"),
        "{}",
        note.text
    );
    assert!(
        note.text.contains("S1 × 1 per hub × 2 hubs runs at 97.5%"),
        "{}",
        note.text
    );
}

/// The planner sized the hub for the fleet a year ahead; the sizing advice must not undercut
/// it with a size that only fits today. 2,880,000 quota messages a day today fit S1 × 8
/// ($200), but 3,600,000 are planned (25% growth), which needs S1 × 9 ($225): against a pinned
/// S2 × 1 ($250) that saves $25, not $50.
#[test]
fn hub_sizing_advice_fits_the_planned_volume() {
    let mut w = fleet(1_500);
    w.shadow_updates_per_device_per_day = 1.0; // twins: Standard only, no Basic advice
    w.shadow_document_bytes = 500;
    let azure = w.azure.as_mut().expect("azure");
    azure.pin_hubs(Some(HubPin {
        sku: HubSku::S2,
        units: Some(1),
    }));
    azure.hubs[0].planned_daily_quota_messages = Some(3_600_000);
    let e = run(&w);
    let advice = find(&e, Cloud::Azure, "Size the hub as S1 × 9 instead of S2 × 1")
        .unwrap_or_else(|| panic!("sizing advice for the planned volume: {:#?}", e.advice));
    assert_close(advice.monthly_saving_usd, 25.0);
    assert!(
        advice
            .detail
            .contains("3,600,000 quota messages a day (planned a year ahead) fit S1 × 9"),
        "{}",
        advice.detail
    );
    // The bill itself is today's: the pinned S2 × 1.
    assert_close(e.clouds[1].lines[0].monthly_usd, 250.0);
}

/// With several hubs the advice says the size is per hub, and the saving counts every hub:
/// 2 hubs pinned at S2 × 1 carry 1,445,000 a day each; S1 × 4 per hub fits, saving
/// 2 × ($250 − $100) = $300.
#[test]
fn hub_sizing_advice_for_several_hubs_says_per_hub() {
    let mut w = fleet(1_500);
    w.shadow_updates_per_device_per_day = 1.0;
    w.shadow_document_bytes = 500;
    let azure = w.azure.as_mut().expect("azure");
    azure.pin_hubs(Some(HubPin {
        sku: HubSku::S2,
        units: Some(1),
    }));
    let pin = azure.hubs[0].pin;
    azure.hubs = AzureWorkload::even_hubs(2);
    azure.pin_hubs(pin);
    let e = run(&w);
    let advice = find(&e, Cloud::Azure, "S1 × 4")
        .unwrap_or_else(|| panic!("sizing advice: {:#?}", e.advice));
    assert_close(advice.monthly_saving_usd, 300.0);
    assert!(
        advice.detail.contains("per hub × 2 hubs"),
        "{}",
        advice.detail
    );
}

/// A pinned Standard hub (the CLI always pins the planner's size) on a fleet without twins,
/// C2D or methods: Basic is still worth suggesting. S1 × 8 ($200) → B2 × 1 ($50).
#[test]
fn basic_hub_advice_also_when_the_hub_is_pinned() {
    let mut w = fleet(1_500);
    w.azure.as_mut().expect("azure").pin_hubs(Some(HubPin {
        sku: HubSku::S1,
        units: Some(8),
    }));
    let e = run(&w);
    let basic = find(&e, Cloud::Azure, "Use a Basic IoT Hub (B2 × 1)")
        .unwrap_or_else(|| panic!("basic advice: {:#?}", e.advice));
    assert_close(basic.monthly_saving_usd, 150.0);

    // A fleet that declares C2D, twins or methods needs Standard even at a zero rate.
    w.azure.as_mut().expect("azure").needs_standard_hub = true;
    let e = run(&w);
    assert!(
        find(&e, Cloud::Azure, "Basic IoT Hub").is_none(),
        "{:#?}",
        e.advice
    );
}
