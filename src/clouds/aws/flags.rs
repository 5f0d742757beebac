//! What the AWS stack contains, decided once from the model: which streams, tables, topics,
//! certificates and functions exist, and how the functions are sized. Every concern of the
//! planner, and the design's dataflow, story, parity and bill, read the same `Flags`, so they
//! agree on what the others create.

use serde::Serialize;

use super::cost::LambdaArchitecture;
use crate::model::{Aws, AwsProvisioningMethod, Destination, Encryption, Model};

/// What the stack contains, decided once from the model. The diagram and `fleetform
/// explain` read the same decisions, so they describe what the build writes.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct Flags {
    /// A Kinesis data stream carries telemetry.
    pub kinesis: bool,
    /// A Firehose delivery stream lands telemetry in the archive bucket.
    pub firehose: bool,
    /// Firehose reads the Kinesis stream (instead of taking direct puts from rules).
    pub firehose_reads_kinesis: bool,
    /// Glue tables and an Athena workgroup query the archive: asked for, and Firehose lands
    /// telemetry in the archive for them to read.
    pub analytics: bool,
    /// The archive bucket exists.
    pub archive: bool,
    /// The archive bucket is encrypted with the stack's customer-managed key.
    pub archive_cmk: bool,
    /// The latest-state DynamoDB table exists.
    pub state_table: bool,
    /// The SNS topic for alerts and alarms exists.
    pub sns: bool,
    /// Alarms are created.
    pub alarms: bool,
    /// A CA certificate is registered with AWS IoT.
    pub ca: bool,
    /// The CA is registered in DEFAULT mode (needs a verification certificate).
    pub ca_verified: bool,
    /// Devices keep shadows.
    pub shadow: bool,
    /// A role alias hands devices temporary credentials.
    pub role_alias: bool,
    /// Firmware bucket and signing exist.
    pub ota: bool,
    /// At least one Lambda function is generated.
    pub functions: bool,
    /// CPU architecture of every generated function. x86_64, Lambda's default (so the
    /// functions carry no `architectures` argument): it runs in every region and partition.
    pub lambda_architecture: LambdaArchitecture,
    /// Memory of every generated function, MB: the handlers are small Python with boto3.
    pub lambda_memory_mb: u32,
    /// Firehose partitions the archive by device (small fleets); larger fleets are partitioned
    /// by hour, because every device would be an active partition (Firehose allows 500 by
    /// default) and a stream of tiny objects too small to ever change storage class.
    pub partition_by_device: bool,
}

/// Planned fleets up to this size get one archive folder per device per day.
pub const FIREHOSE_DEVICE_PARTITIONS_MAX: u64 = 500;

impl Flags {
    pub(crate) fn new(m: &Model, aws: &Aws) -> Self {
        let archive_route = m
            .routes
            .iter()
            .any(|r| r.to.contains(&Destination::Archive));
        let stream_route = m.routes.iter().any(|r| r.to.contains(&Destination::Stream));
        let service = aws.stream.service;
        let both = service == crate::model::AwsStreamService::KinesisAndFirehose;
        // The stream exists when a route feeds it (with `kinesis_and_firehose`, archiving
        // goes through it too).
        let kinesis = aws.stream.uses_kinesis() && (stream_route || (archive_route && both));
        // Firehose is how telemetry reaches S3 in batches: for the `firehose` stream, for
        // every archiving route, and behind the Kinesis stream with `kinesis_and_firehose`.
        let firehose = (stream_route && service == crate::model::AwsStreamService::Firehose)
            || archive_route
            || (kinesis && both);
        let firehose_reads_kinesis = both;
        let archive = m.archive.is_some() || firehose;
        let method = aws.provisioning.method;
        let ca = matches!(
            method,
            AwsProvisioningMethod::Jitp
                | AwsProvisioningMethod::Jitr
                | AwsProvisioningMethod::Manual
        );
        let alert_function = m.alerts.iter().any(|a| a.function);
        Self {
            kinesis,
            firehose,
            firehose_reads_kinesis: firehose && firehose_reads_kinesis && kinesis,
            analytics: m.features.analytics && firehose,
            archive,
            archive_cmk: archive
                && m.archive
                    .as_ref()
                    .is_none_or(|a| a.encryption == Encryption::CustomerManaged),
            state_table: m.features.state_store,
            sns: m.monitoring.alarms || m.alerts.iter().any(|a| a.notify),
            alarms: m.monitoring.alarms,
            ca,
            ca_verified: ca
                && aws.provisioning.certificate_mode == crate::model::CertificateMode::Default,
            shadow: m.messaging.state,
            partition_by_device: m.traffic.planned_devices <= FIREHOSE_DEVICE_PARTITIONS_MAX,
            role_alias: m.access.cloud_credentials.is_some(),
            ota: m.features.ota,
            functions: alert_function
                || method == AwsProvisioningMethod::Jitr
                || aws.provisioning.pre_provisioning_hook
                || m.features.web_api,
            lambda_architecture: LambdaArchitecture::X86_64,
            lambda_memory_mb: 256,
        }
    }
}
