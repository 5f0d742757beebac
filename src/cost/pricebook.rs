//! The price book: every unit price the estimator multiplies by, with its provenance.
//!
//! A default book is embedded in the binary (`pricebook.yaml` beside this file), so an estimate
//! needs no network and is reproducible. Users override it with a YAML file of the same shape;
//! only the keys they give change. Each price carries its unit, metering increment, source and
//! confidence, so an estimate can say how far to trust each line.
//!
//! The unit and metering increment of each item are fixed by the code: the estimator computes
//! quantities in that unit using the rules in [`crate::capacity`], so an override that changed
//! them would silently mis-price. Loading checks both and rejects such an override. Which items
//! a cloud's section holds, and their units, are declared in the cloud's folder
//! (`clouds/<cloud>/cost/prices.rs`, with `price_group!`); this file loads, merges and
//! checks the book.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::Error;
use crate::clouds::aws::cost::prices::AwsPrices;
use crate::clouds::azure::cost::prices::AzurePrices;

/// The default price book, as shipped.
pub const DEFAULT_PRICEBOOK_YAML: &str = include_str!("pricebook.yaml");

/// How far to trust a price.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// A single weak source; verify before relying on it.
    Low,
    /// One good secondary source, or a consistent derivation.
    Medium,
    /// Good sources with a caveat on part of the item.
    MediumHigh,
    /// A primary document, or two or more independent sources that agree.
    High,
}

impl Confidence {
    /// The spelling used in the price book and the JSON output.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::MediumHigh => "medium_high",
            Self::High => "high",
        }
    }
}

/// From which monthly quantity a lower price applies.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeTier {
    /// Monthly quantity, in the item's unit, from which this price applies.
    pub from: f64,
    /// USD for one unit within the tier.
    pub price_usd: f64,
}

/// One priced item.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// USD for one `unit`, from zero up to the first volume tier.
    pub price_usd: f64,
    /// What `price_usd` buys, e.g. `1M messages` or `GB-month`.
    pub unit: String,
    /// Bytes in one billable block, when the item is size-metered.
    pub metering_increment_bytes: Option<u64>,
    /// Lower prices for higher monthly volume.
    #[serde(default)]
    pub volume_tiers: Vec<VolumeTier>,
    /// Where the figure comes from (keys of [`PriceBook::sources`]).
    pub source: String,
    /// How far to trust the figure.
    pub confidence: Confidence,
    /// Caveats.
    #[serde(default)]
    pub note: Option<String>,
}

/// One band of a tiered charge: `quantity × price_usd`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    /// Quantity billed in the band, in the item's unit.
    pub quantity: f64,
    /// USD per unit in the band.
    pub price_usd: f64,
}

impl Price {
    /// The monthly charge for `quantity` units, split into volume-tier bands (lowest first).
    /// Bands with no quantity are left out; an untiered item gives one band.
    pub fn bands(&self, quantity: f64) -> Vec<Band> {
        let mut bands = Vec::new();
        let mut floor = 0.0;
        let mut price = self.price_usd;
        for tier in &self.volume_tiers {
            let in_band = quantity.min(tier.from) - floor;
            if in_band > 0.0 {
                bands.push(Band {
                    quantity: in_band,
                    price_usd: price,
                });
            }
            floor = tier.from;
            price = tier.price_usd;
        }
        let rest = quantity - floor;
        if rest > 0.0 || bands.is_empty() {
            bands.push(Band {
                quantity: rest.max(0.0),
                price_usd: price,
            });
        }
        bands
    }

    /// The monthly charge for `quantity` units, volume tiers applied.
    pub fn cost(&self, quantity: f64) -> f64 {
        self.bands(quantity)
            .iter()
            .map(|band| band.quantity * band.price_usd)
            .sum()
    }

    /// Checks the price against the unit and metering increment the estimator computes in.
    pub(crate) fn check(
        &self,
        origin: &str,
        path: &str,
        unit: &str,
        increment: Option<u64>,
    ) -> Result<(), Error> {
        let invalid = |reason: String| Error::PriceBookInvalid {
            origin: origin.to_owned(),
            path: path.to_owned(),
            reason,
        };
        if !self.price_usd.is_finite() || self.price_usd < 0.0 {
            return Err(invalid(format!(
                "`price_usd` must be a non-negative number, got {}",
                self.price_usd
            )));
        }
        if self.unit != unit {
            return Err(Error::PriceBookFixed {
                origin: origin.to_owned(),
                path: format!("{path}.unit"),
                expected: unit.to_owned(),
                found: self.unit.clone(),
            });
        }
        if self.metering_increment_bytes != increment {
            let show = |v: Option<u64>| v.map_or_else(|| "null".to_owned(), |v| v.to_string());
            return Err(Error::PriceBookFixed {
                origin: origin.to_owned(),
                path: format!("{path}.metering_increment_bytes"),
                expected: show(increment),
                found: show(self.metering_increment_bytes),
            });
        }
        let mut previous = 0.0;
        for tier in &self.volume_tiers {
            if !tier.from.is_finite() || tier.from <= previous {
                return Err(invalid(format!(
                    "`volume_tiers` must start above 0 and strictly increase, got `from: {}`",
                    tier.from
                )));
            }
            if !tier.price_usd.is_finite() || tier.price_usd < 0.0 {
                return Err(invalid(format!(
                    "tier prices must be non-negative numbers, got {}",
                    tier.price_usd
                )));
            }
            previous = tier.from;
        }
        Ok(())
    }
}

/// Declares a group of prices, with the unit and increment the code expects for each, and a
/// check that walks them.
macro_rules! price_group {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$field_meta:meta])* $field:ident: $unit:literal, $increment:expr; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $( $(#[$field_meta])* pub $field: $crate::cost::pricebook::Price, )*
        }

        impl $name {
            /// Checks every price of the group; errors name `origin` and the key path.
            pub(crate) fn check(
                &self,
                origin: &str,
                prefix: &str,
            ) -> Result<(), $crate::cost::Error> {
                $(
                    self.$field.check(
                        origin,
                        &format!("{prefix}.{}", stringify!($field)),
                        $unit,
                        $increment,
                    )?;
                )*
                Ok(())
            }
        }
    };
}
pub(crate) use price_group;

/// The regions the prices apply to.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Regions {
    pub aws: String,
    pub azure: String,
}

/// What the book is and when it was compiled.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// Always `USD`.
    pub currency: String,
    /// When the figures were collected (ISO date).
    pub compiled: String,
    /// Regions the prices apply to.
    pub regions: Regions,
}

/// Every price the estimator uses.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceBook {
    pub meta: Meta,
    pub aws: AwsPrices,
    pub azure: AzurePrices,
    /// Source keys used by `source` fields, with a description of each.
    pub sources: BTreeMap<String, String>,
}

impl PriceBook {
    /// The embedded default price book.
    ///
    /// # Errors
    ///
    /// Only if the embedded file is broken, which the crate's tests rule out.
    pub fn embedded() -> Result<Self, Error> {
        Self::from_value(parse_yaml(DEFAULT_PRICEBOOK_YAML, "<embedded price book>")?)
    }

    /// The default price book with the overrides in `yaml` merged over it.
    ///
    /// `origin` names the file in error messages. Mappings merge key by key; any other value
    /// (numbers, strings, `volume_tiers` lists) replaces the default. A key containing dots is
    /// read as a path, so `aws.iot_core.messaging.price_usd: 0.9` works as a one-liner. An empty
    /// file changes nothing.
    ///
    /// # Errors
    ///
    /// [`Error::PriceBookSyntax`] for YAML that does not parse, [`Error::PriceBookField`] for an
    /// unknown key or a value of the wrong type (with the key path), and
    /// [`Error::PriceBookFixed`], [`Error::PriceBookCurrency`] and [`Error::PriceBookInvalid`] for
    /// values the estimator cannot use.
    pub fn with_overrides(yaml: &str, origin: &str) -> Result<Self, Error> {
        let mut base = parse_yaml(DEFAULT_PRICEBOOK_YAML, "<embedded price book>")?;
        if yaml.trim().is_empty() {
            return Self::from_value(base);
        }
        let overrides = expand_dotted(parse_yaml(yaml, origin)?);
        match overrides {
            Value::Null => {}
            Value::Object(_) => merge(&mut base, overrides),
            _ => {
                return Err(Error::PriceBookField {
                    origin: origin.to_owned(),
                    path: String::new(),
                    message: "the override file must be a mapping at the top level".to_owned(),
                });
            }
        }
        Self::from_value_with_origin(base, origin)
    }

    fn from_value(value: Value) -> Result<Self, Error> {
        Self::from_value_with_origin(value, "<embedded price book>")
    }

    fn from_value_with_origin(value: Value, origin: &str) -> Result<Self, Error> {
        let book: Self = serde_path_to_error::deserialize(value).map_err(|err| {
            let path = err.path().to_string();
            Error::PriceBookField {
                origin: origin.to_owned(),
                path: if path == "." { String::new() } else { path },
                message: err.into_inner().to_string(),
            }
        })?;
        book.check(origin)?;
        Ok(book)
    }

    /// Checks every value the estimator relies on; errors name `origin`, the file.
    fn check(&self, origin: &str) -> Result<(), Error> {
        if self.meta.currency != "USD" {
            return Err(Error::PriceBookCurrency {
                origin: origin.to_owned(),
                found: self.meta.currency.clone(),
            });
        }
        self.aws.check(origin, "aws")?;
        self.azure.check(origin, "azure")?;
        Ok(())
    }
}

fn parse_yaml(yaml: &str, origin: &str) -> Result<Value, Error> {
    serde_saphyr::from_str::<Value>(yaml).map_err(|source| Error::PriceBookSyntax {
        origin: origin.to_owned(),
        message: source.to_string(),
    })
}

/// Rewrites `{"a.b.c": v}` into `{"a": {"b": {"c": v}}}`, recursively.
fn expand_dotted(value: Value) -> Value {
    let Value::Object(map) = value else {
        return value;
    };
    let mut out = Value::Object(serde_json::Map::new());
    for (key, child) in map {
        let child = expand_dotted(child);
        let nested = key.rsplit('.').fold(child, |inner, part| {
            let mut wrapper = serde_json::Map::new();
            wrapper.insert(part.to_owned(), inner);
            Value::Object(wrapper)
        });
        merge(&mut out, nested);
    }
    out
}

/// Merges `overlay` into `base`: mappings key by key, anything else replaced.
fn merge(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (Value::Object(base_map), Value::Object(overlay_map)) => {
            for (key, value) in overlay_map {
                match base_map.get_mut(&key) {
                    Some(slot) => merge(slot, value),
                    None => {
                        base_map.insert(key, value);
                    }
                }
            }
        }
        (slot, value) => *slot = value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capacity::HubSku;

    fn book() -> PriceBook {
        PriceBook::embedded().expect("embedded price book loads")
    }

    #[test]
    fn embedded_book_loads_and_matches_capacity_defaults() {
        let book = book();
        assert_eq!(book.meta.regions.aws, "us-east-1");
        for sku in HubSku::ALL {
            let price = book.azure.iot_hub.unit(sku).price_usd;
            assert!(
                (price - sku.default_monthly_usd()).abs() < f64::EPSILON,
                "{sku}: book {price}, capacity {}",
                sku.default_monthly_usd()
            );
        }
    }

    #[test]
    fn every_source_key_is_described() {
        let book = book();
        let yaml: Value = parse_yaml(DEFAULT_PRICEBOOK_YAML, "test").expect("parses");
        let mut missing = Vec::new();
        collect_sources(&yaml, &mut |source| {
            for part in source.split(';') {
                let key = part.split_whitespace().next().unwrap_or_default();
                if !book.sources.contains_key(key) {
                    missing.push(key.to_owned());
                }
            }
        });
        assert!(missing.is_empty(), "undescribed sources: {missing:?}");
    }

    fn collect_sources(value: &Value, f: &mut impl FnMut(&str)) {
        if let Value::Object(map) = value {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("source", Value::String(source)) => f(source),
                    _ => collect_sources(child, f),
                }
            }
        }
    }

    #[test]
    fn tiers_split_quantities() {
        let book = book();
        let messaging = &book.aws.iot_core.messaging;
        assert!((messaging.cost(94.9) - 94.9).abs() < 1e-9);
        // 6,000M messages: 1,000 at $1.00 + 4,000 at $0.80 + 1,000 at $0.70.
        assert!((messaging.cost(6_000.0) - (1_000.0 + 3_200.0 + 700.0)).abs() < 1e-9);
        assert_eq!(messaging.bands(0.0).len(), 1);
        assert!(messaging.cost(0.0).abs() < f64::EPSILON);
    }

    #[test]
    fn partial_override_changes_one_price() {
        let nested = "aws:\n  iot_core:\n    messaging:\n      price_usd: 0.9\n";
        let dotted = "aws.iot_core.messaging.price_usd: 0.9\n";
        for yaml in [nested, dotted] {
            let custom = PriceBook::with_overrides(yaml, "prices.yaml").expect("valid override");
            let mut expected = book();
            expected.aws.iot_core.messaging.price_usd = 0.9;
            assert_eq!(custom, expected);
        }
        assert_eq!(
            PriceBook::with_overrides("", "empty.yaml").expect("empty is fine"),
            book()
        );
    }

    #[test]
    fn unknown_keys_name_their_path() {
        let err = PriceBook::with_overrides(
            "aws:\n  iot_core:\n    mesaging: {price_usd: 1}\n",
            "p.yaml",
        )
        .expect_err("unknown key");
        let Error::PriceBookField { path, message, .. } = &err else {
            panic!("unexpected error {err:?}");
        };
        assert_eq!(path, "aws.iot_core.mesaging");
        assert!(message.contains("unknown field `mesaging`"), "{message}");
        assert!(err.to_string().contains("aws.iot_core"), "{err}");

        let err = PriceBook::with_overrides("aws.s3.standard_storage.prise_usd: 1\n", "p.yaml")
            .expect_err("unknown key");
        assert!(
            matches!(&err, Error::PriceBookField { path, .. } if path == "aws.s3.standard_storage.prise_usd"),
            "{err:?}"
        );
    }

    #[test]
    fn wrong_types_and_fixed_fields_are_rejected() {
        let err = PriceBook::with_overrides("aws.lambda.requests.price_usd: cheap\n", "p.yaml")
            .expect_err("wrong type");
        assert!(
            matches!(&err, Error::PriceBookField { path, .. } if path == "aws.lambda.requests.price_usd"),
            "{err:?}"
        );
        let err = PriceBook::with_overrides("aws.iot_core.messaging.unit: 1k messages\n", "p.yaml")
            .expect_err("fixed unit");
        assert!(matches!(err, Error::PriceBookFixed { .. }), "{err:?}");
        let err = PriceBook::with_overrides(
            "azure.iot_hub.standard_s1.metering_increment_bytes: 8192\n",
            "p.yaml",
        )
        .expect_err("fixed increment");
        assert!(matches!(err, Error::PriceBookFixed { .. }), "{err:?}");
        let err = PriceBook::with_overrides("aws.s3.put_requests.price_usd: -1\n", "p.yaml")
            .expect_err("negative");
        assert!(matches!(err, Error::PriceBookInvalid { .. }), "{err:?}");
        let err = PriceBook::with_overrides(
            "aws.iot_core.messaging.volume_tiers: [{from: 10, price_usd: 0.5}, {from: 5, price_usd: 0.4}]\n",
            "p.yaml",
        )
        .expect_err("unordered tiers");
        assert!(matches!(err, Error::PriceBookInvalid { .. }), "{err:?}");
        let err = PriceBook::with_overrides("aws: [1, 2\n", "p.yaml").expect_err("syntax");
        assert!(matches!(err, Error::PriceBookSyntax { .. }), "{err:?}");
        let err = PriceBook::with_overrides("- 1\n", "p.yaml").expect_err("not a mapping");
        assert!(matches!(err, Error::PriceBookField { .. }), "{err:?}");
    }

    #[test]
    fn value_errors_name_the_file_and_currency_has_its_own_hint() {
        for yaml in [
            "aws.iot_core.messaging.unit: 1k messages\n",
            "aws.s3.put_requests.price_usd: -1\n",
            "meta.currency: EUR\n",
        ] {
            let err = PriceBook::with_overrides(yaml, "eu-prices.yaml").expect_err(yaml);
            assert!(
                err.to_string().starts_with("eu-prices.yaml: "),
                "{yaml}: {err}"
            );
        }
        let err = PriceBook::with_overrides("meta.currency: EUR\n", "p.yaml").expect_err("EUR");
        assert!(matches!(err, Error::PriceBookCurrency { .. }), "{err:?}");
        assert!(
            err.to_string()
                .ends_with("hint: prices must be in USD; convert them"),
            "{err}"
        );
    }

    #[test]
    fn overrides_may_replace_tiers_and_add_sources() {
        let yaml = "aws:\n  iot_core:\n    messaging:\n      volume_tiers: []\n\
                    sources:\n  my-quote: negotiated price sheet\n";
        let custom = PriceBook::with_overrides(yaml, "p.yaml").expect("valid");
        assert!(custom.aws.iot_core.messaging.volume_tiers.is_empty());
        assert_eq!(custom.sources["my-quote"], "negotiated price sheet");
    }
}
