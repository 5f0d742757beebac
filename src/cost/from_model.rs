//! From the fleet model to the estimator's [`Workload`]: the architecture the planners build,
//! as the numbers the bill depends on.
//!
//! Sizes the planners computed (Kinesis shards, Event Hubs throughput units, the IoT Hub SKU
//! and units per hub) are passed through as pinned values, so the estimate prices exactly the
//! capacity the generated Terraform creates. Usage is today's fleet (the bill now), while that
//! capacity was sized for the planned fleet a year ahead.
//!
//! Where the spec cannot know a figure, the assumption is fixed here and stated in the
//! estimate: function memory and duration, messages in both directions sized like telemetry,
//! dashboards reading each device's state once an hour.

use crate::capacity::{self, HubPin};
use crate::model::{
    self, AwsStreamService, AzureAlertEngine, Destination, KinesisCapacity, Model, RouteSource,
};

use super::model::{Assumption, Cloud};
use super::pricebook::PriceBook;
use super::workload::{
    AwsStream, AwsWorkload, AzureWorkload, Batching, BlobArchive, BlobTransition, CosmosDbWorkload,
    DynamoDbWorkload, EventHubs, FunctionWorkload, Kinesis, KinesisMode, LambdaArchitecture,
    LambdaWorkload, S3Archive, S3Transition, Versioning, Workload,
};

/// Memory of generated alert and state functions, MB.
const FUNCTION_MEMORY_MB: u32 = 256;
/// Average run time of a generated function, ms.
const FUNCTION_DURATION_MS: f64 = 120.0;
/// Default lifetime of an Azure state document (`state_store_ttl_days`).
const AZURE_STATE_TTL_DAYS: f64 = 30.0;
/// Request units of one Cosmos DB upsert of a small (≤ 1 KB) state item.
const COSMOS_RU_PER_WRITE: f64 = 6.0;

/// Assumptions this mapping makes, to print with the estimate.
pub const ASSUMPTIONS: [&str; 4] = [
    "Cloud-to-device messages and direct-method requests and responses are sized like telemetry.",
    "Generated functions run with 256 MB for about 120 ms per invocation.",
    "With a web API, dashboards read each device's latest state once an hour.",
    "A device-state write costs 6 Cosmos DB request units (≤ 1 KB items, default indexing).",
];

/// A note for each cloud `model` deploys outside the region of `book`'s prices (the book has
/// one region per cloud), to print with the estimate.
pub fn region_assumptions(model: &Model, book: &PriceBook) -> Vec<Assumption> {
    let regions = [
        (
            Cloud::Aws,
            model.aws.as_ref().map(|a| a.region.as_str()),
            book.meta.regions.aws.as_str(),
            "aws",
        ),
        (
            Cloud::Azure,
            model.azure.as_ref().map(|a| a.location.as_str()),
            book.meta.regions.azure.as_str(),
            "azure",
        ),
    ];
    regions
        .into_iter()
        .filter_map(|(cloud, spec, priced, key)| {
            let spec = spec.filter(|spec| !same_region(spec, priced))?;
            Some(Assumption {
                cloud: Some(cloud),
                text: format!(
                    "Figures are list prices for {priced}; the spec deploys to {spec}, where \
                     prices can differ. To price {spec}, pass a price book with its prices and \
                     `meta.regions.{key}: {spec}` (`--pricebook`)."
                ),
            })
        })
        .collect()
}

/// Whether two region names are the same, ignoring case, spaces and dashes (Azure accepts
/// both `eastus2` and `East US 2`).
fn same_region(a: &str, b: &str) -> bool {
    let key = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    key(a) == key(b)
}

/// The workload of `model`: today's usage on the capacity the planners sized.
pub fn workload(model: &Model) -> Workload {
    let msg = &model.messaging;
    let messages_per_device_per_day =
        msg.messages_per_device_per_hour * msg.connected_hours_per_day;
    let mut w = Workload::new(
        model.traffic.devices,
        messages_per_device_per_day,
        msg.message_bytes,
    );
    w.hours_connected_per_day = msg.connected_hours_per_day;
    if msg.state {
        w.shadow_updates_per_device_per_day = msg.state_updates_per_device_per_day;
        w.shadow_document_bytes = msg.state_document_bytes;
    }
    if msg.commands {
        w.c2d_messages_per_device_per_day = msg.commands_per_device_per_day;
        w.c2d_message_bytes = msg.message_bytes;
    }
    if msg.direct_methods {
        w.method_calls_per_device_per_day = msg.method_calls_per_device_per_day;
        w.method_request_bytes = msg.message_bytes;
        w.method_response_bytes = msg.message_bytes;
    }
    w.peak_factor = msg.peak_factor.max(1.0);
    w.aws = model.aws.as_ref().map(|aws| aws_workload(model, aws, &w));
    w.azure = model.azure.as_ref().map(|az| azure_workload(model, az, &w));
    w
}

fn telemetry_routes(model: &Model) -> impl Iterator<Item = &model::Route> {
    model
        .routes
        .iter()
        .filter(|r| r.source == RouteSource::Telemetry)
}

/// Share of telemetry written to the state store each month.
fn state_writes_per_month(model: &Model, w: &Workload) -> f64 {
    if !model.features.state_store {
        return 0.0;
    }
    let routed = telemetry_routes(model)
        .filter(|r| r.to.contains(&Destination::StateStore))
        .count();
    w.devices as f64
        * w.messages_per_device_per_day
        * capacity::DAYS_PER_MONTH
        * routed.min(1) as f64
}

fn state_reads_per_month(model: &Model, w: &Workload) -> f64 {
    if model.features.web_api {
        w.devices as f64 * 24.0 * capacity::DAYS_PER_MONTH
    } else {
        0.0
    }
}

fn functions(model: &Model) -> Option<FunctionWorkload> {
    let fraction: f64 = model
        .alerts
        .iter()
        .filter(|a| a.function)
        .map(|a| a.expected_match_fraction)
        .sum();
    (fraction > 0.0).then_some(FunctionWorkload {
        invocation_fraction: fraction.min(1.0),
        functions: 1,
        memory_mb: FUNCTION_MEMORY_MB,
        avg_duration_ms: FUNCTION_DURATION_MS,
    })
}

/// Bytes of telemetry per day, today.
fn bytes_per_day(w: &Workload) -> f64 {
    w.devices as f64 * w.messages_per_device_per_day * w.message_bytes as f64
}

fn aws_workload(model: &Model, aws: &model::Aws, w: &Workload) -> AwsWorkload {
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
        let per_partition = if model.traffic.planned_devices
            <= crate::clouds::aws::FIREHOSE_DEVICE_PARTITIONS_MAX
        {
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
        lambda: functions(model).map(|function| LambdaWorkload {
            function,
            architecture: LambdaArchitecture::Arm64,
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

fn azure_workload(model: &Model, az: &model::Azure, w: &Workload) -> AzureWorkload {
    let eh = &az.event_hubs;
    let capture = eh.capture && model.archive.is_some();
    let streams = telemetry_routes(model).any(|r| r.to.contains(&Destination::Stream));
    let archive = model.archive.as_ref().map(|a| {
        // Capture writes one blob per partition per window, or sooner when the size window fills.
        let window_bytes = f64::from(eh.capture_size_mib) * capacity::MIB as f64;
        let per_partition_bytes = bytes_per_day(w) / f64::from(eh.partitions.max(1));
        let per_partition = (capacity::SECONDS_PER_DAY / f64::from(eh.capture_interval_seconds))
            .max(per_partition_bytes / window_bytes);
        BlobArchive {
            batching: Batching::ObjectsPerDay(
                (per_partition * f64::from(eh.partitions.max(1))).max(1.0),
            ),
            transitions: a
                .lifecycle
                .iter()
                .map(|t| BlobTransition {
                    tier: t.tier.blob_tier(),
                    after_days: t.after_days,
                })
                .collect(),
            expire_after_days: a.expire_after_days,
        }
    });
    AzureWorkload {
        hub_allow_basic: matches!(
            az.hub.sku,
            model::HubSku::B1 | model::HubSku::B2 | model::HubSku::B3
        ),
        needs_standard_hub: model.messaging.cloud_talks_back(),
        hub_pin: Some(HubPin {
            sku: az.hub.sku.into(),
            units: Some(az.hub.units),
        }),
        // The Free tier's plan is in 0.5 KB blocks; the other tiers' in 4 KB blocks.
        planned_daily_quota_messages: (az.hub.sku != model::HubSku::F1)
            .then_some(az.hub.planned_daily_quota_messages),
        hubs: u32::try_from(az.hubs.len()).unwrap_or(1).max(1),
        event_hubs: (streams || capture).then(|| EventHubs {
            tier: eh.tier.into(),
            units: Some(eh.throughput_units),
            capture,
        }),
        archive,
        functions: if az.alert_engine == AzureAlertEngine::Function {
            functions(model)
        } else {
            None
        },
        cosmos_db: model.features.state_store.then(|| CosmosDbWorkload {
            writes_per_month: state_writes_per_month(model, w),
            reads_per_month: state_reads_per_month(model, w),
            ru_per_write: COSMOS_RU_PER_WRITE,
            ru_per_read: 1.0,
            // Every routed message is a document that lives `state_store_ttl_days` (30 by
            // default) in the Azure module, so the container holds a month of messages.
            items: (state_writes_per_month(model, w) / capacity::DAYS_PER_MONTH
                * AZURE_STATE_TTL_DAYS)
                .ceil() as u64,
            item_bytes: w.message_bytes.max(w.shadow_document_bytes),
        }),
        stream_analytics_units: u32::from(
            az.alert_engine == AzureAlertEngine::StreamAnalytics && !model.alerts.is_empty(),
        ),
    }
}
