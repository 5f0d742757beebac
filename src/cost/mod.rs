//! Monthly cost estimates for a fleet on AWS and Azure, with advice that is priced, not guessed.
//!
//! A fleet spec compiles to an architecture. Each cloud's design carries its bill: what its
//! planner builds (SKUs, sizes, architectures, units), as a [`Meter`] that knows the cloud's
//! metering rules (`clouds/<cloud>/cost/`). [`Workload`] describes the fleet's neutral traffic,
//! [`PriceBook`] holds the unit prices, and [`estimate`] prices every bill for that traffic into
//! an [`Estimate`]: one bill per cloud, line by line, with the arithmetic behind each line. So
//! the estimate prices what the plan builds; nothing here knows a cloud.
//!
//! Advice is found by re-pricing a bill with one alternative at a time (a smaller message,
//! batching, Basic Ingest, another stream, a lifecycle step removed…) and reporting the
//! difference: each cloud offers its candidates, `advice.rs` holds the framework. Renderers for
//! text, markdown and JSON live in [`render`]; [`compare()`] diffs two estimates and [`budget`]
//! checks one against a limit.
//!
//! Conventions: 730 hours and 730 / 24 days a month, KB = 1,024 B, GB = 2^30 B, list prices,
//! steady state (storage after a full retention period has built up).
//!
//! ```
//! use fleetform::clouds::aws::cost::{AwsStream, AwsWorkload, Kinesis};
//! use fleetform::clouds::azure::cost::AzureWorkload;
//! use fleetform::cost::{Meter, PriceBook, Workload};
//!
//! // 10,000 devices, one 1,500-byte message every 5 minutes, a twin/shadow update every hour.
//! let mut fleet = Workload::new(10_000, 288.0, 1_500);
//! fleet.shadow_updates_per_device_per_day = 24.0;
//! fleet.shadow_document_bytes = 1_024;
//! let aws = AwsWorkload {
//!     stream: AwsStream::Kinesis(Kinesis::default()),
//!     ..AwsWorkload::default()
//! };
//! let azure = AzureWorkload::default();
//!
//! let book = PriceBook::embedded()?;
//! let bills: [&dyn Meter; 2] = [&aws, &azure];
//! let estimate = fleetform::cost::estimate(&fleet, &bills, &book)?;
//! let hub = &estimate.clouds[1].lines[0];
//! assert_eq!((hub.item.as_str(), hub.unit.as_str()), ("hub units", "S1 unit-month"));
//! assert!(!fleetform::cost::exceeds(&estimate, 500.0));
//! let report = fleetform::cost::render::text(&estimate);
//! assert!(report.contains("Monthly total"));
//! # Ok::<(), fleetform::cost::Error>(())
//! ```

pub(crate) mod advice;
pub mod budget;
pub mod compare;
pub mod format;
pub mod from_model;
mod model;
pub mod pricebook;
pub mod render;
pub(crate) mod storage;
pub mod workload;

use thiserror::Error;

use crate::capacity::{CapacityError, DAYS_PER_MONTH, GIB, HOURS_PER_MONTH, KIB, SECONDS_PER_DAY};

pub use budget::{Budget, BudgetBreach, exceeds};
pub use compare::{Change, CloudDelta, Delta, LineDelta, compare};
pub use model::{Advice, Assumption, Cloud, CloudEstimate, Conventions, Estimate, Line};
pub use pricebook::{Confidence, PriceBook};
pub use workload::{Batching, FunctionWorkload, Workload};

/// Errors from loading prices or estimating a workload.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum Error {
    /// A price book file is not valid YAML.
    #[error("{origin}: invalid YAML: {message}")]
    PriceBookSyntax { origin: String, message: String },
    /// A price book key is unknown or its value has the wrong type.
    #[error("{origin}: {}{message}", if path.is_empty() { String::new() } else { format!("at `{path}`: ") })]
    PriceBookField {
        origin: String,
        path: String,
        message: String,
    },
    /// An override changed a unit or metering increment that the estimator's rules fix.
    #[error(
        "{origin}: price book `{path}` is fixed to `{expected}`, got `{found}`\n\
         hint: quantities are computed in this unit by fleetform's metering rules; convert the price instead"
    )]
    PriceBookFixed {
        origin: String,
        path: String,
        expected: String,
        found: String,
    },
    /// A price book is in another currency than USD.
    #[error(
        "{origin}: price book `meta.currency` must be `USD`, got `{found}`\n\
         hint: prices must be in USD; convert them"
    )]
    PriceBookCurrency { origin: String, found: String },
    /// A price book value is out of range.
    #[error("{origin}: price book `{path}`: {reason}")]
    PriceBookInvalid {
        origin: String,
        path: String,
        reason: String,
    },
    /// A workload field is out of range or contradicts another.
    #[error("workload `{field}`: {reason}")]
    Workload { field: &'static str, reason: String },
    /// A resource cannot be sized for the workload.
    #[error(transparent)]
    Capacity(#[from] CapacityError),
}

/// Result alias for this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One cloud's bill, as the estimator prices it: the cloud's metering of what its planner
/// builds. Each cloud folder implements it for its bill (`clouds/<cloud>/cost/`).
pub trait Meter: std::fmt::Debug + Send + Sync {
    /// The cloud billed.
    fn cloud(&self) -> Cloud;

    /// Checks the bill against the fleet's `workload`.
    fn validate(&self, workload: &Workload) -> Result<()>;

    /// The monthly bill for `workload`, priced with `book`, with the notes made on the way.
    fn price(&self, workload: &Workload, book: &PriceBook) -> Result<CloudRun>;

    /// Changes that would lower `run`, each priced by re-running the bill with it.
    fn advice(&self, workload: &Workload, book: &PriceBook, run: &CloudRun) -> Vec<Advice>;

    /// The region `book` prices this cloud in.
    fn priced_region<'b>(&self, book: &'b PriceBook) -> &'b str;
}

/// Estimates the monthly cost of each of `bills` for the fleet's `workload`, priced with
/// `book`, in the order given.
///
/// # Errors
///
/// [`Error::Workload`] for an inconsistent workload or bill and [`Error::Capacity`] when a
/// resource cannot be sized (e.g. no IoT Hub tier fits, or the stream exceeds its shard quota).
pub fn estimate(workload: &Workload, bills: &[&dyn Meter], book: &PriceBook) -> Result<Estimate> {
    workload.validate()?;
    for bill in bills {
        bill.validate(workload)?;
    }
    let mut clouds = Vec::new();
    let mut assumptions = common_assumptions();
    let mut advice = Vec::new();
    for bill in bills {
        let run = bill.price(workload, book)?;
        advice.extend(bill.advice(workload, book, &run));
        assumptions.extend(run.notes.into_iter().map(|text| Assumption {
            cloud: Some(bill.cloud()),
            text,
        }));
        clouds.push(run.estimate);
    }
    advice.sort_by(|a, b| {
        a.cloud
            .cmp(&b.cloud)
            .then(b.monthly_saving_usd.total_cmp(&a.monthly_saving_usd))
            .then_with(|| a.title.cmp(&b.title))
    });
    Ok(Estimate {
        clouds,
        advice,
        conventions: conventions(book),
        assumptions,
    })
}

fn conventions(book: &PriceBook) -> Conventions {
    Conventions {
        currency: book.meta.currency.clone(),
        hours_per_month: HOURS_PER_MONTH,
        days_per_month: DAYS_PER_MONTH,
        kb_bytes: KIB,
        gb_bytes: GIB,
        price_basis: "list prices, pay-as-you-go, no free tier, no tax".to_owned(),
        price_book_compiled: book.meta.compiled.clone(),
        excluded: [
            "data transfer out",
            "CloudWatch and Azure Monitor (metrics, logs, alarms)",
            "KMS and Key Vault",
            "Device Defender and Defender for IoT",
            "support plans",
            "free tiers and monthly free grants",
        ]
        .map(str::to_owned)
        .to_vec(),
    }
}

fn common_assumptions() -> Vec<Assumption> {
    [
        "Storage is priced at steady state: once a full retention period of data is stored \
         (with a one-year retention, from month 13). Earlier months cost less.",
        "Throughput is sized for the average rate times the peak factor; devices that report in \
         step can exceed it and be throttled.",
    ]
    .map(|text| Assumption {
        cloud: None,
        text: text.to_owned(),
    })
    .to_vec()
}

/// The fleet's traffic, derived once from the workload.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Traffic {
    pub messages_per_day: f64,
    pub messages_per_month: f64,
    pub bytes_per_day: f64,
    pub peak_messages_per_s: f64,
    pub peak_bytes_per_s: f64,
    pub shadow_per_day: f64,
    pub shadow_per_month: f64,
    pub c2d_per_day: f64,
    pub c2d_per_month: f64,
    pub methods_per_day: f64,
    pub methods_per_month: f64,
}

impl Traffic {
    pub(crate) fn of(w: &Workload) -> Self {
        let devices = w.devices as f64;
        let messages_per_day = devices * w.messages_per_device_per_day;
        let bytes_per_day = messages_per_day * w.message_bytes as f64;
        let shadow_per_day = devices * w.shadow_updates_per_device_per_day;
        let c2d_per_day = devices * w.c2d_messages_per_device_per_day;
        let methods_per_day = devices * w.method_calls_per_device_per_day;
        Self {
            messages_per_day,
            messages_per_month: messages_per_day * DAYS_PER_MONTH,
            bytes_per_day,
            peak_messages_per_s: messages_per_day / SECONDS_PER_DAY * w.peak_factor,
            peak_bytes_per_s: bytes_per_day / SECONDS_PER_DAY * w.peak_factor,
            shadow_per_day,
            shadow_per_month: shadow_per_day * DAYS_PER_MONTH,
            c2d_per_day,
            c2d_per_month: c2d_per_day * DAYS_PER_MONTH,
            methods_per_day,
            methods_per_month: methods_per_day * DAYS_PER_MONTH,
        }
    }
}

/// One cloud's bill plus the notes made while pricing it.
#[derive(Debug, Clone)]
pub struct CloudRun {
    pub estimate: CloudEstimate,
    pub notes: Vec<String>,
}

/// Collects lines for one cloud.
#[derive(Debug, Default)]
pub(crate) struct Lines {
    lines: Vec<Line>,
}

impl Lines {
    /// Adds `quantity` units of `price`, unless the quantity is zero. `derivation` explains the
    /// quantity; the price arithmetic is appended.
    pub(crate) fn add(
        &mut self,
        service: &str,
        item: &str,
        quantity: f64,
        price: &pricebook::Price,
        derivation: &str,
    ) {
        self.add_with_unit(service, item, quantity, &price.unit, price, derivation);
    }

    /// Like [`Lines::add`], with the unit shown as `unit` (e.g. `S1 unit-month`).
    pub(crate) fn add_with_unit(
        &mut self,
        service: &str,
        item: &str,
        quantity: f64,
        unit: &str,
        price: &pricebook::Price,
        derivation: &str,
    ) {
        if quantity <= 0.0 {
            return;
        }
        let bands = price.bands(quantity);
        let monthly: f64 = bands.iter().map(|b| b.quantity * b.price_usd).sum();
        let (unit_price, priced) = if let [band] = bands.as_slice() {
            (
                band.price_usd,
                format!(
                    "{} × {} per {} = {}",
                    format::num(quantity),
                    format::price(band.price_usd),
                    price.unit,
                    format::usd4(monthly)
                ),
            )
        } else {
            let parts: Vec<String> = bands
                .iter()
                .map(|b| {
                    format!(
                        "{} × {}",
                        format::num(b.quantity),
                        format::price(b.price_usd)
                    )
                })
                .collect();
            (
                monthly / quantity,
                format!(
                    "tiered: {} per {} = {}",
                    parts.join(" + "),
                    price.unit,
                    format::usd4(monthly)
                ),
            )
        };
        let arithmetic = if derivation.is_empty() {
            priced
        } else {
            format!("{derivation}; {priced}")
        };
        self.lines.push(Line {
            service: service.to_owned(),
            item: item.to_owned(),
            quantity,
            unit: unit.to_owned(),
            unit_price_usd: unit_price,
            monthly_usd: monthly,
            confidence: price.confidence,
            arithmetic,
        });
    }

    pub(crate) fn finish(self, cloud: Cloud, region: &str) -> CloudEstimate {
        let total_usd = self.lines.iter().map(|l| l.monthly_usd).sum();
        CloudEstimate {
            cloud,
            region: region.to_owned(),
            lines: self.lines,
            total_usd,
        }
    }
}

/// Bytes as a GB (GiB) quantity.
pub(crate) fn gib(bytes: f64) -> f64 {
    bytes / GIB as f64
}
