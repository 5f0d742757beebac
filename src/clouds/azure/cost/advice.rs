//! Azure advice, each candidate priced by re-running the Azure bill with it: size the hub for
//! the traffic, a Basic hub, trim a message to a 4 KB quota block, batch readings, IoT Hub
//! storage routing instead of Capture, Event Hubs Basic, and drop a Blob tier change that
//! costs more than it saves.

use super::AzureWorkload;
use super::price::hub_sizing;
use crate::capacity::{self, AZURE_HUB_QUOTA_BLOCK_BYTES, KIB, StorageClass};
use crate::cost::advice::{Collector, scale_invocations};
use crate::cost::storage;
use crate::cost::{Advice, CloudRun, PriceBook, Traffic, Workload, format};

/// Largest device-to-cloud message IoT Hub accepts.
const AZURE_MAX_MESSAGE_BYTES: u64 = 256 * KIB;

pub(super) fn advice(
    w: &Workload,
    azure: &AzureWorkload,
    book: &PriceBook,
    run: &CloudRun,
) -> Vec<Advice> {
    let mut c = Collector::new(w, azure, book, run);
    let traffic = Traffic::of(w);
    let current = hub_sizing(w, azure, &traffic).ok();
    let hubs = azure.hubs.max(1);
    let per_hub = if hubs > 1 {
        format!(" per hub × {hubs} hubs")
    } else {
        String::new()
    };

    // The alternatives are sized without the pin, so for the planned volume when it is larger
    // than today's, as the planner sizes: advice never undercuts the capacity plan.
    if let (Some(pin), Some((sizing, _, _))) = (azure.hub_pin, current) {
        let auto = hub_sizing(
            w,
            &AzureWorkload {
                hub_pin: None,
                ..azure.clone()
            },
            &traffic,
        )
        .ok();
        if let Some((best, _, _)) = auto {
            let title = if hubs > 1 {
                format!(
                    "Size each of the {hubs} hubs as {} × {} instead of {} × {}",
                    best.sku, best.units, pin.sku, sizing.units
                )
            } else {
                format!(
                    "Size the hub as {} × {} instead of {} × {}",
                    best.sku, best.units, pin.sku, sizing.units
                )
            };
            c.offer_bill(
                title,
                |a| a.hub_pin = None,
                |saving| {
                    format!(
                        "{} fit {} × {}{per_hub} (capacity {}/day{}, headroom {}). Saves {} a \
                         month.",
                        hub_volume(azure, &best),
                        best.sku,
                        best.units,
                        format::int(best.daily_capacity),
                        if hubs > 1 { " per hub" } else { "" },
                        format::pct(best.headroom),
                        format::usd(saving)
                    )
                },
            );
        }
    }
    // Independent of a pin (the CLI always pins the planner's size): Basic only when the fleet
    // declares no twins, C2D or methods, which Basic lacks.
    if !azure.hub_allow_basic && !azure.needs_standard_hub && !w.talks_back() {
        let basic = hub_sizing(
            w,
            &AzureWorkload {
                hub_allow_basic: true,
                hub_pin: None,
                ..azure.clone()
            },
            &traffic,
        )
        .ok()
        .filter(|(best, _, _)| best.sku.tier() == capacity::HubTier::Basic);
        if let Some((best, _, _)) = basic {
            c.offer_bill(
                format!(
                    "Use a Basic IoT Hub ({} × {}{per_hub})",
                    best.sku, best.units
                ),
                |a| {
                    a.hub_allow_basic = true;
                    a.hub_pin = None;
                },
                |saving| {
                    format!(
                        "The fleet uses no twins, cloud-to-device messages or direct methods, so \
                         a Basic tier carries its {}. Basic also lacks jobs, IoT Edge and device \
                         streams; a hub can move up to Standard later, not down. Saves {} a \
                         month.",
                        hub_volume(azure, &best),
                        format::usd(saving)
                    )
                },
            );
        }
    }

    c.metering_boundary(
        AZURE_HUB_QUOTA_BLOCK_BYTES,
        "against the IoT Hub daily quota",
    );
    c.batching(AZURE_MAX_MESSAGE_BYTES, |bill, k| {
        if let Some(f) = bill.functions.as_mut() {
            scale_invocations(f, k);
        }
    });

    if let Some(hubs) = &azure.event_hubs {
        if hubs.capture && hubs.tier == capacity::EventHubsTier::Standard {
            c.offer_bill(
                "Route telemetry to storage from IoT Hub instead of Event Hubs Capture".to_owned(),
                |a| {
                    if let Some(h) = a.event_hubs.as_mut() {
                        h.capture = false;
                    }
                },
                |saving| {
                    format!(
                        "Capture bills every throughput unit for every hour. An IoT Hub route to \
                         a storage endpoint is free and also writes batched blobs (every 60 to \
                         720 seconds). Saves {} a month.",
                        format::usd(saving)
                    )
                },
            );
        }
        if !hubs.capture && hubs.tier == capacity::EventHubsTier::Standard {
            c.offer_bill(
                "Use Event Hubs Basic".to_owned(),
                |a| {
                    if let Some(h) = a.event_hubs.as_mut() {
                        h.tier = capacity::EventHubsTier::Basic;
                    }
                },
                |saving| {
                    format!(
                        "Without Capture, Basic carries the same throughput for half the TU \
                         price, with one consumer group and one-day retention (no Kafka \
                         endpoint). Saves {} a month.",
                        format::usd(saving)
                    )
                },
            );
        }
    }

    blob_lifecycle(&mut c, azure);
    c.advice
}

/// The daily volume a hub alternative was sized for, in words: `2,880,000 quota messages a
/// day`, per hub when there are several, and `(planned a year ahead)` when it is the planned
/// volume.
fn hub_volume(azure: &AzureWorkload, sizing: &capacity::HubSizing) -> String {
    let planned = azure
        .planned_daily_quota_messages
        .is_some_and(|p| p >= sizing.daily_messages);
    format!(
        "{} quota messages a day{}{}",
        format::int(sizing.daily_messages),
        if azure.hubs > 1 { " per hub" } else { "" },
        if planned {
            " (planned a year ahead)"
        } else {
            ""
        }
    )
}

fn blob_lifecycle(c: &mut Collector<'_, AzureWorkload>, azure: &AzureWorkload) {
    let Some(archive) = &azure.archive else {
        return;
    };
    let transitions: Vec<_> = archive
        .transitions
        .iter()
        .map(|t| (t.tier, t.after_days))
        .collect();
    let Ok(plan) = storage::lifecycle(
        capacity::BlobTier::Hot,
        &transitions,
        archive.expire_after_days,
    ) else {
        return;
    };
    for (index, &(tier, day)) in transitions.iter().enumerate() {
        let span = plan
            .spans
            .iter()
            .find(|s| s.class == tier && s.from_day == day);
        let title = match span {
            Some(span) if span.early_days > 0 => format!(
                "Drop the move to {}: its {}-day minimum is longer than the {} days blobs stay",
                tier.name(),
                tier.minimum_storage_days(),
                span.days
            ),
            _ => format!(
                "Drop the move to {}: it costs more than it saves",
                tier.name()
            ),
        };
        c.offer_bill(
            title,
            |a| {
                if let Some(archive) = a.archive.as_mut() {
                    archive.transitions.remove(index);
                }
            },
            |saving| {
                format!(
                    "Tier-change writes, early-deletion fees and the tier's prices outweigh the \
                     cheaper storage from day {day}. Keeping blobs in the previous tier saves {} \
                     a month.",
                    format::usd(saving)
                )
            },
        );
    }
}
