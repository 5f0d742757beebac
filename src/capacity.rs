//! Capacity math shared by the planners and the cost estimator (placeholder until the
//! estimator branch lands with the full, tested implementation).

use crate::spec::HubSku;

const MIB: f64 = 1_048_576.0;

/// Kinesis shards: 1 MiB/s or 1,000 records/s each, at least one.
pub fn kinesis_shards(bytes_per_s: f64, records_per_s: f64) -> u32 {
    let by_bytes = (bytes_per_s / MIB).ceil();
    let by_records = (records_per_s / 1000.0).ceil();
    by_bytes.max(by_records).max(1.0) as u32
}

/// Event Hubs throughput units: 1 MiB/s or 1,000 events/s each, at least one.
pub fn event_hubs_throughput_units(bytes_per_s: f64, events_per_s: f64) -> u32 {
    kinesis_shards(bytes_per_s, events_per_s)
}

/// IoT Hub daily-quota messages for one message of `bytes` (4 KB blocks).
pub fn azure_hub_quota_messages(bytes: u64) -> u64 {
    bytes.div_ceil(4096).max(1)
}

/// A hub size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HubSizing {
    pub sku: HubSku,
    pub units: u32,
    pub daily_capacity: u64,
}

/// Per-unit daily quota and unit limit of a SKU.
pub fn hub_limits(sku: HubSku) -> (u64, u32, f64) {
    match sku {
        HubSku::F1 => (8_000, 1, 0.0),
        HubSku::B1 => (400_000, 200, 10.0),
        HubSku::B2 => (6_000_000, 200, 50.0),
        HubSku::B3 => (300_000_000, 10, 500.0),
        HubSku::S1 => (400_000, 200, 25.0),
        HubSku::S2 => (6_000_000, 200, 250.0),
        HubSku::S3 => (300_000_000, 10, 2500.0),
    }
}

/// Cheapest SKU and unit count among `allowed` that carries `daily` quota messages.
pub fn iot_hub_sizing(daily: u64, allowed: &[HubSku]) -> Option<HubSizing> {
    allowed
        .iter()
        .filter_map(|&sku| {
            let (per_unit, max_units, price) = hub_limits(sku);
            let units = daily.div_ceil(per_unit).max(1);
            (units <= u64::from(max_units)).then(|| {
                let units = units as u32;
                (
                    price * f64::from(units),
                    HubSizing {
                        sku,
                        units,
                        daily_capacity: per_unit * u64::from(units),
                    },
                )
            })
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, s)| s)
}
