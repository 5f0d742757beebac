//! From the fleet model to the estimator's neutral [`Workload`]: the fleet's traffic today,
//! and the usage figures every cloud's bill derives the same way.
//!
//! What each cloud builds (sizes, SKUs, architectures) is not here: each planner fills its own
//! bill from its decisions (`clouds/<cloud>/bill.rs`), using the helpers below for the usage
//! figures (state writes, dashboard reads, alert invocations) so both clouds count alike. Usage
//! is today's fleet (the bill now), while capacity was sized for the planned fleet a year
//! ahead.
//!
//! Where the spec cannot know a figure, the assumption is fixed here and stated in the
//! estimate: function duration, messages in both directions sized like telemetry, dashboards
//! reading each device's state once an hour.

use crate::capacity;
use crate::design::Bill;
use crate::model::{self, Destination, Model, RouteSource};

use super::model::Assumption;
use super::pricebook::PriceBook;
use super::workload::{FunctionWorkload, Workload};

/// Average run time of a generated function, ms.
const FUNCTION_DURATION_MS: f64 = 120.0;

/// Assumptions this mapping makes, to print with the estimate.
pub const ASSUMPTIONS: [&str; 4] = [
    "Cloud-to-device messages and direct-method requests and responses are sized like telemetry.",
    "Generated functions run with 256 MB for about 120 ms per invocation.",
    "With a web API, dashboards read each device's latest state once an hour.",
    "A device-state write costs 6 Cosmos DB request units (≤ 1 KB items, default indexing).",
];

/// The estimate of `model` as `fleetform cost` shows it: the bill of each cloud it targets,
/// from that cloud's design, priced for today's fleet with `book`, with the price-region
/// notes first and this mapping's [`ASSUMPTIONS`] last. A change to the spec or the model
/// (an advice candidate that re-plans) is priced by calling this again on the changed model.
///
/// # Errors
///
/// As [`super::estimate`].
pub fn estimate(model: &Model, book: &PriceBook) -> super::Result<super::Estimate> {
    let designs = crate::clouds::designs(model, &crate::clouds::targeted(model));
    let bills: Vec<&Bill> = designs.iter().map(|d| &d.bill).collect();
    let meters: Vec<&dyn super::Meter> = bills.iter().map(|b| &*b.meter).collect();
    let mut estimate = super::estimate(&workload(model), &meters, book)?;
    // Prices for another region than the spec's matter most: say so first.
    let mut assumptions = region_assumptions(&bills, book);
    assumptions.append(&mut estimate.assumptions);
    assumptions.extend(ASSUMPTIONS.iter().map(|a| Assumption {
        cloud: None,
        text: (*a).to_owned(),
    }));
    estimate.assumptions = assumptions;
    Ok(estimate)
}

/// A note for each bill whose stack deploys outside the region of `book`'s prices (the book
/// has one region per cloud), to print with the estimate.
pub fn region_assumptions(bills: &[&Bill], book: &PriceBook) -> Vec<Assumption> {
    bills
        .iter()
        .filter_map(|bill| {
            let priced = bill.meter.priced_region(book);
            let spec = &bill.region;
            if same_region(spec, priced) {
                return None;
            }
            let key = bill.cloud.dir();
            Some(Assumption {
                cloud: Some(bill.cloud),
                text: format!(
                    "Figures are list prices for {priced}; the spec deploys to {spec}, where \
                     prices can differ. To price {spec}, pass a price book with its prices and \
                     `meta.regions.{key}: {spec}` (`--pricebook`)."
                ),
            })
        })
        .collect()
}

/// Whether two region names are the same, ignoring case, spaces and dashes (Azure accepts
/// both `eastus2` and `East US 2`).
fn same_region(a: &str, b: &str) -> bool {
    let key = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    key(a) == key(b)
}

/// The neutral workload of `model`: today's fleet and what it sends.
pub fn workload(model: &Model) -> Workload {
    let msg = &model.messaging;
    let messages_per_device_per_day =
        msg.messages_per_device_per_hour * msg.connected_hours_per_day;
    let mut w = Workload::new(
        model.traffic.devices,
        messages_per_device_per_day,
        msg.message_bytes,
    );
    w.hours_connected_per_day = msg.connected_hours_per_day;
    if msg.state {
        w.shadow_updates_per_device_per_day = msg.state_updates_per_device_per_day;
        w.shadow_document_bytes = msg.state_document_bytes;
    }
    if msg.commands {
        w.c2d_messages_per_device_per_day = msg.commands_per_device_per_day;
        w.c2d_message_bytes = msg.message_bytes;
    }
    if msg.direct_methods {
        w.method_calls_per_device_per_day = msg.method_calls_per_device_per_day;
        w.method_request_bytes = msg.message_bytes;
        w.method_response_bytes = msg.message_bytes;
    }
    w.peak_factor = msg.peak_factor.max(1.0);
    w
}

/// The routes of telemetry messages.
pub fn telemetry_routes(model: &Model) -> impl Iterator<Item = &model::Route> {
    model
        .routes
        .iter()
        .filter(|r| r.source == RouteSource::Telemetry)
}

/// State store writes a month: every telemetry message, when a telemetry route writes it.
pub fn state_writes_per_month(model: &Model, w: &Workload) -> f64 {
    if !model.features.state_store {
        return 0.0;
    }
    let routed = telemetry_routes(model)
        .filter(|r| r.to.contains(&Destination::StateStore))
        .count();
    w.devices as f64
        * w.messages_per_device_per_day
        * capacity::DAYS_PER_MONTH
        * routed.min(1) as f64
}

/// State store reads a month: dashboards read each device once an hour, with a web API.
pub fn state_reads_per_month(model: &Model, w: &Workload) -> f64 {
    if model.features.web_api {
        w.devices as f64 * 24.0 * capacity::DAYS_PER_MONTH
    } else {
        0.0
    }
}

/// The generated alert functions, with `memory_mb`: invoked for the share of telemetry the
/// alerts that run a function match.
pub fn alert_functions(model: &Model, memory_mb: u32) -> Option<FunctionWorkload> {
    let fraction: f64 = model
        .alerts
        .iter()
        .filter(|a| a.function)
        .map(|a| a.expected_match_fraction)
        .sum();
    (fraction > 0.0).then_some(FunctionWorkload {
        invocation_fraction: fraction.min(1.0),
        functions: 1,
        memory_mb,
        avg_duration_ms: FUNCTION_DURATION_MS,
    })
}

/// Bytes of telemetry per day, today.
pub fn bytes_per_day(w: &Workload) -> f64 {
    w.devices as f64 * w.messages_per_device_per_day * w.message_bytes as f64
}
