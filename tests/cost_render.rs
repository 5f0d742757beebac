//! Snapshot tests of the estimate and delta renderers (text, markdown, JSON), plus budget and
//! price-override behaviour seen from outside the crate.

mod cost_support;

use cost_support::{Fleet, estimate};
use fleetform::capacity::{BlobTier, EventHubsTier, HubPin, HubSku, S3StorageClass};
use fleetform::clouds::aws::cost::{
    AwsStream, AwsWorkload, DynamoDbWorkload, Kinesis, KinesisMode, LambdaArchitecture,
    LambdaWorkload, S3Archive, S3Transition, Versioning,
};
use fleetform::clouds::azure::cost::{
    AzureWorkload, BlobArchive, BlobTransition, CosmosDbWorkload, EventHubs, HubLoad,
};
use fleetform::cost::{
    Batching, Budget, Cloud, Estimate, FunctionWorkload, PriceBook, compare, exceeds, render,
};

/// The reference's worked example (10,000 devices, 288 messages a day), glue included.
fn worked_example(message_bytes: u64) -> Fleet {
    let mut w = Fleet::new(10_000, 288.0, message_bytes);
    w.shadow_updates_per_device_per_day = 24.0;
    w.shadow_document_bytes = 1024;
    w.aws = Some(AwsWorkload {
        stream: AwsStream::KinesisToFirehose(Kinesis::default()),
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
            capture: true,
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

/// A smaller fleet that touches every service and several kinds of advice.
fn kitchen_sink() -> Fleet {
    let mut w = Fleet::new(2_000, 1_440.0, 8_300);
    w.message_overhead_bytes = 200;
    w.hours_connected_per_day = 24.0;
    w.shadow_updates_per_device_per_day = 4.0;
    w.shadow_document_bytes = 1_500;
    w.c2d_messages_per_device_per_day = 2.0;
    w.c2d_message_bytes = 300;
    w.method_calls_per_device_per_day = 1.0;
    w.method_request_bytes = 200;
    w.method_response_bytes = 200;
    w.peak_factor = 3.0;
    let alerts = FunctionWorkload {
        invocation_fraction: 0.01,
        functions: 1,
        memory_mb: 256,
        avg_duration_ms: 120.0,
    };
    w.aws = Some(AwsWorkload {
        rules_per_message: 1.0,
        actions_per_rule: 2.0,
        stream: AwsStream::Kinesis(Kinesis {
            mode: KinesisMode::OnDemand,
            retention_hours: 72,
            consumers: 1,
        }),
        lambda: Some(LambdaWorkload {
            function: alerts.clone(),
            architecture: LambdaArchitecture::Arm64,
        }),
        dynamodb: Some(DynamoDbWorkload {
            writes_per_month: 2_000.0 * 1_440.0 * 730.0 / 24.0,
            reads_per_month: 1_000_000.0,
            item_bytes: 600,
            items: 2_000,
            eventually_consistent_reads: true,
        }),
        archive: Some(S3Archive {
            batching: Batching::ObjectBytes(64 * 1024),
            transitions: vec![
                S3Transition {
                    class: S3StorageClass::StandardIa,
                    after_days: 30,
                },
                S3Transition {
                    class: S3StorageClass::GlacierFlexibleRetrieval,
                    after_days: 60,
                },
            ],
            expire_after_days: Some(120),
            versioning: Versioning::Enabled {
                noncurrent_expire_after_days: Some(7),
            },
            small_object_transitions: false,
        }),
        ..AwsWorkload::default()
    });
    w.azure = Some(AzureWorkload {
        hubs: vec![HubLoad {
            pin: Some(HubPin {
                sku: HubSku::S1,
                units: Some(200),
            }),
            ..HubLoad::default()
        }],
        event_hubs: Some(EventHubs {
            tier: EventHubsTier::Standard,
            units: None,
            capture: false,
        }),
        archive: Some(BlobArchive {
            batching: Batching::ObjectsPerDay(1_440.0),
            transitions: vec![
                BlobTransition {
                    tier: BlobTier::Cool,
                    after_days: 7,
                },
                BlobTransition {
                    tier: BlobTier::Archive,
                    after_days: 30,
                },
            ],
            expire_after_days: Some(90),
        }),
        functions: Some(alerts),
        cosmos_db: Some(CosmosDbWorkload {
            writes_per_month: 1_000_000.0,
            reads_per_month: 500_000.0,
            ru_per_write: 6.0,
            ru_per_read: 1.0,
            items: 2_000,
            item_bytes: 800,
        }),
        stream_analytics_units: 1,
        ..AzureWorkload::default()
    });
    w
}

fn run(w: &Fleet) -> Estimate {
    let book = PriceBook::embedded().expect("embedded price book");
    estimate(w, &book).expect("estimates")
}

#[test]
fn worked_example_text() {
    insta::assert_snapshot!(render::text(&run(&worked_example(1_500))));
}

#[test]
fn worked_example_markdown() {
    insta::assert_snapshot!(render::markdown(&run(&worked_example(1_500))));
}

#[test]
fn worked_example_json() {
    let json = render::json(&run(&worked_example(1_500))).expect("serializes");
    insta::assert_snapshot!(json);
}

#[test]
fn json_is_deterministic_and_round_trips() {
    let estimate = run(&worked_example(8_192));
    let first = render::json(&estimate).expect("serializes");
    let second = render::json(&run(&worked_example(8_192))).expect("serializes");
    assert_eq!(first, second);
    let parsed: Estimate = serde_json::from_str(&first).expect("parses back");
    assert_eq!(parsed.clouds.len(), 2);
    assert_eq!(
        fleetform::cost::format::usd(parsed.clouds[1].total_usd),
        "$368.48"
    );
}

#[test]
fn kitchen_sink_text() {
    insta::assert_snapshot!(render::text(&run(&kitchen_sink())));
}

#[test]
fn delta_renderers() {
    let base = run(&worked_example(1_500));
    let head = run(&worked_example(8_192));
    let delta = compare(&base, &head);
    insta::assert_snapshot!("delta_text", fleetform::cost::compare::text(&delta));
    insta::assert_snapshot!("delta_markdown", fleetform::cost::compare::markdown(&delta));
    insta::assert_snapshot!(
        "delta_json",
        fleetform::cost::compare::json(&delta).expect("serializes")
    );
}

#[test]
fn delta_of_identical_estimates_is_empty() {
    let estimate = run(&worked_example(1_500));
    let delta = compare(&estimate, &estimate);
    assert!(delta.is_empty());
    assert!(fleetform::cost::compare::text(&delta).ends_with("The estimate does not change.\n"));
}

#[test]
fn delta_when_a_cloud_is_added() {
    let mut aws_only = worked_example(1_500);
    aws_only.azure = None;
    let base = run(&aws_only);
    let head = run(&worked_example(1_500));
    let delta = compare(&base, &head);
    let azure = delta
        .clouds
        .iter()
        .find(|c| c.cloud == Cloud::Azure)
        .expect("azure delta");
    assert_eq!(azure.base_total_usd, None);
    assert!(
        azure
            .lines
            .iter()
            .all(|l| l.change == fleetform::cost::Change::Added)
    );
    assert!((azure.delta_usd - head.clouds[1].total_usd).abs() < 1e-9);
}

#[test]
fn budgets_compare_to_the_cent() {
    let estimate = run(&worked_example(1_500));
    // AWS $194.25, Azure $301.33.
    assert!(!exceeds(&estimate, 301.33));
    assert!(exceeds(&estimate, 301.32));
    assert!(exceeds(&estimate, 194.0));
    let budget = Budget {
        per_cloud_usd: Some(200.0),
        combined_usd: Some(495.0),
    };
    let breaches = budget.breaches(&estimate);
    assert_eq!(breaches.len(), 2, "{breaches:?}");
    assert_eq!(breaches[0].cloud, Some(Cloud::Azure));
    assert_eq!(breaches[1].cloud, None);
    assert!(Budget::default().breaches(&estimate).is_empty());
}

#[test]
fn price_overrides_flow_into_the_estimate() {
    let book = PriceBook::with_overrides("aws.iot_core.messaging.price_usd: 0.9\n", "prices.yaml")
        .expect("valid override");
    let estimate = estimate(&worked_example(1_500), &book).expect("estimates");
    let aws = estimate.cloud(Cloud::Aws).expect("aws");
    let messaging = aws
        .lines
        .iter()
        .find(|l| l.item == "messaging")
        .expect("messaging line");
    // 94.9M messages × $0.90/M.
    assert!((messaging.monthly_usd - 85.41).abs() < 1e-9);
    assert_eq!(fleetform::cost::format::usd(aws.total_usd), "$184.76");
}
