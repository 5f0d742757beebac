//! The Azure bill: IoT Hub capacity, Event Hubs, Blob archive and the optional compute.
//!
//! IoT Hub is capacity-priced: the fleet's daily quota messages (4 KB blocks; twin updates, C2D
//! and method requests and responses count, registry operations do not) choose the cheapest SKU
//! and unit count through [`crate::capacity::iot_hub_sizing`], the same call the planner makes.
//! Event Hubs bills throughput units per hour and 64 KB ingress events; Capture bills per TU-hour.
//! Blob tier changes bill one write operation of the destination tier.
//!
//! Long (about 660 lines): one function per billed service in the bill's order, IoT Hub the
//! largest (each linked hub sized for its own share of the fleet, identical hubs billed on one
//! line, and the headroom and throttle notes per size); splitting it would scatter the
//! metering rules the notes quote.

use crate::capacity::{
    self, BlobTier, CapacityError, EventHubsTier, HOURS_PER_MONTH, HubPin, HubSizing, HubSku,
    StorageClass,
};

use super::prices::BlobPrices;
use super::{AzureWorkload, BlobArchive, CosmosDbWorkload, EventHubs};
use crate::clouds::Cloud;
use crate::cost::pricebook::{Price, PriceBook};
use crate::cost::storage::{self, Objects};
use crate::cost::{CloudRun, Error, FunctionWorkload, Lines, Traffic, Workload, format, gib};

const HUB: &str = "IoT Hub";
const EVENT_HUBS: &str = "Event Hubs";
const BLOB: &str = "Blob Storage";

pub(crate) fn estimate(
    w: &Workload,
    azure: &AzureWorkload,
    book: &PriceBook,
) -> Result<CloudRun, Error> {
    let traffic = Traffic::of(w);
    let mut lines = Lines::default();
    let mut notes = Vec::new();
    iot_hub(w, azure, &traffic, book, &mut lines, &mut notes)?;
    if let Some(hubs) = &azure.event_hubs {
        event_hubs(w, hubs, &traffic, book, &mut lines, &mut notes)?;
    }
    if let Some(archive) = &azure.archive {
        blob_archive(
            w,
            archive,
            &traffic,
            &book.azure.blob_storage,
            &mut lines,
            &mut notes,
        )?;
    }
    if let Some(functions) = &azure.functions {
        functions_app(functions, &traffic, book, &mut lines);
    }
    if let Some(cosmos) = &azure.cosmos_db {
        cosmos_db(cosmos, book, &mut lines, &mut notes);
    }
    lines.add(
        "Stream Analytics",
        "streaming units",
        f64::from(azure.stream_analytics_units) * HOURS_PER_MONTH,
        &book.azure.stream_analytics.streaming_unit_hour,
        &format!("{} SU × 730 h", azure.stream_analytics_units),
    );
    Ok(CloudRun {
        estimate: lines.finish(Cloud::Azure, &book.meta.regions.azure),
        notes,
    })
}

/// The fleet's daily quota messages, metered in `block` functions, with how they add up.
pub(crate) fn daily_quota_messages(
    w: &Workload,
    t: &Traffic,
    block: fn(u64) -> u64,
) -> (u64, String) {
    let mut total = 0.0;
    let mut parts = Vec::new();
    let mut part = |count: f64, bytes: u64, what: &str| {
        if count > 0.0 {
            let blocks = block(bytes);
            total += count * blocks as f64;
            parts.push(format!(
                "{} {what} × {blocks} ({} B)",
                format::num(count),
                format::int(bytes)
            ));
        }
    };
    part(t.messages_per_day, w.message_bytes, "telemetry");
    part(t.shadow_per_day, w.shadow_document_bytes, "twin updates");
    part(t.c2d_per_day, w.c2d_message_bytes, "C2D messages");
    part(t.methods_per_day, w.method_request_bytes, "method requests");
    part(
        t.methods_per_day,
        w.method_response_bytes,
        "method responses",
    );
    // Daily counts are whole messages; a fractional average rounds up.
    let total = total.ceil() as u64;
    let text = if parts.is_empty() {
        "no messages".to_owned()
    } else {
        format!(
            "{} = {} quota messages/day",
            parts.join(" + "),
            format::int(total)
        )
    };
    (total, text)
}

/// One hub as the estimate sizes it: its size and how its daily volume adds up.
#[derive(Debug, Clone)]
pub(crate) struct SizedHub {
    pub sizing: HubSizing,
    pub text: String,
    pub pinned: bool,
    pub name: String,
}

/// Sizes each hub the way the planner does, for its share of the fleet; also whether Basic
/// tiers were allowed.
pub(crate) fn hub_sizing(
    w: &Workload,
    azure: &AzureWorkload,
    t: &Traffic,
) -> Result<(Vec<SizedHub>, bool), Error> {
    let allow_basic = azure.hub_allow_basic && !azure.needs_standard_hub && !w.talks_back();
    let free = azure.hubs.iter().any(|h| {
        matches!(
            h.pin,
            Some(HubPin {
                sku: HubSku::F1,
                ..
            })
        )
    });
    let block = if free {
        capacity::azure_hub_free_quota_messages
    } else {
        capacity::azure_hub_quota_messages
    };
    let (daily, fleet_text) = daily_quota_messages(w, t, block);
    let n = azure.hubs.len().max(1);
    let even = n > 1
        && azure
            .hubs
            .iter()
            .all(|h| (h.share - 1.0 / n as f64).abs() < 1e-9);
    let mut out = Vec::with_capacity(n);
    for hub in &azure.hubs {
        let (per_hub, mut text) = if even {
            let per_hub = daily.div_ceil(n as u64);
            (
                per_hub,
                format!(
                    "({fleet_text}) ÷ {n} hubs = {} per hub",
                    format::int(per_hub)
                ),
            )
        } else if (hub.share - 1.0).abs() > 1e-12 {
            let per_hub = (daily as f64 * hub.share).ceil() as u64;
            (
                per_hub,
                format!(
                    "({fleet_text}) × {} of the fleet = {} on this hub",
                    format::pct(hub.share),
                    format::int(per_hub)
                ),
            )
        } else if n > 1 {
            (daily, format!("{fleet_text}, all of it on this hub"))
        } else {
            (daily, fleet_text.clone())
        };
        // Without a pin, size the way the planner does: for the planned fleet when it is larger.
        let sized_for = match hub.planned_daily_quota_messages {
            Some(planned) if hub.pin.is_none() && planned > per_hub => {
                text = format!(
                    "{text}; sized for the {} planned a year ahead",
                    format::int(planned)
                );
                planned
            }
            _ => per_hub,
        };
        let sizing = match capacity::iot_hub_sizing(sized_for, allow_basic, hub.pin) {
            // A pinned hub that is too small is what the plan builds (validation warns): it is
            // billed per unit all the same and throttles devices, which a note says.
            Err(CapacityError::HubPinnedTooSmall {
                sku,
                units,
                daily_messages,
                ..
            }) => HubSizing::new(sku, units, daily_messages),
            other => other?,
        };
        out.push(SizedHub {
            sizing,
            text,
            pinned: hub.pin.is_some(),
            name: hub.name.clone(),
        });
    }
    Ok((out, allow_basic))
}

/// Hubs that come out the same (SKU, units, volume): one line for each group, so identical
/// hubs read `per hub × N hubs` as before and hubs sized for different shares each get theirs.
fn hub_groups(hubs: Vec<SizedHub>) -> Vec<(SizedHub, Vec<String>)> {
    let mut groups: Vec<(SizedHub, Vec<String>)> = Vec::new();
    for hub in hubs {
        let same = groups.iter_mut().find(|(g, _)| {
            g.sizing.sku == hub.sizing.sku
                && g.sizing.units == hub.sizing.units
                && g.sizing.daily_messages == hub.sizing.daily_messages
                && g.pinned == hub.pinned
        });
        if let Some((_, names)) = same {
            names.push(hub.name);
        } else {
            let name = hub.name.clone();
            groups.push((hub, vec![name]));
        }
    }
    groups
}

fn iot_hub(
    w: &Workload,
    azure: &AzureWorkload,
    t: &Traffic,
    book: &PriceBook,
    lines: &mut Lines,
    notes: &mut Vec<String>,
) -> Result<(), Error> {
    let (sized, allow_basic) = hub_sizing(w, azure, t)?;
    let groups = hub_groups(sized);
    let several = groups.len() > 1;
    for (hub, names) in &groups {
        let item = if several {
            let named: Vec<&str> = names
                .iter()
                .map(String::as_str)
                .filter(|n| !n.is_empty())
                .collect();
            if named.is_empty() {
                format!("hub units ({} hub(s))", names.len())
            } else {
                format!("hub units ({})", named.join(", "))
            }
        } else {
            "hub units".to_owned()
        };
        let hubs = u32::try_from(names.len()).unwrap_or(1).max(1);
        hub_line(
            &HubLine {
                sizing: &hub.sizing,
                breakdown: &hub.text,
                pinned: hub.pinned,
                allow_basic,
                hubs,
                item: &item,
            },
            t,
            book,
            lines,
            notes,
        );
    }
    if azure.hub_allow_basic && !allow_basic {
        notes.push(
            "Basic IoT Hub tiers were allowed, but the fleet uses twins, cloud-to-device \
             messages or direct methods, which only Standard offers."
                .to_owned(),
        );
    }
    notes.push(
        "IoT Hub is billed per unit whatever the traffic; exceeding the daily quota throttles \
         rather than bills. Routing to endpoints is free."
            .to_owned(),
    );
    Ok(())
}

/// One group of identical hubs, as the line bills it.
struct HubLine<'a> {
    sizing: &'a HubSizing,
    breakdown: &'a str,
    pinned: bool,
    allow_basic: bool,
    /// Hubs of this size.
    hubs: u32,
    item: &'a str,
}

fn hub_line(
    h: &HubLine<'_>,
    t: &Traffic,
    book: &PriceBook,
    lines: &mut Lines,
    notes: &mut Vec<String>,
) {
    let (sizing, allow_basic, hubs) = (h.sizing, h.allow_basic, h.hubs);
    let sku = sizing.sku;
    let choice = if h.pinned {
        format!("{sku} as configured")
    } else if allow_basic {
        "cheapest Basic or Standard SKU that fits".to_owned()
    } else {
        "cheapest Standard SKU that fits".to_owned()
    };
    let price = book.azure.iot_hub.unit(sku);
    // A pinned hub has the units the spec gives, not what the traffic needs.
    let units = if h.pinned {
        format!("{sku} × {} units", sizing.units)
    } else {
        format!(
            "{sku} × ceil({} ÷ {}) = {} units",
            format::int(sizing.daily_messages),
            format::int(sku.daily_quota_per_unit()),
            sizing.units
        )
    };
    lines.add_with_unit(
        HUB,
        h.item,
        f64::from(sizing.units * hubs),
        &format!("{sku} unit-month"),
        price,
        &format!(
            "{}; {choice}: {units}{}, capacity {}/day, headroom {}",
            h.breakdown,
            if hubs > 1 {
                format!(" per hub × {hubs} hubs")
            } else {
                String::new()
            },
            format::int(sizing.daily_capacity),
            format::pct(sizing.headroom)
        ),
    );
    let per_hub = if hubs > 1 {
        format!(" per hub × {hubs} hubs")
    } else {
        String::new()
    };
    // Billed like the line: units × hubs at the book's unit price.
    let monthly = |n: &HubSizing| {
        book.azure
            .iot_hub
            .unit(n.sku)
            .cost(f64::from(n.units * hubs))
    };
    if sizing.headroom < 0.0 {
        let fits = capacity::iot_hub_sizing(sizing.daily_messages, allow_basic, None).ok();
        notes.push(format!(
            "IoT Hub {sku} × {}{per_hub} carries {} quota messages a day{} and the fleet sends \
             {}: devices are throttled once the daily quota is used up{}.",
            sizing.units,
            format::int(sizing.daily_capacity),
            if hubs > 1 { " per hub" } else { "" },
            format::int(sizing.daily_messages),
            fits.map_or_else(String::new, |n| format!(
                ", unless it moves to {} × {}{per_hub} ({} a month at list price)",
                n.sku,
                n.units,
                format::usd(monthly(&n))
            ))
        ));
    } else if sizing.headroom < 0.05 {
        let next = capacity::iot_hub_sizing(sizing.daily_capacity + 1, allow_basic, None).ok();
        let growth = if sizing.headroom <= 0.0 {
            "any growth".to_owned()
        } else {
            format!("growth beyond {}", format::pct(sizing.headroom))
        };
        notes.push(format!(
            "IoT Hub {sku} × {}{per_hub} runs at {} of its daily quota: {growth} throttles the \
             hub{}.",
            sizing.units,
            format::pct(1.0 - sizing.headroom),
            next.map_or_else(String::new, |n| {
                format!(
                    " unless it moves to {} × {}{per_hub} ({} a month at list price)",
                    n.sku,
                    n.units,
                    format::usd(monthly(&n))
                )
            })
        ));
    }
    let throttle = sku.d2c_sends_per_s(sizing.units) as f64;
    if t.peak_messages_per_s > throttle {
        notes.push(format!(
            "Peak telemetry of {} messages/s is above the {sku} × {} send throttle of {}/s: the \
             hub will throttle devices at peak.",
            format::num(t.peak_messages_per_s),
            sizing.units,
            format::num(throttle)
        ));
    }
}

fn event_hubs(
    w: &Workload,
    hubs: &EventHubs,
    t: &Traffic,
    book: &PriceBook,
    lines: &mut Lines,
    notes: &mut Vec<String>,
) -> Result<(), Error> {
    let prices = &book.azure.event_hubs;
    let rate = format!(
        "peak {} events/s, {} B/s ({} MiB/s)",
        format::num(t.peak_messages_per_s),
        format::num(t.peak_bytes_per_s),
        format::num(t.peak_bytes_per_s / capacity::MIB as f64)
    );
    if hubs.tier == EventHubsTier::Premium {
        let units = hubs.units.unwrap_or(1);
        lines.add(
            EVENT_HUBS,
            "processing unit hours",
            f64::from(units) * HOURS_PER_MONTH,
            &prices.premium_processing_unit_hour,
            &format!("{units} PU × 730 h; ingress events and Capture included"),
        );
        return Ok(());
    }
    let needed =
        capacity::event_hubs_throughput_units(t.peak_bytes_per_s, t.peak_messages_per_s, hubs.tier);
    let (units, why) = if let Some(pinned) = hubs.units {
        if let Ok(needed) = &needed
            && *needed > pinned
        {
            notes.push(format!(
                "The Event Hubs namespace has {pinned} throughput units but the peak rate \
                 needs {needed}: ingress above the limit is throttled."
            ));
        }
        (pinned, format!("{pinned} TU as configured ({rate})"))
    } else {
        let needed = needed?;
        (
            needed,
            format!("{rate} → max(1, ceil(MiB/s), ceil(events/s ÷ 1,000)) = {needed} TU"),
        )
    };
    let (tu_hour, ingress) = match hubs.tier {
        EventHubsTier::Basic => (
            &prices.basic_throughput_unit_hour,
            &prices.basic_ingress_events,
        ),
        _ => (
            &prices.standard_throughput_unit_hour,
            &prices.standard_ingress_events,
        ),
    };
    let tu_hours = f64::from(units) * HOURS_PER_MONTH;
    lines.add_with_unit(
        EVENT_HUBS,
        "throughput unit hours",
        tu_hours,
        &format!("{} TU-hour", hubs.tier),
        tu_hour,
        &format!("{why}; {units} × 730 h"),
    );
    let events = capacity::event_hubs_ingress_events(w.message_bytes);
    lines.add(
        EVENT_HUBS,
        "ingress events",
        t.messages_per_month * events as f64 / 1e6,
        ingress,
        &format!(
            "{} messages × {events} ({} B in 64 KB events)",
            format::num(t.messages_per_month),
            format::int(w.message_bytes)
        ),
    );
    if hubs.capture {
        lines.add(
            EVENT_HUBS,
            "Capture",
            tu_hours,
            &prices.standard_capture,
            &format!("delivery to Blob storage: {units} TU × 730 h"),
        );
    }
    Ok(())
}

fn storage_price(prices: &BlobPrices, tier: BlobTier) -> &Price {
    match tier {
        BlobTier::Hot => &prices.hot_storage,
        BlobTier::Cool => &prices.cool_storage,
        BlobTier::Cold => &prices.cold_storage,
        BlobTier::Archive => &prices.archive_storage,
    }
}

fn write_price(prices: &BlobPrices, tier: BlobTier) -> &Price {
    match tier {
        BlobTier::Hot => &prices.hot_write_operations,
        BlobTier::Cool => &prices.cool_write_operations,
        BlobTier::Cold => &prices.cold_write_operations,
        BlobTier::Archive => &prices.archive_write_operations,
    }
}

fn blob_archive(
    w: &Workload,
    archive: &BlobArchive,
    t: &Traffic,
    prices: &BlobPrices,
    lines: &mut Lines,
    notes: &mut Vec<String>,
) -> Result<(), Error> {
    let objects = Objects::of(archive.batching, t, w.message_bytes);
    let transitions: Vec<(BlobTier, u32)> = archive
        .transitions
        .iter()
        .map(|t| (t.tier, t.after_days))
        .collect();
    let plan = storage::lifecycle(BlobTier::Hot, &transitions, archive.expire_after_days)?;
    let daily_gb = gib(t.bytes_per_day);
    if let Some(horizon) = plan.horizon {
        notes.push(format!(
            "The Blob archive never expires, so it has no steady state: it grows by {} GB a \
             month, and storage is shown after {horizon} days.",
            format::num(daily_gb * capacity::DAYS_PER_MONTH)
        ));
    }
    for span in &plan.spans {
        let label = span.class.name();
        let price = storage_price(prices, span.class);
        lines.add(
            BLOB,
            &format!("{label} storage"),
            daily_gb * f64::from(span.days),
            price,
            &format!(
                "{} GB/day × {} days (day {} to {})",
                format::num(daily_gb),
                span.days,
                span.from_day,
                span.from_day + span.days
            ),
        );
        if span.early_days > 0 {
            lines.add(
                BLOB,
                &format!("{label} early deletion"),
                daily_gb * f64::from(span.early_days),
                price,
                &format!(
                    "blobs leave after {} of the {}-day minimum: {} GB/day × {} days billed",
                    span.days,
                    span.class.minimum_storage_days(),
                    format::num(daily_gb),
                    span.early_days
                ),
            );
        }
    }
    let per_month = objects.per_month();
    lines.add(
        BLOB,
        "write operations",
        per_month / 10_000.0,
        &prices.hot_write_operations,
        &format!(
            "{} = {} blobs/month, written to Hot",
            objects.describe(),
            format::num(per_month)
        ),
    );
    for span in plan.spans.iter().filter(|s| s.by_transition) {
        lines.add(
            BLOB,
            &format!("tier changes to {}", span.class.name()),
            per_month / 10_000.0,
            write_price(prices, span.class),
            &format!(
                "{} blobs/month, one {} write operation each",
                format::num(per_month),
                span.class.name()
            ),
        );
    }
    Ok(())
}

fn functions_app(f: &FunctionWorkload, t: &Traffic, book: &PriceBook, lines: &mut Lines) {
    let prices = &book.azure.functions;
    let executions = t.messages_per_month * f.invocation_fraction * f64::from(f.functions);
    lines.add(
        "Functions",
        "executions",
        executions / 1e6,
        &prices.executions,
        &format!(
            "{} messages × {} matching × {} functions = {} executions",
            format::num(t.messages_per_month),
            format::num(f.invocation_fraction),
            f.functions,
            format::num(executions)
        ),
    );
    let memory_mb = f.memory_mb.max(1).div_ceil(128) * 128;
    let duration_ms = f.avg_duration_ms.max(100.0);
    let gb_seconds = executions * f64::from(memory_mb) / 1024.0 * duration_ms / 1000.0;
    lines.add(
        "Functions",
        "execution time",
        gb_seconds,
        &prices.execution_time,
        &format!(
            "{} executions × {memory_mb} MB (128 MB steps) ÷ 1,024 × {} ms (at least 100 ms)",
            format::num(executions),
            format::num(duration_ms)
        ),
    );
}

fn cosmos_db(
    cosmos: &CosmosDbWorkload,
    book: &PriceBook,
    lines: &mut Lines,
    notes: &mut Vec<String>,
) {
    let prices = &book.azure.cosmos_db;
    let units =
        cosmos.writes_per_month * cosmos.ru_per_write + cosmos.reads_per_month * cosmos.ru_per_read;
    lines.add(
        "Cosmos DB",
        "serverless request units",
        units / 1e6,
        &prices.serverless_request_units,
        &format!(
            "{} writes × {} RU + {} reads × {} RU",
            format::num(cosmos.writes_per_month),
            format::num(cosmos.ru_per_write),
            format::num(cosmos.reads_per_month),
            format::num(cosmos.ru_per_read)
        ),
    );
    lines.add(
        "Cosmos DB",
        "storage",
        gib(cosmos.items as f64 * cosmos.item_bytes as f64),
        &prices.storage,
        &format!(
            "{} items × {} B",
            format::int(cosmos.items),
            format::int(cosmos.item_bytes)
        ),
    );
    notes.push(format!(
        "Cosmos DB serverless: {} RU per write and {} RU per point read, as given; real charges \
         depend on item size and indexing.",
        format::num(cosmos.ru_per_write),
        format::num(cosmos.ru_per_read)
    ));
}
