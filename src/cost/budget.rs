//! Budget checks, so CI can fail a change that makes the fleet too expensive.
//!
//! Amounts are compared to the cent, as displayed: a bill shown as `$182.13` does not exceed a
//! budget of `182.13`. Each cloud's total is checked on its own, because an estimate for two
//! clouds usually compares alternatives; [`Budget::combined_usd`] exists for fleets deployed to
//! both.

use serde::Serialize;

use super::model::{Cloud, Estimate, round4};

/// Monthly limits in USD.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Budget {
    /// Limit for each cloud's total.
    pub per_cloud_usd: Option<f64>,
    /// Limit for the sum of all estimated clouds.
    pub combined_usd: Option<f64>,
}

/// A limit an estimate goes over.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BudgetBreach {
    /// The cloud over its limit; `None` for the combined total.
    pub cloud: Option<Cloud>,
    /// The monthly total.
    #[serde(serialize_with = "round4")]
    pub total_usd: f64,
    /// The limit.
    #[serde(serialize_with = "round4")]
    pub budget_usd: f64,
}

fn cents(usd: f64) -> i64 {
    // Monthly bills are far below i64::MAX cents. Rounding to 1e-6 first keeps binary noise
    // (182.12999999) from deciding which side of a cent an amount falls.
    (super::model::round_to(usd, 6) * 100.0).round() as i64
}

fn over(total: f64, budget: f64) -> bool {
    cents(total) > cents(budget)
}

impl Budget {
    /// Every limit `estimate` goes over, clouds first.
    pub fn breaches(&self, estimate: &Estimate) -> Vec<BudgetBreach> {
        let mut out = Vec::new();
        if let Some(limit) = self.per_cloud_usd {
            for cloud in &estimate.clouds {
                if over(cloud.total_usd, limit) {
                    out.push(BudgetBreach {
                        cloud: Some(cloud.cloud),
                        total_usd: cloud.total_usd,
                        budget_usd: limit,
                    });
                }
            }
        }
        if let Some(limit) = self.combined_usd {
            let total: f64 = estimate.clouds.iter().map(|c| c.total_usd).sum();
            if over(total, limit) {
                out.push(BudgetBreach {
                    cloud: None,
                    total_usd: total,
                    budget_usd: limit,
                });
            }
        }
        out
    }
}

/// Whether any cloud's monthly total exceeds `budget_usd` (compared to the cent).
pub fn exceeds(estimate: &Estimate, budget_usd: f64) -> bool {
    !Budget {
        per_cloud_usd: Some(budget_usd),
        combined_usd: None,
    }
    .breaches(estimate)
    .is_empty()
}
