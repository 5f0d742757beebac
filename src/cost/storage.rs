//! Steady-state storage under a lifecycle policy, shared by the S3 and Blob estimates.
//!
//! With `V` GB and `N` objects written per day, a class that holds objects from age `a` to age
//! `b` stores `V × (b − a)` GB and `N × (b − a)` objects once the archive has filled, and every
//! month `N × days_per_month` objects move through each transition. Leaving a class before its
//! minimum duration bills the remaining days, which at steady state is `V × (minimum − days)`
//! GB-months a month. An archive that never expires has no steady state; it is shown after a
//! horizon, and a note says it keeps growing.

use crate::capacity::{self, DAYS_PER_MONTH, Residency, StorageClass};

use super::{Error, Traffic, format, workload::Batching};

/// Days of accumulation shown for an archive that never expires.
pub(crate) const GROWTH_HORIZON_DAYS: u32 = 365;

/// How many objects a day the archive receives, and their average size.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Objects {
    pub per_day: f64,
    pub avg_bytes: f64,
}

impl Objects {
    pub(crate) fn of(batching: Batching, traffic: &Traffic, message_bytes: u64) -> Self {
        let bytes = traffic.bytes_per_day;
        match batching {
            Batching::ObjectsPerDay(per_day) => Self {
                per_day,
                avg_bytes: bytes / per_day,
            },
            Batching::ObjectBytes(size) => {
                // A buffer flushes once it holds `size` bytes, so objects are at least that big.
                let per_day = (bytes / size as f64).floor().max(1.0);
                Self {
                    per_day,
                    avg_bytes: bytes / per_day,
                }
            }
            Batching::OnePerMessage => Self {
                per_day: traffic.messages_per_day,
                avg_bytes: message_bytes as f64,
            },
        }
    }

    pub(crate) fn per_month(&self) -> f64 {
        self.per_day * DAYS_PER_MONTH
    }

    pub(crate) fn describe(&self) -> String {
        format!(
            "{} objects/day of {} on average",
            format::num(self.per_day),
            format::bytes(self.avg_bytes)
        )
    }
}

/// The time objects spend in one class at steady state.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span<C> {
    pub class: C,
    /// Age at which objects enter the class.
    pub from_day: u32,
    /// Days objects are stored in the class (up to the horizon when they never leave).
    pub days: u32,
    /// Days billed as early deletion when objects leave before the class minimum.
    pub early_days: u32,
    /// Objects reach the class through a lifecycle transition (every class but the first one
    /// written to).
    pub by_transition: bool,
}

/// The spans of a lifecycle, with the horizon used when nothing expires.
#[derive(Debug, Clone)]
pub(crate) struct Lifecycle<C> {
    pub spans: Vec<Span<C>>,
    /// `Some(days)` when objects never expire and the archive is shown after `days` days.
    pub horizon: Option<u32>,
}

pub(crate) fn lifecycle<C: StorageClass>(
    initial: C,
    transitions: &[(C, u32)],
    end_day: Option<u32>,
) -> Result<Lifecycle<C>, Error> {
    let residency = capacity::lifecycle_residency(initial, transitions, end_day)?;
    let last_from = residency.last().map_or(0, |r| r.from_day);
    let horizon = end_day
        .is_none()
        .then(|| GROWTH_HORIZON_DAYS.max(last_from + 30));
    let spans = residency
        .iter()
        .map(|r: &Residency<C>| {
            let to_day = r.to_day.or(horizon).unwrap_or(r.from_day);
            Span {
                class: r.class,
                from_day: r.from_day,
                days: to_day - r.from_day,
                early_days: r.early_deletion_days(),
                by_transition: r.class != initial,
            }
        })
        .collect();
    Ok(Lifecycle { spans, horizon })
}
