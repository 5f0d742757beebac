//! AWS's metering and sizing rules: the blocks IoT Core, Kinesis, Firehose and DynamoDB bill
//! in, how many Kinesis shards a peak needs, and the S3 storage classes with their minimum
//! durations. The planner, validation and the estimate read them (through
//! [`crate::capacity`]), so the plan and the bill agree.

use crate::capacity::{CapacityError, KIB, MIB, StorageClass, blocks, ceil_units, check_rate};

/// AWS IoT Core meters MQTT and HTTP messages in 5 KB blocks (payload + topic + MQTT5 properties).
pub const AWS_IOT_MESSAGE_BLOCK_BYTES: u64 = 5 * KIB;

/// AWS IoT Device Shadow and registry operations are metered in 1 KB blocks.
pub const AWS_SHADOW_OP_BLOCK_BYTES: u64 = KIB;

/// AWS IoT rules triggered (and, by assumption, actions applied) are metered in 5 KB blocks.
pub const AWS_RULES_BLOCK_BYTES: u64 = 5 * KIB;

/// One Kinesis Data Streams PUT payload unit covers 25 KB of a record.
pub const KINESIS_PUT_UNIT_BYTES: u64 = 25 * KIB;

/// Kinesis on-demand rounds each record up to a whole KB for the data-in charge.
pub const KINESIS_ON_DEMAND_ROUNDING_BYTES: u64 = KIB;

/// Data Firehose rounds each ingested record up to a whole 5 KB block.
pub const FIREHOSE_ROUNDING_BYTES: u64 = 5 * KIB;

/// One DynamoDB write request unit covers 1 KB of an item.
pub const DYNAMODB_WRITE_UNIT_BYTES: u64 = KIB;

/// One DynamoDB (strongly consistent) read request unit covers 4 KB of an item.
pub const DYNAMODB_READ_UNIT_BYTES: u64 = 4 * KIB;

/// One Kinesis shard accepts this many bytes per second of writes.
pub const KINESIS_SHARD_BYTES_PER_S: u64 = MIB;

/// One Kinesis shard accepts this many records per second of writes.
pub const KINESIS_SHARD_RECORDS_PER_S: u64 = 1000;

/// Default account quota of provisioned shards in us-east-1 (raise it with a quota request).
pub const KINESIS_DEFAULT_SHARD_QUOTA: u32 = 500;

/// Since September 2024 S3 lifecycle rules skip objects smaller than 128 KB unless the
/// configuration opts in (`transition_default_minimum_object_size = varies_by_storage_class`).
pub const S3_TRANSITION_MIN_OBJECT_BYTES: u64 = 128 * KIB;

/// Glacier Flexible Retrieval and Deep Archive keep 8 KB of index per object at the Standard rate.
pub const S3_ARCHIVE_OVERHEAD_STANDARD_BYTES: u64 = 8 * KIB;

/// Glacier Flexible Retrieval and Deep Archive keep 32 KB of metadata per object at their own rate.
pub const S3_ARCHIVE_OVERHEAD_ARCHIVE_BYTES: u64 = 32 * KIB;

/// AWS IoT Core messages billed for one MQTT/HTTP message: `ceil(bytes / 5,120)`, at least 1.
///
/// `bytes` is the metered size: payload + topic (+ MQTT5 properties). An 8 KB payload bills 2.
///
/// ```
/// use fleetform::capacity::{aws_iot_message_units, azure_hub_quota_messages};
///
/// // 8 KB of payload plus 100 B of topic: 2 blocks (10 KB) on AWS, 3 blocks (12 KB) on Azure.
/// assert_eq!(aws_iot_message_units(8_292), 2);
/// assert_eq!(azure_hub_quota_messages(8_292), 3);
/// ```
pub const fn aws_iot_message_units(bytes: u64) -> u64 {
    blocks(bytes, AWS_IOT_MESSAGE_BLOCK_BYTES)
}

/// AWS IoT Device Shadow operations billed for one shadow update: `ceil(bytes / 1,024)`, at least 1.
pub const fn aws_shadow_ops(bytes: u64) -> u64 {
    blocks(bytes, AWS_SHADOW_OP_BLOCK_BYTES)
}

/// AWS IoT rules triggered for one message matching one rule: `ceil(bytes / 5,120)`, at least 1.
pub const fn aws_rules_units(bytes: u64) -> u64 {
    blocks(bytes, AWS_RULES_BLOCK_BYTES)
}

/// Kinesis Data Streams PUT payload units for one record: `ceil(bytes / 25,600)`, at least 1.
pub const fn kinesis_put_units(bytes: u64) -> u64 {
    blocks(bytes, KINESIS_PUT_UNIT_BYTES)
}

/// Bytes Kinesis on-demand bills as data in for one record: rounded up to a whole KB (min 1 KB).
pub const fn kinesis_on_demand_billed_bytes(bytes: u64) -> u64 {
    blocks(bytes, KINESIS_ON_DEMAND_ROUNDING_BYTES) * KINESIS_ON_DEMAND_ROUNDING_BYTES
}

/// Bytes Data Firehose bills as ingested for one record: rounded up to a whole 5 KB (min 5 KB).
pub const fn firehose_billed_bytes(bytes: u64) -> u64 {
    blocks(bytes, FIREHOSE_ROUNDING_BYTES) * FIREHOSE_ROUNDING_BYTES
}

/// DynamoDB write request units for one standard write: `ceil(bytes / 1,024)`, at least 1.
pub const fn dynamodb_write_units(bytes: u64) -> u64 {
    blocks(bytes, DYNAMODB_WRITE_UNIT_BYTES)
}

/// DynamoDB read request units for one strongly consistent read: `ceil(bytes / 4,096)`, at
/// least 1. An eventually consistent read costs half of this.
pub const fn dynamodb_read_units(bytes: u64) -> u64 {
    blocks(bytes, DYNAMODB_READ_UNIT_BYTES)
}

/// Provisioned Kinesis shards for a write load:
/// `max(1, ceil(bytes_per_s / 1 MiB), ceil(records_per_s / 1,000))`.
///
/// Pass peak rates (average × peak factor): a shard throttles writes above its limit, it does not
/// queue them. `shard_limit` is the account quota; `None` means the us-east-1 default of 500.
///
/// # Errors
///
/// [`CapacityError::InvalidInput`] for a negative or non-finite rate, and
/// [`CapacityError::ShardQuotaExceeded`] when the stream needs more shards than the quota.
pub fn kinesis_shards(
    bytes_per_s: f64,
    records_per_s: f64,
    shard_limit: Option<u32>,
) -> Result<u32, CapacityError> {
    let bytes_per_s = check_rate("bytes_per_s", bytes_per_s)?;
    let records_per_s = check_rate("records_per_s", records_per_s)?;
    let needed = ceil_units(bytes_per_s, KINESIS_SHARD_BYTES_PER_S)
        .max(ceil_units(records_per_s, KINESIS_SHARD_RECORDS_PER_S))
        .max(1);
    let limit = shard_limit.unwrap_or(KINESIS_DEFAULT_SHARD_QUOTA);
    match u32::try_from(needed) {
        Ok(shards) if shards <= limit => Ok(shards),
        _ => Err(CapacityError::ShardQuotaExceeded { needed, limit }),
    }
}

/// S3 storage classes a fleet archive can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum S3StorageClass {
    Standard,
    StandardIa,
    OneZoneIa,
    GlacierInstantRetrieval,
    GlacierFlexibleRetrieval,
    GlacierDeepArchive,
}

impl S3StorageClass {
    /// Whether objects under 128 KB may still be transitioned into this class when the lifecycle
    /// configuration sets `transition_default_minimum_object_size = varies_by_storage_class`.
    /// Only the two Glacier archive classes accept them; the others never do.
    pub const fn accepts_small_objects_when_allowed(self) -> bool {
        matches!(
            self,
            Self::GlacierFlexibleRetrieval | Self::GlacierDeepArchive
        )
    }

    /// Whether the class adds 40 KB of per-object overhead (8 KB at Standard + 32 KB here).
    pub const fn has_archive_overhead(self) -> bool {
        matches!(
            self,
            Self::GlacierFlexibleRetrieval | Self::GlacierDeepArchive
        )
    }

    /// Earliest age in days at which a lifecycle rule may move objects into this class
    /// (Standard-IA and One Zone-IA require 30 days in Standard first).
    pub const fn min_transition_age_days(self) -> u32 {
        match self {
            Self::StandardIa | Self::OneZoneIa => 30,
            _ => 0,
        }
    }
}

impl StorageClass for S3StorageClass {
    fn minimum_storage_days(self) -> u32 {
        match self {
            Self::Standard => 0,
            Self::StandardIa | Self::OneZoneIa => 30,
            Self::GlacierInstantRetrieval | Self::GlacierFlexibleRetrieval => 90,
            Self::GlacierDeepArchive => 180,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Standard => "STANDARD",
            Self::StandardIa => "STANDARD_IA",
            Self::OneZoneIa => "ONEZONE_IA",
            Self::GlacierInstantRetrieval => "GLACIER_IR",
            Self::GlacierFlexibleRetrieval => "GLACIER",
            Self::GlacierDeepArchive => "DEEP_ARCHIVE",
        }
    }
}

/// What one Amazon Data Firehose stream takes from Direct PUT producers (an IoT rule's
/// `firehose` action), PutRecord and PutRecordBatch combined, by default: 2,000 requests,
/// 500,000 records and 5 MiB per second in us-east-1, us-west-2 and eu-west-1, and 1,000
/// requests, 100,000 records and 1 MiB per second elsewhere ("Amazon Data Firehose endpoints
/// and quotas", AWS General Reference). Past it, records are throttled. A stream that reads a
/// Kinesis data stream is not bound by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirehoseDirectPutQuota {
    pub requests_per_s: u64,
    pub records_per_s: u64,
    pub bytes_per_s: u64,
}

/// The default Direct PUT quota of a Firehose stream in `region`.
pub fn firehose_direct_put_quota(region: &str) -> FirehoseDirectPutQuota {
    if matches!(region, "us-east-1" | "us-west-2" | "eu-west-1") {
        FirehoseDirectPutQuota {
            requests_per_s: 2_000,
            records_per_s: 500_000,
            bytes_per_s: 5 * MIB,
        }
    } else {
        FirehoseDirectPutQuota {
            requests_per_s: 1_000,
            records_per_s: 100_000,
            bytes_per_s: MIB,
        }
    }
}

/// Share of a throttling quota the planned peak may use; the rest absorbs bursts that the
/// peak factor does not foresee.
pub const QUOTA_HEADROOM_SHARE: f64 = 0.8;

/// Whether a peak of `records_per_s` IoT rule deliveries (one request each: the rule action
/// sends one message per call) of `bytes_per_s` fits a Firehose stream's Direct PUT quota.
pub fn firehose_direct_put_fits(
    quota: FirehoseDirectPutQuota,
    records_per_s: f64,
    bytes_per_s: f64,
) -> bool {
    let cap = |q: u64| q as f64 * QUOTA_HEADROOM_SHARE;
    records_per_s <= cap(quota.requests_per_s)
        && records_per_s <= cap(quota.records_per_s)
        && bytes_per_s <= cap(quota.bytes_per_s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_message_blocks_at_boundaries() {
        for (bytes, units) in [
            (0, 1),
            (1, 1),
            (1_500, 1),
            (4_096, 1),
            (4_097, 1),
            (5_120, 1),
            (5_121, 2),
            (8_192, 2),
            (10_240, 2),
            (10_241, 3),
            (25_600, 5),
            (25_601, 6),
            (65_536, 13),
            (65_537, 13),
        ] {
            assert_eq!(aws_iot_message_units(bytes), units, "{bytes} B");
            assert_eq!(aws_rules_units(bytes), units, "{bytes} B");
        }
    }

    #[test]
    fn aws_shadow_ops_at_boundaries() {
        for (bytes, ops) in [
            (0, 1),
            (1_024, 1),
            (1_025, 2),
            (1_536, 2),
            (4_096, 4),
            (4_097, 5),
            (5_120, 5),
            (5_121, 6),
            (8_192, 8),
            (10_240, 10),
            (10_241, 11),
            (25_600, 25),
            (25_601, 26),
            (65_536, 64),
            (65_537, 65),
        ] {
            assert_eq!(aws_shadow_ops(bytes), ops, "{bytes} B");
        }
    }

    #[test]
    fn dynamodb_units() {
        assert_eq!(dynamodb_write_units(1_024), 1);
        assert_eq!(dynamodb_write_units(1_025), 2);
        assert_eq!(dynamodb_read_units(4_096), 1);
        assert_eq!(dynamodb_read_units(4_097), 2);
    }

    #[test]
    fn shards_at_limits() {
        assert_eq!(kinesis_shards(0.0, 0.0, None), Ok(1));
        assert_eq!(kinesis_shards(1_048_576.0, 0.0, None), Ok(1));
        assert_eq!(kinesis_shards(1_048_577.0, 0.0, None), Ok(2));
        assert_eq!(kinesis_shards(0.0, 1_000.0, None), Ok(1));
        assert_eq!(kinesis_shards(0.0, 1_001.0, None), Ok(2));
        assert_eq!(kinesis_shards(1_048_577.0, 2_001.0, None), Ok(3));
        // Worked example: 33.33 records/s of 1,500 B.
        assert_eq!(kinesis_shards(50_000.0, 33.34, None), Ok(1));
        assert_eq!(kinesis_shards(500.0 * 1_048_576.0, 0.0, None), Ok(500));
        assert_eq!(
            kinesis_shards(500.0 * 1_048_576.0 + 1.0, 0.0, None),
            Err(CapacityError::ShardQuotaExceeded {
                needed: 501,
                limit: 500
            })
        );
        assert_eq!(
            kinesis_shards(0.0, 3_001.0, Some(3)),
            Err(CapacityError::ShardQuotaExceeded {
                needed: 4,
                limit: 3
            })
        );
        assert!(matches!(
            kinesis_shards(f64::NAN, 0.0, None),
            Err(CapacityError::InvalidInput { .. })
        ));
        assert!(matches!(
            kinesis_shards(0.0, -1.0, None),
            Err(CapacityError::InvalidInput { .. })
        ));
    }
}
