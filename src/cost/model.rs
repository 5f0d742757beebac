//! The estimate as data: what the renderers print and `--format json` serializes.
//!
//! Amounts are kept as exact `f64` in memory and rounded only when shown: cents in text and
//! markdown, four decimals in JSON (unit prices keep ten, since many are fractions of a cent).
//! The JSON key order is the field order here, so output is byte-for-byte stable.

use serde::{Deserialize, Serialize, Serializer};

use super::pricebook::Confidence;

pub use crate::clouds::Cloud;

/// One billed item: `quantity × unit price = monthly`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// The cloud service, e.g. `IoT Core`.
    pub service: String,
    /// The item within the service, e.g. `messaging`. Together with `service` it identifies the
    /// line across estimates (see [`super::compare()`]).
    pub item: String,
    /// Monthly quantity, in `unit`s.
    #[serde(serialize_with = "round4")]
    pub quantity: f64,
    /// What one unit is, e.g. `1M messages`.
    pub unit: String,
    /// USD per unit; the blended rate when volume tiers apply.
    #[serde(serialize_with = "round10")]
    pub unit_price_usd: f64,
    /// USD per month.
    #[serde(serialize_with = "round4")]
    pub monthly_usd: f64,
    /// How far to trust the unit price.
    pub confidence: Confidence,
    /// How the quantity and amount were worked out, in words and numbers.
    pub arithmetic: String,
}

/// The monthly bill for one cloud.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudEstimate {
    /// The cloud.
    pub cloud: Cloud,
    /// The region the prices apply to.
    pub region: String,
    /// Billed items, in pipeline order.
    pub lines: Vec<Line>,
    /// Sum of the lines' `monthly_usd`.
    #[serde(serialize_with = "round4")]
    pub total_usd: f64,
}

/// A change that would lower the bill, priced by re-running the estimate with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advice {
    /// The cloud whose bill drops.
    pub cloud: Cloud,
    /// One line: what to change.
    pub title: String,
    /// Why, what it trades away, and the numbers.
    pub detail: String,
    /// USD per month saved: this cloud's total minus the total with the change.
    #[serde(serialize_with = "round4")]
    pub monthly_saving_usd: f64,
}

/// Something the estimate takes as given; read these before trusting a total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assumption {
    /// The cloud it concerns; `None` for both.
    pub cloud: Option<Cloud>,
    /// The assumption, in a sentence.
    pub text: String,
}

/// The units and conventions every number in the estimate uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conventions {
    /// Always `USD`.
    pub currency: String,
    /// Hours in a billing month.
    pub hours_per_month: f64,
    /// Days in a billing month (`hours_per_month / 24`).
    #[serde(serialize_with = "round4")]
    pub days_per_month: f64,
    /// Bytes in a KB.
    pub kb_bytes: u64,
    /// Bytes in a GB of stored or ingested data.
    pub gb_bytes: u64,
    /// What kind of price the book holds.
    pub price_basis: String,
    /// When the price book was compiled.
    pub price_book_compiled: String,
    /// What no line includes.
    pub excluded: Vec<String>,
}

/// A monthly cost estimate for each targeted cloud.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// One bill per cloud, AWS first.
    pub clouds: Vec<CloudEstimate>,
    /// Savings found by re-running the estimate with alternatives, largest first per cloud.
    pub advice: Vec<Advice>,
    /// Units and conventions.
    pub conventions: Conventions,
    /// What the numbers take as given.
    pub assumptions: Vec<Assumption>,
}

impl Estimate {
    /// The bill for `cloud`, if it was estimated.
    pub fn cloud(&self, cloud: Cloud) -> Option<&CloudEstimate> {
        self.clouds.iter().find(|c| c.cloud == cloud)
    }
}

/// Rounds to `decimals` places, turning `-0.0` into `0.0`.
pub(crate) fn round_to(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    let rounded = (value * scale).round() / scale;
    if rounded == 0.0 { 0.0 } else { rounded }
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `serialize_with` passes a reference
pub(crate) fn round4<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(round_to(*value, 4))
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `serialize_with` passes a reference
pub(crate) fn round10<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(round_to(*value, 10))
}

#[allow(clippy::ref_option)] // serde's `serialize_with` passes a reference
pub(crate) fn round4_opt<S: Serializer>(
    value: &Option<f64>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => serializer.serialize_some(&round_to(*value, 4)),
        None => serializer.serialize_none(),
    }
}
