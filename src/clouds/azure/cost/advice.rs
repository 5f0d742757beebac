//! Azure advice, each candidate priced by re-running the Azure bill with it: size the hub for
//! the traffic, a Basic hub, trim a message to a 4 KB quota block, batch readings, IoT Hub
//! storage routing instead of Capture, Event Hubs Basic, and drop a Blob tier change that
//! costs more than it saves.

use super::AzureWorkload;
use super::price::{SizedHub, hub_sizing};
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
    let current = hub_sizing(w, azure, &traffic).ok().map(|(h, _)| h);

    // The alternatives are sized without the pins, so for the planned volume when it is larger
    // than today's, as the planner sizes: advice never undercuts the capacity plan.
    if let (true, Some(now)) = (azure.hubs_pinned(), &current) {
        let mut unpinned = azure.clone();
        unpinned.pin_hubs(None);
        let auto = hub_sizing(w, &unpinned, &traffic).ok().map(|(h, _)| h);
        if let Some(best) = auto {
            let title = if azure.hubs.len() > 1 && uniform(&best) && uniform(now) {
                format!(
                    "Size each of the {} hubs as {} × {} instead of {} × {}",
                    best.len(),
                    best[0].sizing.sku,
                    best[0].sizing.units,
                    now[0].sizing.sku,
                    now[0].sizing.units
                )
            } else {
                format!(
                    "Size the hub{} as {} instead of {}",
                    plural(&best),
                    sizes(&best),
                    sizes(now)
                )
            };
            c.offer_bill(
                title,
                |a| a.pin_hubs(None),
                |saving| {
                    format!(
                        "{} fit {}. Saves {} a month.",
                        hub_volume(azure, &best),
                        fits(&best),
                        format::usd(saving)
                    )
                },
            );
        }
    }
    // Independent of a pin (the CLI always pins the planner's size): Basic only when the fleet
    // declares no twins, C2D or methods, which Basic lacks.
    if !azure.hub_allow_basic && !azure.needs_standard_hub && !w.talks_back() {
        let mut basic = azure.clone();
        basic.hub_allow_basic = true;
        basic.pin_hubs(None);
        let sized = hub_sizing(w, &basic, &traffic)
            .ok()
            .map(|(h, _)| h)
            .filter(|hubs| {
                hubs.iter()
                    .all(|h| h.sizing.sku.tier() == capacity::HubTier::Basic)
            });
        if let Some(best) = sized {
            c.offer_bill(
                format!("Use a Basic IoT Hub ({})", sizes(&best)),
                |a| {
                    a.hub_allow_basic = true;
                    a.pin_hubs(None);
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

/// Whether every hub came out the same size.
fn uniform(hubs: &[SizedHub]) -> bool {
    hubs.iter().all(|h| {
        h.sizing.sku == hubs[0].sizing.sku
            && h.sizing.units == hubs[0].sizing.units
            && h.sizing.daily_messages == hubs[0].sizing.daily_messages
    })
}

fn plural(hubs: &[SizedHub]) -> &'static str {
    if hubs.len() > 1 { "s" } else { "" }
}

/// `S1 × 2`, `S1 × 2 per hub × 3 hubs`, or each hub's size when they differ.
fn sizes(hubs: &[SizedHub]) -> String {
    if hubs.is_empty() {
        return String::new();
    }
    if uniform(hubs) {
        let h = &hubs[0].sizing;
        if hubs.len() > 1 {
            format!("{} × {} per hub × {} hubs", h.sku, h.units, hubs.len())
        } else {
            format!("{} × {}", h.sku, h.units)
        }
    } else {
        hubs.iter()
            .map(|h| format!("{} {} × {}", label(h), h.sizing.sku, h.sizing.units))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn label(h: &SizedHub) -> &str {
    if h.name.is_empty() { "a hub" } else { &h.name }
}

/// The size of each alternative with its capacity and headroom, in words.
fn fits(hubs: &[SizedHub]) -> String {
    let one = |h: &SizedHub, per_hub: &str| {
        format!(
            "{} × {}{per_hub} (capacity {}/day{}, headroom {})",
            h.sizing.sku,
            h.sizing.units,
            format::int(h.sizing.daily_capacity),
            if per_hub.is_empty() { "" } else { " per hub" },
            format::pct(h.sizing.headroom)
        )
    };
    if uniform(hubs) {
        let per_hub = if hubs.len() > 1 {
            format!(" per hub × {} hubs", hubs.len())
        } else {
            String::new()
        };
        one(&hubs[0], &per_hub)
    } else {
        hubs.iter()
            .map(|h| format!("{}: {}", label(h), one(h, "")))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The daily volume a hub alternative was sized for, in words: `2,880,000 quota messages a
/// day`, per hub when there are several, and `(planned a year ahead)` when it is the planned
/// volume.
fn hub_volume(azure: &AzureWorkload, hubs: &[SizedHub]) -> String {
    let planned = |i: usize, h: &SizedHub| {
        azure
            .hubs
            .get(i)
            .and_then(|l| l.planned_daily_quota_messages)
            .is_some_and(|p| p >= h.sizing.daily_messages)
    };
    let words = |i: usize, h: &SizedHub, per_hub: bool| {
        format!(
            "{} quota messages a day{}{}",
            format::int(h.sizing.daily_messages),
            if per_hub { " per hub" } else { "" },
            if planned(i, h) {
                " (planned a year ahead)"
            } else {
                ""
            }
        )
    };
    if hubs.is_empty() {
        return String::new();
    }
    if uniform(hubs) {
        words(0, &hubs[0], hubs.len() > 1)
    } else {
        hubs.iter()
            .enumerate()
            .map(|(i, h)| format!("{} on {}", words(i, h, false), label(h)))
            .collect::<Vec<_>>()
            .join(", ")
    }
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
