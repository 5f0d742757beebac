//! The estimator's input: the architecture a fleet spec compiles to, as plain numbers and enums.
//!
//! The estimator knows nothing of the spec. The CLI fills a [`Workload`] from the validated fleet
//! model (devices, traffic, which services the plan creates and how they are sized), so the same
//! numbers drive the Terraform plan and the bill. Every field says its unit; defaults are listed
//! on [`Workload::new`] and the `Default` impls.

use crate::capacity::{BlobTier, EventHubsTier, HubPin, S3StorageClass};

use super::Error;

/// A fleet and the cloud architecture it runs on, per month at steady state.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    /// Devices in the fleet.
    pub devices: u64,
    /// Telemetry messages each device sends per day (average).
    pub messages_per_device_per_day: f64,
    /// Metered size of one telemetry message in bytes: payload + topic + MQTT5 or application
    /// properties. The same bytes are the record size on streams and the bytes archived per
    /// message.
    pub message_bytes: u64,
    /// Bytes of `message_bytes` that every message repeats (topic, properties, envelope) rather
    /// than readings. Only the batching advice uses it: k readings batched into one message make
    /// `k × (message_bytes − overhead) + overhead` bytes. Default 0.
    pub message_overhead_bytes: u64,
    /// Hours per day each device stays connected (AWS connectivity is billed per minute).
    /// Default 24.
    pub hours_connected_per_day: f64,
    /// Device shadow (AWS) or reported-property twin (Azure) updates per device per day.
    pub shadow_updates_per_device_per_day: f64,
    /// Size of one shadow update document or twin patch, bytes. On AWS the same bytes meter
    /// the MQTT publish, so include the shadow topic when it could cross a 5 KB boundary.
    pub shadow_document_bytes: u64,
    /// Cloud-to-device messages per device per day (AWS: a back-end publish delivered to the
    /// device; Azure: C2D messages).
    pub c2d_messages_per_device_per_day: f64,
    /// Size of one cloud-to-device message, bytes.
    pub c2d_message_bytes: u64,
    /// Direct method calls (Azure) or MQTT request/response commands (AWS) per device per day.
    pub method_calls_per_device_per_day: f64,
    /// Size of one method request, bytes.
    pub method_request_bytes: u64,
    /// Size of one method response, bytes.
    pub method_response_bytes: u64,
    /// MQTT subscribers each telemetry message is delivered to (AWS messaging bills each
    /// delivery). 0 when only rules consume telemetry. Azure devices cannot subscribe to each
    /// other's telemetry, so Azure ignores it.
    pub subscriber_deliveries_per_message: f64,
    /// Ratio of the peak rate to the average rate, used to size shards and throughput units and
    /// to check hub throttles. 1.0 means traffic is spread evenly. Must be at least 1.
    pub peak_factor: f64,
    /// The AWS architecture, when the fleet targets AWS.
    pub aws: Option<AwsWorkload>,
    /// The Azure architecture, when the fleet targets Azure.
    pub azure: Option<AzureWorkload>,
}

impl Workload {
    /// A fleet of `devices` sending `messages_per_device_per_day` telemetry messages of
    /// `message_bytes`, connected 24 h a day, peak factor 1.0, with no shadows, C2D, methods or
    /// subscribers, and no cloud architecture yet.
    pub fn new(devices: u64, messages_per_device_per_day: f64, message_bytes: u64) -> Self {
        Self {
            devices,
            messages_per_device_per_day,
            message_bytes,
            message_overhead_bytes: 0,
            hours_connected_per_day: 24.0,
            shadow_updates_per_device_per_day: 0.0,
            shadow_document_bytes: 0,
            c2d_messages_per_device_per_day: 0.0,
            c2d_message_bytes: 0,
            method_calls_per_device_per_day: 0.0,
            method_request_bytes: 0,
            method_response_bytes: 0,
            subscriber_deliveries_per_message: 0.0,
            peak_factor: 1.0,
            aws: None,
            azure: None,
        }
    }

    /// Whether the fleet uses features only Standard IoT Hub tiers (and AWS device management)
    /// offer: twins, cloud-to-device messages or direct methods.
    pub fn uses_standard_hub_features(&self) -> bool {
        self.shadow_updates_per_device_per_day > 0.0
            || self.c2d_messages_per_device_per_day > 0.0
            || self.method_calls_per_device_per_day > 0.0
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        non_negative(
            "messages_per_device_per_day",
            self.messages_per_device_per_day,
        )?;
        non_negative("hours_connected_per_day", self.hours_connected_per_day)?;
        if self.hours_connected_per_day > 24.0 {
            return Err(invalid(
                "hours_connected_per_day",
                format!("a day has 24 hours, got {}", self.hours_connected_per_day),
            ));
        }
        non_negative(
            "shadow_updates_per_device_per_day",
            self.shadow_updates_per_device_per_day,
        )?;
        non_negative(
            "c2d_messages_per_device_per_day",
            self.c2d_messages_per_device_per_day,
        )?;
        non_negative(
            "method_calls_per_device_per_day",
            self.method_calls_per_device_per_day,
        )?;
        non_negative(
            "subscriber_deliveries_per_message",
            self.subscriber_deliveries_per_message,
        )?;
        if !self.peak_factor.is_finite() || self.peak_factor < 1.0 {
            return Err(invalid(
                "peak_factor",
                format!("must be at least 1.0, got {}", self.peak_factor),
            ));
        }
        if self.message_overhead_bytes > self.message_bytes {
            return Err(invalid(
                "message_overhead_bytes",
                format!(
                    "cannot exceed message_bytes ({} > {})",
                    self.message_overhead_bytes, self.message_bytes
                ),
            ));
        }
        if let Some(aws) = &self.aws {
            aws.validate(self)?;
        }
        if let Some(azure) = &self.azure {
            azure.validate()?;
        }
        Ok(())
    }
}

/// The AWS side: IoT Core, topic rules and what they feed.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsWorkload {
    /// Topic rules each telemetry message triggers, on average (fractional when a rule's topic
    /// filter matches only some messages).
    pub rules_per_message: f64,
    /// Actions per triggered rule, on average over the rules (each rule bills at least 1, so
    /// the average is at least 1).
    pub actions_per_rule: f64,
    /// Devices publish telemetry to `$aws/rules/<rule>/…` (Basic Ingest): no messaging charge,
    /// rules still billed, and no subscriber can receive the messages.
    pub basic_ingest: bool,
    /// Devices subscribe to the shadow `update/accepted` topic, so every shadow update also
    /// delivers a reply message.
    pub shadow_replies_subscribed: bool,
    /// What the telemetry rule writes to.
    pub stream: AwsStream,
    /// Lambda functions invoked by rules (e.g. alerts).
    pub lambda: Option<LambdaWorkload>,
    /// A DynamoDB table holding, e.g., the latest state per device.
    pub dynamodb: Option<DynamoDbWorkload>,
    /// The S3 telemetry archive.
    pub archive: Option<S3Archive>,
}

impl Default for AwsWorkload {
    /// One rule with one action, standard topics, no stream, no archive.
    fn default() -> Self {
        Self {
            rules_per_message: 1.0,
            actions_per_rule: 1.0,
            basic_ingest: false,
            shadow_replies_subscribed: false,
            stream: AwsStream::None,
            lambda: None,
            dynamodb: None,
            archive: None,
        }
    }
}

impl AwsWorkload {
    fn validate(&self, workload: &Workload) -> Result<(), Error> {
        non_negative("aws.rules_per_message", self.rules_per_message)?;
        non_negative("aws.actions_per_rule", self.actions_per_rule)?;
        if self.basic_ingest && workload.subscriber_deliveries_per_message > 0.0 {
            return Err(invalid(
                "aws.basic_ingest",
                "Basic Ingest messages go straight to the rules engine and cannot reach \
                 subscribers, but subscriber_deliveries_per_message is above 0"
                    .to_owned(),
            ));
        }
        match &self.stream {
            AwsStream::Kinesis(kinesis) | AwsStream::KinesisToFirehose(kinesis) => {
                if !(24..=8_760).contains(&kinesis.retention_hours) {
                    return Err(invalid(
                        "aws.stream.retention_hours",
                        format!(
                            "Kinesis keeps data 24 to 8,760 hours, got {}",
                            kinesis.retention_hours
                        ),
                    ));
                }
                if let KinesisMode::Provisioned {
                    shards: Some(0), ..
                } = kinesis.mode
                {
                    return Err(invalid(
                        "aws.stream.shards",
                        "a stream needs at least one shard".to_owned(),
                    ));
                }
            }
            AwsStream::None | AwsStream::Firehose => {}
        }
        if let Some(lambda) = &self.lambda {
            lambda.validate("aws.lambda")?;
        }
        if let Some(table) = &self.dynamodb {
            non_negative("aws.dynamodb.writes_per_month", table.writes_per_month)?;
            non_negative("aws.dynamodb.reads_per_month", table.reads_per_month)?;
        }
        if let Some(archive) = &self.archive {
            archive.batching.validate("aws.archive.batching")?;
            for transition in &archive.transitions {
                let min = transition.class.min_transition_age_days();
                if transition.after_days < min {
                    return Err(invalid(
                        "aws.archive.transitions",
                        format!(
                            "S3 moves objects to `{:?}` only after {min} days, got {}",
                            transition.class, transition.after_days
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Where AWS telemetry goes after the rule.
#[derive(Debug, Clone, PartialEq)]
pub enum AwsStream {
    /// Nothing streams telemetry (rules write elsewhere, e.g. Lambda or DynamoDB only).
    None,
    /// A Kinesis data stream. If there is an archive, something outside the estimate moves
    /// records to S3.
    Kinesis(Kinesis),
    /// A Firehose delivery stream fed directly by the rule (Direct PUT), delivering to S3.
    Firehose,
    /// A Kinesis data stream with a Firehose delivery stream reading it into S3.
    KinesisToFirehose(Kinesis),
}

/// A Kinesis data stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Kinesis {
    /// Capacity mode.
    pub mode: KinesisMode,
    /// Hours records are kept (24 to 8,760). Default 24.
    pub retention_hours: u32,
    /// Shared-throughput consumers reading every record (a Firehose reading the stream counts).
    /// On-demand bills data out per consumer. Default 1.
    pub consumers: u32,
}

impl Default for Kinesis {
    /// Provisioned, shards computed, 24 h retention, one consumer.
    fn default() -> Self {
        Self {
            mode: KinesisMode::Provisioned {
                shards: None,
                shard_limit: None,
            },
            retention_hours: 24,
            consumers: 1,
        }
    }
}

/// Kinesis capacity mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KinesisMode {
    /// Provisioned shards.
    Provisioned {
        /// Shard count fixed by the spec; `None` sizes it with
        /// [`crate::capacity::kinesis_shards`] at the peak rate.
        shards: Option<u32>,
        /// Account shard quota; `None` means the default of 500.
        shard_limit: Option<u32>,
    },
    /// On-demand capacity.
    OnDemand,
}

/// Functions invoked for a share of telemetry messages (AWS Lambda or Azure Functions).
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionWorkload {
    /// Share of telemetry messages that invoke the functions (0.0 to 1.0), e.g. alert matches.
    pub invocation_fraction: f64,
    /// Functions invoked per matching message.
    pub functions: u32,
    /// Configured memory, MB.
    pub memory_mb: u32,
    /// Average billed duration of one invocation, milliseconds.
    pub avg_duration_ms: f64,
}

/// An AWS Lambda workload.
#[derive(Debug, Clone, PartialEq)]
pub struct LambdaWorkload {
    /// Invocations, memory and duration.
    pub function: FunctionWorkload,
    /// CPU architecture; Arm (Graviton) is billed at a lower GB-second rate.
    pub architecture: LambdaArchitecture,
}

impl LambdaWorkload {
    fn validate(&self, field: &'static str) -> Result<(), Error> {
        self.function.validate(field)
    }
}

impl FunctionWorkload {
    fn validate(&self, field: &'static str) -> Result<(), Error> {
        if !(0.0..=1.0).contains(&self.invocation_fraction) {
            return Err(invalid(
                field,
                format!(
                    "invocation_fraction is a share between 0 and 1, got {}",
                    self.invocation_fraction
                ),
            ));
        }
        non_negative(field, self.avg_duration_ms)
    }
}

/// Lambda CPU architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LambdaArchitecture {
    X86_64,
    Arm64,
}

/// A DynamoDB on-demand table.
#[derive(Debug, Clone, PartialEq)]
pub struct DynamoDbWorkload {
    /// Item writes per month.
    pub writes_per_month: f64,
    /// Item reads per month.
    pub reads_per_month: f64,
    /// Size of one item, bytes.
    pub item_bytes: u64,
    /// Items stored (e.g. one per device for latest state).
    pub items: u64,
    /// Reads are eventually consistent (half a read unit each).
    pub eventually_consistent_reads: bool,
}

/// How telemetry is grouped into stored objects or blobs.
///
/// For a Firehose delivery stream with buffering hints of `interval_s` seconds and `size` bytes,
/// objects per day are about `max(86,400 / interval_s, bytes_per_day / size)`. Event Hubs Capture
/// writes one blob per partition per capture window (`partitions × 86,400 / window_s`), and an
/// IoT Hub storage route one blob per `batch_frequency_in_seconds` (per partition).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Batching {
    /// This many objects are written per day (e.g. one per Firehose buffer interval).
    ObjectsPerDay(f64),
    /// Objects of about this many bytes each (e.g. a Firehose buffer size).
    ObjectBytes(u64),
    /// One object per telemetry message.
    OnePerMessage,
}

impl Batching {
    fn validate(self, field: &'static str) -> Result<(), Error> {
        match self {
            Self::ObjectsPerDay(n) if !n.is_finite() || n <= 0.0 => Err(invalid(
                field,
                format!("objects per day must be above 0, got {n}"),
            )),
            Self::ObjectBytes(0) => Err(invalid(field, "object size must be above 0".to_owned())),
            _ => Ok(()),
        }
    }
}

/// One S3 lifecycle transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct S3Transition {
    /// Destination class.
    pub class: S3StorageClass,
    /// Object age in days when the transition happens.
    pub after_days: u32,
}

/// S3 versioning on the archive bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Versioning {
    /// No versions kept.
    Disabled,
    /// Expired objects become noncurrent versions and stay in their last class.
    Enabled {
        /// Days a noncurrent version is kept; `None` keeps it forever.
        noncurrent_expire_after_days: Option<u32>,
    },
}

/// The S3 telemetry archive.
#[derive(Debug, Clone, PartialEq)]
pub struct S3Archive {
    /// How telemetry becomes objects.
    pub batching: Batching,
    /// Lifecycle transitions out of S3 Standard, in day order.
    pub transitions: Vec<S3Transition>,
    /// Age in days at which objects expire; `None` keeps them.
    pub expire_after_days: Option<u32>,
    /// Bucket versioning.
    pub versioning: Versioning,
    /// The lifecycle configuration sets `transition_default_minimum_object_size =
    /// varies_by_storage_class`, so objects under 128 KB still move to the Glacier classes.
    pub small_object_transitions: bool,
}

/// The Azure side: IoT Hub and what its routes feed.
#[derive(Debug, Clone, PartialEq)]
pub struct AzureWorkload {
    /// Basic hub tiers are acceptable. The estimator also requires that the fleet uses no
    /// twins, C2D or direct methods (see [`Workload::uses_standard_hub_features`] and
    /// `needs_standard_hub`).
    pub hub_allow_basic: bool,
    /// The fleet declares twins, cloud-to-device messages or direct methods, whatever their
    /// rates (a declared feature may be used at a rate of zero): Basic hub tiers, which lack
    /// them, are neither chosen nor suggested. Default false.
    pub needs_standard_hub: bool,
    /// A SKU (and unit count) fixed by the spec; `None` picks the cheapest that fits.
    pub hub_pin: Option<HubPin>,
    /// Daily quota messages (4 KB blocks) per hub that the hub capacity is planned for, e.g.
    /// the fleet a year ahead with headroom, when known. Without a pin the hub is sized for
    /// the larger of this and today's volume, as the planner sizes it; the usage billed is
    /// today's either way. Default `None`.
    pub planned_daily_quota_messages: Option<u64>,
    /// IoT hubs the fleet is spread over (DPS linked hubs), each with the same SKU and units;
    /// the daily volume is split evenly between them. Default 1.
    pub hubs: u32,
    /// An Event Hubs namespace receiving telemetry routed from the hub.
    pub event_hubs: Option<EventHubs>,
    /// The Blob telemetry archive.
    pub archive: Option<BlobArchive>,
    /// Functions invoked for a share of telemetry (e.g. alerts), Consumption plan.
    pub functions: Option<FunctionWorkload>,
    /// A Cosmos DB serverless container (e.g. latest state per device).
    pub cosmos_db: Option<CosmosDbWorkload>,
    /// Stream Analytics streaming units running all month; 0 when not used.
    pub stream_analytics_units: u32,
}

impl Default for AzureWorkload {
    /// Standard hub sized automatically, nothing else.
    fn default() -> Self {
        Self {
            hub_allow_basic: false,
            needs_standard_hub: false,
            hub_pin: None,
            planned_daily_quota_messages: None,
            hubs: 1,
            event_hubs: None,
            archive: None,
            functions: None,
            cosmos_db: None,
            stream_analytics_units: 0,
        }
    }
}

impl AzureWorkload {
    fn validate(&self) -> Result<(), Error> {
        if self.hubs == 0 {
            return Err(invalid(
                "azure.hubs",
                "a fleet needs at least one IoT hub".to_owned(),
            ));
        }
        if let Some(hubs) = &self.event_hubs {
            if hubs.capture && hubs.tier == EventHubsTier::Basic {
                return Err(invalid(
                    "azure.event_hubs.capture",
                    "Event Hubs Basic has no Capture; use Standard".to_owned(),
                ));
            }
            if hubs.units == Some(0) {
                return Err(invalid(
                    "azure.event_hubs.units",
                    "a namespace needs at least one unit".to_owned(),
                ));
            }
        }
        if let Some(archive) = &self.archive {
            archive.batching.validate("azure.archive.batching")?;
        }
        if let Some(functions) = &self.functions {
            functions.validate("azure.functions")?;
        }
        if let Some(cosmos) = &self.cosmos_db {
            non_negative("azure.cosmos_db.writes_per_month", cosmos.writes_per_month)?;
            non_negative("azure.cosmos_db.reads_per_month", cosmos.reads_per_month)?;
            non_negative("azure.cosmos_db.ru_per_write", cosmos.ru_per_write)?;
            non_negative("azure.cosmos_db.ru_per_read", cosmos.ru_per_read)?;
        }
        Ok(())
    }
}

/// An Event Hubs namespace.
#[derive(Debug, Clone, PartialEq)]
pub struct EventHubs {
    /// Namespace tier.
    pub tier: EventHubsTier,
    /// Throughput units (Basic, Standard) or processing units (Premium) fixed by the spec;
    /// `None` sizes TUs with [`crate::capacity::event_hubs_throughput_units`] at the peak rate,
    /// and uses 1 PU on Premium.
    pub units: Option<u32>,
    /// Event Hubs Capture writes the stream to Blob storage (Standard: billed per TU-hour;
    /// Premium: included).
    pub capture: bool,
}

/// One Blob lifecycle tier change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobTransition {
    /// Destination tier.
    pub tier: BlobTier,
    /// Blob age in days when the change happens.
    pub after_days: u32,
}

/// The Blob telemetry archive (GPv2, LRS); blobs are written to Hot.
#[derive(Debug, Clone, PartialEq)]
pub struct BlobArchive {
    /// How telemetry becomes blobs.
    pub batching: Batching,
    /// Lifecycle tier changes out of Hot, in day order.
    pub transitions: Vec<BlobTransition>,
    /// Age in days at which blobs are deleted; `None` keeps them.
    pub expire_after_days: Option<u32>,
}

/// A Cosmos DB serverless container.
#[derive(Debug, Clone, PartialEq)]
pub struct CosmosDbWorkload {
    /// Item writes (upserts) per month.
    pub writes_per_month: f64,
    /// Point reads per month.
    pub reads_per_month: f64,
    /// Request units one write consumes. About 6 RU for a 1 KB item with default indexing; it
    /// grows with item size and indexed paths.
    pub ru_per_write: f64,
    /// Request units one point read consumes: 1 RU for an item up to 1 KB.
    pub ru_per_read: f64,
    /// Items stored.
    pub items: u64,
    /// Size of one item, bytes.
    pub item_bytes: u64,
}

fn invalid(field: &'static str, reason: String) -> Error {
    Error::Workload { field, reason }
}

fn non_negative(field: &'static str, value: f64) -> Result<(), Error> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("must be a finite number of at least 0, got {value}"),
        ))
    }
}
