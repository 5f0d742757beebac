//! Azure's names for what the neutral model asks for: blob tiers, SKUs and tiers as Azure
//! spells them, event sources, how long data must stay in a tier and how it is read back.
//! The diagram, `explain` and the README read them from here.

use crate::capacity::StorageClass;
use crate::model::{Allocation, EventHubsTier, HubSku, RouteSource, StorageTier};

/// The blob access tier a lifecycle tier becomes (Azure has nothing colder than Archive).
pub fn tier_name(tier: StorageTier) -> &'static str {
    match tier {
        StorageTier::Hot => "Blob Hot",
        StorageTier::Cool => "Blob Cool",
        StorageTier::Cold => "Blob Cold",
        StorageTier::Archive | StorageTier::DeepArchive => "Blob Archive",
    }
}

/// Days Blob storage bills a blob in the tier, at least.
pub fn minimum_days(tier: StorageTier) -> u32 {
    tier.blob_tier().minimum_storage_days()
}

/// How a blob in the tier is read.
pub fn retrieval(tier: StorageTier) -> &'static str {
    match tier {
        StorageTier::Hot => "read at once",
        StorageTier::Cool | StorageTier::Cold => "read at once, paying per GB read",
        StorageTier::Archive | StorageTier::DeepArchive => {
            "offline: rehydrated in hours before reading"
        }
    }
}

/// What a route listens to, in Azure's words.
pub fn source_words(source: RouteSource) -> &'static str {
    match source {
        RouteSource::Telemetry => "telemetry",
        RouteSource::StateChanges => "twin changes",
        RouteSource::Lifecycle => "lifecycle events",
        RouteSource::ConnectionState => "connection events",
    }
}

/// An IoT Hub SKU as Azure spells it.
pub fn sku_name(sku: HubSku) -> &'static str {
    match sku {
        HubSku::F1 => "F1",
        HubSku::B1 => "B1",
        HubSku::B2 => "B2",
        HubSku::B3 => "B3",
        HubSku::S1 => "S1",
        HubSku::S2 => "S2",
        HubSku::S3 => "S3",
    }
}

/// An Event Hubs tier as Azure spells it.
pub fn eh_tier_name(tier: EventHubsTier) -> &'static str {
    match tier {
        EventHubsTier::Basic => "Basic",
        EventHubsTier::Standard => "Standard",
        EventHubsTier::Premium => "Premium",
    }
}

/// DPS allocation in the portal's words.
pub fn allocation_words(a: Allocation) -> &'static str {
    match a {
        Allocation::EvenlyWeighted => "evenly weighted",
        Allocation::LowestLatency => "lowest latency",
        Allocation::Static => "static",
        Allocation::Custom => "custom (Azure Function)",
    }
}
