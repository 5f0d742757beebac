//! AWS's names for what the neutral model asks for: storage classes, event sources, how
//! long data must stay in a class and how it is read back. The diagram, `explain` and the
//! README read them from here.

use crate::capacity::StorageClass;
use crate::model::{RouteSource, StorageTier};

/// The S3 storage class a lifecycle tier becomes.
pub fn tier_name(tier: StorageTier) -> &'static str {
    match tier {
        StorageTier::Hot => "S3 Standard",
        StorageTier::Cool => "S3 Standard-IA",
        StorageTier::Cold => "S3 Glacier Instant Retrieval",
        StorageTier::Archive => "S3 Glacier Flexible Retrieval",
        StorageTier::DeepArchive => "S3 Glacier Deep Archive",
    }
}

/// Days S3 bills an object in the class, at least.
pub fn minimum_days(tier: StorageTier) -> u32 {
    tier.s3_class().minimum_storage_days()
}

/// How an object in the class is read.
pub fn retrieval(tier: StorageTier) -> &'static str {
    match tier {
        StorageTier::Hot => "read at once",
        StorageTier::Cool => "read at once, paying per GB read",
        StorageTier::Cold => "read in milliseconds, paying more per GB read",
        StorageTier::Archive => "restored in minutes to hours before reading",
        StorageTier::DeepArchive => "restored within 12 to 48 hours before reading",
    }
}

/// What a route listens to, in AWS's words.
pub fn source_words(source: RouteSource) -> &'static str {
    match source {
        RouteSource::Telemetry => "telemetry",
        RouteSource::StateChanges => "shadow updates",
        RouteSource::Lifecycle => "lifecycle events",
        RouteSource::ConnectionState => "connection events",
    }
}
