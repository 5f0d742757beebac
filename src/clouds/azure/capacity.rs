//! Azure's metering and sizing rules: the 4 KB (Free: 0.5 KB) blocks of the IoT Hub daily
//! quota, the SKUs and how many units of which carry a fleet, Event Hubs throughput units,
//! and the Blob access tiers with their minimum durations. The planner, validation and the
//! estimate read them (through [`crate::capacity`]), so the plan and the bill agree.

use std::fmt;

use crate::capacity::{CapacityError, KIB, MIB, StorageClass, blocks, ceil_units, check_rate};

/// Azure IoT Hub paid tiers count messages against the daily quota in 4 KB blocks.
pub const AZURE_HUB_QUOTA_BLOCK_BYTES: u64 = 4 * KIB;

/// Azure IoT Hub Free (F1) counts messages against the daily quota in 0.5 KB blocks.
pub const AZURE_HUB_FREE_QUOTA_BLOCK_BYTES: u64 = 512;

/// One Event Hubs ingress event covers up to 64 KB of an event.
pub const EVENT_HUBS_EVENT_BYTES: u64 = 64 * KIB;

/// One Event Hubs throughput unit accepts this many bytes per second of ingress.
pub const EVENT_HUBS_TU_BYTES_PER_S: u64 = MIB;

/// One Event Hubs throughput unit accepts this many events per second of ingress.
pub const EVENT_HUBS_TU_EVENTS_PER_S: u64 = 1000;

/// Basic and Standard Event Hubs namespaces allow at most 40 throughput units.
pub const EVENT_HUBS_MAX_THROUGHPUT_UNITS: u32 = 40;

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

/// Event Hubs ingress events billed for one event: `ceil(bytes / 65,536)`, at least 1.
pub const fn event_hubs_ingress_events(bytes: u64) -> u64 {
    blocks(bytes, EVENT_HUBS_EVENT_BYTES)
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
    /// `units` of `sku` carrying `daily_messages`, with the room they leave (negative when
    /// they are too few).
    pub(crate) fn new(sku: HubSku, units: u32, daily_messages: u64) -> Self {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
