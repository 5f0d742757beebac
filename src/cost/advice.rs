//! The advice framework: a candidate change is applied to a copy of the workload and the
//! cloud's bill, the cloud is re-priced, and the difference is the saving.
//!
//! Nothing here guesses a number. A candidate is reported only when the re-run succeeds and is
//! cheaper by at least a cent; the detail says what the change gives up. Each cloud's folder
//! offers its own candidates through a `Collector` (in `clouds/<cloud>/cost/advice.rs`);
//! the candidates every cloud shares (trim a message to a metering boundary, batch readings)
//! are here, parameterised by the cloud's block size and message limit.

use crate::capacity::KIB;

use super::{Advice, CloudRun, Meter, PriceBook, Workload, format};

/// Savings below this are noise (they would print as $0.00).
pub(crate) const MIN_SAVING_USD: f64 = 0.005;

/// Re-prices `bill` with `change` applied to copies of the workload and the bill; `None` when
/// the alternative is invalid.
fn rerun<M: Meter + Clone>(
    w: &Workload,
    bill: &M,
    book: &PriceBook,
    change: impl FnOnce(&mut Workload, &mut M),
) -> Option<f64> {
    let mut alt = w.clone();
    let mut alt_bill = bill.clone();
    change(&mut alt, &mut alt_bill);
    alt.validate().ok()?;
    alt_bill.validate(&alt).ok()?;
    alt_bill
        .price(&alt, book)
        .ok()
        .map(|run| run.estimate.total_usd)
}

/// Collects advice for one cloud's bill against its base total.
pub(crate) struct Collector<'a, M> {
    pub w: &'a Workload,
    pub bill: &'a M,
    pub book: &'a PriceBook,
    base: f64,
    pub advice: Vec<Advice>,
}

impl<'a, M: Meter + Clone> Collector<'a, M> {
    /// A collector for `bill`, whose price for `w` is `run`.
    pub(crate) fn new(w: &'a Workload, bill: &'a M, book: &'a PriceBook, run: &CloudRun) -> Self {
        Self {
            w,
            bill,
            book,
            base: run.estimate.total_usd,
            advice: Vec::new(),
        }
    }

    /// Adds advice with a saving already priced.
    pub(crate) fn push(&mut self, title: String, detail: String, saving: f64) {
        self.advice.push(Advice {
            cloud: self.bill.cloud(),
            title,
            detail,
            monthly_saving_usd: saving,
        });
    }

    /// The saving of `change`, if it saves anything.
    pub(crate) fn saving(&self, change: impl FnOnce(&mut Workload, &mut M)) -> Option<f64> {
        let total = rerun(self.w, self.bill, self.book, change)?;
        let saving = self.base - total;
        (saving >= MIN_SAVING_USD).then_some(saving)
    }

    /// The saving of `change` to the bill alone, if it saves anything.
    pub(crate) fn bill_saving(&self, change: impl FnOnce(&mut M)) -> Option<f64> {
        self.saving(|_, bill| change(bill))
    }

    /// Adds advice for `change` when it saves money; `detail` receives the saving.
    pub(crate) fn offer(
        &mut self,
        title: String,
        change: impl FnOnce(&mut Workload, &mut M),
        detail: impl FnOnce(f64) -> String,
    ) {
        if let Some(saving) = self.saving(change) {
            self.push(title, detail(saving), saving);
        }
    }

    /// Like [`Collector::offer`], for a change to the bill alone.
    pub(crate) fn offer_bill(
        &mut self,
        title: String,
        change: impl FnOnce(&mut M),
        detail: impl FnOnce(f64) -> String,
    ) {
        self.offer(title, |_, bill| change(bill), detail);
    }

    /// A message just over a metering boundary of `block` bytes (`meter` says who meters
    /// it): trim it to the boundary below.
    pub(crate) fn metering_boundary(&mut self, block: u64, meter: &str) {
        let bytes = self.w.message_bytes;
        let blocks = bytes.div_ceil(block);
        if blocks < 2 {
            return;
        }
        let target = (blocks - 1) * block;
        let trim = bytes - target;
        if trim > block / 4 {
            return;
        }
        let block_kb = block / KIB;
        self.offer(
            format!(
                "Trim telemetry messages by {} B to {} B",
                format::int(trim),
                format::int(target)
            ),
            |alt, _| {
                alt.message_bytes = target;
                alt.message_overhead_bytes = alt.message_overhead_bytes.min(target);
            },
            |saving| {
                format!(
                    "{} B messages are metered as {blocks} × {block_kb} KB = {} KB {meter}; \
                     {} B would take {}. Shorter topic or property names, or a tighter payload \
                     encoding, save {} a month.",
                    format::int(bytes),
                    blocks * block_kb,
                    format::int(target),
                    blocks - 1,
                    format::usd(saving)
                )
            },
        );
    }

    /// Batching k readings into one message of at most `max_bytes`; `keep_invocations`
    /// scales the bill's functions so they still handle every matching reading.
    pub(crate) fn batching(&mut self, max_bytes: u64, keep_invocations: impl Fn(&mut M, f64)) {
        let w = self.w;
        if w.messages_per_device_per_day < 2.0 {
            return;
        }
        let payload = w.message_bytes - w.message_overhead_bytes;
        let mut found: Vec<(u32, u64, f64)> = Vec::new();
        for k in [2u32, 4] {
            let batched = u64::from(k) * payload + w.message_overhead_bytes;
            if batched > max_bytes {
                continue;
            }
            let batch = |alt: &mut Workload, bill: &mut M| {
                let k = f64::from(k);
                alt.messages_per_device_per_day /= k;
                alt.message_bytes = batched;
                // Functions still handle every matching reading: keep their invocation count.
                keep_invocations(bill, k);
            };
            if let Some(saving) = self.saving(batch) {
                found.push((k, batched, saving));
            }
        }
        // The largest saving; on a tie the smaller batch, which delays readings less.
        let Some(&(k, batched, saving)) = found.iter().reduce(|best, next| {
            if next.2 > best.2 + MIN_SAVING_USD {
                next
            } else {
                best
            }
        }) else {
            return;
        };
        let others: Vec<String> = found
            .iter()
            .filter(|o| o.0 != k)
            .map(|o| format!("batching {} saves {}", o.0, format::usd(o.2)))
            .collect();
        self.push(
            format!("Batch {k} readings per telemetry message"),
            format!(
                "Sending {k} readings in one message of about {} B instead of {k} messages of {} B \
                 cuts per-message charges; readings arrive up to {} later. Saves {} a month{}.",
                format::int(batched),
                format::int(w.message_bytes),
                if k == 2 {
                    "one reporting interval".to_owned()
                } else {
                    format!("{} reporting intervals", k - 1)
                },
                format::usd(saving),
                if others.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", others.join(", "))
                }
            ),
            saving,
        );
    }
}

/// Scales a function's share of messages by `k` (capped at all of them), for batching.
pub(crate) fn scale_invocations(f: &mut super::FunctionWorkload, k: f64) {
    f.invocation_fraction = (f.invocation_fraction * k).min(1.0);
}
