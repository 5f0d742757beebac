//! Capacity math shared by the Terraform planners and the cost estimator.
//!
//! Both sides must agree on how many shards, throughput units and hub units a fleet needs, and on
//! how many billable units one message turns into; otherwise the plan and the bill drift apart.
//! This module is the single place where those rules live. Every function is pure: plain numbers
//! in, plain numbers (or a [`CapacityError`]) out, no price book, no spec types.
//!
//! Conventions used throughout (they are also printed with every estimate):
//!
//! - `KB` is 1,024 bytes, so an AWS "5 KB" block is 5,120 B and an Azure "4 KB" block 4,096 B;
//! - `MB/s` throughput limits are MiB/s (1,048,576 B);
//! - `GB` for stored or ingested volume is 2^30 bytes;
//! - a month is 730 hours, so it has 730 / 24 = 30.4167 days;
//! - size metering is per message, record or operation, never per batch:
//!   `units = max(1, ceil(bytes / increment))` — an empty message still counts as one.

use std::fmt;

use thiserror::Error;

/// Bytes in one KB, as every metering rule here counts it.
pub const KIB: u64 = 1024;
/// Bytes in one MiB; the unit of shard and throughput-unit limits.
pub const MIB: u64 = 1024 * KIB;
/// Bytes in one GB of stored or ingested data (GiB).
pub const GIB: u64 = 1024 * MIB;
/// Hours in a billing month (AWS and Azure calculator convention).
pub const HOURS_PER_MONTH: f64 = 730.0;
/// Days in a billing month, kept consistent with [`HOURS_PER_MONTH`].
pub const DAYS_PER_MONTH: f64 = HOURS_PER_MONTH / 24.0;
/// Seconds in a day; used to turn daily volumes into average rates.
pub const SECONDS_PER_DAY: f64 = 86_400.0;

/// AWS IoT Core meters MQTT and HTTP messages in 5 KB blocks (payload + topic + MQTT5 properties).
pub const AWS_IOT_MESSAGE_BLOCK_BYTES: u64 = 5 * KIB;
/// AWS IoT Device Shadow and registry operations are metered in 1 KB blocks.
pub const AWS_SHADOW_OP_BLOCK_BYTES: u64 = KIB;
/// AWS IoT rules triggered (and, by assumption, actions applied) are metered in 5 KB blocks.
pub const AWS_RULES_BLOCK_BYTES: u64 = 5 * KIB;
/// Azure IoT Hub paid tiers count messages against the daily quota in 4 KB blocks.
pub const AZURE_HUB_QUOTA_BLOCK_BYTES: u64 = 4 * KIB;
/// Azure IoT Hub Free (F1) counts messages against the daily quota in 0.5 KB blocks.
pub const AZURE_HUB_FREE_QUOTA_BLOCK_BYTES: u64 = 512;
/// One Kinesis Data Streams PUT payload unit covers 25 KB of a record.
pub const KINESIS_PUT_UNIT_BYTES: u64 = 25 * KIB;
/// Kinesis on-demand rounds each record up to a whole KB for the data-in charge.
pub const KINESIS_ON_DEMAND_ROUNDING_BYTES: u64 = KIB;
/// Data Firehose rounds each ingested record up to a whole 5 KB block.
pub const FIREHOSE_ROUNDING_BYTES: u64 = 5 * KIB;
/// One Event Hubs ingress event covers up to 64 KB of an event.
pub const EVENT_HUBS_EVENT_BYTES: u64 = 64 * KIB;
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
/// One Event Hubs throughput unit accepts this many bytes per second of ingress.
pub const EVENT_HUBS_TU_BYTES_PER_S: u64 = MIB;
/// One Event Hubs throughput unit accepts this many events per second of ingress.
pub const EVENT_HUBS_TU_EVENTS_PER_S: u64 = 1000;
/// Basic and Standard Event Hubs namespaces allow at most 40 throughput units.
pub const EVENT_HUBS_MAX_THROUGHPUT_UNITS: u32 = 40;

/// Since September 2024 S3 lifecycle rules skip objects smaller than 128 KB unless the
/// configuration opts in (`transition_default_minimum_object_size = varies_by_storage_class`).
pub const S3_TRANSITION_MIN_OBJECT_BYTES: u64 = 128 * KIB;
/// Glacier Flexible Retrieval and Deep Archive keep 8 KB of index per object at the Standard rate.
pub const S3_ARCHIVE_OVERHEAD_STANDARD_BYTES: u64 = 8 * KIB;
/// Glacier Flexible Retrieval and Deep Archive keep 32 KB of metadata per object at their own rate.
pub const S3_ARCHIVE_OVERHEAD_ARCHIVE_BYTES: u64 = 32 * KIB;

/// Errors from sizing a resource: nothing fits, a quota is exceeded, or an input is unusable.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum CapacityError {
    /// A rate or count was negative, NaN or infinite.
    #[error("`{what}` must be a finite, non-negative number, got {value}")]
    InvalidInput { what: &'static str, value: f64 },
    /// The stream needs more shards than the account may create.
    #[error("the stream needs {needed} shards, above the shard quota of {limit}")]
    ShardQuotaExceeded { needed: u64, limit: u32 },
    /// The namespace needs more throughput units than its tier allows.
    #[error("the namespace needs {needed} throughput units, above the {tier} limit of {max}")]
    ThroughputUnitsExceeded {
        needed: u64,
        max: u32,
        tier: EventHubsTier,
    },
    /// Premium and Dedicated namespaces are sized in processing or capacity units, not TUs.
    #[error("the {tier} tier is not sized in throughput units")]
    NotThroughputUnitTier { tier: EventHubsTier },
    /// No IoT Hub tier and unit count can carry the daily message volume.
    #[error(
        "no IoT Hub tier fits {daily_messages} quota messages per day (largest: S3 x 10 = 3,000,000,000)"
    )]
    NoHubFits {
        daily_messages: u64,
        allow_basic: bool,
    },
    /// A Basic tier was pinned although the fleet uses Standard-only features.
    #[error("IoT Hub `{sku}` was pinned, but the fleet uses features only Standard tiers offer")]
    HubTierNotAllowed { sku: HubSku },
    /// A pinned unit count is outside what the tier allows.
    #[error("IoT Hub `{sku}` allows 1 to {max} units, got {units}")]
    HubUnitsOutOfRange { sku: HubSku, units: u32, max: u32 },
    /// A pinned tier and unit count cannot carry the daily volume (the hub would throttle).
    #[error(
        "IoT Hub `{sku}` x {units} carries {daily_capacity} quota messages per day, \
         the fleet needs {daily_messages}"
    )]
    HubPinnedTooSmall {
        sku: HubSku,
        units: u32,
        daily_capacity: u64,
        daily_messages: u64,
    },
    /// Lifecycle transition days must strictly increase.
    #[error(
        "lifecycle transition at day {day} does not come after the previous one at day {previous}"
    )]
    LifecycleOrder { day: u32, previous: u32 },
    /// A transition scheduled at or after expiry never happens.
    #[error("lifecycle transition at day {day} never happens: objects expire at day {expire}")]
    LifecycleAfterExpiry { day: u32, expire: u32 },
    /// A transition moves objects into the class they are already in.
    #[error(
        "lifecycle transition at day {day} moves objects into `{class}`, where they already are"
    )]
    LifecycleSameClass { day: u32, class: &'static str },
}

/// `max(1, ceil(bytes / block))` in integer arithmetic: the block count one message is billed as.
const fn blocks(bytes: u64, block: u64) -> u64 {
    if bytes == 0 { 1 } else { bytes.div_ceil(block) }
}

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

/// Azure IoT Hub daily-quota messages for one operation on a paid tier: `ceil(bytes / 4,096)`, at
/// least 1. `bytes` is body + application and system properties.
pub const fn azure_hub_quota_messages(bytes: u64) -> u64 {
    blocks(bytes, AZURE_HUB_QUOTA_BLOCK_BYTES)
}

/// Azure IoT Hub daily-quota messages for one operation on the Free (F1) tier:
/// `ceil(bytes / 512)`, at least 1.
pub const fn azure_hub_free_quota_messages(bytes: u64) -> u64 {
    blocks(bytes, AZURE_HUB_FREE_QUOTA_BLOCK_BYTES)
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

/// Event Hubs ingress events billed for one event: `ceil(bytes / 65,536)`, at least 1.
pub const fn event_hubs_ingress_events(bytes: u64) -> u64 {
    blocks(bytes, EVENT_HUBS_EVENT_BYTES)
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

fn check_rate(what: &'static str, value: f64) -> Result<f64, CapacityError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(CapacityError::InvalidInput { what, value })
    }
}

/// `ceil(rate / per_unit)` for a fractional rate, as a whole unit count.
fn ceil_units(rate: f64, per_unit: u64) -> u64 {
    // Rates are bounded by the validation above and far below 2^53, so the cast is exact.
    (rate / per_unit as f64).ceil() as u64
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

/// Event Hubs namespace tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventHubsTier {
    /// Throughput units, one consumer group, 1-day retention, no Capture.
    Basic,
    /// Throughput units, Capture and auto-inflate available.
    Standard,
    /// Processing units; ingress events and Capture are included in the PU price.
    Premium,
}

impl EventHubsTier {
    /// The tier name as Azure spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Basic => "Basic",
            Self::Standard => "Standard",
            Self::Premium => "Premium",
        }
    }

    /// Most throughput units a namespace of this tier may have, or `None` when the tier is not
    /// sized in throughput units.
    pub const fn max_throughput_units(self) -> Option<u32> {
        match self {
            Self::Basic | Self::Standard => Some(EVENT_HUBS_MAX_THROUGHPUT_UNITS),
            Self::Premium => None,
        }
    }
}

impl fmt::Display for EventHubsTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Event Hubs throughput units for an ingress load:
/// `max(1, ceil(bytes_per_s / 1 MiB), ceil(events_per_s / 1,000))`.
///
/// Pass peak rates; requests above the TU limits are throttled.
///
/// # Errors
///
/// [`CapacityError::InvalidInput`] for a bad rate, [`CapacityError::NotThroughputUnitTier`] for
/// Premium, and [`CapacityError::ThroughputUnitsExceeded`] above the tier's 40 TU limit.
pub fn event_hubs_throughput_units(
    bytes_per_s: f64,
    events_per_s: f64,
    tier: EventHubsTier,
) -> Result<u32, CapacityError> {
    let bytes_per_s = check_rate("bytes_per_s", bytes_per_s)?;
    let events_per_s = check_rate("events_per_s", events_per_s)?;
    let max = tier
        .max_throughput_units()
        .ok_or(CapacityError::NotThroughputUnitTier { tier })?;
    let needed = ceil_units(bytes_per_s, EVENT_HUBS_TU_BYTES_PER_S)
        .max(ceil_units(events_per_s, EVENT_HUBS_TU_EVENTS_PER_S))
        .max(1);
    match u32::try_from(needed) {
        Ok(tus) if tus <= max => Ok(tus),
        _ => Err(CapacityError::ThroughputUnitsExceeded { needed, max, tier }),
    }
}

/// The `maximum_throughput_units` to configure for auto-inflate on a Standard namespace:
/// `ceil(required_tus × headroom)`, never below `required_tus`, capped at the tier's 40 TUs.
///
/// Auto-inflate only scales up; a namespace stays at the inflated count until someone lowers it,
/// so the estimator bills the required (peak) count.
///
/// # Errors
///
/// [`CapacityError::InvalidInput`] for a headroom below 1 or not finite,
/// [`CapacityError::NotThroughputUnitTier`] for Premium, and
/// [`CapacityError::ThroughputUnitsExceeded`] when even `required_tus` is above the limit.
pub fn event_hubs_auto_inflate_ceiling(
    required_tus: u32,
    headroom: f64,
    tier: EventHubsTier,
) -> Result<u32, CapacityError> {
    if !headroom.is_finite() || headroom < 1.0 {
        return Err(CapacityError::InvalidInput {
            what: "headroom",
            value: headroom,
        });
    }
    let max = tier
        .max_throughput_units()
        .ok_or(CapacityError::NotThroughputUnitTier { tier })?;
    if required_tus > max {
        return Err(CapacityError::ThroughputUnitsExceeded {
            needed: u64::from(required_tus),
            max,
            tier,
        });
    }
    let wanted = (f64::from(required_tus) * headroom).ceil();
    let ceiling = if wanted >= f64::from(max) {
        max
    } else {
        wanted as u32
    };
    Ok(ceiling.max(required_tus).max(1))
}

/// Azure IoT Hub edition family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HubTier {
    /// F1: one per subscription, 500 devices, Standard features, cannot be upgraded.
    Free,
    /// B1–B3: device-to-cloud only (no twins, C2D, direct methods, jobs, Edge, streams).
    Basic,
    /// S1–S3: all features.
    Standard,
}

/// Azure IoT Hub SKU: a tier and a size. One hub has exactly one SKU and 1..=max units of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum HubSku {
    F1,
    B1,
    B2,
    B3,
    S1,
    S2,
    S3,
}

impl HubSku {
    /// Every SKU, cheapest family first.
    pub const ALL: [Self; 7] = [
        Self::F1,
        Self::B1,
        Self::B2,
        Self::B3,
        Self::S1,
        Self::S2,
        Self::S3,
    ];

    /// The SKU name as the `azurerm_iothub` `sku.name` argument spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::F1 => "F1",
            Self::B1 => "B1",
            Self::B2 => "B2",
            Self::B3 => "B3",
            Self::S1 => "S1",
            Self::S2 => "S2",
            Self::S3 => "S3",
        }
    }

    /// The edition family.
    pub const fn tier(self) -> HubTier {
        match self {
            Self::F1 => HubTier::Free,
            Self::B1 | Self::B2 | Self::B3 => HubTier::Basic,
            Self::S1 | Self::S2 | Self::S3 => HubTier::Standard,
        }
    }

    /// Daily quota messages one unit carries: 8,000 (F1), 400,000 (size 1), 6,000,000 (size 2),
    /// 300,000,000 (size 3).
    pub const fn daily_quota_per_unit(self) -> u64 {
        match self {
            Self::F1 => 8_000,
            Self::B1 | Self::S1 => 400_000,
            Self::B2 | Self::S2 => 6_000_000,
            Self::B3 | Self::S3 => 300_000_000,
        }
    }

    /// Most units one hub of this SKU may have: 1 (F1), 200 (sizes 1–2), 10 (size 3).
    pub const fn max_units(self) -> u32 {
        match self {
            Self::F1 => 1,
            Self::B1 | Self::B2 | Self::S1 | Self::S2 => 200,
            Self::B3 | Self::S3 => 10,
        }
    }

    /// Bytes of one quota message: 512 on F1, 4,096 on paid tiers.
    pub const fn quota_block_bytes(self) -> u64 {
        match self {
            Self::F1 => AZURE_HUB_FREE_QUOTA_BLOCK_BYTES,
            _ => AZURE_HUB_QUOTA_BLOCK_BYTES,
        }
    }

    /// Monthly price of one unit in the default price book (USD, East US). Sizing compares these
    /// so the planner and the estimator pick the same SKU whatever price overrides say.
    pub const fn default_monthly_usd(self) -> f64 {
        match self {
            Self::F1 => 0.0,
            Self::B1 => 10.0,
            Self::B2 => 50.0,
            Self::B3 => 500.0,
            Self::S1 => 25.0,
            Self::S2 => 250.0,
            Self::S3 => 2500.0,
        }
    }

    /// Device-to-cloud send throttle of a hub with `units` units, in messages per second:
    /// F1 100; size 1 the higher of 100 or 12 per unit; size 2 the higher of 100 or 120 per unit;
    /// size 3 6,000 per unit (IoT Hub quotas and throttling page).
    pub fn d2c_sends_per_s(self, units: u32) -> u64 {
        let units = u64::from(units);
        match self {
            Self::F1 => 100,
            Self::B1 | Self::S1 => (12 * units).max(100),
            Self::B2 | Self::S2 => (120 * units).max(100),
            Self::B3 | Self::S3 => 6_000 * units,
        }
    }
}

impl fmt::Display for HubSku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A hub SKU fixed by the spec, optionally with a fixed unit count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HubPin {
    /// The SKU to use.
    pub sku: HubSku,
    /// The unit count to use; `None` computes the smallest count that fits.
    pub units: Option<u32>,
}

/// The IoT Hub SKU and unit count for a daily load, and how much room it leaves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HubSizing {
    /// The chosen SKU.
    pub sku: HubSku,
    /// The chosen unit count.
    pub units: u32,
    /// Quota messages per day the hub carries: `units × daily_quota_per_unit`.
    pub daily_capacity: u64,
    /// Quota messages per day the fleet sends (the input).
    pub daily_messages: u64,
    /// Unused share of the daily capacity, `1 − daily_messages / daily_capacity` (0.0 = full).
    pub headroom: f64,
    /// Monthly price of the hub at default list prices: `units × default_monthly_usd`.
    pub default_monthly_usd: f64,
}

impl HubSizing {
    fn new(sku: HubSku, units: u32, daily_messages: u64) -> Self {
        let daily_capacity = u64::from(units) * sku.daily_quota_per_unit();
        Self {
            sku,
            units,
            daily_capacity,
            daily_messages,
            headroom: 1.0 - daily_messages as f64 / daily_capacity as f64,
            default_monthly_usd: f64::from(units) * sku.default_monthly_usd(),
        }
    }
}

/// Units of `sku` needed for `daily` quota messages, if the SKU's unit limit allows it.
fn hub_units_for(sku: HubSku, daily: u64) -> Option<u32> {
    let units = daily.div_ceil(sku.daily_quota_per_unit()).max(1);
    u32::try_from(units).ok().filter(|u| *u <= sku.max_units())
}

/// The cheapest IoT Hub SKU and unit count that carries `daily_billable_quota_messages` per day.
///
/// Rules: `units = max(1, ceil(daily / quota_per_unit))`; S1/S2/B1/B2 allow up to 200 units,
/// S3/B3 up to 10; Basic SKUs are candidates only when `allow_basic` (the fleet uses no twins,
/// cloud-to-device messages, direct methods, jobs, IoT Edge or device streams); cost is compared
/// at default list prices ([`HubSku::default_monthly_usd`]); a tie goes to the larger daily
/// capacity. F1 is never chosen automatically (one per subscription, 500 devices): pin it, and
/// then pass the count in F1's 0.5 KB blocks ([`azure_hub_free_quota_messages`]).
///
/// With `pinned`, the SKU is fixed and the unit count is the pinned one or the smallest that fits.
/// Exceeding the quota throttles the hub rather than billing overage, so a pinned size that is
/// too small is an error, not a higher bill.
///
/// ```
/// use fleetform::capacity::{HubSku, iot_hub_sizing};
///
/// // 3.12M quota messages a day: S1 × 8 ($200) is cheaper than S2 × 1 ($250).
/// let hub = iot_hub_sizing(3_120_000, false, None)?;
/// assert_eq!((hub.sku, hub.units, hub.daily_capacity), (HubSku::S1, 8, 3_200_000));
/// # Ok::<(), fleetform::capacity::CapacityError>(())
/// ```
///
/// # Errors
///
/// [`CapacityError::NoHubFits`] when even the largest allowed hub is too small;
/// [`CapacityError::HubTierNotAllowed`], [`CapacityError::HubUnitsOutOfRange`] and
/// [`CapacityError::HubPinnedTooSmall`] for a pin that cannot work.
pub fn iot_hub_sizing(
    daily_billable_quota_messages: u64,
    allow_basic: bool,
    pinned: Option<HubPin>,
) -> Result<HubSizing, CapacityError> {
    let daily = daily_billable_quota_messages;
    if let Some(pin) = pinned {
        let sku = pin.sku;
        if sku.tier() == HubTier::Basic && !allow_basic {
            return Err(CapacityError::HubTierNotAllowed { sku });
        }
        let units = match pin.units {
            Some(units) if units == 0 || units > sku.max_units() => {
                return Err(CapacityError::HubUnitsOutOfRange {
                    sku,
                    units,
                    max: sku.max_units(),
                });
            }
            Some(units) => units,
            None => hub_units_for(sku, daily).unwrap_or(sku.max_units()),
        };
        let sizing = HubSizing::new(sku, units, daily);
        if sizing.daily_capacity < daily {
            return Err(CapacityError::HubPinnedTooSmall {
                sku,
                units,
                daily_capacity: sizing.daily_capacity,
                daily_messages: daily,
            });
        }
        return Ok(sizing);
    }
    HubSku::ALL
        .into_iter()
        .filter(|sku| match sku.tier() {
            HubTier::Free => false,
            HubTier::Basic => allow_basic,
            HubTier::Standard => true,
        })
        .filter_map(|sku| hub_units_for(sku, daily).map(|units| HubSizing::new(sku, units, daily)))
        .min_by(|a, b| {
            a.default_monthly_usd
                .total_cmp(&b.default_monthly_usd)
                .then(b.daily_capacity.cmp(&a.daily_capacity))
        })
        .ok_or(CapacityError::NoHubFits {
            daily_messages: daily,
            allow_basic,
        })
}

/// A storage class or access tier that a lifecycle policy moves objects through.
pub trait StorageClass: Copy + Eq + fmt::Debug {
    /// Days an object is billed for in this class even when it leaves earlier (prorated).
    fn minimum_storage_days(self) -> u32;
    /// The class name as the cloud spells it in lifecycle configuration.
    fn name(self) -> &'static str;
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

/// Azure Blob access tiers (GPv2, LRS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BlobTier {
    Hot,
    Cool,
    Cold,
    Archive,
}

impl StorageClass for BlobTier {
    fn minimum_storage_days(self) -> u32 {
        match self {
            Self::Hot => 0,
            Self::Cool => 30,
            Self::Cold => 90,
            Self::Archive => 180,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Hot => "Hot",
            Self::Cool => "Cool",
            Self::Cold => "Cold",
            Self::Archive => "Archive",
        }
    }
}

/// The span of an object's life spent in one class under a lifecycle policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Residency<C> {
    /// The class.
    pub class: C,
    /// Age in days at which objects enter the class.
    pub from_day: u32,
    /// Age in days at which objects leave it (next transition or expiry); `None` = never.
    pub to_day: Option<u32>,
}

impl<C: StorageClass> Residency<C> {
    /// Days an object spends in the class, when it leaves at all.
    pub fn days(&self) -> Option<u32> {
        self.to_day.map(|to| to - self.from_day)
    }

    /// Days billed as early deletion when objects leave before the class minimum:
    /// `max(0, minimum_storage_days − days)`. At steady state, with `V` GB written per day, the
    /// monthly early-deletion charge is `V × early_deletion_days × price per GB-month`, the same
    /// shape as the storage charge `V × days × price`.
    pub fn early_deletion_days(&self) -> u32 {
        self.days().map_or(0, |days| {
            self.class.minimum_storage_days().saturating_sub(days)
        })
    }
}

/// Splits an object's life into the classes a lifecycle policy moves it through.
///
/// Objects start in `initial`; each `(class, day)` moves them at that age; `expire_after_days`
/// deletes them. At steady state each class holds `days × V` GB when `V` GB arrive per day.
///
/// # Errors
///
/// [`CapacityError::LifecycleOrder`] when days do not strictly increase,
/// [`CapacityError::LifecycleAfterExpiry`] when a transition is at or after expiry, and
/// [`CapacityError::LifecycleSameClass`] when a transition does not change the class.
pub fn lifecycle_residency<C: StorageClass>(
    initial: C,
    transitions: &[(C, u32)],
    expire_after_days: Option<u32>,
) -> Result<Vec<Residency<C>>, CapacityError> {
    let mut spans = Vec::with_capacity(transitions.len() + 1);
    let mut current = Residency {
        class: initial,
        from_day: 0,
        to_day: None,
    };
    for (index, &(class, day)) in transitions.iter().enumerate() {
        if index > 0 && day <= current.from_day {
            return Err(CapacityError::LifecycleOrder {
                day,
                previous: current.from_day,
            });
        }
        if let Some(expire) = expire_after_days.filter(|expire| day >= *expire) {
            return Err(CapacityError::LifecycleAfterExpiry { day, expire });
        }
        if class == current.class {
            return Err(CapacityError::LifecycleSameClass {
                day,
                class: class.name(),
            });
        }
        current.to_day = Some(day);
        if day > current.from_day {
            spans.push(current);
        }
        current = Residency {
            class,
            from_day: day,
            to_day: None,
        };
    }
    current.to_day = expire_after_days;
    spans.push(current);
    Ok(spans)
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
    fn azure_quota_blocks_at_boundaries() {
        for (bytes, units) in [
            (0, 1),
            (1_500, 1),
            (4_096, 1),
            (4_097, 2),
            (4_608, 2),
            (5_120, 2),
            (5_121, 2),
            (8_192, 2),
            (8_193, 3),
            (10_240, 3),
            (10_241, 3),
            (12_288, 3),
            (12_289, 4),
            (25_600, 7),
            (25_601, 7),
            (65_536, 16),
            (65_537, 17),
        ] {
            assert_eq!(azure_hub_quota_messages(bytes), units, "{bytes} B");
        }
        for (bytes, units) in [(1, 1), (512, 1), (513, 2), (1_500, 3), (4_096, 8)] {
            assert_eq!(azure_hub_free_quota_messages(bytes), units, "{bytes} B");
        }
    }

    #[test]
    fn stream_units_at_boundaries() {
        for (bytes, put, on_demand, firehose, events) in [
            (0, 1, 1_024, 5_120, 1),
            (1_500, 1, 2_048, 5_120, 1),
            (4_096, 1, 4_096, 5_120, 1),
            (4_097, 1, 5_120, 5_120, 1),
            (5_120, 1, 5_120, 5_120, 1),
            (5_121, 1, 6_144, 10_240, 1),
            (8_192, 1, 8_192, 10_240, 1),
            (10_240, 1, 10_240, 10_240, 1),
            (10_241, 1, 11_264, 15_360, 1),
            (25_600, 1, 25_600, 25_600, 1),
            (25_601, 2, 26_624, 30_720, 1),
            (65_536, 3, 65_536, 66_560, 1),
            (65_537, 3, 66_560, 66_560, 2),
        ] {
            assert_eq!(kinesis_put_units(bytes), put, "put {bytes} B");
            assert_eq!(
                kinesis_on_demand_billed_bytes(bytes),
                on_demand,
                "on-demand {bytes} B"
            );
            assert_eq!(firehose_billed_bytes(bytes), firehose, "firehose {bytes} B");
            assert_eq!(event_hubs_ingress_events(bytes), events, "events {bytes} B");
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

    #[test]
    fn throughput_units_at_limits() {
        let std = EventHubsTier::Standard;
        assert_eq!(event_hubs_throughput_units(0.0, 0.0, std), Ok(1));
        assert_eq!(
            event_hubs_throughput_units(1_048_576.0, 1_000.0, std),
            Ok(1)
        );
        assert_eq!(event_hubs_throughput_units(1_048_577.0, 0.0, std), Ok(2));
        assert_eq!(event_hubs_throughput_units(0.0, 1_001.0, std), Ok(2));
        assert_eq!(
            event_hubs_throughput_units(0.0, 40_000.0, EventHubsTier::Basic),
            Ok(40)
        );
        assert_eq!(
            event_hubs_throughput_units(0.0, 40_001.0, std),
            Err(CapacityError::ThroughputUnitsExceeded {
                needed: 41,
                max: 40,
                tier: std
            })
        );
        assert_eq!(
            event_hubs_throughput_units(1.0, 1.0, EventHubsTier::Premium),
            Err(CapacityError::NotThroughputUnitTier {
                tier: EventHubsTier::Premium
            })
        );
    }

    #[test]
    fn auto_inflate_ceiling() {
        let std = EventHubsTier::Standard;
        assert_eq!(event_hubs_auto_inflate_ceiling(1, 1.0, std), Ok(1));
        assert_eq!(event_hubs_auto_inflate_ceiling(3, 2.0, std), Ok(6));
        assert_eq!(event_hubs_auto_inflate_ceiling(3, 1.1, std), Ok(4));
        assert_eq!(event_hubs_auto_inflate_ceiling(30, 2.0, std), Ok(40));
        assert_eq!(event_hubs_auto_inflate_ceiling(40, 1.5, std), Ok(40));
        assert!(event_hubs_auto_inflate_ceiling(41, 1.0, std).is_err());
        assert!(event_hubs_auto_inflate_ceiling(2, 0.5, std).is_err());
    }

    fn sized(daily: u64, allow_basic: bool) -> (HubSku, u32) {
        let sizing = iot_hub_sizing(daily, allow_basic, None).expect("fits");
        (sizing.sku, sizing.units)
    }

    #[test]
    fn hub_sizing_at_quota_boundaries() {
        assert_eq!(sized(0, false), (HubSku::S1, 1));
        assert_eq!(sized(0, true), (HubSku::B1, 1));
        assert_eq!(sized(400_000, false), (HubSku::S1, 1));
        assert_eq!(sized(400_001, false), (HubSku::S1, 2));
        assert_eq!(sized(400_000, true), (HubSku::B1, 1));
        assert_eq!(sized(400_001, true), (HubSku::B1, 2));
        // Worked example A: 3.12M/day -> S1 x 8 ($200) beats S2 x 1 ($250).
        let a = iot_hub_sizing(3_120_000, false, None).expect("fits");
        assert_eq!(
            (a.sku, a.units, a.daily_capacity),
            (HubSku::S1, 8, 3_200_000)
        );
        assert!((a.headroom - 0.025).abs() < 1e-12);
        assert!((a.default_monthly_usd - 200.0).abs() < f64::EPSILON);
        // Worked example B: exactly 6M/day -> S2 x 1 at zero headroom ($250 < S1 x 15 = $375).
        let b = iot_hub_sizing(6_000_000, false, None).expect("fits");
        assert_eq!((b.sku, b.units), (HubSku::S2, 1));
        assert!(b.headroom.abs() < f64::EPSILON);
        // One message more: S1 x 16 ($400) beats S2 x 2 ($500).
        assert_eq!(sized(6_000_001, false), (HubSku::S1, 16));
        // S1 x 10 and S2 x 1 both cost $250: the tie goes to the larger capacity.
        assert_eq!(sized(3_600_001, false), (HubSku::S2, 1));
        // Basic: B2 x 1 ($50) beats B1 x 8 ($80).
        assert_eq!(sized(3_120_000, true), (HubSku::B2, 1));
        // The top end: S3 x 10 carries 3e9 per day, nothing carries more.
        assert_eq!(sized(3_000_000_000, false), (HubSku::S3, 10));
        assert_eq!(
            iot_hub_sizing(3_000_000_001, true, None),
            Err(CapacityError::NoHubFits {
                daily_messages: 3_000_000_001,
                allow_basic: true
            })
        );
    }

    #[test]
    fn hub_sizing_with_pins() {
        let pin = |sku, units| Some(HubPin { sku, units });
        let s2 = iot_hub_sizing(3_120_000, false, pin(HubSku::S2, None)).expect("fits");
        assert_eq!((s2.sku, s2.units), (HubSku::S2, 1));
        let s1 = iot_hub_sizing(100, false, pin(HubSku::S1, Some(4))).expect("fits");
        assert_eq!(s1.units, 4);
        assert_eq!(
            iot_hub_sizing(100, false, pin(HubSku::B1, None)),
            Err(CapacityError::HubTierNotAllowed { sku: HubSku::B1 })
        );
        assert_eq!(
            iot_hub_sizing(100, false, pin(HubSku::S3, Some(11))),
            Err(CapacityError::HubUnitsOutOfRange {
                sku: HubSku::S3,
                units: 11,
                max: 10
            })
        );
        assert_eq!(
            iot_hub_sizing(400_001, false, pin(HubSku::S1, Some(1))),
            Err(CapacityError::HubPinnedTooSmall {
                sku: HubSku::S1,
                units: 1,
                daily_capacity: 400_000,
                daily_messages: 400_001
            })
        );
        let free = iot_hub_sizing(8_000, false, pin(HubSku::F1, None)).expect("fits");
        assert_eq!((free.sku, free.units), (HubSku::F1, 1));
        assert!(iot_hub_sizing(8_001, false, pin(HubSku::F1, None)).is_err());
        assert!(iot_hub_sizing(80_000_001, false, pin(HubSku::S1, None)).is_err());
    }

    #[test]
    fn hub_throttles() {
        assert_eq!(HubSku::S1.d2c_sends_per_s(8), 100);
        assert_eq!(HubSku::S1.d2c_sends_per_s(10), 120);
        assert_eq!(HubSku::S2.d2c_sends_per_s(1), 120);
        assert_eq!(HubSku::S3.d2c_sends_per_s(2), 12_000);
    }

    #[test]
    fn residency_spans() {
        use S3StorageClass::{GlacierDeepArchive, Standard, StandardIa};
        let spans =
            lifecycle_residency(Standard, &[(GlacierDeepArchive, 30)], Some(365)).expect("valid");
        assert_eq!(spans.len(), 2);
        assert_eq!(spans[0].days(), Some(30));
        assert_eq!(spans[1].days(), Some(335));
        assert_eq!(spans[1].early_deletion_days(), 0);

        let short =
            lifecycle_residency(Standard, &[(GlacierDeepArchive, 30)], Some(90)).expect("valid");
        assert_eq!(short[1].early_deletion_days(), 120);

        // A transition at day 0 skips the initial class entirely.
        let direct =
            lifecycle_residency(Standard, &[(GlacierDeepArchive, 0)], None).expect("valid");
        assert_eq!(direct.len(), 1);
        assert_eq!(direct[0].class, GlacierDeepArchive);
        assert_eq!(direct[0].to_day, None);

        assert_eq!(
            lifecycle_residency(
                Standard,
                &[(StandardIa, 60), (GlacierDeepArchive, 60)],
                None
            ),
            Err(CapacityError::LifecycleOrder {
                day: 60,
                previous: 60
            })
        );
        assert_eq!(
            lifecycle_residency(Standard, &[(StandardIa, 400)], Some(365)),
            Err(CapacityError::LifecycleAfterExpiry {
                day: 400,
                expire: 365
            })
        );
        assert!(matches!(
            lifecycle_residency(Standard, &[(Standard, 10)], None),
            Err(CapacityError::LifecycleSameClass { .. })
        ));
        assert_eq!(BlobTier::Archive.minimum_storage_days(), 180);
    }
}
