//! What the AWS stack bills, as the estimator prices it: IoT Core, the topic rules, the stream
//! behind them, functions, the state table and the archive.
//!
//! [`AwsWorkload`] is the AWS part of a design's bill: the planner fills it from its own
//! decisions (`super::bill`), and it prices itself ([`crate::cost::Meter`]) with AWS's
//! metering rules (`price.rs`, `s3.rs`) and finds its own advice (`advice.rs`). Every field says its
//! unit; defaults are on the `Default` impls.

mod advice;
mod price;
pub mod prices;
mod s3;

pub(crate) use s3::class_label;

use crate::capacity::S3StorageClass;
use crate::clouds::Cloud;
use crate::cost::workload::{invalid, non_negative};
use crate::cost::{
    Advice, Batching, CloudRun, Error, FunctionWorkload, Meter, PriceBook, Workload,
};

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
    fn check(&self, workload: &Workload) -> Result<(), Error> {
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
            AwsStream::Kinesis(kinesis)
            | AwsStream::KinesisToFirehose(kinesis)
            | AwsStream::KinesisBesideFirehose(kinesis) => {
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
            lambda.check("aws.lambda")?;
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
    /// A Kinesis data stream, and beside it a Firehose delivery stream fed directly by the rule
    /// (Direct PUT) that delivers to S3: the `kinesis` stream service with archived routes.
    KinesisBesideFirehose(Kinesis),
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

/// An AWS Lambda workload.
#[derive(Debug, Clone, PartialEq)]
pub struct LambdaWorkload {
    /// Invocations, memory and duration.
    pub function: FunctionWorkload,
    /// CPU architecture; Arm (Graviton) is billed at a lower GB-second rate.
    pub architecture: LambdaArchitecture,
}

impl LambdaWorkload {
    fn check(&self, field: &'static str) -> Result<(), Error> {
        self.function.validate(field)
    }
}

/// Lambda CPU architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LambdaArchitecture {
    X86_64,
    Arm64,
}

impl LambdaArchitecture {
    /// The name Lambda gives it (`architectures = ["arm64"]`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::X86_64 => "x86_64",
            Self::Arm64 => "arm64",
        }
    }
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

impl Meter for AwsWorkload {
    fn cloud(&self) -> Cloud {
        Cloud::Aws
    }

    fn validate(&self, workload: &Workload) -> Result<(), Error> {
        self.check(workload)
    }

    fn price(&self, workload: &Workload, book: &PriceBook) -> Result<CloudRun, Error> {
        price::estimate(workload, self, book)
    }

    fn advice(&self, workload: &Workload, book: &PriceBook, run: &CloudRun) -> Vec<Advice> {
        advice::advice(workload, self, book, run)
    }

    fn priced_region<'b>(&self, book: &'b PriceBook) -> &'b str {
        &book.meta.regions.aws
    }
}
