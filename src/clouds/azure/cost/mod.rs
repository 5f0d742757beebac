//! What the Azure stack bills, as the estimator prices it: IoT Hub capacity, Event Hubs, the
//! Blob archive and the optional compute.
//!
//! [`AzureWorkload`] is the Azure part of a design's bill: the planner fills it from its own
//! decisions (`super::bill`), and it prices itself ([`crate::cost::Meter`]) with Azure's
//! metering rules (`price.rs`) and finds its own advice (`advice.rs`). Every field says its
//! unit; defaults are on the `Default` impls.

mod advice;
mod price;
pub mod prices;

use crate::capacity::{BlobTier, EventHubsTier, HubPin};
use crate::clouds::Cloud;
use crate::cost::workload::{invalid, non_negative};
use crate::cost::{
    Advice, Batching, CloudRun, Error, FunctionWorkload, Meter, PriceBook, Workload,
};

/// The Azure side: IoT Hub and what its routes feed.
#[derive(Debug, Clone, PartialEq)]
pub struct AzureWorkload {
    /// Basic hub tiers are acceptable. The estimator also requires that the fleet uses no
    /// twins, C2D or direct methods (see [`Workload::talks_back`] and `needs_standard_hub`).
    pub hub_allow_basic: bool,
    /// The fleet declares twins, cloud-to-device messages or direct methods, whatever their
    /// rates (a declared feature may be used at a rate of zero): Basic hub tiers, which lack
    /// them, are neither chosen nor suggested. Default false.
    pub needs_standard_hub: bool,
    /// The IoT hubs the fleet is spread over (DPS linked hubs), each sized and billed for its
    /// own share of the daily volume. Default: one hub carrying the whole fleet.
    pub hubs: Vec<HubLoad>,
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
            hubs: vec![HubLoad::default()],
            event_hubs: None,
            archive: None,
            functions: None,
            cosmos_db: None,
            stream_analytics_units: 0,
        }
    }
}

impl AzureWorkload {
    fn check(&self) -> Result<(), Error> {
        if self.hubs.is_empty() {
            return Err(invalid(
                "azure.hubs",
                "a fleet needs at least one IoT hub".to_owned(),
            ));
        }
        for hub in &self.hubs {
            if !(0.0..=1.0).contains(&hub.share) {
                return Err(invalid(
                    "azure.hubs.share",
                    format!("a hub carries 0 to 1 of the fleet, not {}", hub.share),
                ));
            }
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

/// One IoT hub and the part of the fleet it carries.
#[derive(Debug, Clone, PartialEq)]
pub struct HubLoad {
    /// What the hub's line calls it when hubs differ (its location); may be empty.
    pub name: String,
    /// Share of the fleet's devices, so of its daily volume, the hub carries: 0 to 1. A hub
    /// the allocation may send the whole fleet to carries 1, whatever the others carry.
    pub share: f64,
    /// A SKU (and unit count) fixed for this hub (the spec's pin, or the size the planner
    /// built); `None` picks the cheapest that fits.
    pub pin: Option<HubPin>,
    /// Daily quota messages (4 KB blocks) this hub's capacity is planned for, e.g. its share
    /// of the fleet a year ahead with headroom, when known. Without a pin the hub is sized for
    /// the larger of this and today's volume, as the planner sizes it; the usage billed is
    /// today's either way. Default `None`.
    pub planned_daily_quota_messages: Option<u64>,
}

impl Default for HubLoad {
    /// One hub with the whole fleet, sized automatically.
    fn default() -> Self {
        Self {
            name: String::new(),
            share: 1.0,
            pin: None,
            planned_daily_quota_messages: None,
        }
    }
}

impl AzureWorkload {
    /// Fixes every hub's SKU and units to `pin`.
    pub fn pin_hubs(&mut self, pin: Option<HubPin>) {
        for hub in &mut self.hubs {
            hub.pin = pin;
        }
    }

    /// Whether any hub's size is fixed.
    pub fn hubs_pinned(&self) -> bool {
        self.hubs.iter().any(|h| h.pin.is_some())
    }

    /// `hubs` identical hubs, each carrying `1 / hubs` of the fleet.
    pub fn even_hubs(hubs: u32) -> Vec<HubLoad> {
        let n = hubs.max(1);
        (0..n)
            .map(|_| HubLoad {
                share: 1.0 / f64::from(n),
                ..HubLoad::default()
            })
            .collect()
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

impl Meter for AzureWorkload {
    fn cloud(&self) -> Cloud {
        Cloud::Azure
    }

    fn validate(&self, _workload: &Workload) -> Result<(), Error> {
        self.check()
    }

    fn price(&self, workload: &Workload, book: &PriceBook) -> Result<CloudRun, Error> {
        price::estimate(workload, self, book)
    }

    fn advice(&self, workload: &Workload, book: &PriceBook, run: &CloudRun) -> Vec<Advice> {
        advice::advice(workload, self, book, run)
    }

    fn priced_region<'b>(&self, book: &'b PriceBook) -> &'b str {
        &book.meta.regions.azure
    }
}
