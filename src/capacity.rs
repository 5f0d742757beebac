//! Capacity math shared by the Terraform planners, validation and the cost estimator.
//!
//! All of them must agree on how many shards, throughput units and hub units a fleet needs, and
//! on how many billable units one message turns into; otherwise the plan and the bill drift
//! apart. Each cloud's rules live in its folder (`clouds/aws/capacity.rs`,
//! `clouds/azure/capacity.rs`) and are re-exported here, so every caller reads them through
//! this one path; this file holds what is neutral: units and month conventions, the error, and
//! storage lifecycles. Every function is pure: plain numbers in, plain numbers (or a
//! [`CapacityError`]) out, no price book, no spec types.
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

pub use crate::clouds::aws::capacity::*;
pub use crate::clouds::azure::capacity::*;

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
pub(crate) const fn blocks(bytes: u64, block: u64) -> u64 {
    if bytes == 0 { 1 } else { bytes.div_ceil(block) }
}

pub(crate) fn check_rate(what: &'static str, value: f64) -> Result<f64, CapacityError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(CapacityError::InvalidInput { what, value })
    }
}

/// `ceil(rate / per_unit)` for a fractional rate, as a whole unit count.
pub(crate) fn ceil_units(rate: f64, per_unit: u64) -> u64 {
    // Rates are bounded by the validation above and far below 2^53, so the cast is exact.
    (rate / per_unit as f64).ceil() as u64
}

/// A storage class or access tier that a lifecycle policy moves objects through.
pub trait StorageClass: Copy + Eq + fmt::Debug {
    /// Days an object is billed for in this class even when it leaves earlier (prorated).
    fn minimum_storage_days(self) -> u32;
    /// The class name as the cloud spells it in lifecycle configuration.
    fn name(self) -> &'static str;
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
